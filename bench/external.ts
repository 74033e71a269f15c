/**
 * Benchmarks owned by other work, run as child processes so that their
 * failures and their globals stay out of this process:
 * - `bench/refresh-storm.ts` (AuthManager: 8 processes, lock on/off);
 * - `bench/reliability.ts`;
 * and the Bun and Deno keyring rows (Windows under Wine: bench/windows-wine.ts).
 *
 * Protocol for a child: it is run as `node dist/bench/<name>.js [--quick]`
 * with BENCH_QUICK=1 in quick mode. If it prints a line
 * `BENCH_JSON <json>` where <json> is an array of sections (see _report.ts),
 * or an object `{ "rows": [...], "comparisons": [...] }`, those figures are
 * merged into the report; everything else it prints is kept verbatim.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { BenchContext } from "./_context.ts";
import type { Measured } from "./_harness.ts";
import { type Comparison, type Row, section, type Section } from "./_report.ts";
import { otherRuntimes } from "./_runtimes.ts";

/** How to run one external benchmark. */
export interface ExternalOptions {
  /** Extra arguments in quick and in full mode. */
  quickArgs?: string[];
  fullArgs?: string[];
  timeoutMs: number;
  /** Extra environment in quick and in full mode. */
  quickEnv?: Record<string, string>;
  fullEnv?: Record<string, string>;
  /** Why quick mode does not run it at all (too slow to prove anything in a few iterations). */
  skipInQuick?: string;
  /** Whether its output is Markdown to include as is. */
  markdown?: boolean;
  /** Turns the child's text output into rows and comparisons (when it prints no BENCH_JSON). */
  parse?: (stdout: string, target: Section) => void;
}

