/**
 * AuthManager's logout() and reload(), what inspect and JSON show of it (never a token), and
 * where its refresh lock file lives for each storage.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { inspect } from "node:util";
import { AuthManager } from "../src/refresh/auth-manager.ts";
import type { AuthStorage } from "../src/storage/auth-storage.ts";
import { AUTH_CREDENTIALS_STORE_MODES } from "../src/document/auth-types.ts";
import { createAuthStorage } from "../src/storage/create-auth-storage.ts";
import { setup } from "./support/auth-manager-setup.ts";

test("logout(): removes the stored login and forgets the cached one", async (t) => {
  const { server, storage, manager } = await setup(t);
  await storage.save(server.login("acct-1"));
  const m = manager();
  await m.auth();
  assert.equal(await m.logout(), true);
  assert.equal(await m.auth(), null);
  assert.equal(await storage.load(), null);
  assert.equal(await m.logout(), false);
});

test("reload(): reports whether the stored auth changed", async (t) => {
  const { server, storage, manager } = await setup(t);
  await storage.save(server.login("acct-1"));
  const m = manager();
  await m.auth();
  assert.equal(await m.reload(), false);
  await storage.save(server.login("acct-1"));
  assert.equal(await m.reload(), true);
  assert.equal(await m.reload(), false);
  // What a refresh cached is exactly what it stored.
  await m.refreshToken();
  assert.equal(await m.reload(), false);
});

test("AuthManager: util.inspect and JSON.stringify never show a token", async (t) => {
  const { server, storage, manager } = await setup(t);
  const login = server.login("acct-1");
  await storage.save(login);
  const m = manager();
  await m.auth();
  const shown = `${inspect(m, { depth: 10, showHidden: true })} ${JSON.stringify(m)} ${JSON.stringify({ m })}`;
  for (const secret of [login.tokens!.access_token, login.tokens!.refresh_token, login.tokens!.id_token]) {
    assert.ok(!shown.includes(secret));
  }
  assert.match(shown, /chatgpt/);
});

test("AuthManager: the lock file lives beside the auth file; a storage without a home needs an explicit lock", async (t) => {
  const { storage, manager, home } = await setup(t);
  assert.equal(manager().lockPath, join(home, "auth.json.authkeep-refresh.lock"));
  const homeless: AuthStorage = {
    mode: storage.mode,
    load: () => storage.load(),
    save: (a) => storage.save(a),
    delete: () => storage.delete(),
    loadSync: () => storage.loadSync(),
    saveSync: (a) => storage.saveSync(a),
    deleteSync: () => storage.deleteSync(),
  };
  assert.throws(() => new AuthManager({ storage: homeless }), TypeError);
  assert.equal(new AuthManager({ storage: homeless, lock: { path: join(home, "x.lock") } }).lockPath, join(home, "x.lock"));
  assert.equal(new AuthManager({ storage: homeless, lock: false }).lockPath, null);
});

test("AuthManager: every storage mode gets its lock file beside the credentials file", async (t) => {
  const { home } = await setup(t);
  for (const mode of AUTH_CREDENTIALS_STORE_MODES) {
    const storage = createAuthStorage({ home, mode, onWarning: () => {} });
    assert.equal(new AuthManager({ storage }).lockPath, join(home, "auth.json.authkeep-refresh.lock"), mode);
    const named = createAuthStorage({ home, mode, fileName: "work-auth.json", onWarning: () => {} });
    assert.equal(new AuthManager({ storage: named }).lockPath, join(home, "work-auth.json.authkeep-refresh.lock"), mode);
  }
});
