/**
 * The CLI's view of one home's stores: the credentials file and the keyring
 * entry, each read on its own (not through a mode), so commands can say
 * where the credentials are and move them between stores deliberately.
 *
 * @module
 */
import { nodeFs } from "../contract/_node-builtins.ts";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import type { AuthStorage } from "../storage/auth-storage.ts";
import type { AuthDotJson } from "../document/auth-types.ts";
import { parseAuthJson, serializeAuthJson } from "../document/auth-json.ts";
import { createAuthStorage, DEFAULT_AUTH_FILE_NAME, DEFAULT_KEYRING_SERVICE, type KeyringBackend } from "../storage/create-auth-storage.ts";
import { EncryptedStoreError } from "../contract/encrypted-store-error.ts";
import { runAsync } from "../contract/engine.ts";
import type { KeyringLocation } from "../storage/keyring-storage.ts";
import {
  loadSecretsFlow,
  removeSecretsEntryFlow,
  saveSecretsEntryFlow,
  SECRETS_KEYRING_SERVICE,
  secretsFilePath,
  secretsKeyringAccount,
} from "../storage/secrets/secrets-storage.ts";
import { defaultKeyringStore } from "../keyring/default-keyring-store.ts";
import { AuthFormatError, AuthStorageError } from "../contract/errors.ts";
import { KeyringError } from "../contract/keyring-error.ts";
import type { KeyringStore } from "../contract/keyring-store.ts";
import { computeStoreKey } from "../document/store-key.ts";
import type { LockTimeoutError } from "../contract/lock-timeout-error.ts";
import { RefreshLock, type RefreshLockHandle, refreshLockPath } from "../refresh/refresh-lock.ts";

/** A JSON-friendly description of an error; never contains a secret (authkeep's messages never do). */
export interface ErrorInfo {
  name: string;
  message: string;
  /** KeyringError kind. */
  kind?: string;
  /** KeyringError or EncryptedStoreError reason (`no-bus`, `locked`, `missing-passphrase`, `newer-version`, …). */
  reason?: string;
  /** KeyringError backend. */
  backend?: string;
  /** Platform or system error code. */
  code?: string | number;
  /** AuthFormatError field. */
  field?: string;
  /** AuthStorageError or EncryptedStoreError path. */
  path?: string;
}

/** What one store holds for this home. */
export type CopyState =
  | { state: "present"; auth: AuthDotJson }
  | { state: "absent" }
  | { state: "unreadable" | "unavailable" | "locked" | "error"; error: ErrorInfo };

/** One home's file and keyring entry. */
export interface Stores {
  home: string;
  fileName: string;
  filePath: string;
  /**
   * Where the keyring copy lives: `"direct"`, one keyring item; `"secrets"`,
   * Codex's encrypted store `secretsPath`, whose passphrase is the keyring item.
   */
  keyringBackend: KeyringBackend;
  /** `<home>/secrets/codex_auth.age` (used by the `"secrets"` backend). */
  secretsPath: string;
  /** The keyring item's service and account (the passphrase's, for `"secrets"`). */
  service: string;
  account: string;
  /** `file` mode storage of this home (reads and writes only auth.json). */
  file: AuthStorage;
  /** The platform keyring (created lazily by the platform; nothing is loaded until the first call). */
  keyring: KeyringStore;
  timeoutMs: number;
}

/** Opens (lazily) the stores of `home`. */
export function openStores(home: string, timeoutMs: number, keyring?: KeyringStore, keyringBackend: KeyringBackend = "direct"): Stores {
  const fileName = DEFAULT_AUTH_FILE_NAME;
  const secrets = keyringBackend === "secrets";
  return {
    home,
    fileName,
    filePath: join(home, fileName),
    keyringBackend,
    secretsPath: secretsFilePath(home),
    service: secrets ? SECRETS_KEYRING_SERVICE : DEFAULT_KEYRING_SERVICE,
    account: secrets ? secretsKeyringAccount(home) : computeStoreKey(home),
    // Warnings from the file store (a corrupt file kept aside, loose permissions) go through the CLI's own channel.
    file: createAuthStorage({ home, mode: "file", onWarning: () => {} }),
    keyring: keyring ?? defaultKeyringStore({ timeoutMs }),
    timeoutMs,
  };
}

