/**
 * The platform keyring factories, loaded on first use. Importing authkeep
 * parses none of the three native backends (about 20 modules); the one a
 * program asks for is loaded synchronously when it first creates a store.
 *
 * Every backend runs on the FFI provider `native/ffi/` picks per runtime:
 * koffi on Node, the runtime's own FFI on Bun and Deno (`bun:ffi`,
 * `Deno.dlopen`), so there it needs nothing from npm. The `ffi` option (or
 * `AUTHKEEP_FFI`) picks another.
 *
 * @module
 */
import type { KeyringStore } from "../contract/keyring-store.ts";
import { KeyringError } from "../contract/keyring-error.ts";
import type { LinuxKeyringStoreOptions } from "../../native/linux/store.ts";
import type { MacosKeyringStoreOptions } from "../../native/macos/store.ts";
import type { WindowsKeyringStoreOptions } from "../../native/windows/store.ts";

export type { LinuxKeyringStoreOptions, MacosKeyringStoreOptions, WindowsKeyringStoreOptions };

// Sources run as .ts (Node >= 22.18, Bun, Deno); the published package as .js.
const extension = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
// node:module through getBuiltinModule, on first use: its ES-module import costs start-up time (see _node-builtins.ts).
// The sources and tsc's output sit two folders below the root (src/keyring/); the bundle puts this
// code in dist/bundle/src/<entry>.js, one below. Both mirror native/<os>/store.
const nativeRoot = /\/src\/keyring\/[^/]+$/.test(import.meta.url) ? "../../native/" : "../native/";
const load = (name: string): unknown => {
  // require() takes local files only: imported by URL (from JSR, say) the backends cannot be loaded.
  if (!import.meta.url.startsWith("file:")) {
    throw new KeyringError(
      `the ${name} keyring cannot be loaded when authkeep is imported from ${new URL(import.meta.url).protocol}// (it loads its native backends from local files): install authkeep from npm (npm:authkeep) or import it from a local path`,
      { kind: "unavailable", reason: "other", backend: name === "linux" ? "libsecret" : name },
    );
  }
  return process.getBuiltinModule("node:module").createRequire(import.meta.url)(`${nativeRoot}${name}/store${extension}`);
};

/**
 * Creates the Linux (Secret Service, libsecret) keyring store.
 *
 * @param options `timeoutMs` for async calls, `syncTimeoutMs` for each synchronous D-Bus round trip,
 * and `ffi` for the FFI provider (else `AUTHKEEP_FFI`, else the runtime's own).
 * @returns A {@linkcode KeyringStore} with `backend: "libsecret"`.
 */
export function createLinuxKeyringStore(options: LinuxKeyringStoreOptions = {}): KeyringStore {
  return (load("linux") as typeof import("../../native/linux/store.ts")).createLinuxKeyringStore(options);
}

/**
 * Creates the Windows Credential Manager store.
 *
 * @param options `timeoutMs` for the async methods, and `ffi` for the FFI provider (else
 * `AUTHKEEP_FFI`, else the runtime's own).
 * @returns A {@linkcode KeyringStore} with `backend: "windows"`.
 */
export function createWindowsKeyringStore(options: WindowsKeyringStoreOptions = {}): KeyringStore {
  return (load("windows") as typeof import("../../native/windows/store.ts")).createWindowsKeyringStore(options);
}

/**
 * Creates the macOS keychain store.
 *
 * @param options `timeoutMs` for the async methods, `ffi` for the FFI provider (else
 * `AUTHKEEP_FFI`, else the runtime's own), and library paths for the ABI stand-in tests.
 * @returns A {@linkcode KeyringStore} with `backend: "macos"`.
 */
export function createMacosKeyringStore(options: MacosKeyringStoreOptions = {}): KeyringStore {
  return (load("macos") as typeof import("../../native/macos/store.ts")).createMacosKeyringStore(options);
}
