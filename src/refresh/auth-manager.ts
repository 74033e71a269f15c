/**
 * Keeps one login's tokens fresh, in this process and across every process
 * that shares the same home: Codex CLI's `AuthManager` (proactive refresh,
 * the 401 recovery ladder, the account guard, permanent-failure caching)
 * plus a cross-process single-flight refresh through a lock file.
 *
 * @module
 */
import type { AuthStorage } from "../storage/auth-storage.ts";
import type { AuthDotJson } from "../document/auth-types.ts";
import { inspectSymbol } from "../contract/_redact.ts";
import {
  accountOf,
  isKnownExpired,
  isRefreshable,
  mergeRefreshed,
  needsProactiveRefresh,
  sameAuth,
  snapshotKey,
  tokensChanged,
} from "./_auth-manager-snapshot.ts";
import { LockTimeoutError } from "../contract/lock-timeout-error.ts";
import { RefreshLock, type RefreshLockHandle, type RefreshLockOptions, refreshLockPath } from "./refresh-lock.ts";
import {
  DEFAULT_REFRESH_TIMEOUT_MS,
  HttpTokenRefresher,
  REFRESH_TOKEN_ACCOUNT_MISMATCH_MESSAGE,
  type TokenRefresher,
} from "./token-refresher.ts";
import { RefreshError } from "../contract/refresh-error.ts";
import { nodePath } from "../contract/_node-builtins.ts";

/** Codex's `CHATGPT_ACCESS_TOKEN_REFRESH_WINDOW_MINUTES` (5), in ms. */
export const DEFAULT_REFRESH_WINDOW_MS = 5 * 60 * 1000;

/** The result of reloading during a 401 recovery (Codex's `ReloadOutcome`). */
export type ReloadOutcome = "ReloadedChanged" | "ReloadedNoChange" | "Skipped";

/** The steps of a 401 recovery, named as in Codex. */
export type UnauthorizedRecoveryStep = "reload" | "refresh_token" | "done";

/**
 * What one {@linkcode UnauthorizedRecovery.next} call did:
 * - `ReloadedChanged` / `ReloadedNoChange`: the reload step adopted the stored auth;
 * - `Refreshed`: the refresh step got new tokens over the network;
 * - `Adopted`: the refresh step found tokens another process (or caller) had
 *   just refreshed, with no network call;
 * - `Done`: nothing left to do.
 */
export type RecoveryStepResult = "ReloadedChanged" | "ReloadedNoChange" | "Refreshed" | "Adopted" | "Done";

/** A 401 recovery ladder: `reload` → `refresh_token` → `done`. */
export interface UnauthorizedRecovery {
  /** The step the next {@linkcode UnauthorizedRecovery.next} call runs. */
  readonly step: UnauthorizedRecoveryStep;
  /** Whether a step is left and the login is a refreshable ChatGPT login. */
  hasNext(): boolean;
  /**
   * Runs the current step; retry the request afterwards.
   * @throws {RefreshError} permanent `account-mismatch` when the reload is
   * skipped (logged out, another account, or no `account_id`); the refresh
   * step throws the refresher's errors.
   */
  next(): Promise<RecoveryStepResult>;
}

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
   * The cross-process lock: a {@linkcode RefreshLock}, options for one (the
   * path defaults to `<storage.home>/<storage.fileName>.authkeep-refresh.lock`), or `false` to
   * turn cross-process locking off (Codex's behaviour; only for benchmarks
   * and single-process use). Required when `storage.home` is not set.
   * @default { path: refreshLockPath(storage.home, storage.fileName) }
   */
  lock?: RefreshLock | Partial<RefreshLockOptions> | false;
  /**
   * Receives failures of the proactive refresh in {@linkcode AuthManager.auth},
   * which are otherwise swallowed (as Codex logs them). Errors carry no tokens.
   * @default no-op
   */
  onRefreshError?: (error: unknown) => void;
}

interface RefreshResult {
  auth: AuthDotJson | null;
  via: "network" | "adopted" | "none";
}

