// age v1 (scrypt recipient) on the runtime's built-ins: round trips, every kind of damage → a typed
// EncryptedStoreError, the work-factor cap checked before scrypt runs, and the plain-TypeScript
// ChaCha20-Poly1305 (Bun's fallback) checked against OpenSSL's where the runtime has it.
// Work factor 10 keeps these fast; files from the real Codex (logN 18–20) are in codex-secrets.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createCipheriv, getCiphers, randomBytes } from "node:crypto";
import { EncryptedStoreError, type EncryptedStoreErrorReason } from "../src/index.ts";
import { runAsync, runSync } from "../src/contract/engine.ts";
import { ageWorkFactor, decryptAgeFlow, encryptAgeFlow, forgetAgeKeys, MAX_SCRYPT_LOG_N } from "../src/storage/secrets/age.ts";
import { chachaPolyOpen, chachaPolySeal } from "../src/storage/secrets/_chacha20-poly1305.ts";
import { encodeBase64, scryptHeaderMacInput } from "../src/storage/secrets/_age-format.ts";

const PASS = "CANARY-age-passphrase-0123456789abcdef";
const SECRET = "CANARY-age-plaintext-secret";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function seal(plaintext: Uint8Array, logN = 10, passphrase = PASS): Uint8Array {
  return runSync(encryptAgeFlow(plaintext, passphrase, logN));
}

function open(file: Uint8Array, passphrase = PASS): Uint8Array {
  forgetAgeKeys();
  return runSync(decryptAgeFlow(file, passphrase));
}

function assertReason(fn: () => unknown, reason: EncryptedStoreErrorReason | EncryptedStoreErrorReason[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof EncryptedStoreError, `expected EncryptedStoreError, got ${String(error)}`);
    assert.ok(([] as EncryptedStoreErrorReason[]).concat(reason).includes(error.reason), `${error.reason}: ${error.message}`);
    assert.ok(!error.message.includes(PASS) && !error.message.includes(SECRET), "no secret in the message");
    return true;
  });
}

/** Chunk boundary sizes: empty, one byte, exactly one chunk, one over, two and a bit. */
const SIZES = [0, 1, 65536, 65537, 2 * 65536 + 100];

test("age: encrypt then decrypt gives back the plaintext at every chunk boundary (sync and async)", async () => {
  for (const size of SIZES) {
    const plaintext = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
    const file = seal(plaintext);
    assert.deepEqual(Buffer.from(open(file)), Buffer.from(plaintext), `sync, ${size} bytes`);
    forgetAgeKeys();
    assert.deepEqual(Buffer.from(await runAsync(decryptAgeFlow(file, PASS))), Buffer.from(plaintext), `async, ${size} bytes`);
  }
});

test("age: the header is the age v1 text form with one scrypt stanza at the requested work factor", () => {
  const file = seal(encoder.encode(SECRET), 11);
  const text = decoder.decode(file.subarray(0, 200));
  const lines = text.split("\n");
  assert.equal(lines[0], "age-encryption.org/v1");
  assert.match(lines[1]!, /^-> scrypt [A-Za-z0-9+/]{22} 11$/);
  assert.match(lines[2]!, /^[A-Za-z0-9+/]{43}$/);
  assert.match(lines[3]!, /^--- [A-Za-z0-9+/]{43}$/);
  assert.equal(ageWorkFactor(file), 11);
  assert.ok(!decoder.decode(file).includes(SECRET), "the plaintext is not in the file");
});

test("age: a wrong passphrase is wrong-passphrase, not corrupt", () => {
  assertReason(() => open(seal(encoder.encode(SECRET)), "CANARY-other-passphrase"), "wrong-passphrase");
});

test("age: a cached file key still needs the right passphrase", () => {
  const file = seal(encoder.encode(SECRET));
  runSync(decryptAgeFlow(file, PASS)); // cached now
  assert.throws(() => runSync(decryptAgeFlow(file, "CANARY-other-passphrase")), (error: unknown) => error instanceof EncryptedStoreError && error.reason === "wrong-passphrase");
});

test("age: damage anywhere gives a typed error naming it", () => {
  const file = seal(encoder.encode(SECRET.repeat(10)));
  const headerEnd = decoder.decode(file).indexOf("\n---") + 1;
  const macAt = headerEnd + 4;
  const flip = (at: number) => {
    const copy = file.slice();
    copy[at]! ^= 0x01;
    return copy;
  };
  assertReason(() => open(flip(macAt + 2)), "corrupt"); // the MAC
  assertReason(() => open(flip(file.length - 5)), "corrupt"); // the last chunk's tag
  assertReason(() => open(flip(file.length - 30)), "corrupt"); // the ciphertext
  // The wrapped key: a flipped bit that leaves valid base64 cannot be told from a wrong passphrase;
  // one that makes an invalid base64 character (it depends on the random key) is corrupt.
  assertReason(() => open(flip(headerEnd - 10)), ["wrong-passphrase", "corrupt"]);
  const salt = decoder.decode(file).split("\n")[1]!.split(" ")[2]!;
  const otherSalt = encodeBase64(randomBytes(16));
  assertReason(() => open(encoder.encode(decoder.decode(file).replace(salt, otherSalt))), "wrong-passphrase");
  assertReason(() => open(encoder.encode("not an age file at all\n")), "corrupt");
  assertReason(() => open(encoder.encode("age-encryption.org/v2\n-> x\n--- abc\n")), "unsupported");
});

