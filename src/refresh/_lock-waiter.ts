/**
 * The sleeper refresh-lock waiters use: a timer that a change of the watched
 * files in the lock's directory cuts short, so a release is seen at once.
 *
 * @module
 */
import type { FSWatcher } from "node:fs";
import { nodeFs, nodePath } from "../contract/_node-builtins.ts";

/** Sleeps between lock attempts; see `RefreshLock.waiter`. */
export interface LockWaiter {
  /** Whether changes wake the sleeper (file watching works here); if not, only the timer does. */
  readonly watching: boolean;
  /** Waits `ms`, or less when a watched file changes. */
  sleep(ms: number): Promise<void>;
  /** Stops watching. */
  close(): void;
}

/** A waiter woken by changes of `files` (names) in the directory of `lockPath`. */
export function createLockWaiter(lockPath: string, files: readonly string[]): LockWaiter {
  const dir = nodePath().dirname(lockPath);
  let wake: (() => void) | null = null;
  // A change seen while nobody was sleeping makes the next sleep return at once, so none is lost.
  let dirty = false;
  let watcher: FSWatcher | null = null;
  try {
    watcher = nodeFs().watch(dir, { persistent: false }, (_event, name) => {
      if (name === null || !files.includes(String(name))) return;
      if (wake) wake();
      else dirty = true;
    });
    watcher.on("error", () => {
      watcher?.close();
      watcher = null;
    });
  } catch {
    watcher = null; // no inotify/FSEvents here (or the dir does not exist yet): poll only
  }
  return {
    get watching() {
      return watcher !== null;
    },
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        if (dirty) {
          dirty = false;
          resolve();
          return;
        }
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          wake = null;
          resolve();
        }
        wake = done;
      }),
    close: () => {
      watcher?.close();
      watcher = null;
      wake?.();
    },
  };
}
