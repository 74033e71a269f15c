/**
 * The FFI providers the macOS keychain tests run the backend on: the
 * runtime's own first, then koffi on Bun and Deno where koffi loads. Shared
 * by the ABI stand-in tests (stand-in-suite.ts) and the real-keychain test. Not a test file itself.
 *
 * @module
 */
import { detectRuntime, type FfiProviderName, loadFfiProvider } from "../../native/ffi/index.ts";

/** A provider to run a suite on, and why that suite is skipped (`false`: it runs). */
export interface ProviderRun {
  readonly ffi: FfiProviderName;
  readonly skip: string | false;
}

/**
 * koffi on Node; `bun:ffi` and koffi on Bun; `Deno.dlopen` and koffi on
 * Deno. A koffi that does not load skips its run with the reason, as `skip`
 * does for every run.
 */
export function providerRuns(skip: string | false): ProviderRun[] {
  const runtime = detectRuntime();
  if (runtime === "node") return [{ ffi: "koffi", skip }];
  return [{ ffi: runtime, skip }, { ffi: "koffi", skip: skip || koffiMissing() }];
}

function koffiMissing(): string | false {
  try {
    loadFfiProvider({ ffi: "koffi" });
    return false;
  } catch (error) {
    return `koffi does not load here: ${error instanceof Error ? error.message : String(error)}`;
  }
}
