/**
 * The tour's third part: several processes with an expired access token
 * against the shared local token server (`test/support/token-server.ts`,
 * which rotates refresh tokens and rejects a reused one, as OpenAI's does),
 * first without the cross-process lock (Codex's behaviour: a stampede), then
 * with it (one refresh; everyone adopts it).
 *
 * @module
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { type AuthCredentialsStoreMode, createAuthStorage } from "../src/index.ts";
import { fingerprint, TokenServer } from "../test/support/token-server.ts";
import { c, out, sibling } from "./_tour-shell.ts";
import type { WorkerResult } from "./_tour-worker.ts";

const WORKER = sibling("./_tour-worker");
const WORKERS = 4;

/** Runs the demonstration on `home`, without and then with the lock; returns the unexpected results. */
export async function refreshDemo(home: string, mode: AuthCredentialsStoreMode): Promise<number> {
  let failures = 0;
  out.line(`${WORKERS} processes share one login whose access token has just expired. Each calls`);
  out.line(`AuthManager.auth() at the same moment; the token endpoint (127.0.0.1, a few hundred ms per answer)`);
  out.line(`rotates the refresh token and rejects a reused one, as the real one does.`);

  for (const locked of [false, true]) {
    out.line();
    out.line(c.bold(
      locked
        ? `With authkeep's cross-process lock (mode ${mode}; the lock file sits beside auth.json):`
        : "Without a cross-process lock (AuthManager with lock: false; every process refreshes on its own, as Codex CLI does):",
    ));
    // Without the lock, a slower endpoint makes the race plain even on a busy machine.
    const server = await TokenServer.start({ delayMs: locked ? 300 : 800 });
    const storage = createAuthStorage({ home, mode: locked ? mode : "file", onWarning: () => {} });
    try {
      await storage.save(server.login("acct-tour", { accessExpiresInSec: -60, email: "tour@example.com" }));
      const results = await runWorkers(home, server.url, locked ? mode : "file", locked);
      failures += report(results, server, await storage.load().then((auth) => fingerprint(auth?.tokens?.access_token)), locked);
    } finally {
      await storage.delete().catch(() => {});
      await server.close();
    }
  }
  return failures;
}

/** Prints what each worker did and what the endpoint saw; returns 1 when the locked run was not one refresh adopted by all. */
function report(results: WorkerResult[], server: TokenServer, finalFp: string | null, locked: boolean): number {
  const requests = server.refreshCount;
  const rejected = server.requests.filter((r) => r.outcome !== "rotated").length;
  for (const r of results.sort((a, b) => a.ms - b.ms)) {
    const what = r.via === "network"
      ? `refreshed over the network`
      : r.via === "storage"
      ? `adopted the refreshed tokens from storage, no network call`
      : r.via === "rejected"
      ? c.warn(`its refresh was rejected (token already used), then it adopted another process's tokens`)
      : c.bad(`failed: ${r.error}`);
    out.line(`  pid ${String(r.pid).padEnd(7)} ${what} ${c.dim(`(${Math.round(r.ms)} ms)`)}${r.via === "failed" ? "" : ` → access token #${r.access}`}`);
  }
  const tokens = new Set(results.filter((r) => r.via !== "failed").map((r) => r.access));
  const ok = results.filter((r) => r.via !== "failed").length;
  out.line(
    `  token endpoint: ${requests} refresh request${requests === 1 ? "" : "s"}, ${rejected} rejected as reused; ` +
      `${ok} of ${results.length} processes hold a working token${finalFp !== null && tokens.size === 1 && tokens.has(finalFp) ? `, all the stored one (#${finalFp})` : ""}.`,
  );
  if (locked) {
    const good = requests === 1 && rejected === 0 && ok === results.length && tokens.size === 1;
    out.line(good ? c.ok("  One refresh, and every process adopted it.") : c.bad("  Expected exactly one refresh adopted by every process."));
    return good ? 0 : 1;
  }
  if (rejected > 0) {
    const failed = results.filter((r) => r.via === "failed").length;
    out.line(c.warn(
      `  A stampede: ${requests} requests for one refresh token, ${rejected} refused as already used` +
        (failed > 0
          ? `; ${failed} process${failed === 1 ? " was" : "es were"} told to sign in again.`
          : `. Each refusal would log a Codex CLI process out; AuthManager recovered here by re-reading the storage.`),
    ));
  }
  return 0;
}

/** Starts the workers together and collects what each reports. */
async function runWorkers(home: string, url: string, mode: AuthCredentialsStoreMode, locked: boolean): Promise<WorkerResult[]> {
  const startAt = Date.now() + 700; // every worker has started node and loaded authkeep by then
  const children = Array.from({ length: WORKERS }, () => {
    const child = spawn(process.execPath, [WORKER, home, url, mode, locked ? "lock" : "no-lock", String(startAt)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    return new Promise<WorkerResult>((resolve) => {
      child.on("close", (code) => {
        try {
          resolve(JSON.parse(stdout) as WorkerResult);
        } catch {
          resolve({ pid: child.pid ?? 0, via: "failed", access: "none", ms: 0, error: `worker exited with ${code}: ${stderr.trim().split("\n")[0] ?? ""}` });
        }
      });
    });
  });
  return await Promise.all(children);
}
