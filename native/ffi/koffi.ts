/**
 * The koffi provider: the default on Node, and usable on Bun and Deno too
 * (`AUTHKEEP_FFI=koffi`). koffi itself is loaded on the first `open()`, not
 * when this module is imported.
 *
 * koffi 3 represents pointers as `bigint` (and `NULL` as `null`), so a
 * {@linkcode Pointer} here is a `bigint` and pointer arithmetic is plain
 * addition. `.async` runs the call on koffi's worker threads.
 *
 * @module
 */
import { loadKoffi, type Koffi } from "../_koffi.ts";
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
 * @throws {import("../../src/keyring-error.ts").KeyringError} kind
 * `unavailable` on first use when koffi is not installed.
 * @example
 * ```ts
 * import { createKoffiProvider } from "./node_modules/authkeep/native/ffi/koffi.ts";
 *
 * const ffi = createKoffiProvider();
 * const libc = ffi.open("libc.so.6", { getpid: { args: [], returns: "i32" } });
 * console.log(libc.symbols.getpid() === process.pid); // true
 * console.log(await libc.symbols.getpid.async() === process.pid); // true, from a koffi worker thread
 * libc.close();
 * ```
 */
export function createKoffiProvider(): FfiProvider {
  let koffi: Koffi | undefined;
  const k = (): Koffi => (koffi ??= loadKoffi("ffi"));

  function wrap(fn: KoffiFn, def: { args: readonly FfiArgType[]; returns: FfiResultType }) {
    const strings = def.args.map((type) => type === "cstring");
    const hasString = strings.includes(true);
    const check = (args: unknown[]): void => {
      if (!hasString) return;
      args.forEach((arg, i) => {
        if (strings[i] && arg !== null) checkCString(arg as string);
      });
    };
    const convert = (value: unknown): unknown => {
      switch (def.returns) {
        case "i64":
        case "u64":
          return toBigInt(value);
        case "pointer":
          return asPointer(value as bigint | null);
        case "void":
          return undefined;
        default:
          return value;
      }
    };
    const call = (...args: unknown[]): unknown => {
      check(args);
      return convert(fn(...args));
    };
    call.async = (...args: unknown[]): Promise<unknown> =>
      new Promise((resolve, reject) => {
        check(args);
        fn.async(...args, (error: unknown, value: unknown) => (error ? reject(error) : resolve(convert(value))));
      });
    return call;
  }

  return {
    name: "koffi",
    offThread: true,
    open<const D extends FfiSymbols>(path: string, symbols: D): FfiLibrary<D> {
      const lib = k().load(path);
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
      const koffi = k();
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
      return k().decode(raw(pointer), offset, "char", -1) as string;
    },
    readBytes(pointer: Pointer, length: number, offset = 0): Uint8Array {
      if (length === 0) return new Uint8Array(0);
      return new Uint8Array(k().view(raw(pointer) + BigInt(offset), length) as ArrayBuffer).slice();
    },
    view(pointer: Pointer, byteLength: number): DataView {
      return new DataView(k().view(raw(pointer), byteLength) as ArrayBuffer);
    },
    readPointer(from: Pointer | NativeBuffer, offset = 0): Pointer | null {
      if (ArrayBuffer.isView(from)) return asPointer(readAddress(from, offset));
      return asPointer(new DataView(k().view(raw(from) + BigInt(offset), 8) as ArrayBuffer).getBigUint64(0, true));
    },
    address: (pointer: Pointer | null): bigint => (pointer === null ? 0n : raw(pointer)),
    fromAddress: (address: bigint): Pointer | null => asPointer(address),
    pointerOf: (buffer: NativeBuffer): Pointer => asPointer(k().address(buffer) as bigint) as Pointer,
  };
}
