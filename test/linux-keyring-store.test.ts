/**
 * The Linux keyring backend (libsecret through koffi) as a store, against the
 * real gnome-keyring that `npm test` starts (`scripts/keyring-up.sh`;
 * `DBUS_SESSION_BUS_ADDRESS` points at it), not a mock: the shared
 * conformance suite, missing entries, overwrites, exact round trips (UTF-8,
 * 1 MiB, NUL) on both APIs, and concurrent saves in one process and across
 * processes.
 *
 * @module
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import process from "node:process";
import { createLinuxKeyringStore } from "../native/linux/store.ts";
import { keyringStoreConformance } from "./support/store-conformance.ts";
import { searchItems, secretTool, startKeyringChild } from "./support/linux-keyring.ts";
import { account, napiEntry, service, sharedKeyringSkip, storeCall } from "./support/linux-keyring-cases.ts";

const SHARED_SKIP = sharedKeyringSkip(import.meta.url);

keyringStoreConformance("libsecret store", () => createLinuxKeyringStore(), { skip: SHARED_SKIP });

describe("libsecret store on the real gnome-keyring", { skip: SHARED_SKIP }, () => {
  test("loadSync() and deleteSync() of a missing entry are null and false; so are load() and delete()", async () => {
    const store = createLinuxKeyringStore();
    const [s, a] = [service(), account()];
    assert.equal(store.loadSync(s, a), null);
    assert.equal(store.deleteSync(s, a), false);
    assert.equal(await store.load(s, a), null);
    assert.equal(await store.delete(s, a), false);
  });

  test("saveSync() overwrites, and deleteSync() removes once (sync twin of the conformance test)", () => {
    const store = createLinuxKeyringStore();
    const [s, a] = [service(), account()];
    store.saveSync(s, a, "first");
    store.saveSync(s, a, "second");
    assert.equal(store.loadSync(s, a), "second");
    assert.equal(searchItems(s, a).unlocked.length, 1);
    assert.equal(store.deleteSync(s, a), true);
    assert.equal(store.deleteSync(s, a), false);
    assert.equal(store.loadSync(s, a), null);
    assert.equal(searchItems(s, a).unlocked.length, 0);
  });

  test("save() overwrites in place: one item, same object path", async () => {
    const store = createLinuxKeyringStore();
    const [s, a] = [service(), account()];
    try {
      await store.save(s, a, "first");
      const [path] = searchItems(s, a).unlocked;
      await store.save(s, a, "second");
      assert.deepEqual(searchItems(s, a).unlocked, [path]);
      assert.equal(await store.load(s, a), "second");
    } finally {
      await store.delete(s, a);
    }
  });

  for (const api of ["sync", "async"] as const) {
    const io = (store: ReturnType<typeof createLinuxKeyringStore>) =>
      api === "sync"
        ? { save: async (s: string, a: string, v: string) => store.saveSync(s, a, v), load: async (s: string, a: string) => store.loadSync(s, a) }
        : { save: (s: string, a: string, v: string) => store.save(s, a, v), load: (s: string, a: string) => store.load(s, a) };
    const prefix = api === "sync" ? "saveSync()/loadSync()" : "save()/load()";

    test(`${prefix} round-trip UTF-8 exactly (non-ASCII, emoji, combining marks), byte for byte in the keyring`, async () => {
      const store = createLinuxKeyringStore();
      const [s, a] = [service(), account()];
      const value = "pässwörd-密码-🔐-e\u0301-\u{1F468}\u200D\u{1F469}\u200D\u{1F467}";
      try {
        await io(store).save(s, a, value);
        assert.equal(await io(store).load(s, a), value);
        assert.equal(createLinuxKeyringStore().loadSync(s, a), value);
        assert.equal(secretTool(["lookup", "service", s, "username", a]).output, value);
      } finally {
        store.deleteSync(s, a);
      }
    });

    test(`${prefix} round-trip a 1 MiB value`, async () => {
      const store = createLinuxKeyringStore();
      const [s, a] = [service(), account()];
      const value = `${randomBytes(3 * (1 << 18)).toString("base64")}ü`; // 1 MiB + 2 bytes of UTF-8
      try {
        await io(store).save(s, a, value);
        assert.equal(await io(store).load(s, a), value);
        assert.equal(napiEntry(s, a).getPassword(), value);
      } finally {
        store.deleteSync(s, a);
      }
    });

    test(`${prefix} keep an embedded NUL (the secret is bytes, never truncated)`, async () => {
      const store = createLinuxKeyringStore();
      const [s, a] = [service(), account()];
      try {
        await io(store).save(s, a, "a\0b\0");
        assert.equal(await io(store).load(s, a), "a\0b\0");
        assert.equal(napiEntry(s, a).getPassword(), "a\0b\0");
      } finally {
        store.deleteSync(s, a);
      }
    });
  }

  test("concurrent save() calls for a new entry leave exactly one item (isn't racy)", async () => {
    const stores = [createLinuxKeyringStore(), createLinuxKeyringStore({ syncTimeoutMs: 3000 })];
    const [s, a] = [service(), account()];
    try {
      for (let round = 0; round < 3; round++) {
        const values = Array.from({ length: 8 }, (_, i) => `value-${round}-${i}`);
        await Promise.all(values.map((value, i) => (stores[i % 2] as (typeof stores)[0]).save(s, a, value)));
        assert.equal(searchItems(s, a).unlocked.length, 1, `round ${round}`);
        const stored = await stores[0]?.load(s, a);
        assert.ok(values.includes(stored as string), `round ${round}: ${stored}`);
        assert.equal(napiEntry(s, a).getPassword(), stored);
        await stores[1]?.delete(s, a);
      }
    } finally {
      stores[0]?.deleteSync(s, a);
    }
  });

  test("saves racing from three processes on a new entry leave exactly one item (isn't racy)", async () => {
    const children = [0, 1, 2].map(() => startKeyringChild(import.meta.url, process.env));
    const [s, a] = [service(), account()];
    try {
      for (let round = 0; round < 3; round++) {
        const values = children.flatMap((_, c) => [0, 1].map((i) => `race-${round}-${c}-${i}`));
        const answers = await Promise.all(children.map((child, c) =>
          Promise.all([0, 1].map((i) => child.send(storeCall(i ? "save" : "saveSync", s, a, `race-${round}-${c}-${i}`))))
        ));
        for (const answer of answers.flat()) assert.equal(answer.error, undefined, JSON.stringify(answer));
        assert.equal(searchItems(s, a).unlocked.length, 1, `round ${round}`);
        const stored = createLinuxKeyringStore().loadSync(s, a);
        assert.ok(values.includes(stored as string), `round ${round}: ${stored}`);
        for (const child of children) assert.equal((await child.send(storeCall("load", s, a))).ok, stored);
        createLinuxKeyringStore().deleteSync(s, a);
      }
    } finally {
      await Promise.all(children.map((child) => child.close()));
      createLinuxKeyringStore().deleteSync(s, a);
    }
  });
});
