/**
 * The `Deno.dlopen` provider: the default on Deno, needing nothing from npm
 * (only `--allow-ffi`).
 *
 * Every function is declared twice in the same `dlopen`: once blocking, and
 * once with `nonblocking: true`, which Deno runs on its blocking thread pool
 * and resolves as a promise; that is `.async`.
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

// A minimal local shim of the Deno FFI API (no dependency on Deno's types).
type DenoPointer = object;
interface DenoForeignFunction {
  name?: string;
  parameters: string[];
  result: string;
  nonblocking?: boolean;
}
interface DenoDynamicLibrary {
  symbols: Record<string, (...args: unknown[]) => unknown>;
  close(): void;
}
interface DenoFfi {
  dlopen(path: string, symbols: Record<string, DenoForeignFunction>): DenoDynamicLibrary;
  UnsafePointer: {
    create(value: bigint): DenoPointer | null;
    value(pointer: DenoPointer | null): bigint | number;
    of(buffer: NativeBuffer): DenoPointer | null;
  };
  UnsafeCallback: new (
    definition: { parameters: string[]; result: string },
    callback: (...args: unknown[]) => unknown,
  ) => { pointer: DenoPointer; close(): void };
  UnsafePointerView: {
    getCString(pointer: DenoPointer, offset?: number): string;
    getArrayBuffer(pointer: DenoPointer, byteLength: number, offset?: number): ArrayBuffer;
    copyInto(pointer: DenoPointer, destination: Uint8Array, offset?: number): void;
  };
}

const ARG_TYPES: Readonly<Record<FfiArgType, string>> = {
  bool: "bool",
  i32: "i32",
  u32: "u32",
  i64: "i64",
  u64: "u64",
  pointer: "pointer",
  buffer: "buffer",
  cstring: "buffer",
};

const RESULT_TYPES: Readonly<Record<FfiResultType, string>> = {
  void: "void",
  bool: "bool",
  i32: "i32",
  u32: "u32",
  i64: "i64",
  u64: "u64",
  pointer: "pointer",
  cstring: "pointer",
};

const ASYNC_SUFFIX = "$authkeep_async";

function deno(): DenoFfi {
  const global = (globalThis as { Deno?: DenoFfi }).Deno;
  if (global === undefined || typeof global.dlopen !== "function") {
    throw new Error("the deno FFI provider needs the Deno runtime (Deno.dlopen)");
  }
  return global;
}

const raw = (pointer: Pointer): DenoPointer => pointer as unknown as DenoPointer;

/**
 * Creates the `Deno.dlopen` provider.
 *
 * @throws {Error} on first use outside Deno.
 */
