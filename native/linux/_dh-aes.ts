/**
 * The Secret Service's encrypted session, `dh-ietf1024-sha256-aes128-cbc-pkcs7`,
 * in plain TypeScript: Diffie-Hellman over the 1024-bit MODP group of RFC 2409
 * (generator 2), the shared secret padded to 128 bytes, HKDF-SHA-256 with no
 * salt or info to a 128-bit AES key, and AES-128-CBC with PKCS#7 padding, the
 * IV sent as the secret's parameters. libsecret does the same with libgcrypt,
 * whose initialisation and key generation cost 4.4 ms of a first call; here
 * a first load's DH and decryption cost about 2.8 ms in a fresh Node process
 * (1.8 ms of it the BigInt exponentiations), and need neither libgcrypt nor
 * `node:crypto`.
 *
 * The private exponent is 256 random bits (RFC 3526 §8: twice the group's
 * ~80-bit strength is enough). The session only protects secrets on the bus.
 *
 * @module
 */
import { hkdfSha256, randomBytes } from "../../src/contract/_crypto.ts";

export { decryptAesCbc, encryptAesCbc } from "./_aes-cbc.ts";

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

/**
 * `base ^ exponent mod PRIME`, four exponent bits (one hex digit) at a time.
 * For the generator 2 (our public key) a window's multiplication is a shift,
 * so key generation needs no table and 64 fewer full multiplications.
 */
function modPow(base: bigint, exponent: bigint): bigint {
  const digits = exponent.toString(16);
  const shift = base === 2n;
  const table: bigint[] = [1n, base % PRIME];
  if (!shift) for (let i = 2; i < 16; i++) table.push((table[i - 1]! * table[1]!) % PRIME);
  let result = 1n;
  for (let i = 0; i < digits.length; i++) {
    if (i > 0) {
      result = (result * result) % PRIME;
      result = (result * result) % PRIME;
      result = (result * result) % PRIME;
      result = (result * result) % PRIME;
    }
    const digit = Number.parseInt(digits[i]!, 16);
    if (digit !== 0) result = shift ? (result << BigInt(digit)) % PRIME : (result * table[digit]!) % PRIME;
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
