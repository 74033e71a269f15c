/**
 * The error of a refresh lock that stayed busy, and who held it.
 *
 * @module
 */

/** What a lock file records about its holder. */
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

/**
 * Waiting for the refresh lock took longer than allowed. {@linkcode AuthManager}
 * throws it from a refresh when another process holds the lock too long.
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
 *   console.log(`busy: ${error.path}`);
 * }
 * ```
 */
export class LockTimeoutError extends Error {
  /** The lock file. */
  readonly path: string;
  /** How long we waited, in milliseconds. */
  readonly waitedMs: number;
  /** Who held the lock when we gave up, if it could be read. */
  readonly holder: RefreshLockHolder | undefined;

  /**
   * Creates the error.
   *
   * @param path The lock file.
   * @param waitedMs How long we waited.
   * @param holder The holder at the time we gave up.
   */
  constructor(path: string, waitedMs: number, holder?: RefreshLockHolder) {
    const who = holder ? ` (held by pid ${holder.pid} on ${holder.host} since ${holder.startedAt})` : "";
    super(`Timed out after ${Math.round(waitedMs)} ms waiting for the refresh lock ${path}${who}`);
    this.name = "LockTimeoutError";
    this.path = path;
    this.waitedMs = waitedMs;
    this.holder = holder;
  }
}
