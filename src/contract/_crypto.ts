/**
 * The two crypto operations authkeep needs, loaded lazily: loading
 * `node:crypto` costs several milliseconds at start-up on Node 20, and most processes
 * that import authkeep never hash anything.
 *
 * @module
 */
type NodeCrypto = typeof import("node:crypto");
let cached: NodeCrypto | undefined;

/** `node:crypto`, loaded on first use. */
export function nodeCrypto(): NodeCrypto {
  cached ??= process.getBuiltinModule("node:crypto");
  return cached;
}

/** SHA-256 of the UTF-8 bytes of `data` (or of the bytes given), as lowercase hex. */
export function sha256Hex(data: string | Uint8Array): string {
  return nodeCrypto().createHash("sha256").update(data).digest("hex");
}

/** `byteCount` random bytes from the platform CSPRNG, as lowercase hex. */
export function randomHex(byteCount: number): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(byteCount));
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}
