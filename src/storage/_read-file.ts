/**
 * The one way authkeep reads a file (auth.json, config.toml, `.corrupt-*`
 * copies), bounded in time and memory whatever sits at the path: opened
 * non-blocking, checked with `fstat` on the open descriptor (so a file swapped
 * after an `lstat` cannot slip through), and read up to a cap. Sync and async
 * make the same calls through the same checks.
 *
 * @module
 */
import type * as fsp from "node:fs/promises";
import type { Stats } from "node:fs";
import { fsPromises, nodeFs } from "../contract/_node-builtins.ts";
import type { Step } from "../contract/engine.ts";

// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
let cachedReadFlags: number | undefined;
const readFlags = (): number => (cachedReadFlags ??= nodeFs().constants.O_RDONLY | (nodeFs().constants.O_NONBLOCK ?? 0));

/**
 * The most authkeep reads from any file: far above any real credential file
 * (a few KiB; keyrings cap values at 2.5-64 KiB), far below what would hurt.
 * A 200 MB auth.json once cost 600 MB of memory to refuse.
 */
export const MAX_READ_BYTES = 1024 * 1024;

function notRegularFile(path: string, stats: Stats): Error {
  if (stats.isDirectory()) return Object.assign(new Error(`${path} is a directory`), { code: "EISDIR" });
  return Object.assign(new Error(`${path} is not a regular file`), { code: "EFTYPE" });
}

function tooLarge(path: string, cap: number): Error {
  return Object.assign(new Error(`${path} is larger than ${cap} bytes, more than any credentials file holds`), { code: "EFBIG" });
}

/** Refuses what is not a regular file of at most `cap` bytes, from the `fstat` of the open descriptor. */
function checkOpened(path: string, stats: Stats, cap: number): void {
  if (!stats.isFile()) throw notRegularFile(path, stats);
  if (stats.size > cap) throw tooLarge(path, cap);
}

/** The first buffer: one byte more than `fstat` says, so a file that grew shows up in the first read. */
function firstBuffer(stats: Stats, cap: number): Uint8Array {
  return new Uint8Array(Math.min(stats.size, cap) + 1);
}

/** `buffer`, or a bigger copy of it when it is full; fails as soon as more than `cap` bytes arrived. */
function room(path: string, buffer: Uint8Array, length: number, cap: number): Uint8Array {
  if (length < buffer.length) return buffer;
  if (length > cap) throw tooLarge(path, cap);
  const bigger = new Uint8Array(Math.min(buffer.length * 2, cap + 1));
  bigger.set(buffer);
  return bigger;
}

/**
 * Reads a file that must be regular and at most `cap` bytes. The size from
 * `fstat` is only a hint (the file may grow, or be sparse): read until a read
 * returns nothing, and fail as soon as more than `cap` bytes arrive. The sync
 * and async forms are the same calls through the same checks, as plain code:
 * a load is a few microseconds, and running it as a flow (generators and step
 * objects) was a third of it.
 */
function readFileSyncNow(path: string, cap: number): FileRead | null {
  const fs = nodeFs();
  let fd: number;
  try {
    fd = fs.openSync(path, readFlags());
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return null;
    throw error;
  }
  try {
    const stats = fs.fstatSync(fd);
    checkOpened(path, stats, cap);
    let buffer = firstBuffer(stats, cap);
    let length = 0;
    for (;;) {
      buffer = room(path, buffer, length, cap);
      const count = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (count === 0) return { bytes: buffer.subarray(0, length), stats };
      length += count;
    }
  } finally {
    fs.closeSync(fd);
  }
}

async function readFileAsyncNow(path: string, cap: number): Promise<FileRead | null> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsPromises().open(path, readFlags());
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return null;
    throw error;
  }
  try {
    const stats = await handle.stat();
    checkOpened(path, stats, cap);
    let buffer = firstBuffer(stats, cap);
    let length = 0;
    for (;;) {
      buffer = room(path, buffer, length, cap);
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) return { bytes: buffer.subarray(0, length), stats };
      length += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Reads a whole file as bytes; `null` when it does not exist. Bounded in time
 * and memory whatever is at `path`: it is opened non-blocking (a FIFO never
 * waits for a writer), anything but a regular file (a FIFO, a device such as
 * /dev/zero, a socket) is refused with code `EFTYPE` (a directory with
 * `EISDIR`), and a file larger than `cap` with `EFBIG` after reading at most
 * `cap + 1` bytes.
 */
export function readBytes(path: string, cap: number = MAX_READ_BYTES): Step<Uint8Array | null> {
  const read = readFileAndStats(path, cap);
  return {
    sync: () => read.sync()?.bytes ?? null,
    async: async () => (await read.async())?.bytes ?? null,
  };
}

/** A file's bytes and the `fstat` of the descriptor they were read from (so both describe the same file). */
export interface FileRead {
  bytes: Uint8Array;
  stats: Stats;
}

/** {@linkcode readBytes}, also returning the file's `fstat` (mode, owner, links) for the caller's checks. */
export function readFileAndStats(path: string, cap: number = MAX_READ_BYTES): Step<FileRead | null> {
  return { sync: () => readFileSyncNow(path, cap), async: () => readFileAsyncNow(path, cap) };
}

