/**
 * One process of the tour's refresh demonstration (`_tour-refresh.ts` starts
 * several): it loads the shared login, waits for the common start, asks its
 * AuthManager for the auth and prints a {@linkcode WorkerResult} as JSON.
 *
 * Usage: `node _tour-worker.js <home> <token url> <mode> lock|no-lock <start at (epoch ms)>`.
 *
 * @module
 */
import process from "node:process";
import { type AuthCredentialsStoreMode, AuthManager, createAuthStorage, HttpTokenRefresher, RefreshError } from "../src/index.ts";
import { fingerprint } from "../test/support/token-server.ts";

/** What one worker reports. */
export interface WorkerResult {
  pid: number;
  /** network: its own refresh worked; storage: it adopted another process's; rejected: its refresh was refused, then it adopted; failed: it ended with no working token. */
  via: "network" | "storage" | "rejected" | "failed";
  /** The fingerprint of the access token it ended with. */
  access: string;
  ms: number;
  error?: string;
}

async function worker(args: string[]): Promise<WorkerResult> {
  const [home, url, mode, lock, startAt] = args as [string, string, AuthCredentialsStoreMode, string, string];
  let refreshed = 0;
  let refused = 0;
  const http = new HttpTokenRefresher({ url, timeoutMs: 10_000 });
  const manager = new AuthManager({
    storage: createAuthStorage({ home, mode, onWarning: () => {} }),
    refresher: {
      async refresh(token) {
        try {
          const tokens = await http.refresh(token);
          refreshed++;
          return tokens;
        } catch (error) {
          refused++;
          throw error;
        }
      },
    },
    lock: lock === "lock" ? { pollMs: 5 } : false,
  });
  // A running CLI has its login loaded already; only the refresh races.
  await manager.reload();
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
  const start = performance.now();
  try {
    const auth = await manager.auth();
    const result: WorkerResult = {
      pid: process.pid,
      via: refreshed > 0 ? "network" : refused > 0 ? "rejected" : "storage",
      access: fingerprint(auth?.tokens?.access_token) ?? "none",
      ms: performance.now() - start,
    };
    const error = manager.lastRefreshError;
    return error === undefined ? result : { ...result, via: "failed", error: (error as Error).message };
  } catch (error) {
    const message = error instanceof RefreshError ? error.message : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { pid: process.pid, via: "failed", access: "none", ms: performance.now() - start, error: message };
  }
}

worker(process.argv.slice(2)).then(
  (result) => process.stdout.write(JSON.stringify(result)),
  (error: unknown) => {
    process.stderr.write(`tour worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