/** Runs `dist/bench/<name>.js` if it exists and turns its output into sections. */
export function runExternal(context: BenchContext, name: string, title: string, options: ExternalOptions): Section[] {
  const timeoutMs = options.timeoutMs;
  const result = section(name, title);
  const script = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  if (!existsSync(script)) {
    result.rows.push({ name, unavailable: `not measured yet: bench/${name}.ts has not landed` });
    return [result];
  }
  if (context.config.quick && options.skipInQuick) {
    result.rows.push({ name, unavailable: `skipped in quick mode: ${options.skipInQuick}` });
    return [result];
  }
  const started = performance.now();
  const args = context.config.quick ? ["--quick", ...(options.quickArgs ?? [])] : (options.fullArgs ?? []);
  const child = spawnSync(process.execPath, [script, ...args], {
    cwd: context.root,
    encoding: "utf8",
    timeout: timeoutMs,
    env: { ...process.env, ...(context.config.quick ? { BENCH_QUICK: "1", ...options.quickEnv } : options.fullEnv) },
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const lines = (child.stdout ?? "").split("\n");
  const kept: string[] = [];
  const merged: Section[] = [];
  for (const line of lines) {
    if (!line.startsWith("BENCH_JSON ")) {
      kept.push(line);
      continue;
    }
    try {
      const parsed = JSON.parse(line.slice("BENCH_JSON ".length)) as Section[] | { rows?: Row[]; comparisons?: Comparison[]; notes?: string[] };
      if (Array.isArray(parsed)) merged.push(...parsed.map(normalizeSection));
      else {
        result.rows.push(...(parsed.rows ?? []));
        result.comparisons.push(...(parsed.comparisons ?? []));
        result.notes.push(...(parsed.notes ?? []));
      }
    } catch {
      kept.push(line);
    }
  }
  const status = child.error ? `failed: ${child.error.message}` : child.status === 0 ? "ok" : `exit ${child.status ?? child.signal}`;
  result.notes.push(`ran node dist/bench/${name}.js${args.length > 0 ? ` ${args.join(" ")}` : ""}: ${status} in ${seconds} s`);
  if (merged.length === 0 && options.parse) {
    try {
      options.parse(child.stdout ?? "", result);
    } catch (error) {
      result.notes.push(`could not read its figures: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (child.status !== 0 && child.stderr) kept.push("--- stderr (tail) ---", ...child.stderr.trimEnd().split("\n").slice(-15));
  result.raw = kept.join("\n");
  if (options.markdown) result.rawIsMarkdown = true;
  if (merged.length > 0 && result.rows.length === 0 && result.comparisons.length === 0) {
    // The child's sections are the figures; keep ours for the status line and raw output.
    return [...merged, result];
  }
  return [result, ...merged];
}

function normalizeSection(value: Section): Section {
  return {
    id: value.id ?? "external",
    title: value.title ?? value.id ?? "external",
    rows: value.rows ?? [],
    comparisons: value.comparisons ?? [],
    notes: value.notes ?? [],
    ...(value.raw !== undefined ? { raw: value.raw } : {}),
  };
}

/**
 * The keyring load and save rows on Bun and Deno, each with its own FFI
 * provider (bun:ffi, Deno.dlopen) and again with koffi: bench/runtime-keyring.ts
 * from the sources, in a child of that runtime, against the same keyring.
 * The runtimes come from $BUN / $DENO or scripts/runtimes.sh's cache.
 */
export async function measureOtherRuntimes(context: BenchContext): Promise<Section[]> {
  const result = section("runtimes", "Bun and Deno: keyring load and save (4 KB value)");
  const script = join(context.root, "bench", "runtime-keyring.ts");
  for (const other of otherRuntimes(context.root)) {
    const extra = other.provider === "deno" ? ["--node-modules-dir=manual"] : [];
    const runtime = { ...other, args: [...other.runArgs, ...extra, script], providers: [other.provider, "koffi"] };
    if (!runtime.installed) {
      result.rows.push({ name: `${runtime.name}: keyring load / save`, unavailable: "not installed: run `bash scripts/runtimes.sh` (or set BUN / DENO)" });
      continue;
    }
    if (!context.keyringUp) {
      result.rows.push({ name: `${runtime.name}: keyring load / save`, unavailable: "no keyring in this run" });
      continue;
    }
    for (const provider of runtime.providers) {
      const child = spawnSync(runtime.binary, [...runtime.args, ...(context.config.quick ? ["--quick"] : [])], {
        cwd: context.root,
        encoding: "utf8",
        timeout: 300_000,
        env: { ...process.env, AUTHKEEP_FFI: provider, ...(context.config.quick ? { BENCH_QUICK: "1" } : {}) },
      });
      const line = (child.stdout ?? "").split("\n").find((text) => text.startsWith("BENCH_JSON "));
      if (line === undefined) {
        const why = child.error?.message ?? `exit ${child.status ?? child.signal}: ${(child.stderr ?? "").trim().split("\n").slice(-1)[0] ?? ""}`;
        result.rows.push({ name: `${runtime.name} (${provider}): keyring load / save`, unavailable: `failed: ${why}` });
        continue;
      }
      result.rows.push(...((JSON.parse(line.slice("BENCH_JSON ".length)) as { rows: Row[] }).rows));
    }
  }
  result.notes.push("bun:ffi cannot call off the main thread, so Bun's async rows with its own provider run on the main thread (bounded per D-Bus round trip)");
  return [result];
}

/**
 * Reads refresh-storm.ts's text table: "<case>  <refresh requests>  <reuse
 * errors>  <failed processes>  <wall ms>  <wall / round trip>×". The goal
 * (issue 8): with the lock, a storm of N processes makes exactly 1 refresh
 * and takes ≤ 2× one refresh round trip.
 */
export function parseRefreshStorm(stdout: string, target: Section): void {
  const roundTrip = /one refresh round trip:\s*([\d.]+)\s*ms/.exec(stdout);
  if (roundTrip) target.rows.push({ name: "one refresh round trip", measured: single(Number(roundTrip[1])) });
  const line = /^(.+?)\s{2,}(\d+(?:\.\d+)?)\s{2,}(\d+(?:\.\d+)?)\s{2,}(\d+(?:\.\d+)?)\s{2,}(\d+(?:\.\d+)?)\s{2,}([\d.]+)×\s*$/;
  for (const text of stdout.split("\n")) {
    const match = line.exec(text);
    if (!match) continue;
    const [, label, refreshes, reuse, failed, wall, ratio] = match as unknown as [string, string, string, string, string, string, string];
    target.rows.push({ name: `${label}: wall`, measured: single(Number(wall)), note: `${refreshes} refresh requests, ${reuse} reuse errors, ${failed} failed processes` });
    if (/lock on/.test(label) && !/^1 process/.test(label)) {
      const count: Comparison = { name: `${label}: refresh requests`, subject: label, baseline: "exactly 1", unit: "count", value: Number(refreshes), goal: 1 };
      count.met = Number(refreshes) === 1;
      target.comparisons.push(count);
      const wallRatio: Comparison = { name: `${label}: wall / one refresh round trip`, subject: label, baseline: "one refresh round trip", unit: "×", value: Number(ratio), goal: 2 };
      wallRatio.met = Number(ratio) <= 2;
      target.comparisons.push(wallRatio);
    } else {
      target.comparisons.push({ name: `${label}: refresh requests (reuse errors)`, subject: label, baseline: "", unit: "count", value: Number(refreshes), note: `${reuse} reuse errors` });
    }
  }
}

/** A row from one figure someone else measured (a median of its own runs). */
function single(ms: number): Measured {
  return { medianMs: ms, p99Ms: Number.NaN, meanMs: ms, minMs: ms, opsPerSec: ms > 0 ? 1000 / ms : 0, samples: 1 };
}

/**
 * Reads reliability.ts's Markdown table: every "(goal 0)" measure becomes a
 * goal row (a figure like "0, 0" counts as its sum).
 */
export function parseReliability(stdout: string, target: Section): void {
  for (const text of stdout.split("\n")) {
    const cells = text.split("|").map((cell) => cell.trim());
    // "| measure | figure | note |" splits into ["", measure, figure, note, ""].
    if (cells.length < 4) continue;
    const measure = cells[1] ?? "";
    const figure = cells[2] ?? "";
    if (!/\(goal 0\)/.test(measure)) continue;
    const numeric = /^\d+(?:\s*,\s*\d+)*$/.test(figure);
    const value = numeric ? figure.split(",").reduce((sum, part) => sum + Number(part.trim()), 0) : null;
    const comparison: Comparison = { name: measure.replace(/\s*\(goal 0\)/, ""), subject: measure, baseline: "", unit: "count", value, goal: 0 };
    comparison.met = value === null ? null : value === 0;
    if (!numeric) comparison.note = figure;
    target.comparisons.push(comparison);
  }
}
