/**
 * The macOS keychain binding (native/macos/store.ts) run against an ABI stand-in:
 * a small C test double (test/macos-abi/security-standin.c) that implements,
 * in memory on Linux, the Security.framework and CoreFoundation functions the
 * binding calls, with the same signatures and reference-counting rules.
 *
 * It runs on every FFI provider this runtime has: koffi on Node; `bun:ffi`
 * and koffi on Bun; `Deno.dlopen` and koffi on Deno (koffi only where it
 * loads).
 *
 * This file: items (missing, round-trip, update in place, delete, UTF-8) for the sync and async
 * calls, and concurrent calls; each releases every CF object exactly once. OSStatus mapping:
 * macos-keychain-abi-status; deadlines: macos-keychain-abi-deadline; loading:
 * macos-keychain-abi-loading.
 * What this does NOT prove: how Apple's keychain behaves (prompts, ACLs, search
 * lists, locking). test/macos-keychain.test.ts covers that on macOS CI.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { inspect } from "node:util";
import { describeOnStandIn, names, rejectsWith } from "./macos-abi/stand-in-suite.ts";

describeOnStandIn("items", (abi) => {
  for (const twin of abi.twins()) {
    const { load, save } = twin.name;
    const del = twin.name.delete;

    test(`stand-in: ${load} returns null and ${del} returns false for a missing item, leaking no CF object`, async () => {
      const { service, account } = names();
      assert.equal(await twin.load(service, account), null);
      abi.assertNoCfLeak();
      assert.equal(await twin.delete(service, account), false);
      abi.assertNoCfLeak();
    });

    test(`stand-in: ${save} then ${load} round-trips the value as a generic password labelled with the service`, async () => {
      const { service, account } = names();
      const value = JSON.stringify({ auth_mode: "chatgpt", tokens: { access_token: "abc.def.ghi" } });
      await twin.save(service, account, value);
      abi.assertNoCfLeak();
      assert.equal(await twin.load(service, account), value);
      abi.assertNoCfLeak();
      assert.equal(abi.standIn.itemLabel(service, account), service);
      assert.deepEqual(abi.standIn.calls(), { copyMatching: 1, add: 1, update: 1, delete: 0 });
    });

    test(`stand-in: ${save} over an existing item updates it in place (same item, never delete + add)`, async () => {
      const { service, account } = names();
      await twin.save(service, account, "first");
      const created = abi.standIn.itemSerial(service, account);
      assert.notEqual(created, -1);
      await twin.save(service, account, "second");
      abi.assertNoCfLeak();
      assert.equal(abi.standIn.itemSerial(service, account), created, "the item's creation marker changed: it was re-created");
      assert.equal(await twin.load(service, account), "second");
      assert.deepEqual(abi.standIn.calls(), { copyMatching: 1, add: 1, update: 2, delete: 0 });
      abi.assertNoCfLeak();
    });

    test(`stand-in: ${save} updates in place when another process adds the item between its update and its add`, async () => {
      const { service, account } = names();
      abi.standIn.putRaw(service, account, new TextEncoder().encode("theirs"));
      const created = abi.standIn.itemSerial(service, account);
      abi.standIn.queueStatus(-25300); // the first SecItemUpdate does not see the item yet
      await twin.save(service, account, "ours");
      abi.assertNoCfLeak();
      assert.equal(await twin.load(service, account), "ours");
      assert.equal(abi.standIn.itemSerial(service, account), created);
      assert.deepEqual(abi.standIn.calls(), { copyMatching: 1, add: 1, update: 2, delete: 0 });
    });

    test(`stand-in: ${del} removes the item and a second ${del} returns false`, async () => {
      const { service, account } = names();
      await twin.save(service, account, "{}");
      assert.equal(await twin.delete(service, account), true);
      abi.assertNoCfLeak();
      assert.equal(await twin.load(service, account), null);
      assert.equal(await twin.delete(service, account), false);
      abi.assertNoCfLeak();
    });

    test(`stand-in: ${save} and ${load} keep UTF-8 values, services and accounts intact (including the empty value)`, async () => {
      const service = `Codex Auth ${randomUUID().slice(0, 8)} ☃`;
      const account = "cli|このきれいな花は桜です";
      for (const value of ["このきれいな花は桜です", "emoji 🔑 and \u00e9\u0301", "", "nul\u0000inside"]) {
        await twin.save(service, account, value);
        assert.equal(await twin.load(service, account), value);
        abi.assertNoCfLeak();
      }
    });

    test(`stand-in: ${load} reads UTF-8 bytes written by another program and reports other bytes as failure without them`, async () => {
      const { service, account } = names();
      const json = '{"OPENAI_API_KEY":"sk-テスト"}';
      abi.standIn.putRaw(service, account, new TextEncoder().encode(json));
      assert.equal(await twin.load(service, account), json);
      abi.standIn.putRaw(service, account, Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d));
      const error = await rejectsWith(twin.load(service, account), "failure");
      assert.match(error.message, /not valid UTF-8/);
      assert.doesNotMatch(inspect(error, { depth: 5 }), /\\xff|255/);
      abi.assertNoCfLeak();
    });

  }

  test("stand-in: many concurrent load()/save()/delete() calls stay correct and leak nothing (on worker threads where the provider has them)", async () => {
    const pairs = Array.from({ length: 16 }, () => names());
    await Promise.all(pairs.map(({ service, account }, i) => abi.store.save(service, account, `value-${i}`)));
    const values = await Promise.all(pairs.map(({ service, account }) => abi.store.load(service, account)));
    assert.deepEqual(values, pairs.map((_, i) => `value-${i}`));
    const deleted = await Promise.all(pairs.map(({ service, account }) => abi.store.delete(service, account)));
    assert.deepEqual(deleted, pairs.map(() => true));
    abi.assertNoCfLeak();
  });

});
