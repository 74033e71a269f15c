import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { AuthManager, type AuthManagerOptions } from "../src/refresh/auth-manager.ts";
import type { AuthStorage } from "../src/storage/auth-storage.ts";
import { AUTH_CREDENTIALS_STORE_MODES, type AuthDotJson } from "../src/document/auth-types.ts";
import { createAuthStorage } from "../src/storage/create-auth-storage.ts";
import { AuthFormatError } from "../src/contract/errors.ts";
import { fetchWithAuth } from "../src/refresh/fetch-with-auth.ts";
import { RefreshLock } from "../src/refresh/refresh-lock.ts";
import { HttpTokenRefresher } from "../src/refresh/token-refresher.ts";
import { REFRESH_TOKEN_ACCOUNT_MISMATCH_MESSAGE, REFRESH_TOKEN_REUSED_MESSAGE } from "../src/refresh/refresh-messages.ts";
import { RefreshError } from "../src/contract/refresh-error.ts";
import { TokenServer } from "./support/token-server.ts";

const MISMATCH = "Your access token could not be refreshed because you have since logged out or signed in to another account. Please sign in again.";

interface Ctx {
  home: string;
  server: TokenServer;
  storage: AuthStorage;
  manager: (options?: Partial<AuthManagerOptions>) => AuthManager;
}

async function setup(t: { after: (fn: () => Promise<void>) => void }): Promise<Ctx> {
  const home = await mkdtemp(join(tmpdir(), "authkeep-manager-"));
  const server = await TokenServer.start();
  t.after(async () => {
    await server.close();
    await rm(home, { recursive: true, force: true });
  });
  const storage = createAuthStorage({ home, mode: "file", onWarning: () => {} });
  return {
    home,
    server,
    storage,
    manager: (options = {}) =>
      new AuthManager({ storage, refresher: new HttpTokenRefresher({ url: server.url }), ...options }),
  };
}

function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail("expected a rejection"),
    (error: unknown) => error,
  );
}

test("auth(): loads the stored login and does not refresh a token far from expiry", async (t) => {
  const { server, storage, manager } = await setup(t);
  const login = server.login("acct-1");
  await storage.save(login);
  const auth = await manager().auth();
  assert.equal(auth?.tokens?.access_token, login.tokens!.access_token);
  assert.equal(server.refreshCount, 0);
});

test("auth(): refreshes before use when the access token expires within the window, and saves only the returned fields", async (t) => {
  const { server, storage, manager, home } = await setup(t);
  const login = server.login("acct-1", { accessExpiresInSec: 60 });
  const stored: AuthDotJson = {
    ...login,
    OPENAI_API_KEY: "sk-kept",
    future_field: { kept: true },
    tokens: { ...login.tokens!, token_extra: "kept" },
  };
  await storage.save(stored);
  const now = Date.now();
  const auth = await manager({ now: () => new Date(now) }).auth();
  assert.equal(server.refreshCount, 1);
  assert.notEqual(auth?.tokens?.access_token, login.tokens!.access_token);
  const onDisk = JSON.parse(await readFile(join(home, "auth.json"), "utf8"));
  assert.equal(onDisk.tokens.access_token, auth?.tokens?.access_token);
  assert.notEqual(onDisk.tokens.refresh_token, login.tokens!.refresh_token);
  assert.equal(onDisk.tokens.account_id, "acct-1");
  assert.equal(onDisk.tokens.token_extra, "kept");
  assert.equal(onDisk.OPENAI_API_KEY, "sk-kept");
  assert.equal(onDisk.auth_mode, "chatgpt");
  assert.deepEqual(onDisk.future_field, { kept: true });
  assert.equal(onDisk.last_refresh, new Date(now).toISOString());
  assert.match(onDisk.last_refresh, /Z$/);
});

test("auth(): the window and the clock are injectable", async (t) => {
  const { server, storage, manager } = await setup(t);
  await storage.save(server.login("acct-1", { accessExpiresInSec: 3600 }));
  await manager({ refreshWindowMs: 60_000 }).auth();
  assert.equal(server.refreshCount, 0);
  await manager({ refreshWindowMs: 2 * 3600_000 }).auth();
  assert.equal(server.refreshCount, 1);
  await manager({ now: () => Date.now() + 2 * 3600_000 }).auth();
  assert.equal(server.refreshCount, 2);
});

