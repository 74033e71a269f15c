/**
 * The one error type every keyring backend throws.
 *
 * @module
 */
import { superOptions } from "./_error-options.ts";

/**
 * Why a keyring operation failed. New kinds may be added in later versions
 * (like keyring-rs's `#[non_exhaustive]`), so always keep a default branch.
 *
 * - `unavailable`: no keyring here (no FFI provider, no library, no D-Bus,
 *   no Secret Service, no default collection, no logon session, a timeout).
 * - `locked`: a keyring exists but is locked, or the user refused access.
 * - `too-large`: the value is larger than this backend can hold.
 * - `invalid`: the arguments cannot be stored (for example an embedded NUL).
 * - `failure`: anything else the platform reported.
 */
export type KeyringErrorKind =
  | "unavailable"
  | "locked"
  | "too-large"
  | "invalid"
  | "failure";

/**
 * The precise cause behind a {@linkcode KeyringErrorKind}, for programs (and
 * `authkeep doctor`) that explain or fix it, so none has to read messages.
 * New reasons may be added in later versions: keep a default branch.
 *
 * - `no-ffi`: no FFI provider could be loaded (koffi is not installed, or the
 *   runtime's FFI is not permitted).
 * - `no-library`: the platform library (libsecret, Security.framework,
 *   advapi32) could not be opened.
 * - `no-bus`: no D-Bus session bus (`DBUS_SESSION_BUS_ADDRESS` unset, empty or
 *   unreachable).
 * - `no-service`: the bus has no Secret Service (no keyring daemon; on macOS:
 *   no keychain is available).
 * - `no-default-collection`: the Secret Service has no default collection (on
 *   macOS: there is no default keychain).
 * - `locked`: the keyring or collection is locked.
 * - `denied`: the user or the system refused access.
 * - `timeout`: the platform did not answer within the deadline.
 * - `no-session`: no logon session to store credentials in (Windows).
 * - `too-large`: the value exceeds the backend's limit.
 * - `invalid`: the arguments cannot be stored.
 * - `other`: anything else the platform reported.
 */
export type KeyringErrorReason =
  | "no-ffi"
  | "no-library"
  | "no-bus"
  | "no-service"
  | "no-default-collection"
  | "locked"
  | "denied"
  | "timeout"
  | "no-session"
  | "too-large"
  | "invalid"
  | "other";

/** The fields of a {@linkcode KeyringError} besides its message. */
export interface KeyringErrorOptions {
  /** Why the operation failed. */
  kind: KeyringErrorKind;
  /** The precise cause; `"other"` when left out. */
  reason?: KeyringErrorReason;
  /** Which backend failed: `"memory"`, `"libsecret"`, `"windows"`, `"macos"`, … */
  backend: string;
  /** The platform's own code: an OSStatus, a Win32 error or `"domain:code"` for a GError. */
  code?: number | string;
  /** The underlying error, if any. */
  cause?: unknown;
}

const KEYRING_ERROR_BRAND = Symbol.for("authkeep.KeyringError");

/**
 * A keyring backend failed. A missing entry is never an error: `load`
 * returns `null` and `delete` returns `false` for it.
 *
 * Messages never contain a secret value.
 *
 * @example Basic usage
 * ```ts
 * import { KeyringError } from "authkeep";
 *
 * const error = new KeyringError("keyring is locked", { kind: "locked", backend: "memory" });
 * console.log(error.kind, error.backend); // "locked" "memory"
 * ```
 */
export class KeyringError extends Error {
  /**
   * `instanceof KeyringError` holds for a KeyringError from any copy of this
   * module. The published package is bundled: its entry and each platform
   * backend (loaded on first use) carry their own copy of this class, and a
   * program must still be able to test an error from a backend against the
   * `KeyringError` it imported. Subclasses keep the ordinary prototype test.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class instanceof was asked about, a subclass included
    if (this !== KeyringError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === "object" && value !== null && (value as { [KEYRING_ERROR_BRAND]?: unknown })[KEYRING_ERROR_BRAND] === true;
  }

  /** Why the operation failed. */
  readonly kind: KeyringErrorKind;
  /** The precise cause, for programs that explain or fix it. */
  readonly reason: KeyringErrorReason;
  /** Which backend failed. */
  readonly backend: string;
  /** The platform's own error code, when there is one. */
  readonly code: number | string | undefined;

  /**
   * Creates the error.
   *
   * @param message What failed and, where possible, how to fix it.
   * @param options The kind, the backend, the platform code and the cause.
   */
  constructor(message: string, options: KeyringErrorOptions) {
    super(message, superOptions(options));
    this.name = "KeyringError";
    this.kind = options.kind;
    this.reason = options.reason ?? "other";
    this.backend = options.backend;
    this.code = options.code;
  }
}

// Shared by every copy of the class through the global symbol registry; set on the prototype, so
// instances carry no extra own property.
Object.defineProperty(KeyringError.prototype, KEYRING_ERROR_BRAND, { value: true });

/**
 * Returns a new {@linkcode KeyringError} with `prefix: ` before the message of
 * `error`, keeping its kind, backend and code. Non-keyring errors become kind
 * `failure`.
 */
export function withKeyringContext(error: unknown, prefix: string): KeyringError {
  if (error instanceof KeyringError) {
    return new KeyringError(`${prefix}: ${error.message}`, {
      kind: error.kind,
      reason: error.reason,
      backend: error.backend,
      code: error.code,
      cause: error,
    });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new KeyringError(`${prefix}: ${detail}`, { kind: "failure", backend: "unknown", cause: error });
}
