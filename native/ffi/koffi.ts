/**
 * The koffi provider: the default on Node, and usable on Bun and Deno too
 * (`AUTHKEEP_FFI=koffi`). koffi itself is loaded when the provider is
 * created (by the first `loadFfiProvider()` that names it), not when this
 * module is imported.
 *
 * koffi 3 represents pointers as `bigint` (and `NULL` as `null`), so a
 * {@linkcode Pointer} here is a `bigint` and pointer arithmetic is plain
 * addition. `.async` runs the call on koffi's worker threads.
 *
 * @module
 */
import { loadKoffi, type Koffi } from "./_koffi.ts";
import { checkCString, readAddress, toBigInt } from "./_values.ts";
import type {
  BoundSymbols,
  FfiArgType,
  FfiCallbackDef,
  FfiCallbackFunction,
  FfiLibrary,
  FfiProvider,
  FfiResultType,
  FfiSymbols,
  NativeBuffer,
  NativeCallback,
  Pointer,
} from "./provider.ts";

type KoffiFn = ((...args: unknown[]) => unknown) & {
  async: (...args: unknown[]) => void;
};

const ARG_TYPES: Readonly<Record<FfiArgType, string>> = {
  bool: "bool",
  i32: "int32_t",
  u32: "uint32_t",
  i64: "int64_t",
  u64: "uint64_t",
  pointer: "void *",
  buffer: "void *",
  cstring: "const char *",
};

const RESULT_TYPES: Readonly<Record<FfiResultType, string>> = {
  void: "void",
  bool: "bool",
  i32: "int32_t",
  u32: "uint32_t",
  i64: "int64_t",
  u64: "uint64_t",
  pointer: "void *",
  cstring: "const char *",
};

const asPointer = (value: bigint | null): Pointer | null =>
  value === null || value === 0n ? null : (value as unknown as Pointer);
const raw = (pointer: Pointer): bigint => pointer as unknown as bigint;

/**
 * Creates the koffi provider.
 *
 * @throws {import("../../src/contract/keyring-error.ts").KeyringError} kind
 * `unavailable` on first use when koffi is not installed.
 */
export function createKoffiProvider(): FfiProvider {
  // Loaded now, so that a missing koffi fails at loadFfiProvider() (the first
  // keyring call) with its install hint, a KeyringError of kind "unavailable".
  const koffi: Koffi = loadKoffi("ffi");

  /**
   * The declared function as the interface wants it. This sits on every C
   * call of a keyring operation, so it does only what a signature needs: a
   * function with no `cstring` argument and a result koffi already returns in
   * the interface's form (`void`, integers up to 32 bits, `cstring`, and
   * pointers, which koffi 3 returns as a `bigint` or `null`) is koffi's own
   * function, bound; the others get a NUL check or a `bigint` conversion.
   */
  function wrap(fn: KoffiFn, def: { args: readonly FfiArgType[]; returns: FfiResultType }) {
    const stringAt = def.args.flatMap((type, i) => (type === "cstring" ? [i] : []));
    const wide = def.returns === "i64" || def.returns === "u64";
    const check = (args: unknown[]): void => {
      for (const i of stringAt) if (args[i] !== null) checkCString(args[i] as string);
    };
    // koffi 3 returns NULL as `null`; asPointer also maps a `0n`, in case a version returns it.
    const convert: ((value: unknown) => unknown) | undefined = wide
      ? toBigInt
      : def.returns === "pointer" ? (value) => asPointer(value as bigint | null) : undefined;
    const checked = stringAt.length === 0 ? fn : (...args: unknown[]): unknown => {
      check(args);
      return fn(...args);
    };
    const call: ((...args: unknown[]) => unknown) & { async?: unknown } = convert === undefined
      ? (stringAt.length === 0 ? fn.bind(null) : checked)
      : (...args: unknown[]): unknown => convert(checked(...args));
    call.async = (...args: unknown[]): Promise<unknown> =>
      new Promise((resolve, reject) => {
        check(args);
        fn.async(...args, (error: unknown, value: unknown) => {
          if (error) reject(error);
          else resolve(convert === undefined ? value : convert(value));
        });
      });
    return call;
  }

  return {
    name: "koffi",
    offThread: true,
    open<const D extends FfiSymbols>(path: string, symbols: D): FfiLibrary<D> {
      const lib = koffi.load(path);
      try {
        const bound: Record<string, unknown> = {};
        for (const [name, def] of Object.entries(symbols)) {
          const fn = lib.func(name, RESULT_TYPES[def.returns], def.args.map((type) => ARG_TYPES[type])) as KoffiFn;
          bound[name] = wrap(fn, def);
        }
        return {
          symbols: bound as BoundSymbols<D>,
          symbol(name: string): Pointer {
            const address = asPointer(lib.symbol(name) as bigint | null);
            if (address === null) throw new Error(`symbol ${name} not found in ${path}`);
            return address;
          },
          close: () => lib.unload(),
        };
      } catch (error) {
        lib.unload();
        throw error;
      }
    },
    callback<const C extends FfiCallbackDef>(def: C, fn: FfiCallbackFunction<C>): NativeCallback {
      const proto = koffi.proto(RESULT_TYPES[def.returns], def.args.map((type) => ARG_TYPES[type]));
      const invoke = fn as (...args: unknown[]) => unknown;
      const address = koffi.register((...args: unknown[]) => {
        const values = args.map((value, i) => {
          const type = def.args[i];
          if (type === "i64" || type === "u64") return toBigInt(value);
          if (type === "pointer") return asPointer(value as bigint | null);
          return value;
        });
        const result = invoke(...values);
        return def.returns === "void" ? undefined : result;
      }, koffi.pointer(proto)) as bigint;
      return { pointer: address as unknown as Pointer, close: () => koffi.unregister(address) };
    },
    readCString(pointer: Pointer, offset = 0): string {
      return koffi.decode(raw(pointer), offset, "char", -1) as string;
    },
    readBytes(pointer: Pointer, length: number, offset = 0): Uint8Array {
      if (length === 0) return new Uint8Array(0);
      // A copy by decode: koffi.view's external buffers were measured to hold memory.
      return koffi.decode(raw(pointer), offset, "uint8_t", length) as Uint8Array;
    },
    view(pointer: Pointer, byteLength: number): DataView {
      return new DataView(koffi.view(raw(pointer), byteLength) as ArrayBuffer);
    },
    readPointer(from: Pointer | NativeBuffer, offset = 0): Pointer | null {
      if (ArrayBuffer.isView(from)) return asPointer(readAddress(from, offset));
      return asPointer(koffi.decode(raw(from), offset, "void *") as bigint | null);
    },
    address: (pointer: Pointer | null): bigint => (pointer === null ? 0n : raw(pointer)),
    fromAddress: (address: bigint): Pointer | null => asPointer(address),
    pointerOf: (buffer: NativeBuffer): Pointer => asPointer(koffi.address(buffer) as bigint) as Pointer,
  };
}
