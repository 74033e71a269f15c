/**
 * Value conversions shared by the providers, so that every provider accepts
 * and returns the same JS values (see `provider.ts`).
 *
 * @module
 */
import type { NativeBuffer } from "./provider.ts";

const encoder = new TextEncoder();

/**
 * Encodes a `cstring` argument: UTF-8 plus the terminating NUL, which Deno
 * and Bun leave to the caller.
 *
 * @throws {TypeError} when the string contains a NUL: C would silently cut it
 * there, and a cut keyring attribute names a different entry.
 */
export function encodeCString(value: string): Uint8Array {
  checkCString(value);
  return encoder.encode(`${value}\0`);
}

/**
 * Refuses a string that contains a NUL (see {@linkcode encodeCString}).
 */
export function checkCString(value: string): void {
  if (typeof value !== "string") throw new TypeError(`expected a string for a cstring argument, got ${typeof value}`);
  if (value.includes("\0")) throw new TypeError("a cstring argument cannot contain a NUL character");
}

/**
 * Reads the little-endian 64-bit address stored at `offset` bytes into a JS
 * buffer (an out-parameter such as `GError **`).
 */
export function readAddress(buffer: NativeBuffer, offset: number): bigint {
  return new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength).getBigUint64(offset, true);
}

/**
 * Normalises a 64-bit integer result to a `bigint` (koffi returns a `number`
 * when it fits).
 */
export function toBigInt(value: unknown): bigint {
  return typeof value === "bigint" ? value : BigInt(value as number);
}
