/**
 * The contract between the storages and the native advisory-lock binding
 * (`native/lock/`): open a lock file safely, try to lock it without waiting,
 * release it. Waiting, its bound and its error live in the caller, so one
 * polling loop serves the sync and the async API alike.
 *
 * @module
 */

/** An opened lock file: a file descriptor (POSIX) or a `HANDLE` address (Windows). */
export interface LockFileHandle {
  /** The path it was opened from, for error messages. */
  readonly path: string;
  /** The descriptor or handle, opaque to callers. */
  readonly id: number | bigint;
}

/** Takes the same kernel locks as the Codex CLI: `flock` on POSIX, `LockFileEx` on Windows. */
export interface FileLocker {
  /** `"flock"` or `"LockFileEx"`: what the lock is, for messages and tests. */
  readonly mechanism: "flock" | "LockFileEx";
  /**
   * Opens `path` for locking, creating it with `mode` when missing. Never
   * follows a symlink, never blocks (a FIFO), and refuses anything but a
   * regular file with an error whose `code` is `ELOOP`, `EISDIR` or `EFTYPE`.
   * The file's contents are never read, truncated or replaced.
   */
  open(path: string, mode: number): LockFileHandle;
  /** Tries to take an exclusive lock without waiting; `false` when another holder has it. */
  tryLock(file: LockFileHandle): boolean;
  /** Unlocks (if locked) and closes. Never throws. */
  close(file: LockFileHandle): void;
}
