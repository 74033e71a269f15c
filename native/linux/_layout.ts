/**
 * The keyring-rs compatible item layout of the Linux backend, and the pure
 * decisions around it: which attributes to search and write, the label,
 * checking names and values, UTF-8 encoding, and which item to keep when
 * several match. No FFI here.
 *
 * @module
 */
import { KeyringError } from "../../src/contract/keyring-error.ts";

/** Written on the items this store creates; Codex's keyring-rs 3.6 writes and searches it too. */
export const TARGET = "default";
/** The collection alias new items go to. */
export const DEFAULT_COLLECTION = "default";
/** The secret's content type, as keyring-rs writes it. */
export const CONTENT_TYPE = "text/plain";

/** The attributes an item must have to be this entry: `{service, username}` (items may carry more). */
export function lookupAttributes(service: string, account: string): Record<string, string> {
  return { service, username: account };
}

/** The attributes of an item this store creates: `{service, username, target: "default"}`. */
export function createAttributes(service: string, account: string): Record<string, string> {
  return { service, username: account, target: TARGET };
}

/** The label of an item this store creates, after keyring-rs's `"<user>@<service>:<target> (keyring v3.6.x)"`. */
export function itemLabel(service: string, account: string): string {
  return `${account}@${service}:${TARGET} (authkeep)`;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function checkName(value: unknown, name: "service" | "account"): asserts value is string {
  if (typeof value !== "string") {
    throw new KeyringError(`libsecret: the ${name} must be a string`, { kind: "invalid", reason: "invalid", backend: "libsecret" });
  }
  if (value.includes("\0")) {
    throw new KeyringError(`libsecret: the ${name} must not contain a NUL character (D-Bus strings cannot hold one)`, {
      kind: "invalid",
      reason: "invalid",
      backend: "libsecret",
    });
  }
  if (LONE_SURROGATE.test(value)) {
    throw new KeyringError(`libsecret: the ${name} is not well-formed Unicode (it has a lone surrogate)`, {
      kind: "invalid",
      reason: "invalid",
      backend: "libsecret",
    });
  }
}

/** The value as UTF-8 bytes; embedded NUL is kept. */
export function encodeSecret(value: unknown): Uint8Array {
  if (typeof value !== "string") {
    throw new KeyringError("libsecret: the value must be a string", { kind: "invalid", reason: "invalid", backend: "libsecret" });
  }
  if (LONE_SURROGATE.test(value)) {
    throw new KeyringError("libsecret: the value is not well-formed Unicode (it has a lone surrogate) and cannot be stored exactly", {
      kind: "invalid",
      reason: "invalid",
      backend: "libsecret",
    });
  }
  return utf8.encode(value);
}

export function decodeSecret(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch (error) {
    throw new KeyringError("libsecret: the stored secret is not valid UTF-8 text; it was not written by authkeep or keyring-rs as text", {
      kind: "invalid",
      reason: "invalid",
      backend: "libsecret",
      cause: error,
    });
  }
}

export function entryKey(service: string, account: string): string {
  return `${service}\0${account}`; // NUL is rejected in both, so the key is unambiguous
}

/** The item to keep among several matches: the oldest, i.e. the lowest object path (numeric ids compared as numbers). */
export function pickItem(paths: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const path of paths) if (best === undefined || comparePaths(path, best) < 0) best = path;
  return best;
}

function comparePaths(a: string, b: string): number {
  const cut = (path: string) => {
    const slash = path.lastIndexOf("/");
    return [path.slice(0, slash), path.slice(slash + 1)] as const;
  };
  const [dirA, idA] = cut(a);
  const [dirB, idB] = cut(b);
  if (dirA !== dirB) return dirA < dirB ? -1 : 1;
  if (/^\d+$/.test(idA) && /^\d+$/.test(idB)) return Number(idA) - Number(idB);
  return idA < idB ? -1 : idA > idB ? 1 : 0;
}