test("auth(): without an exp, refreshes only when last_refresh is more than 8 days old", async (t) => {
  const { server, storage, manager } = await setup(t);
  const login = server.login("acct-1");
  const opaque = { ...login, tokens: { ...login.tokens!, access_token: "opaque-access-token" } };
  await storage.save({ ...opaque, last_refresh: new Date(Date.now() - 7 * 86_400_000).toISOString() });
  await manager().auth();
  assert.equal(server.refreshCount, 0);
  await storage.save({ ...opaque, last_refresh: new Date(Date.now() - 9 * 86_400_000).toISOString() });
  const auth = await manager().auth();
  assert.equal(server.refreshCount, 1);
  assert.notEqual(auth?.tokens?.access_token, "opaque-access-token");
});

test("auth(): a transient proactive failure is reported and the old auth returned", async (t) => {
  const { server, storage, manager } = await setup(t);
  const login = server.login("acct-1", { accessExpiresInSec: -10 });
  await storage.save(login);
  const reported: unknown[] = [];
  const m = manager({ onRefreshError: (e) => reported.push(e) });
  server.respondNext(503, "busy");
  const auth = await m.auth();
  assert.equal(auth?.tokens?.access_token, login.tokens!.access_token);
  assert.equal(reported.length, 1);
  assert.ok(reported[0] instanceof RefreshError && !reported[0].permanent);
  assert.equal(m.lastRefreshError, reported[0]);
});

test("auth(): a permanent failure is reported and returns the old auth while the token still works, throws once it has expired", async (t) => {
  const { server, storage, manager } = await setup(t);
  await storage.save(server.login("acct-1", { accessExpiresInSec: 60 }));
  const reported: unknown[] = [];
  server.respondNext(401, '{"error":{"code":"refresh_token_expired"}}');
  const m = manager({ onRefreshError: (e) => reported.push(e) });
  assert.ok((await m.auth())?.tokens);
  assert.equal((reported[0] as RefreshError).reason, "expired");

  await storage.save(server.login("acct-1", { accessExpiresInSec: -60 }));
  await m.reload();
  server.respondNext(401, '{"error":{"code":"refresh_token_invalidated"}}');
  const error = await rejection(m.auth());
  assert.ok(error instanceof RefreshError);
  assert.equal(error.reason, "revoked");
});

test("refreshToken(): a permanent failure is remembered until the stored auth changes", async (t) => {
  const { server, storage, manager } = await setup(t);
  await storage.save(server.login("acct-1"));
  const m = manager({ lock: { timeoutMs: 200 } });
  await m.auth();
  server.respondNext(401, '{"error":{"code":"refresh_token_reused"}}');
  const first = await rejection(m.refreshToken());
  assert.equal((first as RefreshError).message, REFRESH_TOKEN_REUSED_MESSAGE);
  assert.equal(server.refreshCount, 1);
  // Another process holds the lock: a remembered failure is answered without waiting for it.
  const held = await new RefreshLock({ path: m.lockPath! }).acquire();
  const second = await rejection(m.refreshToken());
  await held.release();
  assert.equal(second, first);
  assert.equal(server.refreshCount, 1, "no network call for a remembered permanent failure");
  // A new login for the same account lands in storage: the failure is forgotten and the new tokens adopted.
  await storage.save(server.login("acct-1"));
  await m.refreshToken();
  assert.equal(server.refreshCount, 1, "adopted from storage, no network");
  await m.refreshToken();
  assert.equal(server.refreshCount, 2);
});

test("refreshToken(): when saving the new tokens fails, the error is thrown and this process keeps the new tokens", async (t) => {
  const { server, storage } = await setup(t);
  const login = server.login("acct-1");
  await storage.save(login);
  const failing: AuthStorage = {
    mode: storage.mode,
    home: storage.home!,
    load: () => storage.load(),
    save: async () => {
      throw new Error("disk full");
    },
    delete: () => storage.delete(),
    loadSync: () => storage.loadSync(),
    saveSync: () => {
      throw new Error("disk full");
    },
    deleteSync: () => storage.deleteSync(),
  };
  const m = new AuthManager({ storage: failing, refresher: new HttpTokenRefresher({ url: server.url }) });
  await m.auth();
  await assert.rejects(m.refreshToken(), { message: "disk full" });
  const auth = await m.auth();
  assert.notEqual(auth?.tokens?.refresh_token, login.tokens!.refresh_token);
  assert.equal((await storage.load())?.tokens?.refresh_token, login.tokens!.refresh_token);
});

