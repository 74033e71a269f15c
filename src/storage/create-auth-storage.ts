/**
 * The one entry point for every storage mode.
 *
 * @module
 */
import type { AuthStorage } from "./auth-storage.ts";
import { AUTH_CREDENTIALS_STORE_MODES, type AuthCredentialsStoreMode } from "../document/auth-types.ts";
import { defaultKeyringStore } from "../keyring/default-keyring-store.ts";
import type { KeyringStore } from "../contract/keyring-store.ts";
import { resolveDeadline } from "../contract/engine.ts";
import type { LockTimeoutError } from "../contract/lock-timeout-error.ts";
import { FlowStorage, type StorageFlows } from "./_flow-storage.ts";
import { fileStorageFlows } from "./file-storage.ts";
import { keyringStorageFlows, type KeyringLocation } from "./keyring-storage.ts";
import { autoStorageFlows, type AutoKeyringSide } from "./auto-storage.ts";
import { removeSecretsEntryFlow, secretsStorageFlows } from "./secrets/secrets-storage.ts";
import { ephemeralStorageFlows } from "./ephemeral-storage.ts";

/** Codex's keyring service name. */
export const DEFAULT_KEYRING_SERVICE = "Codex Auth";
/** Codex's credentials file name. */
export const DEFAULT_AUTH_FILE_NAME = "auth.json";

/**
 * How `keyring` and `auto` modes keep credentials in the keyring, as Codex's
 * `AuthKeyringBackendKind`:
 * - `"direct"`: the compact auth.json as one keyring item (service
 *   `Codex Auth`, account `cli|…`);
 * - `"secrets"`: Codex's encrypted auth store, `<home>/secrets/codex_auth.age`
 *   (age, scrypt), whose passphrase is the keyring item (service `codex`,
 *   account `secrets|…`). Each first load or save in a process pays one
 *   scrypt derivation (about 0.5–1 GiB of memory and a second or more).
 */
export type KeyringBackend = "direct" | "secrets";

/**
 * The keyring backend Codex uses on a platform when nothing selects one
 * (its `secret_auth_storage` feature is on by default only on Windows).
 */
export function defaultKeyringBackend(platform: string = process.platform): KeyringBackend {
  return platform === "win32" ? "secrets" : "direct";
}

/** Options for {@linkcode createAuthStorage}. */
export interface CreateAuthStorageOptions {
  /** The credentials home directory (see {@linkcode defaultHome}). */
  home: string;
  /**
   * Where credentials live.
   * @default {"file"}
   */
  mode?: AuthCredentialsStoreMode;
  /**
   * The keyring backend for `keyring` and `auto` modes.
   * @default {defaultKeyringStore()}
   */
  keyring?: KeyringStore;
  /**
   * The keyring backend of `keyring` and `auto` modes (see {@linkcode KeyringBackend}).
   * @default {"secrets" on Windows, "direct" elsewhere (as Codex)}
   */
  keyringBackend?: KeyringBackend;
  /**
   * The keyring service name of the direct backend.
   * @default {"Codex Auth"}
   */
  service?: string;
  /**
   * The credentials file name inside `home`.
   * @default {"auth.json"}
   */
  fileName?: string;
  /**
   * Receives warnings (a fallback taken, a corrupt file kept, loose
   * permissions). Warnings never contain secrets.
   * @default {process.emitWarning}
   */
  onWarning?: (message: string) => void;
  /**
   * How long a save or delete of `auth.json` waits for the Codex CLI's file
   * locks (`auth.lock`, `auth.json.lock`) when another program holds them,
   * before it throws {@linkcode LockTimeoutError} and writes nothing. A
   * positive number (`Infinity` and anything above about 24.8 days mean about
   * 24.8 days); `0`, a negative number or `NaN` is a `RangeError` when the
   * storage is created.
   * @default {5000}
   */
  lockTimeoutMs?: number;
}

/**
 * Creates the storage for one home in the chosen mode. Nothing is read or
 * loaded until the first call; the platform keyring is only created when a
 * keyring mode first needs it.
 *
 * @param options The home, the mode and, optionally, the keyring and names.
 * @returns An {@linkcode AuthStorage} with async and sync methods.
 * @throws {TypeError} for an unknown mode or an empty home.
 * @throws {RangeError} when `lockTimeoutMs` is not a positive number.
 * @example Basic usage
 * ```ts
 * import { createAuthStorage, defaultHome } from "authkeep";
 *
 * const storage = createAuthStorage({ home: defaultHome(), mode: "auto" });
 * const auth = await storage.load();
 * console.log(auth === null ? "logged out" : "logged in");
 * ```
 */
export function createAuthStorage(options: CreateAuthStorageOptions): AuthStorage {
  const mode = options.mode ?? "file";
  if (!AUTH_CREDENTIALS_STORE_MODES.includes(mode)) {
    throw new TypeError(`unknown credentials store mode ${JSON.stringify(mode)}; expected one of ${AUTH_CREDENTIALS_STORE_MODES.join(", ")}`);
  }
  if (typeof options.home !== "string" || options.home === "") {
    throw new TypeError("createAuthStorage needs a non-empty home directory");
  }
  const backend = options.keyringBackend ?? defaultKeyringBackend();
  if (backend !== "direct" && backend !== "secrets") {
    throw new TypeError(`unknown keyring backend ${JSON.stringify(backend)}; expected "direct" or "secrets"`);
  }
  const fileName = options.fileName ?? DEFAULT_AUTH_FILE_NAME;
  const service = options.service ?? DEFAULT_KEYRING_SERVICE;
  const warn = options.onWarning ?? ((message: string) => process.emitWarning(message, "AuthkeepWarning"));
  let keyring = options.keyring;
  const location: KeyringLocation = {
    home: options.home,
    fileName,
    warn,
    // Validated once, here, by the one deadline policy (undefined keeps each mode's own default).
    lockTimeoutMs: options.lockTimeoutMs === undefined ? undefined : resolveDeadline(options.lockTimeoutMs, 0, "lockTimeoutMs"),
    service,
    keyring: () => (keyring ??= defaultKeyringStore()),
  };
  const secretsSide = (): AutoKeyringSide => ({ ...secretsStorageFlows(location), removeEntry: () => removeSecretsEntryFlow(location) });
  const flows: StorageFlows =
    mode === "file" ? fileStorageFlows(location)
    : mode === "keyring" ? (backend === "secrets" ? secretsStorageFlows(location) : keyringStorageFlows(location))
    : mode === "auto" ? autoStorageFlows(location, backend === "secrets" ? secretsSide() : undefined)
    : ephemeralStorageFlows(options.home, service);
  return new FlowStorage(mode, options.home, fileName, flows);
}
