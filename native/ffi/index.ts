/**
 * Picks and loads the FFI provider: `bun:ffi` on Bun, `Deno.dlopen` on Deno,
 * koffi on Node; overridden by the `ffi` option, then by the `AUTHKEEP_FFI`
 * environment variable.
 *
 * Importing authkeep never reaches this module: it is part of the platform
 * backends, which load on first keyring use. The three provider modules are
 * imported statically (they load nothing themselves, and a static import
 * keeps working when the package is bundled); the chosen provider loads
 * koffi or `bun:ffi` (or calls `Deno.dlopen`) only when a library is opened. Loading is synchronous
 * because every keyring store has synchronous twins.
 *
 * @module
 */
import { KeyringError } from "../../src/contract/keyring-error.ts";
import { detectRuntime, envVar, type JsRuntime } from "../../src/contract/_runtime.ts";
import { createBunProvider } from "./bun.ts";
import { createDenoProvider } from "./deno.ts";
import { createKoffiProvider } from "./koffi.ts";
import { FFI_PROVIDER_NAMES, type FfiProvider, type FfiProviderName } from "./provider.ts";

export type {
  BoundSymbols,
  FfiArgType,
  FfiArgValues,
  FfiCallbackArgType,
  FfiCallbackDef,
  FfiCallbackFunction,
  FfiCallbackResultType,
  FfiFunctionDef,
  FfiLibrary,
  FfiProvider,
  FfiProviderName,
  FfiResultType,
  FfiResultValue,
  FfiSymbols,
  NativeBuffer,
  NativeCallback,
  NativeFunction,
  Pointer,
} from "./provider.ts";
export { FFI_PROVIDER_NAMES, POINTER_SIZE } from "./provider.ts";

/** The environment variable that overrides the provider (`koffi`, `deno` or `bun`). */
export const FFI_ENV_VAR = "AUTHKEEP_FFI";

/** Options naming the FFI provider. */
export interface FfiOptions {
  /**
   * Which FFI provider the native keyring uses. Overrides `AUTHKEEP_FFI`.
   * @default {"bun" on Bun, "deno" on Deno, "koffi" on Node}
   */
  ffi?: FfiProviderName;
}

export { detectRuntime, type JsRuntime } from "../../src/contract/_runtime.ts";

/** Each runtime's default provider. */
const DEFAULTS: Readonly<Record<JsRuntime, FfiProviderName>> = { node: "koffi", bun: "bun", deno: "deno" };

/** The factory of each provider. */
const FACTORIES: Readonly<Record<FfiProviderName, () => FfiProvider>> = {
  koffi: createKoffiProvider,
  deno: createDenoProvider,
  bun: createBunProvider,
};

const isProviderName = (value: unknown): value is FfiProviderName =>
  typeof value === "string" && (FFI_PROVIDER_NAMES as readonly string[]).includes(value);

// Deno without --allow-env cannot read it; then there simply is no override.
const readEnv = (): string | null => envVar(FFI_ENV_VAR) ?? null;

/**
 * Which provider {@linkcode loadFfiProvider} would load: the option, else
 * `AUTHKEEP_FFI`, else the runtime's default.
 *
 * @param options The `ffi` option.
 * @param env The value of `AUTHKEEP_FFI` (read from the environment by
 * default); `null` means unset.
 * @throws {TypeError} for an unknown provider name in the option.
 * @throws {KeyringError} kind `unavailable` for an unknown name in `AUTHKEEP_FFI`.
 */
export function resolveFfiProviderName(options: FfiOptions = {}, env: string | null = readEnv()): FfiProviderName {
  if (options.ffi !== undefined) {
    if (!isProviderName(options.ffi)) {
      throw new TypeError(`unknown ffi provider ${JSON.stringify(options.ffi)}; expected one of ${FFI_PROVIDER_NAMES.join(", ")}`);
    }
    return options.ffi;
  }
  if (env !== null) {
    if (!isProviderName(env)) {
      throw new KeyringError(
        `${FFI_ENV_VAR}=${JSON.stringify(env)} names no ffi provider; expected one of ${FFI_PROVIDER_NAMES.join(", ")}`,
        { kind: "unavailable", reason: "no-ffi", backend: "ffi" },
      );
    }
    return env;
  }
  return DEFAULTS[detectRuntime()];
}

const loaded = new Map<FfiProviderName, FfiProvider>();

/**
 * Returns the FFI provider (see {@linkcode resolveFfiProviderName}), created
 * on first use. The provider is cached per name.
 *
 * @throws {KeyringError} kind `unavailable` when the provider cannot work on
 * this runtime (`deno` outside Deno, `bun` outside Bun) or koffi is missing.
 */
export function loadFfiProvider(options: FfiOptions = {}): FfiProvider {
  const name = resolveFfiProviderName(options);
  const cached = loaded.get(name);
  if (cached !== undefined) return cached;
  const runtime = detectRuntime();
  if (name !== "koffi" && name !== runtime) {
    throw new KeyringError(`the ${name} ffi provider works only on ${name === "deno" ? "Deno" : "Bun"}, not on ${runtime}`, {
      kind: "unavailable",
      reason: "no-ffi",
      backend: "ffi",
    });
  }
  // The koffi provider loads koffi when created, so that a missing koffi fails
  // now with its install hint (a KeyringError of kind "unavailable"), not at open().
  const provider = FACTORIES[name]();
  loaded.set(name, provider);
  return provider;
}

/**
 * {@linkcode loadFfiProvider}, with a failure of the provider itself (koffi
 * missing, `deno` outside Deno) reported as `backend`'s own
 * {@linkcode KeyringError}, so that the error names the store the program
 * used.
 *
 * @param backend The backend name to report (`"libsecret"`, `"macos"`).
 * @param options The `ffi` option.
 * @returns The provider.
 */
export function loadFfiProviderFor(backend: string, options: FfiOptions = {}): FfiProvider {
  try {
    return loadFfiProvider(options);
  } catch (error) {
    if (!(error instanceof KeyringError) || error.backend === backend) throw error;
    throw new KeyringError(error.message, { kind: error.kind, reason: error.reason, backend, code: error.code, cause: error.cause ?? error });
  }
}
