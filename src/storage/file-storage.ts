/**
 * `file` mode: `<home>/auth.json`, written atomically, read with a bounded
 * retry.
 *
 * Policies (documented in docs/behaviour.md):
 * - the home directory is created 0700 and the file is always 0600 after a save;
 *   a home or file that other users could have planted or can change, and a
 *   file others can read, gets a warning (`_strict-modes.ts`);
 * - a symlinked `auth.json` is followed: saves atomically replace the link's
 *   target (the link stays), and delete removes the target and the link;
 * - a corrupt file is never silently lost: before a save replaces it (or a
 *   keyring save removes it), its bytes are kept as
 *   `auth.json.corrupt-<timestamp>` (0600) with a warning.
 *
 * @module
 */
import type { AuthDotJson } from "../document/auth-types.ts";
import { parseAuthJson, serializeAuthJson } from "../document/auth-json.ts";
import { AuthFormatError, AuthStorageError, type AuthStorageOperation, errorCode } from "../contract/errors.ts";
import { type Flow, io, sleepStep } from "../contract/engine.ts";
import type { BigIntStats } from "node:fs";
import { type FileRead, lstatExactOrNull, lstatOrNull, mkdirp, readBytes, readdir, readFileAndStats, realpath, statOrNull, unlinkIfExists, writeNewFileDurably } from "./_fs-steps.ts";
import { forgetHome, forgetWritten, isKnownHome, isUnchangedSinceWritten, rememberHome, rememberWritten } from "./_written-files.ts";
import { ownerToKeep, writeFileAtomicFlow } from "./atomic-write.ts";
import { warnIfFileIsExposed, warnIfHomeIsShared } from "./_strict-modes.ts";
import type { StorageFlows } from "./_flow-storage.ts";
import { nodePath } from "../contract/_node-builtins.ts";
import { LockTimeoutError } from "../contract/lock-timeout-error.ts";
import { type LockLocation, withCodexLocks } from "./_codex-lock.ts";

/** Where a file-backed storage keeps its file, how long it waits for Codex's locks, and how it reports warnings. */
export interface FileLocation extends LockLocation {
  home: string;
  fileName: string;
  warn: (message: string) => void;
}

// Codex 0.169 replaces auth.json atomically, but older Codex versions and other tools truncate
// and rewrite it in place, so a reader can catch it half-written: retry a parse failure,
// 3 attempts over ~100 ms.
const LOAD_ATTEMPTS = 3;
const LOAD_RETRY_DELAY_MS = 50;
const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** The flows of `file` mode. */
export function fileStorageFlows(location: FileLocation): StorageFlows {
  return {
    load: () => loadFileFlow(location),
    save: (auth) => saveFileFlow(location, auth),
    delete: () => deleteFileFlow(location),
  };
}

/** The path of the credentials file. */
export function authFilePath(location: FileLocation): string {
  return nodePath().join(location.home, location.fileName);
}

/** Loads the file: `null` when missing, retrying parse failures. */
export function* loadFileFlow(location: FileLocation, attempts = LOAD_ATTEMPTS): Flow<AuthDotJson | null> {
  const path = authFilePath(location);
  // Credentials read from a home others can write to may be theirs, not the user's.
  try {
    yield* warnIfHomeIsShared(location);
  } catch {
    // Only a warning: the read below reports real problems.
  }
  for (let attempt = 1; ; attempt++) {
    let read: FileRead | null;
    try {
      read = yield* io(readFileAndStats(path));
    } catch (error) {
      throw storageError("load", path, error);
    }
    if (read === null) return null;
    if (attempt === 1) warnIfFileIsExposed(location, path, read.stats);
    try {
      return decodeAuthFile(read.bytes, path);
    } catch (error) {
      if (attempt >= attempts) throw error;
    }
    yield* io(sleepStep(LOAD_RETRY_DELAY_MS));
  }
}

