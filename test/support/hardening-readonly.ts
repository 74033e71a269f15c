/**
 * Ways to make a directory really refuse writes while the tests run as root
 * (where mode bits do not stop anyone): the immutable attribute (`chattr +i`,
 * EPERM) and a read-only bind mount (EROFS). Each returns `undefined` when
 * this machine cannot do it, so the caller can skip with a reason.
 *
 * @module
 */
import { execFileSync } from "node:child_process";

function run(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Makes `directory` immutable; returns the undo function, or `undefined` if unsupported. */
export function makeImmutable(directory: string): (() => void) | undefined {
  if (!run("chattr", ["+i", directory])) return undefined;
  return () => void run("chattr", ["-i", directory]);
}

/** Bind-mounts `directory` read-only over itself; returns the undo function, or `undefined`. */
export function mountReadOnly(directory: string): (() => void) | undefined {
  if (!run("mount", ["--bind", directory, directory])) return undefined;
  if (!run("mount", ["-o", "remount,bind,ro", directory])) {
    run("umount", [directory]);
    return undefined;
  }
  return () => void run("umount", [directory]);
}
