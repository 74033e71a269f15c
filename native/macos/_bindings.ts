/**
 * The Security.framework and CoreFoundation calls that the macOS keychain
 * backend makes, declared once on the FFI provider interface (`ffi/`), so
 * that the same backend runs on koffi, `Deno.dlopen` and `bun:ffi` (see
 * `ffi/PORTING.md` §6). Bound once per provider and pair of library paths.
 *
 * Only the calls listed here are used, so that the ABI stand-in in
 * `test/macos-abi/security-standin.c` can implement exactly this set with the
 * same C signatures. macOS is LP64 on both x86_64 and arm64: `CFIndex` is a
 * C `long` (`i64`), `CFTypeID` an `unsigned long` (`u64`), `Boolean` a
 * `uint8_t` (`bool`) and `OSStatus` an `int32_t` (`i32`). No call takes a
 * struct by value (neither `Deno.dlopen` nor `bun:ffi` can pass one): a
 * CFData is read through `CFDataGetBytePtr`, not `CFDataGetBytes(CFRange)`.
 *
 * @module
 */
import { KeyringError } from "../../src/contract/keyring-error.ts";
import {
  type FfiLibrary,
  type FfiOptions,
  type FfiProvider,
  type FfiSymbols,
  loadFfiProviderFor,
  type Pointer,
} from "../ffi/index.ts";

const CORE_FOUNDATION = {
  CFRelease: { args: ["pointer"], returns: "void" },
  CFGetTypeID: { args: ["pointer"], returns: "u64" },
  CFDataGetTypeID: { args: [], returns: "u64" },
  // alloc, bytes, numBytes, encoding, isExternalRepresentation
  CFStringCreateWithBytes: { args: ["pointer", "buffer", "i64", "u32", "bool"], returns: "pointer" },
  CFStringGetLength: { args: ["pointer"], returns: "i64" },
  CFStringGetMaximumSizeForEncoding: { args: ["i64", "u32"], returns: "i64" },
  // theString, buffer (written by C), bufferSize, encoding
  CFStringGetCString: { args: ["pointer", "buffer", "i64", "u32"], returns: "bool" },
  CFDataCreate: { args: ["pointer", "buffer", "i64"], returns: "pointer" },
  CFDataGetLength: { args: ["pointer"], returns: "i64" },
  CFDataGetBytePtr: { args: ["pointer"], returns: "pointer" },
  // alloc, keys (const void **), values (const void **), numValues, &keyCallBacks, &valueCallBacks
  CFDictionaryCreate: { args: ["pointer", "buffer", "buffer", "i64", "pointer", "pointer"], returns: "pointer" },
} as const satisfies FfiSymbols;

const SECURITY = {
  // query, CFTypeRef *result (out)
  SecItemCopyMatching: { args: ["pointer", "buffer"], returns: "i32" },
  // attributes, CFTypeRef *result (always NULL here)
  SecItemAdd: { args: ["pointer", "pointer"], returns: "i32" },
  SecItemUpdate: { args: ["pointer", "pointer"], returns: "i32" },
  SecItemDelete: { args: ["pointer"], returns: "i32" },
  // status, reserved (NULL)
  SecCopyErrorMessageString: { args: ["i32", "pointer"], returns: "pointer" },
} as const satisfies FfiSymbols;

/** The data symbols read at bind time: CF constants and the callback tables' addresses. */
export interface MacosConstants {
  readonly kSecClass: Pointer;
  readonly kSecClassGenericPassword: Pointer;
  readonly kSecAttrService: Pointer;
  readonly kSecAttrAccount: Pointer;
  readonly kSecAttrLabel: Pointer;
  readonly kSecValueData: Pointer;
  readonly kSecReturnData: Pointer;
  readonly kSecMatchLimit: Pointer;
  readonly kSecMatchLimitOne: Pointer;
  readonly kCFBooleanTrue: Pointer;
  /** `&kCFTypeDictionaryKeyCallBacks` (the struct's address, not its contents). */
  readonly keyCallBacks: Pointer;
  /** `&kCFTypeDictionaryValueCallBacks`. */
  readonly valueCallBacks: Pointer;
}

type Functions = FfiLibrary<typeof CORE_FOUNDATION>["symbols"] & FfiLibrary<typeof SECURITY>["symbols"];

