/**
 * Crash-safe file replacement: a temp file in the same directory, created
 * exclusively with an unpredictable name and mode 0600 (and, when root
 * replaces another user's file, that user as owner), written, fsynced,
 * renamed over the target, then the directory fsynced. A reader sees the old
 * file or the new one, never a mix; a crash leaves at most a temp file, which
 * the next write removes.
 *
 * @module
 */
import { type Flow, io, runAsync, runSync, sleepStep } from "../contract/engine.ts";
import { type FileOwner, fsyncDirectory, readdir, rename, statOrNull, unlinkIfExists, writeNewFileDurably } from "./_fs-steps.ts";
import { errorCode } from "../contract/errors.ts";
import { randomHex } from "../contract/_crypto.ts";
import { nodePath } from "../contract/_node-builtins.ts";

/** Options for {@linkcode writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /**
   * The mode of the new file (before the umask).
   * @default {0o600}
   */
  mode?: number;
}

// Temp files of writes still running in this thread; everything else matching our
// pattern whose writer process is gone (or that is older than STALE_TEMP_MS) is debris.
const inFlight = new Set<string>();
// A temp file this old is debris even if its pid now belongs to someone else.
const STALE_TEMP_MS = 10 * 60 * 1000;

/**
 * Atomically replaces `path` with `data`.
 *
 * @param path The file to write.
 * @param data The new contents.
 * @param options The file mode.
 * @throws The system error (`EACCES`, `EROFS`, `ENOSPC`, …); the old file is then untouched.
 */
export function writeFileAtomic(path: string, data: Uint8Array, options: WriteFileAtomicOptions = {}): Promise<void> {
  return runAsync(writeFileAtomicFlow(path, data, options.mode ?? 0o600));
}

/**
 * Synchronous twin of {@linkcode writeFileAtomic}.
 */
export function writeFileAtomicSync(path: string, data: Uint8Array, options: WriteFileAtomicOptions = {}): void {
  runSync(writeFileAtomicFlow(path, data, options.mode ?? 0o600));
}

/**
 * The atomic write as a flow, for storages that compose it with other steps.
 * `existing` is the owner of the file at `path` when the caller has just
 * `lstat`ed it (`null`: nothing there), which spares root a `stat`.
 */
export function* writeFileAtomicFlow(path: string, data: Uint8Array, mode: number, existing?: FileOwner | null): Flow<void> {
  const directory = nodePath().dirname(path);
  const name = nodePath().basename(path);
  yield* removeStaleTempFiles(directory, name);
  const owner = yield* ownerToKeep(path, existing);
  const temp = nodePath().join(directory, `.${name}.${process.pid}.${randomHex(6)}.tmp`);
  inFlight.add(temp);
  try {
    yield* io(writeNewFileDurably(temp, data, mode, owner));
    yield* renameWithRetry(temp, path);
  } catch (error) {
    try {
      yield* io(unlinkIfExists(temp));
    } catch {
      // The original error matters more; the next write removes the temp file.
    }
    throw error;
  } finally {
    inFlight.delete(temp);
  }
  yield* io(fsyncDirectory(directory));
}

/**
 * The owner of the file being replaced, when we run as root and it belongs to
 * someone else. A rename installs a file owned by its creator, so without this
 * root (sudo, a system service) saving a user's auth.json left a root-owned
 * 0600 file the user could no longer read. Others cannot chown, and need not.
 */
export function* ownerToKeep(path: string, known?: FileOwner | null): Flow<FileOwner | undefined> {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return undefined;
  const existing = known === undefined ? yield* io(statOrNull(path)) : known;
  if (existing === null || (existing.uid === 0 && existing.gid === process.getgid?.())) return undefined;
  return { uid: existing.uid, gid: existing.gid };
}

function* renameWithRetry(from: string, to: string): Flow<void> {
  // On Windows a rename over a file another process has open fails briefly (EPERM/EBUSY).
  for (let attempt = 1; ; attempt++) {
    try {
      return yield* io(rename(from, to));
    } catch (error) {
      const retryable = process.platform === "win32" && ["EPERM", "EACCES", "EBUSY"].includes(errorCode(error) ?? "");
      if (!retryable || attempt >= 10) throw error;
    }
    yield* io(sleepStep(10 * attempt));
  }
}

// When each target's directory was last swept. Debris only appears when a writer dies, so a
// sweep on the first write of a process and then at most every SWEEP_INTERVAL_MS is enough,
// and saves do not pay a readdir each.
const lastSweep = new Map<string, number>();
const SWEEP_INTERVAL_MS = 30_000;

function* removeStaleTempFiles(directory: string, name: string): Flow<void> {
  const key = nodePath().join(directory, name);
  const now = Date.now();
  if (now - (lastSweep.get(key) ?? -Infinity) < SWEEP_INTERVAL_MS) return;
  let entries: string[];
  try {
    entries = yield* io(readdir(directory));
  } catch {
    return; // The directory may not exist yet; the write itself reports real problems.
  }
  lastSweep.set(key, now);
  const prefix = `.${name}.`;
  for (const entry of entries) {
    if (!entry.startsWith(prefix) || !entry.endsWith(".tmp")) continue;
    const match = /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(entry.slice(prefix.length));
    if (match === null) continue;
    const full = nodePath().join(directory, entry);
    if (inFlight.has(full)) continue;
    const pid = Number(match[1]);
    // Our own pid but not one of this thread's writes: worker threads share the pid but not
    // `inFlight`, so it may be another thread's write in progress. Deleting those made most
    // saves from concurrent worker threads fail with ENOENT; only age makes them debris.
    let stale = pid !== process.pid && !isProcessAlive(pid);
    if (!stale) {
      const stats = yield* io(statOrNull(full));
      stale = stats !== null && Date.now() - stats.mtimeMs > STALE_TEMP_MS;
    }
    if (!stale) continue;
    try {
      yield* io(unlinkIfExists(full));
    } catch {
      // Best effort: another writer may be cleaning the same debris.
    }
  }
}

/** Whether a process with this pid exists on this host. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === "EPERM";
  }
}
