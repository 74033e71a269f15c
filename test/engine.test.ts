// The one sync/async engine (src/contract/engine.ts): its deadline policy, and what runAsync
// does when a deadline passes while a step is still running.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createWindowsKeyringStore } from "../native/windows/store.ts";
import { createMacosKeyringStore } from "../native/macos/store.ts";
import { createLinuxKeyringStore } from "../native/linux/store.ts";
import { inspect } from "node:util";
import { createAuthStorage } from "../src/index.ts";
import {
  describedFlow,
  type Flow,
  io,
  MAX_DEADLINE_MS,
  resolveDeadline,
  runAsync,
  runSync,
  type Step,
} from "../src/contract/engine.ts";

const value = <T>(v: T): Step<T> => ({ sync: () => v, async: async () => v });

test("resolveDeadline() takes the default for undefined and rounds a positive number up", () => {
  assert.equal(resolveDeadline(undefined, 5000), 5000);
  assert.equal(resolveDeadline(1, 5000), 1);
  assert.equal(resolveDeadline(2.2, 5000), 3);
});

test("resolveDeadline() clamps huge values and Infinity to the longest timer (about 24.8 days)", () => {
  assert.equal(MAX_DEADLINE_MS, 2 ** 31 - 1);
  assert.equal(resolveDeadline(2 ** 31, 5000), MAX_DEADLINE_MS);
  assert.equal(resolveDeadline(1e15, 5000), MAX_DEADLINE_MS);
  assert.equal(resolveDeadline(Infinity, 5000), MAX_DEADLINE_MS);
});

test("resolveDeadline() refuses 0, negative, NaN and non-numbers with a RangeError that names the option", () => {
  for (const bad of [0, -1, -Infinity, Number.NaN, "5000" as unknown as number, null as unknown as number]) {
    assert.throws(() => resolveDeadline(bad, 5000, "syncTimeoutMs"), (e: unknown) => e instanceof RangeError && /syncTimeoutMs/.test(e.message), String(bad));
  }
});

test("every platform store applies the one policy when it is created", () => {
  for (const create of [createWindowsKeyringStore, createMacosKeyringStore, createLinuxKeyringStore]) {
    assert.throws(() => create({ timeoutMs: 0 }), RangeError);
    assert.throws(() => create({ timeoutMs: -5 }), RangeError);
    assert.throws(() => create({ timeoutMs: Number.NaN }), RangeError);
    // Creating loads nothing, so a huge deadline is accepted anywhere.
    assert.ok(create({ timeoutMs: Infinity }).backend);
    assert.ok(create({ timeoutMs: 2 ** 40 }).backend);
  }
  // The Linux store shows its deadlines: both of its timeouts follow the policy.
  assert.match(inspect(createLinuxKeyringStore({ timeoutMs: Infinity, syncTimeoutMs: 2.2 })), /timeoutMs: 2147483647, syncTimeoutMs: 3 /);
  assert.throws(() => createLinuxKeyringStore({ syncTimeoutMs: 0 }), (e: unknown) => e instanceof RangeError && /syncTimeoutMs/.test(e.message));
});

test("the storage's lockTimeoutMs follows the same policy, checked when the storage is created", () => {
  for (const bad of [0, -1, Number.NaN]) {
    assert.throws(() => createAuthStorage({ home: "/nonexistent", mode: "file", lockTimeoutMs: bad }), (e: unknown) => e instanceof RangeError && /lockTimeoutMs/.test(e.message), String(bad));
  }
  for (const good of [1, 2.5, Infinity]) assert.equal(createAuthStorage({ home: "/nonexistent", mode: "file", lockTimeoutMs: good }).mode, "file");
});

function* addFlow(log: string[]): Flow<number> {
  try {
    const a = yield* io(value(2));
    const b = yield* io(value(3));
    return a + b;
  } finally {
    log.push("closed");
  }
}

test("runSync() and runAsync() give the same result for the same flow", async () => {
  const log: string[] = [];
  assert.equal(runSync(addFlow(log)), 5);
  assert.equal(await runAsync(addFlow(log)), 5);
  assert.equal(await runAsync(addFlow(log), { ms: 60_000, expired: () => new Error("late") }), 5);
  assert.deepEqual(log, ["closed", "closed", "closed"]);
});

test("runAsync() throws a step's error into the flow, which may handle it", async () => {
  const failing: Step<number> = { sync: () => { throw new Error("io failed"); }, async: async () => { throw new Error("io failed"); } };
  function* recovering(): Flow<string> {
    try {
      yield* io(failing);
      return "not reached";
    } catch (error) {
      return `handled ${(error as Error).message}`;
    }
  }
  assert.equal(runSync(recovering()), "handled io failed");
  assert.equal(await runAsync(recovering()), "handled io failed");
});

test("runAsync() rejects at the deadline, closes the flow only after the running step returns, and takes no further step", async () => {
  const log: string[] = [];
  let finishStep: () => void = () => {};
  const sawAbandoned: boolean[] = [];
  const slow: Step<number> = {
    sync: () => 1,
    async: (abandoned = () => false) =>
      new Promise((resolve) => {
        sawAbandoned.push(abandoned());
        finishStep = () => {
          sawAbandoned.push(abandoned());
          resolve(1);
        };
      }),
  };
  function* flow(): Flow<string> {
    try {
      yield* io(slow);
      log.push("second step");
      yield* io(value(2));
      return "done";
    } finally {
      log.push("closed");
    }
  }
  const expired = new Error("deadline passed");
  await assert.rejects(runAsync(flow(), { ms: 20, expired: () => expired }), (e: unknown) => e === expired);
  assert.deepEqual(log, [], "the step still runs: nothing it uses may be released yet");
  finishStep();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(log, ["closed"]);
  assert.deepEqual(sawAbandoned, [false, true]);
});

test("runAsync() checks the deadline when a step returns, for steps that block the event loop", async () => {
  // A step that blocks the thread past the deadline: the timer cannot fire during it.
  const blocking: Step<number> = {
    sync: () => 1,
    async: () => {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30);
      return Promise.resolve(1);
    },
  };
  const log: string[] = [];
  function* flow(): Flow<string> {
    yield* io(blocking);
    log.push("after the deadline");
    return "done";
  }
  await assert.rejects(runAsync(flow(), { ms: 5, expired: () => new Error("late") }), /late/);
  assert.deepEqual(log, []);
});

test("describedFlow() gives each described step its two forms and closes the described flow when closed early", async () => {
  const log: string[] = [];
  function* described(): Generator<{ op: string }, string, unknown> {
    try {
      const first = (yield { op: "read" }) as string;
      const second = (yield { op: "list" }) as string;
      return `${first}+${second}`;
    } finally {
      log.push("described closed");
    }
  }
  const perform = (step: { op: string }): Step<unknown> => value(step.op);
  assert.equal(runSync(describedFlow(described(), perform)), "read+list");
  assert.equal(await runAsync(describedFlow(described(), perform)), "read+list");
  const early = describedFlow(described(), perform);
  early.next();
  early.return("stopped");
  assert.deepEqual(log, ["described closed", "described closed", "described closed"]);
});
