/**
 * What this process knows about the credential files it wrote, so that a save
 * can skip work whose answer it already has, and redoes it as soon as anything
 * else may have touched the file:
 *
 * - **The identity of each file right after our rename** (device, inode, size,
 *   mtime and ctime in nanoseconds, from an `lstat`). While the `lstat` a save
 *   takes anyway (symlink policy) shows exactly that identity, the file still
 *   holds the bytes we wrote, which are valid credentials by construction, so
 *   the corrupt-file check need not read and parse it again. Another writer's
 *   atomic replace shows up as another inode (both inodes exist when it
 *   renames); an in-place rewrite, a `chmod` or a `touch` as a new mtime or
 *   ctime. Since Linux 6.13, a timestamp that a `stat` has seen is followed by a
 *   fine-grained one, so even a rewrite within the same clock tick changes it;
 *   on older kernels a same-size rewrite in place within one tick (1–10 ms) of
 *   our own rename could go unseen, and then a corrupt file written in that
 *   window would be replaced without its backup.
 * - **Homes that a save found or created:** no `mkdir -p` before the next save
 *   there; the save creates the home again when it finds it gone (ENOENT).
 *
 * Per thread (module state): worker threads do not share it, and a write by
 * another thread is another writer's write.
 *
 * @module
 */
import type { BigIntStats } from "node:fs";

const identities = new Map<string, string>();
const knownHomes = new Set<string>();

/** The identity of a file, or `undefined` when this runtime does not report one exactly. */
function identity(stats: BigIntStats | null | undefined): string | undefined {
  if (stats === null || stats === undefined || !stats.isFile()) return undefined;
  const fields = [stats.dev, stats.ino, stats.size, stats.mtimeNs, stats.ctimeNs];
  if (!fields.every((field) => typeof field === "bigint") || stats.ino <= 0n) return undefined;
  return fields.join(":");
}

/** Records what `path` is right after this process wrote it (`null`: unknown, forget it). */
export function rememberWritten(path: string, stats: BigIntStats | null): void {
  const id = identity(stats);
  if (id === undefined) identities.delete(path);
  else identities.set(path, id);
}

/** Forgets `path` (before a write, after a delete): its next save reads it again. */
export function forgetWritten(path: string): void {
  identities.delete(path);
}

/** Whether `stats` (an `lstat` of `path`) shows the very file this process wrote there last. */
export function isUnchangedSinceWritten(path: string, stats: BigIntStats | null | undefined): boolean {
  const id = identity(stats);
  return id !== undefined && identities.get(path) === id;
}

/** Whether a save here already found or created this home. */
export function isKnownHome(home: string): boolean {
  return knownHomes.has(home);
}

/** Records that `home` exists (after a save there). */
export function rememberHome(home: string): void {
  knownHomes.add(home);
}

/** Forgets `home` (it was found missing). */
export function forgetHome(home: string): void {
  knownHomes.delete(home);
}
