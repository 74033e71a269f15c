/**
 * The advapi32 Credential Manager functions and the two kernel32 helpers the
 * Windows backend needs, declared once per FFI provider through `ffi/`, so
 * that the backend runs on koffi, `Deno.dlopen` and `bun:ffi` alike (see
 * `ffi/PORTING.md` §6). `__stdcall` is the only convention on x64, so the
 * functions are declared like any other; `LPCWSTR` arguments are `buffer`s
 * holding a NUL-terminated `Uint16Array` (`_windows-credential.ts`).
 *
 * @module
 */
import { KeyringError } from "../../src/contract/keyring-error.ts";
import { memoizePerProvider } from "../ffi/_bindings-cache.ts";
import {
  type BoundSymbols,
  type FfiOptions,
  type FfiProvider,
  type FfiSymbols,
  loadFfiProvider,
} from "../ffi/index.ts";

const ADVAPI32 = {
  // BOOL CredWriteW(PCREDENTIALW Credential, DWORD Flags)
  CredWriteW: { args: ["buffer", "u32"], returns: "i32" },
  // BOOL CredReadW(LPCWSTR TargetName, DWORD Type, DWORD Flags, PCREDENTIALW *Credential)
  CredReadW: { args: ["buffer", "u32", "u32", "buffer"], returns: "i32" },
  // BOOL CredDeleteW(LPCWSTR TargetName, DWORD Type, DWORD Flags)
  CredDeleteW: { args: ["buffer", "u32", "u32"], returns: "i32" },
  // BOOL CredEnumerateW(LPCWSTR Filter, DWORD Flags, DWORD *Count, PCREDENTIALW **Credential)
  CredEnumerateW: { args: ["buffer", "u32", "buffer", "buffer"], returns: "i32" },
  // VOID CredFree(PVOID Buffer)
  CredFree: { args: ["pointer"], returns: "void" },
} as const satisfies FfiSymbols;

const KERNEL32 = {
  // DWORD GetLastError(void)
  GetLastError: { args: [], returns: "u32" },
  // int lstrlenW(LPCWSTR lpString): the length of a wide string C gives us (a credential's TargetName)
  lstrlenW: { args: ["pointer"], returns: "i32" },
} as const satisfies FfiSymbols;

/** The bound functions, named after their C symbols, and the provider they run on. */
export interface CredentialApi extends BoundSymbols<typeof ADVAPI32>, BoundSymbols<typeof KERNEL32> {
  /** The FFI provider: memory access, and whether `.async` leaves the main thread. */
  readonly ffi: FfiProvider;
}

/**
 * Loads the FFI provider, advapi32 and kernel32, and declares the functions;
 * memoised per provider, since two stores in one process may use different
 * providers.
 *
 * @throws {KeyringError} kind `unavailable` when the provider (backend
 * `"ffi"`: koffi missing, `deno` outside Deno, …) or advapi32 (backend
 * `"windows"`) cannot be loaded.
 */
export function bindCredentialApi(options: FfiOptions): CredentialApi {
  return bindOnProvider(loadFfiProvider(options));
}

const bindOnProvider = memoizePerProvider((ffi): CredentialApi => {
  try {
    const advapi32 = ffi.open("advapi32.dll", ADVAPI32);
    const kernel32 = ffi.open("kernel32.dll", KERNEL32);
    return { ffi, ...advapi32.symbols, ...kernel32.symbols };
  } catch (error) {
    throw new KeyringError(`cannot load advapi32.dll through the ${ffi.name} FFI provider`, {
      kind: "unavailable",
      reason: "no-library",
      backend: "windows",
      cause: error,
    });
  }
});
