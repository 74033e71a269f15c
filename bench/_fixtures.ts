/**
 * Test data shared by the benchmarks: a realistic ~4 KB ChatGPT `auth.json`
 * (Codex's real files are 3.5–4.5 KB, mostly the three JWTs) and temp homes.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import type { AuthDotJson } from "../src/index.ts";

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A JWT-shaped string with the claims Codex reads, padded to about `size` characters. */
export function makeJwt(claims: Record<string, unknown>, size: number): string {
  const header = b64({ alg: "RS256", kid: "bench", typ: "JWT" });
  const signature = "s".repeat(342);
  const base = `${header}.${b64(claims)}.${signature}`;
  if (base.length >= size) return base;
  // Pad inside the payload so the token still decodes.
  const padded = { ...claims, pad: "x".repeat(Math.floor(((size - base.length) * 3) / 4)) };
  return `${header}.${b64(padded)}.${signature}`;
}

/** The id_token claims (what parseIdToken extracts). */
export const ID_TOKEN_CLAIMS = {
  iss: "https://auth.openai.com",
  aud: ["app_bench"],
  sub: "auth0|bench",
  email: "bench@example.com",
  email_verified: true,
  exp: 1_900_000_000,
  iat: 1_800_000_000,
  "https://api.openai.com/auth": {
    chatgpt_account_id: "00000000-0000-4000-8000-000000000000",
    chatgpt_plan_type: "plus",
    chatgpt_user_id: "user-bench",
    user_id: "user-bench",
  },
};

/** The id_token used by the codec rows. */
export const ID_TOKEN = makeJwt(ID_TOKEN_CLAIMS, 1400);

/**
 * A 4 KB auth.json document. `variant` changes `last_refresh` (and a token
 * byte), so that alternating saves really change the stored data.
 */
export function makeAuth(variant = 0): AuthDotJson {
  return {
    auth_mode: "chatgpt",
    OPENAI_API_KEY: null,
    tokens: {
      id_token: ID_TOKEN,
      access_token: makeJwt({ sub: "auth0|bench", scp: ["openid", "profile", "email", "offline_access"], v: variant }, 2000),
      refresh_token: `rt_${String(variant).padStart(4, "0")}${"R".repeat(60)}`,
      account_id: "00000000-0000-4000-8000-000000000000",
    },
    last_refresh: `2026-11-28T10:20:${String(variant % 60).padStart(2, "0")}.123456789Z`,
  };
}

/** A fresh temp home; remove it with {@linkcode removeHome}. */
export function makeHome(label: string): string {
  return mkdtempSync(join(os.tmpdir(), `authkeep-bench-${label}-`));
}

/** Removes a temp home. */
export function removeHome(home: string): void {
  rmSync(home, { recursive: true, force: true });
}

/** Quiet warnings: the fallback rows would otherwise print one per iteration. */
export const ignoreWarning = (_message: string): void => {};
