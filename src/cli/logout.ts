/**
 * `authkeep logout`: deletes this home's credentials from every store (the
 * file, the keyring, and the unreadable copies kept aside as
 * `auth.json.corrupt-*`) and reports what was removed. Ephemeral credentials
 * live only in the process that saved them, so there is nothing to remove
 * from here.
 *
 * @module
 */
import { nodeFs } from "../contract/_node-builtins.ts";
import { join } from "node:path";
import { LockTimeoutError } from "../contract/lock-timeout-error.ts";
import type { CommonOptions } from "./_args.ts";
import { diagnoseKeyringError, environmentFacts, type KeyringProblemId } from "./_diagnose.ts";
import { EXIT, type ExitCode } from "./_exit.ts";
import type { Output } from "./_output.ts";
import {
  deleteKeyringCopy,
  type ErrorInfo,
  errorInfo,
  keyringCopyLabel,
  keyringState,
  lockBusyMessage,
  lockHome,
  openStores,
  type Stores,
  withKeyringBackend,
} from "./_stores.ts";

/** The help text of `authkeep logout`. */
export const LOGOUT_HELP = `Usage: authkeep logout [--home DIR] [--mode MODE] [--json] [--timeout MS] [--debug]

Deletes this home's credentials from every store, whatever the mode: auth.json,
the OS keyring entry, the CLI auth in Codex's encrypted store
(secrets/codex_auth.age; its other secrets and passphrase are kept, as Codex's
logout does), and unreadable copies kept aside as auth.json.corrupt-*.
Reports what was removed. It holds the refresh lock meanwhile, so a refresh in
another process cannot write the tokens back. Ephemeral credentials live only
in the process that saved them.

Exit status: 0 done (also when nothing was stored); 4 the keyring is locked,
or unavailable in mode keyring, so a copy may remain; 1 a store failed.`;

/** What happened to one store. */
export interface StoreOutcome {
  result: "removed" | "absent" | "unavailable" | "locked" | "error" | "not-applicable";
  error?: ErrorInfo;
  /** For a keyring that cannot be reached: the diagnosed problem. */
  problem?: { id: KeyringProblemId; summary: string };
}

/** The JSON document `logout --json` prints. */
export interface LogoutReport {
  command: "logout";
  home: string;
  /** Whether anything was removed. */
  removed: boolean;
  stores: {
    file: StoreOutcome & { path: string };
    keyring: StoreOutcome & { service: string; account: string; backend: string };
    /** The CLI auth in Codex's encrypted store (`<home>/secrets/codex_auth.age`); other secrets there are kept. */
    encrypted: StoreOutcome & { path: string };
    ephemeral: StoreOutcome;
  };
  /** The `auth.json.corrupt-*` copies that were removed. */
  removedBackups: string[];
  warnings: string[];
}

