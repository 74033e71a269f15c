// The seed's storage tests (codex-rs core/src/auth/storage.rs), ported with the same meaning,
// against the MemoryKeyringStore test double.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type AuthDotJson, computeStoreKey, createAuthStorage, KeyringError, parseAuthJson, serializeAuthJson } from "../src/index.ts";
import { MemoryKeyringStore } from "../src/testing.ts";
import { authWithPrefix, tempHome } from "./support/auth-fixtures.ts";

const SERVICE = "Codex Auth";
const quiet = { onWarning: () => {} };

function seedKeyringWithAuth(keyring: MemoryKeyringStore, home: string, auth: AuthDotJson): void {
  keyring.saveSync(SERVICE, computeStoreKey(home), serializeAuthJson(auth, { pretty: false }));
}

function seedKeyringAndFallbackFileForDelete(keyring: MemoryKeyringStore, home: string): { key: string; authFile: string } {
  const key = computeStoreKey(home);
  keyring.saveSync(SERVICE, key, "{}");
  const authFile = join(home, "auth.json");
  writeFileSync(authFile, "stale");
  return { key, authFile };
}

function assertKeyringSavedAuthAndRemovedFallback(keyring: MemoryKeyringStore, key: string, home: string, expected: AuthDotJson): void {
  const saved = keyring.savedValue(key);
  assert.ok(saved !== undefined, "keyring entry should exist");
  assert.equal(saved, serializeAuthJson(expected, { pretty: false }));
  assert.ok(!existsSync(join(home, "auth.json")), "fallback auth.json should be removed after keyring save");
}

test("file storage: load returns the saved auth", async (t) => {
  const home = tempHome(t);
  const storage = createAuthStorage({ home, mode: "file" });
  const auth: AuthDotJson = { OPENAI_API_KEY: "test-key", last_refresh: new Date().toISOString() };
  await storage.save(auth);
  assert.deepEqual(await storage.load(), auth);
});

test("file storage: save persists the auth to auth.json", async (t) => {
  const home = tempHome(t);
  const storage = createAuthStorage({ home, mode: "file" });
  const auth: AuthDotJson = { OPENAI_API_KEY: "test-key", last_refresh: new Date().toISOString() };
  await storage.save(auth);
  assert.deepEqual(parseAuthJson(readFileSync(join(home, "auth.json"), "utf8")), auth);
});

test("file storage: delete removes the auth file", (t) => {
  const home = tempHome(t);
  createAuthStorage({ home, mode: "file" }).saveSync({ OPENAI_API_KEY: "sk-test-key" });
  assert.ok(existsSync(join(home, "auth.json")));
  const removed = createAuthStorage({ home, mode: "file" }).deleteSync();
  assert.equal(removed, true);
  assert.ok(!existsSync(join(home, "auth.json")));
});

test("keyring storage: load returns the deserialized auth", (t) => {
  const home = tempHome(t);
  const keyring = new MemoryKeyringStore();
  const storage = createAuthStorage({ home, mode: "keyring", keyring });
  const expected: AuthDotJson = { OPENAI_API_KEY: "sk-test" };
  seedKeyringWithAuth(keyring, home, expected);
  assert.deepEqual(storage.loadSync(), expected);
});

test("keyring storage: the store key of the literal ~/.codex is the seed's vector", () => {
  assert.equal(computeStoreKey("~/.codex"), "cli|940db7b1d0e4eb40");
});

test("keyring storage: save persists to the keyring and removes the fallback file", (t) => {
  const home = tempHome(t);
  const keyring = new MemoryKeyringStore();
  const storage = createAuthStorage({ home, mode: "keyring", keyring, ...quiet });
  writeFileSync(join(home, "auth.json"), "stale");
  const auth: AuthDotJson = {
    OPENAI_API_KEY: null,
    tokens: { id_token: "", access_token: "access", refresh_token: "refresh", account_id: "account" },
    last_refresh: new Date().toISOString(),
  };
  storage.saveSync(auth);
  assertKeyringSavedAuthAndRemovedFallback(keyring, computeStoreKey(home), home, auth);
});

