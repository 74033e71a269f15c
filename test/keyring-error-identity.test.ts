/**
 * `instanceof KeyringError` across copies of the class. The published package
 * is bundled one file per entry (scripts/bundle.ts): the entry and each
 * platform backend carry their own copy of src/contract/keyring-error.ts, and a
 * program tests a backend's error against the `KeyringError` it imported.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import process from "node:process";
import { describe, test } from "node:test";
import { KeyringError } from "../src/contract/keyring-error.ts";
import type { KeyringStore } from "../src/contract/keyring-store.ts";

// Only the build (dist/test) has a bundle beside it; sources run on Node 22+, Bun and Deno have none.
const bundleUrl = import.meta.url.endsWith(".js") ? new URL("../bundle/src/index.js", import.meta.url) : null;
const bundleMissing = bundleUrl === null ? "sources have no bundle (it is built from dist/)" : !existsSync(bundleUrl) ? "dist/bundle not built (npm run build)" : false;

describe("KeyringError identity", () => {
  test("a subclass keeps the ordinary prototype test", () => {
    class LockedError extends KeyringError {}
    const plain = new KeyringError("locked", { kind: "locked", backend: "memory" });
    const locked = new LockedError("locked", { kind: "locked", backend: "memory" });
    assert.equal(locked instanceof KeyringError, true);
    assert.equal(locked instanceof LockedError, true);
    assert.equal(plain instanceof LockedError, false);
    assert.equal(locked instanceof Error, true);
  });

  test("look-alikes are not KeyringErrors", () => {
    const lookAlike = Object.assign(new Error("locked"), { name: "KeyringError", kind: "locked", backend: "memory" });
    assert.equal(lookAlike instanceof KeyringError, false);
    assert.equal((null as unknown) instanceof KeyringError, false);
    assert.equal(Object.create(null) instanceof KeyringError, false);
  });

  test("the bundle's KeyringError and this copy recognise each other", { skip: bundleMissing }, async () => {
    const bundled = (await import(bundleUrl!.href)) as typeof import("../src/index.ts");
    assert.notEqual(bundled.KeyringError, KeyringError, "the bundle must carry its own copy for this test to mean anything");
    const fromBundle = new bundled.KeyringError("no bus", { kind: "unavailable", backend: "libsecret" });
    const fromHere = new KeyringError("no bus", { kind: "unavailable", backend: "libsecret" });
    assert.equal(fromBundle instanceof KeyringError, true);
    assert.equal(fromHere instanceof bundled.KeyringError, true);
    // The bundled keyring storage adds its context to a foreign copy's error and keeps its kind.
    const keyring = { load: async () => { throw fromHere; }, loadSync: () => { throw fromHere; } } as unknown as KeyringStore;
    const storage = bundled.createAuthStorage({ home: "/nonexistent/authkeep-identity", mode: "keyring", keyring });
    const caught = await storage.load().then(() => assert.fail("the keyring failure must surface"), (e: unknown) => e);
    assert.equal(caught instanceof KeyringError, true, String(caught));
    assert.equal((caught as KeyringError).kind, "unavailable", "the context keeps the kind of a foreign copy");
  });

  test("an error thrown by a bundled backend is instanceof the entry's KeyringError", { skip: bundleMissing || (process.platform !== "linux" && "Linux only") }, async () => {
    const bundled = (await import(bundleUrl!.href)) as typeof import("../src/index.ts");
    // The Deno FFI provider outside Deno: the bundled Linux backend (dist/bundle/native/linux/store.js) refuses it.
    const store = bundled.defaultKeyringStore({ ffi: "deno" });
    const error = await (async () => store.loadSync("authkeep-identity", "nobody"))().then(
      () => assert.fail("the deno provider must be refused on this runtime"),
      (caught: unknown) => caught,
    );
    assert.equal(error instanceof bundled.KeyringError, true, String(error));
    assert.equal((error as KeyringError).kind, "unavailable");
    assert.match((error as KeyringError).message, /deno/i, "refused for the provider, not for some other reason");
  });
});
