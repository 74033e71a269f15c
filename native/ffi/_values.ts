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
 * @example
 * ```ts
 * import { encodeCString } from "./node_modules/authkeep/native/ffi/_values.ts";
 *
 * console.log(encodeCString("abc")); // Uint8Array(4) [97, 98, 99, 0]
 * ```
 */
export function encodeCString(value: string): Uint8Array {
  checkCString(value);
  return encoder.encode(`${value}\0`);
}

/**
 * Refuses a string that contains a NUL (see {@linkcode encodeCString}).
 *
 * @example
 * ```ts
 * import { checkCString } from "./node_modules/authkeep/native/ffi/_values.ts";
 *
 * checkCString("abc"); // fine
 * try {
 *   checkCString("a\0b");
 * } catch (error) {
 *   console.log((error as Error).message); // "a cstring argument cannot contain a NUL character"
 * }
 * ```
 */
export function checkCString(value: string): void {
  if (typeof value !== "string") throw new TypeError(`expected a string for a cstring argument, got ${typeof value}`);
  if (value.includes("\0")) throw new TypeError("a cstring argument cannot contain a NUL character");
}

/**
 * Reads the little-endian 64-bit address stored at `offset` bytes into a JS
 * buffer (an out-parameter such as `GError **`).
 *
 * @example
 * ```ts
 * import { readAddress } from "./node_modules/authkeep/native/ffi/_values.ts";
 *
 * console.log(readAddress(new BigUint64Array([42n]), 0)); // 42n
 * ```
 */
export function readAddress(buffer: NativeBuffer, offset: number): bigint {
  return new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength).getBigUint64(offset, true);
}

/**
 * Normalises a 64-bit integer result to a `bigint` (koffi returns a `number`
 * when it fits).
 *
 * @example
 * ```ts
 * import { toBigInt } from "./node_modules/authkeep/native/ffi/_values.ts";
 *
 * console.log(toBigInt(5), toBigInt(5n)); // 5n 5n
 * ```
 */
export function toBigInt(value: unknown): bigint {
  return typeof value === "bigint" ? value : BigInt(value as number);
}
