/**
 * Cold-start rows: fresh processes, timed from outside (spawnSync wall time)
 * and inside (the child's own `performance.now()` around the import and the
 * first call). Cases run round-robin, so load from other work on the machine
 * spreads evenly over them.
 *
 * The import goal compares the child that imports authkeep with the same
 * child importing nothing: the runtime's own start cancels out.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { ANCHORS_DIRECTORY, loadKeytar } from "./_anchors.ts";
import type { BenchContext } from "./_context.ts";
import { summarize } from "./_harness.ts";
import { otherRuntimes } from "./_runtimes.ts";
import { compare, section, type Section } from "./_report.ts";

interface Case {
  id: string;
  label: string;
  argv: string[];
  /** The runtime binary (Node's own by default). */
  binary?: string;
  /** Extra environment (AUTHKEEP_FFI=koffi on Bun and Deno). */
  env?: Record<string, string>;
}

/** A build of another commit (a directory holding bundle/src/index.js), for before/after rows in one run. */
const BEFORE = process.env.AUTHKEEP_BENCH_BEFORE;

/** The label prefix of the Deno rows whose child starts Node compatibility before the timer. */
const COMPAT = "Node compatibility started first, ";

/** Runs the cold-start rows. */
export async function runColdStart(context: BenchContext): Promise<Section[]> {
  const runtimes = otherRuntimes(context.root).filter((runtime) => runtime.installed);
  const result = section("cold-start", "cold start (fresh processes)");
  const child = fileURLToPath(new URL("./_cold-child.js", import.meta.url));
  if (!existsSync(child)) {
    result.rows.push({ name: "cold start", unavailable: `unavailable: ${child} missing (build first)` });
    return [result];
  }
  const runs = context.config.quick ? 2 : 25;
  const cases: Case[] = [
    { id: "node-e-0", label: "node -e 0", argv: ["-e", "0"] },
    { id: "empty", label: "child, no import (baseline)", argv: [child, "empty", context.root] },
    { id: "empty-import", label: "child importing an empty module (baseline)", argv: [child, "empty-import", context.root] },
    { id: "authkeep-import", label: "import authkeep (no keyring touched)", argv: [child, "authkeep-import", context.root] },
    { id: "authkeep-unbundled", label: "import authkeep, tsc output unbundled (dist/src)", argv: [child, "authkeep-unbundled", context.root] },
    { id: "authkeep-call", label: "import authkeep + first keyring load", argv: [child, "authkeep-call", context.root] },
    { id: "authkeep-hit", label: "import authkeep + first load of a stored 4 KB entry", argv: [child, "authkeep-hit", context.root] },
    { id: "authkeep-save", label: "import authkeep + first save (4 KB, an update)", argv: [child, "authkeep-save", context.root] },
    // The floor of a first call on koffi: what any koffi-based backend pays before its first Secret Service call.
    { id: "floor-dlopen", label: "floor: load koffi + dlopen libgio", argv: [child, "floor-dlopen", context.root] },
    { id: "floor-connect", label: "floor: load koffi + dlopen libgio + connect (Hello)", argv: [child, "floor-connect", context.root] },
    { id: "napi-import", label: "import @napi-rs/keyring", argv: [child, "napi-import", context.root] },
    { id: "napi-call", label: "import @napi-rs/keyring + first getPassword", argv: [child, "napi-call", context.root] },
    { id: "napi-hit", label: "import @napi-rs/keyring + first getPassword of a stored 4 KB entry", argv: [child, "napi-hit", context.root] },
    { id: "napi-save", label: "import @napi-rs/keyring + first setPassword (4 KB, an update)", argv: [child, "napi-save", context.root] },
  ];
  if (BEFORE) {
    cases.push(
      { id: "before-hit", label: "before: import authkeep + first load of a stored 4 KB entry", argv: [child, "before-hit", context.root] },
      { id: "before-save", label: "before: import authkeep + first save (4 KB, an update)", argv: [child, "before-save", context.root] },
    );
  }
  for (const runtime of runtimes) {
    const id = runtime.name.toLowerCase();
    const on = (which: string) => [...runtime.runArgs, child, which, context.root];
    const binary = runtime.binary;
    const ffi = `${runtime.name} (${runtime.provider} FFI)`;
    cases.push(
      { id: `${id}-empty-import`, label: `${runtime.name}: child importing an empty module (baseline)`, argv: on("empty-import"), binary },
      { id: `${id}-authkeep-import`, label: `${runtime.name}: import authkeep (no keyring touched)`, argv: on("authkeep-import"), binary },
      { id: `${id}-authkeep-hit`, label: `${ffi}: import authkeep + first load of a stored 4 KB entry`, argv: on("authkeep-hit"), binary },
      { id: `${id}-koffi-hit`, label: `${runtime.name} (koffi): import authkeep + first load of a stored 4 KB entry`, argv: on("authkeep-hit"), binary, env: { AUTHKEEP_FFI: "koffi" } },
      { id: `${id}-authkeep-save`, label: `${ffi}: import authkeep + first save (4 KB, an update)`, argv: on("authkeep-save"), binary },
      { id: `${id}-koffi-save`, label: `${runtime.name} (koffi): import authkeep + first save (4 KB, an update)`, argv: on("authkeep-save"), binary, env: { AUTHKEEP_FFI: "koffi" } },
      { id: `${id}-floor-dlopen`, label: `${ffi}: floor: load the FFI + dlopen libgio`, argv: on("floor-dlopen"), binary },
      { id: `${id}-floor-connect`, label: `${ffi}: floor: load the FFI + dlopen libgio + connect (Hello)`, argv: on("floor-connect"), binary },
      { id: `${id}-koffi-floor-dlopen`, label: `${runtime.name} (koffi): floor: load the FFI + dlopen libgio`, argv: on("floor-dlopen"), binary, env: { AUTHKEEP_FFI: "koffi" } },
      { id: `${id}-koffi-floor-connect`, label: `${runtime.name} (koffi): floor: load the FFI + dlopen libgio + connect (Hello)`, argv: on("floor-connect"), binary, env: { AUTHKEEP_FFI: "koffi" } },
      { id: `${id}-napi-hit`, label: `${runtime.name}: import @napi-rs/keyring + first getPassword of a stored 4 KB entry`, argv: on("napi-hit"), binary },
      { id: `${id}-napi-save`, label: `${runtime.name}: import @napi-rs/keyring + first setPassword (4 KB, an update)`, argv: on("napi-save"), binary },
    );
    // Deno's Node compatibility layer (about 9 ms) starts on the first touch of `process` or a
    // node:* module. The rows above leave it to whichever library needs it (napi does: require);
    // these two start it before the timer, as in a program that already uses Node APIs.
    if (runtime.name === "Deno") {
      const compat = { AUTHKEEP_COLD_NODE_COMPAT: "1" };
      cases.push(
        { id: `${id}-compat-authkeep-hit`, label: `${COMPAT}${ffi}: import authkeep + first load of a stored 4 KB entry`, argv: on("authkeep-hit"), binary, env: compat },
        { id: `${id}-compat-napi-hit`, label: `${COMPAT}${runtime.name}: import @napi-rs/keyring + first getPassword of a stored 4 KB entry`, argv: on("napi-hit"), binary, env: compat },
      );
    }
  }
  // AUTHKEEP_BENCH_COLD_ONLY=hit,save keeps only the cases whose id ends so (a quicker partial run),
  // and the floors, which the first-call rows are read against.
  const only = process.env.AUTHKEEP_BENCH_COLD_ONLY;
  if (only) {
    const parts = only.split(",");
    for (let i = cases.length - 1; i >= 0; i--) {
      if (!cases[i]!.id.includes("floor-") && !parts.some((part) => cases[i]!.id.endsWith(`-${part}`))) cases.splice(i, 1);
    }
  }
  const keytar = loadKeytar(context);
  if (keytar.ok) {
    cases.push(
      { id: "keytar-import", label: "import keytar", argv: [child, "keytar-import", context.root, ANCHORS_DIRECTORY] },
      { id: "keytar-call", label: "import keytar + first getPassword", argv: [child, "keytar-call", context.root, ANCHORS_DIRECTORY] },
    );
  }
  const wall = new Map<string, number[]>(cases.map((entry) => [entry.id, []]));
  const inside = new Map<string, { importMs: number[]; callMs: number[]; totalMs: number[]; cpuMs: number[] }>(
    cases.map((entry) => [entry.id, { importMs: [], callMs: [], totalMs: [], cpuMs: [] }]),
  );
  // Untimed: the stored entry the first loads read and the entries the first saves update.
  const prepared = spawnSync(process.execPath, [child, "prepare", context.root], { encoding: "utf8", cwd: context.root, timeout: 30_000 });
  if (prepared.status !== 0) result.notes.push(`preparing the stored entries failed: ${prepared.stdout.trim() || prepared.stderr.trim()}`);
  const failures = new Map<string, string>();
  // One untimed run of each case first (the page cache, the keyring's first session); quick mode skips it.
  for (let run = context.config.quick ? 0 : -1; run < runs; run++) {
    for (const entry of run % 2 === 0 ? cases : [...cases].reverse()) {
      if (failures.has(entry.id)) continue;
      const started = performance.now();
      // Child cases get the anchors directory and the round (the first saves store a value that differs per round).
      const argv = !entry.argv.includes(child) ? entry.argv : [...entry.argv, ...(entry.argv.at(-1) === context.root ? [ANCHORS_DIRECTORY] : []), String(run)];
      const env = entry.env ? { ...process.env, ...entry.env } : process.env;
      const spawned = spawnSync(entry.binary ?? process.execPath, argv, { encoding: "utf8", cwd: context.root, timeout: 30_000, env });
      const elapsed = performance.now() - started;
      if (spawned.status !== 0 || spawned.error) {
        failures.set(entry.id, (spawned.error?.message ?? spawned.stdout.trim()) || spawned.stderr.trim().split("\n")[0] || `exit ${spawned.status}`);
        continue;
      }
      if (run < 0) continue;
      wall.get(entry.id)?.push(elapsed);
      if (entry.argv.includes(child)) {
        const parsed = JSON.parse(spawned.stdout.trim().split("\n").pop() ?? "{}") as { importMs?: number; callMs?: number; cpuMs?: number; error?: string };
        if (parsed.error) failures.set(entry.id, parsed.error);
        if (parsed.cpuMs !== undefined) inside.get(entry.id)?.cpuMs.push(parsed.cpuMs);
        if (parsed.importMs !== undefined) inside.get(entry.id)?.importMs.push(parsed.importMs);
        if (parsed.callMs !== undefined) inside.get(entry.id)?.callMs.push(parsed.callMs);
        if (parsed.importMs !== undefined && parsed.callMs !== undefined) inside.get(entry.id)?.totalMs.push(parsed.importMs + parsed.callMs);
      }
    }
  }
  for (const entry of cases) {
    const failure = failures.get(entry.id);
    const samples = wall.get(entry.id) ?? [];
    if (failure !== undefined) result.rows.push({ name: `wall: ${entry.label}`, unavailable: `unavailable: ${failure}` });
    else if (samples.length > 0) result.rows.push({ name: `wall: ${entry.label}`, measured: summarize(samples) });
  }
  for (const entry of cases) {
    const timings = inside.get(entry.id);
    if (failures.has(entry.id) || !timings) continue;
    if (timings.importMs.length > 0) result.rows.push({ name: `in-process: ${entry.label}: import`, measured: summarize(timings.importMs) });
    if (timings.callMs.length > 0) result.rows.push({ name: `in-process: ${entry.label}: first call`, measured: summarize(timings.callMs) });
    if (timings.totalMs.length > 0) result.rows.push({ name: `in-process: ${entry.label}: import + first call`, measured: summarize(timings.totalMs) });
  }
  for (const entry of cases) {
    const timings = inside.get(entry.id);
    if (failures.has(entry.id) || !timings || timings.cpuMs.length === 0) continue;
    result.rows.push({ name: `process CPU time: ${entry.label}`, measured: summarize(timings.cpuMs) });
  }
  if (!keytar.ok) result.rows.push({ name: "wall: import keytar", unavailable: `unavailable: ${keytar.reason}` });

  // The goal: what importing authkeep adds to a program, measured inside the process and net of the
  // runtime's own cost of a first dynamic import (an empty module). Wall time of whole processes
  // follows as a cross-check; it carries the noise of process start and exit.
  compare(result, "import authkeep − import of an empty module (in-process)", "in-process: import authkeep (no keyring touched): import", "in-process: child importing an empty module (baseline): import", { unit: "ms", goal: 5 });
  compare(result, "unbundled tsc output − empty module (in-process)", "in-process: import authkeep, tsc output unbundled (dist/src): import", "in-process: child importing an empty module (baseline): import", { unit: "ms" });
  for (const runtime of runtimes) {
    compare(result, `${runtime.name}: import authkeep − import of an empty module (in-process)`, `in-process: ${runtime.name}: import authkeep (no keyring touched): import`, `in-process: ${runtime.name}: child importing an empty module (baseline): import`, { unit: "ms", goal: 5 });
  }
  compare(result, "import authkeep − child without import (wall)", "wall: import authkeep (no keyring touched)", "wall: child, no import (baseline)", { unit: "ms" });
  compare(result, "import authkeep − child without import (process CPU time, user + system)", "process CPU time: import authkeep (no keyring touched)", "process CPU time: child, no import (baseline)", { unit: "ms" });
  compare(result, "import @napi-rs/keyring − child without import (process CPU time)", "process CPU time: import @napi-rs/keyring", "process CPU time: child, no import (baseline)", { unit: "ms" });
  compare(result, "child without import − node -e 0 (loading the child script)", "wall: child, no import (baseline)", "wall: node -e 0", { unit: "ms" });
  compare(result, "import + first load − child without import (wall)", "wall: import authkeep + first keyring load", "wall: child, no import (baseline)", { unit: "ms" });
  compare(result, "import @napi-rs/keyring + first get − child without import (wall)", "wall: import @napi-rs/keyring + first getPassword", "wall: child, no import (baseline)", { unit: "ms" });
  compare(result, "authkeep import + first load (missing entry) / @napi-rs/keyring import + first get (wall)", "wall: import authkeep + first keyring load", "wall: import @napi-rs/keyring + first getPassword");
  compare(result, "in-process import: authkeep / @napi-rs/keyring", "in-process: import authkeep (no keyring touched): import", "in-process: import @napi-rs/keyring: import");
  compare(result, "in-process first call: authkeep / @napi-rs/keyring", "in-process: import authkeep + first keyring load: first call", "in-process: import @napi-rs/keyring + first getPassword: first call");
  // The first credential (issue 20): a stored 4 KB entry read, or updated, by a fresh process.
  const firstRows = (label: string) => [`in-process: ${label}: import + first call`, `wall: ${label}`] as const;
  const pairs: [string, string, string, number, number | undefined][] = [
    ["import + first load of a stored 4 KB entry", "import authkeep + first load of a stored 4 KB entry", "import @napi-rs/keyring + first getPassword of a stored 4 KB entry", 0.75, 0.9],
    ["import + first save (4 KB update)", "import authkeep + first save (4 KB, an update)", "import @napi-rs/keyring + first setPassword (4 KB, an update)", 0.75, undefined],
  ];
  // The measured floor: how much of napi's whole first call the unavoidable part of a koffi backend
  // (koffi, libgio, the bus connection) already costs, and what authkeep adds above it.
  const floorIn = (prefix: string, which: string) => `in-process: ${prefix}floor: ${which}: import + first call`;
  const floorRows = (prefix: string, napiPrefix: string, ffi: string) => {
    for (const which of ["load koffi + dlopen libgio", "load koffi + dlopen libgio + connect (Hello)"]) {
      const label = prefix === "" ? which : which.replace("koffi", "the FFI");
      compare(result, `${ffi}floor (${label}) / @napi-rs/keyring import + first get of a stored entry, in-process`, floorIn(prefix, label), `in-process: ${napiPrefix}import @napi-rs/keyring + first getPassword of a stored 4 KB entry: import + first call`);
    }
    const connect = floorIn(prefix, prefix === "" ? "load koffi + dlopen libgio + connect (Hello)" : "load the FFI + dlopen libgio + connect (Hello)");
    compare(result, `${ffi}import + first load − the floor with connect (what authkeep adds, in-process)`, `in-process: ${prefix}import authkeep + first load of a stored 4 KB entry: import + first call`, connect, { unit: "ms" });
    compare(result, `${ffi}import + first save − the floor with connect (what authkeep adds, in-process)`, `in-process: ${prefix}import authkeep + first save (4 KB, an update): import + first call`, connect, { unit: "ms" });
  };
  floorRows("", "", "");
  for (const runtime of runtimes) {
    for (const ffi of [`${runtime.name} (${runtime.provider} FFI)`, `${runtime.name} (koffi)`]) floorRows(`${ffi}: `, `${runtime.name}: `, `${ffi}: `);
  }
  for (const [name, ours, theirs, inProcessGoal, wallGoal] of pairs) {
    const [oursIn, oursWall] = firstRows(ours);
    const [theirsIn, theirsWall] = firstRows(theirs);
    compare(result, `${name}, in-process: authkeep / @napi-rs/keyring`, oursIn, theirsIn, { goal: inProcessGoal, note: inProcessGoal === 0.75 && name.includes("load") ? "stretch 0.5" : undefined });
    compare(result, `${name}, whole process: authkeep / @napi-rs/keyring`, oursWall, theirsWall, wallGoal === undefined ? {} : { goal: wallGoal });
    if (BEFORE) {
      const [beforeIn, beforeWall] = firstRows(`before: ${ours}`);
      compare(result, `before: ${name}, in-process: authkeep / @napi-rs/keyring`, beforeIn, theirsIn);
      compare(result, `before: ${name}, whole process: authkeep / @napi-rs/keyring`, beforeWall, theirsWall);
    }
    for (const runtime of runtimes) {
      const [napiIn, napiWall] = firstRows(`${runtime.name}: ${theirs}`);
      for (const ffi of [`${runtime.name} (${runtime.provider} FFI)`, `${runtime.name} (koffi)`]) {
        const [subjectIn, subjectWall] = firstRows(`${ffi}: ${ours}`);
        compare(result, `${ffi}: ${name}, in-process: authkeep / @napi-rs/keyring`, subjectIn, napiIn, { goal: inProcessGoal });
        compare(result, `${ffi}: ${name}, whole process: authkeep / @napi-rs/keyring`, subjectWall, napiWall, wallGoal === undefined ? {} : { goal: wallGoal });
      }
      if (runtime.name === "Deno" && name.includes("load")) {
        const ffi = `${runtime.name} (${runtime.provider} FFI)`;
        compare(result, `${COMPAT}${ffi}: ${name}, in-process: authkeep / @napi-rs/keyring`, firstRows(`${COMPAT}${ffi}: ${ours}`)[0], firstRows(`${COMPAT}${runtime.name}: ${theirs}`)[0], { goal: inProcessGoal });
      }
    }
  }
  spawnSync(process.execPath, [child, "cleanup", context.root], { encoding: "utf8", cwd: context.root, timeout: 30_000 });
  if (keytar.ok) {
    compare(result, "in-process first call: authkeep / keytar", "in-process: import authkeep + first keyring load: first call", "in-process: import keytar + first getPassword: first call");
  }
  result.notes.push(`${runs} timed runs per case${context.config.quick ? "" : " after one untimed run"}; the first call looks up a missing item (connect + open session + search)`);
  return [result];
}
