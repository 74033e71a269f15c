/**
 * Every error class authkeep throws, in one place: the document and storage
 * errors defined here, and the keyring, refresh and lock errors, one module
 * each beside this one and re-exported from here. No message produced by
 * authkeep contains a secret value.
 *
 * @module
 */
import { superOptions } from "./_error-options.ts";
export { KeyringError, type KeyringErrorKind, type KeyringErrorOptions, type KeyringErrorReason } from "./keyring-error.ts";
export { RefreshError, type RefreshErrorOptions, type RefreshFailedReason } from "./refresh-error.ts";
export { LockTimeoutError, type RefreshLockHolder } from "./lock-timeout-error.ts";
export { EncryptedStoreError, type EncryptedStoreErrorOptions, type EncryptedStoreErrorReason } from "./encrypted-store-error.ts";

/** Where in a document a format problem was found. */
export interface AuthFormatErrorOptions {
  /** The dotted path of the offending field, e.g. `"tokens.access_token"`. */
  field?: string;
  /** The 1-based line of the problem in the text, when known. */
  line?: number;
  /** The 1-based column of the problem in the text, when known. */
  column?: number;
  /** The underlying error; never one whose message could contain the input. */
  cause?: unknown;
}

/**
 * A credentials document (auth.json, a keyring value, or a JWT) is malformed.
 * The message names the field and position but never contains a value.
 *
 * @example Basic usage
 * ```ts
 * import { AuthFormatError, parseAuthJson } from "authkeep";
 *
 * try {
 *   parseAuthJson('{"OPENAI_API_KEY": 42}');
 * } catch (error) {
 *   if (error instanceof AuthFormatError) console.log(error.field); // "OPENAI_API_KEY"
 * }
 * ```
 */
export class AuthFormatError extends Error {
  /** The dotted path of the offending field, when known. */
  readonly field: string | undefined;
  /** The 1-based line of the problem, when known. */
  readonly line: number | undefined;
  /** The 1-based column of the problem, when known. */
  readonly column: number | undefined;

  /**
   * Creates the error.
   *
   * @param message What is wrong, without any value from the document.
   * @param options Field, position and cause.
   */
  constructor(message: string, options: AuthFormatErrorOptions = {}) {
    super(message, superOptions(options));
    this.name = "AuthFormatError";
    this.field = options.field;
    this.line = options.line;
    this.column = options.column;
  }
}

/** What a storage operation was doing when it failed. */
export type AuthStorageOperation = "load" | "save" | "delete";

/** The fields of an {@linkcode AuthStorageError} besides its message. */
export interface AuthStorageErrorOptions {
  /** What was being done. */
  operation: AuthStorageOperation;
  /** The file involved, when there is one. */
  path?: string;
  /** The system error code, e.g. `"EACCES"`, `"EROFS"`, `"ENOSPC"`. */
  code?: string;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * Reading, writing or removing a credentials file failed (permissions, a
 * read-only or full disk, a path that is not a directory). When a save fails
 * the previous file is left as it was.
 *
 * @example Basic usage
 * ```ts
 * import { AuthStorageError, createAuthStorage } from "authkeep";
 *
 * const storage = createAuthStorage({ home: "/proc/authkeep-cannot-write-here" });
 * try {
 *   storage.saveSync({ OPENAI_API_KEY: null });
 * } catch (error) {
 *   if (error instanceof AuthStorageError) console.log(error.operation, error.code);
 * }
 * ```
 */
export class AuthStorageError extends Error {
  /** What was being done. */
  readonly operation: AuthStorageOperation;
  /** The file involved, when there is one. */
  readonly path: string | undefined;
  /** The system error code, when there is one. */
  readonly code: string | undefined;

  /**
   * Creates the error.
   *
   * @param message What failed and, where possible, how to fix it.
   * @param options Operation, path, code and cause.
   */
  constructor(message: string, options: AuthStorageErrorOptions) {
    super(message, superOptions(options));
    this.name = "AuthStorageError";
    this.operation = options.operation;
    this.path = options.path;
    this.code = options.code;
  }
}

/** The `code` of a Node system error, if it has one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}
