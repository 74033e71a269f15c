/**
 * Loads koffi lazily and synchronously, on the first keyring call, so that
 * importing authkeep never loads an FFI library. koffi is an optional
 * dependency: when it is missing the caller gets a {@linkcode KeyringError}
 * of kind `unavailable` that says how to install it.
 *
 * The returned value is typed loosely on purpose: no koffi type may appear in
 * authkeep's public declarations, so that projects installed with
 * `--omit=optional` still type-check.
 *
 * @module
 */
import { KeyringError } from "../../src/contract/keyring-error.ts";

// deno-lint-ignore no-explicit-any
// biome-ignore lint/suspicious/noExplicitAny: koffi is an optional dependency whose types are not installed with authkeep
export type Koffi = any;

let cached: Koffi | undefined;
let failure: unknown;

/**
 * Returns the koffi module, loading it on first use.
 *
 * @param backend The backend asking, for the error's `backend` field.
 * @throws {KeyringError} kind `unavailable` when koffi cannot be loaded.
 */
export function loadKoffi(backend: string): Koffi {
  if (cached !== undefined) return cached;
  if (failure === undefined) {
    try {
      // A variable specifier keeps bundlers and type checkers from following it.
      const specifier = process.env.AUTHKEEP_KOFFI_PATH || "koffi";
      cached = process.getBuiltinModule("node:module").createRequire(import.meta.url)(specifier);
      return cached;
    } catch (error) {
      failure = error;
    }
  }
  throw new KeyringError(
    "the keyring needs the optional dependency koffi, which could not be loaded; install it with `npm install koffi`",
    { kind: "unavailable", reason: "no-ffi", backend, cause: failure },
  );
}
