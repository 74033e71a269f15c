/**
 * The options of the refresh lock, on their own so that the public
 * declarations (`AuthManagerOptions.lock`) do not carry the lock's
 * implementation (`refresh-lock.ts`).
 *
 * @module
 */

/**
 * Options of the cross-process refresh lock that {@linkcode AuthManager} takes
 * (its `lock` option).
 *
 * @example
 * ```ts
 * import type { RefreshLockOptions } from "authkeep";
 *
 * const lock: Partial<RefreshLockOptions> = { timeoutMs: 30_000 };
 * console.log(lock.timeoutMs); // 30000
 * ```
 */
export interface RefreshLockOptions {
  /** The lock file, by default `<home>/<fileName>.authkeep-refresh.lock`. */
  path: string;
  /**
   * Age after which a lock is stale even if its holder may be alive.
   * @default 120000 (4 × the default refresh timeout)
   */
  staleMs?: number;
  /**
   * How long a wait for the lock lasts before it throws a {@linkcode LockTimeoutError}.
   * @default 150000 (longer than `staleMs`, so a stale lock is always taken over first)
   */
  timeoutMs?: number;
  /**
   * Pause between attempts while waiting (a random jitter of up to the same amount is added).
   * @default 10
   */
  pollMs?: number;
}
