/**
 * The `secrets` keyring backend: Codex's encrypted auth store. The CLI auth
 * lives in `<home>/secrets/codex_auth.age` (age, one scrypt recipient) under
 * `global/CODEX_AUTH`; the file's passphrase (base64 of 32 random bytes)
 * lives in the OS keyring under service `codex`, account
 * `secrets|<first 16 hex of sha256(canonical home)>`. Other secrets in the
 * file are kept exactly as they are.
 *
 * Like Codex: a missing file loads as logged out without touching the
 * keyring; save removes the auth.json fallback file; delete removes the CLI
 * auth from the store (rewriting the file, possibly as an empty document,
 * and keeping the passphrase item), the fallback file and the direct keyring
 * entry. Unlike Codex, a load or save never creates a passphrase while a
 * file exists (Codex would make one that cannot open it): it reports
 * `missing-passphrase` and changes nothing.
 *
 * Codex 0.169 rewrites the file under the same two flocks as auth.json
 * (`auth.lock`, then `auth.json.lock`; seen with strace), so each
 * read-modify-write here is meant to hold them too, waiting up to 30 s since
 * a Codex holding them spends its scrypt derivation inside; see
 * `underCodexLocks`.
 *
 * @module
 */
import type { AuthDotJson } from "../../document/auth-types.ts";
import { parseAuthJson, serializeAuthJson } from "../../document/auth-json.ts";
import { AuthFormatError, AuthStorageError } from "../../contract/errors.ts";
import { EncryptedStoreError } from "../../contract/encrypted-store-error.ts";
import { withKeyringContext } from "../../contract/keyring-error.ts";
import { type Flow, io } from "../../contract/engine.ts";
import { sha256Hex } from "../../contract/_crypto.ts";
import { nodePath } from "../../contract/_node-builtins.ts";
import { canonicalHomePath } from "../../document/store-key.ts";
import { mkdirp, readBytes, statOrNull } from "../_fs-steps.ts";
import { withCodexLocks } from "../_codex-lock.ts";
import { LockTimeoutError } from "../../contract/lock-timeout-error.ts";
import { keyringEntry } from "../_keyring-steps.ts";
import { writeFileAtomicFlow } from "../atomic-write.ts";
import { deleteFileFlow, keepCorruptFileFlow, storageError } from "../file-storage.ts";
import { deleteKeyringFlow, type KeyringLocation } from "../keyring-storage.ts";
import type { StorageFlows } from "../_flow-storage.ts";
import { ageWorkFactor, calibratedWorkFactor, decryptAgeFlow, encryptAgeFlow } from "./age.ts";
import { CODEX_AUTH_SECRET_KEY, emptySecretsFile, parseSecretsFile, type SecretsFile, serializeSecretsFile } from "./secrets-file.ts";

/** The keyring service of the store's passphrase (Codex's `codex-secrets`). */
export const SECRETS_KEYRING_SERVICE = "codex";
/** The encrypted file inside the home. */
export const SECRETS_FILE_PATH = ["secrets", "codex_auth.age"] as const;
/** No auth store comes near this; a bigger file is refused before it is read. */
export const MAX_SECRETS_FILE_BYTES = 4 * 1024 * 1024;
/** How long a save or delete waits for Codex's locks unless `lockTimeoutMs` says otherwise. */
export const SECRETS_LOCK_TIMEOUT_MS = 30_000;

/** The keyring account of the store's passphrase for a home. */
export function secretsKeyringAccount(home: string, platform: string = process.platform): string {
  return `secrets|${sha256Hex(canonicalHomePath(home, platform)).slice(0, 16)}`;
}

/** The path of the encrypted file for a home. */
export function secretsFilePath(home: string): string {
  return nodePath().join(home, ...SECRETS_FILE_PATH);
}

/** The flows of the `secrets` backend in `keyring` mode. */
export function secretsStorageFlows(location: KeyringLocation): StorageFlows {
  return {
    load: () => loadSecretsFlow(location),
    save: (auth) => saveSecretsFlow(location, auth),
    delete: () => deleteSecretsFlow(location),
  };
}

