/**
 * Shared helpers of the hardening tests: temp homes, child-process fixtures,
 * fake credentials, and env-var configurable counts.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { Buffer } from "node:buffer";
import type { AuthDotJson } from "../../src/index.ts";

/** A count from the environment (for longer local runs), else `fallback`. */
export function envCount(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

/** A fresh 0700 temp directory; remove it with {@linkcode removeHome}. */
export function makeHome(prefix = "authkeep-hardening-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Removes a temp home, whatever is in it. */
export function removeHome(home: string): void {
  rmSync(home, { recursive: true, force: true });
}

/**
 * The path of a child-process script under test/fixtures, with the extension
 * this module was loaded with (`.js` from dist/, `.ts` from the sources).
 */
export function fixturePath(name: string): string {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  return fileURLToPath(new URL(`../fixtures/${name}${ext}`, import.meta.url));
}

/** A syntactically valid, unsigned JWT carrying `claims` (fake, for tests only). */
export function fakeJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.c2ln`;
}

/** Fake ChatGPT credentials whose values all carry `marker`, so tests can tell versions apart. */
export function fakeAuth(marker: string, padding = 0): AuthDotJson {
  return {
    auth_mode: "chatgpt",
    OPENAI_API_KEY: null,
    tokens: {
      id_token: fakeJwt({ email: `user-${marker}@example.com`, exp: 2_000_000_000 }),
      access_token: `fake-access-${marker}`,
      refresh_token: `fake-refresh-${marker}`,
      account_id: `account-${marker}`,
    },
    last_refresh: "2025-01-02T03:04:05.123456Z",
    // Unknown fields are kept; a large one widens the window a crash can hit.
    marker,
    padding: "x".repeat(padding),
  };
}

/** Whether a name is one of our atomic-write temp files for `fileName`. */
export function isTempFileName(name: string, fileName = "auth.json"): boolean {
  return name.startsWith(`.${fileName}.`) && name.endsWith(".tmp");
}

/**
 * How to start a child script on the runtime running this test: Node (20 runs
 * dist/*.js, 22.18+ strips the .ts types), Bun, or Deno (`run -A`).
 */
export function childCommand(script: string, args: readonly string[] = []): [string, string[]] {
  const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
  return [process.execPath, isDeno ? ["run", "-A", "--no-check", script, ...args] : [script, ...args]];
}

/**
 * The environment for the many short-lived children: without
 * NODE_EXTRA_CA_CERTS, which costs Node 20 ~70 ms per start and is useless to
 * a child that makes no TLS connection.
 */
export function childEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** Whether the slow multi-process tests are turned off (the runtime matrix sets AUTHKEEP_SLOW_TESTS=0). */
export const slowTestsOff = process.env.AUTHKEEP_SLOW_TESTS === "0";