/** Runs `authkeep logout`. */
export async function runLogout(common: CommonOptions, out: Output, stores: Stores = openStores(common.home, common.timeoutMs, undefined, common.keyringBackend)): Promise<ExitCode> {
  // Both keyring backends are cleared, whichever is configured: Codex's delete removes the direct entry too.
  const direct = withKeyringBackend(stores, "direct");
  const encrypted = withKeyringBackend(stores, "secrets");
  const report: LogoutReport = {
    command: "logout",
    home: common.home,
    removed: false,
    stores: {
      file: { path: stores.filePath, result: "absent" },
      keyring: { service: direct.service, account: direct.account, backend: stores.keyring.backend ?? "unknown", result: "absent" },
      encrypted: { path: stores.secretsPath, result: "absent" },
      ephemeral: { result: "not-applicable" },
    },
    removedBackups: [],
    warnings: [],
  };
  const homeExists = nodeFs().existsSync(common.home);
  let handle: Awaited<ReturnType<typeof lockHome>> = null;
  try {
    try {
      handle = await lockHome(stores, homeExists);
    } catch (error) {
      if (!(error instanceof LockTimeoutError)) throw error;
      out.error(lockBusyMessage(error));
      return EXIT.failure;
    }
    const stop = out.progress("removing the credentials");
    try {
      report.stores.file = { path: stores.filePath, ...(await outcome(() => stores.file.delete())) };
      report.stores.keyring = { ...report.stores.keyring, ...(await outcome(() => deleteKeyringCopy(direct))) };
      if (nodeFs().existsSync(stores.secretsPath)) {
        report.stores.encrypted = { ...report.stores.encrypted, ...(await outcome(() => deleteKeyringCopy(encrypted))) };
      }
      report.removedBackups = homeExists ? removeBackups(common.home, stores.fileName, report) : [];
    } finally {
      stop();
    }
  } finally {
    await handle?.release().catch(() => {});
  }
  report.removed = report.stores.file.result === "removed" || report.stores.keyring.result === "removed" ||
    report.stores.encrypted.result === "removed" || report.removedBackups.length > 0;

  const keyring = report.stores.keyring;
  let code: ExitCode = EXIT.ok;
  if (report.stores.file.result === "error" || keyring.result === "error" || report.stores.encrypted.result === "error") code = EXIT.failure;
  else if (keyring.result === "locked" || (keyring.result === "unavailable" && common.mode === "keyring")) code = EXIT.unavailable;
  if ((keyring.result === "unavailable" || keyring.result === "locked") && keyring.error) {
    const problem = diagnoseKeyringError(keyring.error, environmentFacts(), common.timeoutMs);
    keyring.problem = { id: problem.id, summary: problem.summary };
    report.warnings.push(
      `the keyring could not be checked (${problem.summary}); if credentials were saved there from another session, they remain (\`authkeep doctor\` shows the fix)`,
    );
  }

  if (out.json) out.document(report);
  else printReport(out, report, stores);
  for (const warning of report.warnings) out.warning(warning);
  for (const [name, store] of [["auth.json", report.stores.file], ["the keyring", keyring], ["the encrypted store", report.stores.encrypted]] as const) {
    if (store.result === "error") out.error(`could not remove ${name}: ${store.error?.message ?? "unknown error"}`);
  }
  return code;
}

async function outcome(remove: () => Promise<boolean>): Promise<StoreOutcome> {
  try {
    return { result: (await remove()) ? "removed" : "absent" };
  } catch (error) {
    const state = keyringState(error);
    return { result: state, error: errorInfo(error) };
  }
}

/** Removes `auth.json.corrupt-*` (unreadable credentials kept aside by a save); returns their names. */
function removeBackups(home: string, fileName: string, report: LogoutReport): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = nodeFs().readdirSync(home);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(`${fileName}.corrupt-`)) continue;
    try {
      nodeFs().rmSync(join(home, name), { force: true });
      removed.push(name);
    } catch (error) {
      report.warnings.push(`could not remove ${join(home, name)}: ${(error as Error).message}`);
    }
  }
  return removed;
}

function printReport(out: Output, report: LogoutReport, stores: Stores): void {
  const c = out.color;
  const text = (o: StoreOutcome) => {
    switch (o.result) {
      case "removed":
        return `${c.ok("✓")} removed`;
      case "absent":
        return `${c.ok("✓")} nothing stored`;
      case "not-applicable":
        return `${c.dim("-")} lives only in the process that saved it; nothing to remove here`;
      case "unavailable":
      case "locked":
        return `${c.warn("!")} ${o.result}: could not be checked`;
      default:
        return `${c.bad("✗")} failed`;
    }
  };
  out.line(`${report.removed ? "Logged out" : "Nothing to log out"} of ${report.home}`);
  out.line(`  auth.json   ${text(report.stores.file)}  ${c.dim(report.stores.file.path)}`);
  out.line(`  keyring     ${text(report.stores.keyring)}  ${c.dim(keyringCopyLabel(withKeyringBackend(stores, "direct")))}`);
  if (report.stores.encrypted.result !== "absent") {
    out.line(`  encrypted   ${text(report.stores.encrypted)}  ${c.dim(keyringCopyLabel(withKeyringBackend(stores, "secrets")))}`);
  }
  out.line(`  ephemeral   ${text(report.stores.ephemeral)}`);
  for (const name of report.removedBackups) out.line(`  ${c.ok("✓")} removed ${name} ${c.dim("(unreadable credentials kept aside earlier)")}`);
}
