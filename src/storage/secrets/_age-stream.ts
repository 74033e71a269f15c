/**
 * age's payload: STREAM over ChaCha20-Poly1305 in 64 KiB chunks. Each chunk's
 * 12-byte nonce is an 11-byte big-endian counter and a last-chunk flag, so a
 * reordered, dropped or appended chunk fails to authenticate.
 *
 * @module
 */
import { nodeCrypto } from "../../contract/_crypto.ts";
import { EncryptedStoreError } from "../../contract/encrypted-store-error.ts";
import { chachaPolyOpen, chachaPolySeal } from "./_chacha20-poly1305.ts";

const CHUNK = 64 * 1024;
const TAG = 16;

function chunkNonce(counter: number, last: boolean): Uint8Array {
  const nonce = new Uint8Array(12);
  // Files are capped far below 2^32 chunks, so the counter fits the low four bytes.
  new DataView(nonce.buffer).setUint32(7, counter);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

let nativeAead: boolean | undefined;
/** Whether this runtime's `node:crypto` has ChaCha20-Poly1305 (Node and Deno do; Bun 1.4 does not). */
export function hasNativeChaCha20Poly1305(): boolean {
  return (nativeAead ??= nodeCrypto().getCiphers().includes("chacha20-poly1305"));
}

/** ChaCha20-Poly1305 seal: ciphertext followed by the 16-byte tag. */
export function aeadSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array {
  if (!hasNativeChaCha20Poly1305()) return chachaPolySeal(key, nonce, plaintext);
  const cipher = nodeCrypto().createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG });
  const body = cipher.update(plaintext);
  const final = cipher.final();
  const out = new Uint8Array(body.length + final.length + TAG);
  out.set(body, 0);
  out.set(final, body.length);
  out.set(cipher.getAuthTag(), body.length + final.length);
  return out;
}

/** ChaCha20-Poly1305 open; `null` when the tag does not authenticate. */
export function aeadOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Uint8Array | null {
  if (sealed.length < TAG) return null;
  if (!hasNativeChaCha20Poly1305()) return chachaPolyOpen(key, nonce, sealed);
  const decipher = nodeCrypto().createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  const body = decipher.update(sealed.subarray(0, sealed.length - TAG));
  try {
    const final = decipher.final();
    if (final.length === 0) return body;
    const out = new Uint8Array(body.length + final.length);
    out.set(body, 0);
    out.set(final, body.length);
    return out;
  } catch {
    body.fill(0); // Unauthenticated plaintext never leaves this function.
    return null;
  }
}

/** Encrypts a whole payload with the payload key. */
export function sealStream(key: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  const chunks = Math.max(1, Math.ceil(plaintext.length / CHUNK));
  for (let i = 0; i < chunks; i++) {
    parts.push(aeadSeal(key, chunkNonce(i, i === chunks - 1), plaintext.subarray(i * CHUNK, (i + 1) * CHUNK)));
  }
  return concat(parts);
}

/** Decrypts a whole payload; a damaged or cut stream throws `corrupt` or `truncated`. */
export function openStream(key: Uint8Array, sealed: Uint8Array, path?: string): Uint8Array {
  const fail = (message: string, reason: "corrupt" | "truncated") => new EncryptedStoreError(message, { reason, path });
  if (sealed.length < TAG) throw fail("the encrypted payload ends before its first chunk", "truncated");
  const parts: Uint8Array[] = [];
  const sealedChunk = CHUNK + TAG;
  const chunks = Math.ceil(sealed.length / sealedChunk);
  for (let i = 0; i < chunks; i++) {
    const piece = sealed.subarray(i * sealedChunk, (i + 1) * sealedChunk);
    const last = i === chunks - 1;
    if (last && piece.length < TAG) throw fail(`chunk ${i} of the encrypted payload is cut short`, "truncated");
    const opened = aeadOpen(key, chunkNonce(i, last), piece);
    if (opened === null) {
      // A full chunk that fails as the last one but opens as a middle one means chunks are missing.
      if (last && piece.length === sealedChunk && aeadOpen(key, chunkNonce(i, false), piece) !== null) {
        throw fail("the encrypted payload ends without its final chunk", "truncated");
      }
      throw fail(`chunk ${i} of the encrypted payload does not authenticate (the file was modified, damaged or cut short)`, "corrupt");
    }
    if (last && i > 0 && opened.length === 0) throw fail("the encrypted payload ends with an empty chunk", "corrupt");
    parts.push(opened);
  }
  return concat(parts);
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
