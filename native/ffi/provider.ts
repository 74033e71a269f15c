/**
 * The FFI provider interface: just big enough for authkeep's keyring
 * bindings, and small enough to implement on koffi, `Deno.dlopen` and
 * `bun:ffi` alike.
 *
 * A binding declares its C functions once, with the primitive types below,
 * and gets the same JS values back on every provider:
 *
 * | type      | C                                  | JS argument                 | JS result          |
 * |-----------|------------------------------------|-----------------------------|--------------------|
 * | `void`    | `void`                             | (not an argument)           | `undefined`        |
 * | `bool`    | `_Bool` (1 byte, **not** `gboolean`/`BOOL`, use `i32`) | `boolean` | `boolean`      |
 * | `i32`     | `int32_t`, `int`, `gboolean`, `BOOL`, `OSStatus` | `number`      | `number`           |
 * | `u32`     | `uint32_t`, `DWORD`, `GQuark`      | `number`                    | `number`           |
 * | `i64`     | `int64_t`, `ssize_t`, `CFIndex`    | `number \| bigint`          | `bigint`           |
 * | `u64`     | `uint64_t`, `size_t`, `gsize`      | `number \| bigint`          | `bigint`           |
 * | `pointer` | any `T *` owned by C               | `Pointer \| null`           | `Pointer \| null`  |
 * | `buffer`  | `T *` into JS memory (in/out)      | {@linkcode NativeBuffer} `\| null` | (not a result) |
 * | `cstring` | `const char *` (UTF-8, NUL-terminated) | `string \| null`        | `string \| null` (not freed) |
 *
 * Why these rules:
 * - 64-bit results are always `bigint`, because koffi returns a `number`
 *   when the value fits and Deno/Bun always return a `bigint`.
 * - `NULL` is always `null`, in both directions.
 * - A `cstring` argument is encoded to UTF-8 with its NUL by the provider (Deno
 *   and Bun do not), and a string that contains a NUL is refused with a
 *   `TypeError` rather than silently truncated by C.
 * - A `cstring` result is read and never freed: declare a function that
 *   returns memory you must free (`secret_password_lookupv_sync`) as `pointer`
 *   and use {@linkcode FfiProvider.readCString} before freeing it.
 * - No variadic functions and no by-value structs: neither `Deno.dlopen`
 *   nor `bun:ffi` can call variadic functions, and our bindings need no
 *   by-value struct. Structs are read and written through
 *   {@linkcode FfiProvider.view} at fixed offsets.
 * - JS callbacks ({@linkcode FfiProvider.callback}, e.g. a
 *   `GDBusSignalCallback`) take the result types as arguments and return an
 *   argument type. C may call them only on the JS thread, while a call made
 *   from JS is on the stack (for glib: from `g_main_context_iteration`), never
 *   from another thread.
 * - 64-bit little-endian targets only (x86_64, arm64): pointers are
 *   {@linkcode POINTER_SIZE} bytes.
 *
 * @module
 */

/** The name of an FFI provider. */
export type FfiProviderName = "koffi" | "deno" | "bun";

/** Every provider name, in the order they are documented. */
export const FFI_PROVIDER_NAMES: readonly FfiProviderName[] = ["koffi", "deno", "bun"];

/** The size of a C pointer on every supported target (64-bit only). */
export const POINTER_SIZE = 8;

/** A C type that may be a function argument. */
export type FfiArgType = "bool" | "i32" | "u32" | "i64" | "u64" | "pointer" | "buffer" | "cstring";

/** A C type that may be a function result. */
export type FfiResultType = "void" | "bool" | "i32" | "u32" | "i64" | "u64" | "pointer" | "cstring";

declare const pointerBrand: unique symbol;

/**
 * A non-NULL C pointer, opaque on purpose: it is a `bigint` on koffi 3, a
 * `Deno.PointerObject` on Deno and a `number` on Bun. Compare with
 * {@linkcode FfiProvider.address}, build one with
 * {@linkcode FfiProvider.fromAddress}. `NULL` is `null`.
 */
export type Pointer = { readonly [pointerBrand]: true };

/**
 * JS memory passed to C by address (`buffer` arguments), for inputs and
 * out-parameters. Only typed arrays: every provider accepts them, and their
 * memory does not move while C uses it.
 */
export type NativeBuffer = Uint8Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/** One C function's signature. */
export interface FfiFunctionDef {
  /** The argument types, in order. */
  readonly args: readonly FfiArgType[];
  /** The result type. */
  readonly returns: FfiResultType;
}

/** The functions to declare from one library, by exported symbol name. */
export type FfiSymbols = Readonly<Record<string, FfiFunctionDef>>;

/** The JS value passed for an argument of type `T`. */
export type FfiArgValue<T extends FfiArgType> =
  T extends "bool" ? boolean
  : T extends "i32" | "u32" ? number
  : T extends "i64" | "u64" ? number | bigint
  : T extends "pointer" ? Pointer | null
  : T extends "buffer" ? NativeBuffer | null
  : T extends "cstring" ? string | null
  : never;

/** The JS value returned for a result of type `T`. */
export type FfiResultValue<T extends FfiResultType> =
  T extends "void" ? undefined
  : T extends "bool" ? boolean
  : T extends "i32" | "u32" ? number
  : T extends "i64" | "u64" ? bigint
  : T extends "pointer" ? Pointer | null
  : T extends "cstring" ? string | null
  : never;

