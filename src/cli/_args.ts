/**
 * Argument parsing for the `authkeep` CLI, on `node:util` `parseArgs` (no
 * dependency). Every command takes the common options; a command adds its own.
 *
 * @module
 */
import { readBytes, statOrNull } from "../storage/_fs-steps.ts";
import { AuthStorageError } from "../contract/errors.ts";
import { join, resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { AUTH_CREDENTIALS_STORE_MODES, type AuthCredentialsStoreMode } from "../document/auth-types.ts";
import { defaultHome } from "../storage/default-home.ts";
import { defaultKeyringBackend, type KeyringBackend } from "../storage/create-auth-storage.ts";

/** A mistake on the command line: the CLI prints it with the usage hint and exits 2. */
export class UsageError extends Error {
  /** The command whose usage to point at, if any. */
  readonly command: string | undefined;

  /**
   * @param message What is wrong with the arguments.
   * @param command The command, for the `--help` hint.
   */
  constructor(message: string, command?: string) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

/** Where the mode came from: `--mode`, `cli_auth_credentials_store` in `<home>/config.toml`, or Codex's default (`file`). */
export type ModeSource = "flag" | "config" | "default";

/** The options every command understands, resolved. */
export interface CommonOptions {
  /** The credentials home, absolute. */
  home: string;
  /** The storage mode the user runs with. */
  mode: AuthCredentialsStoreMode;
  /** Where {@linkcode CommonOptions.mode} came from. */
  modeSource: ModeSource;
  /**
   * The keyring backend of `keyring` and `auto` modes, as Codex picks it:
   * `"secrets"` when `[features] secret_auth_storage` is true in config.toml,
   * `"direct"` when it is false, else the platform default (secrets on Windows).
   */
  keyringBackend: KeyringBackend;
  /** Where {@linkcode CommonOptions.keyringBackend} came from. */
  keyringBackendSource: "config" | "default";
  /** Machine-readable output on stdout. */
  json: boolean;
  /** Stack traces on errors. */
  debug: boolean;
  /** The deadline of one keyring call, in milliseconds. */
  timeoutMs: number;
  /** Problems found while resolving the options that are not fatal (e.g. a bad config value). */
  notes: string[];
}

/** Default deadline for one keyring call. */
export const DEFAULT_TIMEOUT_MS = 5000;

type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

const COMMON_OPTIONS = {
  home: { type: "string" },
  mode: { type: "string" },
  json: { type: "boolean" },
  debug: { type: "boolean" },
  timeout: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpec;

/** The parsed arguments of one command. */
export interface ParsedCommand {
  /** `true` when `--help` was given: print the command's help and nothing else. */
  help: boolean;
  /** The raw values of the command's own options. */
  values: Record<string, string | boolean | undefined>;
  /** The resolved common options (`undefined` when `help` is set). */
  common: CommonOptions | undefined;
}

/**
 * Parses the arguments after the command name.
 *
 * @param command The command, for error messages.
 * @param argv The arguments after the command.
 * @param extra The command's own options.
 * @param env The environment (for `CODEX_HOME`).
 * @throws {UsageError} for an unknown option, a positional argument or a bad value.
 */
export function parseCommand(
  command: string,
  argv: readonly string[],
  extra: OptionSpec = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): ParsedCommand {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...COMMON_OPTIONS, ...extra },
      strict: true,
      allowPositionals: true,
    }) as typeof parsed;
  } catch (error) {
    throw new UsageError(cleanParseError(error), command);
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { help: true, values, common: undefined };
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, command);
  }
  return { help: false, values, common: resolveCommon(command, values, env) };
}

function resolveCommon(
  command: string,
  values: Record<string, string | boolean | undefined>,
  env: Readonly<Record<string, string | undefined>>,
): CommonOptions {
  const notes: string[] = [];
  const homeFlag = values.home;
  if (homeFlag === "") throw new UsageError("--home needs a directory", command);
  const home = typeof homeFlag === "string" ? resolve(homeFlag) : defaultHome(env);
  const configured = readConfiguredMode(home);

  let mode: AuthCredentialsStoreMode;
  let modeSource: ModeSource;
  if (typeof values.mode === "string") {
    mode = checkMode(values.mode, command);
    modeSource = "flag";
  } else {
    if (configured.problem !== undefined) notes.push(configured.problem);
    if (configured.value !== undefined && isMode(configured.value)) {
      mode = configured.value;
      modeSource = "config";
    } else {
      if (configured.value !== undefined) {
        notes.push(
          `ignoring cli_auth_credentials_store = ${JSON.stringify(configured.value)} in ${configured.path}: expected one of ${AUTH_CREDENTIALS_STORE_MODES.join(", ")}`,
        );
      }
      mode = "file";
      modeSource = "default";
    }
  }

  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (typeof values.timeout === "string") {
    const parsed = Number(values.timeout);
    if (!Number.isInteger(parsed) || parsed < 1 || parsed > 600_000) {
      throw new UsageError(`--timeout must be a whole number of milliseconds between 1 and 600000, not ${JSON.stringify(values.timeout)}`, command);
    }
    timeoutMs = parsed;
  }
  const keyringBackend = configured.secretAuthStorage === undefined ? defaultKeyringBackend() : configured.secretAuthStorage ? "secrets" : "direct";
  const keyringBackendSource = configured.secretAuthStorage === undefined ? "default" : "config";
  return { home, mode, modeSource, keyringBackend, keyringBackendSource, json: values.json === true, debug: values.debug === true, timeoutMs, notes };
}

