/**
 * A real HTTP server on 127.0.0.1 (random port) that plays the OAuth token
 * endpoint and one API route: the one token server of the refresh tests, the
 * benchmarks (refresh storm, Codex race) and the `npm start` tour.
 *
 * - `POST /oauth/token` rotates the refresh token on every use, answers a
 *   reused one with Codex's `401 {"error":{"code":"refresh_token_reused"}}`,
 *   and counts requests. Canned answers can be queued for error tests.
 * - `GET /api/me` answers 401 unless the bearer token is a currently valid
 *   access token; {@linkcode TokenServer.expireAccessTokens} makes every
 *   token issued so far invalid, so the API says 401 until a fresh one is shown.
 *
 * Tokens are fake JWTs (`alg: none`); nothing here is printed.
 */
import { Buffer } from "node:buffer";
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { AuthDotJson } from "../../src/document/auth-types.ts";

/** Options of {@linkcode TokenServer.start}. */
export interface TokenServerOptions {
  /** Delay before each token endpoint answer, to play a real network round trip. @default 0 */
  delayMs?: number;
  /** Lifetime of issued access tokens in seconds. @default 3600 */
  accessTtlSec?: number;
}

/** One request the token endpoint received. */
export interface TokenRequestRecord {
  body: unknown;
  contentType: string | undefined;
  /** The User-Agent header (Codex's starts with its originator, `codex_cli_rs/`). */
  userAgent: string | undefined;
  outcome: "rotated" | "reused" | "unknown" | "canned";
}

interface RefreshTokenState {
  accountId: string | null;
  email: string;
  used: boolean;
}

