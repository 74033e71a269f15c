/**
 * What the CLI says about Codex's encrypted auth store
 * (`<home>/secrets/codex_auth.age`): whether it holds the CLI auth and, when
 * it cannot be opened, why and what to do, by {@linkcode EncryptedStoreError}
 * reason.
 *
 * @module
 */
import { nodeFs } from "../contract/_node-builtins.ts";
import type { KeyringBackend } from "../storage/create-auth-storage.ts";
import { type ErrorInfo, readKeyringCopy, type Stores, withKeyringBackend } from "./_stores.ts";

/** The encrypted store as doctor reports it. */
export interface EncryptedStoreReport {
  path: string;
  /** Whether `keyring` and `auto` modes use it here (`[features] secret_auth_storage`, else the platform default). */
  selected: boolean;
  keyringBackend: KeyringBackend;
  passphrase: { service: string; account: string };
  state: "absent" | "present" | "unreadable" | "unavailable" | "locked" | "error";
  error?: ErrorInfo;
  /** For a store that cannot be opened: what is wrong and the fix. */
  problem?: { summary: string; fix: string };
}

/** The problem and the fix for an error from the encrypted store. */
export function explainEncryptedStore(error: ErrorInfo, path: string, passphrase: string): { summary: string; fix: string } {
  const relogin = "log in again (authkeep or `codex login`), which writes a new store; other secrets in the old file cannot be recovered";
  switch (error.reason) {
    case "missing-passphrase":
      return {
        summary: `the keyring has no passphrase item (${passphrase}) for ${path}, so it cannot be decrypted`,
        fix: `the item was deleted or this keyring is not the one the store was written with (another user, machine or login keyring); restore that keyring, or move ${path} aside and ${relogin}`,
      };
    case "wrong-passphrase":
      return {
        summary: `the passphrase item (${passphrase}) does not open ${path}`,
        fix: `the item was replaced after the store was written, or the file's header was damaged; move ${path} aside and ${relogin}`,
      };
    case "newer-version":
      return {
        summary: `${path} was written by a newer Codex (a secrets document version this authkeep does not know)`,
        fix: "upgrade authkeep; the file is left untouched, and saves refuse to overwrite it",
      };
    case "work-factor":
      return {
        summary: `${path} asks for an scrypt work factor beyond what authkeep accepts`,
        fix: `it was not written by Codex on an ordinary machine; move ${path} aside and ${relogin}`,
      };
    case "too-large":
    case "corrupt":
    case "truncated":
    case "unsupported":
      return { summary: `${path} is damaged or not Codex's encrypted store (${error.reason})`, fix: `move ${path} aside and ${relogin}` };
    default:
      return { summary: `${path} could not be read: ${error.message}`, fix: "run `authkeep status --json` for the full error" };
  }
}

/** Checks the store when it is selected or exists; `null` when neither (nothing to say). */
export async function checkEncryptedStore(stores: Stores, selected: KeyringBackend): Promise<EncryptedStoreReport | null> {
  const encrypted = withKeyringBackend(stores, "secrets");
  const exists = nodeFs().existsSync(encrypted.secretsPath);
  if (!exists && selected !== "secrets") return null;
  const report: EncryptedStoreReport = {
    path: encrypted.secretsPath,
    selected: selected === "secrets",
    keyringBackend: selected,
    passphrase: { service: encrypted.service, account: encrypted.account },
    state: "absent",
  };
  if (!exists) return report;
  const copy = await readKeyringCopy(encrypted);
  report.state = copy.state;
  if (copy.state !== "present" && copy.state !== "absent") {
    report.error = copy.error;
    report.problem = explainEncryptedStore(copy.error, encrypted.secretsPath, `"${encrypted.service}" / ${encrypted.account}`);
  }
  return report;
}
