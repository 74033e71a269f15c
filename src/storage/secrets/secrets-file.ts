/**
 * The decrypted document of Codex's encrypted store:
 * `{"version":1,"secrets":{"<scope>/<NAME>":"<value>",…}}`, compact, keys
 * in byte order (Rust's `BTreeMap`). The CLI auth is the compact auth.json
 * under `global/CODEX_AUTH`.
 *
 * @module
 */
import { EncryptedStoreError } from "../../contract/encrypted-store-error.ts";

/** The key Codex 0.169 keeps the CLI auth under. */
export const CODEX_AUTH_SECRET_KEY = "global/CODEX_AUTH";
/** The newest document version this code understands (Codex's `SECRETS_VERSION`). */
export const SECRETS_FILE_VERSION = 1;

/** The decrypted document; `secrets` values are opaque strings kept exactly. */
export interface SecretsFile {
  version: number;
  secrets: Map<string, string>;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** An empty document, as Codex starts one. */
export function emptySecretsFile(): SecretsFile {
  return { version: SECRETS_FILE_VERSION, secrets: new Map() };
}

/** Parses a decrypted document; never puts a value in an error. */
export function parseSecretsFile(plaintext: Uint8Array, path?: string): SecretsFile {
  const bad = (what: string) =>
    new EncryptedStoreError(`the decrypted auth store is not a secrets document: ${what}`, { reason: "corrupt", path });
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(plaintext));
  } catch {
    throw bad("not UTF-8 JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw bad("not a JSON object");
  const { version, secrets } = parsed as { version?: unknown; secrets?: unknown };
  if (typeof version !== "number" || !Number.isInteger(version) || version < 0 || version > 255) throw bad("`version` is not a number from 0 to 255");
  if (version > SECRETS_FILE_VERSION) {
    throw new EncryptedStoreError(
      `the encrypted auth store has version ${version}, newer than the supported version ${SECRETS_FILE_VERSION} (written by a newer Codex); it was left untouched`,
      { reason: "newer-version", path },
    );
  }
  if (typeof secrets !== "object" || secrets === null || Array.isArray(secrets)) throw bad("`secrets` is not an object");
  const map = new Map<string, string>();
  for (const [key, value] of Object.entries(secrets)) {
    if (typeof value !== "string") throw bad("a value in `secrets` is not a string");
    map.set(key, value);
  }
  return { version: version === 0 ? SECRETS_FILE_VERSION : version, secrets: map };
}

/** Serializes a document as Codex does (serde_json, compact, keys in byte order). */
export function serializeSecretsFile(file: SecretsFile): Uint8Array {
  const keys = [...file.secrets.keys()].sort(compareByCodePoint);
  const body = keys.map((key) => `${JSON.stringify(key)}:${JSON.stringify(file.secrets.get(key))}`).join(",");
  return new TextEncoder().encode(`{"version":${file.version},"secrets":{${body}}}`);
}

/** UTF-8 byte order, which is code-point order (JavaScript's default sorts UTF-16 units). */
function compareByCodePoint(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const difference = left[i]!.codePointAt(0)! - right[i]!.codePointAt(0)!;
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}
