/**
 * Exchanges a refresh token for new tokens at the OAuth token endpoint,
 * exactly as Codex CLI does, and classifies failures the way Codex does:
 * a *permanent* {@linkcode RefreshError} means "sign in again", a transient
 * one means "try again later".
 *
 * @module
 */
import { RefreshError, type RefreshFailedReason } from "../contract/refresh-error.ts";

/** Codex CLI's OAuth client id. */
export const CODEX_CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann";
/** Codex CLI's token endpoint. */
export const DEFAULT_REFRESH_TOKEN_URL = "https://auth.openai.com/oauth/token";
/** The environment variable that overrides the token endpoint (Codex's name). */
export const REFRESH_TOKEN_URL_OVERRIDE_ENV_VAR = "CODEX_REFRESH_TOKEN_URL_OVERRIDE";

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

/** The tokens a refresh returned; each is optional, as in Codex's `RefreshResponse`. */
export interface RefreshedTokens {
  /** A new raw id_token JWT. */
  id_token?: string;
  /** A new access token. */
  access_token?: string;
  /** The rotated refresh token. */
  refresh_token?: string;
}

/**
 * Anything that can exchange a refresh token for new tokens. Implement it to
 * plug another identity provider (or a test double) into {@linkcode AuthManager}.
 *
 * @example Basic usage
 * ```ts
 * import type { TokenRefresher } from "authkeep";
 *
 * const refresher: TokenRefresher = {
 *   async refresh(refreshToken) {
 *     return { access_token: `access-for-${refreshToken.length}`, refresh_token: "rotated" };
 *   },
 * };
 * console.log((await refresher.refresh("old")).refresh_token); // "rotated"
 * ```
 */
export interface TokenRefresher {
  /**
   * Exchanges `refreshToken` for new tokens.
   *
   * @throws {RefreshError} permanent when the refresh token is dead, transient otherwise.
   */
  refresh(refreshToken: string): Promise<RefreshedTokens>;
  /**
   * The most one `refresh` call may take, in ms, when it is bounded. {@linkcode AuthManager}
   * bounds its wait for another process's refresh by it.
   * @default DEFAULT_REFRESH_TIMEOUT_MS when absent
   */
  readonly timeoutMs?: number;
}

/** Options of {@linkcode HttpTokenRefresher}. */
export interface HttpTokenRefresherOptions {
  /**
   * The token endpoint.
   * @default process.env.CODEX_REFRESH_TOKEN_URL_OVERRIDE, else "https://auth.openai.com/oauth/token"
   */
  url?: string;
  /**
   * The OAuth client id.
   * @default "app_EMoamEEZ73f0CkXaXp7hrann" (Codex CLI)
   */
  clientId?: string;
  /**
   * The `fetch` to use (e.g. one with a proxy agent).
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /**
   * Extra request headers, e.g. `originator` and `User-Agent` as Codex sends them.
   * @default {}
   */
  headers?: Record<string, string>;
  /**
   * How long one refresh request may take before it fails as transient.
   * The cross-process lock's stale bound is well above this.
   * @default 30000
   */
  timeoutMs?: number;
}

/** The default time one refresh request may take. */
export const DEFAULT_REFRESH_TIMEOUT_MS = 30_000;

/**
 * Refreshes tokens over HTTP with Codex CLI's request:
 * `POST {url}` with JSON `{client_id, grant_type: "refresh_token", refresh_token, scope: "openid profile email"}`.
 *
 * Errors follow Codex: a 401 is a permanent {@linkcode RefreshError} whose
 * reason comes from the body's error code (`error.code`, or `error` when it
 * is a string, or top-level `code`, lowercased); any other status, a network
 * error, a timeout or a non-JSON success body is transient.
 *
 * @example Basic usage
 * ```ts
 * import { HttpTokenRefresher } from "authkeep";
 *
 * // Real use: new HttpTokenRefresher() posts to https://auth.openai.com/oauth/token.
 * // Here a stand-in fetch plays the token endpoint.
 * const refresher = new HttpTokenRefresher({
 *   fetch: async () => Response.json({ access_token: "new-access", refresh_token: "new-refresh" }),
 * });
 * const tokens = await refresher.refresh("the-stored-refresh-token");
 * console.log(tokens.refresh_token); // "new-refresh"
 * ```
 */
export class HttpTokenRefresher implements TokenRefresher {
  /** The token endpoint this refresher posts to. */
  readonly url: string;
  /** The OAuth client id sent with every request. */
  readonly clientId: string;
  readonly #fetch: typeof fetch;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;

  /** @param options Endpoint, client id, fetch, headers and timeout. */
  constructor(options: HttpTokenRefresherOptions = {}) {
    const override = process.env[REFRESH_TOKEN_URL_OVERRIDE_ENV_VAR];
    this.url = options.url ?? (override ? override : DEFAULT_REFRESH_TOKEN_URL);
    this.clientId = options.clientId ?? CODEX_CLIENT_ID;
    // Bound late so a test or a polyfill that replaces globalThis.fetch is honoured.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#headers = { ...options.headers };
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_REFRESH_TIMEOUT_MS;
  }

