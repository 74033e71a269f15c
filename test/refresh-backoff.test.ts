/**
 * After a failed proactive refresh, AuthManager.auth() leaves the token
 * endpoint alone for a while: a real failing server on 127.0.0.1 counts the
 * requests, and an injected clock stands for the time that passes.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { AuthManager, type AuthManagerOptions } from "../src/refresh/auth-manager.ts";
import { backoffDelayMs, DEFAULT_REFRESH_BACKOFF } from "../src/refresh/refresh-backoff.ts";
import { RefreshError } from "../src/contract/refresh-error.ts";
import { HttpTokenRefresher } from "../src/refresh/token-refresher.ts";
import { createAuthStorage } from "../src/storage/create-auth-storage.ts";
import { TokenServer } from "./support/token-server.ts";

async function setup(t: { after: (fn: () => Promise<void>) => void }, options: Partial<AuthManagerOptions> = {}) {
  const home = await mkdtemp(join(tmpdir(), "authkeep-backoff-"));
  const server = await TokenServer.start();
  t.after(async () => {
    await server.close();
    await rm(home, { recursive: true, force: true });
  });
  const storage = createAuthStorage({ home, mode: "file", onWarning: () => {} });
  const login = server.login("acct-1", { accessExpiresInSec: -10 });
  await storage.save(login);
  const clock = { now: Date.now() };
  const manager = new AuthManager({
    storage,
    refresher: new HttpTokenRefresher({ url: server.url }),
    now: () => clock.now,
    ...options,
  });
  return { server, storage, manager, clock, login };
}

test("backoff: the schedule doubles from 1 s and stops at 60 s", () => {
  const schedule = Array.from({ length: 9 }, (_, i) => backoffDelayMs(i + 1, DEFAULT_REFRESH_BACKOFF));
  assert.deepEqual(schedule, [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
});

test("auth(): after a transient failure, 10 calls make 1 request, and lastRefreshError stays reported", async (t) => {
  const { server, manager } = await setup(t);
  for (let i = 0; i < 20; i++) server.respondNext(503, "busy");
  const reported: unknown[] = [];
  for (let i = 0; i < 10; i++) {
    assert.ok((await manager.auth())?.tokens, "the old auth is returned");
    reported.push(manager.lastRefreshError);
  }
  assert.equal(server.refreshCount, 1);
  assert.ok(reported.every((e) => e instanceof RefreshError && !e.permanent && e === reported[0]));
  assert.ok(manager.refreshRetryAt instanceof Date);
});

test("auth(): retries follow the schedule (1 s, then 2 s, with at most 25 % jitter), and a success resets it", async (t) => {
  const { server, manager, clock, login } = await setup(t);
  for (let i = 0; i < 3; i++) server.respondNext(503, "busy");
  const start = clock.now;
  await manager.auth();
  const first = manager.refreshRetryAt!.getTime() - start;
  assert.ok(first >= 1000 && first <= 1250, `first delay ${first}`);
  clock.now = start + 999;
  await manager.auth();
  assert.equal(server.refreshCount, 1);
  clock.now = start + 1250;
  await manager.auth(); // second failure
  assert.equal(server.refreshCount, 2);
  const second = manager.refreshRetryAt!.getTime() - clock.now;
  assert.ok(second >= 2000 && second <= 2500, `second delay ${second}`);
  clock.now += 1999;
  await manager.auth();
  assert.equal(server.refreshCount, 2);
  clock.now += 501;
  await manager.auth(); // third failure
  assert.equal(server.refreshCount, 3);
  clock.now += 5000; // past the 4 s (+25 %) delay: the server works again
  const auth = await manager.auth();
  assert.equal(server.refreshCount, 4);
  assert.equal(manager.lastRefreshError, undefined);
  assert.equal(manager.refreshRetryAt, null);
  assert.notEqual(auth?.tokens?.refresh_token, login.tokens!.refresh_token);
  assert.equal(server.requests.at(-1)!.outcome, "rotated");
});

test("auth(): a change of the stored login ends the backoff at once", async (t) => {
  const { server, storage, manager } = await setup(t);
  server.respondNext(503, "busy");
  await manager.auth();
  assert.equal(server.refreshCount, 1);
  await storage.save(server.login("acct-1", { accessExpiresInSec: -5 })); // a new login, also expired
  await manager.reload();
  assert.equal(manager.refreshRetryAt, null);
  await manager.auth();
  assert.equal(server.refreshCount, 2);
  assert.equal(server.requests[1]!.outcome, "rotated");
});

test("auth(): backoff: false retries on every call (Codex's behaviour); refreshToken() is never held back", async (t) => {
  const { server, manager } = await setup(t, { backoff: false });
  for (let i = 0; i < 3; i++) server.respondNext(503, "busy");
  for (let i = 0; i < 3; i++) await manager.auth();
  assert.equal(server.refreshCount, 3);

  const held = await setup(t);
  held.server.respondNext(503, "busy");
  await held.manager.auth();
  assert.notEqual(held.manager.refreshRetryAt, null);
  const auth = await held.manager.refreshToken(); // explicit: goes out now
  assert.equal(held.server.refreshCount, 2);
  assert.ok(auth?.tokens);
  assert.equal((held.server.requests[1]!.body as { refresh_reason: string }).refresh_reason, "forced");
  assert.equal((held.server.requests[0]!.body as { refresh_reason: string }).refresh_reason, "proactive_expiry");
});

test("auth(): a permanent failure is not a backoff: it is remembered until the login changes", async (t) => {
  const { server, manager } = await setup(t);
  server.respondNext(401, '{"error":{"code":"refresh_token_expired"}}');
  await assert.rejects(manager.auth(), (e: unknown) => e instanceof RefreshError && e.reason === "expired");
  assert.equal(manager.refreshRetryAt, null);
  await assert.rejects(manager.auth(), (e: unknown) => e instanceof RefreshError && e.reason === "expired");
  assert.equal(server.refreshCount, 1);
});
