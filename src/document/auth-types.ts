/**
 * The shape of `auth.json` (Codex CLI's `AuthDotJson`) and the storage modes.
 *
 * @module
 */

/**
 * The OAuth tokens of a ChatGPT login, exactly as in `auth.json`.
 * `id_token` is the raw JWT string; read its claims with {@linkcode parseIdToken}.
 */
export interface TokenData {
  /** The raw id_token JWT. */
  id_token: string;
  /** The access token sent as `Authorization: Bearer`. */
  access_token: string;
  /** The refresh token; the server rotates it on every refresh. */
  refresh_token: string;
  /** The ChatGPT account (workspace) id; always written, as `null` when unknown. */
  account_id: string | null;
  /** Fields this version does not know are kept and written back. */
  [unknown: string]: unknown;
}

/**
 * The whole `auth.json` document. Unknown fields are kept, in their order,
 * and written back unchanged.
 */
export interface AuthDotJson {
  /** `"apikey"`, `"chatgpt"`, `"chatgptAuthTokens"`, or a newer value. */
  auth_mode?: string;
  /** The API key, or `null`; always written. */
  OPENAI_API_KEY: string | null;
  /** The ChatGPT tokens, when logged in with ChatGPT. */
  tokens?: TokenData;
  /** RFC 3339 time of the last token refresh, e.g. `"2025-12-31T10:20:30.123456789Z"`. */
  last_refresh?: string;
  /** Fields this version does not know are kept and written back. */
  [unknown: string]: unknown;
}

/** The claims authkeep reads from an id_token (no signature check). */
export interface IdTokenInfo {
  /** `email`, or `https://api.openai.com/profile`.`email`. */
  email?: string;
  /** `https://api.openai.com/auth`.`chatgpt_plan_type`, e.g. `"plus"`. */
  chatgptPlanType?: string;
  /** `https://api.openai.com/auth`.`chatgpt_user_id`, or its `user_id`. */
  chatgptUserId?: string;
  /** `https://api.openai.com/auth`.`chatgpt_account_id`. */
  chatgptAccountId?: string;
  /** The `exp` claim, when present. */
  exp?: Date;
  /** The JWT as given. */
  rawJwt: string;
}

/**
 * Where credentials live:
 * - `file`: `<home>/auth.json` (Codex's default);
 * - `keyring`: the OS keyring only;
 * - `auto`: the keyring, falling back to the file when the keyring fails;
 * - `ephemeral`: this process's memory only.
 */
export type AuthCredentialsStoreMode = "file" | "keyring" | "auto" | "ephemeral";

/** The list of valid {@linkcode AuthCredentialsStoreMode} values. */
export const AUTH_CREDENTIALS_STORE_MODES: readonly AuthCredentialsStoreMode[] = Object.freeze([
  "file",
  "keyring",
  "auto",
  "ephemeral",
]);
