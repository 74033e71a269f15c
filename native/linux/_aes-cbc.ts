/**
 * AES-128-CBC with PKCS#7 padding (FIPS 197), the cipher of the Secret
 * Service's `dh-ietf1024-sha256-aes128-cbc-pkcs7` session: table-driven
 * TypeScript for a process's first calls, `node:crypto` after them.
 *
 * @module
 */
import { nodeCrypto } from "../../src/contract/_crypto.ts";

// AES-128 (FIPS 197), table-driven. The tables are built on first use, per
// direction: a first load only decrypts and a first save only encrypts, so
// each builds half of them. The CBC loops keep the state in locals (no
// per-block helper calls or temporary arrays): a first call runs them mostly
// interpreted, where every bytecode counts.

/** GF(2^8) exponent and logarithm tables of the generator 3, and the S-box (`sbox[inverse[x]] = x`). */
let field: { exp: Uint8Array; log: Uint8Array; sbox: Uint8Array; inverse: Uint8Array } | undefined;
let encTables: Int32Array[] | undefined;
let decTables: Int32Array[] | undefined;

function gf(): NonNullable<typeof field> {
  if (field) return field;
  const exp = new Uint8Array(510);
  const log = new Uint8Array(256);
  for (let i = 0, x = 1; i < 255; i++) {
    exp[i] = exp[i + 255] = x;
    log[x] = i;
    x ^= ((x << 1) ^ (x & 0x80 ? 0x1b : 0)) & 0xff;
  }
  // The S-box from the multiplicative inverse and the affine map.
  const sbox = new Uint8Array(256);
  const inverse = new Uint8Array(256);
  for (let x = 0; x < 256; x++) {
    const inv = x === 0 ? 0 : exp[255 - log[x]!]!;
    const s = inv ^ ((inv << 1) | (inv >> 7)) ^ ((inv << 2) | (inv >> 6)) ^ ((inv << 3) | (inv >> 5)) ^ ((inv << 4) | (inv >> 4)) ^ 0x63;
    sbox[x] = s & 0xff;
    inverse[s & 0xff] = x;
  }
  field = { exp, log, sbox, inverse };
  return field;
}

/**
 * Four 256-entry tables, the byte rotations of `word(box[x])`, where `word`
 * multiplies by the column coefficients `c0..c3` (MixColumns: 2 1 1 3;
 * InvMixColumns: 14 9 13 11).
 */
function roundTables(box: Uint8Array, c0: number, c1: number, c2: number, c3: number): Int32Array[] {
  const { exp, log } = gf();
  const l0 = log[c0]!, l1 = log[c1]!, l2 = log[c2]!, l3 = log[c3]!;
  const t0 = new Int32Array(256), t1 = new Int32Array(256), t2 = new Int32Array(256), t3 = new Int32Array(256);
  for (let x = 0; x < 256; x++) {
    const b = box[x]!;
    if (b === 0) continue; // every product is 0
    const lb = log[b]!;
    const e = (exp[lb + l0]! << 24) | (exp[lb + l1]! << 16) | (exp[lb + l2]! << 8) | exp[lb + l3]!;
    t0[x] = e;
    t1[x] = (e >>> 8) | (e << 24);
    t2[x] = (e >>> 16) | (e << 16);
    t3[x] = (e >>> 24) | (e << 8);
  }
  return [t0, t1, t2, t3];
}

/** The 44 words of the encryption key schedule. */
function expandKey(key: Uint8Array): Int32Array {
  const { sbox } = gf();
  const w = new Int32Array(44);
  for (let i = 0; i < 4; i++) w[i] = (key[4 * i]! << 24) | (key[4 * i + 1]! << 16) | (key[4 * i + 2]! << 8) | key[4 * i + 3]!;
  let rcon = 1;
  for (let i = 4; i < 44; i++) {
    let t = w[i - 1]!;
    if (i % 4 === 0) {
      t = ((sbox[(t >>> 16) & 255]! << 24) | (sbox[(t >>> 8) & 255]! << 16) | (sbox[t & 255]! << 8) | sbox[t >>> 24]!) ^ (rcon << 24);
      rcon = ((rcon << 1) ^ (rcon & 0x80 ? 0x1b : 0)) & 0xff;
    }
    w[i] = w[i - 4]! ^ t;
  }
  return w;
}

/** The 44 words of the equivalent inverse cipher's key schedule (rounds reversed, InvMixColumns on the middle ones). */
function decryptionKey(w: Int32Array, td: Int32Array[]): Int32Array {
  const { sbox } = gf();
  const [t0, t1, t2, t3] = td as [Int32Array, Int32Array, Int32Array, Int32Array];
  const d = new Int32Array(44);
  for (let round = 0; round <= 10; round++) {
    for (let c = 0; c < 4; c++) {
      const word = w[(10 - round) * 4 + c]!;
      d[round * 4 + c] = round === 0 || round === 10 ? word
        : t0[sbox[word >>> 24]!]! ^ t1[sbox[(word >>> 16) & 255]!]! ^ t2[sbox[(word >>> 8) & 255]!]! ^ t3[sbox[word & 255]!]!;
    }
  }
  return d;
}

