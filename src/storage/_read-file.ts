/**
 * The one way authkeep reads a file (auth.json, config.toml, `.corrupt-*`
 * copies), bounded in time and memory whatever sits at the path: opened
 * non-blocking, checked with `fstat` on the open descriptor (so a file swapped
 * after an `lstat` cannot slip through), and read up to a cap. Sync and async
 * run the same flow.
 *
 * @module
 */
import type * as fsp from "node:fs/promises";
import type { Stats } from "node:fs";
import { fsPromises, nodeFs } from "../contract/_node-builtins.ts";
import { type Flow, io, runAsync, runSync, type Step } from "../contract/engine.ts";

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

/** A file opened for reading: its steps run the way the flow that opened it runs (sync or async). */
interface OpenFile {
  stat: Step<Stats>;
  read(buffer: Uint8Array, offset: number): Step<number>;
  close: Step<void>;
}

const onlyAsync = (): never => {
  throw new Error("a file opened asynchronously is read asynchronously");
};

/** Opens `path` non-blocking for reading; `null` when it does not exist. */
function openForReading(path: string): Step<OpenFile | null> {
  const missing = (error: unknown): null => {
    if ((error as { code?: unknown }).code === "ENOENT") return null;
    throw error;
  };
  return {
    sync: () => {
      let fd: number;
      try {
        fd = nodeFs().openSync(path, readFlags());
      } catch (error) {
        return missing(error);
      }
      const now = <T>(run: () => T): Step<T> => ({ sync: run, async: async () => run() });
      return {
        stat: now(() => nodeFs().fstatSync(fd)),
        read: (buffer, offset) => now(() => nodeFs().readSync(fd, buffer, offset, buffer.length - offset, null)),
        close: now(() => nodeFs().closeSync(fd)),
      };
    },
    async: async () => {
      let handle: fsp.FileHandle;
      try {
        handle = await fsPromises().open(path, readFlags());
      } catch (error) {
        return missing(error);
      }
      return {
        stat: { sync: onlyAsync, async: () => handle.stat() },
        read: (buffer, offset) => ({ sync: onlyAsync, async: async () => (await handle.read(buffer, offset, buffer.length - offset, null)).bytesRead }),
        close: { sync: onlyAsync, async: () => handle.close() },
      };
    },
  };
}

/**
 * Reads a file that must be regular and at most `cap` bytes. The size from
 * `fstat` is only a hint (the file may grow, or be sparse): read until a read
 * returns nothing, and fail as soon as more than `cap` bytes arrive.
 */
function* readFileFlow(path: string, cap: number): Flow<FileRead | null> {
  const file = yield* io(openForReading(path));
  if (file === null) return null;
  try {
    const stats = yield* io(file.stat);
    if (!stats.isFile()) throw notRegularFile(path, stats);
    if (stats.size > cap) throw tooLarge(path, cap);
    let buffer = new Uint8Array(Math.min(stats.size, cap) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > cap) throw tooLarge(path, cap);
        const bigger = new Uint8Array(Math.min(buffer.length * 2, cap + 1));
        bigger.set(buffer);
        buffer = bigger;
      }
      const count = yield* io(file.read(buffer, length));
      if (count === 0) return { bytes: buffer.subarray(0, length), stats };
      length += count;
    }
  } finally {
    yield* io(file.close);
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
  return { sync: () => runSync(readFileFlow(path, cap)), async: () => runAsync(readFileFlow(path, cap)) };
}

