/**
 * The one error for "waited too long for a lock", shared by the refresh lock
 * and the Codex file locks around `auth.json` writes.
 *
 * @module
 */

/** What a refresh lock file records about its holder. */
export interface RefreshLockHolder {
  /** The holder's process id. */
  pid: number;
  /** The holder's host name; pid liveness is only checked on the same host. */
  host: string;
  /** When the holder took the lock (ISO 8601 UTC). */
  startedAt: string;
  /** A random value that identifies this one acquisition. */
  nonce: string;
}

/** Which lock timed out. */
export type LockKind = "refresh" | "file";

/**
 * Waiting for a lock took longer than allowed: the refresh lock (`lock:
 * "refresh"`, another process is refreshing) or one of the Codex CLI's file
 * locks around writes of `auth.json` (`lock: "file"`, another program holds
 * `auth.lock` or `auth.json.lock`). Nothing was written. {@linkcode AuthManager}
 * throws it from a refresh, and storage saves and deletes from a file lock.
 *
 * @example Basic usage
 * ```ts
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { AuthManager, createAuthStorage, HttpTokenRefresher, LockTimeoutError } from "authkeep";
 *
 * const storage = createAuthStorage({ home: mkdtempSync(join(tmpdir(), "authkeep-")), mode: "file" });
 * const manager = new AuthManager({ storage, refresher: new HttpTokenRefresher() });
 * try {
 *   console.log(await manager.refreshToken()); // null: nobody is logged in
 * } catch (error) {
 *   if (!(error instanceof LockTimeoutError)) throw error;
 *   console.log(`busy (${error.lock} lock): ${error.path}`);
 * }
 * ```
 */
export class LockTimeoutError extends Error {
  /** The lock file. */
  readonly path: string;
  /** How long we waited, in milliseconds. */
  readonly waitedMs: number;
  /** Who held the refresh lock when we gave up, if it could be read. */
  readonly holder: RefreshLockHolder | undefined;
  /** Which lock: authkeep's refresh lock, or a Codex file lock. */
  readonly lock: LockKind;

  /**
   * Creates the error.
   *
   * @param path The lock file.
   * @param waitedMs How long we waited.
   * @param holder The refresh lock's holder at the time we gave up.
   * @param lock Which lock (default `"refresh"`).
   */
  constructor(path: string, waitedMs: number, holder?: RefreshLockHolder, lock: LockKind = "refresh") {
    const waited = `Timed out after ${Math.round(waitedMs)} ms waiting for`;
    const who = holder ? ` (held by pid ${holder.pid} on ${holder.host} since ${holder.startedAt})` : "";
    super(
      lock === "file"
        ? `${waited} the lock on ${path}: another program (the Codex CLI, or another authkeep process) holds it; nothing was written`
        : `${waited} the refresh lock ${path}${who}`,
    );
    this.name = "LockTimeoutError";
    this.path = path;
    this.waitedMs = waitedMs;
    this.holder = holder;
    this.lock = lock;
  }
}