test("refreshToken(): concurrent callers in one process share one refresh", async (t) => {
  const { server, storage, manager } = await setup(t);
  await storage.save(server.login("acct-1"));
  const m = manager();
  await m.auth();
  const results = await Promise.all(Array.from({ length: 5 }, () => m.refreshToken()));
  assert.equal(server.refreshCount, 1);
  assert.equal(new Set(results.map((a) => a?.tokens?.access_token)).size, 1);
});

test("refreshToken(): tokens another process refreshed are adopted with no network call", async (t) => {
  const { server, storage, manager } = await setup(t);
  await storage.save(server.login("acct-1"));
  const a = manager();
  const b = manager();
  await a.auth();
  await b.auth();
  const fromB = await b.refreshToken();
  assert.equal(server.refreshCount, 1);
  const fromA = await a.refreshToken();
  assert.equal(server.refreshCount, 1);
  assert.equal(fromA?.tokens?.access_token, fromB?.tokens?.access_token);
  assert.equal(server.reusedCount, 0);
});

test("refreshToken(): after refresh_token_reused, tokens a lock-less writer (Codex) saves a moment later are adopted", async (t) => {
  const { server, storage, manager } = await setup(t);
  const login = server.login("acct-1");
  await storage.save(login);
  const m = manager();
  await m.auth();
  // "Codex" refreshes without our lock; its save lands after we read the storage, before our answer.
  const rotated = await new HttpTokenRefresher({ url: server.url }).refresh(login.tokens!.refresh_token);
  server.onTokenRequest = () => storage.save({ ...login, tokens: { ...login.tokens!, ...rotated } });
  const auth = await m.refreshToken();
  assert.equal(server.reusedCount, 1);
  assert.equal(auth?.tokens?.access_token, rotated.access_token);
  assert.equal(auth?.tokens?.refresh_token, rotated.refresh_token);
});

test("refreshToken(): refresh_token_reused with nothing new in storage is permanent", async (t) => {
  const { server, storage, manager } = await setup(t);
  const login = server.login("acct-1");
  await storage.save(login);
  await new HttpTokenRefresher({ url: server.url }).refresh(login.tokens!.refresh_token);
  const error = await rejection(manager().refreshToken());
  assert.ok(error instanceof RefreshError);
  assert.equal(error.reason, "exhausted");
  assert.equal(error.message, REFRESH_TOKEN_REUSED_MESSAGE);
});

test("unauthorizedRecovery(): reload finds tokens another process refreshed → ReloadedChanged", async (t) => {
  const { server, storage, manager } = await setup(t);
  await storage.save(server.login("acct-1"));
  const a = manager();
  await a.auth();
  await manager().refreshToken();
  const recovery = a.unauthorizedRecovery();
  assert.equal(recovery.step, "reload");
  assert.equal(recovery.hasNext(), true);
  assert.equal(await recovery.next(), "ReloadedChanged");
  assert.equal((await a.auth())?.tokens?.access_token, (await storage.load())?.tokens?.access_token);
  assert.equal(recovery.step, "refresh_token");
  assert.equal(server.refreshCount, 1);
});

test("unauthorizedRecovery(): unchanged storage → ReloadedNoChange, then one network refresh, then done", async (t) => {
  const { server, storage, manager } = await setup(t);
  const login = server.login("acct-1");
  await storage.save(login);
  const m = manager();
  await m.auth();
  const recovery = m.unauthorizedRecovery();
  assert.equal(await recovery.next(), "ReloadedNoChange");
  assert.equal(recovery.hasNext(), true);
  assert.equal(await recovery.next(), "Refreshed");
  assert.equal(server.refreshCount, 1);
  assert.equal(recovery.hasNext(), false);
  assert.equal(recovery.step, "done");
  assert.notEqual((await m.auth())?.tokens?.refresh_token, login.tokens!.refresh_token);
});

test("unauthorizedRecovery(): another account in storage → Skipped: the mismatch error, nothing overwritten", async (t) => {
  const { server, storage, manager } = await setup(t);
  await storage.save(server.login("acct-1"));
  const m = manager();
  await m.auth();
  const other = server.login("acct-2");
  await storage.save(other);
  const recovery = m.unauthorizedRecovery();
  const error = await rejection(recovery.next());
  assert.ok(error instanceof RefreshError);
  assert.equal(error.permanent, true);
  assert.equal(error.reason, "account-mismatch");
  assert.equal(error.message, MISMATCH);
  assert.equal(REFRESH_TOKEN_ACCOUNT_MISMATCH_MESSAGE, MISMATCH);
  assert.equal(recovery.hasNext(), false);
  assert.deepEqual(await storage.load(), other);
  assert.equal(server.refreshCount, 0);
});

