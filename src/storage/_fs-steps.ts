/**
 * The file-system operations the storages use, each as a sync/async
 * {@linkcode Step} pair.
 *
 * @module
 */
import type * as fsp from "node:fs/promises";
import type { BigIntStats, Stats } from "node:fs";
import { nodeFs, fsPromises, nodePath } from "../contract/_node-builtins.ts";
import type { Step } from "../contract/engine.ts";

// Reading lives in its own file (the bounded, non-blocking reader); re-exported for the storages.
export { type FileRead, MAX_READ_BYTES, readBytes, readFileAndStats } from "./_read-file.ts";

/** `lstat`, or `null` when nothing is there. */
export function lstatOrNull(path: string): Step<Stats | null> {
  return {
    sync: () => nodeFs().lstatSync(path, { throwIfNoEntry: false }) ?? null,
    async: () =>
      fsPromises().lstat(path).catch((error: { code?: unknown }) => {
        if (error.code === "ENOENT") return null;
        throw error;
      }),
  };
}

/**
 * `lstat` with nanosecond times (bigint fields), or `null` when nothing is
 * there: what a file's identity (device, inode, size, mtime, ctime) is read from.
 */
export function lstatExactOrNull(path: string): Step<BigIntStats | null> {
  return {
    sync: () => nodeFs().lstatSync(path, { bigint: true, throwIfNoEntry: false }) ?? null,
    async: () =>
      fsPromises().lstat(path, { bigint: true }).catch((error: { code?: unknown }) => {
        if (error.code === "ENOENT") return null;
        throw error;
      }),
  };
}

/** `stat`, or `null` when nothing is there. */
export function statOrNull(path: string): Step<Stats | null> {
  return {
    sync: () => nodeFs().statSync(path, { throwIfNoEntry: false }) ?? null,
    async: () =>
      fsPromises().stat(path).catch((error: { code?: unknown }) => {
        if (error.code === "ENOENT") return null;
        throw error;
      }),
  };
}

/** Resolves symlinks. */
export function realpath(path: string): Step<string> {
  return { sync: () => nodeFs().realpathSync(path), async: () => fsPromises().realpath(path) };
}

/**
 * `mkdir -p` with a mode for the directories it creates; returns the first one created.
 *
 * Not `{ recursive: true }`: Node's recursive mkdir loops forever where mkdir
 * keeps answering ENOENT although the parent exists (`/proc/x`, some FUSE and
 * network mounts). This walk finds the deepest existing ancestor, then creates
 * each missing level once, so every failure surfaces as an error.
 */
export function mkdirp(path: string, mode: number): Step<string | undefined> {
  const chain: string[] = [];
  for (let current = nodePath().resolve(path); ; current = nodePath().dirname(current)) {
    chain.push(current);
    if (nodePath().dirname(current) === current) break;
  }
  const alreadyThere = (error: unknown): void => {
    // Another process created it between our stat and mkdir; a file there fails at the next level.
    if ((error as { code?: unknown }).code !== "EEXIST") throw error;
  };
  return {
    sync: () => {
      let existing = 0;
      while (existing < chain.length && nodeFs().statSync(chain[existing]!, { throwIfNoEntry: false }) === undefined) existing++;
      let first: string | undefined;
      for (let i = existing - 1; i >= 0; i--) {
        try {
          nodeFs().mkdirSync(chain[i]!, { mode });
          first ??= chain[i];
        } catch (error) {
          alreadyThere(error);
        }
      }
      return first;
    },
    async: async () => {
      let existing = 0;
      while (existing < chain.length && (await statOrNull(chain[existing]!).async()) === null) existing++;
      let first: string | undefined;
      for (let i = existing - 1; i >= 0; i--) {
        try {
          await fsPromises().mkdir(chain[i]!, { mode });
          first ??= chain[i];
        } catch (error) {
          alreadyThere(error);
        }
      }
      return first;
    },
  };
}

/** Lists a directory. */
export function readdir(path: string): Step<string[]> {
  return { sync: () => nodeFs().readdirSync(path), async: () => fsPromises().readdir(path) };
}

/** Removes a file; returns whether it existed. */
export function unlinkIfExists(path: string): Step<boolean> {
  const missing = (error: { code?: unknown }): boolean => {
    if (error.code === "ENOENT") return false;
    throw error;
  };
  return {
    sync: () => {
      try {
        nodeFs().unlinkSync(path);
        return true;
      } catch (error) {
        return missing(error as { code?: unknown });
      }
    },
    async: () => fsPromises().unlink(path).then(() => true, missing),
  };
}

/** Renames `from` over `to`. */
export function rename(from: string, to: string): Step<void> {
  return { sync: () => nodeFs().renameSync(from, to), async: () => fsPromises().rename(from, to) };
}

/** Sets a file's mode. */
export function chmod(path: string, mode: number): Step<void> {
  return { sync: () => nodeFs().chmodSync(path, mode), async: () => fsPromises().chmod(path, mode) };
}

/** The owner to give a new file. */
export interface FileOwner {
  uid: number;
  gid: number;
}

/**
 * Creates `path` exclusively (it must not exist) with `mode`, gives it
 * `owner` when one is passed (through the descriptor, so a swapped path
 * cannot redirect the chown), writes `data`, fsyncs and closes it. The file
 * is closed even when a write fails.
 */
export function writeNewFileDurably(path: string, data: Uint8Array, mode: number, owner?: FileOwner): Step<void> {
  return {
    sync: () => {
      const fd = nodeFs().openSync(path, "wx", mode);
      try {
        if (owner !== undefined) nodeFs().fchownSync(fd, owner.uid, owner.gid);
        let offset = 0;
        while (offset < data.length) offset += nodeFs().writeSync(fd, data, offset, data.length - offset);
        nodeFs().fsyncSync(fd);
      } finally {
        nodeFs().closeSync(fd);
      }
    },
    async: async () => {
      const handle = await fsPromises().open(path, "wx", mode);
      try {
        if (owner !== undefined) await handle.chown(owner.uid, owner.gid);
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
    },
  };
}

/**
 * Fsyncs a directory so a rename in it survives a power cut. Platforms that
 * cannot open or fsync directories (Windows) are skipped silently.
 */
export function fsyncDirectory(path: string): Step<void> {
  const ignorable = (error: { code?: unknown }): void => {
    if (!["EISDIR", "EPERM", "EINVAL", "EBADF", "EACCES", "ENOTSUP"].includes(String(error.code))) throw error;
  };
  return {
    sync: () => {
      let fd: number;
      try {
        fd = nodeFs().openSync(path, "r");
      } catch (error) {
        return ignorable(error as { code?: unknown });
      }
      try {
        nodeFs().fsyncSync(fd);
      } catch (error) {
        ignorable(error as { code?: unknown });
      } finally {
        nodeFs().closeSync(fd);
      }
    },
    async: async () => {
      let handle: fsp.FileHandle;
      try {
        handle = await fsPromises().open(path, "r");
      } catch (error) {
        return ignorable(error as { code?: unknown });
      }
      try {
        await handle.sync();
      } catch (error) {
        ignorable(error as { code?: unknown });
      } finally {
        await handle.close();
      }
    },
  };
}

