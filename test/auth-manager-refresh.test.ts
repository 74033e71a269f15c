/**
 * AuthManager.refreshToken(): permanent failures remembered until the stored auth changes, a
 * failed save, one refresh for concurrent callers, tokens another process (or a lock-less Codex)
 * refreshed adopted without a network call, and a corrupt auth.json as a format error.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AuthManager } from "../src/refresh/auth-manager.ts";
import type { AuthStorage } from "../src/storage/auth-storage.ts";
import { AuthFormatError } from "../src/contract/errors.ts";
import { RefreshLock } from "../src/refresh/refresh-lock.ts";
import { HttpTokenRefresher } from "../src/refresh/token-refresher.ts";
import { REFRESH_TOKEN_REUSED_MESSAGE } from "../src/refresh/refresh-messages.ts";
import { RefreshError } from "../src/contract/refresh-error.ts";
import { rejection, setup } from "./support/auth-manager-setup.ts";

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