/** The big-endian word of `bytes` at `o`. */
const wordAt = (bytes: Uint8Array, o: number): number => (bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!;

function putWord(bytes: Uint8Array, o: number, word: number): void {
  bytes[o] = word >>> 24; bytes[o + 1] = word >>> 16; bytes[o + 2] = word >>> 8; bytes[o + 3] = word;
}

/**
 * After this many AES calls in one process, `node:crypto`'s AES takes over: loading it costs about
 * 2.5 ms once, which the TypeScript cipher's cold first call does not pay, but warm it decrypts a
 * 4 KB secret in about 5 µs against about 40 µs here, so a process that keeps reading the keyring
 * (a server, a long session) repays the load within these calls.
 */
const NATIVE_AES_AFTER = 64;
let aesCalls = 0;
let warm: ReturnType<typeof nodeCrypto> | null | undefined;

/** `node:crypto` once this process has made {@linkcode NATIVE_AES_AFTER} AES calls, else (or where it is missing) `null`. */
function warmCrypto(): ReturnType<typeof nodeCrypto> | null {
  if (warm !== undefined) return warm;
  if (++aesCalls <= NATIVE_AES_AFTER) return null;
  try {
    warm = nodeCrypto();
  } catch {
    warm = null;
  }
  return warm;
}

/** AES-128-CBC with PKCS#7 padding: the ciphertext of `plain` under `key` and `iv`. */
export function encryptAesCbc(key: Uint8Array, iv: Uint8Array, plain: Uint8Array): Uint8Array {
  const crypto = warmCrypto();
  if (crypto !== null) {
    const cipher = crypto.createCipheriv("aes-128-cbc", key, iv);
    const head = cipher.update(plain);
    const tail = cipher.final();
    const out = new Uint8Array(head.length + tail.length);
    out.set(head);
    out.set(tail, head.length);
    head.fill(0);
    return out;
  }
  const k = expandKey(key);
  const { sbox: box } = gf();
  const [t0, t1, t2, t3] = (encTables ??= roundTables(gf().sbox, 2, 1, 1, 3)) as [Int32Array, Int32Array, Int32Array, Int32Array];
  const pad = 16 - (plain.length % 16);
  const out = new Uint8Array(plain.length + pad);
  out.set(plain);
  out.fill(pad, plain.length);
  // The chaining value: the IV, then each ciphertext block.
  let c0 = wordAt(iv, 0), c1 = wordAt(iv, 4), c2 = wordAt(iv, 8), c3 = wordAt(iv, 12);
  for (let offset = 0; offset < out.length; offset += 16) {
    let a = wordAt(out, offset) ^ c0 ^ k[0]!, b = wordAt(out, offset + 4) ^ c1 ^ k[1]!;
    let c = wordAt(out, offset + 8) ^ c2 ^ k[2]!, d = wordAt(out, offset + 12) ^ c3 ^ k[3]!;
    for (let i = 4; i < 40; i += 4) {
      const n0 = t0[a >>> 24]! ^ t1[(b >>> 16) & 255]! ^ t2[(c >>> 8) & 255]! ^ t3[d & 255]! ^ k[i]!;
      const n1 = t0[b >>> 24]! ^ t1[(c >>> 16) & 255]! ^ t2[(d >>> 8) & 255]! ^ t3[a & 255]! ^ k[i + 1]!;
      const n2 = t0[c >>> 24]! ^ t1[(d >>> 16) & 255]! ^ t2[(a >>> 8) & 255]! ^ t3[b & 255]! ^ k[i + 2]!;
      d = t0[d >>> 24]! ^ t1[(a >>> 16) & 255]! ^ t2[(b >>> 8) & 255]! ^ t3[c & 255]! ^ k[i + 3]!;
      a = n0; b = n1; c = n2;
    }
    c0 = ((box[a >>> 24]! << 24) | (box[(b >>> 16) & 255]! << 16) | (box[(c >>> 8) & 255]! << 8) | box[d & 255]!) ^ k[40]!;
    c1 = ((box[b >>> 24]! << 24) | (box[(c >>> 16) & 255]! << 16) | (box[(d >>> 8) & 255]! << 8) | box[a & 255]!) ^ k[41]!;
    c2 = ((box[c >>> 24]! << 24) | (box[(d >>> 16) & 255]! << 16) | (box[(a >>> 8) & 255]! << 8) | box[b & 255]!) ^ k[42]!;
    c3 = ((box[d >>> 24]! << 24) | (box[(a >>> 16) & 255]! << 16) | (box[(b >>> 8) & 255]! << 8) | box[c & 255]!) ^ k[43]!;
    putWord(out, offset, c0); putWord(out, offset + 4, c1); putWord(out, offset + 8, c2); putWord(out, offset + 12, c3);
  }
  k.fill(0);
  return out;
}

/**
 * Decrypts AES-128-CBC with PKCS#7 padding (the equivalent inverse cipher:
 * columns taken 0, 3, 2, 1 for InvShiftRows).
 * @throws {RangeError} when the length or the padding is wrong (another key, or a corrupt reply).
 */
export function decryptAesCbc(key: Uint8Array, iv: Uint8Array, cipher: Uint8Array): Uint8Array {
  if (cipher.length === 0 || cipher.length % 16 !== 0 || iv.length !== 16) throw new RangeError("the encrypted secret has a wrong length");
  const crypto = warmCrypto();
  if (crypto !== null) {
    const decipher = crypto.createDecipheriv("aes-128-cbc", key, iv);
    let head: Uint8Array | undefined;
    try {
      head = decipher.update(cipher);
      const tail = decipher.final();
      const plain = new Uint8Array(head.length + tail.length);
      plain.set(head);
      plain.set(tail, head.length);
      tail.fill(0);
      return plain;
    } catch {
      // OpenSSL's "bad decrypt": the same answer as the TypeScript cipher's, with nothing of the input.
      throw new RangeError("the encrypted secret has a wrong padding");
    } finally {
      head?.fill(0);
    }
  }
  const { inverse: box } = gf();
  const td = (decTables ??= roundTables(box, 14, 9, 13, 11));
  const [t0, t1, t2, t3] = td as [Int32Array, Int32Array, Int32Array, Int32Array];
  const w = expandKey(key);
  const k = decryptionKey(w, td);
  w.fill(0);
  const out = new Uint8Array(cipher.length);
  let c0 = wordAt(iv, 0), c1 = wordAt(iv, 4), c2 = wordAt(iv, 8), c3 = wordAt(iv, 12);
  for (let offset = 0; offset < cipher.length; offset += 16) {
    const x0 = wordAt(cipher, offset), x1 = wordAt(cipher, offset + 4), x2 = wordAt(cipher, offset + 8), x3 = wordAt(cipher, offset + 12);
    let a = x0 ^ k[0]!, b = x1 ^ k[1]!, c = x2 ^ k[2]!, d = x3 ^ k[3]!;
    for (let i = 4; i < 40; i += 4) {
      const n0 = t0[a >>> 24]! ^ t1[(d >>> 16) & 255]! ^ t2[(c >>> 8) & 255]! ^ t3[b & 255]! ^ k[i]!;
      const n1 = t0[b >>> 24]! ^ t1[(a >>> 16) & 255]! ^ t2[(d >>> 8) & 255]! ^ t3[c & 255]! ^ k[i + 1]!;
      const n2 = t0[c >>> 24]! ^ t1[(b >>> 16) & 255]! ^ t2[(a >>> 8) & 255]! ^ t3[d & 255]! ^ k[i + 2]!;
      d = t0[d >>> 24]! ^ t1[(c >>> 16) & 255]! ^ t2[(b >>> 8) & 255]! ^ t3[a & 255]! ^ k[i + 3]!;
      a = n0; b = n1; c = n2;
    }
    putWord(out, offset, ((box[a >>> 24]! << 24) | (box[(d >>> 16) & 255]! << 16) | (box[(c >>> 8) & 255]! << 8) | box[b & 255]!) ^ k[40]! ^ c0);
    putWord(out, offset + 4, ((box[b >>> 24]! << 24) | (box[(a >>> 16) & 255]! << 16) | (box[(d >>> 8) & 255]! << 8) | box[c & 255]!) ^ k[41]! ^ c1);
    putWord(out, offset + 8, ((box[c >>> 24]! << 24) | (box[(b >>> 16) & 255]! << 16) | (box[(a >>> 8) & 255]! << 8) | box[d & 255]!) ^ k[42]! ^ c2);
    putWord(out, offset + 12, ((box[d >>> 24]! << 24) | (box[(c >>> 16) & 255]! << 16) | (box[(b >>> 8) & 255]! << 8) | box[a & 255]!) ^ k[43]! ^ c3);
    c0 = x0; c1 = x1; c2 = x2; c3 = x3;
  }
  k.fill(0);
  const pad = out[out.length - 1]!;
  let bad = pad === 0 || pad > 16 ? 1 : 0;
  for (let i = out.length - Math.min(pad, 16); i < out.length; i++) if (out[i] !== pad) bad = 1;
  if (bad) {
    out.fill(0);
    throw new RangeError("the encrypted secret has a wrong padding");
  }
  const plain = out.slice(0, out.length - pad);
  out.fill(0);
  return plain;
}
