/**
 * Maps Win32 error codes from the Credential Manager to {@linkcode KeyringError}
 * kinds (keyring-rs's `decode_error` in `windows.rs`, plus the kinds the
 * Core issue asks for).
 *
 * @module
 */
import { KeyringError, type KeyringErrorKind, type KeyringErrorReason } from "../../src/contract/keyring-error.ts";

/** `ERROR_NOT_FOUND`: no such credential (a missing entry, never an error for read/delete). */
export const ERROR_NOT_FOUND = 1168;
/** `ERROR_NO_SUCH_LOGON_SESSION`: no logon session (service accounts, some sandboxes). */
export const ERROR_NO_SUCH_LOGON_SESSION = 1312;
/** `RPC_X_BAD_STUB_DATA`: what real Windows says for a blob over 2560 bytes. */
export const RPC_X_BAD_STUB_DATA = 1783;

const table: Readonly<Record<number, { name: string; kind: KeyringErrorKind; reason: KeyringErrorReason }>> = {
  [ERROR_NOT_FOUND]: { name: "ERROR_NOT_FOUND", kind: "failure", reason: "other" },
  [ERROR_NO_SUCH_LOGON_SESSION]: { name: "ERROR_NO_SUCH_LOGON_SESSION", kind: "unavailable", reason: "no-session" },
  [RPC_X_BAD_STUB_DATA]: { name: "RPC_X_BAD_STUB_DATA", kind: "too-large", reason: "too-large" },
  5: { name: "ERROR_ACCESS_DENIED", kind: "failure", reason: "denied" },
  87: { name: "ERROR_INVALID_PARAMETER", kind: "failure", reason: "other" },
  234: { name: "ERROR_MORE_DATA", kind: "failure", reason: "other" },
  1004: { name: "ERROR_INVALID_FLAGS", kind: "failure", reason: "other" },
};

/**
 * Turns the Win32 error of a failed Credential Manager call into a
 * {@linkcode KeyringError}. `ERROR_NOT_FOUND` is handled by the caller where
 * it means "missing"; reaching here it is a plain `failure` (Wine also
 * reports it for a target name over 247 characters).
 *
 * @param code The value of `GetLastError()` right after the call.
 * @param call The API function, e.g. `"CredWriteW"`.
 * @param target The target name involved (never a secret).
 */
export function decodeError(code: number, call: string, target: string): KeyringError {
  const known = table[code];
  const name = known ? ` ${known.name}` : "";
  let hint = "";
  if (code === ERROR_NO_SUCH_LOGON_SESSION) hint = "; this process has no logon session with a credential store (use mode \"file\")";
  if (code === RPC_X_BAD_STUB_DATA) hint = "; the value is larger than the Credential Manager accepts";
  return new KeyringError(`${call}("${target}") failed with Win32 error ${code}${name}${hint}`, {
    kind: known?.kind ?? "failure",
    reason: known?.reason ?? "other",
    backend: "windows",
    code,
  });
}
