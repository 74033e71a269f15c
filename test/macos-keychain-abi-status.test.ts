/**
 * The macOS keychain binding against the ABI stand-in (see macos-keychain-abi-items): each
 * OSStatus a SecItem call returns, mapped to a KeyringError kind and reason with the code and
 * SecCopyErrorMessageString's text (errSecItemNotFound as null/false), for the sync and async
 * calls, without the secret value in the error, and with no CF object leaked.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { describeOnStandIn, names, rejectsWith } from "./macos-abi/stand-in-suite.ts";

describeOnStandIn("OSStatus", (abi) => {
  for (const twin of abi.twins()) {
    const { load, save } = twin.name;
    const del = twin.name.delete;

    const mapped: Array<{ code: number; kind: string; reason: string; says: RegExp }> = [
      { code: -25308, kind: "locked", reason: "locked", says: /interaction.*unlock-keychain/i },
      { code: -25293, kind: "locked", reason: "denied", says: /unlock-keychain|Keychain Access/ },
      { code: -128, kind: "locked", reason: "denied", says: /Allow/ },
      { code: -25294, kind: "unavailable", reason: "no-default-collection", says: /default-keychain|file/ },
      { code: -25291, kind: "unavailable", reason: "no-service", says: /file/ },
    ];
    for (const { code, kind, reason, says } of mapped) {
      test(`stand-in: OSStatus ${code} from each SecItem call makes ${load}, ${save} and ${del} fail with kind ${kind}`, async () => {
        const { service, account } = names();
        for (const run of [
          () => twin.load(service, account),
          () => twin.save(service, account, "secret-value-1"),
          () => twin.delete(service, account),
        ]) {
          abi.standIn.queueStatus(code);
          const error = await rejectsWith(run(), kind);
          assert.equal(error.reason, reason);
          assert.equal(error.code, code);
          assert.match(error.message, says);
          assert.ok(error.message.includes(String(code)), error.message);
          abi.assertNoCfLeak();
        }
      });
    }

    test(`stand-in: OSStatus -25300 (errSecItemNotFound) is null from ${load} and false from ${del}, not an error`, async () => {
      const { service, account } = names();
      await twin.save(service, account, "present");
      abi.standIn.queueStatus(-25300);
      assert.equal(await twin.load(service, account), null);
      abi.standIn.queueStatus(-25300);
      assert.equal(await twin.delete(service, account), false);
      abi.assertNoCfLeak();
    });

    test(`stand-in: an unmapped OSStatus is a failure carrying the code and the SecCopyErrorMessageString text (${load}, ${save}, ${del})`, async () => {
      const { service, account } = names();
      const cases: Array<[number, string]> = [
        [-50, "stand-in: One or more parameters passed to a function were not valid."],
        [-25299, "stand-in: The specified item already exists in the keychain."],
        [-99999, "stand-in: unrecognised OSStatus -99999 — café"],
      ];
      for (const [code, text] of cases) {
        for (const run of [
          () => twin.load(service, account),
          () => twin.save(service, account, "secret-value-2"),
          () => twin.delete(service, account),
        ]) {
          abi.standIn.queueStatus(code);
          const error = await rejectsWith(run(), "failure");
          assert.equal(error.code, code);
          assert.ok(error.message.includes(String(code)), error.message);
          assert.ok(error.message.includes(text), error.message);
          abi.assertNoCfLeak();
        }
      }
    });

    test(`stand-in: an unmapped OSStatus still fails cleanly when SecCopyErrorMessageString returns NULL (${load})`, async () => {
      const { service, account } = names();
      abi.standIn.setMessageNull(true);
      abi.standIn.queueStatus(-1234);
      const error = await rejectsWith(twin.load(service, account), "failure");
      assert.equal(error.code, -1234);
      assert.match(error.message, /-1234/);
      abi.assertNoCfLeak();
    });

    test(`stand-in: a failing ${save} keeps the secret value out of the error's message, fields and inspection`, async () => {
      const { service, account } = names();
      const secret = "sk-super-secret-0123456789";
      for (const code of [-25308, -50]) {
        abi.standIn.queueStatus(code);
        const error = await rejectsWith(twin.save(service, account, secret), code === -50 ? "failure" : "locked");
        assert.ok(!inspect(error, { depth: 10, showHidden: true }).includes(secret));
        assert.ok(!JSON.stringify({ ...error, message: error.message }).includes(secret));
      }
      abi.assertNoCfLeak();
    });

    test(`stand-in: a failed add after a missing item surfaces the add's status from ${save}`, async () => {
      const { service, account } = names();
      abi.standIn.queueStatus(0); // the update runs normally and finds nothing
      abi.standIn.queueStatus(-25308); // the add is refused
      await rejectsWith(twin.save(service, account, "x"), "locked");
      assert.equal(abi.standIn.itemSerial(service, account), -1);
      abi.assertNoCfLeak();
    });
  }
});
