/**
 * The parts of the Linux keyring backend (libsecret through koffi) that need
 * no keyring and run everywhere: lazy loading and what a missing koffi or
 * libsecret says, argument and timeout checks, the GError table, and which of
 * several matching items is kept.
 *
 * The store on the real keyring: `linux-keyring-store.test.ts`; keyring-rs
 * layout and interop: `linux-keyring-interop.test.ts`; failure modes with
 * private daemons: `linux-keyring-failures.test.ts`.
 *
 * @module
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { KeyringError } from "../src/index.ts";
import { createLinuxKeyringStore } from "../native/linux/store.ts";
import { pickItem } from "../native/linux/_layout.ts";
import { classifyGError, FIX, isStaleConnectionError, keyringErrorFromGError } from "../native/linux/_errors.ts";
import { repoRoot } from "./support/linux-keyring.ts";

declare const Deno: unknown;
declare const Bun: unknown;
// These checks start a child with Node's own flags (--input-type, -e) and read its CommonJS
// cache; on Bun and Deno, test/runtime-import.test.ts checks that importing loads no provider.
const nodeOnlyChild = typeof Deno !== "undefined" || typeof Bun !== "undefined" ? "starts a Node-specific child process" : false;

const moduleUrl = (path: string): string => new URL(`../${path}.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url).href;

describe("libsecret backend without a keyring", () => {
  test("createLinuxKeyringStore() loads no koffi until the first call", { skip: nodeOnlyChild }, () => {
    const script = `
      import { createRequire } from "node:module";
      const { createLinuxKeyringStore } = await import(${JSON.stringify(moduleUrl("native/linux/store"))});
      const store = createLinuxKeyringStore({ timeoutMs: 1000 });
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((path) => /koffi/.test(path));
      console.log(JSON.stringify({ backend: store.backend, loaded }));
    `;
    const output = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    assert.deepEqual(JSON.parse(output), { backend: "libsecret", loaded: [] });
  });

  for (
    const [name, koffiPath, install] of [
      ["koffi", "/nonexistent/koffi", /npm install koffi/],
      ["libsecret", join(repoRoot(), "dist", "test", "fixtures", "linux-fake-koffi.cjs"), /apt-get install libsecret-1-0/],
    ] as const
  ) {
    test(`without ${name}, load() rejects and loadSync() throws kind unavailable, saying what to install`, { skip: nodeOnlyChild || (name === "libsecret" && !import.meta.url.includes("/dist/") ? "the fake koffi is built into dist/" : false) }, () => {
      const script = `
        const { createLinuxKeyringStore } = await import(${JSON.stringify(moduleUrl("native/linux/store"))});
        const store = createLinuxKeyringStore();
        const show = (e) => ({ name: e.name, kind: e.kind, backend: e.backend, message: e.message });
        const asyncError = await store.load("s", "a").then(() => null, show);
        let syncError = null;
        try { store.saveSync("s", "a", "v"); } catch (e) { syncError = show(e); }
        console.log(JSON.stringify({ asyncError, syncError }));
      `;
      const output = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
        encoding: "utf8",
        env: { ...process.env, AUTHKEEP_KOFFI_PATH: koffiPath },
      });
      const { asyncError, syncError } = JSON.parse(output);
      for (const error of [asyncError, syncError]) {
        assert.equal(error.name, "KeyringError");
        assert.equal(error.kind, "unavailable");
        assert.equal(error.backend, "libsecret");
        assert.match(error.message, install);
      }
    });
  }

  test("invalid arguments are rejected with kind invalid before the keyring is touched", async () => {
    const store = createLinuxKeyringStore();
    const invalid = (error: unknown) => error instanceof KeyringError && error.kind === "invalid";
    assert.throws(() => store.saveSync("s", "a", "lone \uD800 surrogate"), invalid);
    await assert.rejects(store.save("s", "a", "lone \uDC00 surrogate"), invalid);
    assert.throws(() => store.loadSync("s", "a\0b"), invalid);
    await assert.rejects(store.delete("s\0", "a"), invalid);
    assert.throws(() => store.saveSync("s", "a", 42 as unknown as string), invalid);
    assert.throws(() => store.loadSync(undefined as unknown as string, "a"), invalid);
  });

  test("timeouts must be positive; Infinity means the longest timer", () => {
    assert.throws(() => createLinuxKeyringStore({ timeoutMs: 0 }), RangeError);
    assert.throws(() => createLinuxKeyringStore({ syncTimeoutMs: -1 }), RangeError);
    assert.throws(() => createLinuxKeyringStore({ timeoutMs: Number.NaN }), RangeError);
    assert.equal(createLinuxKeyringStore({ timeoutMs: Infinity, syncTimeoutMs: 1e12 }).backend, "libsecret");
  });

  test("GErrors map to kinds whose messages say how to fix them", () => {
    const cases = [
      [{ domain: "g-io-error-quark", code: 0, message: "Cannot autolaunch D-Bus without X11 $DISPLAY" }, "unavailable", FIX.noBus],
      [{ domain: "g-io-error-quark", code: 1, message: "Could not connect: No such file or directory" }, "unavailable", FIX.noBus],
      [{ domain: "g-spawn-exit-error-quark", code: 1, message: "Child process exited with code 1" }, "unavailable", FIX.noBus],
      [{ domain: "g-dbus-error-quark", code: 2, message: "GDBus.Error:org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided by any .service files" }, "unavailable", FIX.noService],
      [{ domain: "secret-error", code: 2, message: "Cannot create an item in a locked collection" }, "locked", FIX.locked],
      [{ domain: "g-io-error-quark", code: 36, message: "GDBus.Error:org.freedesktop.Secret.Error.IsLocked: locked" }, "locked", FIX.locked],
      [{ domain: "g-io-error-quark", code: 24, message: "Timeout was reached" }, "unavailable", FIX.timeout],
      [{ domain: "g-io-error-quark", code: 19, message: "Operation was cancelled" }, "unavailable", FIX.timeout],
      [{ domain: "g-dbus-error-quark", code: 8, message: "GDBus.Error:org.freedesktop.DBus.Error.LimitsExceeded: too big" }, "too-large", undefined],
      // dbus-daemon's answer when the service dies mid-call (the keyring stopped), against a real no-reply timeout.
      [{ domain: "g-dbus-error-quark", code: 4, message: "GDBus.Error:org.freedesktop.DBus.Error.NoReply: Message recipient disconnected from message bus without replying" }, "unavailable", FIX.noService],
      [{ domain: "g-dbus-error-quark", code: 4, message: "GDBus.Error:org.freedesktop.DBus.Error.NoReply: Did not receive a reply" }, "unavailable", FIX.timeout],
      [{ domain: "secret-error", code: 1, message: "received an invalid secret from the secret storage" }, "failure", undefined],
    ] as const;
    for (const [info, kind, fix] of cases) {
      assert.deepEqual(classifyGError(info), fix === undefined ? { kind } : { kind, fix }, `${info.domain}:${info.code}`);
      const error = keyringErrorFromGError(info, "reading the keyring entry");
      assert.equal(error.kind, kind);
      assert.equal(error.backend, "libsecret");
      assert.equal(error.code, `${info.domain}:${info.code}`);
      assert.match(error.message, /^libsecret: reading the keyring entry failed: /);
      assert.ok(error.message.endsWith(`[${info.domain}:${info.code}])`) || error.message.endsWith(`[${info.domain}:${info.code}]`));
      assert.ok(!error.message.includes("GDBus.Error:"), "the D-Bus error prefix is stripped");
    }
    const closed = keyringErrorFromGError({ domain: "g-io-error-quark", code: 18, message: "The connection is closed" }, "x");
    const noSession = keyringErrorFromGError({ domain: "g-io-error-quark", code: 36, message: "GDBus.Error:org.freedesktop.Secret.Error.NoSession: The session does not exist" }, "x");
    const locked = keyringErrorFromGError({ domain: "secret-error", code: 2, message: "locked" }, "x");
    assert.equal(isStaleConnectionError(closed), true);
    assert.equal(isStaleConnectionError(noSession), true);
    assert.equal(isStaleConnectionError(locked), false);
  });

  test("among several matching items the oldest (lowest object path) is kept", () => {
    const base = "/org/freedesktop/secrets/collection/login";
    assert.equal(pickItem([`${base}/12`, `${base}/9`, `${base}/100`]), `${base}/9`);
    assert.equal(pickItem([]), undefined);
    assert.equal(pickItem(["/c/b/x", "/c/a/y"]), "/c/a/y");
  });
});
