/**
 * A keyring entry's three operations as engine steps: the `…Sync` twin for
 * `runSync`, the async one for `runAsync`, written once for every storage.
 *
 * @module
 */
import type { Step } from "../contract/engine.ts";
import type { KeyringStore } from "../contract/keyring-store.ts";

/** The steps of one keyring entry. */
export interface KeyringEntrySteps {
  load(): Step<string | null>;
  save(value: string): Step<void>;
  delete(): Step<boolean>;
}

/** The steps of the entry `(service, account)` in `keyring`. */
export function keyringEntry(keyring: KeyringStore, service: string, account: string): KeyringEntrySteps {
  return {
    load: () => ({ sync: () => keyring.loadSync(service, account), async: () => keyring.load(service, account) }),
    save: (value) => ({ sync: () => keyring.saveSync(service, account, value), async: () => keyring.save(service, account, value) }),
    delete: () => ({ sync: () => keyring.deleteSync(service, account), async: () => keyring.delete(service, account) }),
  };
}
