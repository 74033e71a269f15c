/**
 * authkeep keeps a command-line tool's login credentials safe and consistent:
 * in a file, in the operating system's keyring, or in both with a fallback,
 * compatible with the Codex CLI's `auth.json` and keyring entry.
 *
 * The test double ({@linkcode MemoryKeyringStore} with fault injection) is in
 * `authkeep/testing`.
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

// storage
export type { AuthStorage } from "./storage/auth-storage.ts";
export {
  createAuthStorage,
  type CreateAuthStorageOptions,
  DEFAULT_AUTH_FILE_NAME,
  DEFAULT_KEYRING_SERVICE,
  type KeyringBackend,
} from "./storage/create-auth-storage.ts";
export { defaultHome, type DefaultHomeOptions } from "./storage/default-home.ts";

// document
export type { AuthCredentialsStoreMode, AuthDotJson, IdTokenInfo, TokenData } from "./document/auth-types.ts";
export { parseAuthJson, serializeAuthJson, type SerializeAuthJsonOptions } from "./document/auth-json.ts";
export { parseIdToken } from "./document/id-token.ts";
export { computeStoreKey, type ComputeStoreKeyOptions } from "./document/store-key.ts";

// keyring
export type { KeyringStore, KeyringStoreOptions } from "./contract/keyring-store.ts";
export { defaultKeyringStore } from "./keyring/default-keyring-store.ts";

// refresh
export {
  AuthManager,
  type AuthManagerOptions,
  type RecoveryStepResult,
  type UnauthorizedRecovery,
  type UnauthorizedRecoveryStep,
} from "./refresh/auth-manager.ts";
// Types only: AuthManagerOptions["lock"] and ["backoff"], LockTimeoutError["holder"] and ["lock"] name them.
export type { RefreshLockOptions } from "./refresh/refresh-lock-options.ts";
export type { RefreshBackoffOptions } from "./refresh/refresh-backoff.ts";
export type { LockKind, RefreshLockHolder } from "./contract/lock-timeout-error.ts";
export {
  HttpTokenRefresher,
  type HttpTokenRefresherOptions,
  type RefreshContext,
  type RefreshedTokens,
  type RefreshReason,
  type TokenRefresher,
} from "./refresh/token-refresher.ts";
export { fetchWithAuth } from "./refresh/fetch-with-auth.ts";

// errors
export {
  AuthFormatError,
  AuthStorageError,
  type AuthStorageOperation,
  EncryptedStoreError,
  type EncryptedStoreErrorReason,
  KeyringError,
  type KeyringErrorKind,
  type KeyringErrorReason,
  LockTimeoutError,
  RefreshError,
  type RefreshFailedReason,
} from "./contract/errors.ts";