test("age: truncation at any point is truncated or corrupt, never a partial plaintext", () => {
  const file = seal(new Uint8Array(65536 + 10).fill(0x41));
  const headerEnd = decoder.decode(file.subarray(0, 300)).indexOf("\n---");
  for (const cut of [0, 5, 22, 40, headerEnd, headerEnd + 20, headerEnd + 60, file.length - 20, file.length - 1, 65536 + 16 + headerEnd + 65]) {
    assert.throws(() => open(file.subarray(0, cut)), (error: unknown) => {
      assert.ok(error instanceof EncryptedStoreError, `cut at ${cut}: ${String(error)}`);
      assert.ok(error.reason === "truncated" || error.reason === "corrupt", `cut at ${cut}: ${error.reason}`);
      return true;
    });
  }
  // Cutting exactly after a full first chunk leaves a stream with no final chunk.
  const payloadStart = decoder.decode(file.subarray(0, 300)).indexOf("\n", headerEnd + 1) + 1 + 16;
  assertReason(() => open(file.subarray(0, payloadStart + 65536 + 16)), "truncated");
  // Appending a chunk after the final one does not authenticate.
  assertReason(() => open(new Uint8Array([...file, ...new Uint8Array(40)])), "corrupt");
});

test("age: a work factor above the cap is refused before scrypt runs", () => {
  const wrapped = new Uint8Array(32);
  const salt = new Uint8Array(16);
  for (const logN of [MAX_SCRYPT_LOG_N + 1, 40]) {
    const header = `${scryptHeaderMacInput(salt, logN, wrapped)} ${encodeBase64(new Uint8Array(32))}\n`;
    const started = performance.now();
    assertReason(() => open(encoder.encode(header + "x".repeat(40))), "work-factor");
    // Hang guard only: refusing must not have started a 2^23+ derivation (tens of seconds, gigabytes).
    assert.ok(performance.now() - started < 5000);
  }
});

test("age: a second recipient stanza or non-canonical base64 is refused", () => {
  const file = decoder.decode(seal(encoder.encode(SECRET)).subarray(0, 200));
  const [version, stanza, body] = file.split("\n");
  const rest = `--- ${encodeBase64(new Uint8Array(32))}\n`;
  assertReason(() => open(encoder.encode(`${version}\n${stanza}\n${body}\n-> X25519 abc\nzz\n${rest}`)), "unsupported");
  assertReason(() => open(encoder.encode(`${version}\n${stanza}\n${body}=\n${rest}`)), "corrupt");
  assertReason(() => open(encoder.encode(`${version}\n${stanza!.replace(/ (\d+)$/, " 010")}\n${body}\n${rest}`)), "corrupt");
});

test("ChaCha20-Poly1305 in TypeScript: agrees with OpenSSL's at every length, and rejects a bad tag", (t) => {
  if (!getCiphers().includes("chacha20-poly1305")) {
    t.skip("this runtime has no native ChaCha20-Poly1305 to compare with (Bun); the known-answer test below still runs");
    return;
  }
  for (const length of [0, 1, 15, 16, 17, 63, 64, 65, 1000, 65536]) {
    const key = randomBytes(32);
    const nonce = randomBytes(12);
    const plaintext = randomBytes(length);
    const cipher = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
    const native = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    assert.deepEqual(Buffer.from(chachaPolySeal(key, nonce, plaintext)), native, `length ${length}`);
    assert.deepEqual(Buffer.from(chachaPolyOpen(key, nonce, native)!), plaintext);
    native[native.length - 1]! ^= 1;
    assert.equal(chachaPolyOpen(key, nonce, native), null);
  }
});

test("ChaCha20-Poly1305 in TypeScript: the RFC 8439 §2.8.2 inputs without AAD (the ciphertext is the RFC's, the tag OpenSSL's)", () => {
  const key = Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i);
  const nonce = Uint8Array.from([7, 0, 0, 0, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47]);
  const plaintext = encoder.encode("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
  const sealed = Buffer.from(chachaPolySeal(key, nonce, plaintext)).toString("hex");
  assert.equal(sealed, KNOWN_ANSWER);
  assert.deepEqual(Buffer.from(chachaPolyOpen(key, nonce, Buffer.from(KNOWN_ANSWER, "hex"))!), Buffer.from(plaintext));
});

const KNOWN_ANSWER =
  "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b61166a23a4681fd59456aea1d29f82477216";