test("keyring storage: delete removes the keyring entry and the file", (t) => {
  const home = tempHome(t);
  const keyring = new MemoryKeyringStore();
  const storage = createAuthStorage({ home, mode: "keyring", keyring });
  const { key, authFile } = seedKeyringAndFallbackFileForDelete(keyring, home);
  assert.equal(storage.deleteSync(), true, "delete should report removal");
  assert.ok(!keyring.contains(key), "keyring entry should be removed");
  assert.ok(!existsSync(authFile), "fallback auth.json should be removed after keyring delete");
});

test("auto storage: load prefers the keyring value", (t) => {
  const home = tempHome(t);
  const keyring = new MemoryKeyringStore();
  const storage = createAuthStorage({ home, mode: "auto", keyring, ...quiet });
  const keyringAuth = authWithPrefix("keyring");
  seedKeyringWithAuth(keyring, home, keyringAuth);
  createAuthStorage({ home, mode: "file" }).saveSync(authWithPrefix("file"));
  assert.deepEqual(storage.loadSync(), keyringAuth);
});

test("auto storage: load uses the file when the keyring is empty", (t) => {
  const home = tempHome(t);
  const storage = createAuthStorage({ home, mode: "auto", keyring: new MemoryKeyringStore() });
  const expected = authWithPrefix("file-only");
  createAuthStorage({ home, mode: "file" }).saveSync(expected);
  assert.deepEqual(storage.loadSync(), expected);
});

test("auto storage: load falls back to the file when the keyring errors", (t) => {
  const home = tempHome(t);
  const keyring = new MemoryKeyringStore();
  const storage = createAuthStorage({ home, mode: "auto", keyring, ...quiet });
  keyring.setError(computeStoreKey(home), new KeyringError("error", { kind: "invalid", backend: "memory" }));
  const expected = authWithPrefix("fallback");
  createAuthStorage({ home, mode: "file" }).saveSync(expected);
  assert.deepEqual(storage.loadSync(), expected);
});

test("auto storage: save prefers the keyring", (t) => {
  const home = tempHome(t);
  const keyring = new MemoryKeyringStore();
  const storage = createAuthStorage({ home, mode: "auto", keyring, ...quiet });
  createAuthStorage({ home, mode: "file" }).saveSync(authWithPrefix("stale"));
  const expected = authWithPrefix("to-save");
  storage.saveSync(expected);
  assertKeyringSavedAuthAndRemovedFallback(keyring, computeStoreKey(home), home, expected);
});

test("auto storage: save falls back to the file when the keyring errors", (t) => {
  const home = tempHome(t);
  const keyring = new MemoryKeyringStore();
  const storage = createAuthStorage({ home, mode: "auto", keyring, ...quiet });
  const key = computeStoreKey(home);
  keyring.setError(key, new KeyringError("error", { kind: "invalid", backend: "memory" }));
  const auth = authWithPrefix("fallback");
  storage.saveSync(auth);
  assert.ok(existsSync(join(home, "auth.json")), "fallback auth.json should be created when keyring save fails");
  assert.deepEqual(createAuthStorage({ home, mode: "file" }).loadSync(), auth);
  assert.equal(keyring.savedValue(key), undefined, "keyring should not contain value when save fails");
});

test("auto storage: delete removes the keyring entry and the file", (t) => {
  const home = tempHome(t);
  const keyring = new MemoryKeyringStore();
  const storage = createAuthStorage({ home, mode: "auto", keyring });
  const { key, authFile } = seedKeyringAndFallbackFileForDelete(keyring, home);
  assert.equal(storage.deleteSync(), true, "delete should report removal");
  assert.ok(!keyring.contains(key), "keyring entry should be removed");
  assert.ok(!existsSync(authFile), "fallback auth.json should be removed after delete");
});
