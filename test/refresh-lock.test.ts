import process from "node:process";
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { LockTimeoutError } from "../src/contract/lock-timeout-error.ts";
import { RefreshLock, type RefreshLockHandle } from "../src/refresh/refresh-lock.ts";
import { waitFor, workerArgs } from "./support/storm.ts";

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "authkeep-lock-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The pid of a process that has exited (so `kill(pid, 0)` says ESRCH). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid!;
}

function holderJson(pid: number, host = hostname(), nonce = "00112233445566778899aabbccddeeff"): string {
  return JSON.stringify({ pid, host, startedAt: new Date().toISOString(), nonce });
}

test("RefreshLock: acquire writes pid, host, start time and nonce to a 0600 file; release removes it", async (t) => {
  const dir = await tempDir(t);
  const lock = new RefreshLock({ path: join(dir, "auth.json.authkeep-refresh.lock") });
  const handle = await lock.acquire();
  const content = JSON.parse(await readFile(lock.path, "utf8"));
  assert.equal(content.pid, process.pid);
  assert.equal(content.host, hostname());
  assert.ok(Number.isFinite(Date.parse(content.startedAt)));
  assert.equal(content.nonce, handle.nonce);
  if (process.platform !== "win32") assert.equal((await stat(lock.path)).mode & 0o777, 0o600);
  assert.equal(await handle.release(), true);
  await assert.rejects(stat(lock.path), { code: "ENOENT" });
  assert.equal(await handle.release(), false);
});

test("RefreshLock: creates the home directory (0700) when it does not exist yet", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, "new-home", "auth.json.authkeep-refresh.lock");
  const handle = await new RefreshLock({ path }).acquire();
  const home = await stat(join(dir, "new-home"));
  assert.ok(home.isDirectory(), "the home was created");
  if (process.platform !== "win32") assert.equal(home.mode & 0o777, 0o700);
  assert.equal(JSON.parse(await readFile(path, "utf8")).nonce, handle.nonce, "the lock file is inside it, and ours");
  assert.equal(await handle.release(), true);
  await assert.rejects(stat(path), { code: "ENOENT" });
});

test("RefreshLock: a second acquirer waits and gets a typed LockTimeoutError naming the holder", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, "auth.json.authkeep-refresh.lock");
  const held = await new RefreshLock({ path }).acquire();
  try {
    assert.equal(await new RefreshLock({ path }).tryAcquire(), null);
    const error = await new RefreshLock({ path, timeoutMs: 50 }).acquire().catch((e: unknown) => e);
    assert.ok(error instanceof LockTimeoutError);
    assert.equal(error.path, path);
    assert.equal(error.holder?.pid, process.pid);
    assert.ok(error.waitedMs >= 50);
  } finally {
    await held.release();
  }
});

test("RefreshLock: a waiter gets the lock as soon as the holder releases it", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, "auth.json.authkeep-refresh.lock");
  const held = await new RefreshLock({ path }).acquire();
  const waiting = new RefreshLock({ path, timeoutMs: 10_000 }).acquire();
  setTimeout(() => void held.release(), 50);
  const handle = await waiting;
  assert.notEqual(handle.nonce, held.nonce);
  await handle.release();
});

test("RefreshLock: release removes only our own lock (checked by the nonce)", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, "auth.json.authkeep-refresh.lock");
  const handle = await new RefreshLock({ path }).acquire();
  const other = holderJson(process.pid + 1, "another-host", "ffeeddccbbaa99887766554433221100");
  await writeFile(path, other);
  assert.equal(await handle.release(), false);
  assert.equal(await readFile(path, "utf8"), other);
});

test("RefreshLock: mutual exclusion among concurrent acquirers", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, "auth.json.authkeep-refresh.lock");
  let inside = 0;
  let maxInside = 0;
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      for (let i = 0; i < 5; i++) {
        const handle = await new RefreshLock({ path, pollMs: 1, timeoutMs: 20_000 }).acquire();
        inside++;
        maxInside = Math.max(maxInside, inside);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inside--;
        await handle.release();
      }
    }),
  );
  assert.equal(maxInside, 1);
});

