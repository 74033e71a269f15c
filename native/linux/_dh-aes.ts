/**
 * The Secret Service's encrypted session, `dh-ietf1024-sha256-aes128-cbc-pkcs7`,
 * in plain TypeScript: Diffie-Hellman over the 1024-bit MODP group of RFC 2409
 * (generator 2), the shared secret padded to 128 bytes, HKDF-SHA-256 with no
 * salt or info to a 128-bit AES key, and AES-128-CBC with PKCS#7 padding, the
 * IV sent as the secret's parameters. libsecret does the same with libgcrypt,
 * whose initialisation and key generation cost 4.4 ms of a first call; this
 * costs about 1–2 ms, and needs neither libgcrypt nor `node:crypto`.
 *
 * The private exponent is 256 random bits (RFC 3526 §8: twice the group's
 * ~80-bit strength is enough). The session only protects secrets on the bus.
 *
 * @module
 */
import { hkdfSha256, randomBytes } from "../../src/contract/_crypto.ts";

/** The algorithm name OpenSession takes. */
export const DH_ALGORITHM = "dh-ietf1024-sha256-aes128-cbc-pkcs7";

const PRIME = BigInt(
  "0xFFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
);
const PRIME_BYTES = 128;

function toBigInt(bytes: Uint8Array): bigint {
  let hex = "0x0";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return BigInt(hex);
}

