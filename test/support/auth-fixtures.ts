/**
 * Builders for test credentials. Every value is fake.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AuthDotJson } from "../../src/index.ts";

/** An unsigned JWT with the given payload (header `{"alg":"none","typ":"JWT"}`, signature "sig"). */
export function fakeJwt(payload: Record<string, unknown>): string {
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${encode({ alg: "none", typ: "JWT" })}.${encode(payload)}.${Buffer.from("sig").toString("base64url")}`;
}

/** The seed's `id_token_with_prefix`: email and chatgpt_account_id claims. */
export function idTokenWithPrefix(prefix: string): string {
  return fakeJwt({
    email: `${prefix}@example.com`,
    "https://api.openai.com/auth": { chatgpt_account_id: `${prefix}-account` },
  });
}

/** The seed's `auth_with_prefix`: API key and ChatGPT tokens named after `prefix`. */
export function authWithPrefix(prefix: string): AuthDotJson {
  return {
    OPENAI_API_KEY: `${prefix}-api-key`,
    tokens: {
      id_token: idTokenWithPrefix(prefix),
      access_token: `${prefix}-access`,
      refresh_token: `${prefix}-refresh`,
      account_id: `${prefix}-account-id`,
    },
  };
}

/** A fresh temporary directory, removed when the test ends. */
export function tempHome(t: { after(fn: () => void): void }, prefix = "authkeep-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
