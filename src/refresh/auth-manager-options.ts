/**
 * The options of {@linkcode AuthManager}, with their defaults.
 *
 * @module
 */
import type { AuthStorage } from "../storage/auth-storage.ts";
import type { RefreshBackoffOptions } from "./refresh-backoff.ts";
import type { RefreshLockOptions } from "./refresh-lock-options.ts";
import type { TokenRefresher } from "./token-refresher.ts";

/** Codex's `CHATGPT_ACCESS_TOKEN_REFRESH_WINDOW_MINUTES` (5), in ms. */
export const DEFAULT_REFRESH_WINDOW_MS = 5 * 60 * 1000;

/** Options of {@linkcode AuthManager}. */
export interface AuthManagerOptions {
  /** Where the credentials live (see {@linkcode createAuthStorage}). */
  storage: AuthStorage;
  /**
   * Exchanges refresh tokens.
   * @default new HttpTokenRefresher()
   */
  refresher?: TokenRefresher;
  /**
   * The clock, for tests.
   * @default () => Date.now()
   */
  now?: () => Date | number;
  /**
   * Refresh before use when the access token expires within this many ms.
   * @default 300000 (5 minutes, as Codex)
   */
  refreshWindowMs?: number;
  /**
   * The cross-process lock: options for it (the
   * path defaults to `<storage.home>/<storage.fileName>.authkeep-refresh.lock`), or `false` to
   * turn cross-process locking off (Codex's behaviour; only for benchmarks
   * and single-process use). Required when `storage.home` is not set.
   * @default { path: refreshLockPath(storage.home, storage.fileName) }
   */
  lock?: Partial<RefreshLockOptions> | false;
  /**
   * After a failed proactive refresh, {@linkcode AuthManager.auth} returns the
   * old auth without calling the endpoint until the delay has passed; `false`
   * retries on every call (Codex's behaviour). Explicit refreshes and the 401
   * recovery are not held back.
   * @default { initialMs: 1000, maxMs: 60000, jitter: 0.25 }
   */
  backoff?: Partial<RefreshBackoffOptions> | false;
  /**
   * Receives failures of the proactive refresh in {@linkcode AuthManager.auth},
   * which are otherwise swallowed (as Codex logs them). Errors carry no tokens.
   * @default no-op
   */
  onRefreshError?: (error: unknown) => void;
}
