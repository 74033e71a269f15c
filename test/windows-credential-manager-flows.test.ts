/**
 * The Windows Credential Manager store's load/save/delete flows, everywhere (an in-memory
 * advapi32, test/support/fake-credentials.ts): a simulated crash at every step of a write or a
 * delete leaves the old or the new value, a missing or altered chunk is a clean failure, the
 * async deadline, the Win32 error mapping, and no backend off Windows. The encoding:
 * windows-credential-manager-blobs; the real store under Wine: windows-credential-manager.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { KeyringError } from "../src/contract/keyring-error.ts";
import { decodeError } from "../native/windows/_errors.ts";
import { deleteFlow, loadFlow, runFlowAsync, runFlowSync, saveFlow } from "../native/windows/_flow.ts";
import { createWindowsKeyringStore } from "../native/windows/store.ts";
import { ascii, FakeCredentials } from "./support/fake-credentials.ts";

test("saveSync() interrupted at any step leaves the old or the new value, never garbage, and the next write cleans up", () => {
  const olds = [ascii(100), "x".repeat(9000), null];
  const news = ["y".repeat(7000), "z".repeat(30), ""];
  for (const oldValue of olds) {
    for (const newValue of news) {
      const probe = new FakeCredentials();
      if (oldValue !== null) probe.save("s", "a", oldValue);
      const before = probe.steps;
      probe.save("s", "a", newValue);
      const total = probe.steps - before;
      for (let crashAt = 0; crashAt < total; crashAt++) {
        const fake = new FakeCredentials();
        if (oldValue !== null) fake.save("s", "a", oldValue);
        let step = 0;
        assert.throws(() =>
          runFlowSync(saveFlow("s", "a", newValue), (s) => {
            if (step++ === crashAt) throw new Error("crash");
            return fake.exec(s);
          }),
        );
        const loaded = fake.load("s", "a");
        assert.ok(loaded === oldValue || loaded === newValue, `crash at step ${crashAt}: old or new value`);
        fake.save("s", "a", "final");
        assert.equal(fake.load("s", "a"), "final");
        assert.equal(fake.delete("s", "a"), true);
        assert.equal(fake.entries.size, 0, `crash at step ${crashAt}: nothing left after delete`);
      }
    }
  }
});

test("deleteSync() interrupted at any step leaves the value or nothing, and a second delete finishes the job", () => {
  const probe = new FakeCredentials();
  probe.save("s", "a", "v".repeat(8000));
  const before = probe.steps;
  probe.delete("s", "a");
  for (let crashAt = 0; crashAt < probe.steps - before; crashAt++) {
    const fake = new FakeCredentials();
    fake.save("s", "a", "v".repeat(8000));
    let step = 0;
    assert.throws(() => runFlowSync(deleteFlow("s", "a"), (s) => {
      if (step++ === crashAt) throw new Error("crash");
      return fake.exec(s);
    }));
    const loaded = fake.load("s", "a");
    assert.ok(loaded === null || loaded === "v".repeat(8000));
    fake.delete("s", "a");
    assert.equal(fake.entries.size, 0);
  }
});

test("load() of a chunked value with a missing or altered chunk is a clean failure", async () => {
  const fake = new FakeCredentials();
  fake.save("s", "a", "w".repeat(6000));
  const chunk = [...fake.entries.values()].find((e) => e.target.startsWith("authkeep:chunk:"));
  assert.ok(chunk);
  chunk.blob[0] = 0x41;
  const isFailure = (e: unknown) => e instanceof KeyringError && e.kind === "failure" && !e.message.includes("www");
  assert.throws(() => fake.load("s", "a"), isFailure);
  await assert.rejects(runFlowAsync(loadFlow("s", "a"), async (s) => fake.exec(s), 5000), isFailure);
  fake.entries.delete(chunk.target.toLowerCase());
  assert.throws(() => fake.load("s", "a"), isFailure);
});

test("load() rejects with unavailable when the Credential Manager does not answer within timeoutMs", async () => {
  const started = Date.now();
  await assert.rejects(
    runFlowAsync(loadFlow("s", "a"), () => new Promise(() => {}), 50),
    (e: unknown) => e instanceof KeyringError && e.kind === "unavailable" && e.reason === "timeout" && /50 ms/.test(e.message),
  );
  assert.ok(Date.now() - started < 5000);
});

test("runFlowAsync() tells the executor when the deadline has passed, so a failed call is not repeated for nothing", async () => {
  const seen: boolean[] = [];
  let release: () => void = () => {};
  const work = runFlowAsync(loadFlow("s", "a"), async (_step, abandoned) => {
    seen.push(abandoned());
    await new Promise<void>((resolveStep) => (release = resolveStep));
    seen.push(abandoned());
    return null;
  }, 30);
  await assert.rejects(work, (e: unknown) => e instanceof KeyringError && e.kind === "unavailable");
  release();
  await sleep(10);
  assert.deepEqual(seen, [false, true]);
  const fake = new FakeCredentials();
  fake.save("s", "a", "v");
  const flags: boolean[] = [];
  assert.equal(await runFlowAsync(loadFlow("s", "a"), async (step, abandoned) => {
    flags.push(abandoned());
    return fake.exec(step);
  }, 5000), "v");
  assert.deepEqual(flags, [false]);
});

test("decodeError() maps Win32 codes to kinds and reasons and keeps the code", () => {
  const cases: [number, string, string][] = [
    [1312, "unavailable", "no-session"],
    [1783, "too-large", "too-large"],
    [5, "failure", "denied"],
    [1168, "failure", "other"],
    [31, "failure", "other"],
  ];
  for (const [code, kind, reason] of cases) {
    const error = decodeError(code, "CredWriteW", "t");
    assert.equal(error.kind, kind, String(code));
    assert.equal(error.reason, reason, String(code));
    assert.equal(error.code, code);
    assert.equal(error.backend, "windows");
  }
});

test("createWindowsKeyringStore() off Windows fails with unavailable, loading nothing", async () => {
  if (process.platform === "win32") return;
  const store = createWindowsKeyringStore();
  assert.equal(store.backend, "windows");
  assert.throws(() => store.loadSync("s", "a"), (e: unknown) => e instanceof KeyringError && e.kind === "unavailable");
  await assert.rejects(store.load("s", "a"), (e: unknown) => e instanceof KeyringError && e.kind === "unavailable");
});