function toBytes(value: bigint, length: number): Uint8Array {
  const hex = value.toString(16).padStart(length * 2, "0");
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** `base ^ exponent mod PRIME`, four exponent bits at a time. */
function modPow(base: bigint, exponent: bigint): bigint {
  const table: bigint[] = [1n, base % PRIME];
  for (let i = 2; i < 16; i++) table.push((table[i - 1]! * table[1]!) % PRIME);
  let result = 1n;
  const bits = exponent.toString(2);
  const digits = bits.padStart(Math.ceil(bits.length / 4) * 4, "0");
  for (let i = 0; i < digits.length; i += 4) {
    if (result !== 1n) result = (((result * result) % PRIME) ** 2n) % PRIME;
    if (result !== 1n) result = (((result * result) % PRIME) ** 2n) % PRIME;
    result = (result * table[Number.parseInt(digits.slice(i, i + 4), 2)]!) % PRIME;
  }
  return result;
}

/** One side of the key exchange: our public key to send, and the private exponent. */
export interface DhKeys {
  readonly publicKey: Uint8Array;
  readonly privateKey: bigint;
}

/** A fresh key pair. */
export function generateDhKeys(): DhKeys {
  const privateKey = toBigInt(randomBytes(32)) | (1n << 255n);
  return { privateKey, publicKey: toBytes(modPow(2n, privateKey), PRIME_BYTES) };
}

/**
 * The 16-byte AES key agreed with the daemon's public key.
 * @throws {RangeError} for a public key outside (1, p − 1).
 */
export function deriveAesKey(keys: DhKeys, peerPublicKey: Uint8Array): Uint8Array {
  const peer = toBigInt(peerPublicKey);
  if (peer <= 1n || peer >= PRIME - 1n) throw new RangeError("the Secret Service sent an invalid public key");
  const shared = toBytes(modPow(peer, keys.privateKey), PRIME_BYTES);
  try {
    return hkdfSha256(shared, new Uint8Array(0), 16);
  } finally {
    shared.fill(0);
  }
}

// ---------------------------------------------------------------------------
// AES-128 (FIPS 197), table-driven; the tables are built on first use.

let tables: { sbox: Uint8Array; inverse: Uint8Array; enc: Int32Array[]; dec: Int32Array[] } | undefined;

function aesTables(): NonNullable<typeof tables> {
  if (tables) return tables;
  const sbox = new Uint8Array(256);
  const inverse = new Uint8Array(256);
  const enc = [0, 1, 2, 3].map(() => new Int32Array(256));
  const dec = [0, 1, 2, 3].map(() => new Int32Array(256));
  // GF(2^8) by exponent and logarithm tables of the generator 3.
  const exp = new Uint8Array(510);
  const log = new Uint8Array(256);
  for (let i = 0, x = 1; i < 255; i++) {
    exp[i] = exp[i + 255] = x;
    log[x] = i;
    x ^= ((x << 1) ^ (x & 0x80 ? 0x1b : 0)) & 0xff;
  }
  const mul = (a: number, b: number): number => (a === 0 || b === 0 ? 0 : exp[log[a]! + log[b]!]!);
  // The S-box from the multiplicative inverse and the affine map.
  for (let x = 0; x < 256; x++) {
    const inv = x === 0 ? 0 : exp[255 - log[x]!]!;
    let s = inv;
    for (let r = 1; r < 5; r++) s ^= ((inv << r) | (inv >> (8 - r))) & 0xff;
    s ^= 0x63;
    sbox[x] = s;
    inverse[s] = x;
  }
  for (let x = 0; x < 256; x++) {
    const s = sbox[x]!;
    const e = (mul(s, 2) << 24) | (s << 16) | (s << 8) | mul(s, 3);
    const i = inverse[x]!;
    const d = (mul(i, 14) << 24) | (mul(i, 9) << 16) | (mul(i, 13) << 8) | mul(i, 11);
    for (let t = 0; t < 4; t++) {
      enc[t]![x] = (e >>> (8 * t)) | (e << (32 - 8 * t));
      dec[t]![x] = (d >>> (8 * t)) | (d << (32 - 8 * t));
    }
  }
  tables = { sbox, inverse, enc, dec };
  return tables;
}

/** The 44 words of the encryption key schedule, and the 44 of the equivalent inverse cipher. */
function keySchedule(key: Uint8Array): { enc: Int32Array; dec: Int32Array } {
  const { sbox, enc: te, dec: td } = aesTables();
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
  const d = new Int32Array(44);
  for (let round = 0; round <= 10; round++) {
    for (let c = 0; c < 4; c++) {
      const word = w[(10 - round) * 4 + c]!;
      d[round * 4 + c] = round === 0 || round === 10 ? word
        : td[0]![sbox[word >>> 24]!]! ^ td[1]![sbox[(word >>> 16) & 255]!]! ^ td[2]![sbox[(word >>> 8) & 255]!]! ^ td[3]![sbox[word & 255]!]!;
    }
  }
  return { enc: w, dec: d };
}

/** Encrypts one block in place (`s`: four big-endian words). */
function encryptBlock(s: Int32Array, k: Int32Array, t0: Int32Array, t1: Int32Array, t2: Int32Array, t3: Int32Array, box: Uint8Array): void {
  let a = s[0]! ^ k[0]!, b = s[1]! ^ k[1]!, c = s[2]! ^ k[2]!, d = s[3]! ^ k[3]!;
  let i = 4;
  for (let round = 1; round < 10; round++, i += 4) {
    const n0 = t0[a >>> 24]! ^ t1[(b >>> 16) & 255]! ^ t2[(c >>> 8) & 255]! ^ t3[d & 255]! ^ k[i]!;
    const n1 = t0[b >>> 24]! ^ t1[(c >>> 16) & 255]! ^ t2[(d >>> 8) & 255]! ^ t3[a & 255]! ^ k[i + 1]!;
    const n2 = t0[c >>> 24]! ^ t1[(d >>> 16) & 255]! ^ t2[(a >>> 8) & 255]! ^ t3[b & 255]! ^ k[i + 2]!;
    const n3 = t0[d >>> 24]! ^ t1[(a >>> 16) & 255]! ^ t2[(b >>> 8) & 255]! ^ t3[c & 255]! ^ k[i + 3]!;
    a = n0; b = n1; c = n2; d = n3;
  }
  s[0] = ((box[a >>> 24]! << 24) | (box[(b >>> 16) & 255]! << 16) | (box[(c >>> 8) & 255]! << 8) | box[d & 255]!) ^ k[40]!;
  s[1] = ((box[b >>> 24]! << 24) | (box[(c >>> 16) & 255]! << 16) | (box[(d >>> 8) & 255]! << 8) | box[a & 255]!) ^ k[41]!;
  s[2] = ((box[c >>> 24]! << 24) | (box[(d >>> 16) & 255]! << 16) | (box[(a >>> 8) & 255]! << 8) | box[b & 255]!) ^ k[42]!;
  s[3] = ((box[d >>> 24]! << 24) | (box[(a >>> 16) & 255]! << 16) | (box[(b >>> 8) & 255]! << 8) | box[c & 255]!) ^ k[43]!;
}

/** Decrypts one block in place with the equivalent inverse cipher (columns taken 0, 3, 2, 1: InvShiftRows). */
function decryptBlock(s: Int32Array, k: Int32Array, t0: Int32Array, t1: Int32Array, t2: Int32Array, t3: Int32Array, box: Uint8Array): void {
  let a = s[0]! ^ k[0]!, b = s[1]! ^ k[1]!, c = s[2]! ^ k[2]!, d = s[3]! ^ k[3]!;
  let i = 4;
  for (let round = 1; round < 10; round++, i += 4) {
    const n0 = t0[a >>> 24]! ^ t1[(d >>> 16) & 255]! ^ t2[(c >>> 8) & 255]! ^ t3[b & 255]! ^ k[i]!;
    const n1 = t0[b >>> 24]! ^ t1[(a >>> 16) & 255]! ^ t2[(d >>> 8) & 255]! ^ t3[c & 255]! ^ k[i + 1]!;
    const n2 = t0[c >>> 24]! ^ t1[(b >>> 16) & 255]! ^ t2[(a >>> 8) & 255]! ^ t3[d & 255]! ^ k[i + 2]!;
    const n3 = t0[d >>> 24]! ^ t1[(c >>> 16) & 255]! ^ t2[(b >>> 8) & 255]! ^ t3[a & 255]! ^ k[i + 3]!;
    a = n0; b = n1; c = n2; d = n3;
  }
  s[0] = ((box[a >>> 24]! << 24) | (box[(d >>> 16) & 255]! << 16) | (box[(c >>> 8) & 255]! << 8) | box[b & 255]!) ^ k[40]!;
  s[1] = ((box[b >>> 24]! << 24) | (box[(a >>> 16) & 255]! << 16) | (box[(d >>> 8) & 255]! << 8) | box[c & 255]!) ^ k[41]!;
  s[2] = ((box[c >>> 24]! << 24) | (box[(b >>> 16) & 255]! << 16) | (box[(a >>> 8) & 255]! << 8) | box[d & 255]!) ^ k[42]!;
  s[3] = ((box[d >>> 24]! << 24) | (box[(c >>> 16) & 255]! << 16) | (box[(b >>> 8) & 255]! << 8) | box[a & 255]!) ^ k[43]!;
}

function readBlock(bytes: Uint8Array, offset: number, s: Int32Array): void {
  for (let i = 0; i < 4; i++) {
    const o = offset + 4 * i;
    s[i] = (bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!;
  }
}

function writeBlock(s: Int32Array, bytes: Uint8Array, offset: number): void {
  for (let i = 0; i < 4; i++) {
    const o = offset + 4 * i, word = s[i]!;
    bytes[o] = word >>> 24; bytes[o + 1] = word >>> 16; bytes[o + 2] = word >>> 8; bytes[o + 3] = word;
  }
}

/** AES-128-CBC with PKCS#7 padding: the ciphertext of `plain` under `key` and `iv`. */
export function encryptAesCbc(key: Uint8Array, iv: Uint8Array, plain: Uint8Array): Uint8Array {
  const { enc } = keySchedule(key);
  const { enc: te, sbox } = aesTables();
  const pad = 16 - (plain.length % 16);
  const out = new Uint8Array(plain.length + pad);
  out.set(plain);
  out.fill(pad, plain.length);
  const s = new Int32Array(4), chain = new Int32Array(4);
  readBlock(iv, 0, chain);
  for (let offset = 0; offset < out.length; offset += 16) {
    readBlock(out, offset, s);
    for (let i = 0; i < 4; i++) s[i] = s[i]! ^ chain[i]!;
    encryptBlock(s, enc, te[0]!, te[1]!, te[2]!, te[3]!, sbox);
    writeBlock(s, out, offset);
    chain.set(s);
  }
  s.fill(0);
  enc.fill(0);
  return out;
}

/**
 * Decrypts AES-128-CBC with PKCS#7 padding.
 * @throws {RangeError} when the length or the padding is wrong (another key, or a corrupt reply).
 */
export function decryptAesCbc(key: Uint8Array, iv: Uint8Array, cipher: Uint8Array): Uint8Array {
  if (cipher.length === 0 || cipher.length % 16 !== 0 || iv.length !== 16) throw new RangeError("the encrypted secret has a wrong length");
  const { dec } = keySchedule(key);
  const { dec: td, inverse } = aesTables();
  const out = new Uint8Array(cipher.length);
  const s = new Int32Array(4), chain = new Int32Array(4), next = new Int32Array(4);
  readBlock(iv, 0, chain);
  for (let offset = 0; offset < cipher.length; offset += 16) {
    readBlock(cipher, offset, s);
    next.set(s);
    decryptBlock(s, dec, td[0]!, td[1]!, td[2]!, td[3]!, inverse);
    for (let i = 0; i < 4; i++) s[i] = s[i]! ^ chain[i]!;
    writeBlock(s, out, offset);
    chain.set(next);
  }
  s.fill(0);
  dec.fill(0);
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
