/**
 * Codex's file locks on Windows, under Wine: authkeep's LockFileEx binding
 * (native/lock/_windows.ts) run by the Windows node.exe (test/win/locks.win.ts),
 * against itself and against the real codex.exe 0.169, which takes the same
 * locks (traced with WINEDEBUG=+relay: CreateFileW(GENERIC_READ|GENERIC_WRITE,
 * share 7, OPEN_ALWAYS) on auth.lock then auth.json.lock, LockFileEx flags 2
 * then 3 over the whole file, a `.auth-XXXXXX` temp file, FlushFileBuffers,
 * MoveFileExW(REPLACE_EXISTING)).
 *
 * Needs AUTHKEEP_WINE_NODE and WINEPREFIX (`eval "$(bash scripts/wine-setup.sh)"`);
 * the codex.exe half also AUTHKEEP_CODEX_EXE (`CODEX_WIN=1 bash scripts/codex-setup.sh`).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const winScript = join(here, "win", "locks.win.js");
const wineNode = process.env.AUTHKEEP_WINE_NODE;
const codexExe = process.env.AUTHKEEP_CODEX_EXE;
const required = process.env.AUTHKEEP_REQUIRE_WINE === "1";
const skip = !wineNode && !required ? "AUTHKEEP_WINE_NODE is not set (eval \"$(bash scripts/wine-setup.sh)\")" : !import.meta.url.endsWith(".js") && "runs from dist/ (node.exe runs the built script)";

const winPath = (path: string): string => `Z:${path.replaceAll("/", "\\")}`;
const wineEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  WINEDEBUG: "-all",
  WINEDLLOVERRIDES: "mscoree,mshtml=",
  DISPLAY: "",
  ...extra,
});

interface Outcome {
  call: string;
  ok: boolean;
  name?: string;
  lock?: string;
  code?: string;
  path?: string;
}

/** Runs the Windows script to the end; output to a file (node.exe under Wine dies on a pipe). */
function runPhase(dir: string, label: string, args: string[]): { outcomes: Outcome[]; log: string } {
  const results = join(dir, `${label}.json`);
  const logPath = join(dir, `${label}.log`);
  const fd = openSync(logPath, "w");
  try {
    const child = spawnSync("wine", [wineNode!, winPath(winScript), args[0]!, winPath(results), ...args.slice(1)], {
      cwd: root,
      env: wineEnv(),
      stdio: ["ignore", fd, fd],
      timeout: 120_000,
    });
    const log = readFileSync(logPath, "utf8");
    assert.equal(child.status, 0, log);
    return { outcomes: (JSON.parse(readFileSync(results, "utf8")) as { outcomes: Outcome[] }).outcomes, log };
  } finally {
    closeSync(fd);
  }
}

/** `codex.exe login --with-api-key` under Wine, stdin and output through files. */
function codexLogin(dir: string, home: string, key: string): { status: number | null; output: string } {
  const input = join(dir, "key.txt");
  writeFileSync(input, `${key}\n`);
  const logPath = join(dir, `codex-${key}.log`);
  const inFd = openSync(input, "r");
  const outFd = openSync(logPath, "w");
  try {
    const child = spawnSync("wine", [codexExe!, "-c", "cli_auth_credentials_store=file", "login", "--with-api-key"], {
      env: wineEnv({ CODEX_HOME: winPath(home) }),
      stdio: [inFd, outFd, outFd],
      timeout: 120_000,
    });
    return { status: child.status, output: readFileSync(logPath, "utf8") };
  } finally {
    closeSync(inFd);
    closeSync(outFd);
  }
}

test("Windows under Wine: LockFileEx on auth.json.lock is respected by authkeep and by the real codex.exe, then released", { skip, timeout: 400_000 }, async (t) => {
  assert.ok(wineNode && existsSync(wineNode), "AUTHKEEP_WINE_NODE must name the Windows node.exe");
  const dir = mkdtempSync(join(tmpdir(), "authkeep-winlock-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const home = join(dir, "home");
  mkdirSync(home);
  const marker = join(dir, "held");
  const holdLog = openSync(join(dir, "hold.log"), "w");
  const holder = spawn("wine", [wineNode, winPath(winScript), "hold", winPath(join(dir, "hold.json")), winPath(home), winPath(marker)], {
    cwd: root,
    env: wineEnv(),
    stdio: ["ignore", holdLog, holdLog],
  });
  const holderExit = new Promise<number | null>((resolveExit) => holder.on("close", resolveExit));
  t.after(() => {
    if (holder.exitCode === null) holder.kill("SIGKILL");
    closeSync(holdLog);
  });
  while (!existsSync(marker)) await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  assert.equal(readFileSync(marker, "utf8"), "locked");

  const busy = runPhase(dir, "busy", ["save", winPath(home), "300"]).outcomes;
  for (const outcome of busy) {
    assert.equal(outcome.name, "LockTimeoutError", JSON.stringify(outcome));
    assert.equal(outcome.lock, "file");
    assert.ok(outcome.path?.endsWith("auth.json.lock"), outcome.path);
  }
  assert.equal(existsSync(join(home, "auth.json")), false, "nothing written while the lock is held");

  if (codexExe) {
    const refused = codexLogin(dir, home, "sk-authkeep-CANARY-winrefused");
    assert.notEqual(refused.status, 0, refused.output);
    assert.match(refused.output, /credential commit lock timed out/, "codex.exe waited for authkeep's LockFileEx, then gave up");
    assert.equal(existsSync(join(home, "auth.json")), false);
  } else {
    t.diagnostic("AUTHKEEP_CODEX_EXE is not set: the codex.exe half was not run");
  }

  writeFileSync(join(home, "release"), "");
  assert.equal(await holderExit, 0, readFileSync(join(dir, "hold.log"), "utf8"));
  assert.equal((JSON.parse(readFileSync(join(dir, "hold.json"), "utf8")) as { mechanism: string }).mechanism, "LockFileEx");

  const free = runPhase(dir, "free", ["save", winPath(home), "300"]).outcomes;
  assert.deepEqual(free.map((o) => o.ok), [true, true], JSON.stringify(free));
  assert.match(readFileSync(join(home, "auth.json"), "utf8"), /sk-authkeep-wine-async/);
  if (codexExe) {
    const accepted = codexLogin(dir, home, "sk-authkeep-CANARY-winok");
    assert.equal(accepted.status, 0, accepted.output);
    assert.match(readFileSync(join(home, "auth.json"), "utf8"), /sk-authkeep-CANARY-winok/);
  }
  assert.ok(existsSync(join(home, "auth.lock")) && existsSync(join(home, "auth.json.lock")), "both lock files stay");
});

test("Windows under Wine: a directory at auth.lock is a typed AuthStorageError, sync and async", { skip, timeout: 120_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), "authkeep-winlock-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const home = join(dir, "home");
  mkdirSync(home);
  const outcomes = runPhase(dir, "hostile", ["hostile", winPath(home)]).outcomes;
  assert.equal(outcomes.length, 2);
  for (const outcome of outcomes) {
    assert.equal(outcome.name, "AuthStorageError", JSON.stringify(outcome));
    assert.equal(outcome.code, "EISDIR");
  }
});
