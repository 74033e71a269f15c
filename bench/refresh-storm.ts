/**
 * Refresh-storm benchmark (not a test): N real processes share one home, all
 * holding the same stale access token, and send a request at the same moment.
 * Runs with authkeep's cross-process lock on and off (off = Codex's
 * behaviour) and prints refresh requests, reuse errors and wall time against
 * one refresh round trip.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/refresh-storm.js [--delay=250] [--workers=8] [--runs=5] [--mode=file|auto]
 *
 * `--delay` is the token endpoint's answer delay, standing in for a real
 * network round trip to auth.openai.com. Auto mode needs a working keyring
 * (e.g. under scripts/with-keyring.sh).
 */
import process from "node:process";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { AuthCredentialsStoreMode } from "../src/document/auth-types.ts";
import { createAuthStorage } from "../src/storage/create-auth-storage.ts";
import { HttpTokenRefresher } from "../src/refresh/token-refresher.ts";
import { runStorm, type StormReport } from "../test/support/storm.ts";
import { TokenServer } from "../test/support/token-server.ts";

function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

const delayMs = Number(arg("delay", "250"));
const workers = Number(arg("workers", "8"));
const runs = Number(arg("runs", "5"));
const mode = arg("mode", "file") as AuthCredentialsStoreMode;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function oneStorm(server: TokenServer, lock: boolean, n: number, trigger: "401" | "none"): Promise<StormReport> {
  const home = await mkdtemp(join(tmpdir(), "authkeep-bench-storm-"));
  try {
    return await runStorm({ server, home, mode, workers: n, lock, trigger, timeoutMs: 120_000 });
  } finally {
    await createAuthStorage({ home, mode, onWarning: () => {} }).delete().catch(() => {});
    await rm(home, { recursive: true, force: true });
  }
}

const server = await TokenServer.start({ delayMs });
try {
  // One refresh round trip, measured the same way the workers make it (warm fetch, same server).
  const refresher = new HttpTokenRefresher({ url: server.url });
  let refreshToken = server.login("acct-bench").tokens!.refresh_token;
  await refresher.refresh(refreshToken).then((t) => (refreshToken = t.refresh_token!));
  const roundTrips: number[] = [];
  for (let i = 0; i < Math.max(3, runs); i++) {
    const start = performance.now();
    refreshToken = (await refresher.refresh(refreshToken)).refresh_token!;
    roundTrips.push(performance.now() - start);
  }
  const roundTrip = median(roundTrips);

  console.log(`refresh storm: ${workers} processes, ${mode} mode, token endpoint delay ${delayMs} ms, ${runs} runs`);
  console.log(`machine: ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  console.log(`one refresh round trip: ${roundTrip.toFixed(1)} ms`);
  // Column layout is parsed by bench/external.ts (parseRefreshStorm): keep it.
  const rows: string[][] = [["case", "refresh requests", "reuse errors", "failed processes", "wall ms", "wall / round trip"]];
  const bests: string[] = [];
  for (const [label, lock, n, trigger] of [
    [`${workers} processes, valid token (baseline: no refresh)`, true, workers, "none"],
    ["1 process, 401 → refresh, lock on", true, 1, "401"],
    [`${workers} processes, 401 → refresh, lock on`, true, workers, "401"],
    [`${workers} processes, 401 → refresh, lock off`, false, workers, "401"],
  ] as const) {
    const reports: StormReport[] = [];
    for (let i = 0; i < runs; i++) reports.push(await oneStorm(server, lock, n, trigger));
    const wall = median(reports.map((r) => r.wallMs));
    const best = Math.min(...reports.map((r) => r.wallMs));
    const refreshes = median(reports.map((r) => r.refreshRequests));
    const reused = median(reports.map((r) => r.reusedAnswers));
    const failed = median(reports.map((r) => r.results.filter((x) => x.error !== undefined || x.status !== 200).length));
    rows.push([label, String(refreshes), String(reused), String(failed), wall.toFixed(0), `${(wall / roundTrip).toFixed(2)}×`]);
    const cpu = median(reports.map((r) => r.results.reduce((sum, x) => sum + (x.cpuMs ?? 0), 0)));
    bests.push(
      `best of ${runs}: ${label}: ${best.toFixed(0)} ms (${(best / roundTrip).toFixed(2)} x round trip); CPU of all its processes: ${cpu.toFixed(0)} ms`,
    );
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join("  "));
  for (const line of bests) console.log(line);
  console.log("wall = median, from the start signal to the last process's answer.");
  console.log("baseline = the same processes and requests with nothing to refresh: what this machine needs for them alone.");
  console.log("reuse errors = refresh_token_reused answers from the token endpoint (each one is a process told 'your refresh token was already used').");
} finally {
  await server.close();
}