interface OpenedStore {
  file: SecretsFile;
  passphrase: string;
  logN: number | undefined;
}

function* passphraseFlow(location: KeyringLocation, verb: string): Flow<string | null> {
  const account = secretsKeyringAccount(location.home);
  try {
    const keyring = location.keyring();
    return yield* io(keyringEntry(keyring, SECRETS_KEYRING_SERVICE, account).load());
  } catch (error) {
    throw withKeyringContext(error, `failed to ${verb} secrets key from keyring for ${account}`);
  }
}

/**
 * Reads and decrypts the store; `null` when the file does not exist (the
 * keyring is not touched then).
 */
export function* openSecretsFlow(location: KeyringLocation): Flow<OpenedStore | null> {
  const path = secretsFilePath(location.home);
  let bytes: Uint8Array | null;
  try {
    const stats = yield* io(statOrNull(path));
    if (stats === null) return null;
    if (stats.isFile() && stats.size > MAX_SECRETS_FILE_BYTES) throw tooLarge(path, stats.size);
    bytes = yield* io(readBytes(path));
  } catch (error) {
    if (error instanceof EncryptedStoreError) throw error;
    throw storageError("load", path, error);
  }
  if (bytes === null) return null;
  if (bytes.length > MAX_SECRETS_FILE_BYTES) throw tooLarge(path, bytes.length);
  const passphrase = yield* passphraseFlow(location, "load");
  if (passphrase === null) {
    throw new EncryptedStoreError(
      `${path} exists but the keyring has no passphrase for it (service "${SECRETS_KEYRING_SERVICE}", account "${secretsKeyringAccount(location.home)}"); without it the file cannot be opened`,
      { reason: "missing-passphrase", path },
    );
  }
  const plaintext = yield* decryptAgeFlow(bytes, passphrase, path);
  try {
    return { file: parseSecretsFile(plaintext, path), passphrase, logN: ageWorkFactor(bytes) };
  } finally {
    plaintext.fill(0);
  }
}

function tooLarge(path: string, size: number): EncryptedStoreError {
  return new EncryptedStoreError(`${path} is ${size} bytes, more than the ${MAX_SECRETS_FILE_BYTES} an encrypted auth store may have`, {
    reason: "too-large",
    path,
  });
}

/** Encrypts and atomically replaces the file (0600, its directory 0700). */
function* writeSecretsFlow(location: KeyringLocation, store: OpenedStore): Flow<void> {
  const path = secretsFilePath(location.home);
  // Reuse the work factor the file already carries (Codex calibrated it on this machine); a new
  // file gets age's own calibration, as Codex's would.
  const logN = store.logN ?? calibratedWorkFactor();
  const plaintext = serializeSecretsFile(store.file);
  let sealed: Uint8Array;
  try {
    sealed = yield* encryptAgeFlow(plaintext, store.passphrase, logN);
  } finally {
    plaintext.fill(0);
  }
  try {
    yield* io(mkdirp(nodePath().dirname(path), 0o700));
    yield* writeFileAtomicFlow(path, sealed, 0o600);
  } catch (error) {
    throw storageError("save", path, error);
  }
}

/** Loads the CLI auth from the store; `null` when there is none. */
export function* loadSecretsFlow(location: KeyringLocation): Flow<AuthDotJson | null> {
  let opened: OpenedStore | null;
  try {
    opened = yield* openSecretsFlow(location);
  } catch (error) {
    throw withContext(error, "failed to load CLI auth from encrypted auth storage");
  }
  const value = opened?.file.secrets.get(CODEX_AUTH_SECRET_KEY);
  if (value === undefined) return null;
  try {
    return parseAuthJson(value);
  } catch (error) {
    const format = error as AuthFormatError;
    throw new AuthFormatError(`failed to deserialize CLI auth from encrypted auth storage: ${format.message}`, {
      field: format.field,
      line: format.line,
      column: format.column,
    });
  }
}

