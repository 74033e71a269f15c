/**
 * age v1 with one scrypt (passphrase) recipient, written on the runtime's own
 * `node:crypto`: scrypt, HKDF-SHA256, HMAC-SHA256 and ChaCha20-Poly1305.
 * This is the format of Codex's encrypted auth store.
 *
 * Cost: scrypt with r = 8 needs 128 · 8 · 2^logN bytes (512 MiB at logN 19,
 * 1 GiB at 20), so each derivation is done once per file header and the
 * unwrapped file key is kept in this process's memory (never on disk):
 * loading the same file again costs no scrypt. Writing draws a fresh file key
 * and salt, as age requires, so a save pays one derivation.
 *
 * @module
 */
import { nodeCrypto, sha256Hex } from "../../contract/_crypto.ts";
import { EncryptedStoreError } from "../../contract/encrypted-store-error.ts";
import { type Flow, io, type Step } from "../../contract/engine.ts";
import { type AgeScryptHeader, parseAgeScryptHeader, scryptHeaderMacInput, encodeBase64 } from "./_age-format.ts";
import { aeadOpen, aeadSeal, openStream, sealStream } from "./_age-stream.ts";

/** The largest scrypt work factor read (4 GiB of memory); Codex's calibration gives 18–20. */
export const MAX_SCRYPT_LOG_N = 22;
const SCRYPT_LABEL = "age-encryption.org/v1/scrypt";
const ZERO_NONCE = new Uint8Array(12);
const encoder = new TextEncoder();

/** The file keys of headers this process has opened, by hash of (passphrase, header). */
const fileKeys = new Map<string, Uint8Array>();
const MAX_CACHED_KEYS = 16;

function cacheId(passphrase: string, macInput: Uint8Array | string): string {
  const header = typeof macInput === "string" ? encoder.encode(macInput) : macInput;
  const bytes = new Uint8Array(passphrase.length * 3 + 1 + header.length);
  const { written } = encoder.encodeInto(passphrase, bytes);
  bytes[written] = 0;
  bytes.set(header, written + 1);
  return sha256Hex(bytes.subarray(0, written + 1 + header.length));
}

function remember(id: string, fileKey: Uint8Array): void {
  fileKeys.delete(id);
  fileKeys.set(id, fileKey);
  if (fileKeys.size > MAX_CACHED_KEYS) fileKeys.delete(fileKeys.keys().next().value!);
}

/** Forgets every cached file key (tests and benchmarks measure cold loads with it). */
export function forgetAgeKeys(): void {
  for (const key of fileKeys.values()) key.fill(0);
  fileKeys.clear();
}

/** scrypt(N = 2^logN, r = 8, p = 1) with its memory limit raised to what it needs. */
export function scryptStep(passphrase: string, salt: Uint8Array, logN: number): Step<Uint8Array> {
  const fullSalt = new Uint8Array(SCRYPT_LABEL.length + salt.length);
  fullSalt.set(encoder.encode(SCRYPT_LABEL), 0);
  fullSalt.set(salt, SCRYPT_LABEL.length);
  const N = 2 ** logN;
  // OpenSSL needs 128·r·(N + 2) for V plus 128·r·p for B; the default cap is 32 MiB.
  const options = { N, r: 8, p: 1, maxmem: 128 * 8 * (N + 2) + 128 * 8 + 1024 * 1024 };
  const failed = (error: unknown) =>
    new EncryptedStoreError(`scrypt at work factor ${logN} failed (${(error as Error).message}); it needs ${2 ** (logN - 13)} MiB of memory`, {
      reason: "work-factor",
      cause: error,
    });
  return {
    sync: () => {
      try {
        return nodeCrypto().scryptSync(passphrase, fullSalt, 32, options);
      } catch (error) {
        throw failed(error);
      }
    },
    async: () =>
      new Promise((resolve, reject) => {
        nodeCrypto().scrypt(passphrase, fullSalt, 32, options, (error, key) => (error ? reject(failed(error)) : resolve(key)));
      }),
  };
}

function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string): Uint8Array {
  return new Uint8Array(nodeCrypto().hkdfSync("sha256", ikm, salt, info, 32));
}

function headerMac(fileKey: Uint8Array, macInput: Uint8Array | string): Uint8Array {
  return nodeCrypto().createHmac("sha256", hkdf(fileKey, new Uint8Array(0), "header")).update(macInput).digest();
}

/** The scrypt work factor of an age file, without decrypting it. */
export function ageWorkFactor(file: Uint8Array): number {
  return parseAgeScryptHeader(file).logN;
}

