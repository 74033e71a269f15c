/**
 * A cross-process lock file, so that at most one process refreshes a login's
 * tokens at a time. It lives beside the credentials
 * (`<home>/auth.json.authkeep-refresh.lock`) whatever the storage mode,
 * because every process sharing a login shares that home. Its name is its
 * own: `auth.lock` and `auth.json.lock` are the Codex CLI's flock files,
 * which must never be read, deleted or replaced (`src/storage/_codex-lock.ts`).
 *
 * How it works:
 * - **Acquire:** create the file exclusively (`O_EXCL`) and write
 *   `{pid, host, startedAt, nonce}` into it.
 * - **Stale:** the holder's pid is dead on this host (`kill(pid, 0)` →
 *   `ESRCH`), or the file is older than `staleMs` (a holder on another host,
 *   or a hung one). `staleMs` is well above the refresh timeout.
 * - **Takeover:** a waiter that sees a stale lock with nonce `n` first creates
 *   `<lock>.takeover-<n>` exclusively. Only that one waiter may remove the
 *   stale file, and only after re-reading it and finding nonce `n` still
 *   there; then everyone competes for a fresh `O_EXCL` create again. A slow
 *   waiter that still believes in `n` later finds another nonce and backs off,
 *   so two waiters cannot both win.
 * - **Release:** removes the file only if it still carries our nonce.
 *
 * Known limits: a holder that is alive but stalls longer than `staleMs` can
 * lose its lock; a waiter killed during a takeover (a few file operations,
 * milliseconds) leaves a claim file that blocks takeovers of that one stale
 * lock until it is itself `staleMs` old. `authkeep migrate` and `logout`
 * name the files to remove by hand when they meet it. A symlink, directory,
 * FIFO or device at the lock path is a typed {@linkcode AuthStorageError};
 * a file too big to be a lock is judged by age alone and never read.
 *
 * @module
 */
import { randomHex } from "../contract/_crypto.ts";
import type { FileHandle } from "node:fs/promises";
import { fsPromises, nodeOs, nodePath } from "../contract/_node-builtins.ts";
import { errorCode } from "../contract/errors.ts";
import { LockTimeoutError, type RefreshLockHolder } from "../contract/lock-timeout-error.ts";
import { DEFAULT_REFRESH_TIMEOUT_MS } from "./token-refresher.ts";
import { mkdirp } from "../storage/_fs-steps.ts";
import { createLockWaiter, type LockWaiter } from "./_lock-waiter.ts";
import {
  badLockPath,
  heldNonces,
  type LockFileState,
  makeHandle,
  pidAlive,
  readLockFile,
  type RefreshLockHandle,
} from "./_refresh-lock-file.ts";
import type { RefreshLockOptions } from "./refresh-lock-options.ts";

export type { LockWaiter, RefreshLockHandle, RefreshLockHolder, RefreshLockOptions };

/** Default age after which a lock is stale. */
export const DEFAULT_LOCK_STALE_MS = 4 * DEFAULT_REFRESH_TIMEOUT_MS;
/** Default time to wait for a lock. */
export const DEFAULT_LOCK_TIMEOUT_MS = DEFAULT_LOCK_STALE_MS + DEFAULT_REFRESH_TIMEOUT_MS;

/** A content-less lock file older than this is treated as left by a holder that died while writing it. */
const UNREADABLE_GRACE_MS = 10_000;

/**
 * The refresh lock's path for a home: `<home>/<fileName>.authkeep-refresh.lock`.
 *
 * @param home The credentials home.
 * @param fileName The credentials file name.
 * @returns The lock file's path.
 */
export function refreshLockPath(home: string, fileName = "auth.json"): string {
  return nodePath().join(home, `${fileName}.authkeep-refresh.lock`);
}

/**
 * A cross-process lock file with stale-holder takeover. {@linkcode AuthManager}
 * creates one beside the auth file; use it directly to serialise other work.
 */
export class RefreshLock {
  /** The lock file. */
  readonly path: string;
  /** Age after which a lock is stale. */
  readonly staleMs: number;
  /** How long {@linkcode RefreshLock.acquire} waits. */
  readonly timeoutMs: number;
  /** Pause between attempts while waiting. */
  readonly pollMs: number;

  /** @param options The lock file and its timings. */
  constructor(options: RefreshLockOptions) {
    this.path = options.path;
    this.staleMs = options.staleMs ?? DEFAULT_LOCK_STALE_MS;
    this.timeoutMs = options.timeoutMs ?? Math.max(DEFAULT_LOCK_TIMEOUT_MS, this.staleMs + DEFAULT_REFRESH_TIMEOUT_MS);
    this.pollMs = options.pollMs ?? 10;
  }

