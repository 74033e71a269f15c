/**
 * Puts something hostile where a file is expected: real FIFOs, directories,
 * symlinks and (as root) device nodes, for the lock-path tests.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The kinds {@linkcode makeHostilePath} can make. */
export const HOSTILE_KINDS = ["FIFO", "directory", "dangling symlink", "looping symlink", "symlink to a file", "character device"] as const;

/** Makes a `kind` at `path` (scratch files go in `dir`); `false` when it cannot be made here (no root for mknod). */
export function makeHostilePath(kind: (typeof HOSTILE_KINDS)[number], path: string, dir: string): boolean {
  switch (kind) {
    case "FIFO":
      return spawnSync("mkfifo", [path]).status === 0;
    case "directory":
      mkdirSync(path);
      return true;
    case "dangling symlink":
      symlinkSync(join(dir, "nowhere"), path);
      return true;
    case "looping symlink":
      symlinkSync(path, path);
      return true;
    case "symlink to a file":
      writeFileSync(join(dir, "elsewhere"), "");
      symlinkSync(join(dir, "elsewhere"), path);
      return true;
    case "character device":
      return spawnSync("mknod", [path, "c", "1", "5"]).status === 0; // /dev/zero's numbers; needs root
  }
}
