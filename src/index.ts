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
export {
  createLinuxKeyringStore,
  createMacosKeyringStore,
  createWindowsKeyringStore,
  type LinuxKeyringStoreOptions,
  type MacosKeyringStoreOptions,
  type WindowsKeyringStoreOptions,
} from "./platform-keyring-stores.ts";
export { type InjectedErrorOptions, type KeyringOperation, MemoryKeyringStore } from "./memory-keyring-store.ts";
export type { AuthStorage } from "./auth-storage.ts";
export {
  createAuthStorage,
  type CreateAuthStorageOptions,
  DEFAULT_AUTH_FILE_NAME,
  DEFAULT_KEYRING_SERVICE,
} from "./create-auth-storage.ts";
export { writeFileAtomic, type WriteFileAtomicOptions, writeFileAtomicSync } from "./atomic-write.ts";
export {
  AuthManager,
  type AuthManagerOptions,
  DEFAULT_REFRESH_WINDOW_MS,
  type RecoveryStepResult,
  type ReloadOutcome,
  type UnauthorizedRecovery,
  type UnauthorizedRecoveryStep,
} from "./auth-manager.ts";
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
} from "./token-refresher.ts";
export {
  DEFAULT_LOCK_STALE_MS,
  DEFAULT_LOCK_TIMEOUT_MS,
  LockTimeoutError,
  RefreshLock,
  type RefreshLockHandle,
  type RefreshLockHolder,
  type RefreshLockOptions,
  type LockWaiter,
} from "./refresh-lock.ts";
export { fetchWithAuth } from "./fetch-with-auth.ts";
