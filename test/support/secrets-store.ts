/**
 * Helpers for tests of the encrypted auth store: seed a store (file and
 * passphrase) at a low scrypt work factor, so saves keep that factor and stay
 * fast, and read a store's decrypted document back. Every value is fake.
 *
 * @module
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { KeyringStore } from "../../src/index.ts";
import { runSync } from "../../src/contract/engine.ts";
import { decryptAgeFlow, encryptAgeFlow, forgetAgeKeys } from "../../src/storage/secrets/age.ts";
import { SECRETS_KEYRING_SERVICE, secretsFilePath, secretsKeyringAccount } from "../../src/storage/secrets/secrets-storage.ts";

/** A passphrase in Codex's shape (base64 of 32 bytes) that is easy to spot in a leak. */
export const CANARY_PASSPHRASE = "Q0FOQVJZLXBhc3NwaHJhc2UtMDEyMzQ1Njc4OWFiY2Q=";

/** Writes `<home>/secrets/codex_auth.age` holding `plaintext` and stores its passphrase. */
export function seedSecretsStore(
  home: string,
  keyring: KeyringStore | null,
  plaintext: string,
  options: { logN?: number; passphrase?: string } = {},
): string {
  const passphrase = options.passphrase ?? CANARY_PASSPHRASE;
  const path = secretsFilePath(home);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, runSync(encryptAgeFlow(new TextEncoder().encode(plaintext), passphrase, options.logN ?? 10)), { mode: 0o600 });
  keyring?.saveSync(SECRETS_KEYRING_SERVICE, secretsKeyringAccount(home), passphrase);
  return path;
}

/** The decrypted text of a home's store (cold: the key cache is emptied first). */
export function readSecretsStore(home: string, passphrase = CANARY_PASSPHRASE): string {
  forgetAgeKeys();
  return new TextDecoder().decode(runSync(decryptAgeFlow(readFileSync(secretsFilePath(home)), passphrase)));
}

/** The work factor in a home's store header. */
export function storeWorkFactor(home: string): number {
  const line = readFileSync(secretsFilePath(home), "latin1").split("\n")[1]!;
  return Number(line.split(" ")[3]);
}
