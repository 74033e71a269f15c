/**
 * Keeps an already loaded shared library mapped for the life of the process.
 *
 * A library opened through `Deno.dlopen` belongs to the JS context that
 * opened it: when a Deno worker ends (and `deno test` ends one per test file)
 * its handles are closed, and a library nothing else holds is unmapped. For
 * libsecret that is fatal: its GObject types stay registered in libgobject
 * while its `g_once` guards are reset, so the next load registers them again
 * ("cannot register existing type 'SecretService'", then broken objects).
 * Setting `RTLD_NODELETE` on the loaded library (glibc's `dlopen` with
 * `RTLD_NOLOAD`) makes every later close a no-op.
 *
 * @module
 */
import { platform } from "../../src/contract/_runtime.ts";
import type { FfiLibrary, FfiProvider } from "./provider.ts";

/** glibc's flags (`<dlfcn.h>`, Linux). */
const RTLD_NOW = 0x2;
const RTLD_NOLOAD = 0x4;
const RTLD_NODELETE = 0x1000;
/** `dlopen` is in libc since glibc 2.34, in libdl before. */
const DL_NAMES = ["libc.so.6", "libdl.so.2"];

const DLOPEN = { dlopen: { args: ["cstring", "i32"], returns: "pointer" } } as const;

/**
 * Marks already loaded libraries `RTLD_NODELETE`, so that no close (a Deno
 * worker ending, say) unmaps them. Best effort: returns how many were pinned,
 * `0` where this is not glibc Linux.
 *
 * @param ffi The provider to call `dlopen` with.
 * @param paths The names the libraries were opened with.
 */
export function pinLoadedLibraries(ffi: FfiProvider, paths: readonly string[]): number {
  if (platform() !== "linux") return 0;
  for (const name of DL_NAMES) {
    let dl: FfiLibrary<typeof DLOPEN>;
    try {
      dl = ffi.open(name, DLOPEN);
    } catch {
      continue;
    }
    // The handles dlopen returns are never closed: a pinned library stays anyway.
    return paths.filter((path) => dl.symbols.dlopen(path, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE) !== null).length;
  }
  return 0;
}
