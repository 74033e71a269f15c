/**
 * Codex's exact user-facing messages for a refresh that failed for good
 * (the {@linkcode RefreshError} class is in the contract).
 *
 * @module
 */
import { RefreshError } from "../contract/refresh-error.ts";

/** Codex's message for `refresh_token_expired`. */
export const REFRESH_TOKEN_EXPIRED_MESSAGE =
  "Your access token could not be refreshed because your refresh token has expired. Please log out and sign in again.";
/** Codex's message for `refresh_token_reused`. */
export const REFRESH_TOKEN_REUSED_MESSAGE =
  "Your access token could not be refreshed because your refresh token was already used. Please log out and sign in again.";
/** Codex's message for `refresh_token_invalidated`. */
export const REFRESH_TOKEN_INVALIDATED_MESSAGE =
  "Your access token could not be refreshed because your refresh token was revoked. Please log out and sign in again.";
/** Codex's message for any other 401 from the token endpoint. */
export const REFRESH_TOKEN_UNKNOWN_MESSAGE =
  "Your access token could not be refreshed. Please log out and sign in again.";
/** Codex's message when the stored login now belongs to another account (or was removed). */
export const REFRESH_TOKEN_ACCOUNT_MISMATCH_MESSAGE =
  "Your access token could not be refreshed because you have since logged out or signed in to another account. Please sign in again.";

/** The permanent error for a login that was removed or now belongs to another account. */
export function accountMismatchError(): RefreshError {
  return new RefreshError(REFRESH_TOKEN_ACCOUNT_MISMATCH_MESSAGE, { permanent: true, reason: "account-mismatch" });
}
