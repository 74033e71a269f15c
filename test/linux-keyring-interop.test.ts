/**
 * The Linux keyring backend (libsecret through koffi) and the other programs
 * on the same real gnome-keyring (the one `npm test` starts): keyring-rs's
 * item layout, `@napi-rs/keyring` and `secret-tool` reading and writing the
 * same items, duplicates and entries rewritten by another process, and
 * `createAuthStorage` in keyring mode where Codex reads and writes.
 *
 * @module
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { computeStoreKey, createAuthStorage, serializeAuthJson } from "../src/index.ts";
import { createLinuxKeyringStore } from "../native/linux/store.ts";
import { authWithPrefix, tempHome } from "./support/auth-fixtures.ts";
import { itemAttributes, itemLabel, searchItems, secretTool } from "./support/linux-keyring.ts";
import { account, napiEntry, service, sharedKeyringSkip } from "./support/linux-keyring-cases.ts";

const SHARED_SKIP = sharedKeyringSkip(import.meta.url);

describe("libsecret store with keyring-rs, @napi-rs/keyring and secret-tool on the real gnome-keyring", { skip: SHARED_SKIP }, () => {
  test("a saved item has keyring-rs's layout: {service, username, target=default}, label, in the default collection", () => {
    const store = createLinuxKeyringStore();
    const [s, a] = [service(), account()];
    try {
      store.saveSync(s, a, "layout");
      const { unlocked, locked } = searchItems(s, a);
      assert.equal(unlocked.length, 1);
      assert.equal(locked.length, 0);
      const path = unlocked[0] as string;
      assert.match(path, /^\/org\/freedesktop\/secrets\/collection\/login\/\d+$/);
      const attributes = itemAttributes(path);
      assert.equal(attributes.service, s);
      assert.equal(attributes.username, a);
      assert.equal(attributes.target, "default");
      assert.equal(itemLabel(path), `${a}@${s}:default (authkeep)`);
      assert.equal(secretTool(["lookup", "service", s, "username", a, "target", "default"]).output, "layout");
    } finally {
      store.deleteSync(s, a);
    }
  });

  test("reads what @napi-rs/keyring wrote, and a save updates that item in place (one item, napi reads it)", async () => {
    const store = createLinuxKeyringStore();
    const [s, a] = [service(), account()];
    const entry = napiEntry(s, a);
    try {
      entry.setPassword("from-napi-ü");
      const [napiPath] = searchItems(s, a).unlocked;
      assert.equal(await store.load(s, a), "from-napi-ü");
      assert.equal(store.loadSync(s, a), "from-napi-ü");
      await store.save(s, a, "from-authkeep");
      assert.deepEqual(searchItems(s, a).unlocked, [napiPath]);
      assert.equal(entry.getPassword(), "from-authkeep");
      store.saveSync(s, a, "from-authkeep-sync");
      assert.deepEqual(searchItems(s, a).unlocked, [napiPath]);
      assert.equal(entry.getPassword(), "from-authkeep-sync");
      assert.equal(await store.delete(s, a), true);
      assert.equal(entry.getPassword(), null);
    } finally {
      try {
        entry.deletePassword();
      } catch {
        // already gone
      }
    }
  });

  test("@napi-rs/keyring reads what this store wrote and updates it in place (one item, we read it)", async () => {
    const store = createLinuxKeyringStore();
    const [s, a] = [service(), account()];
    const entry = napiEntry(s, a);
    try {
      await store.save(s, a, "from-authkeep-ü");
      assert.equal(entry.getPassword(), "from-authkeep-ü");
      entry.setPassword("from-napi");
      assert.equal(searchItems(s, a).unlocked.length, 1);
      assert.equal(await store.load(s, a), "from-napi");
      assert.equal(store.loadSync(s, a), "from-napi");
      assert.equal(entry.deletePassword(), true);
      assert.equal(await store.load(s, a), null);
    } finally {
      store.deleteSync(s, a);
    }
  });

  test("save() leaves exactly one item when other tools wrote duplicates, so keyring-rs is never ambiguous", async () => {
    const store = createLinuxKeyringStore();
    const [s, a] = [service(), account()];
    const entry = napiEntry(s, a);
    try {
      entry.setPassword("napi");
      secretTool(["store", "--label=dup", "service", s, "username", a, "extra", "1"], process.env, "dup-1");
      secretTool(["store", "--label=dup", "service", s, "username", a, "target", "default"], process.env, "dup-2");
      assert.equal(searchItems(s, a).unlocked.length, 3);
      assert.throws(() => entry.getPassword(), /ambiguous|credentials/i);
      await store.save(s, a, "one");
      assert.equal(searchItems(s, a).unlocked.length, 1);
      assert.equal(entry.getPassword(), "one");
      assert.equal(store.loadSync(s, a), "one");
    } finally {
      store.deleteSync(s, a);
    }
  });

  test("load() follows an entry that another process deleted and wrote again (new item path)", async () => {
    const store = createLinuxKeyringStore();
    const [s, a] = [service(), account()];
    try {
      await store.save(s, a, "old");
      assert.equal(await store.load(s, a), "old"); // the path is now remembered
      secretTool(["clear", "service", s, "username", a]);
      assert.equal(await store.load(s, a), null);
      assert.equal(store.loadSync(s, a), null);
      secretTool(["store", "--label=x", "service", s, "username", a], process.env, "new");
      assert.equal(store.loadSync(s, a), "new");
      assert.equal(await store.load(s, a), "new");
    } finally {
      store.deleteSync(s, a);
    }
  });

  for (const api of ["save()", "saveSync()"] as const) {
    test(`${api} of a remembered entry still removes a duplicate another program created since, and recreates a deleted one`, async () => {
      const store = createLinuxKeyringStore();
      const save = (s: string, a: string, v: string) => (api === "save()" ? store.save(s, a, v) : Promise.resolve(store.saveSync(s, a, v)));
      const [s, a] = [service(), account()];
      try {
        await save(s, a, "first");
        await save(s, a, "second"); // the item path is now remembered and checked
        secretTool(["store", "--label=dup", "service", s, "username", a, "extra", "1"], process.env, "dup");
        assert.equal(searchItems(s, a).unlocked.length, 2);
        await save(s, a, "third");
        assert.equal(searchItems(s, a).unlocked.length, 1);
        assert.equal(napiEntry(s, a).getPassword(), "third");
        secretTool(["clear", "service", s, "username", a]);
        await save(s, a, "fourth");
        assert.equal(searchItems(s, a).unlocked.length, 1);
        assert.equal(store.loadSync(s, a), "fourth");
      } finally {
        store.deleteSync(s, a);
      }
    });
  }

  test("createAuthStorage keyring mode loads an entry written in Codex's keyring-rs layout by secret-tool", async (t) => {
    const home = tempHome(t);
    const key = computeStoreKey(home);
    const auth = { auth_mode: "chatgpt", ...authWithPrefix("codex"), last_refresh: "2025-12-31T10:20:30.123456789Z" };
    const stored = secretTool(
      ["store", "--label=x", "service", "Codex Auth", "username", key, "target", "default", "application", "rust-keyring"],
      process.env,
      serializeAuthJson(auth, { pretty: false }),
    );
    assert.equal(stored.status, 0, stored.output);
    try {
      const storage = createAuthStorage({ home, mode: "keyring", keyring: createLinuxKeyringStore() });
      assert.deepEqual(await storage.load(), auth);
      assert.deepEqual(storage.loadSync(), auth);
      assert.equal(existsSync(join(home, "auth.json")), false);
    } finally {
      secretTool(["clear", "service", "Codex Auth", "username", key]);
    }
  });

  test("createAuthStorage keyring mode saves where Codex reads it: 'Codex Auth' / cli|<hash>, compact JSON, one item", async (t) => {
    const home = tempHome(t);
    const key = computeStoreKey(home);
    const storage = createAuthStorage({ home, mode: "keyring", keyring: createLinuxKeyringStore() });
    const auth = authWithPrefix("save");
    try {
      await storage.save(auth);
      const { unlocked } = searchItems("Codex Auth", key);
      assert.equal(unlocked.length, 1);
      assert.equal(itemAttributes(unlocked[0] as string).target, "default");
      const lookup = secretTool(["lookup", "service", "Codex Auth", "username", key, "target", "default"]);
      assert.equal(lookup.output, serializeAuthJson(auth, { pretty: false }));
      assert.equal(await storage.delete(), true);
      assert.equal(searchItems("Codex Auth", key).unlocked.length, 0);
    } finally {
      secretTool(["clear", "service", "Codex Auth", "username", key]);
    }
  });
});