  /** The timeout of each request, in ms. */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /**
   * Exchanges `refreshToken` for new tokens.
   *
   * @param refreshToken The current refresh token; the server rotates it.
   * @returns The fields the server returned (each optional).
   * @throws {RefreshError} permanent (with Codex's exact message) on a 401;
   * transient on anything else that is not a JSON success.
   * @example Basic usage
   * ```ts
   * import { HttpTokenRefresher } from "authkeep";
   *
   * const fetch = async () => Response.json({ access_token: "new-access" });
   * const { access_token } = await new HttpTokenRefresher({ fetch }).refresh("the-stored-refresh-token");
   * console.log(access_token); // "new-access"
   * ```
   */
  async refresh(refreshToken: string): Promise<RefreshedTokens> {
    const body = JSON.stringify({
      client_id: this.clientId,
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      scope: "openid profile email",
    });
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(this.url, {
        method: "POST",
        headers: { ...this.#headers, "Content-Type": "application/json" },
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      // A fetch error names the URL at most, never the body we sent.
      const what = error instanceof Error && error.name === "TimeoutError" ? "timed out" : "network error";
      throw new RefreshError(`Failed to refresh token: ${what}`, { permanent: false, reason: "transient", cause: error });
    }
    if (response.ok) return parseSuccess(text, response.status);
    throw classifyRefreshFailure(response.status, scrub(text, refreshToken));
  }
}

/**
 * Turns a non-2xx answer of the token endpoint into a {@linkcode RefreshError},
 * as Codex does: 401 → permanent with the reason from the body's error code;
 * any other status → transient `Failed to refresh token: {status}: {message}`.
 *
 * @param status The HTTP status (not 2xx).
 * @param body The response body text.
 * @returns The classified error (not thrown).
 */
export function classifyRefreshFailure(status: number, body: string): RefreshError {
  const json = parseJsonOrUndefined(body);
  const code = extractErrorCode(json);
  if (status === 401) {
    const [reason, message] = reasonForCode(code);
    return new RefreshError(message, { permanent: true, reason, status, ...(code === undefined ? {} : { code }) });
  }
  return new RefreshError(`Failed to refresh token: ${status}: ${errorMessage(json, body)}`, {
    permanent: false,
    reason: "transient",
    status,
    ...(code === undefined ? {} : { code }),
  });
}

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
function extractErrorCode(json: unknown): string | undefined {
  if (!isObject(json)) return undefined;
  const error = json.error;
  if (isObject(error) && typeof error.code === "string") return error.code.toLowerCase();
  if (typeof error === "string") return error.toLowerCase();
  if (typeof json.code === "string") return json.code.toLowerCase();
  return undefined;
}

/** Codex's `try_parse_error_message`: `error.message`, else the body, else "Unknown error". */
function errorMessage(json: unknown, body: string): string {
  if (isObject(json) && isObject(json.error) && typeof json.error.message === "string") return redactTokenLike(json.error.message);
  if (body.length === 0) return "Unknown error";
  return redactTokenLike(body);
}

// A server's error text is not ours to trust: it may quote tokens (a JWT, an opaque token) back.
const JWT_LIKE = /[\w-]{8,}\.[\w-]{8,}\.[\w-]{4,}/g;
const OPAQUE_TOKEN_LIKE = /[\w+/=-]{32,}/g;
const MAX_SERVER_TEXT = 200;

/** Caps server text and replaces anything shaped like a token with `[redacted]`. */
function redactTokenLike(text: string): string {
  const capped = text.length > MAX_SERVER_TEXT ? `${text.slice(0, MAX_SERVER_TEXT)}…` : text;
  return capped.replace(JWT_LIKE, "[redacted]").replace(OPAQUE_TOKEN_LIKE, "[redacted]");
}

function parseSuccess(text: string, status: number): RefreshedTokens {
  const json = parseJsonOrUndefined(text);
  if (!isObject(json)) {
    throw new RefreshError(`Failed to refresh token: ${status}: the response is not a JSON object`, {
      permanent: false,
      reason: "transient",
      status,
    });
  }
  const tokens: RefreshedTokens = {};
  for (const field of ["id_token", "access_token", "refresh_token"] as const) {
    const value = json[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== "string") {
      throw new RefreshError(`Failed to refresh token: ${status}: ${field} is not a string`, {
        permanent: false,
        reason: "transient",
        status,
      });
    }
    tokens[field] = value;
  }
  return tokens;
}

/** Removes the refresh token we sent from text we may put in a message (a server could echo it). */
function scrub(text: string, secret: string): string {
  return secret.length > 0 ? text.split(secret).join("[redacted]") : text;
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
