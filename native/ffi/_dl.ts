/**
 * Where `dlopen`/`dlsym` live, for the providers whose FFI has no way to ask
 * for a symbol's address (`Deno.dlopen`, `bun:ffi`): they call the dynamic
 * loader themselves through their own FFI.
 *
 * @module
 */
import process from "node:process";

/** `RTLD_LAZY`, the same value on glibc, musl and macOS. */
export const RTLD_LAZY = 1;

/**
 * The libraries to try, in order, for `dlopen`/`dlsym`/`dlclose`: glibc ≥ 2.34
 * has them in libc, older glibc in libdl; macOS in libSystem. Windows uses
 * `LoadLibraryA`/`GetProcAddress` from kernel32 instead (`kernel32.dll`).
 *
 * @example
 * ```ts
 * // Internal module: the package exports no subpath for it, hence the deep path.
 * import { dynamicLoaderLibraries } from "./node_modules/authkeep/native/ffi/_dl.ts";
 *
 * console.log(dynamicLoaderLibraries("linux")); // ["libc.so.6", "libdl.so.2"]
 * ```
 */
export function dynamicLoaderLibraries(platform: string = process.platform): readonly string[] {
  if (platform === "darwin") return ["/usr/lib/libSystem.B.dylib"];
  if (platform === "win32") return ["kernel32.dll"];
  return ["libc.so.6", "libdl.so.2"];
}