export function createDenoProvider(): FfiProvider {
  let loader: DynamicLoader<DenoPointer, Pointer> | undefined;
  const sharedLoader = (): DynamicLoader<DenoPointer, Pointer> => (loader ??= openDynamicLoader());

  function wrap(blocking: (...args: unknown[]) => unknown, nonblocking: (...args: unknown[]) => unknown, def: FfiFunctionDef) {
    const strings = def.args.map((type) => type === "cstring");
    const hasString = strings.includes(true);
    const encode = (args: unknown[]): unknown[] =>
      hasString ? args.map((arg, i) => (strings[i] && arg !== null ? encodeCString(arg as string) : arg)) : args;
    const convert = (value: unknown): unknown => {
      switch (def.returns) {
        case "i64":
        case "u64":
          return toBigInt(value);
        case "cstring":
          return value === null ? null : deno().UnsafePointerView.getCString(value as DenoPointer);
        case "void":
          return undefined;
        default:
          return value;
      }
    };
    const call = (...args: unknown[]): unknown => convert(blocking(...encode(args)));
    call.async = async (...args: unknown[]): Promise<unknown> => {
      // Encoded strings stay referenced by `encoded` until the call settles.
      const encoded = encode(args);
      return convert(await (nonblocking(...encoded) as Promise<unknown>));
    };
    return call;
  }

  const provider: FfiProvider = {
    name: "deno",
    offThread: true,
    open<const D extends FfiSymbols>(path: string, symbols: D): FfiLibrary<D> {
      const declared: Record<string, DenoForeignFunction> = {};
      for (const [name, def] of Object.entries(symbols)) {
        const signature = { parameters: def.args.map((type) => ARG_TYPES[type]), result: RESULT_TYPES[def.returns] };
        declared[name] = signature;
        declared[name + ASYNC_SUFFIX] = { ...signature, name, nonblocking: true };
      }
      const lib = deno().dlopen(path, declared);
      const bound: Record<string, unknown> = {};
      for (const [name, def] of Object.entries(symbols)) {
        bound[name] = wrap(lib.symbols[name]!, lib.symbols[name + ASYNC_SUFFIX]!, def);
      }
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
      // "buffer" is not a callback parameter type in Deno: a C string arrives as a pointer.
      const parameters = def.args.map((type) => (type === "cstring" ? "pointer" : ARG_TYPES[type]));
      const callback = new (deno().UnsafeCallback)({ parameters, result: RESULT_TYPES[def.returns] }, (...args: unknown[]) => {
        const values = args.map((value, i) => {
          const type = def.args[i];
          if (type === "i64" || type === "u64") return toBigInt(value);
          if (type === "cstring") return value === null ? null : deno().UnsafePointerView.getCString(value as DenoPointer);
          return value;
        });
        const result = invoke(...values);
        return def.returns === "void" ? undefined : result;
      });
      return { pointer: callback.pointer as unknown as Pointer, close: () => callback.close() };
    },
    readCString: (pointer: Pointer, offset = 0): string => deno().UnsafePointerView.getCString(raw(pointer), offset),
    readBytes(pointer: Pointer, length: number, offset = 0): Uint8Array {
      const bytes = new Uint8Array(length);
      if (length > 0) deno().UnsafePointerView.copyInto(raw(pointer), bytes, offset);
      return bytes;
    },
    view: (pointer: Pointer, byteLength: number): DataView =>
      new DataView(deno().UnsafePointerView.getArrayBuffer(raw(pointer), byteLength)),
    readPointer(from: Pointer | NativeBuffer, offset = 0): Pointer | null {
      if (ArrayBuffer.isView(from)) return provider.fromAddress(readAddress(from, offset));
      const bytes = deno().UnsafePointerView.getArrayBuffer(raw(from), 8, offset);
      return provider.fromAddress(new DataView(bytes).getBigUint64(0, true));
    },
    address: (pointer: Pointer | null): bigint =>
      pointer === null ? 0n : toBigInt(deno().UnsafePointer.value(raw(pointer))),
    fromAddress: (address: bigint): Pointer | null => deno().UnsafePointer.create(address) as Pointer | null,
    pointerOf(buffer: NativeBuffer): Pointer {
      const pointer = deno().UnsafePointer.of(buffer);
      if (pointer === null) throw new TypeError("cannot take the address of an empty buffer");
      return pointer as unknown as Pointer;
    },
  };
  return provider;
}

// Deno.dlopen cannot tell a symbol's address, so ask the platform's loader.
function openDynamicLoader(): DynamicLoader<DenoPointer, Pointer> {
  const windows = platform() === "win32";
  let lastError: unknown;
  for (const candidate of dynamicLoaderLibraries()) {
    try {
      const lib = deno().dlopen(candidate, windows
        ? {
          open: { name: "LoadLibraryA", parameters: ["buffer"], result: "pointer" },
          sym: { name: "GetProcAddress", parameters: ["pointer", "buffer"], result: "pointer" },
          close: { name: "FreeLibrary", parameters: ["pointer"], result: "i32" },
        }
        : {
          open: { name: "dlopen", parameters: ["buffer", "i32"], result: "pointer" },
          sym: { name: "dlsym", parameters: ["pointer", "buffer"], result: "pointer" },
          close: { name: "dlclose", parameters: ["pointer"], result: "i32" },
        });
      const { open, sym, close } = lib.symbols as Record<"open" | "sym" | "close", (...args: unknown[]) => unknown>;
      return {
        open(path: string): DenoPointer {
          const handle = (windows ? open(encodeCString(path)) : open(encodeCString(path), RTLD_LAZY)) as DenoPointer | null;
          if (handle === null) throw new Error(`cannot open ${path} to look up a symbol`);
          return handle;
        },
        symbol(handle: DenoPointer, name: string, path: string): Pointer {
          const address = sym(handle, encodeCString(name)) as DenoPointer | null;
          if (address === null) throw new Error(`symbol ${name} not found in ${path}`);
          return address as unknown as Pointer;
        },
        close: (handle: DenoPointer): void => void close(handle),
      };
    } catch (error) {
      lastError = error;
    }
  }
  throw new Error("cannot find the dynamic loader (dlopen/dlsym)", { cause: lastError });
}
