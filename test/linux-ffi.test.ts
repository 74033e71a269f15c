/**
 * The Linux backend ported onto the FFI provider interface
 * (`native/linux-ffi.ts`), against the real gnome-keyring, on every
 * provider this runtime can run: koffi everywhere, plus `Deno.dlopen` on Deno
 * and `bun:ffi` on Bun. It must behave exactly like `native/linux.ts` (the
 * koffi original): the shared conformance suite, and each store reads what
 * the other wrote (same item layout).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import process from "node:process";
import { inspect } from "node:util";
import { describe, test } from "node:test";
import { KeyringError } from "../src/keyring-error.ts";
import { createLinuxKeyringStore as createFfiStore } from "../native/linux-ffi.ts";
import { createLinuxKeyringStore as createKoffiStore } from "../native/linux.ts";
import { detectRuntime, type FfiProviderName, loadFfiProvider } from "../native/ffi/index.ts";
import { keyringStoreConformance } from "./support/store-conformance.ts";

const runtime = detectRuntime();
const providers: FfiProviderName[] = runtime === "node" ? ["koffi"] : [runtime, "koffi"];
const SKIP = process.platform !== "linux"
  ? "the libsecret backend is Linux-only"
  : !process.env.DBUS_SESSION_BUS_ADDRESS
    ? "no test keyring: run through `npm test` or `bash scripts/with-keyring.sh node --test dist/test/linux-ffi.test.js`"
    : false;

const service = (): string => `authkeep-linux-ffi-${randomBytes(4).toString("hex")}`;
const account = (): string => `cli|${randomBytes(8).toString("hex")}`;

for (const ffi of providers) {
  keyringStoreConformance(`libsecret via ${ffi}`, () => createFfiStore({ ffi }), { skip: SKIP });

  describe(`libsecret via ${ffi} on the real gnome-keyring`, { skip: SKIP }, () => {
    test("reads what linux.ts (koffi) wrote, and linux.ts reads what it wrote", async () => {
      const ported = createFfiStore({ ffi });
      const original = createKoffiStore();
      const [s, a] = [service(), account()];
      try {
        original.saveSync(s, a, '{"from":"linux.ts"}');
        assert.equal(await ported.load(s, a), '{"from":"linux.ts"}');
        assert.equal(ported.loadSync(s, a), '{"from":"linux.ts"}');
        // An update in place: linux.ts must still find exactly that entry.
        await ported.save(s, a, "é\0ü 🔑 from the port");
        assert.equal(original.loadSync(s, a), "é\0ü 🔑 from the port");
        assert.equal(await ported.delete(s, a), true);
        assert.equal(original.loadSync(s, a), null);
      } finally {
        original.deleteSync(s, a);
      }
    });

    test("async and sync twins see each other's writes, many times over one session", async () => {
      const store = createFfiStore({ ffi });
      const [s, a] = [service(), account()];
      try {
        for (let i = 0; i < 5; i++) {
          await store.save(s, a, `async ${i}`);
          assert.equal(store.loadSync(s, a), `async ${i}`);
          store.saveSync(s, a, `sync ${i}`);
          assert.equal(await store.load(s, a), `sync ${i}`);
        }
        const [first, second] = await Promise.all([store.load(s, a), store.load(s, a)]);
        assert.equal(first, "sync 4");
        assert.equal(second, "sync 4");
      } finally {
        store.deleteSync(s, a);
      }
    });

    test("names with a NUL are refused as invalid before any C call", async () => {
      const store = createFfiStore({ ffi });
      await assert.rejects(store.load("a\0b", account()), (error: unknown) => error instanceof KeyringError && error.kind === "invalid");
      assert.throws(() => store.saveSync(service(), "x\0y", "v"), (error: unknown) => error instanceof KeyringError && error.kind === "invalid");
    });

    test(`says which provider it uses, and whether async calls leave the main thread (${ffi})`, () => {
      const store = createFfiStore({ ffi, timeoutMs: 1234 });
      assert.match(inspect(store), new RegExp(`ffi: '${ffi}'.*timeoutMs: 1234`));
      assert.equal(loadFfiProvider({ ffi }).offThread, ffi !== "bun");
    });
  });
}

describe("libsecret via an FFI provider that cannot load", { skip: process.platform !== "linux" && "Linux-only" }, () => {
  test("is a KeyringError of kind unavailable, for the sync and the async twins", async () => {
    // The runtime's own FFI on another runtime: "deno" outside Deno, "bun" on Deno.
    const foreign: FfiProviderName = runtime === "deno" ? "bun" : "deno";
    const store = createFfiStore({ ffi: foreign });
    assert.throws(() => store.loadSync(service(), account()), (error: unknown) => error instanceof KeyringError && error.kind === "unavailable");
    await assert.rejects(store.save(service(), account(), "v"), (error: unknown) => error instanceof KeyringError && error.kind === "unavailable");
  });
});
