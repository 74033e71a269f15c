/**
 * Where a CLI keeps its credentials by default (Codex: `CODEX_HOME` or `~/.codex`).
 *
 * @module
 */
import { nodeFs, nodeOs, nodePath } from "../contract/_node-builtins.ts";
import { AuthStorageError, errorCode } from "../contract/errors.ts";

/** Options for {@linkcode defaultHome}, for CLIs other than Codex. */
export interface DefaultHomeOptions {
  /**
   * The environment variable that overrides the home.
   * @default {"CODEX_HOME"}
   */
  envVar?: string;
  /**
   * The directory under the user's home used when the variable is unset.
   * @default {".codex"}
   */
  dirName?: string;
}

/**
 * Returns the credentials home: the override variable (`CODEX_HOME`) when it
 * is set and non-empty (it must exist and be a directory; it is
 * canonicalized, as Codex does), otherwise `~/.codex`, which need not exist yet.
 *
 * @param env The environment to read.
 * @param options The variable and directory names, for other CLIs.
 * @returns An absolute path.
 * @throws {AuthStorageError} when the variable names something that does not
 * exist or is not a directory.
 * @example Basic usage
 * ```ts
 * import { defaultHome } from "authkeep";
 *
 * console.log(defaultHome({ CODEX_HOME: "" }).endsWith(".codex")); // true
 * ```
 */
export function defaultHome(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: DefaultHomeOptions = {},
): string {
  const envVar = options.envVar ?? "CODEX_HOME";
  const override = env[envVar];
  if (override === undefined || override === "") return nodePath().join(nodeOs().homedir(), options.dirName ?? ".codex");
  let isDirectory: boolean;
  try {
    isDirectory = nodeFs().statSync(override).isDirectory();
  } catch (error) {
    throw new AuthStorageError(`${envVar} points to ${override}, which does not exist; create it or unset ${envVar}`, {
      operation: "load",
      path: override,
      code: errorCode(error),
      cause: error,
    });
  }
  if (!isDirectory) {
    throw new AuthStorageError(`${envVar} points to ${override}, which is not a directory`, {
      operation: "load",
      path: override,
      code: "ENOTDIR",
    });
  }
  return nodeFs().realpathSync(override);
}
