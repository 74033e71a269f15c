/**
 * The storage interface every mode implements.
 *
 * @module
 */
import type { AuthCredentialsStoreMode, AuthDotJson } from "../document/auth-types.ts";

/**
 * Loads, saves and deletes one home's credentials. Create one with
 * {@linkcode createAuthStorage}.
 *
 * @example Basic usage
 * ```ts
 * import { createAuthStorage } from "authkeep";
 *
 * const storage = createAuthStorage({ home: "/tmp/authkeep-example", mode: "file" });
 * await storage.save({ OPENAI_API_KEY: "sk-example" });
 * console.log((await storage.load())?.OPENAI_API_KEY === "sk-example"); // true
 * await storage.delete();
 * ```
 */
export interface AuthStorage {
  /** The mode this storage implements. */
  readonly mode: AuthCredentialsStoreMode;
  /**
   * The home directory these credentials belong to (set by
   * {@linkcode createAuthStorage}; optional for storages written by users).
   * {@linkcode AuthManager} puts its cross-process lock file here.
   */
  readonly home?: string;
  /** The credentials file name inside `home`, e.g. `"auth.json"`. */
  readonly fileName?: string;
  /** Reads the credentials, or `null` when none are stored. */
  load(): Promise<AuthDotJson | null>;
  /** Stores the credentials, replacing what was there. */
  save(auth: AuthDotJson): Promise<void>;
  /** Deletes the credentials; returns whether anything was removed. */
  delete(): Promise<boolean>;
  /** Synchronous twin of {@linkcode AuthStorage.load}. */
  loadSync(): AuthDotJson | null;
  /** Synchronous twin of {@linkcode AuthStorage.save}. */
  saveSync(auth: AuthDotJson): void;
  /** Synchronous twin of {@linkcode AuthStorage.delete}. */
  deleteSync(): boolean;
}
