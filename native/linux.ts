/**
 * Placeholder for the Linux keyring backend (being written; see the issue tracker).
 *
 * @module
 */
import { KeyringError } from "../src/keyring-error.ts";
import type { KeyringStore, KeyringStoreOptions } from "../src/keyring-store.ts";

/**
 * Creates the Linux keyring store.
 *
 * @example Basic usage
 * ```ts
 * import { defaultKeyringStore } from "authkeep";
 * const keyring = defaultKeyringStore();
 * ```
 */
export function createLinuxKeyringStore(_options: KeyringStoreOptions = {}): KeyringStore {
  const fail = (): never => {
    throw new KeyringError("the Linux keyring backend is not implemented yet", { kind: "unavailable", backend: "libsecret" });
  };
  return {
    backend: "libsecret",
    load: async () => fail(),
    save: async () => fail(),
    delete: async () => fail(),
    loadSync: fail,
    saveSync: fail,
    deleteSync: fail,
  };
}
