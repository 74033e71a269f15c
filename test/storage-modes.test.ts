// Every row of the storage-mode table in codex-behaviour.md §2, for the async and the sync
// forms, plus authkeep's rule that auto mode never lets a stale keyring copy win.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type AuthCredentialsStoreMode, type AuthDotJson, type AuthStorage, computeStoreKey, createAuthStorage, KeyringError, serializeAuthJson } from "../src/index.ts";
import { MemoryKeyringStore } from "../src/testing.ts";
import { authWithPrefix, tempHome } from "./support/auth-fixtures.ts";

const SERVICE = "Codex Auth";
const FORMS = ["async", "sync"] as const;
type Form = (typeof FORMS)[number];

/** Calls the async or the sync method, so each case runs on both twins. */
function ops(storage: AuthStorage, form: Form) {
  return form === "async"
    ? { load: () => storage.load(), save: (auth: AuthDotJson) => storage.save(auth), delete: () => storage.delete() }
    : {
      load: async () => storage.loadSync(),
      save: async (auth: AuthDotJson) => storage.saveSync(auth),
      delete: async () => storage.deleteSync(),
    };
}

function setup(t: { after(fn: () => void): void }, mode: AuthCredentialsStoreMode) {
  const home = tempHome(t);
  const keyring = new MemoryKeyringStore();
  const warnings: string[] = [];
  const storage = createAuthStorage({ home, mode, keyring, onWarning: (message) => warnings.push(message) });
  const key = computeStoreKey(home);
  const file = createAuthStorage({ home, mode: "file" });
  const keyringFailure = new KeyringError("keyring is down", { kind: "unavailable", backend: "memory" });
  return { home, keyring, warnings, storage, key, file, keyringFailure, authFile: join(home, "auth.json") };
}

function seed(keyring: MemoryKeyringStore, key: string, auth: AuthDotJson): void {
  keyring.saveSync(SERVICE, key, serializeAuthJson(auth, { pretty: false }));
}