/** The functions (named after their C symbols) and constants the macOS backend uses, and the provider they run on. */
export interface MacosApi extends Functions {
  /** The FFI provider: memory access, and whether `.async` leaves the main thread. */
  readonly ffi: FfiProvider;
  readonly constants: MacosConstants;
}

/** Which frameworks to load and through which FFI provider. */
export interface MacosLibraries extends FfiOptions {
  /** Path of the Security framework binary. */
  readonly securityPath: string;
  /** Path of the CoreFoundation framework binary (may be the same file). */
  readonly coreFoundationPath: string;
}

/** `kCFStringEncodingUTF8` from CFString.h. */
export const kCFStringEncodingUTF8 = 0x08000100;

/** Where the frameworks live on every macOS since 11 (served from the dyld shared cache). */
export const DEFAULT_SECURITY_PATH = "/System/Library/Frameworks/Security.framework/Security";
/** See {@linkcode DEFAULT_SECURITY_PATH}. */
export const DEFAULT_CORE_FOUNDATION_PATH = "/System/Library/Frameworks/CoreFoundation.framework/CoreFoundation";

/** Per provider and library paths: one process may use stores on several providers, and tests point at a stand-in. */
const bound = new Map<string, MacosApi>();

/**
 * Returns the bound API for these library paths on the chosen FFI provider,
 * loading the provider and the libraries on first use.
 *
 * @throws {KeyringError} kind `unavailable` (backend `"macos"`) when the
 * provider (koffi, say), a library, a function or a constant cannot be loaded.
 */
export function bindMacos(libraries: MacosLibraries): MacosApi {
  const ffi = loadFfiProviderFor("macos", { ffi: libraries.ffi });
  const { securityPath, coreFoundationPath } = libraries;
  const key = `${ffi.name}\0${securityPath}\0${coreFoundationPath}`;
  const cached = bound.get(key);
  if (cached !== undefined) return cached;
  let api: MacosApi;
  try {
    api = bind(ffi, securityPath, coreFoundationPath);
  } catch (error) {
    throw new KeyringError(
      `cannot use Security.framework (${securityPath}) and CoreFoundation (${coreFoundationPath}) through the ${ffi.name} FFI provider: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { kind: "unavailable", reason: "no-library", backend: "macos", cause: error },
    );
  }
  bound.set(key, api);
  return api;
}

function bind(ffi: FfiProvider, securityPath: string, coreFoundationPath: string): MacosApi {
  const cf = ffi.open(coreFoundationPath, CORE_FOUNDATION);
  let sec: FfiLibrary<typeof SECURITY>;
  try {
    sec = ffi.open(securityPath, SECURITY);
  } catch (error) {
    cf.close();
    throw error;
  }
  try {
    // Data symbols: symbol() is the variable's address; a CFStringRef constant is the pointer stored there.
    const constant = (lib: { symbol(name: string): Pointer }, name: string): Pointer => {
      const value = ffi.readPointer(lib.symbol(name));
      if (value === null) throw new Error(`the constant ${name} is NULL`);
      return value;
    };
    const constants: MacosConstants = {
      kSecClass: constant(sec, "kSecClass"),
      kSecClassGenericPassword: constant(sec, "kSecClassGenericPassword"),
      kSecAttrService: constant(sec, "kSecAttrService"),
      kSecAttrAccount: constant(sec, "kSecAttrAccount"),
      kSecAttrLabel: constant(sec, "kSecAttrLabel"),
      kSecValueData: constant(sec, "kSecValueData"),
      kSecReturnData: constant(sec, "kSecReturnData"),
      kSecMatchLimit: constant(sec, "kSecMatchLimit"),
      kSecMatchLimitOne: constant(sec, "kSecMatchLimitOne"),
      kCFBooleanTrue: constant(cf, "kCFBooleanTrue"),
      keyCallBacks: cf.symbol("kCFTypeDictionaryKeyCallBacks"),
      valueCallBacks: cf.symbol("kCFTypeDictionaryValueCallBacks"),
    };
    return { ffi, ...cf.symbols, ...sec.symbols, constants };
  } catch (error) {
    sec.close();
    cf.close();
    throw error;
  }
}
