/**
 * authkeep keeps a command-line tool's login credentials safe and consistent:
 * in a file, in the operating system's keyring, or in both with a fallback,
 * compatible with the Codex CLI's `auth.json` and keyring entry.
 *
 * @example Basic usage
 * ```ts
 * import { createAuthStorage, defaultHome } from "authkeep";
 *
 * const storage = createAuthStorage({ home: defaultHome(), mode: "auto" });
 * const auth = await storage.load();
 * ```
 *
 * @module
 */
export type { AuthCredentialsStoreMode, AuthDotJson, IdTokenInfo, TokenData } from "./auth-types.ts";
export { AUTH_CREDENTIALS_STORE_MODES } from "./auth-types.ts";
export { parseAuthJson, serializeAuthJson, type SerializeAuthJsonOptions } from "./auth-json.ts";
export { parseIdToken } from "./id-token.ts";
export { computeStoreKey, type ComputeStoreKeyOptions, storeKeyForCanonicalPath, toVerbatimPath } from "./store-key.ts";
export { defaultHome, type DefaultHomeOptions } from "./default-home.ts";
export {
  AuthFormatError,
  type AuthFormatErrorOptions,
  AuthStorageError,
  type AuthStorageErrorOptions,
  type AuthStorageOperation,
} from "./errors.ts";
export type { KeyringStore, KeyringStoreOptions } from "./keyring-store.ts";
export { KeyringError, type KeyringErrorKind, type KeyringErrorOptions, withKeyringContext } from "./keyring-error.ts";
export { defaultKeyringStore } from "./default-keyring-store.ts";
export { type InjectedErrorOptions, type KeyringOperation, MemoryKeyringStore } from "./memory-keyring-store.ts";
export type { AuthStorage } from "./auth-storage.ts";
export {
  createAuthStorage,
  type CreateAuthStorageOptions,
  DEFAULT_AUTH_FILE_NAME,
  DEFAULT_KEYRING_SERVICE,
} from "./create-auth-storage.ts";
export { writeFileAtomic, type WriteFileAtomicOptions, writeFileAtomicSync } from "./atomic-write.ts";
