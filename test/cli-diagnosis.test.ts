// How `authkeep doctor` names a keyring problem: the pure table from a KeyringError's kind, reason,
// backend and code (never its message) to a problem and its fix, and the Linux backend's own GErrors
// run through its error table into that diagnosis.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { KeyringError, type KeyringErrorKind, type KeyringErrorReason } from "../src/index.ts";
import { diagnoseKeyringError, type EnvironmentFacts } from "../src/cli/_diagnose.ts";
import { FIX, keyringError, keyringErrorFromGError } from "../native/linux/_errors.ts";
import { resolveFfiProviderName } from "../native/ffi/index.ts";

/** A desktop Linux session where everything the doctor checks is in place, with `over` changed. */
const facts = (over: Partial<EnvironmentFacts> = {}): EnvironmentFacts => ({
  platform: "linux",
  dbusSessionBusAddress: "unix:path=/run/user/1000/bus",
  dbusSocketExists: true,
  display: null,
  ssh: false,
  wsl: false,
  container: false,
  libsecret: "/usr/lib/x86_64-linux-gnu/libsecret-1.so.0",
  ...over,
});

describe("doctor's diagnosis table (kind and reason → problem)", () => {
  // The message says nothing: the diagnosis must come from kind, reason, backend and code alone.
  const error = (kind: KeyringErrorKind, reason: KeyringErrorReason, backend = "libsecret", code?: number) =>
    new KeyringError("opaque failure text", { kind, reason, backend, ...(code === undefined ? {} : { code }) });
  const cases: [string, KeyringError, Partial<EnvironmentFacts>, string][] = [
    ["no FFI provider", error("unavailable", "no-ffi"), {}, "ffi-missing"],
    ["no libsecret", error("unavailable", "no-library"), {}, "libsecret-missing"],
    ["no bus, no address", error("unavailable", "no-bus"), { dbusSessionBusAddress: null, dbusSocketExists: null }, "no-dbus-session"],
    ["no bus behind the address", error("unavailable", "no-bus"), { dbusSocketExists: false }, "dbus-unreachable"],
    ["no Secret Service", error("unavailable", "no-service"), {}, "no-secret-service"],
    ["no default collection", error("unavailable", "no-default-collection"), {}, "no-default-collection"],
    ["locked collection", error("locked", "locked"), {}, "locked"],
    ["deadline passed", error("unavailable", "timeout"), {}, "timeout"],
    ["too large", error("too-large", "too-large", "windows"), { platform: "win32" }, "too-large"],
    ["Windows: no logon session", error("unavailable", "no-session", "windows", 1312), { platform: "win32" }, "no-logon-session"],
    ["macOS: no user interaction", error("locked", "locked", "macos", -25308), { platform: "darwin" }, "interaction-not-allowed"],
    ["macOS: refused at the prompt", error("locked", "denied", "macos", -128), { platform: "darwin" }, "locked"],
    ["macOS: no keychain", error("unavailable", "no-service", "macos", -25291), { platform: "darwin" }, "other"],
    ["no backend for the platform", error("unavailable", "no-library", "none"), { platform: "aix" }, "unsupported-platform"],
  ];
  for (const [name, err, over, id] of cases) {
    test(`${name} → ${id}`, () => {
      const problem = diagnoseKeyringError(err, facts(over), 5000);
      assert.equal(problem.id, id);
      assert.ok(problem.summary && problem.reason && problem.fix.length > 0);
    });
  }

  test("the reason wins over a message that suggests another problem", () => {
    const err = new KeyringError("Could not connect: No such file or directory [g-io-error-quark:1]", { kind: "unavailable", reason: "timeout", backend: "libsecret" });
    assert.equal(diagnoseKeyringError(err, facts(), 5000).id, "timeout");
  });

  test("the serialized form (doctor --json's error) diagnoses like the error", () => {
    const info = { name: "KeyringError", message: "x", kind: "unavailable", reason: "no-service", backend: "libsecret" };
    assert.equal(diagnoseKeyringError(info, facts(), 5000).id, "no-secret-service");
  });
});

describe("doctor's diagnosis of the Linux backend's own errors (GError → KeyringError → problem)", () => {
  // The backend's error table turns each GError into a KeyringError with a reason; the doctor reads only that.
  const gerror = (domain: string, code: number, message: string) => keyringErrorFromGError({ domain, code, message }, "reading the keyring entry");
  const noFfi = (): unknown => {
    try {
      return resolveFfiProviderName({}, "no-such-provider");
    } catch (error) {
      return error;
    }
  };
  // The GErrors of linux-secret-service.md §4.
  const cases: [string, unknown, Partial<EnvironmentFacts>, string][] = [
    ["no FFI provider (AUTHKEEP_FFI names none)", noFfi(), {}, "ffi-missing"],
    ["A: no bus, no DISPLAY", gerror("g-io-error-quark", 0, "Cannot autolaunch D-Bus without X11 $DISPLAY"), { dbusSessionBusAddress: null, dbusSocketExists: null }, "no-dbus-session"],
    ["A': bogus DISPLAY", gerror("g-spawn-exit-error-quark", 1, "Process /usr/bin/dbus-launch exited with status 1"), { dbusSessionBusAddress: null, dbusSocketExists: null }, "no-dbus-session"],
    ["B: dead socket", gerror("g-io-error-quark", 1, "Could not connect: No such file or directory"), { dbusSocketExists: false }, "dbus-unreachable"],
    ["C: no Secret Service", gerror("g-dbus-error-quark", 2, "The name org.freedesktop.secrets was not provided by any .service files"), {}, "no-secret-service"],
    ["D: no default collection (found by the backend, no GError)", keyringError("unavailable", "reading the keyring entry", FIX.noDefaultCollection), {}, "no-default-collection"],
    ["E: locked", gerror("secret-error", 2, "Cannot create an item in a locked collection"), {}, "locked"],
    ["E': access denied by a policy", gerror("g-dbus-error-quark", 9, "GDBus.Error:org.freedesktop.DBus.Error.AccessDenied: refused"), {}, "locked"],
    ["F: hung daemon", gerror("g-io-error-quark", 24, "Timeout was reached"), {}, "timeout"],
    ["F: cancelled at our deadline", gerror("g-io-error-quark", 19, "Operation was cancelled"), {}, "timeout"],
  ];
  for (const [name, err, over, id] of cases) {
    test(`${name} → ${id}`, () => {
      assert.ok(err instanceof KeyringError && err.reason !== "other", `the backend gives a reason: ${String(err)}`);
      const problem = diagnoseKeyringError(err, facts(over), 5000);
      assert.equal(problem.id, id);
      assert.ok(problem.summary && problem.reason && problem.fix.length > 0);
    });
  }
});
