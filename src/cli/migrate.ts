/**
 * `authkeep migrate --to keyring|file`: moves this home's credentials between
 * auth.json and the OS keyring without ever leaving zero copies.
 *
 * The steps, each of which ends with both or one complete copy stored:
 * 1. `lock`: take the refresh lock (`<home>/auth.json.authkeep-refresh.lock`), so that no
 *    AuthManager in another process rewrites the tokens meanwhile;
 * 2. `read`: read both stores (nothing changed yet);
 * 3. `write-target`: write the target (the file atomically; the keyring
 *    entry in one call), so the source is still there;
 * 4. `verify-target`: read the target back and compare;
 * 5. `remove-source`: only then remove the source.
 *
 * Test hook: with `AUTHKEEP_TEST_PAUSE_AFTER_STEP=<step>` the command prints
 * `authkeep: paused after <step>` on stderr after that step and waits until
 * it is killed, so tests can kill it between steps.
 *
 * @module
 */
import { nodeFs } from "../contract/_node-builtins.ts";
import type { AuthDotJson } from "../document/auth-types.ts";
import { LockTimeoutError } from "../contract/lock-timeout-error.ts";
import type { CommonOptions } from "./_args.ts";
import { EXIT, type ExitCode } from "./_exit.ts";
import type { Output } from "./_output.ts";
import {
  type CopyState,
  deleteKeyringCopy,
  type ErrorInfo,
  errorInfo,
  keyringState,
  lockBusyMessage,
  lockHome,
  keyringCopyLabel,
  openStores,
  readFileCopy,
  readKeyringCopy,
  sameCredentials,
  type Stores,
  writeKeyringCopy,
} from "./_stores.ts";

/** The help text of `authkeep migrate`. */
export const MIGRATE_HELP = `Usage: authkeep migrate --to keyring|file [--force] [--home DIR] [--json] [--timeout MS] [--debug]

Moves this home's credentials between auth.json and the OS keyring, safely:
it writes the target, reads it back to verify it, and only then removes the
source, so an interruption at any point leaves at least one complete copy.
It holds the refresh lock meanwhile, so a token refresh in another process
cannot be lost.

--to keyring|file  where the credentials should end up (required)
--force            when both stores hold different credentials, overwrite the
                   target with the source (without it, nothing is changed)

Exit status: 0 moved, or already only in the target; 3 nothing to move;
4 a store cannot be reached (nothing changed); 5 both stores hold different
credentials (nothing changed); 1 any other failure (the source is kept).`;

/** The steps of a migration, in order (the values of `AUTHKEEP_TEST_PAUSE_AFTER_STEP`). */
export const MIGRATE_STEPS = ["lock", "read", "write-target", "verify-target", "remove-source"] as const;
/** One of {@linkcode MIGRATE_STEPS}. */
export type MigrateStep = (typeof MIGRATE_STEPS)[number];

/** The outcome of a migration. */
export type MigrateResult =
  | "moved"
  | "already-there"
  | "nothing-to-move"
  | "conflict"
  | "unavailable"
  | "verify-failed"
  | "failed";

/** The JSON document `migrate --json` prints. */
export interface MigrateReport {
  command: "migrate";
  home: string;
  from: "file" | "keyring";
  to: "file" | "keyring";
  result: MigrateResult;
  /** What was done, in order. */
  steps: { step: MigrateStep; detail: string }[];
  /** Where the credentials are when the command ends. */
  location: "file" | "keyring" | "both" | "neither" | "unknown";
  /** Why the command stopped, when it did not move anything (also printed on stderr). */
  message?: string;
  /** The underlying error, when there was one. */
  error?: ErrorInfo;
  warnings: string[];
}

