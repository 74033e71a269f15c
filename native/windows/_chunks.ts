/**
 * The chunked layout (version 1) for values larger than one Credential
 * Manager blob, as pure functions.
 *
 * Real Windows limits a blob to 2560 bytes (`CRED_MAX_CREDENTIAL_BLOB_SIZE`),
 * i.e. 1280 UTF-16 code units, while a ChatGPT login is often larger (Codex
 * issue #10353). A value that fits stays a single keyring-rs entry, readable
 * by Codex. A larger one is stored as:
 *
 * - **chunk entries**, one per 2560-byte slice of the value's UTF-8 bytes, at
 *   `authkeep:chunk:v1:<key>:<id>:<index>` where `<key>` is the first 16 hex
 *   digits of SHA-256 over the head's target name in lower case (targets are
 *   case-insensitive), `<id>` is 8 random hex digits new for every write and
 *   `<index>` counts from 0. The names stay under 50 characters whatever the
 *   service and account (Wine caps targets at 247 characters) and contain no
 *   `\` (which Wine folds to `_`). The blob is the raw UTF-8 slice.
 * - **a head entry** at the normal target `<account>.<service>`, written as
 *   keyring-rs would write a password (UTF-16LE), whose text is
 *   `authkeep:chunked:v1:<count>:<bytes>:<id>:<sha256>`: the number of
 *   chunks, the total UTF-8 length, the write's id and the lower-case hex
 *   SHA-256 of the whole UTF-8 value.
 *
 * Consistency: chunks are written first under a fresh id, the head last, and
 * only then are chunks of other ids removed. A write interrupted before the
 * head leaves the previous head and its chunks untouched (the old value still
 * reads); a read verifies count, length and checksum, so a head never yields
 * anything but the exact value it was written with: a missing or altered
 * chunk is a clean `failure`.
 *
 * Bound: at most {@linkcode MAX_CHUNKS} chunks, so a value may take up to
 * {@linkcode MAX_CHUNKED_VALUE_BYTES} (320 KiB) of UTF-8; past that it is
 * `too-large`. Each chunk costs one Credential Manager call per read and
 * write, and real logins are 4 to 16 KiB.
 *
 * Codex reads a head as an unparsable password and reports a deserialisation
 * error, exactly as it fails today on such values.
 *
 * @module
 */
import { randomHex, sha256Hex } from "../../src/contract/_crypto.ts";

/** Every head's text starts with this. */
export const HEAD_PREFIX = "authkeep:chunked:v1:";
/** Every chunk target starts with this. */
export const CHUNK_TARGET_PREFIX = "authkeep:chunk:v1:";
/** Bytes per chunk: real Windows' blob limit. */
export const CHUNK_BYTES = 2560;
/** The most chunks one value may use. */
export const MAX_CHUNKS = 128;
/** The largest value, in UTF-8 bytes, that the chunked form accepts (327 680). */
export const MAX_CHUNKED_VALUE_BYTES = CHUNK_BYTES * MAX_CHUNKS;

/** What a head says. */
export interface ChunkHead {
  /** Number of chunk entries. */
  readonly count: number;
  /** Total UTF-8 length of the value. */
  readonly bytes: number;
  /** The write's random id, part of every chunk target. */
  readonly id: string;
  /** Lower-case hex SHA-256 of the UTF-8 value. */
  readonly sha256: string;
}

/** Returns a fresh write id: 8 random hex digits. */
export function newChunkId(): string {
  return randomHex(4);
}

/** Returns the prefix shared by every chunk target of the head at `headTarget`. */
export function chunkTargetPrefix(headTarget: string): string {
  const key = sha256Hex(new TextEncoder().encode(headTarget.toLowerCase())).slice(0, 16);
  return `${CHUNK_TARGET_PREFIX}${key}:`;
}

/** Returns the target of chunk `index` of write `id` for the head at `headTarget`. */
export function chunkTarget(headTarget: string, id: string, index: number): string {
  return `${chunkTargetPrefix(headTarget)}${id}:${index}`;
}

/** Parses a chunk target under `prefix` (from {@linkcode chunkTargetPrefix}); `null` when it is not one. */
export function parseChunkTarget(prefix: string, target: string): { id: string; index: number } | null {
  if (!target.toLowerCase().startsWith(prefix)) return null;
  const match = /^([0-9a-f]{8}):(0|[1-9][0-9]{0,3})$/.exec(target.slice(prefix.length).toLowerCase());
  if (match === null) return null;
  return { id: match[1]!, index: Number(match[2]) };
}

/** Splits `payload` into chunk blobs of at most {@linkcode CHUNK_BYTES} (views, not copies). */
export function splitPayload(payload: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let offset = 0; offset < payload.length; offset += CHUNK_BYTES) {
    parts.push(payload.subarray(offset, Math.min(offset + CHUNK_BYTES, payload.length)));
  }
  return parts;
}

/** Returns the head text for `payload` split into `count` chunks under `id`. */
export function formatHead(payload: Uint8Array, count: number, id: string): string {
  return `${HEAD_PREFIX}${count}:${payload.length}:${id}:${sha256Hex(payload)}`;
}

/**
 * Parses a head's text. Returns `null` when `text` is not a head at all, and
 * throws a plain `Error` when it starts like one but is malformed.
 */
export function parseHead(text: string): ChunkHead | null {
  if (!text.startsWith(HEAD_PREFIX)) return null;
  const match = /^([1-9][0-9]{0,3}):(0|[1-9][0-9]{0,9}):([0-9a-f]{8}):([0-9a-f]{64})$/.exec(text.slice(HEAD_PREFIX.length));
  if (match === null) throw new Error("malformed chunk head");
  const head: ChunkHead = { count: Number(match[1]), bytes: Number(match[2]), id: match[3]!, sha256: match[4]! };
  if (head.count > MAX_CHUNKS || head.bytes > head.count * CHUNK_BYTES || head.bytes <= (head.count - 1) * CHUNK_BYTES) {
    throw new Error("inconsistent chunk head");
  }
  return head;
}

/**
 * Joins the chunks a head names and checks them against it.
 *
 * @returns The UTF-8 value bytes, or the reason they do not match (with no
 * secret material in it).
 */
export function joinChunks(head: ChunkHead, parts: readonly Uint8Array[]): Uint8Array | string {
  if (parts.length !== head.count) return `expected ${head.count} chunks, found ${parts.length}`;
  let total = 0;
  for (const part of parts) total += part.length;
  if (total !== head.bytes) return `expected ${head.bytes} bytes, found ${total}`;
  const payload = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    payload.set(part, offset);
    offset += part.length;
  }
  if (sha256Hex(payload) !== head.sha256) {
    payload.fill(0);
    return "checksum mismatch";
  }
  return payload;
}
