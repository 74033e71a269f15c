/**
 * Loading the macOS keychain binding (native/macos/store.ts): creating a store loads neither koffi
 * nor a framework, a bad ffi option or timeoutMs is refused when the store is created, and a
 * provider or library that cannot load is a KeyringError of kind unavailable at the first call.
 * The rest of the binding against the ABI stand-in: macos-keychain-abi-items, -status, -deadline.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import process from "node:process";
import { KeyringError } from "../src/contract/keyring-error.ts";
import { createMacosKeyringStore } from "../native/macos/store.ts";
import { detectRuntime, type FfiProviderName } from "../native/ffi/index.ts";
import { describeOnStandIn, rejectsWith } from "./macos-abi/stand-in-suite.ts";

declare const Deno: unknown;
declare const Bun: unknown;
// These checks start a child with Node's own flags (--input-type, -e) and read its CommonJS
// cache; on Bun and Deno, test/runtime-import.test.ts checks that importing loads no provider.
const nodeOnlyChild = typeof Deno !== "undefined" || typeof Bun !== "undefined" ? "starts a Node-specific child process" : false;

const runtime = detectRuntime();

test("createMacosKeyringStore() loads neither koffi nor a framework until the first call (any platform)", { skip: nodeOnlyChild }, () => {
  // A fresh process, so that nothing else has loaded koffi yet.
  const extension = import.meta.url.endsWith(".ts") ? "ts" : "js";
  const moduleUrl = new URL(`../native/macos/store.${extension}`, import.meta.url).href;
  const script = `
    import { createRequire } from "node:module";
    const { createMacosKeyringStore } = await import(${JSON.stringify(moduleUrl)});
    const store = createMacosKeyringStore({ securityLibraryPath: "/nonexistent/Security" });
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((path) => /koffi/.test(path));
    console.log(JSON.stringify({ backend: store.backend, loaded }));
  `;
  const output = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.deepEqual(JSON.parse(output), { backend: "macos", loaded: [] });
});

test("createMacosKeyringStore() refuses an ffi option that names no provider, when the store is created", () => {
  assert.throws(() => createMacosKeyringStore({ ffi: "ctypes" as FfiProviderName }), TypeError);
});

test("a provider that cannot load here is a KeyringError of kind unavailable from the macos backend, sync and async", async () => {
  // The runtime's own FFI on another runtime: "deno" outside Deno, "bun" on Deno.
  const foreign: FfiProviderName = runtime === "deno" ? "bun" : "deno";
  const store = createMacosKeyringStore({ securityLibraryPath: "/nonexistent/Security", ffi: foreign });
  assert.throws(
    () => store.loadSync("s", "a"),
    (error) => error instanceof KeyringError && error.kind === "unavailable" && error.backend === "macos",
  );
  await rejectsWith(store.save("s", "a", "v"), "unavailable");
});

describeOnStandIn("loading", (abi) => {
  test("stand-in: creating the store loads nothing; the first call reports a missing library as unavailable", async () => {
    const missing = createMacosKeyringStore({
      securityLibraryPath: "/nonexistent/Security",
      coreFoundationLibraryPath: "/nonexistent/CoreFoundation",
      ffi: abi.ffi,
    });
    assert.equal(missing.backend, "macos");
    assert.throws(
      () => missing.loadSync("s", "a"),
      (error) => error instanceof KeyringError && error.kind === "unavailable" && error.backend === "macos" && error.message.includes(abi.ffi),
    );
    await rejectsWith(missing.load("s", "a"), "unavailable");
  });

  test("stand-in: a timeoutMs that is not a positive number is refused when the store is created", () => {
    assert.throws(() => createMacosKeyringStore({ timeoutMs: 0 }), RangeError);
    assert.throws(() => createMacosKeyringStore({ timeoutMs: Number.NaN }), RangeError);
  });
});