/**
 * Fails clearly when the home exists but is not a usable directory (a file, a
 * symlink loop, a path that cannot be searched), before a command that changes
 * it takes its lock: otherwise the lock's own ENOTDIR or ELOOP was all the user saw.
 *
 * @throws {AuthStorageError} with the system code (`ENOTDIR`, `ELOOP`, `EACCES`, ...).
 */
export function requireHomeDirectory(home: string, operation: "save" | "delete"): void {
  let problem: { code: string; why: string } | undefined;
  try {
    const stats = statOrNull(home).sync();
    if (stats !== null && !stats.isDirectory()) problem = { code: "ENOTDIR", why: "is not a directory" };
  } catch (error) {
    const code = String((error as { code?: unknown }).code ?? "EIO");
    problem = { code, why: code === "ELOOP" ? "is a symlink loop" : `cannot be reached (${code})` };
  }
  if (problem !== undefined) {
    throw new AuthStorageError(`the credentials home ${home} ${problem.why}; pass --home or set CODEX_HOME to a directory`, {
      operation,
      path: home,
      code: problem.code,
    });
  }
}

/** Validates a `--mode` (or `--to`) value. */
export function checkMode(value: string, command: string, flag = "--mode"): AuthCredentialsStoreMode {
  if (!isMode(value)) {
    throw new UsageError(`${flag} must be one of ${AUTH_CREDENTIALS_STORE_MODES.join(", ")}, not ${JSON.stringify(value)}`, command);
  }
  return value;
}

function isMode(value: string): value is AuthCredentialsStoreMode {
  return (AUTH_CREDENTIALS_STORE_MODES as readonly string[]).includes(value);
}

// config.toml holds a few settings; 1 MiB is far more than any real one.
const CONFIG_CAP = 1024 * 1024;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads Codex's `cli_auth_credentials_store` from `<home>/config.toml`: a
 * top-level `key = "value"` line before the first table header. Anything
 * more exotic is ignored (the flag always wins). A config.toml that cannot be
 * read (not a regular file, such as a FIFO or /dev/zero, larger than 1 MiB,
 * not UTF-8, unreadable) is ignored with a `problem` to report: it is read
 * non-blocking and capped, so it can neither hang a command nor fill memory.
 * Also reads the feature flag `secret_auth_storage` (see {@linkcode parseSecretAuthStorage}).
 */
export function readConfiguredMode(home: string): { value: string | undefined; path: string; problem?: string; secretAuthStorage?: boolean } {
  const path = join(home, "config.toml");
  let text: string;
  try {
    const bytes = readBytes(path, CONFIG_CAP).sync();
    if (bytes === null) return { value: undefined, path };
    text = utf8.decode(bytes);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why = code === "EFBIG" ? "it is larger than 1 MiB" : code === "EFTYPE" ? "it is not a regular file" : code === "EISDIR" ? "it is a directory" : typeof code === "string" ? `it cannot be read (${code})` : "it is not valid UTF-8";
    return { value: undefined, path, problem: `ignoring ${path}: ${why}` };
  }
  const secretAuthStorage = parseSecretAuthStorage(text);
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*\[/.test(line)) break;
    const match = /^\s*cli_auth_credentials_store\s*=\s*(?:"([^"]*)"|'([^']*)')\s*(?:#.*)?$/.exec(line);
    if (match) return { value: match[1] ?? match[2], path, secretAuthStorage };
  }
  return { value: undefined, path, secretAuthStorage };
}

/**
 * Codex's `secret_auth_storage` feature flag in config.toml text:
 * `secret_auth_storage = true|false` inside `[features]`, or a top-level
 * `features.secret_auth_storage = …`; `undefined` when neither is there.
 */
export function parseSecretAuthStorage(text: string): boolean | undefined {
  let table = "";
  let found: boolean | undefined;
  for (const line of text.split(/\r?\n/)) {
    const header = /^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]\s*(?:#.*)?$/.exec(line);
    if (header) {
      table = header[1]!;
      continue;
    }
    const match = /^\s*([A-Za-z0-9_.-]+)\s*=\s*(true|false)\s*(?:#.*)?$/.exec(line);
    if (match === null) continue;
    const key = table === "" ? match[1] : `${table}.${match[1]}`;
    if (key === "features.secret_auth_storage") found = match[2] === "true";
  }
  return found;
}

/** `parseArgs` messages are good but mention internals like "ERR_PARSE_ARGS"; keep only the sentence. */
function cleanParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\. To specify a positional argument starting with a '-'.*$/s, "").trim();
}
