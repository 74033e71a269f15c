/**
 * The macOS keychain binding against the ABI stand-in (see macos-keychain-abi-items): the async
 * calls' deadline. A slow keychain (a prompt) does not block the event loop where the provider
 * calls off the main thread, blocks and then rejects on bun:ffi, and the abandoned call's CF
 * objects are released once it returns.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadFfiProvider } from "../native/ffi/index.ts";
import { describeOnStandIn, names, rejectsWith } from "./macos-abi/stand-in-suite.ts";

describeOnStandIn("deadline", (abi) => {
  test("stand-in: load() waiting on a slow keychain (a prompt) does not block the event loop, times out as unavailable, then releases its CF objects", {
    skip: abi.ffi === "bun" && "bun:ffi cannot call off the main thread; the next test checks what it does instead",
  }, async () => {
    const { service, account } = names();
    const quick = abi.impatientStore();
    abi.standIn.setDelayMs(3000);
    let settled = false;
    const pending = quick.load(service, account).finally(() => {
      settled = true;
    });
    // A blocked event loop would not run this before the call returned.
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(settled, false, "load() settled before the event loop got a turn: it ran on the main thread");
    const error = await rejectsWith(pending, "unavailable");
    assert.match(error.message, /did not answer within 50 ms/);
    abi.standIn.setDelayMs(0);
    // The native call is still running on a worker thread; its query must outlive it, then be released.
    await abi.settleAbandonedCalls();
    abi.assertNoCfLeak();
    assert.equal(await quick.load(service, account), null);
    abi.assertNoCfLeak();
  });

  test("stand-in: on bun:ffi, load() on a slow keychain blocks until it answers, then rejects as unavailable because it overran, leaking nothing", {
    skip: abi.ffi !== "bun" && "only bun:ffi runs async calls on the main thread",
  }, async () => {
    assert.equal(loadFfiProvider({ ffi: abi.ffi }).offThread, false);
    const { service, account } = names();
    const quick = abi.impatientStore();
    abi.standIn.setDelayMs(300);
    const started = performance.now();
    const pending = quick.load(service, account);
    // The documented limit: the call ran before load() even returned its promise.
    const blockedMs = performance.now() - started;
    const error = await rejectsWith(pending, "unavailable");
    assert.ok(blockedMs >= 290, `load() returned after ${blockedMs.toFixed(0)} ms, before the 300 ms call ended`);
    assert.match(error.message, /did not answer within 50 ms/);
    // Nothing is left running: the flow was closed as soon as the call returned.
    assert.equal(abi.standIn.inFlight(), 0);
    abi.assertNoCfLeak();
    abi.standIn.setDelayMs(0);
    assert.equal(await quick.load(service, account), null);
    abi.assertNoCfLeak();
  });

  test("stand-in: a save() that times out during its update still releases everything once the call ends", async () => {
    const { service, account } = names();
    const quick = abi.impatientStore();
    abi.standIn.setDelayMs(2000);
    await rejectsWith(quick.save(service, account, "late"), "unavailable");
    abi.standIn.setDelayMs(0);
    await abi.settleAbandonedCalls();
    abi.assertNoCfLeak();
    // The flow stopped at the deadline: the add that would have followed the update never ran.
    assert.equal(abi.standIn.calls().add, 0);
  });
});
