/**
 * Placeholder for the Windows keyring backend (being written; see the issue tracker).
 *
 * @module
 */
import { KeyringError } from "../src/keyring-error.ts";
import type { KeyringStore, KeyringStoreOptions } from "../src/keyring-store.ts";

/**
 * Creates the Windows keyring store.
 *
 * @example Basic usage
 * ```ts
 * import { defaultKeyringStore } from "authkeep";
 * const keyring = defaultKeyringStore();
 * ```
 */
export function createWindowsKeyringStore(_options: KeyringStoreOptions = {}): KeyringStore {
  const fail = (): never => {
    throw new KeyringError("the Windows keyring backend is not implemented yet", { kind: "unavailable", backend: "windows" });
  };
  return {
    backend: "windows",
    load: async () => fail(),
    save: async () => fail(),
    delete: async () => fail(),
    loadSync: fail,
    saveSync: fail,
    deleteSync: fail,
  };
}
