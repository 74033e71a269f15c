/**
 * ChaCha20-Poly1305 (RFC 8439) in plain TypeScript, for runtimes whose
 * `node:crypto` lacks the cipher (Bun 1.4 has neither `chacha20-poly1305` nor
 * `chacha20`, and WebCrypto defines neither). Node and Deno use OpenSSL's.
 * Inputs here are a few kilobytes, so clarity wins over speed: Poly1305 runs
 * on BigInt.
 *
 * @module
 */

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];

function rotl(value: number, shift: number): number {
  return (value << shift) | (value >>> (32 - shift));
}

/** One 64-byte ChaCha20 block for (key, counter, nonce). */
function chachaBlock(key: Uint32Array, counter: number, nonce: Uint32Array, out: Uint8Array): void {
  const init = [...SIGMA, ...key, counter >>> 0, ...nonce];
  const x = init.slice();
  const quarter = (a: number, b: number, c: number, d: number) => {
    x[a] = (x[a]! + x[b]!) | 0; x[d] = rotl(x[d]! ^ x[a]!, 16);
    x[c] = (x[c]! + x[d]!) | 0; x[b] = rotl(x[b]! ^ x[c]!, 12);
    x[a] = (x[a]! + x[b]!) | 0; x[d] = rotl(x[d]! ^ x[a]!, 8);
    x[c] = (x[c]! + x[d]!) | 0; x[b] = rotl(x[b]! ^ x[c]!, 7);
  };
  for (let round = 0; round < 10; round++) {
    quarter(0, 4, 8, 12); quarter(1, 5, 9, 13); quarter(2, 6, 10, 14); quarter(3, 7, 11, 15);
    quarter(0, 5, 10, 15); quarter(1, 6, 11, 12); quarter(2, 7, 8, 13); quarter(3, 4, 9, 14);
  }
  const view = new DataView(out.buffer, out.byteOffset, 64);
  for (let i = 0; i < 16; i++) view.setUint32(i * 4, (x[i]! + init[i]!) >>> 0, true);
}

function words(bytes: Uint8Array): Uint32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Uint32Array.from({ length: bytes.length / 4 }, (_, i) => view.getUint32(i * 4, true));
}

/** XORs `data` with the ChaCha20 keystream starting at block `counter`. */
function chachaXor(key: Uint8Array, nonce: Uint8Array, counter: number, data: Uint8Array): Uint8Array {
  const k = words(key);
  const n = words(nonce);
  const out = new Uint8Array(data.length);
  const block = new Uint8Array(64);
  for (let offset = 0; offset < data.length; offset += 64, counter++) {
    chachaBlock(k, counter, n, block);
    const end = Math.min(64, data.length - offset);
    for (let i = 0; i < end; i++) out[offset + i] = data[offset + i]! ^ block[i]!;
  }
  return out;
}

function leBigInt(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  return value;
}

const P1305 = (1n << 130n) - 5n;

function poly1305(oneTimeKey: Uint8Array, message: Uint8Array): Uint8Array {
  const r = leBigInt(oneTimeKey.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  const s = leBigInt(oneTimeKey.subarray(16, 32));
  let accumulator = 0n;
  for (let offset = 0; offset < message.length; offset += 16) {
    const chunk = message.subarray(offset, offset + 16);
    accumulator = ((accumulator + leBigInt(chunk) + (1n << BigInt(8 * chunk.length))) * r) % P1305;
  }
  let tag = (accumulator + s) & ((1n << 128n) - 1n);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++, tag >>= 8n) out[i] = Number(tag & 0xffn);
  return out;
}

function macData(ciphertext: Uint8Array): Uint8Array {
  // No associated data in age; the ciphertext is padded to 16 bytes, then both lengths follow.
  const padded = Math.ceil(ciphertext.length / 16) * 16;
  const data = new Uint8Array(padded + 16);
  data.set(ciphertext, 0);
  new DataView(data.buffer).setBigUint64(padded + 8, BigInt(ciphertext.length), true);
  return data;
}

function tagFor(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const oneTimeKey = chachaXor(key, nonce, 0, new Uint8Array(32));
  return poly1305(oneTimeKey, macData(ciphertext));
}

/** Seals `plaintext`: ciphertext followed by the 16-byte tag. */
export function chachaPolySeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const ciphertext = chachaXor(key, nonce, 1, plaintext);
  const out = new Uint8Array(ciphertext.length + 16);
  out.set(ciphertext, 0);
  out.set(tagFor(key, nonce, ciphertext), ciphertext.length);
  return out;
}

/** Opens a sealed message; `null` when the tag does not authenticate. */
export function chachaPolyOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Uint8Array | null {
  if (sealed.length < 16) return null;
  const ciphertext = sealed.subarray(0, sealed.length - 16);
  const expected = tagFor(key, nonce, ciphertext);
  let difference = 0;
  for (let i = 0; i < 16; i++) difference |= expected[i]! ^ sealed[sealed.length - 16 + i]!;
  return difference === 0 ? chachaXor(key, nonce, 1, ciphertext) : null;
}
