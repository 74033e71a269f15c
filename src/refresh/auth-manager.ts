/**
 * {@linkcode AuthManager}: Codex CLI's `AuthManager` (proactive refresh, 401 recovery, account
 * guard, permanent-failure caching), single-flight across processes, with a backoff.
 *
 * @module
 */
import type { AuthStorage } from "../storage/auth-storage.ts";
import type { AuthDotJson } from "../document/auth-types.ts";
import { inspectSymbol } from "../contract/_redact.ts";
import { isKnownExpired, proactiveRefreshReason, sameAuth, snapshotKey } from "./_auth-manager-snapshot.ts";
import { RefreshCoordinator } from "./_refresh-coordinator.ts";
import { type AuthManagerOptions, DEFAULT_REFRESH_WINDOW_MS } from "./auth-manager-options.ts";
import { DEFAULT_REFRESH_BACKOFF, RefreshBackoff } from "./refresh-backoff.ts";
import { RefreshError } from "../contract/refresh-error.ts";
import { RefreshLock, refreshLockPath } from "./refresh-lock.ts";
import { HttpTokenRefresher } from "./token-refresher.ts";
import { createUnauthorizedRecovery, type UnauthorizedRecovery } from "./unauthorized-recovery.ts";

export { type AuthManagerOptions, DEFAULT_REFRESH_WINDOW_MS } from "./auth-manager-options.ts";
export type { RecoveryStepResult, ReloadOutcome, UnauthorizedRecovery, UnauthorizedRecoveryStep } from "./unauthorized-recovery.ts";

/**
 * Keeps one login's tokens fresh, in this process and across processes.
 *
 * - {@linkcode AuthManager.auth} refreshes first when the access token's `exp` is within
 *   `refreshWindowMs` (with no `exp`: when `last_refresh` is more than 8 days old).
 * - Every refresh is single-flight in this process (callers share the promise) and across
 *   processes (a lock file beside auth.json); inside the lock the storage is re-read, and tokens
 *   another process refreshed for the same account are adopted with no network call.
 * - A permanent failure is remembered until the stored auth changes: a dead token is never retried in a loop.
 * - Each refresh says why (`refresh_reason`): `proactive_expiry` or `scheduled` from `auth()`,
 *   `unauthorized_recovery` from the 401 ladder, `forced` from {@linkcode AuthManager.refreshToken}.
 *
 * **Proactive refresh failures.** Like Codex, `auth()` reports them (`onRefreshError`,
 * {@linkcode AuthManager.lastRefreshError}) and returns the old auth, which may still work;
 * a *permanent* failure once the access token has expired is thrown (sign in again). After
 * another failure `auth()` leaves the endpoint alone for a while (`backoff`: 1 s, 2 s, 4 s …
 * 60 s, plus up to 25 % jitter; reset by a success or a change of the stored login).
 *
 * @example Basic usage
 * ```ts
 * import { Buffer } from "node:buffer";
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { AuthManager, createAuthStorage } from "authkeep";
 *
 * const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.sig`;
 * const storage = createAuthStorage({ home: mkdtempSync(join(tmpdir(), "authkeep-")) });
 * const tokens = { id_token: jwt({ email: "a@example.com" }), access_token: jwt({ exp: 0 }), refresh_token: "rt-1", account_id: "acct-1" };
 * await storage.save({ auth_mode: "chatgpt", OPENAI_API_KEY: null, tokens, last_refresh: new Date().toISOString() });
 * // Real use: the default HttpTokenRefresher. Here a stand-in for the token endpoint.
 * const refresher = { refresh: async () => ({ access_token: jwt({ exp: Date.now() / 1000 + 3600 }), refresh_token: "rt-2" }) };
 * const manager = new AuthManager({ storage, refresher });
 * const auth = await manager.auth(); // the access token had expired: refreshed first, under the lock
 * console.log(auth?.tokens?.refresh_token); // "rt-2"
 * console.log(JSON.stringify(manager)); // mode, home and state only, never a token
 * ```
 */
export class AuthManager {
  readonly #storage: AuthStorage;
  readonly #now: () => number;
  readonly #windowMs: number;
  readonly #onRefreshError: (error: unknown) => void;
  readonly #backoff: RefreshBackoff;
  readonly #core: RefreshCoordinator;
  #lastRefreshError: unknown = undefined;

  /**
   * Creates a manager (nothing is read until the first call).
   *
   * @param options Storage, refresher, clock, window, lock, backoff and error reporting.
   */
  constructor(options: AuthManagerOptions) {
    this.#storage = options.storage;
    const now = options.now;
    this.#now = now ? () => +now() : () => Date.now();
    this.#windowMs = options.refreshWindowMs ?? DEFAULT_REFRESH_WINDOW_MS;
    this.#onRefreshError = options.onRefreshError ?? (() => {});
    this.#backoff = new RefreshBackoff(options.backoff === false ? null : { ...DEFAULT_REFRESH_BACKOFF, ...options.backoff });
    const [refresher, lock] = [options.refresher ?? new HttpTokenRefresher(), resolveLock(options.storage, options.lock)];
    this.#core = new RefreshCoordinator({ storage: this.#storage, refresher, now: this.#now, lock, backoff: this.#backoff, onRefreshError: this.#onRefreshError });
  }

