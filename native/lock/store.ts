/**
 * The advisory file lock the Codex CLI takes around every write of
 * `auth.json`: `flock(LOCK_EX)` on POSIX, `LockFileEx` on Windows, through
 * the FFI provider of `native/ffi/` (koffi on Node, `bun:ffi`, `Deno.dlopen`).
 * Loaded on first use by `src/storage/_file-locker.ts`.
 *
 * @module
 */
import type { FileLocker } from "../../src/contract/file-locker.ts";
import type { FfiOptions } from "../ffi/index.ts";
import { createPosixLocker } from "./_posix.ts";
import { createWindowsLocker } from "./_windows.ts";

/**
 * Creates this platform's locker.
 *
 * @param options The FFI provider (else `AUTHKEEP_FFI`, else the runtime's own).
 * @throws {KeyringError} kind `unavailable` (backend `"ffi"`) when the provider cannot load (koffi missing).
 */
export function createFileLocker(options: FfiOptions = {}): FileLocker {
  return process.platform === "win32" ? createWindowsLocker(options) : createPosixLocker(options);
}
