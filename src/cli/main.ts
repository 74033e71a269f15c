#!/usr/bin/env node
/**
 * The `authkeep` command: `status`, `doctor`, `migrate --to keyring|file`
 * and `logout` for one credentials home.
 *
 * Common options: `--home DIR` (default: `CODEX_HOME`, else `~/.codex`),
 * `--mode file|keyring|auto|ephemeral` (default: `cli_auth_credentials_store`
 * in `<home>/config.toml`, else `file`), `--json`, `--timeout MS`, `--debug`,
 * `--help`.
 *
 * Output: human text on stdout, coloured only on a TTY and never with
 * `NO_COLOR`; progress only on a stderr TTY; with `--json` exactly one JSON
 * document on stdout on every path: a command's report, `{ "help": … }`,
 * `{ "version": … }`, or `{ "command", "ok": false, "exitCode", "error": { "name", "message", … } }`
 * for a usage error or a failure. Warnings and errors go to stderr, without a stack trace unless
 * `--debug`. Secrets are only ever shown redacted.
 *
 * Exit statuses:
 *
 * | status | meaning |
 * |---:|---|
 * | 0 | success: `status` found credentials for the mode; `doctor`: the configured mode works here; `migrate` moved the credentials (or they were already only in the target); `logout` removed whatever was stored |
 * | 1 | failure: an I/O error, unreadable credentials, a keyring error, `migrate`'s read-back check failed (the source is kept), or another process held the refresh lock too long |
 * | 2 | usage error: unknown command or option, missing or invalid value |
 * | 3 | nothing stored: `status` found no credentials for the mode; `migrate` found nothing to move |
 * | 4 | unavailable: a store the command needs cannot be reached (keyring unavailable or locked); for `doctor`, the configured mode does not work here |
 * | 5 | conflict: `migrate` found different credentials in both stores and changed nothing (rerun with `--force`) |
 *
 * @module
 */
import { nodeFs } from "../contract/_node-builtins.ts";
import { fileURLToPath } from "node:url";
import { type CommonOptions, parseCommand, requireHomeDirectory, UsageError } from "./_args.ts";
import { EXIT, EXIT_STATUS_HELP, type ExitCode } from "./_exit.ts";
import { createOutput, type Output } from "./_output.ts";
import { packageInfo } from "./_package.ts";
import { DOCTOR_HELP, runDoctor } from "./doctor.ts";
import { LOGOUT_HELP, runLogout } from "./logout.ts";
import { MIGRATE_HELP, runMigrate } from "./migrate.ts";
import { runStatus, STATUS_HELP } from "./status.ts";
import { KeyringError } from "../contract/keyring-error.ts";
import { errorInfo } from "./_stores.ts";

/** The help text of `authkeep --help`. */
export const MAIN_HELP = `authkeep: where a command-line tool's login credentials are, and whether the keyring works here.

Usage: authkeep <command> [options]

Commands:
  status                   where the credentials are (file, keyring, both, neither) and what they hold
  doctor                   probe each backend here: what works, why not, the fix, latency
  migrate --to keyring|file  move the credentials between auth.json and the keyring, safely
  logout                   delete the credentials from every store

Options (every command):
  --home DIR        credentials home (default: $CODEX_HOME, else ~/.codex)
  --mode MODE       file, keyring, auto or ephemeral (default: cli_auth_credentials_store
                    in <home>/config.toml, else file)
  --json            print one JSON document on stdout
  --timeout MS      deadline of each keyring call (default 5000)
  --debug           print stack traces with errors
  -h, --help        help (authkeep <command> --help for a command)
  --version         print the version

In keyring and auto modes the keyring copy is Codex's encrypted store
(<home>/secrets/codex_auth.age, its passphrase in the keyring) when config.toml
has [features] secret_auth_storage = true, and by default on Windows, as in Codex.

Colour is used only on a terminal, and never when NO_COLOR is set.

${EXIT_STATUS_HELP}`;

const COMMAND_HELP: Record<string, string> = {
  status: STATUS_HELP,
  doctor: DOCTOR_HELP,
  migrate: MIGRATE_HELP,
  logout: LOGOUT_HELP,
};

/**
 * Runs the CLI with `argv` (without the node and script paths) and returns
 * the exit status. Never throws: errors are printed on stderr.
 *
 * @param argv The arguments, e.g. `["status", "--json"]`.
 * @returns The exit status (see the module documentation).
 */