  /** The storage this manager reads and writes. */
  get storage(): AuthStorage {
    return this.#storage;
  }

  /** The lock file path, or `null` when cross-process locking is off. */
  get lockPath(): string | null {
    return this.#core.lock?.path ?? null;
  }

  /** The last proactive-refresh failure reported by {@linkcode AuthManager.auth}, cleared by a success. */
  get lastRefreshError(): unknown {
    return this.#lastRefreshError;
  }

  /** When `auth()` will next try a due proactive refresh after a failure, or `null` if it would now. */
  get refreshRetryAt(): Date | null {
    const at = this.#backoff.retryAt(this.#now(), snapshotKey(this.#core.cached));
    return at === null ? null : new Date(at);
  }

  /**
   * Returns the current auth (a copy), refreshing it first when the access token expires within
   * the window, unless a recent failure holds it back (`backoff`). Loads the storage on first use.
   *
   * @returns The auth, or `null` when logged out.
   * @throws {RefreshError} permanent, only when the refresh failed for good and the token has expired.
   * @throws {AuthStorageError} when the first load fails.
   * @example Basic usage
   * ```ts
   * import { mkdtempSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   * import { AuthManager, createAuthStorage } from "authkeep";
   *
   * const storage = createAuthStorage({ home: mkdtempSync(join(tmpdir(), "authkeep-")) });
   * await storage.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-example" });
   * const auth = await new AuthManager({ storage }).auth(); // an API key needs no refresh
   * console.log(auth?.auth_mode); // "apikey"
   * ```
   */
  async auth(): Promise<AuthDotJson | null> {
    const cached = await this.#core.ensureLoaded();
    const now = this.#now();
    const reason = proactiveRefreshReason(cached, now, this.#windowMs);
    const key = snapshotKey(cached);
    if (reason !== null && this.#backoff.retryAt(now, key) === null) {
      try {
        await this.#core.refreshShared(reason);
        this.#lastRefreshError = undefined;
        this.#backoff.resetUnless(null);
      } catch (error) {
        this.#lastRefreshError = error;
        const permanent = error instanceof RefreshError && error.permanent;
        // A permanent failure is remembered per snapshot already; only the others wait.
        if (!permanent) this.#backoff.failed(this.#now(), key);
        this.#onRefreshError(error);
        if (permanent && isKnownExpired(this.#core.cached, this.#now())) throw error;
      }
    }
    return copy(this.#core.cached ?? null);
  }

  /**
   * Re-reads the storage and adopts what is there, whatever the account.
   *
   * @returns Whether the stored auth differs from the cached one.
   * @throws {AuthStorageError} when the storage cannot be read (the cache is kept).
   * @example Basic usage
   * ```ts
   * import { mkdtempSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   * import { AuthManager, createAuthStorage } from "authkeep";
   *
   * const storage = createAuthStorage({ home: mkdtempSync(join(tmpdir(), "authkeep-")) });
   * await storage.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-example" });
   * const manager = new AuthManager({ storage });
   * await storage.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-rotated" }); // another process
   * console.log(await manager.reload()); // true
   * ```
   */
  async reload(): Promise<boolean> {
    const fresh = await this.#storage.load();
    const changed = !sameAuth(this.#core.cached, fresh);
    this.#core.setCached(fresh);
    return changed;
  }

  /**
   * Refreshes the tokens now (Codex's guarded `refresh_token()`, `refresh_reason: forced`),
   * single-flight, under the lock: tokens another process already refreshed for this account
   * are adopted with no network call; otherwise the result is saved (only the returned fields
   * replaced). Not held back by the backoff.
   *
   * @returns The auth after the refresh (a copy); unchanged for API-key logins.
   * @throws {RefreshError} permanent `account-mismatch` when the stored login was removed or
   * belongs to another account; the refresher's errors (a permanent one is remembered).
   * @throws {LockTimeoutError} when another process holds the lock too long.
   * @throws {AuthFormatError} or {@linkcode AuthStorageError} when the stored auth cannot be read.
   * @example Basic usage
   * ```ts
   * import { Buffer } from "node:buffer";
   * import { mkdtempSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   * import { AuthManager, createAuthStorage } from "authkeep";
   *
   * const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.sig`;
   * const storage = createAuthStorage({ home: mkdtempSync(join(tmpdir(), "authkeep-")) });
   * const tokens = { id_token: jwt({ email: "a@example.com" }), access_token: jwt({}), refresh_token: "rt-1", account_id: "acct-1" };
   * await storage.save({ auth_mode: "chatgpt", OPENAI_API_KEY: null, tokens });
   * // Real use: the default HttpTokenRefresher. Here a stand-in for the token endpoint.
   * const refresher = { refresh: async (_token: string, context?: { reason?: string }) => ({ refresh_token: `rt-2-${context?.reason}` }) };
   * const auth = await new AuthManager({ storage, refresher }).refreshToken();
   * console.log(auth?.tokens?.refresh_token, auth?.tokens?.account_id); // "rt-2-forced" "acct-1"
   * ```
   */
  async refreshToken(): Promise<AuthDotJson | null> {
    return copy((await this.#core.refreshShared("forced")).auth);
  }

  /**
   * Starts a 401 recovery (Codex's `unauthorized_recovery`) for the account of the auth the
   * failed request used: `reload` adopts the stored auth if its `tokens.account_id` matches, else
   * throws the permanent account-mismatch error (also for a null `account_id`, no login or an
   * unreadable store); `refresh_token` refreshes (`refresh_reason: unauthorized_recovery`); `done`.
   *
   * @returns The recovery; retry the request after each successful `next()`.
   * @example Basic usage
   * ```ts
   * import { Buffer } from "node:buffer";
   * import { mkdtempSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   * import { AuthManager, createAuthStorage } from "authkeep";
   *
   * const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.sig`;
   * const storage = createAuthStorage({ home: mkdtempSync(join(tmpdir(), "authkeep-")) });
   * const tokens = { id_token: jwt({ email: "a@example.com" }), access_token: jwt({}), refresh_token: "rt-1", account_id: "acct-1" };
   * await storage.save({ auth_mode: "chatgpt", OPENAI_API_KEY: null, tokens });
   * // Real use: the default HttpTokenRefresher. Here a stand-in for the token endpoint.
   * const manager = new AuthManager({ storage, refresher: { refresh: async () => ({ refresh_token: "rt-2" }) } });
   * await manager.auth();
   * // After a 401: retry the request after each step.
   * const recovery = manager.unauthorizedRecovery();
   * while (recovery.hasNext()) {
   *   const step = recovery.step;
   *   console.log(step, await recovery.next()); // "reload ReloadedNoChange", then "refresh_token Refreshed"
   * }
   * ```
   */
  unauthorizedRecovery(): UnauthorizedRecovery {
    return createUnauthorizedRecovery({
      cached: () => this.#core.cached,
      reloadIfAccountMatches: (expected) => this.#core.reloadIfAccountMatches(expected),
      refresh: async () => (await this.#core.refreshShared("unauthorized_recovery")).via,
    });
  }

  /**
   * Deletes the stored credentials and forgets the cached ones (Codex also revokes them at the server first).
   *
   * @returns Whether anything was removed.
   * @example Basic usage
   * ```ts
   * import { mkdtempSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   * import { AuthManager, createAuthStorage } from "authkeep";
   *
   * const storage = createAuthStorage({ home: mkdtempSync(join(tmpdir(), "authkeep-")) });
   * await storage.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-example" });
   * const manager = new AuthManager({ storage });
   * console.log(await manager.logout()); // true
   * console.log(await manager.auth()); // null
   * ```
   */
  async logout(): Promise<boolean> {
    const removed = await this.#storage.delete();
    this.#core.setCached(null);
    return removed;
  }

  /** Shows the mode and login state, never a token. */
  [inspectSymbol](): string {
    return `AuthManager { mode: ${JSON.stringify(this.#storage.mode)}, home: ${JSON.stringify(this.#storage.home ?? null)}, state: ${this.#state()} }`;
  }

  /** The same summary as `util.inspect`, for `JSON.stringify`; never a token. */
  toJSON(): { mode: string; home: string | null; state: string } {
    return { mode: this.#storage.mode, home: this.#storage.home ?? null, state: this.#state() };
  }

  #state(): string {
    const cached = this.#core.cached;
    if (cached === undefined || cached === null) return cached === null ? "logged out" : "not loaded";
    return cached.tokens ? "chatgpt" : cached.OPENAI_API_KEY ? "apikey" : "empty";
  }
}

function resolveLock(storage: AuthStorage, option: AuthManagerOptions["lock"]): RefreshLock | null {
  if (option === false) return null;
  const path = option?.path ?? (storage.home === undefined ? undefined : refreshLockPath(storage.home, storage.fileName));
  if (path === undefined) {
    throw new TypeError(
      "AuthManager needs storage.home to place its lock file; pass lock: { path } (or lock: false to turn cross-process locking off)",
    );
  }
  return new RefreshLock({ ...option, path });
}

function copy(auth: AuthDotJson | null): AuthDotJson | null {
  return auth === null ? null : structuredClone(auth);
}