for (const form of FORMS) {
  describe(`storage modes (${form})`, () => {
    test("file: load reads auth.json, save writes it, delete removes it", async (t) => {
      const s = setup(t, "file");
      const o = ops(s.storage, form);
      assert.equal(await o.load(), null);
      await o.save(authWithPrefix("f"));
      assert.deepEqual(await s.file.load(), authWithPrefix("f"));
      assert.equal(s.keyring.contains(s.key), false, "file mode never touches the keyring");
      assert.equal(await o.delete(), true);
      assert.equal(await o.delete(), false);
    });

    test("keyring: load uses the keyring only and ignores the file", async (t) => {
      const s = setup(t, "keyring");
      const o = ops(s.storage, form);
      s.file.saveSync(authWithPrefix("file"));
      assert.equal(await o.load(), null);
      seed(s.keyring, s.key, authWithPrefix("kr"));
      assert.deepEqual(await o.load(), authWithPrefix("kr"));
    });

    test("keyring: a load error is a KeyringError with Codex's message prefix", async (t) => {
      const s = setup(t, "keyring");
      s.keyring.setError(s.key, s.keyringFailure);
      await assert.rejects(ops(s.storage, form).load(), (error: unknown) => {
        assert.ok(error instanceof KeyringError);
        assert.equal(error.kind, "unavailable");
        assert.equal(error.message, "failed to load CLI auth from keyring: keyring is down");
        return true;
      });
    });

    test("keyring: save fails without touching the file when the keyring errors", async (t) => {
      const s = setup(t, "keyring");
      s.file.saveSync(authWithPrefix("old"));
      s.keyring.setError(s.key, s.keyringFailure);
      await assert.rejects(ops(s.storage, form).save(authWithPrefix("new")), /failed to write OAuth tokens to keyring/);
      assert.deepEqual(s.file.loadSync(), authWithPrefix("old"));
    });

    test("keyring: a failure to remove the fallback file after a save only warns", async (t) => {
      const s = setup(t, "keyring");
      // A non-empty directory cannot be unlinked like a file (Deno's unlink removes empty ones).
      mkdirSync(s.authFile);
      writeFileSync(join(s.authFile, "keep"), "");
      await ops(s.storage, form).save(authWithPrefix("kr"));
      assert.equal(s.keyring.savedValue(s.key), serializeAuthJson(authWithPrefix("kr"), { pretty: false }));
      assert.equal(s.warnings.length, 1);
      assert.match(s.warnings[0]!, /failed to remove CLI auth fallback file/);
    });

    test("keyring: a delete error aborts before the file is removed", async (t) => {
      const s = setup(t, "keyring");
      s.file.saveSync(authWithPrefix("file"));
      s.keyring.setError(s.key, s.keyringFailure, { operations: ["delete"] });
      await assert.rejects(ops(s.storage, form).delete(), /failed to delete auth from keyring/);
      assert.ok(existsSync(s.authFile));
    });

    test("keyring: a value that is not auth JSON is reported as a deserialize error", async (t) => {
      const s = setup(t, "keyring");
      s.keyring.saveSync(SERVICE, s.key, "not json");
      await assert.rejects(ops(s.storage, form).load(), /failed to deserialize CLI auth from keyring/);
    });

    test("auto: load uses the keyring when it has a value", async (t) => {
      const s = setup(t, "auto");
      seed(s.keyring, s.key, authWithPrefix("kr"));
      s.file.saveSync(authWithPrefix("file"));
      assert.deepEqual(await ops(s.storage, form).load(), authWithPrefix("kr"));
    });

    test("auto: load uses the file when the keyring is empty", async (t) => {
      const s = setup(t, "auto");
      s.file.saveSync(authWithPrefix("file"));
      assert.deepEqual(await ops(s.storage, form).load(), authWithPrefix("file"));
      assert.deepEqual(s.warnings, []);
    });

    test("auto: load warns and uses the file when the keyring errors", async (t) => {
      const s = setup(t, "auto");
      s.keyring.setError(s.key, s.keyringFailure);
      s.file.saveSync(authWithPrefix("file"));
      assert.deepEqual(await ops(s.storage, form).load(), authWithPrefix("file"));
      assert.equal(s.warnings.length, 1);
      assert.match(s.warnings[0]!, /falling back to file storage/);
    });

    test("auto: save goes to the keyring and removes the file", async (t) => {
      const s = setup(t, "auto");
      s.file.saveSync(authWithPrefix("stale"));
      await ops(s.storage, form).save(authWithPrefix("new"));
      assert.equal(s.keyring.savedValue(s.key), serializeAuthJson(authWithPrefix("new"), { pretty: false }));
      assert.ok(!existsSync(s.authFile));
    });

    test("auto: save warns and writes the file when the keyring errors", async (t) => {
      const s = setup(t, "auto");
      s.keyring.setError(s.key, s.keyringFailure);
      await ops(s.storage, form).save(authWithPrefix("fallback"));
      assert.deepEqual(s.file.loadSync(), authWithPrefix("fallback"));
      assert.match(s.warnings[0]!, /failed to save auth to keyring, falling back to file storage/);
    });

    test("auto: delete is the keyring delete, so a keyring error keeps the file", async (t) => {
      const s = setup(t, "auto");
      s.file.saveSync(authWithPrefix("file"));
      seed(s.keyring, s.key, authWithPrefix("kr"));
      s.keyring.setError(s.key, s.keyringFailure, { operations: ["delete"] });
      await assert.rejects(ops(s.storage, form).delete());
      assert.ok(existsSync(s.authFile));
      s.keyring.clearError(s.key);
      assert.equal(await ops(s.storage, form).delete(), true);
      assert.ok(!existsSync(s.authFile));
      assert.ok(!s.keyring.contains(s.key));
    });

    test("auto: a fallback save removes the stale keyring copy so it cannot shadow the file", async (t) => {
      const s = setup(t, "auto");
      seed(s.keyring, s.key, { ...authWithPrefix("old"), last_refresh: "2026-01-01T00:00:00Z" });
      // The keyring refuses this one save (e.g. a value too large for it) but still answers deletes.
      s.keyring.setError(s.key, s.keyringFailure, { operations: ["save"], once: true });
      const fresh = { ...authWithPrefix("fresh"), last_refresh: "2026-02-01T00:00:00Z" };
      await ops(s.storage, form).save(fresh);
      assert.ok(!s.keyring.contains(s.key), "the stale keyring copy is gone");
      assert.deepEqual(await ops(s.storage, form).load(), fresh);
    });

    test("auto: when the keyring comes back with a stale copy, the newer fallback file wins", async (t) => {
      const s = setup(t, "auto");
      seed(s.keyring, s.key, { ...authWithPrefix("old"), last_refresh: "2026-01-01T00:00:00Z" });
      s.keyring.setError(s.key, s.keyringFailure); // down for save and for the cleanup delete
      const fresh = { ...authWithPrefix("fresh"), last_refresh: "2026-02-01T00:00:00.5Z" };
      await ops(s.storage, form).save(fresh);
      s.keyring.clearError(s.key); // the keyring is back, still holding the old copy
      assert.ok(s.keyring.contains(s.key));
      assert.deepEqual(await ops(s.storage, form).load(), fresh);
      assert.match(s.warnings.at(-1)!, /fallback file is newer than the keyring entry/);
    });

    test("auto: an older or equally old file never overrides the keyring copy", async (t) => {
      const s = setup(t, "auto");
      const stamp = "2026-03-01T00:00:00Z";
      seed(s.keyring, s.key, { ...authWithPrefix("kr"), last_refresh: stamp });
      s.file.saveSync({ ...authWithPrefix("file"), last_refresh: stamp });
      assert.deepEqual(await ops(s.storage, form).load(), { ...authWithPrefix("kr"), last_refresh: stamp });
      s.file.saveSync({ ...authWithPrefix("file"), last_refresh: "2026-02-28T23:59:59Z" });
      assert.deepEqual(await ops(s.storage, form).load(), { ...authWithPrefix("kr"), last_refresh: stamp });
    });

    test("ephemeral: values live in process memory only, per home", async (t) => {
      const s = setup(t, "ephemeral");
      const o = ops(s.storage, form);
      assert.equal(await o.load(), null);
      const auth = authWithPrefix("mem");
      await o.save(auth);
      assert.ok(!existsSync(s.authFile));
      assert.ok(!s.keyring.contains(s.key));
      const again = createAuthStorage({ home: s.home, mode: "ephemeral" });
      assert.deepEqual(again.loadSync(), auth, "another storage for the same home in this process sees it");
      const loaded = (await o.load())!;
      loaded.OPENAI_API_KEY = "mutated";
      assert.deepEqual(await o.load(), auth, "callers never share a mutable object with the store");
      const other = createAuthStorage({ home: tempHome(t), mode: "ephemeral" });
      assert.equal(other.loadSync(), null);
      assert.equal(await o.delete(), true);
      assert.equal(await o.delete(), false);
    });
  });
}

