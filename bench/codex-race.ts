/**
 * The refresh race with the real Codex CLI, many times (not a test): an
 * authkeep `AuthManager` and `codex doctor` on one home both find an expired
 * access token and both send the same refresh token to a token server on
 * 127.0.0.1 that rotates tokens and answers the loser `refresh_token_reused`
 * (test/support/codex-race.ts). Counts, per storage mode: runs, refresh
 * requests per run, reuse answers, errors authkeep surfaced, and runs where
 * the two sides did not end on the same live tokens. Goals: 0 and 0.
 *
 *   npx tsc -p tsconfig.json && bash scripts/with-keyring.sh node dist/bench/codex-race.js [--runs=30] [--modes=file,keyring]
 *
 * Needs `AUTHKEEP_CODEX_BIN` (`eval "$(bash scripts/codex-setup.sh)"`; scripts/bench.sh does it).
 * The start order alternates: together; authkeep's request first; Codex's request first.
 *
 * @module
 */
import process from "node:process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CodexRaceResult, type RaceOrder, runCodexRace } from "../test/support/codex-race.ts";
import { TokenServer } from "../test/support/token-server.ts";

function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

const quick = process.argv.includes("--quick") || process.env.BENCH_QUICK === "1";
const runs = Number(arg("runs", quick ? "2" : "30"));
const modes = arg("modes", process.env.DBUS_SESSION_BUS_ADDRESS ? "file,keyring" : "file").split(",") as Array<"file" | "keyring">;
const ORDERS: RaceOrder[] = ["together", "authkeep", "codex"];

if (!process.env.AUTHKEEP_CODEX_BIN) {
  const reason = 'AUTHKEEP_CODEX_BIN is not set: run `eval "$(bash scripts/codex-setup.sh)"` first';
  console.log(`codex race: skipped: ${reason}`);
  console.log(`BENCH_JSON ${JSON.stringify({ rows: [{ name: "codex race", unavailable: `unavailable: ${reason}` }] })}`);
  process.exit(0);
}

const lines = [
  `Refresh race, authkeep AuthManager against the real \`codex doctor\` (${process.env.AUTHKEEP_CODEX_VERSION ?? "version unknown"}), ${runs} runs per mode, start order alternating.`,
  "",
  "| mode | runs | refresh requests per run (min–max) | of them by authkeep (min–max) | reuse answers | errors surfaced by authkeep | runs ending on different or dead tokens | Codex auth check failed | Codex winning the refresh |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
];
const comparisons: object[] = [];
for (const store of modes) {
  const results: CodexRaceResult[] = [];
  let codexWon = 0;
  const failures: string[] = [];
  const harnessFailures: string[] = [];
  for (let i = 0; i < runs; i++) {
    const home = await mkdtemp(join(tmpdir(), "authkeep-bench-codex-race-"));
    const server = await TokenServer.start();
    try {
      const result = await runCodexRace({ home, store, server, first: ORDERS[i % ORDERS.length]! });
      results.push(result);
      process.stderr.write(result.ok ? "." : "x");
      if (result.winner === "codex") codexWon++;
      if (!result.ok) failures.push(`run ${i + 1}: ${result.detail}`);
    } catch (error) {
      // The harness itself failed (the keyring went away, Codex could not start): not a race result.
      harnessFailures.push(`run ${i + 1}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      await server.close();
      await rm(home, { recursive: true, force: true });
    }
  }
  const refreshes = results.map((r) => r.refreshes);
  const ours = results.map((r) => r.authkeepRefreshes);
  const errors = results.reduce((sum, r) => sum + r.authkeepErrors.length, 0);
  const differing = results.filter((r) => !r.managerMatchesStorage || !r.storedLive || r.codexRefreshesAfter !== 0).length;
  const codexFailed = results.filter((r) => !r.codexAuthOk).length;
  const reused = results.reduce((sum, r) => sum + r.reused, 0);
  lines.push(`| ${store} | ${results.length} | ${Math.min(...refreshes)}–${Math.max(...refreshes)} | ${Math.min(...ours)}–${Math.max(...ours)} | ${reused} | ${errors} | ${differing} | ${codexFailed} | ${codexWon} |`);
  for (const failure of failures) lines.push(`- ${store}, ${failure}`);
  for (const failure of harnessFailures) lines.push(`- ${store}, not counted, the harness failed: ${failure}`);
  comparisons.push(
    { name: `${store}: errors surfaced by authkeep in ${results.length} races`, subject: store, baseline: "", unit: "count", value: errors, goal: 0, met: errors === 0 },
    { name: `${store}: races ending on different or dead tokens`, subject: store, baseline: "", unit: "count", value: differing, goal: 0, met: differing === 0 },
  );
}
lines.push(
  "",
  "Codex winning = its refresh request was answered first; the other side then got `refresh_token_reused` and had to adopt the winner's stored tokens. Codex sometimes sends the spent token a second time before it adopts the stored tokens, hence up to 3 requests per run. \"Different or dead\" = the manager's tokens differ from the stored ones, the stored refresh token is spent, or a second `codex doctor` had to refresh again.",
);
console.log(lines.join("\n"));
console.log(`BENCH_JSON ${JSON.stringify({ comparisons })}`);
