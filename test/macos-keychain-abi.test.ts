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
 * What this proves: our FFI declarations, marshalling (UTF-8, CFDictionary
 * queries as arrays of addresses, out-parameters, data symbols, CFData read
 * through CFDataGetBytePtr), the OSStatus mapping, the update-in-place flow,
 * the async calls with their deadline (off the main thread where the provider
 * can, checked after each call on bun:ffi), and that every CF object is
 * released exactly once.
 * What it does NOT prove: how Apple's keychain behaves (prompts, ACLs, search
 * lists, locking). test/macos-keychain.test.ts covers that on macOS CI.
 */
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import process from "node:process";
import { inspect } from "node:util";
import { KeyringError } from "../src/contract/keyring-error.ts";
import type { KeyringStore } from "../src/contract/keyring-store.ts";
import { createMacosKeyringStore } from "../native/macos/store.ts";
import { detectRuntime, type FfiProviderName, loadFfiProvider } from "../native/ffi/index.ts";
import { providerRuns } from "./macos-abi/providers.ts";
import { buildStandIn, type StandIn } from "./macos-abi/standin.ts";

declare const Deno: unknown;
declare const Bun: unknown;
// These checks start a child with Node's own flags (--input-type, -e) and read its CommonJS
// cache; on Bun and Deno, test/runtime-import.test.ts checks that importing loads no provider.
const nodeOnlyChild = typeof Deno !== "undefined" || typeof Bun !== "undefined" ? "starts a Node-specific child process" : false;

const SUITE =
  "macOS keychain binding vs an ABI stand-in (a C test double on Linux: checks our marshalling and CF ownership, does NOT prove Apple's keychain behaviour)";
const skip = process.platform === "linux"
  ? false
  : "the ABI stand-in is built as a Linux shared library with the system cc; on macOS the real keychain test (macos-keychain.test.ts) runs instead";

const runtime = detectRuntime();

/** The async methods and their sync twins behind one promise-returning shape, so each check runs for both. */
interface Twin {
  readonly mode: "sync" | "async";
  readonly name: { load: string; save: string; delete: string };
  load(service: string, account: string): Promise<string | null>;
  save(service: string, account: string, value: string): Promise<void>;
  delete(service: string, account: string): Promise<boolean>;
}

function twins(store: KeyringStore): Twin[] {
  return [
    {
      mode: "sync",
      name: { load: "loadSync()", save: "saveSync()", delete: "deleteSync()" },
      load: async (s, a) => store.loadSync(s, a),
      save: async (s, a, v) => store.saveSync(s, a, v),
      delete: async (s, a) => store.deleteSync(s, a),
    },
    {
      mode: "async",
      name: { load: "load()", save: "save()", delete: "delete()" },
      load: (s, a) => store.load(s, a),
      save: (s, a, v) => store.save(s, a, v),
      delete: (s, a) => store.delete(s, a),
    },
  ];
}

/** A fresh (service, account) pair, so no test sees another's item. */
function names(): { service: string; account: string } {
  const id = randomUUID().slice(0, 8);
  return { service: `authkeep-abi-${id}`, account: `cli|${id}`.padEnd(20, "0") };
}

/** Rejects unless `promise` rejects with a KeyringError of `kind` (and returns that error). */
async function rejectsWith(promise: Promise<unknown>, kind: string): Promise<KeyringError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KeyringError, `expected a KeyringError, got ${inspect(error)}`);
    assert.equal(error.kind, kind, error.message);
    assert.equal(error.backend, "macos");
    return error;
  }
  assert.fail(`expected a KeyringError of kind ${kind}, but the call succeeded`);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

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