/** Saves the CLI auth into the store (read-modify-write), then removes the fallback file. */
export function* saveSecretsFlow(location: KeyringLocation, auth: AuthDotJson): Flow<void> {
  yield* saveSecretsEntryFlow(location, auth);
  try {
    yield* keepCorruptFileFlow(location);
    yield* deleteFileFlow(location);
  } catch (error) {
    location.warn(`failed to remove CLI auth fallback file: ${(error as Error).message}`);
  }
}

/** Puts the CLI auth into the store (read-modify-write under Codex's locks), nothing else. */
export function* saveSecretsEntryFlow(location: KeyringLocation, auth: AuthDotJson): Flow<void> {
  const value = serializeAuthJson(auth, { pretty: false });
  try {
    yield* underCodexLocks(location, function* () {
      let opened = yield* openSecretsFlow(location);
      if (opened === null) opened = { file: emptySecretsFile(), passphrase: yield* passphraseForNewFile(location), logN: undefined };
      opened.file.secrets.set(CODEX_AUTH_SECRET_KEY, value);
      yield* writeSecretsFlow(location, opened);
    });
  } catch (error) {
    throw withContext(error, "failed to write OAuth tokens to encrypted auth storage");
  }
}

function* passphraseForNewFile(location: KeyringLocation): Flow<string> {
  const existing = yield* passphraseFlow(location, "load");
  if (existing !== null) return existing;
  const generated = btoa(String.fromCharCode(...globalThis.crypto.getRandomValues(new Uint8Array(32))));
  const account = secretsKeyringAccount(location.home);
  try {
    const keyring = location.keyring();
    yield* io(keyringEntry(keyring, SECRETS_KEYRING_SERVICE, account).save(generated));
  } catch (error) {
    throw withKeyringContext(error, "failed to persist secrets key in keyring");
  }
  return generated;
}

/** Removes the CLI auth from the store only; whether it was there. */
export function* removeSecretsEntryFlow(location: KeyringLocation): Flow<boolean> {
  if ((yield* io(statOrNull(secretsFilePath(location.home)))) === null) return false; // No lock files for nothing.
  return yield* underCodexLocks(location, function* () {
    const opened = yield* openSecretsFlow(location);
    if (opened === null || !opened.file.secrets.delete(CODEX_AUTH_SECRET_KEY)) return false;
    yield* writeSecretsFlow(location, opened);
    return true;
  });
}

/**
 * Codex's two flocks around a read-modify-write (Codex takes them around its own rewrite of the
 * file, seen with strace); never nested (flock would wait on itself). The wait is longer than for
 * auth.json because a Codex holding them spends its scrypt derivation inside.
 */
function underCodexLocks<T>(location: KeyringLocation, body: () => Flow<T>): Flow<T> {
  return withCodexLocks({ ...location, lockTimeoutMs: location.lockTimeoutMs ?? SECRETS_LOCK_TIMEOUT_MS }, body);
}

/** Deletes the CLI auth from the store, then the fallback file and the direct keyring entry. */
export function* deleteSecretsFlow(location: KeyringLocation): Flow<boolean> {
  let removed: boolean;
  try {
    removed = yield* removeSecretsEntryFlow(location);
  } catch (error) {
    throw withContext(error, "failed to delete auth from encrypted auth storage");
  }
  // The direct flow removes the direct entry and auth.json, as Codex's delete does.
  const directRemoved = yield* deleteKeyringFlow(location);
  return removed || directRemoved;
}

function withContext(error: unknown, prefix: string): unknown {
  if (error instanceof EncryptedStoreError) {
    return new EncryptedStoreError(`${prefix}: ${error.message}`, { reason: error.reason, path: error.path, cause: error });
  }
  if (error instanceof AuthStorageError || error instanceof LockTimeoutError) return error;
  return withKeyringContext(error, prefix);
}
