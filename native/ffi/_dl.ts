/**
 * Where `dlopen`/`dlsym` live, for the providers whose FFI has no way to ask
 * for a symbol's address (`Deno.dlopen`, `bun:ffi`): they call the dynamic
 * loader themselves through their own FFI.
 *
 * @module
 */
import { platform } from "../../src/contract/_runtime.ts";

/** `RTLD_LAZY`, the same value on glibc, musl and macOS. */
export const RTLD_LAZY = 1;

/**
 * The libraries to try, in order, for `dlopen`/`dlsym`/`dlclose`: glibc ≥ 2.34
 * has them in libc, older glibc in libdl; macOS in libSystem. Windows uses
 * `LoadLibraryA`/`GetProcAddress` from kernel32 instead (`kernel32.dll`).
 */
export function dynamicLoaderLibraries(os: string = platform()): readonly string[] {
  if (os === "darwin") return ["/usr/lib/libSystem.B.dylib"];
  if (os === "win32") return ["kernel32.dll"];
  return ["libc.so.6", "libdl.so.2"];
}

/** The platform's dynamic loader as one provider reaches it (handles are that provider's pointers). */
export interface DynamicLoader<Handle, Address> {
  open(path: string): Handle;
  symbol(handle: Handle, name: string, path: string): Address;
  close(handle: Handle): void;
}

/**
 * Symbol-address lookup for one library, shared by the providers that need
 * the loader for it: the loader and the library handle are opened on the
 * first lookup only, and `close` releases the handle if one was opened.
 */
export function lazySymbolLookup<Handle, Address>(
  path: string,
  openLoader: () => DynamicLoader<Handle, Address>,
): { symbol(name: string): Address; close(): void } {
  let loader: DynamicLoader<Handle, Address> | undefined;
  let handle: Handle | undefined;
  return {
    symbol(name: string): Address {
      loader ??= openLoader();
      handle ??= loader.open(path);
      return loader.symbol(handle, name, path);
    },
    close(): void {
      if (handle !== undefined && loader !== undefined) loader.close(handle);
      handle = undefined;
    },
  };
}