/** The same home's stores with the other keyring backend (logout clears both, as Codex's delete does). */
export function withKeyringBackend(stores: Stores, keyringBackend: KeyringBackend): Stores {
  if (stores.keyringBackend === keyringBackend) return stores;
  const secrets = keyringBackend === "secrets";
  return {
    ...stores,
    keyringBackend,
    service: secrets ? SECRETS_KEYRING_SERVICE : DEFAULT_KEYRING_SERVICE,
    account: secrets ? secretsKeyringAccount(stores.home) : computeStoreKey(stores.home),
  };
}

/** Where the keyring copy is, for people: the item, or the encrypted file and its passphrase item. */
export function keyringCopyLabel(stores: Stores): string {
  const item = `${stores.keyring.backend ?? "keyring"} "${stores.service}" / ${stores.account}`;
  return stores.keyringBackend === "secrets" ? `encrypted ${stores.secretsPath} (passphrase: ${item})` : item;
}

/** Reads auth.json. */
export async function readFileCopy(stores: Stores): Promise<CopyState> {
  try {
    const auth = await stores.file.load();
    return auth === null ? { state: "absent" } : { state: "present", auth };
  } catch (error) {
    return { state: error instanceof AuthFormatError ? "unreadable" : "error", error: errorInfo(error) };
  }
}

/** The encrypted store seen as a keyring location (its passphrase item is in `stores.keyring`). */
function secretsLocation(stores: Stores): KeyringLocation {
  return { home: stores.home, fileName: stores.fileName, warn: () => {}, service: DEFAULT_KEYRING_SERVICE, keyring: () => stores.keyring };
}

/** Reads this home's keyring copy: the direct entry, or the CLI auth in the encrypted store. */
export async function readKeyringCopy(stores: Stores): Promise<CopyState> {
  if (stores.keyringBackend === "secrets") {
    // Not under keyringCall's deadline: one scrypt derivation takes seconds; the passphrase read inside is bounded.
    try {
      const auth = await runAsync(loadSecretsFlow(secretsLocation(stores)));
      return auth === null ? { state: "absent" } : { state: "present", auth };
    } catch (error) {
      if (error instanceof EncryptedStoreError || error instanceof AuthFormatError) return { state: "unreadable", error: errorInfo(error) };
      return { state: keyringState(error), error: errorInfo(error) };
    }
  }
  let value: string | null;
  try {
    value = await keyringCall(stores, "load", () => stores.keyring.load(stores.service, stores.account));
  } catch (error) {
    return { state: keyringState(error), error: errorInfo(error) };
  }
  if (value === null) return { state: "absent" };
  try {
    return { state: "present", auth: parseAuthJson(value) };
  } catch (error) {
    return { state: "unreadable", error: errorInfo(error) };
  }
}

/** Writes this home's keyring entry (compact JSON, as Codex does). */
export function writeKeyringCopy(stores: Stores, auth: AuthDotJson): Promise<void> {
  if (stores.keyringBackend === "secrets") return runAsync(saveSecretsEntryFlow(secretsLocation(stores), auth));
  const value = serializeAuthJson(auth, { pretty: false });
  return keyringCall(stores, "save", () => stores.keyring.save(stores.service, stores.account, value));
}

/** Deletes this home's keyring entry; returns whether there was one. */
export function deleteKeyringCopy(stores: Stores): Promise<boolean> {
  if (stores.keyringBackend === "secrets") return runAsync(removeSecretsEntryFlow(secretsLocation(stores)));
  return keyringCall(stores, "delete", () => stores.keyring.delete(stores.service, stores.account));
}

/** The state a keyring error puts a copy in. */
export function keyringState(error: unknown): "unavailable" | "locked" | "error" {
  if (error instanceof KeyringError) {
    if (error.kind === "unavailable") return "unavailable";
    if (error.kind === "locked") return "locked";
  }
  return "error";
}

/**
 * Runs one keyring call with a deadline of its own, slightly longer than the
 * backend's, in case a backend does not bound its calls.
 */