/** Runs `authkeep migrate`. */
export async function runMigrate(
  common: CommonOptions,
  out: Output,
  to: "file" | "keyring",
  force: boolean,
  stores: Stores = openStores(common.home, common.timeoutMs, undefined, common.keyringBackend),
): Promise<ExitCode> {
  const from = to === "keyring" ? "file" : "keyring";
  const report: MigrateReport = { command: "migrate", home: common.home, from, to, result: "failed", steps: [], location: "unknown", warnings: [] };
  const name = { file: "auth.json", keyring: "the keyring entry" };
  const where = { file: stores.filePath, keyring: keyringCopyLabel(stores) };
  const done = (step: MigrateStep, detail: string) => {
    report.steps.push({ step, detail });
    if (!out.json) out.line(`  ${out.color.ok("✓")} ${detail}`);
  };
  if (!out.json) {
    out.line(`Moving the credentials of ${common.home}`);
    out.line(`  from ${name[from]}  ${out.color.dim(where[from])}`);
    out.line(`  to   ${name[to]}  ${out.color.dim(where[to])}`);
  }

  let code: ExitCode;
  let handle: Awaited<ReturnType<typeof lockHome>> = null;
  try {
    try {
      handle = await lockHome(stores, nodeFs().existsSync(common.home));
    } catch (error) {
      if (!(error instanceof LockTimeoutError)) throw error;
      report.error = errorInfo(error);
      return finish(out, report, EXIT.failure, lockBusyMessage(error));
    }
    done("lock", handle ? `took the refresh lock ${handle.path}` : "no home directory yet, so no refresh can be running");
    await pauseAfter("lock");

    const read = (store: "file" | "keyring") => (store === "file" ? readFileCopy(stores) : readKeyringCopy(stores));
    const [source, target] = await Promise.all([read(from), read(to)]);
    report.location = locationOf(from, source, target);
    const blocked = blockedBy(source, target, from, to);
    if (blocked) {
      report.error = blocked.error;
      report.result = blocked.result;
      return finish(out, report, blocked.code, blocked.message);
    }
    if (source.state !== "present") {
      // The source is empty: either the move already happened, or there is nothing to move.
      report.result = target.state === "present" ? "already-there" : "nothing-to-move";
      done("read", target.state === "present" ? `the credentials are already only in ${name[to]}` : "no credentials are stored for this home");
      return finish(out, report, target.state === "present" ? EXIT.ok : EXIT.nothingStored);
    }
    done("read", `read ${name[from]}${describe(source.auth)}`);
    await pauseAfter("read");

    if (target.state === "present" && sameCredentials(target.auth, source.auth)) {
      done("write-target", `${name[to]} already holds the same credentials`);
    } else {
      if (target.state === "present" || target.state === "unreadable") {
        if (!force) {
          report.result = "conflict";
          return finish(
            out,
            report,
            EXIT.conflict,
            target.state === "present"
              ? `${name[to]} already holds different credentials${describe(target.auth)}; nothing was changed. Compare them with \`authkeep status\`, then rerun with --force to overwrite them with ${name[from]}`
              : `${name[to]} holds credentials that cannot be read; nothing was changed. Rerun with --force to overwrite them`,
          );
        }
        report.warnings.push(`overwrote the different credentials that were in ${name[to]} (--force)`);
      }
      try {
        await write(stores, to, source.auth);
      } catch (error) {
        report.error = errorInfo(error);
        report.result = keyringState(error) === "error" ? "failed" : "unavailable";
        return finish(out, report, report.result === "unavailable" ? EXIT.unavailable : EXIT.failure, `could not write ${name[to]}: ${(error as Error).message}; the credentials are still in ${name[from]}`);
      }
      report.location = "both";
      done("write-target", `wrote ${name[to]}`);
    }
    await pauseAfter("write-target");

    const check = await read(to);
    if (check.state !== "present" || !sameCredentials(check.auth, source.auth)) {
      report.result = "verify-failed";
      if (check.state !== "present" && check.state !== "absent") report.error = check.error;
      // A copy that does not read back is worse than none: remove it when it was not there before.
      if (target.state === "absent") await remove(stores, to).catch(() => {});
      report.location = target.state === "absent" ? from : "both";
      return finish(out, report, EXIT.failure, `${name[to]} did not read back the credentials that were written (${check.state}); ${name[from]} was kept`);
    }
    done("verify-target", `read ${name[to]} back: identical`);
    await pauseAfter("verify-target");

    try {
      await remove(stores, from);
    } catch (error) {
      report.error = errorInfo(error);
      report.result = "failed";
      return finish(
        out,
        report,
        keyringState(error) === "error" ? EXIT.failure : EXIT.unavailable,
        `the credentials are now in ${name[to]}, but ${name[from]} could not be removed: ${(error as Error).message}; run \`authkeep migrate --to ${to}\` again`,
      );
    }
    const after = await read(from);
    if (after.state === "present") {
      report.result = "failed";
      report.location = "both";
      return finish(out, report, EXIT.failure, `${name[from]} still holds the credentials after removing them (is it locked?); run \`authkeep migrate --to ${to}\` again`);
    }
    report.location = to;
    report.result = "moved";
    done("remove-source", `removed ${name[from]}`);
    await pauseAfter("remove-source");
    if (!out.json) out.line(`Done: the credentials are now only in ${name[to]}.`);
    code = EXIT.ok;
  } finally {
    await handle?.release().catch(() => {});
  }
  if (to === "keyring" && common.mode === "file") {
    report.warnings.push(`mode file reads only auth.json: run with --mode keyring or auto (cli_auth_credentials_store = "keyring" in config.toml) to use the keyring copy`);
  }
  if (to === "file" && common.mode === "keyring") {
    report.warnings.push(`mode keyring ignores auth.json: run with --mode file or auto (cli_auth_credentials_store = "file" in config.toml) to use the file`);
  }
  return finish(out, report, code);
}

