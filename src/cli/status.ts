/**
 * `authkeep status`: where this home's credentials are (the file, the
 * keyring, both or neither), whose they are, and when they expire. Secrets
 * are only ever shown redacted.
 *
 * @module
 */
import type { AuthCredentialsStoreMode, AuthDotJson } from "../document/auth-types.ts";
import { parseIdToken } from "../document/id-token.ts";
import type { CommonOptions } from "./_args.ts";
import { EXIT, type ExitCode } from "./_exit.ts";
import { type Output, showSecret } from "./_output.ts";
import type { CredentialsSummary, StatusReport, StoreReport } from "./_status-report.ts";
import { printReport } from "./_status-text.ts";
import { type CopyState, openStores, readFileCopy, readKeyringCopy, sameCredentials, type Stores } from "./_stores.ts";
import { diagnoseKeyringError, environmentFacts } from "./_diagnose.ts";

/** The help text of `authkeep status`. */
export const STATUS_HELP = `Usage: authkeep status [--home DIR] [--mode MODE] [--json] [--timeout MS] [--debug]

Shows where the credentials for this home are (auth.json, the OS keyring,
both, or neither), which copy the mode would use, and what they hold:
account, email, plan, access-token expiry and last refresh. Tokens and keys
are shown only redacted (first 4 characters and "…"). Warns when the file
and the keyring hold different credentials.

Exit status: 0 logged in; 3 no credentials for this mode; 4 the store the
mode reads cannot be reached; 1 the credentials cannot be read.`;

/** Summarizes credentials with every secret redacted. */
export function summarize(auth: AuthDotJson, now: number = Date.now()): CredentialsSummary {
  const notes: string[] = [];
  const tokens = auth.tokens;
  let claims: ReturnType<typeof parseIdToken> | undefined;
  if (tokens) {
    try {
      claims = parseIdToken(tokens.id_token);
    } catch (error) {
      notes.push(`id_token: ${(error as Error).message}`);
    }
  }
  let expires: Date | undefined;
  if (tokens) {
    try {
      expires = parseIdToken(tokens.access_token).exp;
    } catch {
      notes.push("access_token is not a JWT; its expiry is unknown");
    }
  }
  return {
    authMode: typeof auth.auth_mode === "string" ? auth.auth_mode : tokens ? "chatgpt" : auth.OPENAI_API_KEY ? "apikey" : null,
    apiKey: showSecret(auth.OPENAI_API_KEY),
    accountId: tokens?.account_id ?? claims?.chatgptAccountId ?? null,
    email: claims?.email ?? null,
    plan: claims?.chatgptPlanType ?? null,
    chatgptUserId: claims?.chatgptUserId ?? null,
    idToken: showSecret(tokens?.id_token),
    accessToken: showSecret(tokens?.access_token),
    accessTokenExpiresAt: expires ? expires.toISOString() : null,
    accessTokenExpired: expires ? expires.getTime() <= now : null,
    refreshToken: showSecret(tokens?.refresh_token),
    lastRefresh: typeof auth.last_refresh === "string" ? auth.last_refresh : null,
    notes,
  };
}

/** Which copy `mode` would load, following the library's rules (auto: keyring first, the file when strictly newer). */
export function activeCopy(mode: AuthCredentialsStoreMode, file: CopyState, keyring: CopyState): "file" | "keyring" | null {
  if (mode === "ephemeral") return null;
  if (mode === "file") return file.state === "present" ? "file" : null;
  if (mode === "keyring") return keyring.state === "present" ? "keyring" : null;
  if (keyring.state === "present") {
    if (file.state === "present" && isStrictlyNewer(file.auth, keyring.auth)) return "file";
    return "keyring";
  }
  return file.state === "present" ? "file" : null;
}

function isStrictlyNewer(candidate: AuthDotJson, reference: AuthDotJson): boolean {
  if (candidate.last_refresh === undefined) return false;
  if (reference.last_refresh === undefined) return true;
  return Date.parse(candidate.last_refresh) > Date.parse(reference.last_refresh);
}

/** Runs `authkeep status`. */
export async function runStatus(common: CommonOptions, out: Output, stores: Stores = openStores(common.home, common.timeoutMs, undefined, common.keyringBackend)): Promise<ExitCode> {
  const stop = out.progress("reading the credentials");
  const [file, keyring] = await Promise.all([readFileCopy(stores), readKeyringCopy(stores)]);
  stop();
  const report = buildReport(common, stores, file, keyring);
  const code = exitCodeFor(common.mode, file, keyring, report.active);
  if (out.json) out.document(report);
  else printReport(out, report, common);
  for (const warning of report.warnings) out.warning(warning);
  return code;
}

