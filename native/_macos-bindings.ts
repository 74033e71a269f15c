/**
 * The koffi declarations of the Security.framework and CoreFoundation calls
 * that the macOS keychain backend makes, bound once per pair of library paths.
 *
 * Only the calls listed here are used, so that the ABI stand-in in
 * `test/macos-abi/security-standin.c` can implement exactly this set with the
 * same C signatures. macOS is LP64 on both x86_64 and arm64, so `CFIndex` is a
 * C `long` and `CFTypeID` an `unsigned long`.
 *
 * @module
 */
import { KeyringError } from "../src/keyring-error.ts";
import { loadKoffi, type Koffi } from "./_koffi.ts";

/** A CoreFoundation reference as koffi 3 passes it: the address as a BigInt. */
export type CFRef = bigint;
/** A CoreFoundation reference that may be `NULL` (koffi gives `null`). */
export type CFRefOrNull = bigint | null;
/** The `CFRange` struct, passed by value. */
export interface CFRange {
  location: number;
  length: number;
}

/**
 * A bound C function: callable on the calling thread, or through `.async` on
 * one of koffi's worker threads with a Node-style callback.
 */
export interface NativeFn<A extends unknown[], R> {
  (...args: A): R;
  async(...args: [...A, (error: unknown, result: R) => void]): void;
}

/** The data symbols read at bind time: CF constants and the callback tables' addresses. */
export interface MacosConstants {
  readonly kSecClass: CFRef;
  readonly kSecClassGenericPassword: CFRef;
  readonly kSecAttrService: CFRef;
  readonly kSecAttrAccount: CFRef;
  readonly kSecAttrLabel: CFRef;
  readonly kSecValueData: CFRef;
  readonly kSecReturnData: CFRef;
  readonly kSecMatchLimit: CFRef;
  readonly kSecMatchLimitOne: CFRef;
  readonly kCFBooleanTrue: CFRef;
  /** `&kCFTypeDictionaryKeyCallBacks` (the struct's address, not its contents). */
  readonly keyCallBacks: CFRef;
  /** `&kCFTypeDictionaryValueCallBacks`. */
  readonly valueCallBacks: CFRef;
}

/** The functions and constants the macOS backend uses. */
export interface MacosApi {
  readonly CFRelease: NativeFn<[CFRef], void>;
  readonly CFGetTypeID: NativeFn<[CFRef], number>;
  readonly CFDataGetTypeID: NativeFn<[], number>;
  readonly CFStringCreateWithBytes: NativeFn<[null, Uint8Array, number, number, number], CFRefOrNull>;
  readonly CFStringGetLength: NativeFn<[CFRef], number>;
  readonly CFStringGetMaximumSizeForEncoding: NativeFn<[number, number], number>;
  readonly CFStringGetCString: NativeFn<[CFRef, Uint8Array, number, number], number>;
  readonly CFDataCreate: NativeFn<[null, Uint8Array, number], CFRefOrNull>;
  readonly CFDataGetLength: NativeFn<[CFRef], number>;
  readonly CFDataGetBytes: NativeFn<[CFRef, CFRange, Uint8Array], void>;
  readonly CFDictionaryCreate: NativeFn<[null, CFRef[], CFRef[], number, CFRef, CFRef], CFRefOrNull>;
  readonly SecItemCopyMatching: NativeFn<[CFRef, [CFRefOrNull]], number>;
  readonly SecItemAdd: NativeFn<[CFRef, null], number>;
  readonly SecItemUpdate: NativeFn<[CFRef, CFRef], number>;
  readonly SecItemDelete: NativeFn<[CFRef], number>;
  readonly SecCopyErrorMessageString: NativeFn<[number, null], CFRefOrNull>;
  readonly constants: MacosConstants;
}

/** `kCFStringEncodingUTF8` from CFString.h. */
export const kCFStringEncodingUTF8 = 0x08000100;

/** Where the frameworks live on every macOS since 11 (served from the dyld shared cache). */
export const DEFAULT_SECURITY_PATH = "/System/Library/Frameworks/Security.framework/Security";
/** See {@linkcode DEFAULT_SECURITY_PATH}. */
export const DEFAULT_CORE_FOUNDATION_PATH = "/System/Library/Frameworks/CoreFoundation.framework/CoreFoundation";

const bound = new Map<string, MacosApi>();

/**
 * Returns the bound API for these library paths, loading koffi and the
 * libraries on first use.
 *
 * @throws {KeyringError} kind `unavailable` when koffi, a library, a function
 * or a constant cannot be loaded.
 */
