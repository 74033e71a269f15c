/**
 * Right after a save by the real Codex CLI (0.169, which leaves `auth.lock`
 * and `auth.json.lock` behind), authkeep's logout, migrate and refresh finish
 * promptly and leave Codex's lock files exactly where they were. Before, each
 * stalled about 10 s on Codex's empty `auth.json.lock`, then deleted it.
 * Both ways, Codex sees authkeep's locks (it waits for them, and gives up
 * after its own 5 s bound on `auth.json.lock`).
 * Needs `AUTHKEEP_CODEX_BIN` (scripts/codex-setup.sh; `npm test` exports it).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { AuthManager, createAuthStorage, HttpTokenRefresher, parseAuthJson } from "../src/index.ts";
import { refreshLockPath } from "../src/refresh/refresh-lock.ts";
import { runCli, tempHome, testKeyring } from "./fixtures/cli-harness.ts";
import { TokenServer } from "./support/token-server.ts";
import { runAsync } from "../src/contract/engine.ts";
import { withCodexLocks } from "../src/storage/_codex-lock.ts";
import { fileLocker } from "../src/storage/_file-locker.ts";

const codex = process.env.AUTHKEEP_CODEX_BIN;
const skip = !codex ? "AUTHKEEP_CODEX_BIN is not set (scripts/codex-setup.sh)" : process.platform !== "linux" && "the Linux Codex binary";
const LOCKS = ["auth.lock", "auth.json.lock"];
// Hang guard for each command: the old stall alone was about 10 s; a prompt run takes well under 1 s.
const GUARD_MS = 8000;

function codexLogin(home: string, key = "sk-authkeep-CANARY-codex-lock"): void {
  const result = spawnSync(codex!, ["-c", "cli_auth_credentials_store=file", "login", "--with-api-key"], {
    input: `${key}\n`,
    env: { ...process.env, CODEX_HOME: home },
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.equal(result.status, 0, `codex login failed: ${result.stderr}`);
  assert.ok(LOCKS.every((name) => existsSync(join(home, name))), "Codex left its lock files");
}

function codexLoggedIn(home: string): boolean {
  const result = spawnSync(codex!, ["-c", "cli_auth_credentials_store=file", "login", "status"], {
    env: { ...process.env, CODEX_HOME: home },
    encoding: "utf8",
    timeout: 60_000,
  });
  return result.status === 0;
}

const inodes = (home: string): number[] => LOCKS.map((name) => statSync(join(home, name)).ino);

test("after a real Codex save, authkeep logout finishes promptly and keeps Codex's lock files", { skip, timeout: 120_000 }, async (t) => {
  const home = tempHome(t);
  codexLogin(home);
  const before = inodes(home);
  const result = await runCli(["logout", "--mode", "file", "--home", home], { timeoutMs: GUARD_MS });
  assert.equal(result.signal, null, "logout did not hang");
  assert.equal(result.code, 0, result.stderr);
  assert.equal(existsSync(join(home, "auth.json")), false);
  assert.deepEqual(inodes(home), before, "the same lock files, never deleted or replaced");
  assert.equal(codexLoggedIn(home), false, "Codex agrees it is logged out");
});

test("after a real Codex save, authkeep migrate --to keyring finishes promptly and keeps Codex's lock files", { skip, timeout: 120_000 }, async (t) => {
  const ring = testKeyring();
  if ("skip" in ring) return t.skip(ring.skip);
  const home = tempHome(t);
  codexLogin(home, "sk-authkeep-CANARY-migrate");
  const before = inodes(home);
  const result = await runCli(["migrate", "--to", "keyring", "--home", home], { env: ring.keyring.env, timeoutMs: GUARD_MS });
  assert.equal(result.signal, null, "migrate did not hang");
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.equal((await ring.keyring.read(home))?.OPENAI_API_KEY, "sk-authkeep-CANARY-migrate");
  assert.equal(existsSync(join(home, "auth.json")), false, "the source file was removed");
  assert.deepEqual(inodes(home), before);
  await ring.keyring.remove(home);
});

test("after a real Codex save, an AuthManager refresh finishes promptly, and Codex reads the result", { skip, timeout: 120_000 }, async (t) => {
  const home = tempHome(t);
  codexLogin(home);
  const before = inodes(home);
  const server = await TokenServer.start();
  t.after(() => server.close());
  const storage = createAuthStorage({ home, mode: "file", onWarning: () => {} });
  await storage.save(server.login("acct-codex-lock", { accessExpiresInSec: -60 }));
  const manager = new AuthManager({ storage, refresher: new HttpTokenRefresher({ url: server.url, timeoutMs: 5000 }) });
  const guard = new Promise<never>((_, reject) => setTimeout(() => reject(new Error("refresh hung")), GUARD_MS).unref());
  const refreshed = await Promise.race([manager.refreshToken(), guard]);
  assert.equal(server.refreshCount, 1);
  assert.deepEqual(parseAuthJson(readFileSync(join(home, "auth.json"), "utf8")).tokens, refreshed?.tokens);
  assert.deepEqual(inodes(home), before, "Codex's lock files untouched by the save and the refresh");
  assert.equal(existsSync(refreshLockPath(home)), false, "authkeep's own refresh lock is released");
  assert.equal(codexLoggedIn(home), true, "Codex reads the refreshed login");
});

/** Runs `codex login --with-api-key` in the background. */
function codexLoginLater(home: string, key: string): Promise<{ code: number | null; stderr: string; exitedAt: number }> {
  const child = spawn(codex!, ["-c", "cli_auth_credentials_store=file", "login", "--with-api-key"], {
    env: { ...process.env, CODEX_HOME: home },
    stdio: ["pipe", "ignore", "pipe"],
  });
  child.stdin.end(`${key}\n`);
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const kill = setTimeout(() => child.kill("SIGKILL"), 60_000);
  return new Promise((resolve) => child.on("close", (code) => {
      clearTimeout(kill);
      resolve({ code, stderr, exitedAt: performance.now() });
    }));
}

test("the real Codex CLI waits for the locks authkeep holds, and writes only after authkeep released them", { skip, timeout: 120_000 }, async (t) => {
  const home = tempHome(t);
  const location = { home, fileName: "auth.json", warn: () => {} };
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let releasedAt = 0;
  const holding = runAsync(withCodexLocks(location, function* () {
    yield { sync: () => {}, async: () => released };
  })).then(() => (releasedAt = performance.now()));
  const login = codexLoginLater(home, "sk-authkeep-CANARY-waits");
  await new Promise((resolve) => setTimeout(resolve, 1000)); // let Codex reach its flock
  assert.equal(existsSync(join(home, "auth.json")), false, "Codex has not written while authkeep holds the locks");
  release();
  await holding;
  const result = await login;
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.exitedAt > releasedAt, "Codex finished after the release");
  assert.equal(parseAuthJson(readFileSync(join(home, "auth.json"), "utf8")).OPENAI_API_KEY, "sk-authkeep-CANARY-waits");
});

test("the real Codex CLI gives up ('credential commit lock timed out') while authkeep holds auth.json.lock", { skip, timeout: 120_000 }, async (t) => {
  const home = tempHome(t);
  const { locker } = fileLocker();
  assert.ok(locker, "FFI is available in the test suite");
  const file = locker.open(join(home, "auth.json.lock"), 0o600);
  try {
    assert.equal(locker.tryLock(file), true);
    const result = await codexLoginLater(home, "sk-authkeep-CANARY-refused");
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /credential commit lock timed out/);
    assert.equal(existsSync(join(home, "auth.json")), false, "Codex wrote nothing");
  } finally {
    locker.close(file);
  }
});