/** Parses file bytes, naming the file in any error. */
export function decodeAuthFile(bytes: Uint8Array, path: string): AuthDotJson {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new AuthFormatError(`${path} is not valid UTF-8`);
  }
  try {
    return parseAuthJson(text);
  } catch (error) {
    const format = error as AuthFormatError;
    throw new AuthFormatError(`${path}: ${format.message}`, {
      field: format.field,
      line: format.line,
      column: format.column,
    });
  }
}

/**
 * Saves atomically under Codex's two file locks, keeping a corrupt
 * predecessor and warning about loose permissions.
 */
export function* saveFileFlow(location: FileLocation, auth: AuthDotJson): Flow<void> {
  // Serialize first: a document we could not read back is never written.
  const data = encoder.encode(serializeAuthJson(auth));
  const path = authFilePath(location);
  try {
    // A home this process already saved into is not created again; if it was removed since, the
    // save meets ENOENT and creates it as a first save would.
    const known = isKnownHome(location.home);
    if (!known) yield* io(mkdirp(location.home, 0o700));
    yield* warnIfHomeIsShared(location);
    try {
      yield* saveUnderLocks(location, path, data);
    } catch (error) {
      if (!known || errorCode(error) !== "ENOENT" || (yield* io(statOrNull(location.home))) !== null) throw error;
      forgetHome(location.home);
      yield* io(mkdirp(location.home, 0o700));
      yield* saveUnderLocks(location, path, data);
    }
    rememberHome(location.home);
  } catch (error) {
    if (error instanceof AuthStorageError || error instanceof LockTimeoutError) throw error;
    throw storageError("save", path, error);
  }
}

function* saveUnderLocks(location: FileLocation, path: string, data: Uint8Array): Flow<void> {
  yield* withCodexLocks(location, function* () {
    const { target, stats } = yield* resolveTarget(path);
    // The file this process wrote last, untouched since (_written-files.ts): valid by construction.
    if (!isUnchangedSinceWritten(target, stats)) yield* keepCorruptPredecessor(location, path, target);
    forgetWritten(target);
    const owner = stats === undefined ? undefined : stats === null ? null : { uid: Number(stats.uid), gid: Number(stats.gid) };
    yield* writeFileAtomicFlow(target, data, 0o600, owner);
    let written: BigIntStats | null = null;
    try {
      written = yield* io(lstatExactOrNull(target));
    } catch {
      // The save is done; without an identity the next save only reads the file again.
    }
    rememberWritten(target, written);
  });
}

/**
 * Deletes the file (and, for a symlink, its target) under Codex's two file
 * locks; returns whether anything existed. With no file there, no lock is
 * taken, so a keyring-only home gets no lock files.
 */
export function* deleteFileFlow(location: FileLocation): Flow<boolean> {
  const path = authFilePath(location);
  try {
    if ((yield* io(lstatOrNull(path))) === null) return false;
    return yield* withCodexLocks(location, () => deleteUnderLocks(path));
  } catch (error) {
    if (error instanceof LockTimeoutError) throw error;
    throw storageError("delete", path, error);
  }
}

function* deleteUnderLocks(path: string): Flow<boolean> {
  const link = yield* io(lstatOrNull(path));
  let removedTarget = false;
  if (link?.isSymbolicLink()) {
    try {
      const target = yield* io(realpath(path));
      forgetWritten(target);
      removedTarget = yield* io(unlinkIfExists(target));
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw error;
    }
  }
  forgetWritten(path);
  return (yield* io(unlinkIfExists(path))) || removedTarget;
}

/** The file a save replaces, and its `lstat` when that is the file itself (`undefined` behind a symlink, `null` when missing). */
function* resolveTarget(path: string): Flow<{ target: string; stats: BigIntStats | null | undefined }> {
  const link = yield* io(lstatExactOrNull(path));
  if (!link?.isSymbolicLink()) return { target: path, stats: link };
  try {
    return { target: yield* io(realpath(path)), stats: undefined };
  } catch (error) {
    throw new AuthStorageError(`${path} is a symlink to a file that does not exist; fix or remove the link`, {
      operation: "save",
      path,
      code: errorCode(error),
      cause: error,
    });
  }
}

