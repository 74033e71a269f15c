/**
 * The `bun:ffi` provider: the default on Bun, needing nothing from npm.
 *
 * bun:ffi cannot run a call off the main thread, so `.async` here is the
 * synchronous call wrapped in a promise: it blocks the event loop until C
 * returns, and no JS timer can fire meanwhile (`offThread: false`). The bound
 * on such a call is therefore whatever bound the C library itself applies
 * (for libsecret, the D-Bus method timeout); see PORTING.md. Use
 * `AUTHKEEP_FFI=koffi` on Bun to get calls off the main thread.
 *
 * @module
 */
import { platform } from "../../src/contract/_runtime.ts";
import { type DynamicLoader, dynamicLoaderLibraries, lazySymbolLookup, RTLD_LAZY } from "./_dl.ts";
import { encodeCString, readAddress, toBigInt } from "./_values.ts";
import type {
  BoundSymbols,
  FfiArgType,
  FfiCallbackDef,
  FfiCallbackFunction,
  FfiFunctionDef,
  FfiLibrary,
  FfiProvider,
  FfiResultType,
  FfiSymbols,
  NativeBuffer,
  NativeCallback,
  Pointer,
} from "./provider.ts";

// A minimal local shim of the bun:ffi types (no dependency on @types/bun).
type BunPointer = number;
interface BunFfiFunction {
  args: string[];
  returns: string;
}
interface BunFfi {
  dlopen(path: string, symbols: Record<string, BunFfiFunction>): {
    symbols: Record<string, (...args: unknown[]) => unknown>;
    close(): void;
  };
  ptr(buffer: NativeBuffer): BunPointer;
  toArrayBuffer(pointer: BunPointer, byteOffset: number, byteLength: number): ArrayBuffer;
  CString: new (pointer: BunPointer, byteOffset?: number) => string;
  JSCallback: new (
    callback: (...args: unknown[]) => unknown,
    definition: BunFfiFunction,
  ) => { ptr: BunPointer | null; close(): void };
}

const ARG_TYPES: Readonly<Record<FfiArgType, string>> = {
  bool: "bool",
  i32: "i32",
  u32: "u32",
  i64: "i64",
  u64: "u64",
  pointer: "ptr",
  buffer: "ptr",
  cstring: "ptr",
};

const RESULT_TYPES: Readonly<Record<FfiResultType, string>> = {
  void: "void",
  bool: "bool",
  i32: "i32",
  u32: "u32",
  i64: "i64",
  u64: "u64",
  pointer: "ptr",
  cstring: "ptr",
};

let bunFfi: BunFfi | undefined;

function bun(): BunFfi {
  if (bunFfi !== undefined) return bunFfi;
  if ((globalThis as { Bun?: unknown }).Bun === undefined) {
    throw new Error("the bun FFI provider needs the Bun runtime (bun:ffi)");
  }
  // A variable specifier, loaded on first use: importing authkeep never loads bun:ffi.
  const specifier = "bun:ffi";
  bunFfi = process.getBuiltinModule("node:module").createRequire(import.meta.url)(specifier) as BunFfi;
  return bunFfi;
}

const raw = (pointer: Pointer): BunPointer => pointer as unknown as BunPointer;
const asPointer = (value: number | null | undefined): Pointer | null =>
  value === null || value === undefined || value === 0 ? null : (value as unknown as Pointer);

/**
 * Creates the `bun:ffi` provider.
 *
 * @throws {Error} on first use outside Bun.
 */