function finish(out: Output, report: MigrateReport, code: ExitCode, message?: string): ExitCode {
  if (message !== undefined) report.message = message;
  out.document(report);
  if (message !== undefined) {
    if (code === EXIT.ok || code === EXIT.nothingStored) out.note(message);
    else out.error(message);
  }
  for (const warning of report.warnings) out.warning(warning);
  return code;
}

/** Whether an unreachable or unreadable store stops the migration before anything changes. */
function blockedBy(
  source: CopyState,
  target: CopyState,
  from: string,
  to: string,
): { code: ExitCode; result: MigrateResult; message: string; error?: ErrorInfo } | undefined {
  for (const [copy, role, store] of [[target, "target", to], [source, "source", from]] as const) {
    if (copy.state === "unavailable" || copy.state === "locked") {
      return {
        code: EXIT.unavailable,
        result: "unavailable",
        message: `the ${store} (${role}) cannot be reached: ${copy.error.message}; nothing was changed (\`authkeep doctor\` says why)`,
        error: copy.error,
      };
    }
    if (copy.state === "error") {
      return { code: EXIT.failure, result: "failed", message: `the ${store} (${role}) cannot be read: ${copy.error.message}; nothing was changed`, error: copy.error };
    }
  }
  if (source.state === "unreadable") {
    return {
      code: EXIT.failure,
      result: "failed",
      message: `the ${from} copy cannot be read (${source.error.message}); nothing was changed`,
      error: source.error,
    };
  }
  return undefined;
}

function write(stores: Stores, store: "file" | "keyring", auth: AuthDotJson): Promise<void> {
  return store === "file" ? stores.file.save(auth) : writeKeyringCopy(stores, auth);
}

async function remove(stores: Stores, store: "file" | "keyring"): Promise<boolean> {
  return store === "file" ? await stores.file.delete() : await deleteKeyringCopy(stores);
}

function locationOf(from: "file" | "keyring", source: CopyState, target: CopyState): MigrateReport["location"] {
  const s = source.state === "present";
  const t = target.state === "present";
  if (s && t) return "both";
  if (s) return from;
  if (t) return from === "file" ? "keyring" : "file";
  return source.state === "absent" && target.state === "absent" ? "neither" : "unknown";
}

function describe(auth: AuthDotJson): string {
  const parts: string[] = [];
  if (auth.tokens?.account_id) parts.push(`account ${auth.tokens.account_id}`);
  if (auth.last_refresh) parts.push(`last_refresh ${auth.last_refresh}`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

/** The test hook: waits forever after `step` when `AUTHKEEP_TEST_PAUSE_AFTER_STEP` names it. */
async function pauseAfter(step: MigrateStep): Promise<void> {
  if (process.env.AUTHKEEP_TEST_PAUSE_AFTER_STEP !== step) return;
  process.stderr.write(`authkeep: paused after ${step}\n`);
  await new Promise<never>(() => {
    setInterval(() => {}, 1 << 30);
  });
}
