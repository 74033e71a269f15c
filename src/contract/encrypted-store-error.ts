/**
 * The error the encrypted auth store (Codex's "secrets" keyring backend,
 * `<home>/secrets/codex_auth.age`) throws for a file it cannot use.
 *
 * @module
 */
import { superOptions } from "./_error-options.ts";

/**
 * What is wrong with the encrypted store. New reasons may be added in later
 * versions: keep a default branch.
 *
 * - `missing-passphrase`: the file exists but the keyring has no passphrase
 *   item for it (service `codex`, account `secrets|…`).
 * - `wrong-passphrase`: the keyring's passphrase does not open the file (or
 *   its recipient line was damaged: age cannot tell the two apart).
 * - `corrupt`: the file is not a well-formed age file, a MAC or chunk does
 *   not authenticate, or the decrypted document is not the expected JSON.
 * - `truncated`: the file ends before its last chunk.
 * - `newer-version`: the decrypted document has a `version` newer than 1.
 * - `too-large`: the file is bigger than any auth store could be.
 * - `work-factor`: the scrypt work factor is beyond the cap authkeep accepts.
 * - `unsupported`: an age file, but not one sealed with a single passphrase.
 */
export type EncryptedStoreErrorReason =
  | "missing-passphrase"
  | "wrong-passphrase"
  | "corrupt"
  | "truncated"
  | "newer-version"
  | "too-large"
  | "work-factor"
  | "unsupported";

/** The fields of an {@linkcode EncryptedStoreError} besides its message. */
export interface EncryptedStoreErrorOptions {
  /** What is wrong. */
  reason: EncryptedStoreErrorReason;
  /** The encrypted file, when there is one. */
  path?: string;
  /** The underlying error; never one whose message could hold a secret. */
  cause?: unknown;
}

/**
 * The encrypted auth store could not be read or updated. The message names
 * the problem and the file; it never contains the passphrase, a key or any
 * decrypted value. A failed save leaves the file as it was.
 *
 * @example Basic usage
 * ```ts
 * import { EncryptedStoreError } from "authkeep";
 *
 * const error = new EncryptedStoreError("the passphrase item is missing", { reason: "missing-passphrase" });
 * console.log(error instanceof EncryptedStoreError, error.reason); // true "missing-passphrase"
 * ```
 */
export class EncryptedStoreError extends Error {
  /** What is wrong. */
  readonly reason: EncryptedStoreErrorReason;
  /** The encrypted file, when there is one. */
  readonly path: string | undefined;

  /**
   * Creates the error (authkeep's encrypted store throws it; programs only read it).
   *
   * @param message What is wrong and, where possible, how to fix it.
   * @param options The reason, the file and the cause.
   */
  constructor(message: string, options: EncryptedStoreErrorOptions) {
    super(message, superOptions(options));
    this.name = "EncryptedStoreError";
    this.reason = options.reason;
    this.path = options.path;
  }
}