test("unauthorizedRecovery(): a login with a null account_id is always Skipped", async (t) => {
  const { server, storage, manager } = await setup(t);
  await storage.save(server.login(null));
  const m = manager();
  await m.auth();
  const error = await rejection(m.unauthorizedRecovery().next());
  assert.equal((error as RefreshError).message, MISMATCH);
  assert.equal(server.refreshCount, 0);
});

test("unauthorizedRecovery(): a corrupt auth.json during reload is Skipped", async (t) => {
  const { server, storage, manager, home } = await setup(t);
  await storage.save(server.login("acct-1"));
  const m = manager();
  await m.auth();
  await writeFile(join(home, "auth.json"), '{"tokens": {"access_token": ');
  const recovery = m.unauthorizedRecovery();
  const error = await rejection(recovery.next());
  assert.equal((error as RefreshError).reason, "account-mismatch");
  assert.equal(recovery.hasNext(), false);
  assert.equal(server.refreshCount, 0);
});

test("refreshToken(): a corrupt auth.json is reported as a format error, not as another account", async (t) => {
  const { server, storage, manager, home } = await setup(t);
  await storage.save(server.login("acct-1"));
  const m = manager();
  await m.auth();
  await writeFile(join(home, "auth.json"), "{ not json");
  const error = await rejection(m.refreshToken());
  assert.ok(error instanceof AuthFormatError, String(error));
  assert.equal(server.refreshCount, 0);
});

test("unauthorizedRecovery(): hasNext() is false for an API-key login", async (t) => {
  const { storage, manager } = await setup(t);
  await storage.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-test" });
  const m = manager();
  await m.auth();
  assert.equal(m.unauthorizedRecovery().hasNext(), false);
});

test("account guard: after logout and a login to another account, an old snapshot gets the mismatch and overwrites nothing", async (t) => {
  const { server, storage, manager } = await setup(t);
  await storage.save(server.login("acct-1"));
  const stale = manager();
  await stale.auth();
  const other = manager();
  assert.equal(await other.logout(), true);
  const second = server.login("acct-2");
  await storage.save(second);
  const error = await rejection(stale.refreshToken());
  assert.equal((error as RefreshError).message, MISMATCH);
  const recovery = stale.unauthorizedRecovery();
  await assert.rejects(recovery.next(), { message: MISMATCH });
  assert.deepEqual(await storage.load(), second);
  assert.equal(server.refreshCount, 0);
});

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

test("fetchWithAuth(): sends the bearer token and recovers from a 401 with one refresh", async (t) => {
  const { server, storage, manager } = await setup(t);
  await storage.save(server.login("acct-1"));
  const m = manager();
  assert.equal((await fetchWithAuth(m, server.apiUrl)).status, 200);
  assert.equal(server.apiOk, 1);
  server.expireAccessTokens();
  const response = await fetchWithAuth(m, server.apiUrl, { headers: { "X-Test": "1" } });
  assert.equal(response.status, 200);
  assert.equal(server.refreshCount, 1);
  assert.equal(server.apiUnauthorized, 2, "first send, retry after reload; third send succeeds");
});

test("fetchWithAuth(): a dead refresh token surfaces the permanent error after at most three sends", async (t) => {
  const { server, storage, manager } = await setup(t);
  const login = server.login("acct-1");
  await storage.save(login);
  server.revoke(login.tokens!.refresh_token);
  server.expireAccessTokens();
  const error = await rejection(fetchWithAuth(manager(), server.apiUrl));
  assert.ok(error instanceof RefreshError);
  assert.equal(error.reason, "revoked");
  assert.equal(server.apiUnauthorized, 2);
  assert.equal(server.refreshCount, 1);
});

test("fetchWithAuth(): an API-key login gets no recovery; the 401 is returned", async (t) => {
  const { server, storage, manager } = await setup(t);
  await storage.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-test" });
  const response = await fetchWithAuth(manager(), server.apiUrl);
  assert.equal(response.status, 401);
  assert.equal(server.apiUnauthorized, 1);
  assert.equal(server.refreshCount, 0);
});
