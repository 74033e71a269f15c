/**
 * Windows under Wine, fresh processes: the first load and the first save of a
 * stored 0.2 KB entry (4 KB does not fit @napi-rs/keyring's one credential
 * there) in fresh `node.exe` processes, authkeep against @napi-rs/keyring's
 * Windows build, interleaved round-robin (the order reversed every other
 * round) after one untimed round; medians. The same child as the Linux
 * cold-start rows (bench/_cold-child.ts), which writes its result line to
 * $AUTHKEEP_COLD_OUT because node.exe under Wine dies on a Unix pipe.
 *
 * Wall times include Wine's own process start (wineserver stays up between
 * the children), so the in-process rows carry the comparison.
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
import { summarize } from "./_harness.ts";
import { compare, section, type Section } from "./_report.ts";

interface ColdCase {
  id: string;
  label: string;
}

const CASES: readonly ColdCase[] = [
  { id: "empty", label: "node.exe child, no import (baseline)" },
  { id: "floor-dlopen", label: "floor: load koffi + advapi32.dll, declare CredReadW" },
  { id: "authkeep-hit", label: "import authkeep + first load of a stored 0.2 KB entry" },
  { id: "napi-hit", label: "import @napi-rs/keyring + first getPassword of a stored 0.2 KB entry" },
  { id: "authkeep-save", label: "import authkeep + first save (0.2 KB, an update)" },
  { id: "napi-save", label: "import @napi-rs/keyring + first setPassword (0.2 KB, an update)" },
];

/**
 * Runs the fresh-process rows under Wine.
 *
 * @param context The runner's settings.
 * @param wineNode The Windows node.exe (from scripts/wine-setup.sh).
 * @param toWinePath The Windows spelling of a Linux path.
 * @returns One section; rows say `unavailable: <reason>` when a case cannot run.
 */
export function measureWineColdStart(context: BenchContext, wineNode: string, toWinePath: (path: string) => string): Section {
  const result = section("wine-cold-start", "Windows Credential Manager under Wine: first credential in a fresh node.exe");
  const child = fileURLToPath(new URL("./_cold-child.js", import.meta.url));
  if (!existsSync(child)) {
    result.rows.push({ name: "fresh node.exe processes", unavailable: `unavailable: ${child} missing (build first)` });
    return result;
  }
  const directory = mkdtempSync(join(os.tmpdir(), "authkeep-bench-wine-cold-"));
  const out = join(directory, "result.json");
  const logPath = join(directory, "node.log");
  const root = toWinePath(context.root);
  const env = {
    ...process.env,
    WINEDEBUG: process.env.WINEDEBUG ?? "-all",
    WINEDLLOVERRIDES: process.env.WINEDLLOVERRIDES ?? "mscoree,mshtml=",
    DISPLAY: "",
    AUTHKEEP_COLD_OUT: toWinePath(out),
  };
  /** One fresh node.exe: its wall time and the child's result line. */
  const spawn = (which: string, round: number): { wallMs: number; parsed: { importMs?: number; callMs?: number; cpuMs?: number; error?: string } } => {
    rmSync(out, { force: true });
    const log = openSync(logPath, "w");
    const started = performance.now();
    let spawned: ReturnType<typeof spawnSync>;
    try {
      spawned = spawnSync("wine", [wineNode, toWinePath(child), which, root, ".cache/bench-anchors", String(round)], {
        cwd: context.root, env, stdio: ["ignore", log, log], timeout: 60_000,
      });
    } finally {
      closeSync(log);
    }
    const wallMs = performance.now() - started;
    if (!existsSync(out)) {
      const tail = readFileSync(logPath, "utf8").trim().split("\n").slice(-2).join(" ");
      return { wallMs, parsed: { error: spawned.error?.message ?? `exit ${spawned.status ?? spawned.signal}${tail ? `: ${tail}` : ""}` } };
    }
    return { wallMs, parsed: JSON.parse(readFileSync(out, "utf8").trim() || "{}") };
  };
  try {
    const prepared = spawn("prepare", 0);
    if (prepared.parsed.error) {
      result.rows.push({ name: "fresh node.exe processes", unavailable: `unavailable: preparing the stored entries failed: ${prepared.parsed.error}` });
      return result;
    }
    const runs = context.config.quick ? 2 : 15;
    const wall = new Map<string, number[]>(CASES.map((entry) => [entry.id, []]));
    const inside = new Map<string, number[]>(CASES.map((entry) => [entry.id, []]));
    const failures = new Map<string, string>();
    for (let run = context.config.quick ? 0 : -1; run < runs; run++) {
      for (const entry of run % 2 === 0 ? CASES : [...CASES].reverse()) {
        if (failures.has(entry.id)) continue;
        const { wallMs, parsed } = spawn(entry.id, run);
        if (parsed.error) {
          failures.set(entry.id, parsed.error);
          continue;
        }
        if (run < 0) continue;
        wall.get(entry.id)?.push(wallMs);
        if (parsed.importMs !== undefined && parsed.callMs !== undefined) inside.get(entry.id)?.push(parsed.importMs + parsed.callMs);
      }
    }
    for (const entry of CASES) {
      const failure = failures.get(entry.id);
      if (failure !== undefined) result.rows.push({ name: `wall: ${entry.label}`, unavailable: `unavailable: ${failure}` });
      else result.rows.push({ name: `wall: ${entry.label}`, measured: summarize(wall.get(entry.id) ?? []) });
    }
    for (const entry of CASES) {
      const samples = inside.get(entry.id) ?? [];
      if (!failures.has(entry.id) && samples.length > 0) result.rows.push({ name: `in-process: ${entry.label}: import + first call`, measured: summarize(samples) });
    }
    const [, floor, ourLoad, napiLoad, ourSave, napiSave] = CASES.map((entry) => entry.label) as [string, string, string, string, string, string];
    compare(result, "Wine: floor (koffi + advapi32.dll) / @napi-rs/keyring import + first get, in-process", `in-process: ${floor}: import + first call`, `in-process: ${napiLoad}: import + first call`);
    compare(result, "Wine: import + first load − the floor (what authkeep adds, in-process)", `in-process: ${ourLoad}: import + first call`, `in-process: ${floor}: import + first call`, { unit: "ms" });
    compare(result, "Wine: import + first load (0.2 KB), in-process: authkeep / @napi-rs/keyring", `in-process: ${ourLoad}: import + first call`, `in-process: ${napiLoad}: import + first call`, { goal: 0.75, note: "stretch 0.5" });
    compare(result, "Wine: import + first load (0.2 KB), whole process: authkeep / @napi-rs/keyring", `wall: ${ourLoad}`, `wall: ${napiLoad}`, { goal: 0.9 });
    compare(result, "Wine: import + first save (0.2 KB update), in-process: authkeep / @napi-rs/keyring", `in-process: ${ourSave}: import + first call`, `in-process: ${napiSave}: import + first call`, { goal: 0.75 });
    compare(result, "Wine: import + first save (0.2 KB update), whole process: authkeep / @napi-rs/keyring", `wall: ${ourSave}`, `wall: ${napiSave}`);
    result.notes.push(`${runs} fresh node.exe processes per case, round-robin${context.config.quick ? "" : " after one untimed round"}; wall times include Wine's process start`);
    spawn("cleanup", 0);
    return result;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
