/**
 * The state behind one {@linkcode AuthManager}: the cached auth, the
 * single-flight guarded refresh (lock, re-read, adopt or exchange, persist),
 * the remembered permanent failure and the proactive backoff.
 *
 * @module
 */
import type { AuthStorage } from "../storage/auth-storage.ts";
import type { AuthDotJson } from "../document/auth-types.ts";
import { accountOf, isRefreshable, mergeRefreshed, sameAuth, snapshotKey, tokensChanged } from "./_auth-manager-snapshot.ts";
import type { RefreshBackoff } from "./refresh-backoff.ts";
import { LockTimeoutError } from "../contract/lock-timeout-error.ts";
import { RefreshError } from "../contract/refresh-error.ts";
import { accountMismatchError as accountMismatch } from "./refresh-messages.ts";
import type { RefreshLock, RefreshLockHandle } from "./refresh-lock.ts";
import { DEFAULT_REFRESH_TIMEOUT_MS, type RefreshedTokens, type RefreshReason, type TokenRefresher } from "./token-refresher.ts";
import type { ReloadOutcome } from "./unauthorized-recovery.ts";
import { nodePath } from "../contract/_node-builtins.ts";

/** What a guarded refresh ended with, and how the tokens came. */
export interface RefreshResult {
  auth: AuthDotJson | null;
  via: "network" | "adopted" | "none";
}

/** The collaborators of a {@linkcode RefreshCoordinator}. */
export interface RefreshCoordinatorParts {
  storage: AuthStorage;
  refresher: TokenRefresher;
  now: () => number;
  lock: RefreshLock | null;
  backoff: RefreshBackoff;
  onRefreshError: (error: unknown) => void;
}

/** One login's cache and guarded refresh; {@linkcode AuthManager} is its public face. */
export class RefreshCoordinator {
  readonly #storage: AuthStorage;
  readonly #refresher: TokenRefresher;
  readonly #now: () => number;
  readonly #lock: RefreshLock | null;
  readonly #backoff: RefreshBackoff;
  readonly #onRefreshError: (error: unknown) => void;
  /** `undefined` until first loaded; `null` when logged out. */
  #cached: AuthDotJson | null | undefined = undefined;
  #loading: Promise<AuthDotJson | null> | null = null;
  #inflight: Promise<RefreshResult> | null = null;
  #permanent: { key: string; error: RefreshError } | null = null;

  constructor(parts: RefreshCoordinatorParts) {
    this.#storage = parts.storage;
    this.#refresher = parts.refresher;
    this.#now = parts.now;
    this.#lock = parts.lock;
    this.#backoff = parts.backoff;
    this.#onRefreshError = parts.onRefreshError;
  }

  /** The cached auth: `undefined` until first loaded, `null` when logged out. */
  get cached(): AuthDotJson | null | undefined {
    return this.#cached;
  }

  /** The cross-process lock, or `null`. */
  get lock(): RefreshLock | null {
    return this.#lock;
  }

  /** Loads the storage once; later calls return the cache. */
  async ensureLoaded(): Promise<AuthDotJson | null> {
    if (this.#cached !== undefined) return this.#cached;
    this.#loading ??= this.#storage.load().finally(() => {
      this.#loading = null;
    });
    const loaded = await this.#loading;
    if (this.#cached === undefined) this.#cached = loaded;
    return this.#cached;
  }

  /** Replaces the cache (after a reload or a logout). */
  setCached(auth: AuthDotJson | null): void {
    this.#setCached(auth);
  }

  #setCached(auth: AuthDotJson | null): void {
    // A permanent failure and a backoff belong to one snapshot: any change of the auth forgets them.
    const key = snapshotKey(auth);
    if (this.#permanent && this.#permanent.key !== key) this.#permanent = null;
    this.#backoff.resetUnless(key);
    this.#cached = auth;
  }

  /** Codex's `reload_if_account_id_matches`. */
  async reloadIfAccountMatches(expected: string | null): Promise<ReloadOutcome> {
    if (expected === null) return "Skipped";
    // As Codex: any load or parse error counts as "nothing stored" (the file store already retries torn reads).
    const fresh = await this.#storage.load().catch(() => null);
    if (accountOf(fresh) !== expected) return "Skipped";
    const changed = !sameAuth(this.#cached, fresh);
    this.#setCached(fresh);
    return changed ? "ReloadedChanged" : "ReloadedNoChange";
  }

  /** The guarded refresh, single-flight in this process: concurrent callers share the first one's request. */
  refreshShared(reason: RefreshReason): Promise<RefreshResult> {
    this.#inflight ??= this.#refreshGuarded(reason).finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #refreshGuarded(reason: RefreshReason): Promise<RefreshResult> {
    const snapshot = await this.ensureLoaded();
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
      // No queueing: we waited a while and the holder left no new tokens, so its request failed or
      // timed out. Report that instead of spending another full request timeout in turn.
      if (queuedMs > this.#waitBoundMs() / 4) throw queuedBehindFailure(queuedMs);
      this.#setCached(fresh);
      const key = snapshotKey(fresh);
      if (this.#permanent?.key === key) throw this.#permanent.error;
      let refreshed: RefreshedTokens;
      try {
        const { access_token, id_token } = fresh.tokens;
        refreshed = await this.#refresher.refresh(fresh.tokens.refresh_token, { reason, secrets: [access_token, id_token] });
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
   * How long a refresh waits for another process's: about one request timeout (the holder's request
   * is bounded by it), and never more than the lock's own bound.
   */
  #waitBoundMs(): number {
    const request = this.#refresher.timeoutMs ?? DEFAULT_REFRESH_TIMEOUT_MS;
    return Math.min(this.#lock?.timeoutMs ?? Infinity, request + 1000);
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
