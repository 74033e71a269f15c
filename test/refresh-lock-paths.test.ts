/**
 * Hostile things at the refresh lock's path: each gives a typed error or is
 * handled correctly, promptly (the test timeouts are the hang guards) and
 * without reading a huge file.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, openSync, closeSync, ftruncateSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { AuthManager, AuthStorageError, createAuthStorage, LockTimeoutError } from "../src/index.ts";
import { RefreshLock, refreshLockPath } from "../src/refresh/refresh-lock.ts";
import { fakeJwt, tempHome } from "./support/auth-fixtures.ts";
import { collect, fixturePath, spawnFixture } from "./support/child-process.ts";
import { HOSTILE_KINDS, makeHostilePath } from "./support/hostile-paths.ts";

const posix = process.platform !== "win32";

for (const kind of HOSTILE_KINDS) {
  test(`RefreshLock: a ${kind} at the lock path is a typed AuthStorageError at once, not a wait`, { skip: !posix && "POSIX file types", timeout: 10_000 }, async (t) => {
    const home = tempHome(t, "authkeep-lockpath-");
    const path = refreshLockPath(home);
    if (!makeHostilePath(kind, path, home)) return t.skip(`cannot make a ${kind} here`);
    const error = await new RefreshLock({ path }).acquire().then(() => null, (e: unknown) => e);
    assert.ok(error instanceof AuthStorageError, `got ${String(error)}`);
    assert.ok(["ELOOP", "EISDIR", "EFTYPE"].includes(error.code ?? ""), String(error.code));
    assert.ok(error.message.includes(path) && /not a lock file/.test(error.message), error.message);
    assert.doesNotMatch(error.message, /another process is refreshing/);
  });
}

test("AuthManager.refreshToken(): a FIFO at the lock path is a typed error and auth.json is untouched", { skip: !posix && "FIFOs", timeout: 10_000 }, async (t) => {
  const home = tempHome(t, "authkeep-lockpath-");
  assert.equal(spawnSync("mkfifo", [refreshLockPath(home)]).status, 0);
  const storage = createAuthStorage({ home, mode: "file", onWarning: () => {} });
  const auth = {
    auth_mode: "chatgpt",
    OPENAI_API_KEY: null,
    tokens: { id_token: fakeJwt({ email: "a@example.com" }), access_token: fakeJwt({ exp: 0 }), refresh_token: "rt-CANARY-1", account_id: "acct" },
    last_refresh: new Date().toISOString(),
  };
  await storage.save(auth);
  let called = 0;
  const manager = new AuthManager({ storage, refresher: { refresh: async () => {
        called++;
        return { refresh_token: "rt-2" };
      } } });
  const error = await manager.refreshToken().then(() => null, (e: unknown) => e);
  assert.ok(error instanceof AuthStorageError, `got ${String(error)}`);
  assert.equal(called, 0, "no token request without the lock");
  assert.deepEqual(await storage.load(), auth);
  assert.ok(!String(error.message).includes("CANARY"));
});

test("RefreshLock: a 300 MB file at the lock path is never read; an old one is taken over, a fresh one waited for within the bound", { timeout: 30_000 }, async (t) => {
  const home = tempHome(t, "authkeep-lockpath-");
  const path = refreshLockPath(home);
  const fd = openSync(path, "w");
  ftruncateSync(fd, 300 * 1024 * 1024); // sparse: costs no disk, but reading it would cost 300 MB
  closeSync(fd);
  const rssBefore = process.memoryUsage().rss;
  const fresh = await new RefreshLock({ path, timeoutMs: 200 }).acquire().then(() => null, (e: unknown) => e);
  assert.ok(fresh instanceof LockTimeoutError, "a fresh unreadable file counts as a lock being written, until the grace period");
  assert.equal(statSync(path).size, 300 * 1024 * 1024, "left alone while fresh");
  const old = (Date.now() - 60_000) / 1000;
  utimesSync(path, old, old);
  const handle = await new RefreshLock({ path, timeoutMs: 5_000 }).acquire();
  assert.ok(statSync(path).size < 4096, "the stale file was replaced by our lock");
  await handle.release();
  assert.equal(existsSync(path), false);
  assert.ok(process.memoryUsage().rss - rssBefore < 100 * 1024 * 1024, "the 300 MB file was not loaded");
});

test("a FIFO at the refresh lock path does not keep process.exit() from exiting", { skip: !posix && "FIFOs", timeout: 20_000 }, async (t) => {
  const home = tempHome(t, "authkeep-lockpath-");
  assert.equal(spawnSync("mkfifo", [refreshLockPath(home)]).status, 0);
  writeFileSync(join(home, "marker"), "");
  const child = spawnFixture(fixturePath("refresh-then-exit", import.meta.url), [home]);
  const { code, stdout, stderr } = await collect(child);
  assert.equal(code, 7, stderr);
  assert.match(stdout, /AuthStorageError/);
});
