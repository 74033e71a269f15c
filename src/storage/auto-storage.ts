/**
 * `auto` mode: the keyring, falling back to the file when the keyring fails.
 *
 * Beyond Codex, auto never lets two diverging copies confuse a later load:
 * - a successful keyring save removes the file (as Codex does);
 * - a save that falls back to the file then tries to delete the keyring
 *   entry, so a stale keyring copy cannot shadow the new file;
 * - if that delete fails too (the keyring is still unreachable), load
 *   compares the two copies when the keyring comes back and uses the file
 *   when its `last_refresh` is strictly newer, or when it has none while the
 *   keyring entry has one (an API-key login saved as a fallback), with a warning.
 *
 * @module
 */
import type { AuthDotJson } from "../document/auth-types.ts";
import { AuthFormatError } from "../contract/errors.ts";
import { type Flow, io } from "../contract/engine.ts";
import { keyringEntry } from "./_keyring-steps.ts";
import { computeStoreKey } from "../document/store-key.ts";
import { loadFileFlow, saveFileFlow } from "./file-storage.ts";
import { keyringStorageFlows, type KeyringLocation } from "./keyring-storage.ts";
import type { StorageFlows } from "./_flow-storage.ts";

/** The keyring side of `auto` mode: a backend's flows, and how to drop only its entry. */
export interface AutoKeyringSide extends StorageFlows {
  /** Removes the keyring copy alone (after a fallback save), leaving the file. */
  removeEntry(): Flow<unknown>;
}

/** The direct backend as the keyring side of `auto` mode. */
export function directKeyringSide(location: KeyringLocation): AutoKeyringSide {
  return {
    ...keyringStorageFlows(location),
    *removeEntry() {
      return yield* io(keyringEntry(location.keyring(), location.service, computeStoreKey(location.home)).delete());
    },
  };
}

/** The flows of `auto` mode over a keyring backend (the direct one unless given). */
export function autoStorageFlows(location: KeyringLocation, side: AutoKeyringSide = directKeyringSide(location)): StorageFlows {
  return {
    load: () => loadAutoFlow(location, side),
    save: (auth) => saveAutoFlow(location, side, auth),
    delete: () => side.delete(),
  };
}

function* loadAutoFlow(location: KeyringLocation, side: AutoKeyringSide): Flow<AuthDotJson | null> {
  let fromKeyring: AuthDotJson | null;
  try {
    fromKeyring = yield* side.load();
  } catch (error) {
    location.warn(`failed to load CLI auth from keyring, falling back to file storage: ${(error as Error).message}`);
    return yield* loadFileFlow(location);
  }
  if (fromKeyring === null) return yield* loadFileFlow(location);
  // Both copies exist only after a fallback save whose keyring cleanup failed.
  let fromFile: AuthDotJson | null = null;
  try {
    fromFile = yield* loadFileFlow(location, 1);
  } catch {
    return fromKeyring; // An unreadable fallback file cannot be newer in any useful sense.
  }
  if (fromFile !== null && isStrictlyNewer(fromFile, fromKeyring)) {
    location.warn(
      "the auth.json fallback file is newer than the keyring entry (it was saved while the keyring was unavailable); using the file",
    );
    return fromFile;
  }
  return fromKeyring;
}

function* saveAutoFlow(location: KeyringLocation, side: AutoKeyringSide, auth: AuthDotJson): Flow<void> {
  try {
    return yield* side.save(auth);
  } catch (error) {
    if (error instanceof AuthFormatError) throw error; // Not a keyring problem: the file would refuse it too.
    location.warn(`failed to save auth to keyring, falling back to file storage: ${(error as Error).message}`);
  }
  yield* saveFileFlow(location, auth);
  try {
    yield* side.removeEntry();
  } catch {
    // Still unreachable: loadAutoFlow's last_refresh comparison keeps the file authoritative.
  }
}

function isStrictlyNewer(candidate: AuthDotJson, reference: AuthDotJson): boolean {
  if (candidate.last_refresh == null) {
    // A file without last_refresh (an API-key login) beside a keyring entry with one can only come
    // from a fallback save (a keyring save removes the file), so it is the newer copy; treating it
    // as older let the stale keyring entry shadow it and the next save drop it.
    return reference.last_refresh != null;
  }
  const candidateTime = Date.parse(candidate.last_refresh);
  if (reference.last_refresh == null) return true;
  return candidateTime > Date.parse(reference.last_refresh);
}