function buildReport(common: CommonOptions, stores: Stores, file: CopyState, keyring: CopyState): StatusReport {
  const warnings: string[] = [];
  const present = (c: CopyState) => c.state === "present";
  const keyringUnknown = keyring.state !== "present" && keyring.state !== "absent";
  const location = present(file) && present(keyring)
    ? "both"
    : present(file)
    ? "file"
    : present(keyring)
    ? "keyring"
    : keyringUnknown || file.state !== "absent"
    ? "unknown"
    : "neither";
  const diverged = file.state === "present" && keyring.state === "present" && !sameCredentials(file.auth, keyring.auth);
  const active = activeCopy(common.mode, file, keyring);
  if (diverged) {
    const newer = newerOf(file, keyring);
    warnings.push(
      `auth.json and the keyring hold different credentials${newer ? ` (the ${newer} copy was refreshed more recently)` : ""}; ` +
        `mode ${common.mode} uses ${active === null ? "neither" : `the ${active} copy`}. ` +
        `To keep one: \`authkeep migrate --to keyring --force\` keeps the file's credentials (in the keyring), ` +
        `\`authkeep migrate --to file --force\` keeps the keyring's (in auth.json).`,
    );
  } else if (location === "both") {
    warnings.push("the same credentials are stored twice (auth.json and the keyring); `authkeep migrate --to keyring` keeps only the keyring copy");
  }
  if (common.mode === "file" && location === "keyring") {
    warnings.push("the credentials are in the keyring, but mode file reads only auth.json; use --mode keyring or auto, or `authkeep migrate --to file`");
  }
  if (common.mode === "keyring" && location === "file") {
    warnings.push("the credentials are in auth.json, but mode keyring ignores the file; run `authkeep migrate --to keyring`");
  }
  if (common.mode === "ephemeral") {
    warnings.push("ephemeral credentials live only in the memory of the process that saved them; this command cannot see them");
  }
  const activeState = active === "file" ? file : active === "keyring" ? keyring : undefined;
  const credentials = activeState?.state === "present" ? summarize(activeState.auth) : null;
  if (credentials?.accessTokenExpired) warnings.push("the access token has expired; it is refreshed on next use (AuthManager)");
  return {
    command: "status",
    home: common.home,
    mode: common.mode,
    modeSource: common.modeSource,
    location,
    stores: {
      file: { path: stores.filePath, ...storeReport(file) },
      keyring: {
        service: stores.service,
        account: stores.account,
        backend: stores.keyring.backend ?? "unknown",
        keyringBackend: stores.keyringBackend,
        ...(stores.keyringBackend === "secrets" ? { encryptedFile: stores.secretsPath } : {}),
        ...storeReport(keyring, stores.timeoutMs),
      },
    },
    diverged,
    active,
    credentials,
    warnings,
  };
}

function storeReport(copy: CopyState, keyringTimeoutMs?: number): StoreReport {
  if (copy.state === "present") return { state: copy.state, credentials: summarize(copy.auth) };
  if (copy.state === "absent") return { state: copy.state };
  if (keyringTimeoutMs !== undefined && copy.state !== "unreadable") {
    const problem = diagnoseKeyringError(copy.error, environmentFacts(), keyringTimeoutMs);
    return { state: copy.state, error: copy.error, problem: { id: problem.id, summary: problem.summary } };
  }
  return { state: copy.state, error: copy.error };
}

function newerOf(file: CopyState, keyring: CopyState): "file" | "keyring" | undefined {
  if (file.state !== "present" || keyring.state !== "present") return undefined;
  if (isStrictlyNewer(file.auth, keyring.auth)) return "file";
  if (isStrictlyNewer(keyring.auth, file.auth)) return "keyring";
  return undefined;
}

/** The exit status mirrors what `createAuthStorage({ mode }).load()` would give. */
function exitCodeFor(mode: AuthCredentialsStoreMode, file: CopyState, keyring: CopyState, active: "file" | "keyring" | null): ExitCode {
  if (active !== null) return EXIT.ok;
  if (mode === "ephemeral") return EXIT.nothingStored;
  const primary = mode === "keyring" ? keyring : file;
  if (mode === "auto" && keyring.state !== "present" && keyring.state !== "absent") {
    // auto falls back to the file when the keyring fails.
    return file.state === "absent" ? EXIT.nothingStored : file.state === "present" ? EXIT.ok : EXIT.failure;
  }
  switch (primary.state) {
    case "absent":
      return EXIT.nothingStored;
    case "unavailable":
    case "locked":
      return EXIT.unavailable;
    default:
      return EXIT.failure;
  }
}