test("RefreshLock: a lock whose holder pid is dead on this host is stale and taken over", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, "auth.json.authkeep-refresh.lock");
  await writeFile(path, holderJson(await deadPid()));
  const handle = await new RefreshLock({ path, staleMs: 60_000 }).tryAcquire();
  assert.ok(handle);
  assert.equal(JSON.parse(await readFile(path, "utf8")).nonce, handle.nonce);
  await handle.release();
});

test("RefreshLock: a live holder on another host is respected until the stale bound, then taken over", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, "auth.json.authkeep-refresh.lock");
  await writeFile(path, holderJson(1, "some-other-host"));
  assert.equal(await new RefreshLock({ path, staleMs: 60_000 }).tryAcquire(), null);
  const old = new Date(Date.now() - 120_000);
  await utimes(path, old, old);
  const handle = await new RefreshLock({ path, staleMs: 60_000 }).tryAcquire();
  assert.ok(handle);
  await handle.release();
});

test("RefreshLock: a lock left by an earlier process with our own pid is stale", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, "auth.json.authkeep-refresh.lock");
  await writeFile(path, holderJson(process.pid));
  const handle = await new RefreshLock({ path, staleMs: 60_000 }).tryAcquire();
  assert.ok(handle);
  await handle.release();
});

test("RefreshLock: an empty lock file (holder died while writing it) is only taken over after a grace period", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, "auth.json.authkeep-refresh.lock");
  await writeFile(path, "");
  assert.equal(await new RefreshLock({ path, staleMs: 60_000 }).tryAcquire(), null);
  const old = new Date(Date.now() - 30_000);
  await utimes(path, old, old);
  const handle = await new RefreshLock({ path, staleMs: 60_000 }).tryAcquire();
  assert.ok(handle);
  await handle.release();
});

test("RefreshLock: many waiters racing for one stale lock: exactly one wins", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, "auth.json.authkeep-refresh.lock");
  const pid = await deadPid();
  for (let round = 0; round < 20; round++) {
    await writeFile(path, holderJson(pid, hostname(), `${round.toString(16).padStart(2, "0")}112233445566778899aabbccddeeff`));
    const results = await Promise.all(Array.from({ length: 8 }, () => new RefreshLock({ path, staleMs: 60_000 }).tryAcquire()));
    const winners = results.filter((h): h is RefreshLockHandle => h !== null);
    assert.equal(winners.length, 1, `round ${round}: ${winners.length} winners`);
    assert.equal(JSON.parse(await readFile(path, "utf8")).nonce, winners[0]!.nonce);
    await winners[0]!.release();
  }
});

test("RefreshLock: a holder killed with SIGKILL while holding the lock is taken over within the stale bound", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, "auth.json.authkeep-refresh.lock");
  const child = spawn(process.execPath, workerArgs(), {
    env: { ...process.env, AUTHKEEP_STORM_CONFIG: JSON.stringify({ role: "hold-lock", lockPath: path }) },
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  const locked = (await waitFor(child, (m) => (m as { type?: string }).type === "locked", () => stderr)) as { nonce: string };
  const staleMs = 20_000;
  // While the holder lives, the lock is respected.
  assert.equal(await new RefreshLock({ path, staleMs }).tryAcquire(), null);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
  assert.equal(JSON.parse(await readFile(path, "utf8")).nonce, locked.nonce);
  // The wait bound equals the stale bound: a takeover that needed the age rule would time out.
  const handle = await new RefreshLock({ path, staleMs }).acquire({ timeoutMs: staleMs });
  assert.notEqual(handle.nonce, locked.nonce);
  await handle.release();
});

test("RefreshLock: a waiter's sleep ends when the lock file is released, not at its timer", { timeout: 30_000 }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, "auth.json.authkeep-refresh.lock");
  const lock = new RefreshLock({ path });
  const held = await lock.acquire();
  const waiter = lock.waiter();
  try {
    const slept = waiter.sleep(10 * 60_000).then(() => "woken");
    await held.release();
    assert.equal(await slept, "woken");
  } finally {
    waiter.close();
  }
});
