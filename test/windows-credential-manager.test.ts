/**
 * The Windows Credential Manager store, run for real inside Wine with the official Windows
 * node.exe (test/win/credential-manager.win.ts and the check groups it runs, from dist/), in
 * three launches: all checks, a chunked write killed from here between two chunk writes, and a
 * check that the old value survived it. The same store against an in-memory advapi32, everywhere:
 * windows-credential-manager-blobs and -flows.
 *
 * This needs AUTHKEEP_WINE_NODE (and WINEPREFIX), which
 * `eval "$(bash scripts/wine-setup.sh)"` exports; scripts/test.sh does this.
 * Without it the Wine tests FAIL when CI is set, when run by `npm test`
 * (npm_lifecycle_event=test) or when AUTHKEEP_REQUIRE_WINE=1; only a plain
 * local `node --test` run skips them, with a loud message on stderr.
 *
 * @module
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const winScript = join(here, "win", "credential-manager.win.js");
const wineNode = process.env.AUTHKEEP_WINE_NODE;
const ci = process.env.CI !== undefined && process.env.CI !== "" && process.env.CI !== "false" && process.env.CI !== "0";
const required = ci || process.env.npm_lifecycle_event === "test" || process.env.AUTHKEEP_REQUIRE_WINE === "1";
const setupHint = 'run `eval "$(bash scripts/wine-setup.sh)"` first (scripts/test.sh does)';

if (!wineNode && !required) {
  process.stderr.write(
    `\n*** windows-credential-manager: SKIPPING the Windows tests under Wine: AUTHKEEP_WINE_NODE is not set; ${setupHint}. ***\n\n`,
  );
}

/** Windows spelling of a Linux path for node.exe (Wine maps / to Z:). */
function winPath(path: string): string {
  return `Z:${path.replaceAll("/", "\\")}`;
}

const wineEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  WINEDEBUG: process.env.WINEDEBUG ?? "-all",
  WINEDLLOVERRIDES: process.env.WINEDLLOVERRIDES ?? "mscoree,mshtml=",
  DISPLAY: "",
});

interface WinResults {
  phase: string;
  checks: { name: string; ok: boolean; detail?: string }[];
  timings: Record<string, number>;
  done: boolean;
}

/**
 * Runs the Windows script. node.exe under Wine dies on a Unix pipe as stdio,
 * so its output goes to a log file.
 */
function runWine(dir: string, label: string, args: string[]): { status: number | null; log: string; results: WinResults | null } {
  const logPath = join(dir, `${label}.log`);
  const resultsPath = join(dir, `${label}.json`);
  const fd = openSync(logPath, "w");
  try {
    const child = spawnSync("wine", [wineNode!, winPath(winScript), args[0]!, winPath(resultsPath), ...args.slice(1)], {
      cwd: root,
      env: wineEnv(),
      stdio: ["ignore", fd, fd],
      timeout: 150_000,
    });
    const log = readFileSync(logPath, "utf8");
    const results = existsSync(resultsPath) ? (JSON.parse(readFileSync(resultsPath, "utf8")) as WinResults) : null;
    return { status: child.status, log, results };
  } finally {
    closeSync(fd);
  }
}

async function report(t: { test: (name: string, fn: () => void) => Promise<void> }, run: ReturnType<typeof runWine>): Promise<void> {
  assert.ok(run.results?.done, `the Windows script did not finish (exit ${run.status}); its output:\n${run.log}`);
  for (const check of run.results.checks) {
    await t.test(check.name, () => assert.ok(check.ok, check.detail));
  }
  assert.equal(run.status, 0, run.log);
}

const wineOptions = { skip: !wineNode && !required ? "AUTHKEEP_WINE_NODE is not set (see stderr)" : false, timeout: 300_000 } as const;

test("Credential Manager under Wine with the Windows node.exe", wineOptions, async (t) => {
  assert.ok(wineNode, `AUTHKEEP_WINE_NODE is not set, so the Windows tests cannot run; ${setupHint}`);
  assert.ok(existsSync(wineNode), `AUTHKEEP_WINE_NODE=${wineNode} does not exist; ${setupHint}`);
  assert.ok(existsSync(winScript), `${winScript} is missing: build with npx tsc -p tsconfig.json`);
  const dir = mkdtempSync(join(tmpdir(), "authkeep-wine-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const crashKey = `cli|crash${Date.now().toString(16)}${Math.random().toString(16).slice(2, 8)}`;

  const main = runWine(dir, "main", ["main", crashKey]);
  await report(t, main);
  for (const [label, ms] of Object.entries(main.results?.timings ?? {})) t.diagnostic(`${label}: ${ms.toFixed(2)}`);

  await t.test("a chunked save killed between chunk writes leaves the old value readable", async (t2) => {
    // Start the writer; it creates the marker after its 3rd chunk and waits; kill the Wine process then.
    const marker = join(dir, "crash.marker");
    const logPath = join(dir, "crash-write.log");
    const fd = openSync(logPath, "w");
    const child = spawn("wine", [wineNode!, winPath(winScript), "crash-write", winPath(join(dir, "crash-write.json")), crashKey, winPath(marker)], {
      cwd: root,
      env: wineEnv(),
      stdio: ["ignore", fd, fd],
    });
    closeSync(fd);
    const exited = new Promise<number | null>((resolveExit) => child.on("exit", (code) => resolveExit(code)));
    const deadline = Date.now() + 120_000;
    let finished: number | null | undefined;
    void exited.then((code) => (finished = code));
    while (!existsSync(marker) && finished === undefined && Date.now() < deadline) await sleep(50);
    assert.ok(existsSync(marker), `the writer never reached its 3rd chunk (exit ${finished}):\n${readFileSync(logPath, "utf8")}`);
    // /usr/bin/wine execs the loader, so this pid is node.exe itself; the wineserver (which holds the
    // registry, and so the credentials already written) is a separate daemon and survives, as LSA would.
    process.kill(child.pid!, "SIGKILL");
    const code = await exited;
    assert.notEqual(code, 4, "the write was expected to be killed, not to complete");

    const verify = runWine(dir, "verify", ["crash-verify", crashKey]);
    await report(t2, verify);
  });
});