/** Builds an unsigned JWT with the given claims (base64url encoding only; tests never decode by hand). */
export function makeJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.c2ln`;
}

/** A short, non-reversible name for a token, safe to print and to compare across processes. */
export function fingerprint(token: string | undefined | null): string | null {
  return typeof token === "string" ? createHash("sha256").update(token).digest("hex").slice(0, 16) : null;
}

/** The token endpoint and API route. */
export class TokenServer {
  /** The token endpoint URL. */
  readonly url: string;
  /** The API route URL. */
  readonly apiUrl: string;
  /** Requests that reached the token endpoint, in order. */
  readonly requests: TokenRequestRecord[] = [];
  /** How many API requests were answered 401. */
  apiUnauthorized = 0;
  /** How many API requests were answered 200. */
  apiOk = 0;
  /** When each request arrived (`performance.now()`), and what it was: for timelines in the benchmark. */
  readonly timeline: Array<{ at: number; what: "api-401" | "api-200" | "token" }> = [];

  readonly #server: Server;
  readonly #delayMs: number;
  readonly #accessTtlSec: number;
  readonly #refreshTokens = new Map<string, RefreshTokenState>();
  readonly #validAccess = new Set<string>();
  readonly #canned: Array<{ status: number; body: string }> = [];
  #latestAccess: string | undefined;
  #hold: { count: number; release: Promise<void>; open: () => void } | undefined;
  /** Awaited when a token request arrives, before it is answered (to stage races deterministically). */
  onTokenRequest: (() => Promise<void>) | undefined;
  #counter = 0;

  private constructor(server: Server, options: TokenServerOptions) {
    this.#server = server;
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}/oauth/token`;
    this.apiUrl = `http://127.0.0.1:${port}/api/me`;
    this.#delayMs = options.delayMs ?? 0;
    this.#accessTtlSec = options.accessTtlSec ?? 3600;
  }

  /** Starts a server on 127.0.0.1 with a random port. */
  static async start(options: TokenServerOptions = {}): Promise<TokenServer> {
    let self: TokenServer | undefined;
    const server = createServer((req, res) => {
      self!.#handle(req, res).catch(() => {
        res.statusCode = 500;
        res.end();
      });
    });
    // Keep-alive sockets from fetch would hold close() open; the tests end them explicitly.
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    self = new TokenServer(server, options);
    return self;
  }

  /** Refresh requests that reached the token endpoint. */
  get refreshCount(): number {
    return this.requests.length;
  }

  /** How many of them were answered `refresh_token_reused`. */
  get reusedCount(): number {
    return this.requests.filter((r) => r.outcome === "reused").length;
  }

  /** Fingerprint of the newest access token issued. */
  get latestAccessFingerprint(): string | null {
    return fingerprint(this.#latestAccess);
  }

  /**
   * Plays a login: issues fresh tokens for `accountId` and returns the
   * auth.json document a CLI would store.
   *
   * @param accountId `tokens.account_id` (and the id_token claim); `null` for an old login without one.
   * @param options `accessExpiresInSec` sets the access token's exp relative to now (negative: already expired).
   */
  login(accountId: string | null, options: { accessExpiresInSec?: number; email?: string; lastRefresh?: string } = {}): AuthDotJson {
    const email = options.email ?? `${accountId ?? "someone"}@example.com`;
    const tokens = this.#issue(accountId, email, options.accessExpiresInSec ?? this.#accessTtlSec);
    return {
      auth_mode: "chatgpt",
      OPENAI_API_KEY: null,
      tokens: { ...tokens.tokens, account_id: accountId },
      last_refresh: options.lastRefresh ?? new Date().toISOString(),
    };
  }

  /** Makes every access token issued so far invalid on the API route (server-side expiry). */
  expireAccessTokens(): void {
    this.#validAccess.clear();
  }

  /** Revokes a refresh token (a logout elsewhere): using it gets `refresh_token_invalidated`. */
  revoke(refreshToken: string): void {
    this.#refreshTokens.delete(refreshToken);
  }

  /**
   * Holds token requests until `count` of them have arrived (counting from
   * now) or `maxMs` has passed, then answers them in arrival order: two
   * clients that start a refresh at about the same time then really both
   * send the same refresh token, and the later one gets `refresh_token_reused`.
   */
  holdTokenRequests(count: number, maxMs: number): void {
    let open!: () => void;
    const release = new Promise<void>((resolve) => (open = resolve));
    const timer = setTimeout(() => open(), maxMs);
    timer.unref?.();
    void release.then(() => clearTimeout(timer));
    this.#hold = { count: this.requests.length + count, release, open };
  }

  /** What the server knows of a refresh token: never issued, still usable, or already spent. */
  refreshTokenState(token: string | undefined | null): "live" | "spent" | "unknown" {
    const state = typeof token === "string" ? this.#refreshTokens.get(token) : undefined;
    return state === undefined ? "unknown" : state.used ? "spent" : "live";
  }

  /** Whether the API route would accept this access token. */
  isValidAccessToken(token: string | undefined | null): boolean {
    return typeof token === "string" && this.#validAccess.has(token);
  }

  /** Queues a canned answer for the next token request. */
  respondNext(status: number, body: string): void {
    this.#canned.push({ status, body });
  }

  /** Stops the server and drops idle keep-alive connections. */
  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #issue(accountId: string | null, email: string, expiresInSec: number): { tokens: { id_token: string; access_token: string; refresh_token: string } } {
    const n = ++this.#counter;
    const now = Math.floor(Date.now() / 1000);
    const authClaim = { chatgpt_account_id: accountId ?? undefined, chatgpt_plan_type: "plus", chatgpt_user_id: "user-1" };
    const access = makeJwt({ sub: "user-1", n, exp: now + expiresInSec, "https://api.openai.com/auth": authClaim });
    const refresh = `rt_${n}_${randomBytes(12).toString("hex")}`;
    const id = makeJwt({ email, exp: now + 3600, "https://api.openai.com/auth": authClaim });
    this.#refreshTokens.set(refresh, { accountId, email, used: false });
    this.#validAccess.add(access);
    this.#latestAccess = access;
    return { tokens: { id_token: id, access_token: access, refresh_token: refresh } };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    if (req.url === "/api/me") {
      const auth = req.headers.authorization ?? "";
      const ok = auth.startsWith("Bearer ") && this.#validAccess.has(auth.slice(7));
      if (ok) this.apiOk++;
      else this.apiUnauthorized++;
      this.timeline.push({ at: performance.now(), what: ok ? "api-200" : "api-401" });
      return send(res, ok ? 200 : 401, ok ? { ok: true } : { error: { message: "token expired", code: "token_expired" } });
    }
    if (req.url !== "/oauth/token" || req.method !== "POST") return send(res, 404, { error: "not_found" });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const record: TokenRequestRecord = { body, contentType: req.headers["content-type"], userAgent: req.headers["user-agent"], outcome: "unknown" };
    this.requests.push(record);
    this.timeline.push({ at: performance.now(), what: "token" });
    const hold = this.#hold;
    if (hold !== undefined) {
      if (this.requests.length >= hold.count) {
        this.#hold = undefined;
        hold.open();
      }
      await hold.release;
      if (this.#hold === hold) this.#hold = undefined;
    }
    const hook = this.onTokenRequest;
    this.onTokenRequest = undefined;
    await hook?.();
    if (this.#delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#delayMs));
    const canned = this.#canned.shift();
    if (canned) {
      record.outcome = "canned";
      res.writeHead(canned.status, { "Content-Type": "application/json" });
      res.end(canned.body);
      return;
    }
    const presented = (body as { refresh_token?: unknown } | undefined)?.refresh_token;
    const state = typeof presented === "string" ? this.#refreshTokens.get(presented) : undefined;
    if (state === undefined) {
      record.outcome = "unknown";
      return send(res, 401, { error: { message: "Invalid refresh token", code: "refresh_token_invalidated" } });
    }
    if (state.used) {
      record.outcome = "reused";
      return send(res, 401, {
        error: {
          message: "Your refresh token has already been used to generate a new access token. Please try signing in again.",
          type: "invalid_request_error",
          param: null,
          code: "refresh_token_reused",
        },
      });
    }
    state.used = true;
    record.outcome = "rotated";
    const { tokens } = this.#issue(state.accountId, state.email, this.#accessTtlSec);
    return send(res, 200, tokens);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}
