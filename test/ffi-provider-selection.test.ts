/**
 * Choosing an FFI provider: the runtime's own by default, AUTHKEEP_FFI and the ffi option
 * overriding it, unknown names and a foreign runtime's FFI refused, one cached provider per name.
 * The providers themselves: ffi-provider-libc, -glib, -callbacks.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { describe, it } from "node:test";
import { KeyringError } from "../src/contract/keyring-error.ts";
import { detectRuntime, type FfiProviderName, loadFfiProvider, resolveFfiProviderName } from "../native/ffi/index.ts";

const runtime = detectRuntime();

describe("ffi provider selection", () => {
  it("defaults to the runtime's own FFI", () => {
    const expected = { node: "koffi", bun: "bun", deno: "deno" }[runtime];
    assert.equal(resolveFfiProviderName({}, null), expected);
    // With no argument it reads AUTHKEEP_FFI (set by scripts/test-runtimes.sh for the "+koffi" rows).
    assert.equal(resolveFfiProviderName(), process.env.AUTHKEEP_FFI || expected);
  });

  it("lets AUTHKEEP_FFI override the default, and the option override both", () => {
    assert.equal(resolveFfiProviderName({}, "koffi"), "koffi");
    assert.equal(resolveFfiProviderName({}, "deno"), "deno");
    assert.equal(resolveFfiProviderName({ ffi: "bun" }, "koffi"), "bun");
  });

  it("refuses unknown names", () => {
    assert.throws(() => resolveFfiProviderName({ ffi: "ctypes" as never }, null), TypeError);
    assert.throws(
      () => resolveFfiProviderName({}, "node-ffi"),
      (error: unknown) => error instanceof KeyringError && error.kind === "unavailable" && error.reason === "no-ffi" && /AUTHKEEP_FFI/.test(error.message),
    );
  });

  it("refuses a runtime's own FFI on another runtime", () => {
    const foreign: FfiProviderName = runtime === "deno" ? "bun" : "deno";
    assert.throws(
      () => loadFfiProvider({ ffi: foreign }),
      (error: unknown) => error instanceof KeyringError && error.kind === "unavailable" && error.reason === "no-ffi",
    );
  });

  it("caches one provider per name", () => {
    assert.equal(loadFfiProvider({ ffi: "koffi" }), loadFfiProvider({ ffi: "koffi" }));
    assert.equal(loadFfiProvider({ ffi: "koffi" }).name, "koffi");
  });
});
