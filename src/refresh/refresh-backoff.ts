/**
 * How long {@linkcode AuthManager.auth} leaves the token endpoint alone after
 * a failed proactive refresh, so a busy caller does not hammer a failing
 * endpoint: exponential from 1 s, doubling, capped at 60 s, each delay
 * stretched by up to 25 % of random jitter (never shortened). A success, or
 * any change of the stored login, starts over.
 *
 * @module
 */

/** Options of the proactive-refresh backoff (`AuthManagerOptions.backoff`). */
export interface RefreshBackoffOptions {
  /**
   * The first delay, after one failure.
   * @default 1000
   */
  initialMs: number;
  /**
   * The longest delay.
   * @default 60000
   */
  maxMs: number;
  /**
   * Up to this fraction of each delay is added at random, so processes that
   * failed together do not retry together.
   * @default 0.25
   */
  jitter: number;
}

/** The default backoff: 1 s, 2 s, 4 s … 60 s, plus up to 25 %. */
export const DEFAULT_REFRESH_BACKOFF: Readonly<RefreshBackoffOptions> = Object.freeze({ initialMs: 1000, maxMs: 60_000, jitter: 0.25 });

/** The delay after `failures` consecutive failures (1, 2, …), before jitter. */
export function backoffDelayMs(failures: number, options: RefreshBackoffOptions): number {
  return Math.min(options.initialMs * 2 ** Math.max(0, failures - 1), options.maxMs);
}

/** One login's backoff state: consecutive failures of one snapshot and when the next try is allowed. */
export class RefreshBackoff {
  readonly #options: RefreshBackoffOptions | null;
  #failures = 0;
  #until = 0;
  #key: string | null = null;

  /** @param options The schedule, or `null` for no backoff. */
  constructor(options: RefreshBackoffOptions | null) {
    this.#options = options;
  }

  /** When the next proactive refresh of the snapshot `key` may go out, or `null` if it may now. */
  retryAt(nowMs: number, key: string): number | null {
    return this.#key === key && nowMs < this.#until ? this.#until : null;
  }

  /** Records a failure of the snapshot `key` at `nowMs`. */
  failed(nowMs: number, key: string): void {
    if (this.#options === null) return;
    if (this.#key !== key) this.#failures = 0;
    this.#key = key;
    this.#failures++;
    const delay = backoffDelayMs(this.#failures, this.#options);
    this.#until = nowMs + delay * (1 + Math.random() * this.#options.jitter);
  }

  /** Starts over unless `key` is the snapshot that failed (a success passes `null`). */
  resetUnless(key: string | null): void {
    if (key !== null && key === this.#key) return;
    this.#failures = 0;
    this.#until = 0;
    this.#key = null;
  }
}
