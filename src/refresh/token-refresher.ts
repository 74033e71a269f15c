/**
 * Exchanges a refresh token for new tokens at the OAuth token endpoint with
 * Codex CLI 0.169's request, and classifies failures the way Codex does: a
 * *permanent* {@linkcode RefreshError} means "sign in again", a transient one
 * means "try again later". The endpoint is not trusted: no redirect is
 * followed, the answer is read up to a cap, and what it echoes of our
 * secrets never reaches an error.
 *
 * @module
 */
import { MAX_RESPONSE_BYTES, readCappedText } from "./_read-capped-body.ts";
import { classifyRefreshFailure, parseRefreshSuccess, transient } from "./_refresh-response.ts";
import { authkeepUserAgent } from "./_user-agent.ts";
import { RefreshError } from "../contract/refresh-error.ts";
import type { RefreshedTokens } from "./refreshed-tokens.ts";

export type { RefreshedTokens };

/** Codex CLI's OAuth client id. */
export const CODEX_CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann";
/** Codex CLI's token endpoint. */
export const DEFAULT_REFRESH_TOKEN_URL = "https://auth.openai.com/oauth/token";
/** The environment variable that overrides the token endpoint (Codex's name). */
export const REFRESH_TOKEN_URL_OVERRIDE_ENV_VAR = "CODEX_REFRESH_TOKEN_URL_OVERRIDE";

/**
 * Why a refresh is made, sent as `refresh_reason` (Codex 0.169's values):
 * `proactive_expiry` (the access token expires soon), `scheduled` (no `exp`,
 * and the last refresh is old), `unauthorized_recovery` (after a 401),
 * `forced` (asked for explicitly).
 */
export type RefreshReason = "proactive_expiry" | "scheduled" | "unauthorized_recovery" | "forced";

/** What a caller tells {@linkcode TokenRefresher.refresh} besides the token. */
export interface RefreshContext {
  /**
   * Why the refresh is made.
   * @default "forced"
   */
  reason?: RefreshReason;
  /**
   * Other secrets we hold (the access and id tokens), kept out of errors
   * like the refresh token itself.
   * @default []
   */
  secrets?: readonly string[];
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
   * @param refreshToken The current refresh token.
   * @param context Why the refresh is made, and other secrets to keep out of errors.
   * @throws {RefreshError} permanent when the refresh token is dead, transient otherwise.
   */
  refresh(refreshToken: string, context?: RefreshContext): Promise<RefreshedTokens>;
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
   * Extra request headers (they replace ours, `Content-Type` excepted), e.g.
   * Codex's `originator` for a program that is entitled to send it.
   * @default {}
   */
  headers?: Record<string, string>;
  /**
   * How long one refresh request may take, reading the answer included,
   * before it fails as transient. The cross-process lock's stale bound is well above this.
   * @default 30000
   */
  timeoutMs?: number;
}

/** The default time one refresh request may take. */
export const DEFAULT_REFRESH_TIMEOUT_MS = 30_000;

/**
 * Refreshes tokens over HTTP with Codex CLI 0.169's request: `POST {url}`
 * with JSON `{client_id, grant_type: "refresh_token", refresh_reason, refresh_token}`
 * (no `scope`) and `User-Agent: authkeep/<version> (<runtime>; <platform> <arch>)`.
 * Codex's `originator` header is not sent: it names the Codex app, and we are not it.
 *
 * Errors follow Codex: a 401 is a permanent {@linkcode RefreshError} whose
 * reason comes from the body's error code (`error.code`, or `error` when it
 * is a string, or top-level `code`, lowercased); any other status, a network
 * error, a timeout or a non-JSON success body is transient. Beyond Codex,
 * the endpoint is not trusted:
 * - **No redirect is followed** (`redirect: "manual"`): a 3xx is transient, so
 *   the refresh token never goes to another URL, and a response that a custom
 *   `fetch` fetched from another origin is refused. A token endpoint has no
 *   reason to redirect a POST; following even same-origin ones would let any
 *   path on that origin answer for it.
 * - The body is read up to 1 MiB, streaming, and each token must be at most
 *   64 KiB of visible ASCII.
 * - `timeoutMs` bounds the whole call, reading the body included.
 * - The tokens we sent or hold are scrubbed from error bodies in any JSON
 *   escaping before anything is parsed or cut, and no 8-character piece of
 *   one reaches a message or `code`.
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

  /**
   * Creates a refresher.
   *
   * @param options Endpoint, client id, fetch, headers and timeout.
   */
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
   * @param context Why (`refresh_reason`, default `forced`) and which other secrets to keep out of errors.
   * @returns The fields the server returned (each optional).
   * @throws {RefreshError} permanent (with Codex's exact message) on a 401;
   * transient on anything else that is not a JSON success, including a
   * redirect, a body over 1 MiB and a timeout.
   * @example Basic usage
   * ```ts
   * import { HttpTokenRefresher } from "authkeep";
   *
   * const fetch = async () => Response.json({ access_token: "new-access" });
   * const refresher = new HttpTokenRefresher({ fetch });
   * const { access_token } = await refresher.refresh("the-stored-refresh-token", { reason: "forced" });
   * console.log(access_token); // "new-access"
   * ```
   */
  async refresh(refreshToken: string, context: RefreshContext = {}): Promise<RefreshedTokens> {
    // Codex 0.169's body, keys in its order.
    const body = JSON.stringify({
      client_id: this.clientId,
      grant_type: "refresh_token",
      refresh_reason: context.reason ?? "forced",
      refresh_token: refreshToken,
    });
    const headers = new Headers({ "User-Agent": authkeepUserAgent() });
    for (const [name, value] of Object.entries(this.#headers)) headers.set(name, value);
    headers.set("Content-Type", "application/json");
    const signal = AbortSignal.timeout(this.#timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(this.url, { method: "POST", headers, body, redirect: "manual", signal });
      refuseForeign(response, this.url);
      text = await readCappedText(response, MAX_RESPONSE_BYTES, signal);
    } catch (error) {
      if (error instanceof RefreshError) throw error;
      // A fetch error names the URL at most, never the body we sent.
      const what = error instanceof Error && error.name === "TimeoutError" ? "timed out" : "network error";
      throw transient(`Failed to refresh token: ${what}`, undefined, error);
    }
    if (response.ok) return parseRefreshSuccess(text, response.status);
    throw classifyRefreshFailure(response.status, text, [refreshToken, ...(context.secrets ?? [])]);
  }
}

/** Refuses a redirect (followed or not) and an answer from another origin; its body is dropped unread. */
function refuseForeign(response: Response, url: string): void {
  const status = response.status;
  const redirect = response.type === "opaqueredirect" || status === 0 || (status >= 300 && status < 400);
  const foreign = response.redirected || (response.url !== "" && new URL(response.url).origin !== new URL(url).origin);
  if (!redirect && !foreign) return;
  response.body?.cancel().catch(() => {});
  const what = redirect
    ? `${status}: the token endpoint redirected; authkeep follows no redirect from it`
    : `${status}: the answer came from another URL than the token endpoint (a redirect was followed)`;
  throw transient(`Failed to refresh token: ${what}`, status === 0 ? undefined : status);
}
