/**
 * Runs a refresh storm: N real child processes (test/fixtures/storm-worker)
 * share one home, all start with the same stale access token, and are told
 * to send their request at the same moment. Shared by the storm test and
 * bench/refresh-storm.ts.
 */
import process from "node:process";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { AuthCredentialsStoreMode } from "../../src/document/auth-types.ts";
import { createAuthStorage } from "../../src/storage/create-auth-storage.ts";
import type { StormWorkerConfig, StormWorkerResult } from "../fixtures/storm-worker.ts";
import type { TokenServer } from "./token-server.ts";

/** The worker script next to this file's build: `.js` under dist/, `.ts` when run from source. */
export const STORM_WORKER = fileURLToPath(
  new URL(import.meta.url.endsWith(".ts") ? "../fixtures/storm-worker.ts" : "../fixtures/storm-worker.js", import.meta.url),
);

/** The argv that runs the worker script with this runtime (Deno needs `run -A`). */
export function workerArgs(): string[] {
  return "Deno" in globalThis ? ["run", "-A", STORM_WORKER] : [STORM_WORKER];
}

/** Options of {@linkcode runStorm}. */
export interface StormOptions {
  server: TokenServer;
  home: string;
  mode: AuthCredentialsStoreMode;
  workers?: number;
  /** Cross-process lock on (default) or off. */
  lock?: boolean;
  /**
   * `401`: a valid-looking access token the API rejects (recovery path);
   * `expired`: an access token whose exp has passed (refresh-before-use path);
   * `none`: a valid token, no refresh at all (the benchmark's baseline).
   */
  trigger?: "401" | "expired" | "none";
  /** Each worker's token request timeout (default 20 s). */
  refreshTimeoutMs?: number;
  /** What each worker does after the start signal (see `StormWorkerConfig.call`). */
  call?: "fetch" | "refresh";
  /** Kill everything after this long. */
  timeoutMs?: number;
  accountId?: string;
  /** Runs after every worker has loaded its login and before the start signal. */
  beforeGo?: () => Promise<void>;
}

/** What one storm did. */
export interface StormReport {
  results: StormWorkerResult[];
  /** Refresh requests that reached the token endpoint during the storm. */
  refreshRequests: number;
  /** How many of them were answered `refresh_token_reused`. */
  reusedAnswers: number;
  /** From the start signal to the last worker's result, in ms. */
  wallMs: number;
  /** Fingerprint of the access token the server issued last. */
  latestAccessFingerprint: string | null;
  /** When the start signal was sent (`performance.now()`), to read the server's timeline against. */
  startedAt: number;
  /** Each worker's stderr, for diagnosing a failure (never contains tokens). */
  stderr: string[];
}

/** Runs one storm and returns what happened. */
export async function runStorm(options: StormOptions): Promise<StormReport> {
  const { server, home, mode } = options;
  const workers = options.workers ?? 8;
  const trigger = options.trigger ?? "401";
  const storage = createAuthStorage({ home, mode, onWarning: () => {} });
  const login = server.login(options.accountId ?? "acct-storm", trigger === "expired" ? { accessExpiresInSec: -60 } : {});
  await storage.save(login);
  // Every process starts with an access token the API no longer accepts.
  if (trigger !== "none") server.expireAccessTokens();
  const before = { requests: server.refreshCount, reused: server.reusedCount };

  const config: Omit<StormWorkerConfig, "role"> = {
    home,
    mode,
    tokenUrl: server.url,
    apiUrl: server.apiUrl,
    lock: options.lock !== false,
    trigger,
    ...(options.refreshTimeoutMs === undefined ? {} : { refreshTimeoutMs: options.refreshTimeoutMs }),
    ...(options.call === undefined ? {} : { call: options.call }),
  };
  const children: ChildProcess[] = [];
  const stderr: string[] = [];
  const results: StormWorkerResult[] = [];
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const ready: Promise<void>[] = [];
    const done: Promise<void>[] = [];
    for (let i = 0; i < workers; i++) {
      const child = spawn(process.execPath, workerArgs(), {
        env: { ...process.env, AUTHKEEP_STORM_CONFIG: JSON.stringify({ ...config, role: "request" }) },
        stdio: ["ignore", "ignore", "pipe", "ipc"],
      });
      children.push(child);
      stderr[i] = "";
      child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr[i] += chunk));
      ready.push(waitFor(child, (m) => (m as { type?: string }).type === "ready", () => stderr[i]!).then(() => {}));
      done.push(
        waitFor(child, (m) => (m as { type?: string }).type === "done", () => stderr[i]!).then((m) => {
          results[i] = m as StormWorkerResult;
        }),
      );
    }
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`storm timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([Promise.all(ready), deadline]);
    await options.beforeGo?.();
    const start = performance.now();
    for (const child of children) child.send("go");
    await Promise.race([Promise.all(done), deadline]);
    const wallMs = performance.now() - start;
    return {
      results,
      refreshRequests: server.refreshCount - before.requests,
      reusedAnswers: server.reusedCount - before.reused,
      wallMs,
      startedAt: start,
      latestAccessFingerprint: server.latestAccessFingerprint,
      stderr,
    };
  } finally {
    clearTimeout(timer);
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

/** Resolves with the first IPC message that matches, or rejects when the child exits first. */
export function waitFor(child: ChildProcess, match: (message: unknown) => boolean, stderr: () => string = () => ""): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if (!match(message)) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`worker exited (${code ?? signal}) before the expected message; stderr: ${stderr().slice(0, 2000)}`));
    };
    const cleanup = () => {
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    child.on("message", onMessage);
    child.on("exit", onExit);
  });
}