export async function keyringCall<T>(stores: Pick<Stores, "timeoutMs" | "keyring">, what: string, call: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new KeyringError(`the keyring did not answer a ${what} within ${stores.timeoutMs} ms`, {
          kind: "unavailable",
          reason: "timeout",
          backend: stores.keyring.backend ?? "unknown",
          code: "timeout",
        }),
      );
    }, stores.timeoutMs + 500);
    timer.unref?.();
  });
  try {
    return await Promise.race([call(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Two documents hold the same credentials (compared in their compact serialized form). */
export function sameCredentials(a: AuthDotJson, b: AuthDotJson): boolean {
  return serializeAuthJson(a, { pretty: false }) === serializeAuthJson(b, { pretty: false });
}

/** A JSON-friendly description of an error. */
export function errorInfo(error: unknown): ErrorInfo {
  if (error instanceof KeyringError) {
    const info: ErrorInfo = { name: error.name, message: error.message, kind: error.kind, reason: error.reason, backend: error.backend };
    if (error.code !== undefined) info.code = error.code;
    return info;
  }
  if (error instanceof EncryptedStoreError) {
    const info: ErrorInfo = { name: error.name, message: error.message, reason: error.reason };
    if (error.path !== undefined) info.path = error.path;
    return info;
  }
  if (error instanceof AuthFormatError) {
    const info: ErrorInfo = { name: error.name, message: error.message };
    if (error.field !== undefined) info.field = error.field;
    return info;
  }
  if (error instanceof AuthStorageError) {
    const info: ErrorInfo = { name: error.name, message: error.message };
    if (error.code !== undefined) info.code = error.code;
    if (error.path !== undefined) info.path = error.path;
    return info;
  }
  if (error instanceof Error) {
    const info: ErrorInfo = { name: error.name, message: error.message };
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" || typeof code === "number") info.code = code;
    return info;
  }
  return { name: "Error", message: String(error) };
}

/** How long the CLI waits for a refresh in another process before giving up. */
export const CLI_LOCK_TIMEOUT_MS = 15_000;

/**
 * Takes the cross-process refresh lock that {@linkcode AuthManager} uses
 * (`<home>/auth.json.authkeep-refresh.lock`), so that no refresh in another process can write
 * tokens while a command moves or deletes them. A lock left by a process that
 * died is taken over at once.
 *
 * @returns The handle, or `null` when the home does not exist (nothing can be refreshing there).
 * @throws {LockTimeoutError} when another process holds it longer than {@linkcode CLI_LOCK_TIMEOUT_MS}.
 */
export async function lockHome(stores: Stores, exists: boolean): Promise<RefreshLockHandle | null> {
  if (!exists) return null;
  const lock = new RefreshLock({ path: refreshLockPath(dirname(stores.filePath), stores.fileName), timeoutMs: CLI_LOCK_TIMEOUT_MS });
  return await lock.acquire();
}

/**
 * What to tell the user when the refresh lock stayed busy: another process
 * refreshing, or a lock left by a process that died (with, perhaps, the claim
 * file of an interrupted takeover that keeps it from being taken over).
 */
export function lockBusyMessage(error: LockTimeoutError): string {
  if (error.lock === "file") return `${error.message}; try again when it is done`;
  const holder = error.holder;
  if (holder !== undefined && holder.host === hostname() && !pidAlive(holder.pid)) {
    let claims: string[] = [];
    try {
      claims = nodeFs().readdirSync(dirname(error.path))
        .filter((name) => name.startsWith(`${basename(error.path)}.takeover-`))
        .map((name) => join(dirname(error.path), name));
    } catch {
      // The directory is gone: nothing to list.
    }
    return `the refresh lock ${error.path} was left by process ${holder.pid}, which is no longer running` +
      (claims.length > 0 ? `, and an interrupted takeover (${claims.join(", ")}) keeps it from being taken over` : "") +
      `; if no authkeep or Codex process is running, remove ${[error.path, ...claims].join(" and ")} and try again`;
  }
  return `another process is refreshing these credentials (${error.message}); try again`;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}
