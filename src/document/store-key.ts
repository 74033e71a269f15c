/**
 * The keyring account name for a home directory, exactly as Codex computes it.
 *
 * @module
 */
import { sha256Hex } from "../contract/_crypto.ts";
import { nodeFs } from "../contract/_node-builtins.ts";

/** Options for {@linkcode computeStoreKey}. */
export interface ComputeStoreKeyOptions {
  /**
   * The platform whose canonical path form to hash. On `win32`, Rust's
   * `std::fs::canonicalize` returns a verbatim path (`\\?\C:\…`,
   * `\\?\UNC\server\share\…`) and Codex hashes it prefix included.
   * @default {process.platform}
   */
  platform?: string;
}

/**
 * Computes `"cli|"` + the first 16 hex digits of SHA-256 of the canonical
 * home path: the real path when it exists (with Rust's verbatim `\\?\` prefix
 * on Windows), otherwise the path string exactly as given (no `~` expansion).
 *
 * @param home The credentials home directory, e.g. `~/.codex`.
 * @param options The platform to compute for.
 * @returns The key, e.g. `"cli|940db7b1d0e4eb40"` for the literal `"~/.codex"`.
 * @example Basic usage
 * ```ts
 * import { computeStoreKey } from "authkeep";
 *
 * console.log(computeStoreKey("~/.codex")); // "cli|940db7b1d0e4eb40"
 * ```
 */
export function computeStoreKey(home: string, options: ComputeStoreKeyOptions = {}): string {
  return storeKeyForCanonicalPath(canonicalHomePath(home, options.platform ?? process.platform));
}

/**
 * The home path as Codex hashes it for its keyring accounts (`cli|…` and the
 * encrypted store's `secrets|…`): Rust's `canonicalize`, or the path as given.
 */
export function canonicalHomePath(home: string, platform: string = process.platform): string {
  try {
    const realpath = nodeFs().realpathSync.native ?? nodeFs().realpathSync;
    return platform === "win32" ? toVerbatimPath(realpath(home)) : realpath(home);
  } catch {
    // Codex hashes the path as given when canonicalize fails (e.g. it does not exist yet).
    return home;
  }
}

/**
 * The store key of an already canonical path string, hashed as is.
 */
export function storeKeyForCanonicalPath(canonicalPath: string): string {
  const digest = sha256Hex(canonicalPath);
  return `cli|${digest.slice(0, 16)}`;
}

/**
 * Turns a Windows path from `realpath` (`C:\x`, `\\server\share\x`) into the
 * verbatim form Rust's `canonicalize` returns (`\\?\C:\x`, `\\?\UNC\server\share\x`).
 */
export function toVerbatimPath(windowsPath: string): string {
  if (windowsPath.startsWith("\\\\?\\") || windowsPath.startsWith("\\\\.\\")) return windowsPath;
  if (windowsPath.startsWith("\\\\")) return `\\\\?\\UNC\\${windowsPath.slice(2)}`;
  return `\\\\?\\${windowsPath}`;
}
