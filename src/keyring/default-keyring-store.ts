/**
 * Picks the platform's keyring backend (keyring-rs's `pub use <os> as default`).
 *
 * @module
 */
import { platform } from "../contract/_runtime.ts";
import { KeyringError } from "../contract/keyring-error.ts";
import type { KeyringStore, KeyringStoreOptions } from "../contract/keyring-store.ts";
import { createLinuxKeyringStore, createMacosKeyringStore, createWindowsKeyringStore } from "./platform-keyring-stores.ts";

/**
 * Returns this platform's keyring store: libsecret (Secret Service) on Linux,
 * Credential Manager on Windows, the login keychain on macOS. Creating it is
 * cheap: no FFI library is loaded until the first call, and only this
 * platform's backend module is ever loaded.
 *
 * @param options Backend options such as the async `timeoutMs`.
 * @returns The platform store. On other platforms every call throws a
 * {@linkcode KeyringError} of kind `unavailable`.
 * @example Basic usage
 * ```ts
 * import { defaultKeyringStore } from "authkeep";
 *
 * const keyring = defaultKeyringStore({ timeoutMs: 2000 });
 * const value = await keyring.load("Codex Auth", "cli|0123456789abcdef").catch(() => null);
 * ```
 */
export function defaultKeyringStore(options: KeyringStoreOptions = {}): KeyringStore {
  const os = platform();
  switch (os) {
    case "linux":
    case "freebsd":
    case "openbsd":
      return createLinuxKeyringStore(options);
    case "win32":
      return createWindowsKeyringStore(options);
    case "darwin":
      return createMacosKeyringStore(options);
    default:
      return unsupportedKeyringStore(os);
  }
}

function unsupportedKeyringStore(platform: string): KeyringStore {
  const fail = (): never => {
    throw new KeyringError(`no keyring backend for platform "${platform}"; use mode "file"`, {
      kind: "unavailable",
      reason: "no-library",
      backend: "none",
    });
  };
  return {
    backend: "none",
    load: async () => fail(),
    save: async () => fail(),
    delete: async () => fail(),
    loadSync: fail,
    saveSync: fail,
    deleteSync: fail,
  };
}
