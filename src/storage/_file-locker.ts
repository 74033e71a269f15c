/**
 * The native advisory-lock binding (`native/lock/`), loaded on first use by
 * `src/keyring/_native-modules.ts` like the keyrings, so that
 * importing authkeep parses none of it. Where no FFI is available (koffi not
 * installed on Node), there is no locker and the storages say so once.
 *
 * @module
 */
import type { FileLocker } from "../contract/file-locker.ts";
import { loadNativeModule } from "../keyring/_native-modules.ts";

/** The locker, or why there is none. */
export type LockerState = { locker: FileLocker; reason?: undefined } | { locker: null; reason: string };

let state: LockerState | undefined;

/** Loads the locker once per process; never throws. */
export function fileLocker(): LockerState {
  if (state !== undefined) return state;
  try {
    state = { locker: loadNativeModule("lock").createFileLocker() };
  } catch (error) {
    state = { locker: null, reason: error instanceof Error ? error.message : String(error) };
  }
  return state;
}
