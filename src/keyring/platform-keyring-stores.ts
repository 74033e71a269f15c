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
import { canLoadNativeModule, loadNativeModule, type NativeModules } from "./_native-modules.ts";
import type { LinuxKeyringStoreOptions } from "../../native/linux/store.ts";
import type { MacosKeyringStoreOptions } from "../../native/macos/store.ts";
import type { WindowsKeyringStoreOptions } from "../../native/windows/store.ts";

export type { LinuxKeyringStoreOptions, MacosKeyringStoreOptions, WindowsKeyringStoreOptions };

const load = <K extends "linux" | "windows" | "macos">(name: K): NativeModules[K] => {
  // Imported by URL (from JSR, say) without the Deno entry, the backends are no local files to require.
  if (!canLoadNativeModule(name)) {
    throw new KeyringError(
      `the ${name} keyring cannot be loaded when authkeep is imported from ${new URL(import.meta.url).protocol}// (it loads its native backends from local files): install authkeep from npm (npm:authkeep), import its Deno entry (src/deno.ts, JSR's default), or import it from a local path`,
      { kind: "unavailable", reason: "other", backend: name === "linux" ? "libsecret" : name },
    );
  }
  return loadNativeModule(name);
};

/**
 * Creates the Linux (Secret Service, libsecret) keyring store.
 *
 * @param options `timeoutMs` for async calls, `syncTimeoutMs` for each synchronous D-Bus round trip,
 * and `ffi` for the FFI provider (else `AUTHKEEP_FFI`, else the runtime's own).
 * @returns A {@linkcode KeyringStore} with `backend: "libsecret"`.
 */
export function createLinuxKeyringStore(options: LinuxKeyringStoreOptions = {}): KeyringStore {
  return load("linux").createLinuxKeyringStore(options);
}

/**
 * Creates the Windows Credential Manager store.
 *
 * @param options `timeoutMs` for the async methods, and `ffi` for the FFI provider (else
 * `AUTHKEEP_FFI`, else the runtime's own).
 * @returns A {@linkcode KeyringStore} with `backend: "windows"`.
 */
export function createWindowsKeyringStore(options: WindowsKeyringStoreOptions = {}): KeyringStore {
  return load("windows").createWindowsKeyringStore(options);
}

/**
 * Creates the macOS keychain store.
 *
 * @param options `timeoutMs` for the async methods, `ffi` for the FFI provider (else
 * `AUTHKEEP_FFI`, else the runtime's own), and library paths for the ABI stand-in tests.
 * @returns A {@linkcode KeyringStore} with `backend: "macos"`.
 */
export function createMacosKeyringStore(options: MacosKeyringStoreOptions = {}): KeyringStore {
  return load("macos").createMacosKeyringStore(options);
}
