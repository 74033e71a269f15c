/**
 * Prints the figures of docs/reliability.md: torn files and
 * leftover temp files after SIGKILLs, parse failures under concurrent
 * access, fuzz cases run and canaries found. Not a test: it asserts nothing
 * and exits 0; the tests in test/ hold the same goals.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/reliability.js
 *
 * Counts: AUTHKEEP_CRASH_KILLS (200), AUTHKEEP_CONCURRENT_PROCESSES (8),
 * AUTHKEEP_CONCURRENT_OPS (150), AUTHKEEP_FUZZ_RUNS (10000), AUTHKEEP_SEED.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { envCount, makeHome, removeHome } from "../test/support/hardening-env.ts";
import { runCrashTrial } from "../test/support/hardening-crash.ts";
import { runConcurrencyTrial } from "../test/support/hardening-concurrency.ts";

const seed = envCount("AUTHKEEP_SEED", Date.now() % 2 ** 31);
const kills = envCount("AUTHKEEP_CRASH_KILLS", 200);
const processes = envCount("AUTHKEEP_CONCURRENT_PROCESSES", 8);
const ops = envCount("AUTHKEEP_CONCURRENT_OPS", 150);
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";

function testOutput(name: string): string {
  const file = fileURLToPath(new URL(`../test/${name}.test${ext}`, import.meta.url));
  const run = spawnSync(process.execPath, ["--test", file], {
    encoding: "utf8",
    env: { ...process.env, AUTHKEEP_SEED: String(seed) },
    maxBuffer: 64 * 1024 * 1024,
  });
  return `${run.stdout}${run.stderr}`;
}

const rows: [string, string, string][] = [];

let home = makeHome();
try {
  const crash = await runCrashTrial(home, kills, seed);
  rows.push(["SIGKILLs during a save loop", String(crash.kills), `${crash.killsDuringSave} landed inside a save`]);
  rows.push(["torn auth.json after a kill (goal 0)", String(crash.tornFiles), "file parsed and held the old or the new value otherwise"]);
  rows.push(["temp files left right after a kill", String(crash.leftoverTempsAfterKills), "debris the next save must remove"]);
  rows.push(["temp files the next save did not remove (goal 0)", String(crash.tempsNotCleanedByNextSave + crash.tempsAfterFinalSave), ""]);
} finally {
  removeHome(home);
}

home = makeHome();
try {
  const concurrency = await runConcurrencyTrial(home, processes, ops, seed);
  rows.push([
    `concurrent processes × operations`,
    `${processes} × ${ops}`,
    `${concurrency.saves} saves, ${concurrency.loads} loads, ${concurrency.rawReads} raw single reads`,
  ]);
  rows.push(["parse failures (goal 0)", String(concurrency.parseFailures + concurrency.rawParseFailures), `API loads ${concurrency.parseFailures}, raw reads ${concurrency.rawParseFailures}`]);
  rows.push(["documents mixing two writers (goal 0)", String(concurrency.mixedVersions), ""]);
  rows.push(["other errors, temp files left (goal 0)", `${concurrency.otherErrors.length}, ${concurrency.leftoverTemps}`, ""]);
} finally {
  removeHome(home);
}

// The same through the real keyring (auto mode), where one answers.
let keyringWorks = false;
try {
  const { defaultKeyringStore } = await import("../src/index.ts");
  const probe = defaultKeyringStore();
  await probe.save("authkeep hardening probe", "probe", "probe");
  await probe.delete("authkeep hardening probe", "probe");
  keyringWorks = true;
} catch {
  rows.push(["concurrent access through the keyring", "skipped", "no working keyring here"]);
}
if (keyringWorks) {
  home = makeHome();
  try {
    const auto = await runConcurrencyTrial(home, processes, Math.max(1, Math.round(ops / 3)), seed, "auto");
    rows.push([
      "parse failures through the real keyring, auto mode (goal 0)",
      String(auto.parseFailures + auto.mixedVersions + auto.otherErrors.length),
      `${processes} × ${Math.max(1, Math.round(ops / 3))} operations: ${auto.saves} saves, ${auto.loads} loads`,
    ]);
  } finally {
    const { createAuthStorage } = await import("../src/index.ts");
    await createAuthStorage({ home, mode: "keyring" }).delete().catch(() => {});
    removeHome(home);
  }
}

// One line per fuzz-codec file ("# fuzz-codec (topic, seed N): N cases"): added up.
const fuzzLines = ["documents", "serialize", "jwt", "bytes", "extremes"].map((topic) =>
  /fuzz-codec \([^,]*, seed \d+\): (\d+) cases/.exec(testOutput(`fuzz-codec-${topic}`)),
);
const fuzz = fuzzLines.includes(null) ? undefined : String(fuzzLines.reduce((n, line) => n + Number(line![1]), 0));
rows.push(["fuzz cases (parseAuthJson, parseIdToken, serializeAuthJson, bytes on disk)", fuzz ?? "run failed", "round-trip identity, only AuthFormatError, no prototype pollution"]);
// One line per secret-leaks file ("# secret-leaks (area): N surfaces checked, N canaries found"): added up.
const leakLines = ["secret-leaks-storage", "secret-leaks-refresh", "secret-leaks-cli"].map((name) =>
  /secret-leaks \([^)]*\): (\d+) surfaces checked, (\d+) canaries found/.exec(testOutput(name)),
);
const leaks = leakLines.includes(null)
  ? undefined
  : { surfaces: leakLines.reduce((n, line) => n + Number(line![1]), 0), found: leakLines.reduce((n, line) => n + Number(line![2]), 0) };
rows.push(["canaries found (goal 0)", leaks ? String(leaks.found) : "run failed", leaks ? `in ${leaks.surfaces} surfaces: errors, stacks, causes, warnings, inspect/JSON, CLI output` : ""]);

process.stdout.write(`Reliability figures (seed ${seed}, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${process.platform})\n\n`);
process.stdout.write("| measure | figure | note |\n|---|---:|---|\n");
for (const [measure, figure, note] of rows) process.stdout.write(`| ${measure} | ${figure} | ${note} |\n`);
