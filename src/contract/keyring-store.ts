/**
 * The thin backend trait every keyring implements (after keyring-rs's
 * `CredentialApi` and Codex's `KeyringStore`).
 *
 * @module
 */

/**
 * A place that keeps one secret string per `(service, account)`.
 *
 * Implementations: {@linkcode MemoryKeyringStore} (the test double) and the
 * platform stores in `native/` (libsecret, Windows Credential Manager, macOS
 * keychain), picked by {@linkcode defaultKeyringStore}.
 *
 * Rules every implementation follows:
 * - a missing entry is `null` from `load` and `false` from `delete`, never an error;
 * - every failure is a {@linkcode KeyringError};
 * - each method has a synchronous twin with the same meaning.
 *
 * @example Basic usage
 * ```ts
 * import type { KeyringStore } from "authkeep";
 * import { MemoryKeyringStore } from "authkeep/testing";
 *
 * const store: KeyringStore = new MemoryKeyringStore();
 * await store.save("Codex Auth", "cli|0123456789abcdef", "{}");
 * console.log(await store.load("Codex Auth", "cli|0123456789abcdef")); // "{}"
 * ```
 */
export interface KeyringStore {
  /** The backend's name, as used in {@linkcode KeyringError.backend}. Optional for stores written by users. */
  readonly backend?: string;
  /** Reads the secret, or `null` when there is none. */
  load(service: string, account: string): Promise<string | null>;
  /** Stores the secret, replacing any existing one. */
  save(service: string, account: string, value: string): Promise<void>;
  /** Deletes the secret; returns whether one existed. */
  delete(service: string, account: string): Promise<boolean>;
  /** Synchronous twin of {@linkcode KeyringStore.load}. */
  loadSync(service: string, account: string): string | null;
  /** Synchronous twin of {@linkcode KeyringStore.save}. */
  saveSync(service: string, account: string, value: string): void;
  /** Synchronous twin of {@linkcode KeyringStore.delete}. */
  deleteSync(service: string, account: string): boolean;
}

/**
 * Options of {@linkcode defaultKeyringStore}, one type for every platform: a
 * field a platform does not use is ignored there.
 */
export interface KeyringStoreOptions {
  /**
   * Deadline for one asynchronous call, in milliseconds. The call rejects with
   * a {@linkcode KeyringError} of kind `unavailable` when it passes, and the
   * event loop keeps running meanwhile.
   * @default {5000}
   */
  timeoutMs?: number;
  /**
   * Linux only: reply timeout of each D-Bus round trip, in milliseconds. It is
   * the only bound of the synchronous methods, which block the thread; an async
   * call ends at whichever of this and `timeoutMs` comes first.
   * @default {2000}
   */
  syncTimeoutMs?: number;
  /**
   * The FFI provider of the native keyring: `"koffi"`, `"deno"` (`Deno.dlopen`)
   * or `"bun"` (`bun:ffi`). Overrides the `AUTHKEEP_FFI` environment variable.
   * @default {"bun" on Bun, "deno" on Deno, "koffi" on Node}
   */
  ffi?: "koffi" | "deno" | "bun";
  /**
   * macOS only: path of the Security framework binary (tests point it at an ABI stand-in).
   * @default {"/System/Library/Frameworks/Security.framework/Security"}
   */
  securityLibraryPath?: string;
  /**
   * macOS only: path of the CoreFoundation framework binary; it may be the same
   * file as `securityLibraryPath`.
   * @default {"/System/Library/Frameworks/CoreFoundation.framework/CoreFoundation"}
   */
  coreFoundationLibraryPath?: string;
}