/**
 * Keeps one login's tokens fresh, in this process and across processes.
 *
 * - {@linkcode AuthManager.auth} returns the cached auth, refreshing first when
 *   the access token's `exp` is within `refreshWindowMs` (or, with no `exp`,
 *   when `last_refresh` is more than 8 days old).
 * - Every refresh is single-flight: one in this process (callers share the
 *   promise) and one across processes (a lock file beside auth.json). Inside
 *   the lock the storage is re-read; tokens another process refreshed are
 *   adopted with no network call, if the account matches.
 * - A permanent failure is remembered until the stored auth changes, so a dead
 *   refresh token is never retried in a loop.
 *
 * **Proactive refresh failures.** Like Codex, {@linkcode AuthManager.auth}
 * reports a failed proactive refresh (through `onRefreshError` and
 * {@linkcode AuthManager.lastRefreshError}) and returns the old auth, which
 * may still work for the rest of the window. The exception: a *permanent*
 * failure when the access token is already expired is thrown, because the old
 * auth cannot work and the user must sign in again.
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
 * await storage.save({
 *   auth_mode: "chatgpt",
 *   OPENAI_API_KEY: null,
 *   tokens: { id_token: jwt({ email: "a@example.com" }), access_token: jwt({ exp: 0 }), refresh_token: "rt-1", account_id: "acct-1" },
 *   last_refresh: new Date().toISOString(),
 * });
 * // Real use: the default HttpTokenRefresher. Here a stand-in for the token endpoint.
 * const refresher = {
 *   refresh: async () => ({ access_token: jwt({ exp: Math.floor(Date.now() / 1000) + 3600 }), refresh_token: "rt-2" }),
 * };
 * const manager = new AuthManager({ storage, refresher });
 * const auth = await manager.auth(); // the access token had expired: refreshed first, under the lock
 * console.log(auth?.tokens?.refresh_token); // "rt-2"
 * console.log(JSON.stringify(manager)); // mode, home and state only, never a token
 * ```
 */
export class AuthManager {
  readonly #storage: AuthStorage;
  readonly #refresher: TokenRefresher;
  readonly #now: () => number;
  readonly #windowMs: number;
  readonly #lock: RefreshLock | null;
  readonly #onRefreshError: (error: unknown) => void;
  /** `undefined` until first loaded; `null` when logged out. */
  #cached: AuthDotJson | null | undefined = undefined;
  #loading: Promise<AuthDotJson | null> | null = null;
  #inflight: Promise<RefreshResult> | null = null;
  #permanent: { key: string; error: RefreshError } | null = null;
  #lastRefreshError: unknown = undefined;

  /** @param options Storage, refresher, clock, window, lock and error reporting. */
  constructor(options: AuthManagerOptions) {
    this.#storage = options.storage;
    this.#refresher = options.refresher ?? new HttpTokenRefresher();
    const now = options.now;
    this.#now = now ? () => +now() : () => Date.now();
    this.#windowMs = options.refreshWindowMs ?? DEFAULT_REFRESH_WINDOW_MS;
    this.#onRefreshError = options.onRefreshError ?? (() => {});
    this.#lock = resolveLock(options.storage, options.lock);
  }

  /** The storage this manager reads and writes. */
  get storage(): AuthStorage {
    return this.#storage;
  }

  /** The lock file path, or `null` when cross-process locking is off. */
  get lockPath(): string | null {
    return this.#lock?.path ?? null;
  }

  /** The last proactive-refresh failure reported by {@linkcode AuthManager.auth}, cleared by a success. */
  get lastRefreshError(): unknown {
    return this.#lastRefreshError;
  }