  /**
   * Makes one attempt to take the lock, taking over a stale one.
   *
   * @returns The handle, or `null` when someone else holds it.
   * @throws {Error} when the lock file cannot be created for another reason than "exists".
   */
  async tryAcquire(): Promise<RefreshLockHandle | null> {
    // Two rounds: the holder may vanish between our create and our read.
    for (let round = 0; round < 2; round++) {
      const created = await this.#create();
      if (created) return created;
      const current = await readLockFile(this.path);
      if (current === null) continue;
      if (!this.#isStale(current)) return null;
      if (!(await this.#removeStale(current))) return null;
    }
    return null;
  }

  /**
   * Waits for the lock, polling, and takes over a stale one.
   *
   * @param options `timeoutMs` overrides the lock's own wait bound.
   * @returns The handle; release it in a `finally`.
   * @throws {LockTimeoutError} when the lock stays busy for `timeoutMs`.
   */
  async acquire(options: { timeoutMs?: number } = {}): Promise<RefreshLockHandle> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const start = Date.now();
    const waiter = this.waiter();
    try {
      for (;;) {
        const handle = await this.tryAcquire();
        if (handle) return handle;
        const waited = Date.now() - start;
        if (waited >= timeoutMs) throw new LockTimeoutError(this.path, waited, (await readLockFile(this.path))?.holder);
        await waiter.sleep(this.pollMs + Math.random() * this.pollMs);
      }
    } finally {
      waiter.close();
    }
  }

  /**
   * Returns a sleeper that wakes early when anything changes in the lock's
   * directory (the lock file released, the auth file replaced), so waiters
   * react at once instead of at their next poll. Where file watching is not
   * available it is a plain timer. Close it when done.
   *
   * @param files Wake for changes of these file names in the lock's directory
   * (default: the lock file only).
   * @returns The sleeper; `close()` it when done.
   */
  waiter(files?: readonly string[]): LockWaiter {
    return createLockWaiter(this.path, files ?? [nodePath().basename(this.path)]);
  }

  /** Reads who holds the lock now, or `null` when it is free or unreadable. */
  async holder(): Promise<RefreshLockHolder | null> {
    return (await readLockFile(this.path))?.holder ?? null;
  }

  async #create(madeHome = false): Promise<RefreshLockHandle | null> {
    const holder: RefreshLockHolder = {
      pid: process.pid,
      host: nodeOs().hostname(),
      startedAt: new Date().toISOString(),
      nonce: randomHex(16),
    };
    let file: FileHandle;
    try {
      file = await fsPromises().open(this.path, "wx", 0o600);
    } catch (error) {
      if (errorCode(error) === "EEXIST") return null;
      // Linux answers EEXIST for a looping link here; Deno's node:fs answers ELOOP.
      if (errorCode(error) === "ELOOP") throw badLockPath(this.path, "a symlink", "ELOOP", error);
      if (errorCode(error) !== "ENOENT" || madeHome) throw error;
      // The home does not exist yet (first login in progress); create it like the file store does.
      // Our own mkdirp: Node's recursive mkdir spins forever under /proc.
      await mkdirp(nodePath().dirname(this.path), 0o700).async();
      return this.#create(true);
    }
    heldNonces.add(holder.nonce);
    try {
      await file.writeFile(JSON.stringify(holder));
    } catch (error) {
      heldNonces.delete(holder.nonce);
      await file.close().catch(() => {});
      await fsPromises().unlink(this.path).catch(() => {});
      throw error;
    }
    await file.close();
    return makeHandle(this.path, holder.nonce);
  }

  #isStale(current: LockFileState): boolean {
    const age = Date.now() - current.mtimeMs;
    const holder = current.holder;
    if (holder === undefined) return age > Math.min(this.staleMs, UNREADABLE_GRACE_MS);
    if (holder.host === nodeOs().hostname()) {
      // Our own pid with a nonce we do not hold: a previous process that had our pid (containers reuse pids).
      if (holder.pid === process.pid) return !heldNonces.has(holder.nonce);
      if (!pidAlive(holder.pid)) return true;
    }
    return age > this.staleMs;
  }

  /** Removes the stale lock `seen` if we win the takeover claim for it; returns whether we removed it. */
  async #removeStale(seen: LockFileState): Promise<boolean> {
    const claimPath = `${this.path}.takeover-${seen.identity}`;
    let claim: FileHandle;
    try {
      claim = await fsPromises().open(claimPath, "wx", 0o600);
    } catch (error) {
      if (errorCode(error) !== "EEXIST") throw error;
      // Another waiter is taking over. If its claim is old, that waiter died mid-takeover.
      const stat = await fsPromises().stat(claimPath).catch(() => null);
      if (stat && Date.now() - stat.mtimeMs > this.staleMs) await fsPromises().unlink(claimPath).catch(() => {});
      return false;
    }
    try {
      await claim.close();
      // Re-read under the claim: only if the very lock we judged stale is still there may we remove it.
      const now = await readLockFile(this.path);
      if (now === null || now.identity !== seen.identity) return false;
      await fsPromises().unlink(this.path).catch((error: unknown) => {
        if (errorCode(error) !== "ENOENT") throw error;
      });
      return true;
    } finally {
      await fsPromises().unlink(claimPath).catch(() => {});
    }
  }
}
