/**
 * Reading the token endpoint's answer, which is not trusted: success bodies
 * become {@linkcode RefreshedTokens} (bounded), error bodies become a
 * {@linkcode RefreshError} with Codex's classification and no secret in it.
 *
 * @module
 */
import { REDACTED, scrubFragments, scrubSecrets } from "../contract/_redact.ts";
import { RefreshError, type RefreshFailedReason } from "../contract/refresh-error.ts";
import type { RefreshedTokens } from "./refreshed-tokens.ts";
import {
  REFRESH_TOKEN_EXPIRED_MESSAGE,
  REFRESH_TOKEN_INVALIDATED_MESSAGE,
  REFRESH_TOKEN_REUSED_MESSAGE,
  REFRESH_TOKEN_UNKNOWN_MESSAGE,
} from "./refresh-messages.ts";

/** The longest token accepted from the endpoint: real JWTs are a few KiB. */
export const MAX_TOKEN_LENGTH = 64 * 1024;
/** Visible ASCII only, as in JWTs and opaque OAuth tokens; empty is allowed (Codex stores it). */
const TOKEN_CHARS = /^[\x21-\x7e]*$/;
/** How much of a server's error text a message quotes. */
const MAX_SERVER_TEXT = 200;
/** The longest `code` kept; anything longer, or not shaped like a code, is dropped. */
const CODE_SHAPE = /^[\w.:-]{1,100}$/;

/**
 * Turns a non-2xx answer of the token endpoint into a {@linkcode RefreshError},
 * as Codex does: 401 → permanent with the reason from the body's error code;
 * any other status → transient `Failed to refresh token: {status}: {message}`.
 * The `secrets` (the tokens we sent or hold) are scrubbed from the body first,
 * in any JSON escaping, and no 8-character piece of one reaches the message.
 *
 * @param status The HTTP status (not 2xx).
 * @param body The response body text.
 * @param secrets Values that must not appear in the error.
 * @returns The classified error (not thrown).
 */
export function classifyRefreshFailure(status: number, body: string, secrets: readonly string[] = []): RefreshError {
  const clean = scrubSecrets(body, secrets);
  const json = parseJsonOrUndefined(clean);
  // A short secret could be scrubbed out of a known code itself; those codes are constants, safe to keep.
  const rawCode = clean === body ? undefined : extractErrorCode(parseJsonOrUndefined(body), []);
  const code = rawCode !== undefined && KNOWN_CODES.has(rawCode) ? rawCode : extractErrorCode(json, secrets);
  const withCode = code === undefined ? {} : { code };
  if (status === 401) {
    const [reason, message] = reasonForCode(code);
    return new RefreshError(message, { permanent: true, reason, status, ...withCode });
  }
  const message = scrubFragments(`Failed to refresh token: ${status}: ${errorMessage(json, clean)}`, secrets);
  return new RefreshError(message, { permanent: false, reason: "transient", status, ...withCode });
}

/**
 * Reads a 2xx body: a JSON object whose `id_token`, `access_token` and
 * `refresh_token` are each absent, null or a string of visible ASCII, at most
 * {@link MAX_TOKEN_LENGTH} characters. Anything else is transient.
 */
export function parseRefreshSuccess(text: string, status: number): RefreshedTokens {
  const json = parseJsonOrUndefined(text);
  if (!isObject(json)) throw transient(`Failed to refresh token: ${status}: the response is not a JSON object`, status);
  const tokens: RefreshedTokens = {};
  for (const field of ["id_token", "access_token", "refresh_token"] as const) {
    const value = json[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== "string") throw transient(`Failed to refresh token: ${status}: ${field} is not a string`, status);
    if (value.length > MAX_TOKEN_LENGTH) {
      throw transient(`Failed to refresh token: ${status}: ${field} is longer than ${MAX_TOKEN_LENGTH} characters`, status);
    }
    // A token travels in an HTTP header: spaces, controls or non-ASCII could never be sent (or would inject).
    if (!TOKEN_CHARS.test(value)) throw transient(`Failed to refresh token: ${status}: ${field} has characters no token has`, status);
    tokens[field] = value;
  }
  return tokens;
}

/** A transient {@linkcode RefreshError} with no body text in it. */
export function transient(message: string, status?: number, cause?: unknown): RefreshError {
  return new RefreshError(message, {
    permanent: false,
    reason: "transient",
    ...(status === undefined ? {} : { status }),
    ...(cause === undefined ? {} : { cause }),
  });
}

const KNOWN_CODES = new Set(["refresh_token_expired", "refresh_token_reused", "refresh_token_invalidated"]);

function reasonForCode(code: string | undefined): [RefreshFailedReason, string] {
  switch (code) {
    case "refresh_token_expired":
      return ["expired", REFRESH_TOKEN_EXPIRED_MESSAGE];
    case "refresh_token_reused":
      return ["exhausted", REFRESH_TOKEN_REUSED_MESSAGE];
    case "refresh_token_invalidated":
      return ["revoked", REFRESH_TOKEN_INVALIDATED_MESSAGE];
    default:
      return ["other", REFRESH_TOKEN_UNKNOWN_MESSAGE];
  }
}

/** Codex's `extract_refresh_token_error_code`: `error.code`, `error` (string), or top-level `code`; lowercased. */
function extractErrorCode(json: unknown, secrets: readonly string[]): string | undefined {
  if (!isObject(json)) return undefined;
  const error = json.error;
  let code: string | undefined;
  if (isObject(error) && typeof error.code === "string") code = error.code;
  else if (typeof error === "string") code = error;
  else if (typeof json.code === "string") code = json.code;
  if (code === undefined) return undefined;
  // A code is a short identifier; text that is not one (or holds a piece of a secret) is not kept.
  const lower = code.toLowerCase();
  return CODE_SHAPE.test(lower) && scrubFragments(lower, secrets) === lower ? lower : undefined;
}

/** Codex's `try_parse_error_message`: `error.message`, else the body, else "Unknown error". */
function errorMessage(json: unknown, body: string): string {
  if (isObject(json) && isObject(json.error) && typeof json.error.message === "string") return redactTokenLike(json.error.message);
  if (body.length === 0) return "Unknown error";
  return redactTokenLike(body);
}

// Tokens we did not send (another user's, a JWT the server made up) are caught by their shape.
const JWT_LIKE = /[\w-]{8,}\.[\w-]{8,}\.[\w-]{4,}/g;
const OPAQUE_TOKEN_LIKE = /[\w+/=-]{32,}/g;

/** Caps server text and replaces anything shaped like a token with `[redacted]`. */
function redactTokenLike(text: string): string {
  const capped = text.length > MAX_SERVER_TEXT ? `${text.slice(0, MAX_SERVER_TEXT)}…` : text;
  return capped.replace(JWT_LIKE, REDACTED).replace(OPAQUE_TOKEN_LIKE, REDACTED);
}

function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