  /**
   * Returns the current auth (a copy), refreshing it first when the access
   * token expires within the window. Loads from storage on first use.
   *
   * @returns The auth, or `null` when logged out.
   * @throws {RefreshError} permanent, only when the proactive refresh failed
   * for good and the access token has already expired.
   * @throws {AuthStorageError} when the first load fails.
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
   * await storage.save({
   *   auth_mode: "chatgpt",
   *   OPENAI_API_KEY: null,
   *   tokens: { id_token: jwt({ email: "a@example.com" }), access_token: jwt({ exp: 0 }), refresh_token: "rt-1", account_id: "acct-1" },
   *   last_refresh: new Date().toISOString(),
   * });
   * // Real use: the default HttpTokenRefresher. Here a stand-in for the token endpoint.
   * const refresher = {
   *   refresh: async () => ({ access_token: jwt({ exp: Math.floor(Date.now() / 1000) + 3600 }), refresh_token: "rt-2" }),
   * };
   * const manager = new AuthManager({ storage, refresher });
   * const auth = await manager.auth();
   * console.log(auth?.tokens?.refresh_token); // "rt-2": refreshed before use
   * ```
   */
  async auth(): Promise<AuthDotJson | null> {
    const cached = await this.#ensureLoaded();
    if (needsProactiveRefresh(cached, this.#now(), this.#windowMs)) {
      try {
        await this.#refreshShared();
        this.#lastRefreshError = undefined;
      } catch (error) {
        this.#lastRefreshError = error;
        this.#onRefreshError(error);
        if (error instanceof RefreshError && error.permanent && isKnownExpired(this.#cached, this.#now())) throw error;
      }
    }
    return copy(this.#cached ?? null);
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
   * await manager.auth();
   * await storage.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-rotated" }); // another process
   * console.log(await manager.reload()); // true
   * ```
   */
  async reload(): Promise<boolean> {
    const fresh = await this.#storage.load();
    const changed = !sameAuth(this.#cached, fresh);
    this.#setCached(fresh);
    return changed;
  }

  /**
   * Refreshes the tokens now (Codex's guarded `refresh_token()`), single-flight
   * within this process and across processes. Inside the lock the storage is
   * re-read: if another process already refreshed this account's tokens they
   * are adopted with no network call; otherwise the refresh token is exchanged
   * and the result saved (only the returned fields replaced).
   *
   * @returns The auth after the refresh (a copy); unchanged for API-key logins.
   * @throws {RefreshError} permanent `account-mismatch` when the stored login
   * was removed or belongs to another account; the refresher's errors otherwise
   * (a permanent one is remembered until the stored auth changes).
   * @throws {LockTimeoutError} when another process holds the lock too long.
   * @throws {AuthFormatError} or {@linkcode AuthStorageError} when the stored
   * auth cannot be read inside the lock.
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
   * await storage.save({
   *   auth_mode: "chatgpt",
   *   OPENAI_API_KEY: null,
   *   tokens: { id_token: jwt({ email: "a@example.com" }), access_token: jwt({ exp: 0 }), refresh_token: "rt-1", account_id: "acct-1" },
   *   last_refresh: new Date().toISOString(),
   * });
   * // Real use: the default HttpTokenRefresher. Here a stand-in for the token endpoint.
   * const refresher = {
   *   refresh: async () => ({ access_token: jwt({ exp: Math.floor(Date.now() / 1000) + 3600 }), refresh_token: "rt-2" }),
   * };
   * const manager = new AuthManager({ storage, refresher });
   * const auth = await manager.refreshToken();
   * console.log(auth?.tokens?.refresh_token, auth?.tokens?.account_id); // "rt-2" "acct-1"
   * ```
   */
  async refreshToken(): Promise<AuthDotJson | null> {
    return copy((await this.#refreshShared()).auth);
  }

  /**
   * Starts a 401 recovery (Codex's `unauthorized_recovery`), capturing the
   * account of the auth the failed request used. Steps:
   * 1. `reload`: adopt the stored auth if its `tokens.account_id` matches
   *    (`ReloadedChanged` / `ReloadedNoChange`); otherwise `Skipped`, which
   *    throws the permanent account-mismatch error. A null `account_id`, a
   *    missing login and an unreadable store are all `Skipped`.
   * 2. `refresh_token`: {@linkcode AuthManager.refreshToken}.
   * 3. `done`.
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
   * await storage.save({
   *   auth_mode: "chatgpt",
   *   OPENAI_API_KEY: null,
   *   tokens: { id_token: jwt({ email: "a@example.com" }), access_token: jwt({ exp: 0 }), refresh_token: "rt-1", account_id: "acct-1" },
   *   last_refresh: new Date().toISOString(),
   * });
   * // Real use: the default HttpTokenRefresher. Here a stand-in for the token endpoint.
   * const refresher = {
   *   refresh: async () => ({ access_token: jwt({ exp: Math.floor(Date.now() / 1000) + 3600 }), refresh_token: "rt-2" }),
   * };
   * const manager = new AuthManager({ storage, refresher });
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
    const expected = accountOf(this.#cached) ?? null;
    let step: UnauthorizedRecoveryStep = "reload";
    return {
      get step() {
        return step;
      },
      hasNext: () => step !== "done" && isRefreshable(this.#cached),
      next: async () => {
        if (step === "reload") {
          const outcome = await this.#reloadIfAccountMatches(expected);
          if (outcome === "Skipped") {
            step = "done";
            throw accountMismatch();
          }
          step = "refresh_token";
          return outcome;
        }
        if (step === "refresh_token") {
          step = "done";
          const result = await this.#refreshShared();
          return result.via === "network" ? "Refreshed" : "Adopted";
        }
        return "Done";
      },
    };
  }

  /**
   * Deletes the stored credentials and forgets the cached ones. (Codex also
   * revokes the tokens at the server first; authkeep leaves that to the caller.)
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
    this.#setCached(null);
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
    if (this.#cached === undefined) return "not loaded";
    if (this.#cached === null) return "logged out";
    return this.#cached.tokens ? "chatgpt" : this.#cached.OPENAI_API_KEY ? "apikey" : "empty";
  }

  async #ensureLoaded(): Promise<AuthDotJson | null> {
    if (this.#cached !== undefined) return this.#cached;
    this.#loading ??= this.#storage.load().finally(() => {
      this.#loading = null;
    });
    const loaded = await this.#loading;
    if (this.#cached === undefined) this.#cached = loaded;
    return this.#cached;
  }

  #setCached(auth: AuthDotJson | null): void {
    // A permanent failure belongs to one snapshot: any change of the auth forgets it.
    if (this.#permanent && this.#permanent.key !== snapshotKey(auth)) this.#permanent = null;
    this.#cached = auth;
  }

  async #reloadIfAccountMatches(expected: string | null): Promise<ReloadOutcome> {
    if (expected === null) return "Skipped";
    // As Codex: any load or parse error counts as "nothing stored" (the file store already retries torn reads).
    const fresh = await this.#storage.load().catch(() => null);
    if (accountOf(fresh) !== expected) return "Skipped";
    const changed = !sameAuth(this.#cached, fresh);
    this.#setCached(fresh);
    return changed ? "ReloadedChanged" : "ReloadedNoChange";
  }

  /**
   * How long a refresh waits for another process's: about one request timeout (the holder's request
   * is bounded by it), and never more than the lock's own bound.
   */
  #waitBoundMs(): number {
    const request = this.#refresher.timeoutMs ?? DEFAULT_REFRESH_TIMEOUT_MS;
    return Math.min(this.#lock?.timeoutMs ?? Infinity, request + 1000);
  }

  #refreshShared(): Promise<RefreshResult> {
    this.#inflight ??= this.#refreshGuarded().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #refreshGuarded(): Promise<RefreshResult> {
    const snapshot = await this.#ensureLoaded();
    if (!isRefreshable(snapshot)) return { auth: snapshot, via: "none" };
    const expected = accountOf(snapshot);
    // Codex: with no account to compare, the stored tokens are never trusted.
    if (expected === null || expected === undefined) throw accountMismatch();
    if (this.#permanent?.key === snapshotKey(snapshot)) {
      // A dead login stays dead until the storage changes: check that without taking the lock.
      const fresh = await this.#storage.load().catch(() => undefined);
      if (fresh === undefined || sameAuth(fresh, snapshot)) throw this.#permanent.error;
    }
    const waited = await this.#lockOrAdopt(snapshot, expected);
    if ("adopted" in waited) return { auth: waited.adopted, via: "adopted" };
    const queuedMs = waited.queuedMs;
    try {
      // Unlike the recovery's reload step (Codex maps read errors to "Skipped"), a storage error
      // here is reported as itself: "auth.json is corrupt" helps more than "another account".
      const fresh = await this.#storage.load();
      if (accountOf(fresh) !== expected || !isRefreshable(fresh)) throw accountMismatch();
      if (tokensChanged(fresh, snapshot)) {
        this.#setCached(fresh);
        return { auth: fresh, via: "adopted" };
      }
      // No queueing (#17): we waited a while and the holder left no new tokens, so its request failed or
      // timed out. Report that instead of spending another full request timeout in turn.
      if (queuedMs > this.#waitBoundMs() / 4) throw queuedBehindFailure(queuedMs);
      this.#setCached(fresh);
      const key = snapshotKey(fresh);
      if (this.#permanent?.key === key) throw this.#permanent.error;
      let refreshed;
      try {
        refreshed = await this.#refresher.refresh(fresh.tokens.refresh_token);
      } catch (error) {
        if (error instanceof RefreshError && error.reason === "exhausted") {
          // Someone outside our lock (e.g. Codex itself) rotated the token; its save may land any moment.
          const adopted = await this.#adoptLateSave(fresh, expected);
          if (adopted) return { auth: adopted, via: "adopted" };
        }
        if (error instanceof RefreshError && error.permanent) this.#permanent = { key, error };
        throw error;
      }
      // Persist as Codex does: reload, replace only what came back, keep the rest.
      const current = await this.#storage.load();
      if (accountOf(current) !== expected || !isRefreshable(current)) throw accountMismatch();
      const merged = mergeRefreshed(current, refreshed, this.#now());
      if (merged.droppedIdToken) {
        this.#onRefreshError(new RefreshError("The token endpoint returned a malformed id_token; the previous one was kept", {
          permanent: false,
          reason: "transient",
        }));
      }
      // Cache first: the old refresh token is spent now, so if the save fails this process at
      // least keeps working with the new tokens (the save error is still thrown).
      this.#setCached(merged.auth);
      // No read-back: the codec round-trips exactly, and waiters in other processes are blocked on us.
      await this.#storage.save(merged.auth);
      return { auth: merged.auth, via: "network" };
    } finally {
      await waited.handle?.release().catch(() => {});
    }
  }

  /**
   * After `refresh_token_reused`: looks at the storage a few times over
   * ~300 ms (PR #8645's "reload once and retry if the stored token changed")
   * and adopts tokens of the same account that appeared meanwhile.
   */
  async #adoptLateSave(snapshot: AuthDotJson, expected: string): Promise<AuthDotJson | null> {
    for (const delay of [0, 100, 200]) {
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      const fresh = await this.#storage.load().catch(() => undefined);
      if (fresh !== undefined && accountOf(fresh) === expected && isRefreshable(fresh) && tokensChanged(fresh, snapshot)) {
        this.#setCached(fresh);
        return fresh;
      }
    }
    return null;
  }

  /**
   * Takes the cross-process lock, or returns tokens another process refreshed
   * while we waited (its save usually lands before its lock is gone, so
   * waiters finish without queueing for the lock one by one).
   */
  async #lockOrAdopt(
    snapshot: AuthDotJson,
    expected: string,
  ): Promise<{ handle: RefreshLockHandle | null; queuedMs: number } | { adopted: AuthDotJson }> {
    const lock = this.#lock;
    if (lock === null) return { handle: null, queuedMs: 0 };
    const start = Date.now();
    const bound = this.#waitBoundMs();
    let pause = lock.pollMs;
    // Wake when the lock is released or the auth file replaced; the poll below is the fallback.
    const authFile = this.#storage.fileName ?? "auth.json";
    const waiter = lock.waiter([nodePath().basename(lock.path), authFile]);
    try {
      for (let round = 0; ; round++) {
        // The first round goes straight for the lock (the holder re-reads the storage inside it anyway,
        // so the network request starts one read sooner); later rounds look at the storage first, so
        // after a release every waiter finds the new tokens without queueing for the lock.
        if (round === 0) {
          const handle = await lock.tryAcquire();
          if (handle) return { handle, queuedMs: 0 };
        }
        let fresh: AuthDotJson | null | undefined;
        try {
          fresh = await this.#storage.load();
        } catch {
          fresh = undefined; // mid-write or briefly unavailable: look again next round
        }
        if (fresh !== undefined) {
          if (accountOf(fresh) !== expected) throw accountMismatch();
          if (tokensChanged(fresh, snapshot) && isRefreshable(fresh)) {
            this.#setCached(fresh);
            return { adopted: fresh };
          }
        }
        if (round > 0) {
          const handle = await lock.tryAcquire();
          if (handle) return { handle, queuedMs: Date.now() - start };
        }
        const waited = Date.now() - start;
        if (waited >= bound) throw new LockTimeoutError(lock.path, waited, (await lock.holder()) ?? undefined);
        await waiter.sleep(pause + Math.random() * pause);
        // Back off so a slow token endpoint does not turn into a storm of storage reads (keyring D-Bus
        // calls). With a working watch the release wakes us, so the timer is only a safety net.
        pause = Math.min(pause * 2, waiter.watching ? 500 : 100);
      }
    } finally {
      waiter.close();
    }
  }
}

function queuedBehindFailure(queuedMs: number): RefreshError {
  return new RefreshError(
    `Failed to refresh token: another process's refresh of this login did not complete in the ${Math.round(queuedMs)} ms we waited for it; try again`,
    { permanent: false, reason: "transient" },
  );
}

function resolveLock(storage: AuthStorage, option: AuthManagerOptions["lock"]): RefreshLock | null {
  if (option === false) return null;
  if (option instanceof RefreshLock) return option;
  const path = option?.path ?? (storage.home === undefined ? undefined : refreshLockPath(storage.home, storage.fileName));
  if (path === undefined) {
    throw new TypeError(
      "AuthManager needs storage.home to place its lock file; pass lock: { path } (or lock: false to turn cross-process locking off)",
    );
  }
  return new RefreshLock({ ...option, path });
}

function accountMismatch(): RefreshError {
  return new RefreshError(REFRESH_TOKEN_ACCOUNT_MISMATCH_MESSAGE, { permanent: true, reason: "account-mismatch" });
}

function copy(auth: AuthDotJson | null): AuthDotJson | null {
  return auth === null ? null : structuredClone(auth);
}
