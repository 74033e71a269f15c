/**
 * The shape of `authkeep status --json`: what `status.ts` builds and
 * `_status-text.ts` prints (a module of its own, so neither imports the other).
 *
 * @module
 */
import type { AuthCredentialsStoreMode } from "../document/auth-types.ts";
import type { CommonOptions } from "./_args.ts";
import type { KeyringProblemId } from "./_diagnose.ts";
import type { CopyState, ErrorInfo } from "./_stores.ts";

/** What `status` reports about one set of credentials. Secrets are redacted. */
export interface CredentialsSummary {
  authMode: string | null;
  apiKey: string | null;
  accountId: string | null;
  email: string | null;
  plan: string | null;
  chatgptUserId: string | null;
  idToken: string | null;
  accessToken: string | null;
  accessTokenExpiresAt: string | null;
  accessTokenExpired: boolean | null;
  refreshToken: string | null;
  lastRefresh: string | null;
  /** Problems reading the JWT claims (never the token itself). */
  notes: string[];
}

/** A store in `status --json`. */
export type StoreReport = {
  state: CopyState["state"];
  error?: ErrorInfo;
  /** For a keyring that cannot be reached: the diagnosed problem (`authkeep doctor` shows the fix). */
  problem?: { id: KeyringProblemId; summary: string };
  credentials?: CredentialsSummary;
};

/** The JSON document `status --json` prints. */
export interface StatusReport {
  command: "status";
  home: string;
  mode: AuthCredentialsStoreMode;
  modeSource: CommonOptions["modeSource"];
  location: "file" | "keyring" | "both" | "neither" | "unknown";
  stores: {
    file: StoreReport & { path: string };
    /** The keyring copy: the direct item, or (keyringBackend "secrets") the CLI auth in Codex's encrypted file, whose passphrase is the item. */
    keyring: StoreReport & { service: string; account: string; backend: string; keyringBackend: "direct" | "secrets"; encryptedFile?: string };
  };
  diverged: boolean;
  active: "file" | "keyring" | null;
  credentials: CredentialsSummary | null;
  warnings: string[];
}