export function bindMacos(securityPath: string, coreFoundationPath: string): MacosApi {
  const key = `${securityPath}\0${coreFoundationPath}`;
  const cached = bound.get(key);
  if (cached !== undefined) return cached;
  const koffi = loadKoffi("macos");
  let api: MacosApi;
  try {
    api = bind(koffi, securityPath, coreFoundationPath);
  } catch (error) {
    throw new KeyringError(
      `cannot use Security.framework (${securityPath}) and CoreFoundation (${coreFoundationPath}) through koffi: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { kind: "unavailable", backend: "macos", cause: error },
    );
  }
  bound.set(key, api);
  return api;
}

/** Declares a named type once per koffi instance: koffi's type names are global. */
function named(koffi: Koffi, name: string, make: () => unknown): void {
  try {
    koffi.type(name);
  } catch {
    make();
  }
}

function bind(koffi: Koffi, securityPath: string, coreFoundationPath: string): MacosApi {
  // Types first, in koffi's order: opaque handles, aliases, structs.
  for (const name of ["CFTypeRef", "CFStringRef", "CFDataRef", "CFDictionaryRef", "CFAllocatorRef"]) {
    named(koffi, name, () => koffi.pointer(name, koffi.opaque()));
  }
  named(koffi, "OSStatus", () => koffi.alias("OSStatus", "int32_t"));
  named(koffi, "CFIndex", () => koffi.alias("CFIndex", "long"));
  named(koffi, "CFTypeID", () => koffi.alias("CFTypeID", "unsigned long"));
  named(koffi, "CFStringEncoding", () => koffi.alias("CFStringEncoding", "uint32_t"));
  named(koffi, "Boolean", () => koffi.alias("Boolean", "uint8_t"));
  named(koffi, "CFRange", () => koffi.struct("CFRange", { location: "CFIndex", length: "CFIndex" }));

  const cf = koffi.load(coreFoundationPath);
  const sec = securityPath === coreFoundationPath ? cf : koffi.load(securityPath);

  // Data symbols: lib.symbol() gives the variable's address; a CFStringRef constant is read through it.
  const constant = (lib: Koffi, name: string): CFRef => {
    const value = koffi.decode(lib.symbol(name), "CFTypeRef") as CFRefOrNull;
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
    keyCallBacks: cf.symbol("kCFTypeDictionaryKeyCallBacks") as CFRef,
    valueCallBacks: cf.symbol("kCFTypeDictionaryValueCallBacks") as CFRef,
  };

  return {
    CFRelease: cf.func("void CFRelease(CFTypeRef cf)"),
    CFGetTypeID: cf.func("CFTypeID CFGetTypeID(CFTypeRef cf)"),
    CFDataGetTypeID: cf.func("CFTypeID CFDataGetTypeID(void)"),
    CFStringCreateWithBytes: cf.func(
      "CFStringRef CFStringCreateWithBytes(CFAllocatorRef alloc, const uint8_t *bytes, CFIndex numBytes, CFStringEncoding encoding, Boolean isExternalRepresentation)",
    ),
    CFStringGetLength: cf.func("CFIndex CFStringGetLength(CFStringRef theString)"),
    CFStringGetMaximumSizeForEncoding: cf.func(
      "CFIndex CFStringGetMaximumSizeForEncoding(CFIndex length, CFStringEncoding encoding)",
    ),
    CFStringGetCString: cf.func(
      "Boolean CFStringGetCString(CFStringRef theString, _Out_ uint8_t *buffer, CFIndex bufferSize, CFStringEncoding encoding)",
    ),
    CFDataCreate: cf.func("CFDataRef CFDataCreate(CFAllocatorRef alloc, const uint8_t *bytes, CFIndex length)"),
    CFDataGetLength: cf.func("CFIndex CFDataGetLength(CFDataRef theData)"),
    CFDataGetBytes: cf.func("void CFDataGetBytes(CFDataRef theData, CFRange range, _Out_ uint8_t *buffer)"),
    // The callback tables are passed as addresses, so they are typed as plain pointers here.
    CFDictionaryCreate: cf.func(
      "CFDictionaryRef CFDictionaryCreate(CFAllocatorRef alloc, const CFTypeRef *keys, const CFTypeRef *values, CFIndex numValues, void *keyCallBacks, void *valueCallBacks)",
    ),
    SecItemCopyMatching: sec.func("OSStatus SecItemCopyMatching(CFDictionaryRef query, _Out_ CFTypeRef *result)"),
    SecItemAdd: sec.func("OSStatus SecItemAdd(CFDictionaryRef attributes, _Out_ CFTypeRef *result)"),
    SecItemUpdate: sec.func("OSStatus SecItemUpdate(CFDictionaryRef query, CFDictionaryRef attributesToUpdate)"),
    SecItemDelete: sec.func("OSStatus SecItemDelete(CFDictionaryRef query)"),
    SecCopyErrorMessageString: sec.func("CFStringRef SecCopyErrorMessageString(OSStatus status, void *reserved)"),
    constants,
  };
}
