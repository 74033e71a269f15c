/**
 * The ffi-provider-*.test.ts files' loop: one describe per FFI provider this runtime can run
 * (koffi everywhere, plus `Deno.dlopen` on Deno and `bun:ffi` on Bun), against real Linux
 * libraries (libc, libglib-2.0), skipped elsewhere.
 *
 * @module
 */
import process from "node:process";
import { describe } from "node:test";
import { detectRuntime, type FfiProvider, type FfiProviderName, loadFfiProvider } from "../../native/ffi/index.ts";

const runtime = detectRuntime();
const linux = process.platform === "linux";
const providers: FfiProviderName[] = runtime === "node" ? ["koffi"] : ["koffi", runtime];

/** `body` once per provider, inside a describe titled `${name} provider: ${topic}`; `ffi()` loads that provider. */
export function describeEachProvider(topic: string, body: (ffi: () => FfiProvider, name: FfiProviderName) => void): void {
  for (const name of providers) {
    describe(`${name} provider: ${topic}`, { skip: !linux && "libc.so.6 and libglib-2.0 are Linux libraries" }, () => {
      const ffi = (): FfiProvider => loadFfiProvider({ ffi: name });
      body(ffi, name);
    });
  }
}
