/**
 * `keyring` mode: the compact JSON in the OS keyring under
 * `(service, computeStoreKey(home))`, exactly where Codex keeps it. The file
 * is ignored on load and removed after a successful save.
 *
 * @module
 */
import type { AuthDotJson } from "../document/auth-types.ts";
import { parseAuthJson, serializeAuthJson } from "../document/auth-json.ts";
import { AuthFormatError } from "../contract/errors.ts";
import { type Flow, io } from "../contract/engine.ts";
import { keyringEntry } from "./_keyring-steps.ts";
import { withKeyringContext } from "../contract/keyring-error.ts";
import type { KeyringStore } from "../contract/keyring-store.ts";
import { computeStoreKey } from "../document/store-key.ts";
import { deleteFileFlow, type FileLocation, keepCorruptFileFlow } from "./file-storage.ts";
import type { StorageFlows } from "./_flow-storage.ts";

/** Where a keyring-backed storage keeps its entry. */
export interface KeyringLocation extends FileLocation {
  /** Resolved lazily, so that file-only paths never create a platform store. */
  keyring: () => KeyringStore;
  service: string;
}

/** The flows of `keyring` mode. */
export function keyringStorageFlows(location: KeyringLocation): StorageFlows {
  return {
    load: () => loadKeyringFlow(location),
    save: (auth) => saveKeyringFlow(location, auth),
    delete: () => deleteKeyringFlow(location),
  };
}

/** Loads from the keyring only. */
export function* loadKeyringFlow(location: KeyringLocation): Flow<AuthDotJson | null> {
  const account = computeStoreKey(location.home);
  let value: string | null;
  try {
    value = yield* io(keyringEntry(location.keyring(), location.service, account).load());
  } catch (error) {
    throw withKeyringContext(error, "failed to load CLI auth from keyring");
  }
  if (value === null) return null;
  try {
    return parseAuthJson(value);
  } catch (error) {
    const format = error as AuthFormatError;
    throw new AuthFormatError(`failed to deserialize CLI auth from keyring: ${format.message}`, {
      field: format.field,
      line: format.line,
      column: format.column,
    });
  }
}

/**
 * Saves to the keyring, then removes the fallback file (a failure there only
 * warns), keeping a corrupt one's bytes first.
 */
export function* saveKeyringFlow(location: KeyringLocation, auth: AuthDotJson): Flow<void> {
  const value = serializeAuthJson(auth, { pretty: false });
  const account = computeStoreKey(location.home);
  try {
    yield* io(keyringEntry(location.keyring(), location.service, account).save(value));
  } catch (error) {
    throw withKeyringContext(error, "failed to write OAuth tokens to keyring");
  }
  try {
    // A corrupt fallback file is kept aside first; if that fails, the file stays.
    yield* keepCorruptFileFlow(location);
    yield* deleteFileFlow(location);
  } catch (error) {
    location.warn(`failed to remove CLI auth fallback file: ${(error as Error).message}`);
  }
}

/** Deletes the keyring entry (an error aborts before the file is touched), then the file. */
export function* deleteKeyringFlow(location: KeyringLocation): Flow<boolean> {
  const account = computeStoreKey(location.home);
  let removedFromKeyring: boolean;
  try {
    removedFromKeyring = yield* io(keyringEntry(location.keyring(), location.service, account).delete());
  } catch (error) {
    throw withKeyringContext(error, "failed to delete auth from keyring");
  }
  const removedFile = yield* deleteFileFlow(location);
  return removedFromKeyring || removedFile;
}
