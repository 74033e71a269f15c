/**
 * `flock(2)` from libc through the FFI provider, on a descriptor opened with
 * `node:fs` (on Node, Bun and Deno alike those are real kernel descriptors).
 * This is the lock Rust's `File::lock`/`try_lock` take, so the Codex CLI
 * and `flock(1)` see it.
 *
 * @module
 */
import { nodeFs } from "../../src/contract/_node-builtins.ts";
import type { FileLocker, LockFileHandle } from "../../src/contract/file-locker.ts";
import { memoizePerProvider } from "../ffi/_bindings-cache.ts";
import { type FfiOptions, loadFfiProvider, type FfiSymbols } from "../ffi/index.ts";

const LIBC = {
  // int flock(int fd, int operation)
  flock: { args: ["i32", "i32"], returns: "i32" },
} as const satisfies FfiSymbols;

// The same values on Linux, the BSDs and macOS.
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;

const LIBRARIES: Readonly<Record<string, readonly string[]>> = {
  darwin: ["libSystem.B.dylib"],
  linux: ["libc.so.6", "libc.so"],
};

const bindLibc = memoizePerProvider((ffi) => {
  let last: unknown;
  for (const name of LIBRARIES[process.platform] ?? ["libc.so.6"]) {
    try {
      return ffi.open(name, LIBC).symbols;
    } catch (error) {
      last = error;
    }
  }
  throw last;
});

/**
 * Opens a lock file the way the contract asks: `O_NOFOLLOW` (a symlink, even a
 * dangling or looping one, is `ELOOP`), `O_NONBLOCK` (a FIFO never blocks the
 * open), `O_CLOEXEC` (libuv and Deno set it on every descriptor), then `fstat`
 * through the same descriptor must show a regular file.
 */
export function openLockFile(path: string, mode: number): LockFileHandle {
  const fs = nodeFs();
  const c = fs.constants;
  const fd = fs.openSync(path, c.O_RDWR | c.O_CREAT | (c.O_NOFOLLOW ?? 0) | (c.O_NONBLOCK ?? 0), mode);
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) {
      const what = stats.isDirectory() ? "a directory" : stats.isFIFO() ? "a FIFO" : stats.isCharacterDevice() ? "a device" : "not a regular file";
      throw Object.assign(new Error(`${path} is ${what}, not a lock file`), { code: stats.isDirectory() ? "EISDIR" : "EFTYPE" });
    }
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
  return { path, id: fd };
}

/** The POSIX locker: `flock` through the FFI provider. */
export function createPosixLocker(options: FfiOptions = {}): FileLocker {
  const libc = bindLibc(loadFfiProvider(options));
  return {
    mechanism: "flock",
    open: openLockFile,
    // -1 is EWOULDBLOCK for a descriptor we opened ourselves (EINTR cannot happen with LOCK_NB;
    // ENOLCK on some network mounts then reads as "busy" until the bound).
    tryLock: (file) => libc.flock(Number(file.id), LOCK_EX | LOCK_NB) === 0,
    close: (file) => {
      try {
        libc.flock(Number(file.id), LOCK_UN);
        nodeFs().closeSync(Number(file.id));
      } catch {
        // Closing releases the lock anyway.
      }
    },
  };
}