/** The whole suite, with the backend on one FFI provider. */
function standInSuite(ffi: FfiProviderName, skip: string | false): void {
  describe(`${SUITE}, via ${ffi}`, { skip }, () => {
    let standIn: StandIn;
    let store: KeyringStore;

    /** Every CF object the binding created or was handed has been released, and none twice. */
    const assertNoCfLeak = (): void => {
      assert.equal(standIn.liveObjects(), 0, "live CF objects after the operation");
      assert.equal(standIn.misuseCount(), 0, `CF ownership mistake: ${standIn.lastMisuse()}`);
    };

    /** A store on the stand-in whose async calls give up after 50 ms. */
    const impatientStore = (): KeyringStore =>
      createMacosKeyringStore({
        securityLibraryPath: standIn.libraryPath,
        coreFoundationLibraryPath: standIn.libraryPath,
        timeoutMs: 50,
        ffi,
      });

    /** Waits until the abandoned native calls have returned and their CF objects were released (or 30 s). */
    const settleAbandonedCalls = async (): Promise<void> => {
      for (let waited = 0; (standIn.inFlight() > 0 || standIn.liveObjects() > 0) && waited < 30_000; waited += 20) {
        await delay(20);
      }
    };

    before(() => {
      standIn = buildStandIn();
      store = createMacosKeyringStore({
        securityLibraryPath: standIn.libraryPath,
        coreFoundationLibraryPath: standIn.libraryPath,
        timeoutMs: 30_000,
        ffi,
      });
    });
    after(() => standIn?.dispose());
    beforeEach(() => standIn.reset());

    test("stand-in: creating the store loads nothing; the first call reports a missing library as unavailable", async () => {
      const missing = createMacosKeyringStore({
        securityLibraryPath: "/nonexistent/Security",
        coreFoundationLibraryPath: "/nonexistent/CoreFoundation",
        ffi,
      });
      assert.equal(missing.backend, "macos");
      assert.throws(
        () => missing.loadSync("s", "a"),
        (error) => error instanceof KeyringError && error.kind === "unavailable" && error.backend === "macos" && error.message.includes(ffi),
      );
      await rejectsWith(missing.load("s", "a"), "unavailable");
    });

    test("stand-in: a timeoutMs that is not a positive number is refused when the store is created", () => {
      assert.throws(() => createMacosKeyringStore({ timeoutMs: 0 }), RangeError);
      assert.throws(() => createMacosKeyringStore({ timeoutMs: Number.NaN }), RangeError);
    });

    for (const twin of twins({
      backend: "macos",
      // The store is created in before(); this forwarder reads it late.
      load: (s, a) => store.load(s, a),
      save: (s, a, v) => store.save(s, a, v),
      delete: (s, a) => store.delete(s, a),
      loadSync: (s, a) => store.loadSync(s, a),
      saveSync: (s, a, v) => store.saveSync(s, a, v),
      deleteSync: (s, a) => store.deleteSync(s, a),
    })) {
      const { load, save } = twin.name;
      const del = twin.name.delete;

      test(`stand-in: ${load} returns null and ${del} returns false for a missing item, leaking no CF object`, async () => {
        const { service, account } = names();
        assert.equal(await twin.load(service, account), null);
        assertNoCfLeak();
        assert.equal(await twin.delete(service, account), false);
        assertNoCfLeak();
      });

      test(`stand-in: ${save} then ${load} round-trips the value as a generic password labelled with the service`, async () => {
        const { service, account } = names();
        const value = JSON.stringify({ auth_mode: "chatgpt", tokens: { access_token: "abc.def.ghi" } });
        await twin.save(service, account, value);
        assertNoCfLeak();
        assert.equal(await twin.load(service, account), value);
        assertNoCfLeak();
        assert.equal(standIn.itemLabel(service, account), service);
        assert.deepEqual(standIn.calls(), { copyMatching: 1, add: 1, update: 1, delete: 0 });
      });

      test(`stand-in: ${save} over an existing item updates it in place (same item, never delete + add)`, async () => {
        const { service, account } = names();
        await twin.save(service, account, "first");
        const created = standIn.itemSerial(service, account);
        assert.notEqual(created, -1);
        await twin.save(service, account, "second");
        assertNoCfLeak();
        assert.equal(standIn.itemSerial(service, account), created, "the item's creation marker changed: it was re-created");
        assert.equal(await twin.load(service, account), "second");
        assert.deepEqual(standIn.calls(), { copyMatching: 1, add: 1, update: 2, delete: 0 });
        assertNoCfLeak();
      });

      test(`stand-in: ${save} updates in place when another process adds the item between its update and its add`, async () => {
        const { service, account } = names();
        standIn.putRaw(service, account, new TextEncoder().encode("theirs"));
        const created = standIn.itemSerial(service, account);
        standIn.queueStatus(-25300); // the first SecItemUpdate does not see the item yet
        await twin.save(service, account, "ours");
        assertNoCfLeak();
        assert.equal(await twin.load(service, account), "ours");
        assert.equal(standIn.itemSerial(service, account), created);
        assert.deepEqual(standIn.calls(), { copyMatching: 1, add: 1, update: 2, delete: 0 });
      });

      test(`stand-in: ${del} removes the item and a second ${del} returns false`, async () => {
        const { service, account } = names();
        await twin.save(service, account, "{}");
        assert.equal(await twin.delete(service, account), true);
        assertNoCfLeak();
        assert.equal(await twin.load(service, account), null);
        assert.equal(await twin.delete(service, account), false);
        assertNoCfLeak();
      });

      test(`stand-in: ${save} and ${load} keep UTF-8 values, services and accounts intact (including the empty value)`, async () => {
        const service = `Codex Auth ${randomUUID().slice(0, 8)} ☃`;
        const account = "cli|このきれいな花は桜です";
        for (const value of ["このきれいな花は桜です", "emoji 🔑 and \u00e9\u0301", "", "nul\u0000inside"]) {
          await twin.save(service, account, value);
          assert.equal(await twin.load(service, account), value);
          assertNoCfLeak();
        }
      });

      test(`stand-in: ${load} reads UTF-8 bytes written by another program and reports other bytes as failure without them`, async () => {
        const { service, account } = names();
        const json = '{"OPENAI_API_KEY":"sk-テスト"}';
        standIn.putRaw(service, account, new TextEncoder().encode(json));
        assert.equal(await twin.load(service, account), json);
        standIn.putRaw(service, account, Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d));
        const error = await rejectsWith(twin.load(service, account), "failure");
        assert.match(error.message, /not valid UTF-8/);
        assert.doesNotMatch(inspect(error, { depth: 5 }), /\\xff|255/);
        assertNoCfLeak();
      });

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
            standIn.queueStatus(code);
            const error = await rejectsWith(run(), kind);
            assert.equal(error.reason, reason);
            assert.equal(error.code, code);
            assert.match(error.message, says);
            assert.ok(error.message.includes(String(code)), error.message);
            assertNoCfLeak();
          }
        });
      }

      test(`stand-in: OSStatus -25300 (errSecItemNotFound) is null from ${load} and false from ${del}, not an error`, async () => {
        const { service, account } = names();
        await twin.save(service, account, "present");
        standIn.queueStatus(-25300);
        assert.equal(await twin.load(service, account), null);
        standIn.queueStatus(-25300);
        assert.equal(await twin.delete(service, account), false);
        assertNoCfLeak();
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
            standIn.queueStatus(code);
            const error = await rejectsWith(run(), "failure");
            assert.equal(error.code, code);
            assert.ok(error.message.includes(String(code)), error.message);
            assert.ok(error.message.includes(text), error.message);
            assertNoCfLeak();
          }
        }
      });

      test(`stand-in: an unmapped OSStatus still fails cleanly when SecCopyErrorMessageString returns NULL (${load})`, async () => {
        const { service, account } = names();
        standIn.setMessageNull(true);
        standIn.queueStatus(-1234);
        const error = await rejectsWith(twin.load(service, account), "failure");
        assert.equal(error.code, -1234);
        assert.match(error.message, /-1234/);
        assertNoCfLeak();
      });

      test(`stand-in: a failing ${save} keeps the secret value out of the error's message, fields and inspection`, async () => {
        const { service, account } = names();
        const secret = "sk-super-secret-0123456789";
        for (const code of [-25308, -50]) {
          standIn.queueStatus(code);
          const error = await rejectsWith(twin.save(service, account, secret), code === -50 ? "failure" : "locked");
          assert.ok(!inspect(error, { depth: 10, showHidden: true }).includes(secret));
          assert.ok(!JSON.stringify({ ...error, message: error.message }).includes(secret));
        }
        assertNoCfLeak();
      });

      test(`stand-in: a failed add after a missing item surfaces the add's status from ${save}`, async () => {
        const { service, account } = names();
        standIn.queueStatus(0); // the update runs normally and finds nothing
        standIn.queueStatus(-25308); // the add is refused
        await rejectsWith(twin.save(service, account, "x"), "locked");
        assert.equal(standIn.itemSerial(service, account), -1);
        assertNoCfLeak();
      });
    }

    test("stand-in: many concurrent load()/save()/delete() calls stay correct and leak nothing (on worker threads where the provider has them)", async () => {
      const pairs = Array.from({ length: 16 }, () => names());
      await Promise.all(pairs.map(({ service, account }, i) => store.save(service, account, `value-${i}`)));
      const values = await Promise.all(pairs.map(({ service, account }) => store.load(service, account)));
      assert.deepEqual(values, pairs.map((_, i) => `value-${i}`));
      const deleted = await Promise.all(pairs.map(({ service, account }) => store.delete(service, account)));
      assert.deepEqual(deleted, pairs.map(() => true));
      assertNoCfLeak();
    });

    test("stand-in: load() waiting on a slow keychain (a prompt) does not block the event loop, times out as unavailable, then releases its CF objects", {
      skip: ffi === "bun" && "bun:ffi cannot call off the main thread; the next test checks what it does instead",
    }, async () => {
      const { service, account } = names();
      const quick = impatientStore();
      standIn.setDelayMs(3000);
      let settled = false;
      const pending = quick.load(service, account).finally(() => {
        settled = true;
      });
      // A blocked event loop would not run this before the call returned.
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.equal(settled, false, "load() settled before the event loop got a turn: it ran on the main thread");
      const error = await rejectsWith(pending, "unavailable");
      assert.match(error.message, /did not answer within 50 ms/);
      standIn.setDelayMs(0);
      // The native call is still running on a worker thread; its query must outlive it, then be released.
      await settleAbandonedCalls();
      assertNoCfLeak();
      assert.equal(await quick.load(service, account), null);
      assertNoCfLeak();
    });

    test("stand-in: on bun:ffi, load() on a slow keychain blocks until it answers, then rejects as unavailable because it overran, leaking nothing", {
      skip: ffi !== "bun" && "only bun:ffi runs async calls on the main thread",
    }, async () => {
      assert.equal(loadFfiProvider({ ffi }).offThread, false);
      const { service, account } = names();
      const quick = impatientStore();
      standIn.setDelayMs(300);
      const started = performance.now();
      const pending = quick.load(service, account);
      // The documented limit: the call ran before load() even returned its promise.
      const blockedMs = performance.now() - started;
      const error = await rejectsWith(pending, "unavailable");
      assert.ok(blockedMs >= 290, `load() returned after ${blockedMs.toFixed(0)} ms, before the 300 ms call ended`);
      assert.match(error.message, /did not answer within 50 ms/);
      // Nothing is left running: the flow was closed as soon as the call returned.
      assert.equal(standIn.inFlight(), 0);
      assertNoCfLeak();
      standIn.setDelayMs(0);
      assert.equal(await quick.load(service, account), null);
      assertNoCfLeak();
    });

    test("stand-in: a save() that times out during its update still releases everything once the call ends", async () => {
      const { service, account } = names();
      const quick = impatientStore();
      standIn.setDelayMs(2000);
      await rejectsWith(quick.save(service, account, "late"), "unavailable");
      standIn.setDelayMs(0);
      await settleAbandonedCalls();
      assertNoCfLeak();
      // The flow stopped at the deadline: the add that would have followed the update never ran.
      assert.equal(standIn.calls().add, 0);
    });
  });
}

for (const { ffi, skip: why } of providerRuns(skip)) standInSuite(ffi, why);
