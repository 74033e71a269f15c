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
export type { AuthCredentialsStoreMode, AuthDotJson, IdTokenInfo, TokenData } from "./document/auth-types.ts";
export { AUTH_CREDENTIALS_STORE_MODES } from "./document/auth-types.ts";
export { parseAuthJson, serializeAuthJson, type SerializeAuthJsonOptions } from "./document/auth-json.ts";
export { parseIdToken } from "./document/id-token.ts";
export { computeStoreKey, type ComputeStoreKeyOptions, storeKeyForCanonicalPath, toVerbatimPath } from "./document/store-key.ts";
export { defaultHome, type DefaultHomeOptions } from "./storage/default-home.ts";
export {
  AuthFormatError,
  type AuthFormatErrorOptions,
  AuthStorageError,
  type AuthStorageErrorOptions,
  type AuthStorageOperation,
} from "./contract/errors.ts";
export type { KeyringStore, KeyringStoreOptions } from "./contract/keyring-store.ts";
export { KeyringError, type KeyringErrorKind, type KeyringErrorOptions, type KeyringErrorReason, withKeyringContext } from "./contract/keyring-error.ts";
export { defaultKeyringStore } from "./keyring/default-keyring-store.ts";
export {
  createLinuxKeyringStore,
  createMacosKeyringStore,
  createWindowsKeyringStore,
  type LinuxKeyringStoreOptions,
  type MacosKeyringStoreOptions,
  type WindowsKeyringStoreOptions,
} from "./keyring/platform-keyring-stores.ts";
export { type InjectedErrorOptions, type KeyringOperation, MemoryKeyringStore } from "./keyring/memory-keyring-store.ts";
export type { AuthStorage } from "./storage/auth-storage.ts";
export {
  createAuthStorage,
  type CreateAuthStorageOptions,
  DEFAULT_AUTH_FILE_NAME,
  DEFAULT_KEYRING_SERVICE,
} from "./storage/create-auth-storage.ts";
export { writeFileAtomic, type WriteFileAtomicOptions, writeFileAtomicSync } from "./storage/atomic-write.ts";
export {
  AuthManager,
  type AuthManagerOptions,
  DEFAULT_REFRESH_WINDOW_MS,
  type RecoveryStepResult,
  type ReloadOutcome,
  type UnauthorizedRecovery,
  type UnauthorizedRecoveryStep,
} from "./refresh/auth-manager.ts";
export {
  classifyRefreshFailure,
  CODEX_CLIENT_ID,
  DEFAULT_REFRESH_TIMEOUT_MS,
  DEFAULT_REFRESH_TOKEN_URL,
  HttpTokenRefresher,
  type HttpTokenRefresherOptions,
  REFRESH_TOKEN_ACCOUNT_MISMATCH_MESSAGE,
  REFRESH_TOKEN_EXPIRED_MESSAGE,
  REFRESH_TOKEN_INVALIDATED_MESSAGE,
  REFRESH_TOKEN_REUSED_MESSAGE,
  REFRESH_TOKEN_UNKNOWN_MESSAGE,
  REFRESH_TOKEN_URL_OVERRIDE_ENV_VAR,
  type RefreshedTokens,
  RefreshError,
  type RefreshErrorOptions,
  type RefreshFailedReason,
  type TokenRefresher,
} from "./refresh/token-refresher.ts";
export {
  DEFAULT_LOCK_STALE_MS,
  DEFAULT_LOCK_TIMEOUT_MS,
  LockTimeoutError,
  RefreshLock,
  type RefreshLockHandle,
  type RefreshLockHolder,
  type RefreshLockOptions,
  type LockWaiter,
} from "./refresh/refresh-lock.ts";
export { fetchWithAuth } from "./refresh/fetch-with-auth.ts";