/**
 * Decrypts an age file sealed with `passphrase`. Pays one scrypt derivation
 * the first time this process sees the file's header, none after.
 *
 * @throws {EncryptedStoreError} `work-factor` above {@linkcode MAX_SCRYPT_LOG_N}
 *   (before any memory is taken), `wrong-passphrase`, `corrupt`, `truncated`,
 *   `unsupported`.
 */
export function* decryptAgeFlow(file: Uint8Array, passphrase: string, path?: string): Flow<Uint8Array> {
  let header: AgeScryptHeader;
  try {
    header = parseAgeScryptHeader(file);
  } catch (error) {
    throw withPath(error, path);
  }
  if (header.logN > MAX_SCRYPT_LOG_N) {
    throw new EncryptedStoreError(
      `the file's scrypt work factor ${header.logN} is above the accepted maximum ${MAX_SCRYPT_LOG_N} (it would need ${2 ** (header.logN - 13)} MiB)`,
      { reason: "work-factor", path },
    );
  }
  const id = cacheId(passphrase, header.macInput);
  let fileKey = fileKeys.get(id);
  if (fileKey === undefined) {
    let wrapKey: Uint8Array;
    try {
      wrapKey = yield* io(scryptStep(passphrase, header.salt, header.logN));
    } catch (error) {
      throw withPath(error, path);
    }
    const unwrapped = aeadOpen(wrapKey, ZERO_NONCE, header.wrappedKey);
    wrapKey.fill(0);
    if (unwrapped === null || unwrapped.length !== 16) {
      throw new EncryptedStoreError("the passphrase in the keyring does not open the encrypted auth store (a different passphrase, or a damaged header)", {
        reason: "wrong-passphrase",
        path,
      });
    }
    fileKey = unwrapped;
  }
  if (!nodeCrypto().timingSafeEqual(headerMac(fileKey, header.macInput), header.mac)) {
    throw new EncryptedStoreError("the age header's MAC does not match (the header was modified or damaged)", { reason: "corrupt", path });
  }
  const payload = file.subarray(header.payloadOffset);
  if (payload.length < 16) throw new EncryptedStoreError("the file ends before its payload nonce", { reason: "truncated", path });
  const nonce = payload.subarray(0, 16);
  const plaintext = openStream(hkdf(fileKey, nonce, "payload"), payload.subarray(16), path);
  remember(id, fileKey);
  return plaintext;
}

/**
 * Encrypts `plaintext` to `passphrase` with a fresh file key and salt at work
 * factor `logN`, and remembers the file key so loading the result is free.
 */
export function* encryptAgeFlow(plaintext: Uint8Array, passphrase: string, logN: number): Flow<Uint8Array> {
  const random = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n));
  const fileKey = random(16);
  const salt = random(16);
  const wrapKey = yield* io(scryptStep(passphrase, salt, logN));
  const wrappedKey = aeadSeal(wrapKey, ZERO_NONCE, fileKey);
  wrapKey.fill(0);
  const macInput = scryptHeaderMacInput(salt, logN, wrappedKey);
  const headerText = `${macInput} ${encodeBase64(headerMac(fileKey, macInput))}\n`;
  const nonce = random(16);
  const body = sealStream(hkdf(fileKey, nonce, "payload"), plaintext);
  const header = encoder.encode(headerText);
  const out = new Uint8Array(header.length + 16 + body.length);
  out.set(header, 0);
  out.set(nonce, header.length);
  out.set(body, header.length + 16);
  remember(cacheId(passphrase, macInput), fileKey);
  return out;
}

/**
 * The work factor age (and so Codex) picks on this machine: time logN 10, then
 * double until the estimate reaches one second; capped at
 * {@linkcode MAX_SCRYPT_LOG_N}. Measured once per process.
 */
export function calibratedWorkFactor(): number {
  if (calibrated !== undefined) return calibrated;
  const start = performance.now();
  scryptStep("", new Uint8Array(16), 10).sync();
  let duration = performance.now() - start;
  let logN = 10;
  while (duration < 1000 && logN < MAX_SCRYPT_LOG_N) {
    logN += 1;
    duration *= 2;
  }
  calibrated = logN;
  return logN;
}
let calibrated: number | undefined;

function withPath(error: unknown, path: string | undefined): unknown {
  if (!(error instanceof EncryptedStoreError) || path === undefined || error.path !== undefined) return error;
  return new EncryptedStoreError(error.message, { reason: error.reason, path, cause: error.cause });
}