/** The JS argument list for a tuple of argument types. */
export type FfiArgValues<A extends readonly FfiArgType[]> = { -readonly [K in keyof A]: FfiArgValue<A[K]> };

/** A declared C function. */
export interface NativeFunction<A extends readonly FfiArgType[], R extends FfiResultType> {
  /** Calls the function on the calling thread. */
  (...args: FfiArgValues<A>): FfiResultValue<R>;
  /**
   * Calls the function off the main thread where the provider can
   * ({@linkcode FfiProvider.offThread}); otherwise it runs synchronously on
   * the main thread and blocks it until C returns (bun:ffi). Buffers passed
   * here must stay untouched until the promise settles.
   */
  async(...args: FfiArgValues<A>): Promise<FfiResultValue<R>>;
}

/** The callable functions of an opened library. */
export type BoundSymbols<D extends FfiSymbols> = {
  readonly [K in keyof D]: NativeFunction<D[K]["args"], D[K]["returns"]>;
};

/** A C type that a JS callback may receive. */
export type FfiCallbackArgType = "bool" | "i32" | "u32" | "i64" | "u64" | "pointer" | "cstring";

/** A C type that a JS callback may return. */
export type FfiCallbackResultType = "void" | "bool" | "i32" | "u32" | "i64" | "u64" | "pointer";

/** A C function-pointer type, for a JS callback. */
export interface FfiCallbackDef {
  /** The argument types C passes, in order. */
  readonly args: readonly FfiCallbackArgType[];
  /** The result type C expects. */
  readonly returns: FfiCallbackResultType;
}

/** The JS function for a callback type: values arrive as results do, and leave as arguments do. */
export type FfiCallbackFunction<C extends FfiCallbackDef> = (
  ...args: FfiCallbackArgValues<C["args"]>
) => C["returns"] extends "void" ? void : FfiArgValue<Exclude<C["returns"], "void">>;

/** The JS arguments a callback receives for a tuple of callback argument types. */
export type FfiCallbackArgValues<A extends readonly FfiCallbackArgType[]> = { -readonly [K in keyof A]: FfiResultValue<A[K]> };

/** A JS function made callable from C. */
export interface NativeCallback {
  /** The C function pointer, to pass as a `pointer` argument. */
  readonly pointer: Pointer;
  /** Releases the trampoline; C must not call the pointer afterwards. */
  close(): void;
}

/** An opened shared library. */
export interface FfiLibrary<D extends FfiSymbols> {
  /** The declared functions. */
  readonly symbols: BoundSymbols<D>;
  /**
   * The address of an exported symbol of this library (a function to pass as
   * a C callback such as `g_str_hash`, or a data symbol such as
   * `kSecClass`, whose value {@linkcode FfiProvider.readPointer} reads).
   * @throws {Error} when the symbol does not exist.
   */
  symbol(name: string): Pointer;
  /** Unloads the library. The declared functions must not be called after. */
  close(): void;
}

/** An FFI implementation. */
export interface FfiProvider {
  /** Which provider this is. */
  readonly name: FfiProviderName;
  /**
   * Whether {@linkcode NativeFunction.async} really runs off the main
   * thread. `false` on bun:ffi: there an async call blocks the event loop
   * for as long as C takes, and a JS timeout cannot interrupt it.
   */
  readonly offThread: boolean;
  /**
   * Opens a shared library and declares its functions.
   * @throws {Error} when the library or a symbol cannot be found.
   */
  open<const D extends FfiSymbols>(path: string, symbols: D): FfiLibrary<D>;
  /**
   * Makes a JS function callable from C, e.g. a `GDBusSignalCallback`. Keep
   * the returned object referenced while C may call it, and `close()` it
   * after; C may call it only on the JS thread (see the module notes).
   */
  callback<const C extends FfiCallbackDef>(def: C, fn: FfiCallbackFunction<C>): NativeCallback;
  /** Reads the NUL-terminated UTF-8 string at `pointer + offset`. */
  readCString(pointer: Pointer, offset?: number): string;
  /** Copies `length` bytes from `pointer + offset` into a new JS array. */
  readBytes(pointer: Pointer, length: number, offset?: number): Uint8Array;
  /**
   * A view over native memory (no copy: writes go to C memory). Valid only
   * while C keeps that memory; multi-byte fields are little-endian.
   */
  view(pointer: Pointer, byteLength: number): DataView;
  /**
   * Reads a pointer stored at `offset` in native memory or in a JS buffer
   * (e.g. a `GError **` out-parameter, or a struct field).
   */
  readPointer(from: Pointer | NativeBuffer, offset?: number): Pointer | null;
  /** The numeric address of a pointer; `0n` for `null`. */
  address(pointer: Pointer | null): bigint;
  /** The pointer at a numeric address; `null` for `0n`. */
  fromAddress(address: bigint): Pointer | null;
  /**
   * The address of a JS buffer, to store inside a struct. The caller keeps
   * the buffer alive (referenced) for as long as C may read it.
   */
  pointerOf(buffer: NativeBuffer): Pointer;
}
