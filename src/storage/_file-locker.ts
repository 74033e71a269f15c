/**
 * The native advisory-lock binding (`native/lock/`), loaded on first use the
 * way `src/keyring/platform-keyring-stores.ts` loads the keyrings, so that
 * importing authkeep parses none of it. Where no FFI is available (koffi not
 * installed on Node), there is no locker and the storages say so once.
 *
 * @module
 */
import type { FileLocker } from "../contract/file-locker.ts";

// Sources run as .ts (Node >= 22.18, Bun, Deno); the published package as .js.
const extension = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
// The sources and tsc's output sit two folders below the root (src/storage/); the bundle puts this
// code in dist/bundle/src/<entry>.js, one below. Both mirror native/lock/store.
const nativeRoot = /\/src\/storage\/[^/]+$/.test(import.meta.url) ? "../../native/" : "../native/";

/** The locker, or why there is none. */
export type LockerState = { locker: FileLocker; reason?: undefined } | { locker: null; reason: string };

let state: LockerState | undefined;

/** Loads the locker once per process; never throws. */
export function fileLocker(): LockerState {
  if (state !== undefined) return state;
  try {
    const load = process.getBuiltinModule("node:module").createRequire(import.meta.url);
    const native = load(`${nativeRoot}lock/store${extension}`) as typeof import("../../native/lock/store.ts");
    state = { locker: native.createFileLocker() };
  } catch (error) {
    state = { locker: null, reason: error instanceof Error ? error.message : String(error) };
  }
  return state;
}
