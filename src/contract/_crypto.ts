/**
 * The few crypto primitives authkeep needs, in plain TypeScript: SHA-256 (the
 * store key, chunk names), HMAC/HKDF-SHA-256 (the Secret Service session key)
 * and random bytes. Loading `node:crypto` costs 2.5–7 ms of a cold start on
 * Node 20 and its first `globalThis.crypto` call 0.5 ms or more; hashing a home path here costs a few
 * microseconds (bench/README.md, "first call").
 *
 * @module
 */
import { nodeFs } from "./_node-builtins.ts";
import { detectRuntime, platform } from "./_runtime.ts";

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const utf8 = new TextEncoder();

/** SHA-256 (FIPS 180-4) of `data`; a string is hashed as its UTF-8 bytes. */
export function sha256(data: string | Uint8Array): Uint8Array {
  const bytes = typeof data === "string" ? utf8.encode(data) : data;
  const bitLength = bytes.length * 8;
  const padded = new Uint8Array((((bytes.length + 8) >> 6) + 1) << 6);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  const tail = new DataView(padded.buffer);
  tail.setUint32(padded.length - 8, Math.floor(bitLength / 0x1_0000_0000));
  tail.setUint32(padded.length - 4, bitLength >>> 0);
  const h = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Int32Array(64);
  for (let offset = 0; offset < padded.length; offset += 64) {
    for (let i = 0; i < 16; i++) w[i] = tail.getInt32(offset + i * 4);
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15]!, b = w[i - 2]!;
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    let a = h[0]!, b = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!, f = h[5]!, g = h[6]!, k = h[7]!;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (k + S1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      k = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = h[0]! + a; h[1] = h[1]! + b; h[2] = h[2]! + c; h[3] = h[3]! + d;
    h[4] = h[4]! + e; h[5] = h[5]! + f; h[6] = h[6]! + g; h[7] = h[7]! + k;
  }
  padded.fill(0);
  const digest = new Uint8Array(32);
  const out = new DataView(digest.buffer);
  for (let i = 0; i < 8; i++) out.setUint32(i * 4, h[i]!);
  return digest;
}

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** SHA-256 of the UTF-8 bytes of `data` (or of the bytes given), as lowercase hex. */
export function sha256Hex(data: string | Uint8Array): string {
  return toHex(sha256(data));
}

/** HMAC-SHA-256 (RFC 2104) of `message` under `key`. */
export function hmacSha256(key: Uint8Array, message: Uint8Array): Uint8Array {
  const block = new Uint8Array(64);
  block.set(key.length > 64 ? sha256(key) : key);
  const inner = new Uint8Array(64 + message.length);
  const outer = new Uint8Array(64 + 32);
  for (let i = 0; i < 64; i++) {
    inner[i] = block[i]! ^ 0x36;
    outer[i] = block[i]! ^ 0x5c;
  }
  inner.set(message, 64);
  outer.set(sha256(inner), 64);
  const mac = sha256(outer);
  for (const buffer of [block, inner, outer]) buffer.fill(0);
  return mac;
}

/** HKDF-SHA-256 (RFC 5869) with an empty salt, for up to 32 bytes of output. */
export function hkdfSha256(inputKey: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (length > 32) throw new RangeError("hkdfSha256 gives at most 32 bytes");
  const prk = hmacSha256(new Uint8Array(32), inputKey);
  const message = new Uint8Array(info.length + 1);
  message.set(info);
  message[info.length] = 1;
  const okm = hmacSha256(prk, message).slice(0, length);
  prk.fill(0);
  return okm;
}

// One read of /dev/urandom (open, read, close) serves several small requests: temp file names,
// lock nonces, IVs. Each byte is handed out once and wiped from the pool as it leaves.
const POOL_BYTES = 256;
const NODE = detectRuntime() === "node";
let pool: Uint8Array = new Uint8Array(0);
let poolOffset = 0;

/** `byteCount` bytes read from `/dev/urandom`, or `undefined` where it cannot be read. */
function readUrandom(byteCount: number): Uint8Array | undefined {
  if (platform() === "win32") return undefined;
  const bytes = new Uint8Array(byteCount);
  try {
    const fs = nodeFs();
    const fd = fs.openSync("/dev/urandom", "r");
    try {
      if (fs.readSync(fd, bytes, 0, byteCount, null) === byteCount) return bytes;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // the caller falls back to WebCrypto
  }
  return undefined;
}

/** `byteCount` bytes from WebCrypto, which fills at most 65,536 per call. */
function webRandom(byteCount: number): Uint8Array {
  const bytes = new Uint8Array(byteCount);
  for (let offset = 0; offset < byteCount; offset += 65_536) globalThis.crypto.getRandomValues(bytes.subarray(offset, offset + 65_536));
  return bytes;
}

/**
 * `byteCount` bytes from the kernel CSPRNG. On Node, `/dev/urandom` first:
 * the first use of `globalThis.crypto` loads WebCrypto there (0.5 ms on
 * Node 20, more on a loaded machine), while `node:fs` is already loaded; it
 * is the fallback where the device cannot be read (Windows). Bun and Deno
 * answer `getRandomValues` natively (0.1–0.2 ms on a first call) but build
 * `node:fs` on first request (1.4 ms on Bun; 4 ms on Deno, plus its Node
 * compatibility layer), so they use it directly.
 */
export function randomBytes(byteCount: number): Uint8Array {
  if (!NODE) return webRandom(byteCount);
  if (byteCount > POOL_BYTES) return readUrandom(byteCount) ?? webRandom(byteCount);
  if (poolOffset + byteCount > pool.length) {
    const fresh = readUrandom(POOL_BYTES);
    if (fresh === undefined) return webRandom(byteCount);
    pool.fill(0);
    pool = fresh;
    poolOffset = 0;
  }
  const served = pool.subarray(poolOffset, poolOffset + byteCount);
  const bytes = served.slice();
  served.fill(0);
  poolOffset += byteCount;
  return bytes;
}

/** `byteCount` random bytes from the platform CSPRNG, as lowercase hex. */
export function randomHex(byteCount: number): string {
  return toHex(randomBytes(byteCount));
}

type NodeCrypto = typeof import("node:crypto");
let cachedNodeCrypto: NodeCrypto | undefined;

/** `node:crypto`, loaded on first use (only the encrypted store needs it: scrypt, ChaCha20-Poly1305). */
export function nodeCrypto(): NodeCrypto {
  cachedNodeCrypto ??= process.getBuiltinModule("node:crypto");
  return cachedNodeCrypto;
}