/**
 * Before a keyring save removes the fallback file (as Codex does), keeps a
 * corrupt one's bytes as `auth.json.corrupt-<timestamp>` with a warning, so
 * the removal never loses a file that could not be read. Throws when the
 * backup cannot be written; the caller then leaves the file alone.
 */
export function* keepCorruptFileFlow(location: FileLocation): Flow<void> {
  const path = authFilePath(location);
  const link = yield* io(lstatOrNull(path));
  if (link === null) return;
  let target = path;
  if (link.isSymbolicLink()) {
    try {
      target = yield* io(realpath(path));
    } catch {
      return; // A dangling link holds no bytes to keep.
    }
  }
  yield* keepCorruptPredecessor(location, path, target);
}

function* keepCorruptPredecessor(location: FileLocation, path: string, target: string): Flow<void> {
  const existing = yield* io(readBytes(target));
  // An empty file holds nothing to lose (and is what a truncating writer leaves mid-write).
  if (existing === null || existing.length === 0) return;
  try {
    decodeAuthFile(existing, path);
    return;
  } catch {
    // Not readable: keep it before we replace it.
  }
  // A save that failed after keeping the copy (a full disk) must not pile up copies when retried.
  const kept = yield* findKeptCopy(path, existing);
  if (kept !== undefined) {
    location.warn(`${path} did not contain valid credentials; its old contents are already kept in ${kept}`);
    return;
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  for (let suffix = 0; ; suffix++) {
    const backup = `${path}.corrupt-${stamp}${suffix === 0 ? "" : `-${suffix}`}`;
    try {
      // Root keeping a user's corrupt file keeps it readable by that user.
      yield* io(writeNewFileDurably(backup, existing, 0o600, yield* ownerToKeep(target)));
    } catch (error) {
      if (errorCode(error) === "EEXIST" && suffix < 100) continue;
      // Created but not completely written (ENOSPC, EIO): a partial copy would pass for the old file.
      if ((error as { syscall?: unknown }).syscall !== "open") yield* io(unlinkIfExists(backup));
      throw error;
    }
    location.warn(`${path} did not contain valid credentials; its old contents were kept in ${backup} before it was replaced`);
    return;
  }
}

/** The name of an existing `.corrupt-*` copy holding exactly `bytes`, if any. */
function* findKeptCopy(path: string, bytes: Uint8Array): Flow<string | undefined> {
  const prefix = `${nodePath().basename(path)}.corrupt-`;
  let names: string[];
  try {
    names = yield* io(readdir(nodePath().dirname(path)));
  } catch {
    return undefined;
  }
  // The newest few: a directory stuffed with copies must not make every save read them all.
  for (const name of names.filter((entry) => entry.startsWith(prefix)).sort().reverse().slice(0, 16)) {
    const candidate = nodePath().join(nodePath().dirname(path), name);
    try {
      const copy = yield* io(readBytes(candidate));
      if (copy !== null && copy.length === bytes.length && copy.every((byte, i) => byte === bytes[i])) return candidate;
    } catch {
      // Not a copy we can compare (a FIFO, a directory, unreadable): not ours to reuse.
    }
  }
  return undefined;
}

/** Wraps a system error from a storage operation. */
export function storageError(operation: AuthStorageOperation, path: string, error: unknown): AuthStorageError {
  const code = errorCode(error);
  const verb = { load: "read", save: "write", delete: "remove" }[operation];
  const detail = error instanceof Error ? error.message : String(error);
  return new AuthStorageError(`failed to ${verb} credentials file ${path}: ${detail}`, {
    operation,
    path,
    code,
    cause: error,
  });
}
