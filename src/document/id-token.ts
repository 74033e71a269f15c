/**
 * Reads the claims authkeep needs from a JWT, as Codex does: base64url
 * payload, no signature check.
 *
 * @module
 */
import type { IdTokenInfo } from "./auth-types.ts";
import { AuthFormatError } from "../contract/errors.ts";

const AUTH_CLAIM = "https://api.openai.com/auth";
const PROFILE_CLAIM = "https://api.openai.com/profile";
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses the claims of an id_token (or any JWT, e.g. an access token for its
 * `exp`). The signature is not verified: the token came from our own storage.
 *
 * @param jwt The JWT, `header.payload.signature`.
 * @returns `{ email?, chatgptPlanType?, chatgptUserId?, chatgptAccountId?, exp?, rawJwt }`.
 * @throws {AuthFormatError} when the JWT does not have three non-empty parts or
 * its payload is not base64url-encoded JSON. The message never contains the token.
 * @example Basic usage
 * ```ts
 * import { parseIdToken } from "authkeep";
 *
 * const payload = Buffer.from(JSON.stringify({ email: "a@example.com" })).toString("base64url");
 * console.log(parseIdToken(`e30.${payload}.sig`).email); // "a@example.com"
 * ```
 */
export function parseIdToken(jwt: string): IdTokenInfo {
  const claims = decodeJwtClaims(jwt);
  const auth = objectOrEmpty(claims[AUTH_CLAIM]);
  const info: IdTokenInfo = { rawJwt: jwt };
  const email = stringOrUndefined(claims.email) ?? stringOrUndefined(objectOrEmpty(claims[PROFILE_CLAIM]).email);
  if (email !== undefined) info.email = email;
  const plan = stringOrUndefined(auth.chatgpt_plan_type);
  if (plan !== undefined) info.chatgptPlanType = plan;
  const userId = stringOrUndefined(auth.chatgpt_user_id) ?? stringOrUndefined(auth.user_id);
  if (userId !== undefined) info.chatgptUserId = userId;
  const accountId = stringOrUndefined(auth.chatgpt_account_id);
  if (accountId !== undefined) info.chatgptAccountId = accountId;
  const exp = claims.exp;
  if (typeof exp === "number" && Number.isFinite(exp)) {
    const date = new Date(exp * 1000);
    if (!Number.isNaN(date.getTime())) info.exp = date;
  }
  return info;
}

/** Decodes the payload of a JWT into its claims object. */
function decodeJwtClaims(jwt: string): Record<string, unknown> {
  if (typeof jwt !== "string") throw new AuthFormatError("the JWT must be a string", { field: "jwt" });
  const parts = jwt.split(".");
  if (parts.length !== 3 || parts.some((part) => part.length === 0)) {
    throw new AuthFormatError("the JWT must have three non-empty parts separated by '.'", { field: "jwt" });
  }
  const payload = parts[1]!;
  if (!BASE64URL.test(payload)) {
    throw new AuthFormatError("the JWT payload is not base64url", { field: "jwt.payload" });
  }
  let claims: unknown;
  try {
    claims = JSON.parse(utf8.decode(Buffer.from(payload, "base64url")));
  } catch {
    throw new AuthFormatError("the JWT payload is not UTF-8 JSON", { field: "jwt.payload" });
  }
  if (typeof claims !== "object" || claims === null || Array.isArray(claims)) {
    throw new AuthFormatError("the JWT payload must be a JSON object", { field: "jwt.payload" });
  }
  return claims as Record<string, unknown>;
}

function objectOrEmpty(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
