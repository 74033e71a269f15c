/**
 * The Linux keyring backend (libsecret through koffi) against a real
 * gnome-keyring, not a mock.
 *
 * - The pure parts (error table, item choice, argument checks, lazy loading)
 *   run everywhere.
 * - The store tests use the shared headless keyring that `npm test` starts
 *   (`scripts/keyring-up.sh`; `DBUS_SESSION_BUS_ADDRESS` points at it).
 * - The failure modes (no bus, no Secret Service, no default collection,
 *   locked, a stopped or restarted daemon, a bus that comes back) each get
 *   their own private bus and run in child processes, because glib keeps one
 *   session bus connection per process. They are slow (each starts daemons)
 *   and sit in their own `describe`.
 *
 * @module
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Entry } from "@napi-rs/keyring";
import { computeStoreKey, createAuthStorage, KeyringError, serializeAuthJson } from "../src/index.ts";
import { createLinuxKeyringStore } from "../native/linux/store.ts";
import { pickItem } from "../native/linux/_layout.ts";
import { classifyGError, FIX, isStaleConnectionError, keyringErrorFromGError } from "../native/linux/_errors.ts";
import { keyringStoreConformance } from "./support/store-conformance.ts";
import { resolveFfiProviderName } from "../native/ffi/index.ts";
import { authWithPrefix, tempHome } from "./support/auth-fixtures.ts";
import {
  type ChildAnswer,
  itemAttributes,
  itemLabel,
  repoRoot,
  searchItems,
  secretTool,
  startBus,
  startKeyringChild,
  startUnlockedKeyring,
} from "./support/linux-keyring.ts";

declare const Deno: unknown;
declare const Bun: unknown;
// These checks start a child with Node's own flags (--input-type, -e) and read its CommonJS
// cache; on Bun and Deno, test/runtime-import.test.ts checks that importing loads no provider.
const nodeOnlyChild = typeof Deno !== "undefined" || typeof Bun !== "undefined" ? "starts a Node-specific child process" : false;

const onLinux = process.platform === "linux";
const SHARED_SKIP = !onLinux
  ? "the libsecret backend is Linux-only"
  : !process.env.DBUS_SESSION_BUS_ADDRESS
    ? "no test keyring: run through `npm test` or `bash scripts/with-keyring.sh node --test dist/test/linux-keyring.test.js`"
    : false;
const hasDaemons = onLinux && ["dbus-daemon", "gnome-keyring-daemon", "dbus-send"].every((tool) =>
  spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0
);
const FAILURE_SKIP = !onLinux ? "the libsecret backend is Linux-only" : !hasDaemons ? "needs dbus and gnome-keyring installed" : false;

const service = (): string => `authkeep-linux-${randomBytes(4).toString("hex")}`;
const account = (): string => `cli|${randomBytes(8).toString("hex")}`;
/** `@napi-rs/keyring`, pinned to the Secret Service so it never falls back to keyutils silently. */
const napiEntry = (s: string, a: string): Entry => new Entry(s, a, { linux: { store: "secret-service" } });
const moduleUrl = (path: string): string => new URL(`../${path}.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url).href;

// ---------------------------------------------------------------------------
// Pure parts and loading: no keyring needed.

describe("libsecret backend without a keyring", () => {
  test("createLinuxKeyringStore() loads no koffi until the first call", { skip: nodeOnlyChild }, () => {
    const script = `
      import { createRequire } from "node:module";
      const { createLinuxKeyringStore } = await import(${JSON.stringify(moduleUrl("native/linux/store"))});
      const store = createLinuxKeyringStore({ timeoutMs: 1000 });
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((path) => /koffi/.test(path));
      console.log(JSON.stringify({ backend: store.backend, loaded }));
    `;
    const output = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    assert.deepEqual(JSON.parse(output), { backend: "libsecret", loaded: [] });
  });

  for (
    const [name, koffiPath, install] of [
      ["koffi", "/nonexistent/koffi", /npm install koffi/],
      ["libsecret", join(repoRoot(), "dist", "test", "fixtures", "linux-fake-koffi.cjs"), /apt-get install libsecret-1-0/],
    ] as const
  ) {
    test(`without ${name}, load() rejects and loadSync() throws kind unavailable, saying what to install`, { skip: nodeOnlyChild || (name === "libsecret" && !import.meta.url.includes("/dist/") ? "the fake koffi is built into dist/" : false) }, () => {
      const script = `
        const { createLinuxKeyringStore } = await import(${JSON.stringify(moduleUrl("native/linux/store"))});
        const store = createLinuxKeyringStore();
        const show = (e) => ({ name: e.name, kind: e.kind, backend: e.backend, message: e.message });
        const asyncError = await store.load("s", "a").then(() => null, show);
        let syncError = null;
        try { store.saveSync("s", "a", "v"); } catch (e) { syncError = show(e); }
        console.log(JSON.stringify({ asyncError, syncError }));
      `;
      const output = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
        encoding: "utf8",
        env: { ...process.env, AUTHKEEP_KOFFI_PATH: koffiPath },
      });
      const { asyncError, syncError } = JSON.parse(output);
      for (const error of [asyncError, syncError]) {
        assert.equal(error.name, "KeyringError");
        assert.equal(error.kind, "unavailable");
        assert.equal(error.backend, "libsecret");
        assert.match(error.message, install);
      }
    });
  }

  test("invalid arguments are rejected with kind invalid before the keyring is touched", async () => {
    const store = createLinuxKeyringStore();
    const invalid = (error: unknown) => error instanceof KeyringError && error.kind === "invalid";
    assert.throws(() => store.saveSync("s", "a", "lone \uD800 surrogate"), invalid);
    await assert.rejects(store.save("s", "a", "lone \uDC00 surrogate"), invalid);
    assert.throws(() => store.loadSync("s", "a\0b"), invalid);
    await assert.rejects(store.delete("s\0", "a"), invalid);
    assert.throws(() => store.saveSync("s", "a", 42 as unknown as string), invalid);
    assert.throws(() => store.loadSync(undefined as unknown as string, "a"), invalid);
  });

  test("timeouts must be positive; Infinity means the longest timer", () => {
    assert.throws(() => createLinuxKeyringStore({ timeoutMs: 0 }), RangeError);
    assert.throws(() => createLinuxKeyringStore({ syncTimeoutMs: -1 }), RangeError);
    assert.throws(() => createLinuxKeyringStore({ timeoutMs: Number.NaN }), RangeError);
    assert.equal(createLinuxKeyringStore({ timeoutMs: Infinity, syncTimeoutMs: 1e12 }).backend, "libsecret");
  });

  test("GErrors map to kinds whose messages say how to fix them", () => {
    const cases = [
      [{ domain: "g-io-error-quark", code: 0, message: "Cannot autolaunch D-Bus without X11 $DISPLAY" }, "unavailable", FIX.noBus],
      [{ domain: "g-io-error-quark", code: 1, message: "Could not connect: No such file or directory" }, "unavailable", FIX.noBus],
      [{ domain: "g-spawn-exit-error-quark", code: 1, message: "Child process exited with code 1" }, "unavailable", FIX.noBus],
      [{ domain: "g-dbus-error-quark", code: 2, message: "GDBus.Error:org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided by any .service files" }, "unavailable", FIX.noService],
      [{ domain: "secret-error", code: 2, message: "Cannot create an item in a locked collection" }, "locked", FIX.locked],
      [{ domain: "g-io-error-quark", code: 36, message: "GDBus.Error:org.freedesktop.Secret.Error.IsLocked: locked" }, "locked", FIX.locked],
      [{ domain: "g-io-error-quark", code: 24, message: "Timeout was reached" }, "unavailable", FIX.timeout],
      [{ domain: "g-io-error-quark", code: 19, message: "Operation was cancelled" }, "unavailable", FIX.timeout],
      [{ domain: "g-dbus-error-quark", code: 8, message: "GDBus.Error:org.freedesktop.DBus.Error.LimitsExceeded: too big" }, "too-large", undefined],
      // dbus-daemon's answer when the service dies mid-call (the keyring stopped), against a real no-reply timeout.
      [{ domain: "g-dbus-error-quark", code: 4, message: "GDBus.Error:org.freedesktop.DBus.Error.NoReply: Message recipient disconnected from message bus without replying" }, "unavailable", FIX.noService],
      [{ domain: "g-dbus-error-quark", code: 4, message: "GDBus.Error:org.freedesktop.DBus.Error.NoReply: Did not receive a reply" }, "unavailable", FIX.timeout],
      [{ domain: "secret-error", code: 1, message: "received an invalid secret from the secret storage" }, "failure", undefined],
    ] as const;
    for (const [info, kind, fix] of cases) {
      assert.deepEqual(classifyGError(info), fix === undefined ? { kind } : { kind, fix }, `${info.domain}:${info.code}`);
      const error = keyringErrorFromGError(info, "reading the keyring entry");
      assert.equal(error.kind, kind);
      assert.equal(error.backend, "libsecret");
      assert.equal(error.code, `${info.domain}:${info.code}`);
      assert.match(error.message, /^libsecret: reading the keyring entry failed: /);
      assert.ok(error.message.endsWith(`[${info.domain}:${info.code}])`) || error.message.endsWith(`[${info.domain}:${info.code}]`));
      assert.ok(!error.message.includes("GDBus.Error:"), "the D-Bus error prefix is stripped");
    }
    const closed = keyringErrorFromGError({ domain: "g-io-error-quark", code: 18, message: "The connection is closed" }, "x");
    const noSession = keyringErrorFromGError({ domain: "g-io-error-quark", code: 36, message: "GDBus.Error:org.freedesktop.Secret.Error.NoSession: The session does not exist" }, "x");
    const locked = keyringErrorFromGError({ domain: "secret-error", code: 2, message: "locked" }, "x");
    assert.equal(isStaleConnectionError(closed), true);
    assert.equal(isStaleConnectionError(noSession), true);
    assert.equal(isStaleConnectionError(locked), false);
  });

  test("among several matching items the oldest (lowest object path) is kept", () => {
    const base = "/org/freedesktop/secrets/collection/login";
    assert.equal(pickItem([`${base}/12`, `${base}/9`, `${base}/100`]), `${base}/9`);
    assert.equal(pickItem([]), undefined);
    assert.equal(pickItem(["/c/b/x", "/c/a/y"]), "/c/a/y");
  });
});

// ---------------------------------------------------------------------------
// The shared headless keyring.

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

// ---------------------------------------------------------------------------
// Failure modes: private daemons, child processes. Slow; skippable as a group.

/** The error of an answer, asserted to be a KeyringError of `kind`. */
function expectError(answer: ChildAnswer, kind: string, label: string): NonNullable<ChildAnswer["error"]> {
  assert.ok(answer.error, `${label}: expected a ${kind} error, got ${JSON.stringify(answer)}`);
  assert.equal(answer.error.name, "KeyringError", label);
  assert.equal(answer.error.kind, kind, `${label}: ${answer.error.message}`);
  return answer.error;
}

/** The result of an answer, asserted to be a success. */
function okOf(answer: ChildAnswer, label = "call"): unknown {
  assert.equal(answer.error, undefined, `${label}: ${JSON.stringify(answer)}`);
  return answer.ok;
}

const METHODS = ["load", "loadSync", "save", "saveSync", "delete", "deleteSync"] as const;
const storeCall = (method: string, s: string, a: string, value = "v", options?: Record<string, unknown>) => ({
  op: "store",
  method,
  service: s,
  account: a,
  value,
  options,
});

describe("libsecret failure modes (private daemons, child processes)", { skip: FAILURE_SKIP }, () => {
  test("no session bus (DBUS_SESSION_BUS_ADDRESS unset or empty, no $DISPLAY): every call is unavailable, reason no-bus, at once, with one fix text", async () => {
    const messages = new Set<string>();
    for (const address of [undefined, ""]) {
      const env = { ...process.env };
      delete env.DBUS_SESSION_BUS_ADDRESS;
      delete env.DISPLAY;
      if (address !== undefined) env.DBUS_SESSION_BUS_ADDRESS = address;
      const child = startKeyringChild(import.meta.url, env);
      try {
        for (const method of METHODS) {
          const answer = await child.send(storeCall(method, "s", "a"));
          const error = expectError(answer, "unavailable", `${method} with the address ${JSON.stringify(address)}`);
          assert.equal(error.reason, "no-bus", error.message);
          assert.match(error.message, /DBUS_SESSION_BUS_ADDRESS/);
          // The fix text, without the GError detail in parentheses at the end.
          messages.add(error.message.replace(/^libsecret: [^:]+ failed: /, "").replace(/ \([^()]*\)$/, ""));
          assert.ok(answer.elapsedMs < 2000, `${method} took ${answer.elapsedMs} ms`);
        }
      } finally {
        await child.close();
      }
    }
    assert.equal(messages.size, 1, [...messages].join("\n"));
  });

  test("a bus address whose socket is gone: unavailable, saying how to get a bus", async () => {
    const dir = mkdtempSync(join(tmpdir(), "authkeep-nobus-"));
    const child = startKeyringChild(import.meta.url, { ...process.env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${dir}/bus` });
    try {
      for (const method of ["load", "saveSync"]) {
        const error = expectError(await child.send(storeCall(method, "s", "a")), "unavailable", method);
        assert.match(error.message, /session bus/);
        assert.equal(error.code, "g-io-error-quark:1");
        assert.equal(error.reason, "no-bus");
      }
    } finally {
      await child.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a bus with no Secret Service on it: unavailable, naming what to install", async () => {
    const bus = startBus({ secretService: false });
    const child = startKeyringChild(import.meta.url, bus.env);
    try {
      for (const method of ["load", "saveSync", "delete"]) {
        const error = expectError(await child.send(storeCall(method, "s", "a")), "unavailable", method);
        assert.match(error.message, /org\.freedesktop\.secrets/);
        assert.match(error.message, /apt-get install gnome-keyring/);
        assert.equal(error.reason, "no-service");
      }
    } finally {
      await child.close();
      bus.stop();
    }
  });

  test("no default collection (gnome-keyring only D-Bus-activated): unavailable, saying how to create one", async () => {
    const bus = startBus({ secretService: true });
    const child = startKeyringChild(import.meta.url, bus.env);
    try {
      for (const method of METHODS) {
        const error = expectError(await child.send(storeCall(method, "s", account())), "unavailable", method);
        assert.match(error.message, /no default collection/);
        assert.equal(error.reason, "no-default-collection");
      }
      assert.ok(bus.daemonPid(), "gnome-keyring was activated");
    } finally {
      await child.close();
      bus.stop();
    }
  });

  test("a locked collection: present and missing entries are both locked, and nothing is deleted", async () => {
    const keyring = startUnlockedKeyring();
    const child = startKeyringChild(import.meta.url, keyring.env);
    const [s, a] = [service(), account()];
    try {
      okOf(await child.send(storeCall("saveSync", s, a, "kept")));
      // The default collection is now known to be unlocked; locking it must be noticed (CollectionChanged).
      assert.equal(okOf(await child.send(storeCall("load", s, account()))), null);
      keyring.lock();
      for (const method of METHODS) {
        for (const who of [a, account()]) {
          const error = expectError(await child.send(storeCall(method, s, who)), "locked", `${method} ${who === a ? "present" : "missing"}`);
          assert.match(error.message, /locked; unlock it/);
          assert.equal(error.reason, "locked");
        }
      }
      assert.equal(searchItems(s, a, keyring.env).locked.length, 1, "the locked item is still there");
    } finally {
      await child.close();
      keyring.stop();
    }
  });

  test("a SIGSTOPped daemon: load() rejects at its deadline (timers keep running unless on bun:ffi); loadSync() after syncTimeoutMs", async () => {
    const keyring = startUnlockedKeyring();
    const child = startKeyringChild(import.meta.url, keyring.env);
    const pid = keyring.daemonPid() as number;
    const options = { timeoutMs: 1000, syncTimeoutMs: 1500 };
    const [s, a] = [service(), account()];
    try {
      okOf(await child.send(storeCall("save", s, a, "v", options))); // connected
      process.kill(pid, "SIGSTOP");
      const asyncAnswer = await child.send(storeCall("load", s, a, "v", options));
      expectError(asyncAnswer, "unavailable", "load");
      assert.ok(asyncAnswer.elapsedMs >= 950 && asyncAnswer.elapsedMs < 3000, `load() took ${asyncAnswer.elapsedMs} ms`);
      // The child has this process's runtime and AUTHKEEP_FFI, hence its provider.
      if (resolveFfiProviderName() !== "bun") {
        assert.ok(asyncAnswer.ticks >= 20, `the event loop ran (${asyncAnswer.ticks} ticks of 20 ms)`);
        assert.match(asyncAnswer.error?.message ?? "", /did not answer in time.*1000 ms/);
      } else {
        // bun:ffi cannot leave the main thread: the call blocks the loop, and the round trip
        // itself ends at min(timeoutMs, syncTimeoutMs), GDBus's timeout.
        assert.ok(asyncAnswer.ticks <= 2, `bun:ffi blocked the event loop (${asyncAnswer.ticks} ticks of 20 ms)`);
        assert.equal(asyncAnswer.error?.code, "g-io-error-quark:24");
        assert.match(asyncAnswer.error?.message ?? "", /did not answer in time/);
      }
      const syncAnswer = await child.send(storeCall("loadSync", s, a, "v", options));
      expectError(syncAnswer, "unavailable", "loadSync");
      assert.equal(asyncAnswer.error?.reason, "timeout");
      assert.equal(syncAnswer.error?.reason, "timeout");
      assert.ok(syncAnswer.elapsedMs >= 1400 && syncAnswer.elapsedMs < 5000, `loadSync() took ${syncAnswer.elapsedMs} ms`);
      assert.equal(syncAnswer.error?.code, "g-io-error-quark:24");
      // An entry never seen before needs a search (through libsecret's proxy): bounded the same way.
      const searchAnswer = await child.send(storeCall("deleteSync", s, account(), "v", options));
      expectError(searchAnswer, "unavailable", "deleteSync of an unknown entry");
      assert.ok(searchAnswer.elapsedMs >= 1400 && searchAnswer.elapsedMs < 5000, `deleteSync() took ${searchAnswer.elapsedMs} ms`);
      const saveAnswer = await child.send(storeCall("save", s, a, "w", options));
      expectError(saveAnswer, "unavailable", "save");
      process.kill(pid, "SIGCONT");
      // Once the daemon runs again, the same process carries on. The timed-out save
      // may or may not have reached the daemon before it stopped.
      const after = await child.send(storeCall("load", s, a, "v", options));
      assert.ok(after.ok === "v" || after.ok === "w", JSON.stringify(after));
    } finally {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        // gone
      }
      await child.close();
      keyring.stop();
    }
  });

  test("the daemon restarts: the next call reconnects on its own and finds the entry", async () => {
    const keyring = startUnlockedKeyring();
    const child = startKeyringChild(import.meta.url, keyring.env);
    const [s, a] = [service(), account()];
    try {
      okOf(await child.send(storeCall("save", s, a, "before")));
      assert.equal(okOf(await child.send(storeCall("load", s, a))), "before");
      keyring.restartDaemon();
      assert.equal(okOf(await child.send(storeCall("load", s, a))), "before");
      okOf(await child.send(storeCall("saveSync", s, a, "after")));
      assert.equal(okOf(await child.send(storeCall("loadSync", s, a))), "after");
      assert.equal(searchItems(s, a, keyring.env).unlocked.length, 1);
    } finally {
      await child.close();
      keyring.stop();
    }
  });

  test("the bus goes away and comes back: calls are unavailable meanwhile, then work again in the same process", async () => {
    const dir = mkdtempSync("/tmp/headless-keyring.");
    let keyring = startUnlockedKeyring({ dir });
    const child = startKeyringChild(import.meta.url, keyring.env);
    const [s, a] = [service(), account()];
    try {
      okOf(await child.send(storeCall("save", s, a, "persisted")));
      keyring.stop({ keepDir: true });
      for (const method of ["load", "loadSync", "save"]) {
        const error = expectError(await child.send(storeCall(method, s, a)), "unavailable", method);
        assert.match(error.message, /session bus/);
      }
      keyring = startUnlockedKeyring({ dir });
      assert.equal(okOf(await child.send(storeCall("load", s, a))), "persisted");
      okOf(await child.send(storeCall("saveSync", s, a, "again")));
      assert.equal(okOf(await child.send(storeCall("loadSync", s, a))), "again");
    } finally {
      await child.close();
      keyring.stop();
    }
  });

  test("auto storage falls back to auth.json while the bus is absent and returns to the keyring when it is back", async (t) => {
    const dir = mkdtempSync("/tmp/headless-keyring.");
    const home = tempHome(t);
    const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${dir}/bus` };
    const child = startKeyringChild(import.meta.url, env);
    let keyring: ReturnType<typeof startUnlockedKeyring> | undefined;
    const file = join(home, "auth.json");
    const first = authWithPrefix("offline");
    const second = authWithPrefix("online");
    try {
      const saved = await child.send({ op: "storage", method: "save", home, mode: "auto", auth: first });
      assert.equal(saved.error, undefined, JSON.stringify(saved));
      assert.ok((saved.ok as { warnings: string[] }).warnings.some((w) => /keyring/.test(w)), "the fallback is reported");
      assert.ok(existsSync(file), "auth.json was written");
      assert.deepEqual(JSON.parse(readFileSync(file, "utf8")).OPENAI_API_KEY, first.OPENAI_API_KEY);
      const loaded = await child.send({ op: "storage", method: "load", home, mode: "auto" });
      assert.deepEqual((loaded.ok as { result: unknown }).result, first);

      keyring = startUnlockedKeyring({ dir });
      const back = await child.send({ op: "storage", method: "save", home, mode: "auto", auth: second });
      assert.equal(back.error, undefined, JSON.stringify(back));
      assert.equal(existsSync(file), false, "auth.json is removed once the keyring took the save");
      const key = computeStoreKey(home);
      assert.equal(searchItems("Codex Auth", key, keyring.env).unlocked.length, 1);
      assert.equal(secretTool(["lookup", "service", "Codex Auth", "username", key], keyring.env).output, serializeAuthJson(second, { pretty: false }));
      const reloaded = await child.send({ op: "storage", method: "load", home, mode: "auto" });
      assert.deepEqual((reloaded.ok as { result: unknown }).result, second);
    } finally {
      await child.close();
      keyring?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
