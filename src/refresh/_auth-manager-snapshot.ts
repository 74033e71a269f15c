/**
 * Pure decisions of {@linkcode AuthManager} about one auth snapshot: when to
 * refresh, whether two snapshots differ, which account they belong to, and
 * how a refresh result is merged in. No I/O here.
 *
 * @module
 */
import type { AuthDotJson, TokenData } from "../document/auth-types.ts";
import { parseIdToken } from "../document/id-token.ts";
import { copyRawNumbers } from "../document/_json-parse.ts";
import type { RefreshedTokens } from "./token-refresher.ts";

/** Codex's `TOKEN_REFRESH_INTERVAL`: refresh when there is no `exp` and the last refresh is older. */
export const TOKEN_REFRESH_INTERVAL_MS = 8 * 24 * 60 * 60 * 1000;

/** Whether this auth has tokens we can refresh ourselves (a ChatGPT login, not an API key or host-managed tokens). */
export function isRefreshable(auth: AuthDotJson | null | undefined): auth is AuthDotJson & { tokens: TokenData } {
  if (!auth?.tokens || typeof auth.tokens.refresh_token !== "string" || auth.tokens.refresh_token === "") return false;
  return auth.auth_mode === undefined || auth.auth_mode === "chatgpt";
}

/** `tokens.account_id` (Codex compares this, not the JWT claim); `undefined` when logged out. */
export function accountOf(auth: AuthDotJson | null | undefined): string | null | undefined {
  return auth?.tokens ? (auth.tokens.account_id ?? null) : undefined;
}

/** The access token's `exp` in ms, or `undefined` when it is not a JWT or has none. */
export function accessTokenExpiry(auth: AuthDotJson): number | undefined {
  const token = auth.tokens?.access_token;
  if (typeof token !== "string") return undefined;
  try {
    return parseIdToken(token).exp?.getTime();
  } catch {
    return undefined; // an opaque access token: fall back to last_refresh
  }
}

/**
 * Codex's proactive rule (PR #23546): refresh when `exp <= now + window`
 * (`proactive_expiry`); with no `exp`, when `last_refresh` is more than
 * 8 days old (`scheduled`). `null`: no refresh is due.
 */
export function proactiveRefreshReason(
  auth: AuthDotJson | null | undefined,
  nowMs: number,
  windowMs: number,
): "proactive_expiry" | "scheduled" | null {
  if (!isRefreshable(auth)) return null;
  const exp = accessTokenExpiry(auth);
  if (exp !== undefined) return exp <= nowMs + windowMs ? "proactive_expiry" : null;
  const last = auth.last_refresh === undefined ? Number.NaN : Date.parse(auth.last_refresh);
  return Number.isFinite(last) && last < nowMs - TOKEN_REFRESH_INTERVAL_MS ? "scheduled" : null;
}

/** Whether {@linkcode proactiveRefreshReason} finds a refresh due. */
export function needsProactiveRefresh(auth: AuthDotJson | null | undefined, nowMs: number, windowMs: number): boolean {
  return proactiveRefreshReason(auth, nowMs, windowMs) !== null;
}

/** Whether the access token is known to be expired already (not merely inside the window). */
export function isKnownExpired(auth: AuthDotJson | null | undefined, nowMs: number): boolean {
  if (!auth) return false;
  const exp = accessTokenExpiry(auth);
  return exp !== undefined && exp <= nowMs;
}

/** Full-document equality, independent of key order (Codex compares the whole struct). */
export function sameAuth(a: AuthDotJson | null | undefined, b: AuthDotJson | null | undefined): boolean {
  return canonical(a ?? null) === canonical(b ?? null);
}

/** Whether the tokens differ: what "another process refreshed" looks like. */
export function tokensChanged(fresh: AuthDotJson | null | undefined, snapshot: AuthDotJson | null | undefined): boolean {
  return canonical(fresh?.tokens ?? null) !== canonical(snapshot?.tokens ?? null);
}

/** A string that is equal for equal snapshots; used to remember permanent failures per snapshot. */
export function snapshotKey(auth: AuthDotJson | null | undefined): string {
  return canonical(auth ?? null);
}

/**
 * Codex's `persist_tokens`: replace only the returned fields, set
 * `last_refresh` to now (RFC 3339 UTC, `Z`), keep everything else, including
 * `account_id`, `OPENAI_API_KEY`, `auth_mode` and unknown fields.
 * A returned id_token that does not parse is dropped (the old one is kept),
 * because a bad id_token would make the whole auth.json unreadable.
 *
 * @returns The merged document and whether an id_token was dropped.
 */
export function mergeRefreshed(
  current: AuthDotJson & { tokens: TokenData },
  refreshed: RefreshedTokens,
  nowMs: number,
): { auth: AuthDotJson; droppedIdToken: boolean } {
  const tokens: TokenData = { ...current.tokens };
  // The copies keep the exact number texts of unknown fields (`1.0`, `-0`), as a load and save does.
  copyRawNumbers(current.tokens, tokens);
  let droppedIdToken = false;
  if (refreshed.id_token !== undefined) {
    try {
      parseIdToken(refreshed.id_token);
      tokens.id_token = refreshed.id_token;
    } catch {
      droppedIdToken = true;
    }
  }
  if (refreshed.access_token !== undefined) tokens.access_token = refreshed.access_token;
  if (refreshed.refresh_token !== undefined) tokens.refresh_token = refreshed.refresh_token;
  const auth: AuthDotJson = { ...current, tokens, last_refresh: new Date(nowMs).toISOString() };
  copyRawNumbers(current, auth);
  return { auth, droppedIdToken };
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
