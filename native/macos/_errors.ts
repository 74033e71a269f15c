/**
 * Maps macOS keychain OSStatus codes to {@linkcode KeyringError} kinds and
 * reasons, with a message that says what to do (keyring-rs's `decode_error`
 * in `macos.rs`; the constant names are in the comments).
 *
 * @module
 */
import { KeyringError, type KeyringErrorReason } from "../../src/contract/keyring-error.ts";
import type { MacosApi } from "./_bindings.ts";
import { CfScope, readString } from "./_cf.ts";

/** The backend name in every macOS {@linkcode KeyringError}. */
export const BACKEND = "macos";

/** `errSecSuccess`. */
export const errSecSuccess = 0;
/** `errSecItemNotFound`: no such item. */
export const errSecItemNotFound = -25300;
/** `errSecDuplicateItem`: the item already exists. */
export const errSecDuplicateItem = -25299;

/** The kind and message for an OSStatus. */
export interface DecodedStatus {
  kind: "locked" | "unavailable" | "failure";
  reason: KeyringErrorReason;
  message: string;
}

/**
 * Maps an OSStatus to a {@linkcode KeyringError} kind and a message that says
 * what to do (the constant names are in the comments). Pure: `appleText` is
 * the `SecCopyErrorMessageString` text, used for the codes we do not map.
 * Returns `null` for the codes that are not errors here.
 */
export function decodeError(code: number, appleText: string | null = null): DecodedStatus | null {
  switch (code) {
    case errSecSuccess: // errSecSuccess
    case errSecItemNotFound: // errSecItemNotFound: null / false
      return null;
    case -25308: // errSecInteractionNotAllowed
      return {
        kind: "locked",
        reason: "locked",
        message:
          "the macOS keychain did not allow user interaction (errSecInteractionNotAllowed, -25308): it is locked, or no UI is available (for example over SSH); unlock it with `security unlock-keychain` and try again",
      };
    case -25293: // errSecAuthFailed
      return {
        kind: "locked",
        reason: "denied",
        message:
          "macOS keychain authorization failed (errSecAuthFailed, -25293); unlock the login keychain with `security unlock-keychain`, or allow this program for the item in Keychain Access, then try again",
      };
    case -128: // userCanceledErr
      return {
        kind: "locked",
        reason: "denied",
        message:
          "access to the macOS keychain item was refused at the prompt (userCanceledErr, -128); run the command again and choose Allow or Always Allow",
      };
    case -25294: // errSecNoSuchKeychain
      return {
        kind: "unavailable",
        reason: "no-default-collection",
        message:
          "there is no default macOS keychain (errSecNoSuchKeychain, -25294); select one with `security default-keychain -s login.keychain`, or store credentials in a file",
      };
    case -25291: // errSecNotAvailable
      return {
        kind: "unavailable",
        reason: "no-service",
        message:
          "no macOS keychain is available (errSecNotAvailable, -25291); store credentials in a file instead",
      };
    default:
      return {
        kind: "failure",
        reason: "other",
        message: `macOS keychain error ${code}: ${appleText ?? "no description from SecCopyErrorMessageString"}`,
      };
  }
}

/** Builds the KeyringError for a status, asking Security.framework for its text when the code is unmapped. */
export function statusError(api: MacosApi, code: number): KeyringError {
  let decoded = decodeError(code);
  if (decoded?.kind === "failure") decoded = decodeError(code, errorText(api, code));
  const { kind, reason, message } = decoded ?? { kind: "failure", reason: "other", message: `unexpected macOS keychain status ${code}` };
  return new KeyringError(message, { kind, reason, backend: BACKEND, code });
}

/** `SecCopyErrorMessageString` (Create rule: the string is ours to release). */
function errorText(api: MacosApi, code: number): string | null {
  const scope = new CfScope(api);
  try {
    const ref = api.SecCopyErrorMessageString(code, null);
    return ref === null ? null : readString(api, scope.own(ref, "an error message"));
  } catch {
    return null;
  } finally {
    scope.release();
  }
}

/** Any error that is not already a KeyringError becomes kind `failure` (FFI marshalling errors, for example). */
export function asKeyringError(error: unknown): KeyringError {
  if (error instanceof KeyringError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new KeyringError(`macOS keychain call failed: ${detail}`, { kind: "failure", reason: "other", backend: BACKEND, cause: error });
}
