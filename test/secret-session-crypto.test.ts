import { test } from "node:test";
import assert from "node:assert/strict";
import { createCipheriv, createDiffieHellman, createHash, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { hkdfSha256, hmacSha256, randomHex, sha256Hex } from "../src/contract/_crypto.ts";
import { decryptAesCbc, deriveAesKey, encryptAesCbc, generateDhKeys } from "../native/linux/_dh-aes.ts";
import { collect, fixturePath, spawnFixture } from "./support/child-process.ts";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
/** RFC 2409's second Oakley group, the Secret Service's dh-ietf1024 prime. */
const PRIME_HEX =
  "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF";

test("sha256Hex() matches FIPS 180-4's vectors and node:crypto for every length across the block boundaries", () => {
  assert.equal(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(sha256Hex("このきれいな花は桜です"), createHash("sha256").update("このきれいな花は桜です").digest("hex"));
  for (let length = 0; length < 300; length++) {
    const data = randomBytes(length);
    assert.equal(sha256Hex(data), createHash("sha256").update(data).digest("hex"), `length ${length}`);
  }
});

test("hmacSha256() and hkdfSha256() match node:crypto, long keys included", () => {
  for (const keyLength of [0, 16, 32, 64, 65, 200]) {
    const key = randomBytes(keyLength);
    const message = randomBytes(keyLength * 3 + 1);
    assert.equal(hex(hmacSha256(key, message)), createHmac("sha256", key).update(message).digest("hex"));
    const okm = Buffer.from(hkdfSync("sha256", message, Buffer.alloc(0), Buffer.alloc(0), 16));
    assert.equal(hex(hkdfSha256(message, new Uint8Array(0), 16)), okm.toString("hex"));
  }
  assert.throws(() => hkdfSha256(new Uint8Array(1), new Uint8Array(0), 33), RangeError);
});

test("randomHex() gives fresh bytes of the asked length", () => {
  const [a, b] = [randomHex(16), randomHex(16)];
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.notEqual(a, b);
});

test("randomHex() never hands out the same bytes twice across refills of its pool, and serves requests larger than the pool", () => {
  // 6-byte requests (temp names) over several 256-byte refills: any reuse of pooled bytes repeats a value.
  const names = Array.from({ length: 400 }, () => randomHex(6));
  assert.equal(new Set(names).size, names.length);
  assert.ok(!names.includes("000000000000"), "pooled bytes are wiped as they leave, and never handed out once wiped");
  const large = randomHex(1000);
  assert.match(large, /^[0-9a-f]{2000}$/);
  assert.equal(new Set([randomHex(300), randomHex(300)]).size, 2);
  // Beyond WebCrypto's 65,536 bytes per call (Bun and Deno): the tail is filled too, not left zero.
  const huge = randomBytes(100_000);
  assert.equal(huge.length, 100_000);
  assert.ok(huge.subarray(65_536).some((byte) => byte !== 0) && huge.subarray(99_000).some((byte) => byte !== 0));
});

test("AES-128-CBC decryption refuses a wrong key or a truncated ciphertext instead of returning garbage (the TypeScript cipher: a process's first 64 calls)", () => {
  const [k, iv] = [randomBytes(16), randomBytes(16)];
  const cipher = encryptAesCbc(k, iv, new TextEncoder().encode("canary-secret-value"));
  assert.throws(() => decryptAesCbc(k, iv, cipher.subarray(0, 15)), (error: Error) => error instanceof RangeError && !/canary/.test(error.message));
  let refused = 0;
  for (let i = 0; i < 20; i++) {
    try {
      decryptAesCbc(randomBytes(16), iv, cipher);
    } catch (error) {
      assert.ok(error instanceof RangeError && !/canary/.test(error.message));
      refused++;
    }
  }
  assert.ok(refused >= 15, `a wrong key was refused ${refused} times of 20 (a random key passes the padding check about 1 in 256)`);
});

test("AES-128-CBC matches FIPS 197 and node:crypto, and decrypts its own output, for every padding length", () => {
  const key = Buffer.from("000102030405060708090a0b0c0d0e0f", "hex");
  const block = Buffer.from("00112233445566778899aabbccddeeff", "hex");
  assert.equal(hex(encryptAesCbc(key, new Uint8Array(16), block)).slice(0, 32), "69c4e0d86a7b0430d8cdb78070b4c55a");
  for (let length = 0; length < 80; length++) {
    const [k, iv, plain] = [randomBytes(16), randomBytes(16), randomBytes(length * 13)];
    const cipher = createCipheriv("aes-128-cbc", k, iv);
    const expected = Buffer.concat([cipher.update(plain), cipher.final()]);
    const ours = encryptAesCbc(k, iv, plain);
    assert.equal(hex(ours), expected.toString("hex"), `length ${plain.length}`);
    assert.equal(hex(decryptAesCbc(k, iv, expected)), plain.toString("hex"));
  }
});

test("in a fresh process node:crypto's AES takes over at the 65th call, once: the same bytes both ways, the same refusal", async () => {
  // A child of its own: the switch counts a whole process's calls, and bun test runs every file in one.
  const { code, stdout, stderr } = await collect(spawnFixture(fixturePath("aes-switch", import.meta.url)));
  assert.equal(code, 0, stderr);
  const answer = JSON.parse(stdout) as { firstLoaded: number; asks: number; agree: boolean; refusal: string };
  // Two marks per iteration (after the encryption, after the decryption): call 65 is the 33rd encryption.
  assert.equal(answer.firstLoaded, 64, "calls 1-64 stay in TypeScript; the 65th takes node:crypto");
  assert.equal(answer.asks, 1, "node:crypto is taken once");
  assert.equal(answer.agree, true, "every result, from either cipher, is node:crypto's");
  assert.match(answer.refusal, /^RangeError: the encrypted secret has a wrong (padding|length)$/);
});

test("the Diffie-Hellman exchange agrees with node:crypto's over the dh-ietf1024 group, and refuses degenerate keys", () => {
  const theirs = createDiffieHellman(Buffer.from(PRIME_HEX, "hex"), Buffer.from([2]));
  theirs.generateKeys();
  const ours = generateDhKeys();
  assert.equal(ours.publicKey.length, 128);
  const shared = theirs.computeSecret(Buffer.from(ours.publicKey));
  const padded = Buffer.concat([Buffer.alloc(128 - shared.length), shared]);
  const expected = Buffer.from(hkdfSync("sha256", padded, Buffer.alloc(0), Buffer.alloc(0), 16));
  assert.equal(hex(deriveAesKey(ours, theirs.getPublicKey())), expected.toString("hex"));
  const other = generateDhKeys();
  assert.equal(hex(deriveAesKey(ours, other.publicKey)), hex(deriveAesKey(other, ours.publicKey)));
  for (const bad of [new Uint8Array([1]), new Uint8Array(0), Buffer.from(PRIME_HEX, "hex")]) {
    assert.throws(() => deriveAesKey(ours, bad), RangeError);
  }
});
