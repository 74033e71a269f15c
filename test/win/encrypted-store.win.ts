/**
 * Windows-side half of test/wine-codex-secrets.test.ts, run by the official
 * Windows node.exe under Wine: authkeep with the Windows default selection
 * and no options (`createAuthStorage({ home, mode: "keyring" })`), which must
 * be Codex's encrypted store with its passphrase in Credential Manager.
 *
 * Usage: node.exe encrypted-store.win.js <results.json> <home> <op>[:<api key>] ...
 *   ops: load, save:<key>, delete; forget (drops the cached file keys, so the next load is cold);
 *   seal:<logN>:<key> (writes a store at that work factor with our own age code, the passphrase
 *   in Credential Manager, to measure a given logN); run in order in this one process.
 *
 * Results: `{ steps: [{ op, key?, deleted?, ms, error? }], backend, maxRssMiB, done }`.
 * API keys are test canaries; nothing else secret is written.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import process from "node:process";
import { createAuthStorage, defaultKeyringStore } from "../../src/index.ts";
import { defaultKeyringBackend } from "../../src/storage/create-auth-storage.ts";
import { runSync } from "../../src/contract/engine.ts";
import { encryptAgeFlow, forgetAgeKeys } from "../../src/storage/secrets/age.ts";
import { SECRETS_KEYRING_SERVICE, secretsFilePath, secretsKeyringAccount } from "../../src/storage/secrets/secrets-storage.ts";

function seal(logN: number, key: string): void {
  const keyring = defaultKeyringStore();
  const account = secretsKeyringAccount(home);
  let passphrase = keyring.loadSync(SECRETS_KEYRING_SERVICE, account);
  if (passphrase === null) {
    passphrase = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    keyring.saveSync(SECRETS_KEYRING_SERVICE, account, passphrase);
  }
  const document = JSON.stringify({ version: 1, secrets: { "global/CODEX_AUTH": JSON.stringify({ OPENAI_API_KEY: key }) } });
  mkdirSync(dirname(secretsFilePath(home)), { recursive: true });
  writeFileSync(secretsFilePath(home), runSync(encryptAgeFlow(new TextEncoder().encode(document), passphrase, logN)));
}

const [, , resultsPath = "", home = "", ...ops] = process.argv;
const storage = createAuthStorage({ home, mode: "keyring" });
const steps: Record<string, unknown>[] = [];
for (const op of ops) {
  const colon = op.indexOf(":");
  const [name, value] = colon < 0 ? [op, undefined] : [op.slice(0, colon), op.slice(colon + 1)];
  const step: Record<string, unknown> = { op: name };
  const started = performance.now();
  try {
    if (name === "load") step.key = storage.loadSync()?.OPENAI_API_KEY ?? null;
    else if (name === "save") storage.saveSync({ OPENAI_API_KEY: value ?? null });
    else if (name === "delete") step.deleted = storage.deleteSync();
    else if (name === "forget") forgetAgeKeys();
    else if (name === "seal") {
      const [logN, key] = (value ?? "").split(":");
      seal(Number(logN), key ?? "");
    }
    else throw new Error(`unknown op ${name}`);
  } catch (error) {
    step.error = `${(error as Error).name}: ${(error as Error).message}`;
  }
  step.ms = performance.now() - started;
  steps.push(step);
}
writeFileSync(resultsPath, JSON.stringify({ steps, backend: defaultKeyringBackend(), maxRssMiB: process.resourceUsage().maxRSS / 1024, done: true }));
