/**
 * The error of a failed token refresh, with Codex's classification of why.
 *
 * @module
 */
import { superOptions } from "./_error-options.ts";

/**
 * Why a refresh failed. The first five are permanent (sign in again):
 * - `expired`, `exhausted` (reused), `revoked`, `other`: Codex's
 *   `RefreshTokenFailedReason` for a 401 from the token endpoint;
 * - `account-mismatch`: the stored login was removed or belongs to another
 *   account (Codex reports it as `Other` with its own message).
 *
 * `transient` covers network errors, timeouts, non-401 statuses and
 * unreadable success bodies. New reasons may be added.
 */
export type RefreshFailedReason = "expired" | "exhausted" | "revoked" | "other" | "account-mismatch" | "transient";

/** Options of {@linkcode RefreshError}. */
export interface RefreshErrorOptions {
  /** Whether signing in again is the only fix. */
  permanent: boolean;
  /** The classified reason. */
  reason: RefreshFailedReason;
  /** The HTTP status of the token endpoint, when it answered. */
  status?: number;
  /** The lowercased error code from the response body, when present. */
  code?: string;
  /** The underlying error (never one whose message carries a token). */
  cause?: unknown;
}

/**
 * A token refresh failed. `permanent` failures carry Codex's exact message
 * and mean the user must sign in again; the others may be retried.
 * Messages and fields never contain a token.
 *
 * @example Basic usage
 * ```ts
 * import { HttpTokenRefresher, RefreshError } from "authkeep";
 *
 * // A stand-in for the token endpoint that says the refresh token was already used.
 * const fetch = async () => new Response('{"error":{"code":"refresh_token_reused"}}', { status: 401 });
 * try {
 *   await new HttpTokenRefresher({ fetch }).refresh("an-old-refresh-token");
 * } catch (error) {
 *   if (error instanceof RefreshError && error.permanent) console.log(error.reason); // "exhausted"
 * }
 * ```
 */
export class RefreshError extends Error {
  /** Whether signing in again is the only fix. */
  readonly permanent: boolean;
  /** The classified reason. */
  readonly reason: RefreshFailedReason;
  /** The HTTP status of the token endpoint, when it answered. */
  readonly status: number | undefined;
  /** The lowercased error code from the response body, when present. */
  readonly code: string | undefined;

  /**
   * Creates the error.
   *
   * @param message The user-facing message (Codex's exact text for permanent failures).
   * @param options Classification and cause.
   */
  constructor(message: string, options: RefreshErrorOptions) {
    super(message, superOptions(options));
    this.name = "RefreshError";
    this.permanent = options.permanent;
    this.reason = options.reason;
    this.status = options.status;
    this.code = options.code;
  }
}
