/**
 * AuthManager.auth(): the stored login, refreshed before use when the access token is about to
 * expire (or, without an exp, when last_refresh is old), with an injectable window and clock, and
 * what a transient or permanent failure of that proactive refresh does.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { AuthDotJson } from "../src/document/auth-types.ts";
import { RefreshError } from "../src/contract/refresh-error.ts";
import { rejection, setup } from "./support/auth-manager-setup.ts";

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
