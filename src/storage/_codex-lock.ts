/**
 * The Codex CLI's lock protocol around every write of `auth.json` (Codex
 * 0.169): `flock(<home>/auth.lock, LOCK_EX)`, then
 * `flock(<home>/<fileName>.lock, LOCK_EX|LOCK_NB)`, the atomic write,
 * release. authkeep takes both in the same order with `LOCK_NB` polls and a
 * short backoff, so the sync API waits in bounded sleeps and the async API
 * never blocks the event loop. Both files are created when missing with
 * Codex's modes (0644, 0600) and never deleted, truncated or replaced:
 * another process may hold a lock on that very inode.
 *
 * Without FFI (koffi not installed on Node) there is no lock: the write is
 * still atomic, but it no longer excludes a concurrent Codex writer. That is
 * said once per process through `onWarning`, and never fails a save.
 *
 * @module
 */
import type { LockFileHandle } from "../contract/file-locker.ts";
import { type Flow, io, sleepStep } from "../contract/engine.ts";
import { LockTimeoutError } from "../contract/lock-timeout-error.ts";
import { nodePath } from "../contract/_node-builtins.ts";
import { fileLocker } from "./_file-locker.ts";

/** How long a save or delete waits for Codex's locks by default. */
export const DEFAULT_FILE_LOCK_TIMEOUT_MS = 5000;
/** Codex's first lock, taken with a blocking `flock`. */
export const CODEX_HOME_LOCK = "auth.lock";

/** Where the locks are, how long to wait for them, and where to warn. */
export interface LockLocation {
  home: string;
  fileName: string;
  warn: (message: string) => void;
  /** @default {DEFAULT_FILE_LOCK_TIMEOUT_MS} */
  lockTimeoutMs?: number;
  /** `false` for files that are not Codex's (the doctor's probe file): no locks, no lock files. */
  codexLocks?: boolean;
}

let warnedNoLocker = false;

/** The two lock files, in the order they are taken. */
export function codexLockPaths(location: Pick<LockLocation, "home" | "fileName">): [string, string] {
  return [nodePath().join(location.home, CODEX_HOME_LOCK), nodePath().join(location.home, `${location.fileName}.lock`)];
}

/** Runs `body` holding both Codex locks (or, without FFI, unlocked after a one-time warning). */
export function* withCodexLocks<T>(location: LockLocation, body: () => Flow<T>): Flow<T> {
  if (location.codexLocks === false) return yield* body();
  const { locker, reason } = fileLocker();
  if (locker === null) {
    if (!warnedNoLocker) {
      warnedNoLocker = true;
      location.warn(
        `no file locking here (${reason}): authkeep still writes ${location.fileName} atomically, but a Codex CLI ` +
          "writing at the same moment is not kept out; install koffi (npm install koffi) to take Codex's locks",
      );
    }
    return yield* body();
  }
  const deadline = Date.now() + (location.lockTimeoutMs ?? DEFAULT_FILE_LOCK_TIMEOUT_MS);
  const held: LockFileHandle[] = [];
  try {
    for (const [path, mode] of [[codexLockPaths(location)[0], 0o644], [codexLockPaths(location)[1], 0o600]] as const) {
      const file = yield* io<LockFileHandle>({ sync: () => locker.open(path, mode), async: async () => locker.open(path, mode) });
      held.push(file);
      const start = Date.now();
      for (let pause = 1; !locker.tryLock(file); pause = Math.min(pause * 2, 50)) {
        if (Date.now() >= deadline) throw new LockTimeoutError(path, Date.now() - start, undefined, "file");
        yield* io(sleepStep(Math.min(pause, Math.max(1, deadline - Date.now()))));
      }
    }
    return yield* body();
  } finally {
    for (const file of held.reverse()) locker.close(file);
  }
}