export function createBunProvider(): FfiProvider {
  let loader: DynamicLoader<Pointer, Pointer> | undefined;
  const sharedLoader = (): DynamicLoader<Pointer, Pointer> => (loader ??= openDynamicLoader());

  function wrap(fn: (...args: unknown[]) => unknown, def: FfiFunctionDef) {
    const strings = def.args.map((type) => type === "cstring");
    const hasString = strings.includes(true);
    const encode = (args: unknown[]): unknown[] =>
      hasString ? args.map((arg, i) => (strings[i] && arg !== null ? encodeCString(arg as string) : arg)) : args;
    const convert = (value: unknown): unknown => {
      switch (def.returns) {
        case "i64":
        case "u64":
          return toBigInt(value);
        case "pointer":
          return asPointer(value as number | null);
        case "cstring":
          return value === null || value === 0 ? null : String(new (bun().CString)(value as number));
        case "void":
          return undefined;
        default:
          return value;
      }
    };
    const call = (...args: unknown[]): unknown => convert(fn(...encode(args)));
    // Not off the main thread: the call runs now, inside the executor, and blocks until C returns.
    call.async = (...args: unknown[]): Promise<unknown> => new Promise((resolve) => resolve(call(...args)));
    return call;
  }

  const provider: FfiProvider = {
    name: "bun",
    offThread: false,
    open<const D extends FfiSymbols>(path: string, symbols: D): FfiLibrary<D> {
      const declared: Record<string, BunFfiFunction> = {};
      for (const [name, def] of Object.entries(symbols)) {
        declared[name] = { args: def.args.map((type) => ARG_TYPES[type]), returns: RESULT_TYPES[def.returns] };
      }
      const lib = bun().dlopen(path, declared);
      const bound: Record<string, unknown> = {};
      for (const [name, def] of Object.entries(symbols)) bound[name] = wrap(lib.symbols[name]!, def);
      const lookup = lazySymbolLookup(path, sharedLoader);
      return {
        symbols: bound as BoundSymbols<D>,
        symbol: (name: string): Pointer => lookup.symbol(name),
        close(): void {
          lookup.close();
          lib.close();
        },
      };
    },
    callback<const C extends FfiCallbackDef>(def: C, fn: FfiCallbackFunction<C>): NativeCallback {
      const invoke = fn as (...args: unknown[]) => unknown;
      const callback = new (bun().JSCallback)((...args: unknown[]) => {
        const values = args.map((value, i) => {
          const type = def.args[i];
          if (type === "i64" || type === "u64") return toBigInt(value);
          if (type === "pointer") return asPointer(value as number | null);
          if (type === "cstring") return value === null || value === 0 ? null : String(new (bun().CString)(value as number));
          return value;
        });
        const result = invoke(...values);
        return def.returns === "void" ? undefined : result;
      }, { args: def.args.map((type) => ARG_TYPES[type]), returns: RESULT_TYPES[def.returns] });
      const pointer = asPointer(callback.ptr);
      if (pointer === null) throw new Error("bun:ffi could not create the callback");
      return { pointer, close: () => callback.close() };
    },
    readCString: (pointer: Pointer, offset = 0): string => String(new (bun().CString)(raw(pointer), offset)),
    readBytes: (pointer: Pointer, length: number, offset = 0): Uint8Array =>
      length === 0 ? new Uint8Array(0) : new Uint8Array(bun().toArrayBuffer(raw(pointer), offset, length)).slice(),
    view: (pointer: Pointer, byteLength: number): DataView =>
      new DataView(bun().toArrayBuffer(raw(pointer), 0, byteLength)),
    readPointer(from: Pointer | NativeBuffer, offset = 0): Pointer | null {
      if (ArrayBuffer.isView(from)) return provider.fromAddress(readAddress(from, offset));
      return provider.fromAddress(new DataView(bun().toArrayBuffer(raw(from), offset, 8)).getBigUint64(0, true));
    },
    address: (pointer: Pointer | null): bigint => (pointer === null ? 0n : BigInt(raw(pointer))),
    // Bun pointers are numbers; user-space addresses fit in 2^53 on x86_64 and arm64.
    fromAddress: (address: bigint): Pointer | null => asPointer(Number(address)),
    pointerOf: (buffer: NativeBuffer): Pointer => asPointer(bun().ptr(buffer)) as Pointer,
  };
  return provider;
}

// bun:ffi has no public way to ask for a data symbol's address, so ask the platform's loader.
function openDynamicLoader(): DynamicLoader<Pointer, Pointer> {
  const windows = platform() === "win32";
  let lastError: unknown;
  for (const candidate of dynamicLoaderLibraries()) {
    try {
      const names = windows ? ["LoadLibraryA", "GetProcAddress", "FreeLibrary"] : ["dlopen", "dlsym", "dlclose"];
      const lib = bun().dlopen(candidate, {
        [names[0]!]: { args: windows ? ["ptr"] : ["ptr", "i32"], returns: "ptr" },
        [names[1]!]: { args: ["ptr", "ptr"], returns: "ptr" },
        [names[2]!]: { args: ["ptr"], returns: "i32" },
      });
      const open = lib.symbols[names[0]!]!;
      const sym = lib.symbols[names[1]!]!;
      const close = lib.symbols[names[2]!]!;
      return {
        open(path: string): Pointer {
          const handle = asPointer(
            (windows ? open(encodeCString(path)) : open(encodeCString(path), RTLD_LAZY)) as number | null,
          );
          if (handle === null) throw new Error(`cannot open ${path} to look up a symbol`);
          return handle;
        },
        symbol(handle: Pointer, name: string, path: string): Pointer {
          const address = asPointer(sym(raw(handle), encodeCString(name)) as number | null);
          if (address === null) throw new Error(`symbol ${name} not found in ${path}`);
          return address;
        },
        close: (handle: Pointer): void => void close(raw(handle)),
      };
    } catch (error) {
      lastError = error;
    }
  }
  throw new Error("cannot find the dynamic loader (dlopen/dlsym)", { cause: lastError });
}
