/**
 * Reading a refresh lock file, hostile-path safe: never follows a symlink,
 * never blocks on a FIFO, refuses anything but a regular file with a typed
 * error, and reads at most {@linkcode MAX_LOCK_FILE_BYTES} (a holder record
 * is about 150 bytes; a bigger file is judged by age alone, never loaded).
 *
 * @module
 */
import type { FileHandle } from "node:fs/promises";
import type { RefreshLockHolder } from "../contract/lock-timeout-error.ts";
import { AuthStorageError, errorCode } from "../contract/errors.ts";
import { fsPromises, nodeFs } from "../contract/_node-builtins.ts";

/** The most of a lock file ever read. */
export const MAX_LOCK_FILE_BYTES = 4096;

/** What a lock file says now. */
export interface LockFileState {
  /** The parsed content, or `undefined` while it is being written (or corrupt, or too big). */
  holder: RefreshLockHolder | undefined;
  mtimeMs: number;
  /** The nonce, or (for unreadable content) the inode and mtime: names one acquisition. */
  identity: string;
}

let flags: number | undefined;
const readFlags = (): number => {
  const c = nodeFs().constants;
  return (flags ??= c.O_RDONLY | (c.O_NOFOLLOW ?? 0) | (c.O_NONBLOCK ?? 0));
};

/** A typed error for a lock path that holds something no lock file can be. */
export function badLockPath(path: string, what: string, code: string, cause?: unknown): AuthStorageError {
  return new AuthStorageError(`the refresh lock ${path} is ${what}, not a lock file; remove it`, {
    operation: "save",
    path,
    code,
    cause,
  });
}

/** Reads the lock file; `null` when there is none. */
export async function readLockFile(path: string): Promise<LockFileState | null> {
  // lstat first as well: not every runtime's node:fs honours O_NOFOLLOW (Deno 2.9 follows the
  // link, so a dangling one read as "no lock" and the acquire loop waited out its timeout).
  const link = await fsPromises().lstat(path).catch(() => null);
  if (link?.isSymbolicLink()) throw badLockPath(path, "a symlink", "ELOOP");
  let file: FileHandle;
  try {
    file = await fsPromises().open(path, readFlags());
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT") return null;
    if (code === "ELOOP" || code === "EMLINK") throw badLockPath(path, "a symlink", "ELOOP", error);
    throw error;
  }
  try {
    // stat and read through one descriptor, so both describe the same file.
    const stat = await file.stat();
    if (!stat.isFile()) {
      const what = stat.isDirectory() ? "a directory" : stat.isFIFO() ? "a FIFO" : "not a regular file";
      throw badLockPath(path, what, stat.isDirectory() ? "EISDIR" : "EFTYPE");
    }
    let holder: RefreshLockHolder | undefined;
    if (stat.size <= MAX_LOCK_FILE_BYTES) {
      const buffer = new Uint8Array(MAX_LOCK_FILE_BYTES);
      const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
      holder = parseHolder(new TextDecoder().decode(buffer.subarray(0, bytesRead)));
    }
    const identity = holder ? holder.nonce : `i${stat.ino}-${Math.trunc(stat.mtimeMs)}`;
    return { holder, mtimeMs: stat.mtimeMs, identity };
  } finally {
    await file.close();
  }
}

function parseHolder(text: string): RefreshLockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<RefreshLockHolder> | null;
    if (
      value !== null &&
      typeof value === "object" &&
      Number.isSafeInteger(value.pid) &&
      typeof value.host === "string" &&
      typeof value.startedAt === "string" &&
      typeof value.nonce === "string" &&
      /^[0-9a-f]{8,64}$/.test(value.nonce)
    ) {
      return value as RefreshLockHolder;
    }
  } catch {
    // Being written, or garbage: judged by age alone.
  }
  return undefined;
}

/** Whether a process with this pid exists on this host. EPERM means it exists but is not ours. */
export function pidAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) !== "ESRCH";
  }
}

/** Nonces this process holds right now, so our own pid in a lock file is not mistaken for a dead holder. */
export const heldNonces = new Set<string>();

/** A held lock. Release it in a `finally`. */
export interface RefreshLockHandle {
  /** The lock file. */
  readonly path: string;
  /** The nonce written into the lock file. */
  readonly nonce: string;
  /** Removes the lock file if it is still ours; returns whether it removed it. */
  release(): Promise<boolean>;
}

/** The handle of a lock we just created with `nonce`. */
export function makeHandle(path: string, nonce: string): RefreshLockHandle {
  let released = false;
  return {
    path,
    nonce,
    async release() {
      if (released) return false;
      released = true;
      try {
        const current = await readLockFile(path).catch(() => null);
        // Someone took it over (we overran staleMs): their lock is not ours to remove.
        if (current?.holder?.nonce !== nonce) return false;
        await fsPromises().unlink(path);
        return true;
      } catch (error) {
        if (errorCode(error) === "ENOENT") return false;
        throw error;
      } finally {
        // Only now: until the file is gone, our pid in it must not look like a dead predecessor's.
        heldNonces.delete(nonce);
      }
    },
  };
}
