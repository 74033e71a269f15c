/**
 * Canary secrets for the leak tests: distinctive fake values planted in every
 * token field, and a collector that looks for them (or any 8-character piece
 * of their random part) in everything a user could see.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import type { AuthDotJson } from "../../src/index.ts";

/** The fake secrets of one login. */
export interface Canaries {
  idToken: string;
  accessToken: string;
  refreshToken: string;
  apiKey: string;
}

/** The random core of a canary, whose every 8-character window is searched for. */
const cores = new Map<string, string>();

function core(label: string): string {
  const value = `${label}${randomBytes(12).toString("hex")}`;
  cores.set(value, value);
  return value;
}

function jwt(claims: Record<string, unknown>, signature: string): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "RS256", typ: "JWT" })}.${part(claims)}.${signature}`;
}

/**
 * A fresh set of canaries. The access token is a JWT whose `exp` is `expSeconds`
 * (so a manager can be made to refresh); its signature and a claim are canaries too.
 */
export function makeCanaries(expSeconds = 0): Canaries {
  const idSignature = core("CANARYidsig");
  const accessSignature = core("CANARYaccsig");
  return {
    idToken: jwt({ email: "leak-test@example.com", canary: core("CANARYidclaim"), exp: 4_000_000_000 }, idSignature),
    accessToken: jwt({ exp: expSeconds, canary: core("CANARYaccclaim") }, accessSignature),
    refreshToken: core("CANARYrefresh"),
    apiKey: `sk-${core("CANARYapikey")}`,
  };
}

/** A ChatGPT login carrying the canaries (and the API key canary). */
export function canaryAuth(canaries: Canaries, lastRefresh = "2025-01-01T00:00:00Z"): AuthDotJson {
  return {
    auth_mode: "chatgpt",
    OPENAI_API_KEY: canaries.apiKey,
    tokens: {
      id_token: canaries.idToken,
      access_token: canaries.accessToken,
      refresh_token: canaries.refreshToken,
      account_id: "acct-leak-test",
    },
    last_refresh: lastRefresh,
  };
}

/** Every secret string of a canary set, and the pieces of it worth searching for. */
function needles(canaries: Canaries[]): string[] {
  const result = new Set<string>();
  for (const set of canaries) {
    for (const value of Object.values(set)) {
      result.add(value);
      for (const piece of value.split(".")) if (piece.length >= 8) result.add(piece);
    }
  }
  for (const value of cores.keys()) {
    // Any 8 characters of a random part: catches truncation and "redaction" that keeps too much.
    const random = value.replace(/^CANARY[a-z]+/, "");
    for (let i = 0; i + 8 <= random.length; i++) result.add(random.slice(i, i + 8));
  }
  return [...result];
}

/** Collects everything observable and reports which surfaces contain a canary. */
export class LeakCollector {
  readonly #canaries: Canaries[] = [];
  readonly #surfaces: { label: string; text: string }[] = [];

  /** Registers a canary set to look for. */
  watch(canaries: Canaries): Canaries {
    this.#canaries.push(canaries);
    return canaries;
  }

  /** Records a text a user could see (output, a warning, a message). */
  text(label: string, text: string): void {
    this.#surfaces.push({ label, text });
  }

  /** Records an error: message, stack, every cause (and AggregateError member), inspect and JSON forms. */
  error(label: string, error: unknown): void {
    const seen = new Set<unknown>();
    const visit = (value: unknown, path: string): void => {
      if (value === null || value === undefined || seen.has(value)) return;
      seen.add(value);
      if (value instanceof Error) {
        this.text(`${path}.message`, value.message);
        this.text(`${path}.stack`, String(value.stack));
        this.text(`${path}.string`, String(value));
        for (const [key, inner] of Object.entries(value)) {
          this.text(`${path}.${key}`, safeJson(inner));
          if (inner instanceof Error) visit(inner, `${path}.${key}`);
        }
        if (value instanceof AggregateError) for (const [i, inner] of value.errors.entries()) visit(inner, `${path}.errors[${i}]`);
        visit(value.cause, `${path}.cause`);
      } else {
        this.text(path, typeof value === "string" ? value : safeJson(value));
      }
    };
    visit(error, label);
    this.object(label, error);
  }

  /** Records `util.inspect` (deep, with hidden fields) and `JSON.stringify` of one of our objects. */
  object(label: string, value: unknown): void {
    this.text(`${label} inspect`, inspect(value, { depth: 20, showHidden: true, getters: true }));
    this.text(`${label} JSON`, safeJson(value));
    this.text(`${label} String`, safeString(value));
  }

  /** How many surfaces were recorded. */
  get surfaces(): number {
    return this.#surfaces.length;
  }

  /** The labels of surfaces that contain a canary (never the canary itself). */
  leaks(): string[] {
    const all = needles(this.#canaries);
    return this.#surfaces.filter(({ text }) => all.some((needle) => text.includes(needle))).map(({ label }) => label);
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch (error) {
    return `unserializable: ${(error as Error).message}`;
  }
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return "";
  }
}
