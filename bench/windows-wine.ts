/**
 * Windows under Wine: runs bench/windows-wine-child.ts with the official
 * Windows node.exe under Wine and returns its sections (authkeep's Credential
 * Manager store against @napi-rs/keyring's Windows build).
 *
 * Wine comes from scripts/wine-setup.sh, which scripts/bench.sh runs when this
 * part is selected and whose `AUTHKEEP_WINE_NODE` and `WINEPREFIX` it exports;
 * when that failed, `BENCH_WINE_SKIP` carries its reason. Every failure
 * becomes an `unavailable: <reason>` row, never a crash of the suite.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { BenchContext } from "./_context.ts";
import { section, type Section } from "./_report.ts";
import type { WineChildResults } from "./windows-wine-child.ts";
import { measureWineColdStart } from "./windows-wine-cold.ts";

const TITLE = "Windows Credential Manager under Wine";
const ROW = "load / save / delete vs @napi-rs/keyring (win32-x64) under Wine";

/** The Windows spelling of a Linux path for node.exe (Wine maps / to drive Z:). */
export function toWinePath(path: string): string {
  return `Z:${path.replaceAll("/", "\\")}`;
}

/**
 * Measures the Windows store under Wine.
 *
 * @param context The runner's settings (quick mode, repository root).
 * @returns The child's load, save and delete sections, or one section with an `unavailable` row.
 */
export async function measureWindowsUnderWine(context: BenchContext): Promise<Section[]> {
  const wineNode = process.env.AUTHKEEP_WINE_NODE;
  const script = fileURLToPath(new URL("./windows-wine-child.js", import.meta.url));
  if (!wineNode) {
    const why = process.env.BENCH_WINE_SKIP ?? "Wine is not set up (AUTHKEEP_WINE_NODE is unset); run through `npm run bench`, whose scripts/bench.sh runs scripts/wine-setup.sh";
    return [unavailable(why)];
  }
  if (!existsSync(wineNode)) return [unavailable(`AUTHKEEP_WINE_NODE=${wineNode} does not exist; run scripts/wine-setup.sh`)];
  if (!existsSync(script)) return [unavailable(`${script} is missing: build with npx tsc -p tsconfig.json`)];

  const directory = mkdtempSync(join(os.tmpdir(), "authkeep-bench-wine-"));
  try {
    const resultsPath = join(directory, "results.json");
    const logPath = join(directory, "node.log");
    // node.exe under Wine dies with "open EBADF" when its stdio is a Unix pipe: give it a file.
    const log = openSync(logPath, "w");
    const started = performance.now();
    let child: ReturnType<typeof spawnSync>;
    try {
      child = spawnSync("wine", [wineNode, toWinePath(script), toWinePath(resultsPath), ...(context.config.quick ? ["--quick"] : [])], {
        cwd: context.root,
        env: {
          ...process.env,
          WINEDEBUG: process.env.WINEDEBUG ?? "-all",
          WINEDLLOVERRIDES: process.env.WINEDLLOVERRIDES ?? "mscoree,mshtml=",
          DISPLAY: "",
          ...(context.config.quick ? { BENCH_QUICK: "1" } : {}),
        },
        stdio: ["ignore", log, log],
        timeout: context.config.quick ? 180_000 : 1_200_000,
      });
    } finally {
      closeSync(log);
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (!existsSync(resultsPath)) {
      const tail = readFileSync(logPath, "utf8").trim().split("\n").slice(-3).join(" ");
      const why = child.error?.message ?? `exit ${child.status ?? child.signal}${tail ? `: ${tail}` : ""}`;
      return [unavailable(`node.exe under Wine failed: ${why}`)];
    }
    const results = JSON.parse(readFileSync(resultsPath, "utf8")) as WineChildResults;
    const status = child.status === 0 ? "ok" : `exit ${child.status ?? child.signal}`;
    results.sections[0]?.notes.push(`ran ${results.runtime} under ${wineVersion()} (prefix ${process.env.WINEPREFIX ?? "default"}): ${status} in ${seconds} s, Wine start included`);
    // The first credential in fresh node.exe processes (issue 20's cold rows, on Windows).
    return [...results.sections, measureWineColdStart(context, wineNode, toWinePath)];
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function unavailable(reason: string): Section {
  const result = section("wine", TITLE);
  result.rows.push({ name: ROW, unavailable: `unavailable: ${reason}` });
  return result;
}

function wineVersion(): string {
  const version = spawnSync("wine", ["--version"], { encoding: "utf8", timeout: 10_000 });
  return version.status === 0 ? version.stdout.trim() : "wine (version unknown)";
}