export async function main(argv: readonly string[]): Promise<ExitCode> {
  const [command, ...rest] = argv;
  const debug = argv.includes("--debug");
  const json = argv.includes("--json");
  const out = createOutput({ json });
  try {
    if (command === undefined) {
      process.stderr.write(`${MAIN_HELP}\n`);
      return EXIT.usage;
    }
    if (command === "--help" || command === "-h") return help(out, MAIN_HELP);
    if (command === "help") return help(out, rest[0] === undefined ? MAIN_HELP : helpFor(rest[0]), rest[0]);
    if (command === "--version" || command === "-v") {
      if (json) out.document({ version: packageInfo().version });
      else process.stdout.write(`${packageInfo().version}\n`);
      return EXIT.ok;
    }
    if (command.startsWith("-")) throw new UsageError(`expected a command before ${JSON.stringify(command)}`);
    return await runCommand(command, rest, out);
  } catch (error) {
    return reportError(error, out, debug, command !== undefined && COMMAND_HELP[command] !== undefined ? command : undefined);
  }
}

async function runCommand(command: string, argv: readonly string[], out: Output): Promise<ExitCode> {
  switch (command) {
    case "status": {
      const parsed = parseCommand(command, argv);
      if (parsed.help) return help(out, STATUS_HELP, command);
      return await runStatus(notes(parsed.common!, out), out);
    }
    case "doctor": {
      const parsed = parseCommand(command, argv);
      if (parsed.help) return help(out, DOCTOR_HELP, command);
      return await runDoctor(notes(parsed.common!, out), out);
    }
    case "migrate": {
      const parsed = parseCommand(command, argv, { to: { type: "string" }, force: { type: "boolean" } });
      if (parsed.help) return help(out, MIGRATE_HELP, command);
      const to = parsed.values.to;
      if (to === undefined) throw new UsageError("migrate needs --to keyring or --to file", command);
      if (to !== "keyring" && to !== "file") {
        throw new UsageError(`--to must be keyring or file, not ${JSON.stringify(to)}`, command);
      }
      requireHomeDirectory(parsed.common!.home, "save");
      return await runMigrate(notes(parsed.common!, out), out, to, parsed.values.force === true);
    }
    case "logout": {
      const parsed = parseCommand(command, argv);
      if (parsed.help) return help(out, LOGOUT_HELP, command);
      requireHomeDirectory(parsed.common!.home, "delete");
      return await runLogout(notes(parsed.common!, out), out);
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)} (expected status, doctor, migrate or logout)`);
  }
}

function notes(common: CommonOptions, out: Output): CommonOptions {
  for (const note of common.notes) out.warning(note);
  return common;
}

function helpFor(command: string): string {
  const text = COMMAND_HELP[command];
  if (text === undefined) throw new UsageError(`unknown command ${JSON.stringify(command)} (expected status, doctor, migrate or logout)`);
  return text;
}

function help(out: Output, text: string, command?: string): ExitCode {
  if (out.json) out.document({ command: command ?? null, help: text });
  else process.stdout.write(`${text}\n`);
  return EXIT.ok;
}

function reportError(error: unknown, out: Output, debug: boolean, command: string | undefined): ExitCode {
  const code = exitCodeOf(error);
  // `--json` promises one document on stdout: a failure before the command printed its report is one too.
  if (out.json && !out.documentPrinted) out.document({ command: command ?? null, ok: false, exitCode: code, error: errorInfo(error) });
  if (error instanceof UsageError) {
    out.error(error.message);
    process.stderr.write(`Run \`authkeep ${error.command === undefined ? "" : `${error.command} `}--help\` for usage.\n`);
    return code;
  }
  const message = error instanceof Error ? error.message : String(error);
  out.error(message);
  if (debug) {
    process.stderr.write(`${error instanceof Error && error.stack ? error.stack : message}\n`);
    let cause = error instanceof Error ? error.cause : undefined;
    while (cause !== undefined && cause !== null) {
      process.stderr.write(`caused by: ${cause instanceof Error && cause.stack ? cause.stack : String(cause)}\n`);
      cause = cause instanceof Error ? cause.cause : undefined;
    }
  } else {
    process.stderr.write("(run with --debug for a stack trace)\n");
  }
  return code;
}

function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof KeyringError && (error.kind === "unavailable" || error.kind === "locked")) return EXIT.unavailable;
  return EXIT.failure;
}

/** Exits once stdout and stderr have been flushed (a keyring call stuck in a worker thread must not keep the CLI alive). */
function exitAfterFlush(code: number): void {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write("", done);
  process.stderr.write("", done);
}

function isMainModule(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return nodeFs().realpathSync(script) === nodeFs().realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMainModule()) {
  process.exitCode = EXIT.failure;
  // `authkeep status | head -1`: a reader that goes away is not an error worth a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(process.exitCode ?? EXIT.failure);
      throw error;
    });
  }
  main(process.argv.slice(2)).then(exitAfterFlush, (error: unknown) => {
    process.stderr.write(`authkeep: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    exitAfterFlush(EXIT.failure);
  });
}