test("createAuthStorage() rejects an unknown mode and an empty home", () => {
  assert.throws(() => createAuthStorage({ home: "/tmp", mode: "cloud" as AuthCredentialsStoreMode }), TypeError);
  assert.throws(() => createAuthStorage({ home: "" }), TypeError);
});

test("createAuthStorage() defaults to file mode and Codex's names", (t) => {
  const home = tempHome(t);
  const storage = createAuthStorage({ home });
  assert.equal(storage.mode, "file");
  assert.equal(storage.fileName, "auth.json");
  storage.saveSync({ OPENAI_API_KEY: "k" });
  assert.ok(existsSync(join(home, "auth.json")));
});

test("createAuthStorage() honours another CLI's service and file names", (t) => {
  const home = tempHome(t);
  const keyring = new MemoryKeyringStore();
  createAuthStorage({ home, mode: "keyring", keyring, service: "MyCli", fileName: "creds.json" }).saveSync({ OPENAI_API_KEY: "k" });
  assert.ok(keyring.contains(computeStoreKey(home), "MyCli"));
  assert.ok(!keyring.contains(computeStoreKey(home), SERVICE));
  writeFileSync(join(home, "creds.json"), "{}");
  chmodSync(join(home, "creds.json"), 0o600);
  createAuthStorage({ home, mode: "file", fileName: "creds.json" }).saveSync({ OPENAI_API_KEY: "k2" });
  assert.ok(!existsSync(join(home, "auth.json")));
});
