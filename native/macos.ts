/**
 * Placeholder for the Macos keyring backend (being written; see the issue tracker).
 *
 * @module
 */
import { KeyringError } from "../src/keyring-error.ts";
import type { KeyringStore, KeyringStoreOptions } from "../src/keyring-store.ts";

/**
 * Creates the Macos keyring store.
 *
 * @example Basic usage
 * ```ts
 * import { defaultKeyringStore } from "authkeep";
 * const keyring = defaultKeyringStore();
 * ```
 */
export function createMacosKeyringStore(_options: KeyringStoreOptions = {}): KeyringStore {
  const fail = (): never => {
    throw new KeyringError("the Macos keyring backend is not implemented yet", { kind: "unavailable", backend: "macos" });
  };
  return {
    backend: "macos",
    load: async () => fail(),
    save: async () => fail(),
    delete: async () => fail(),
    loadSync: fail,
    saveSync: fail,
    deleteSync: fail,
  };
}
