/**
 * The Linux backend (`native/linux/store.ts`) on every FFI provider this runtime
 * can run, against the real gnome-keyring: koffi everywhere, plus
 * `Deno.dlopen` on Deno and `bun:ffi` on Bun. Each provider passes the shared
 * conformance suite; where the runtime has two, each reads and updates what
 * the other wrote in the same process (same item layout, one libsecret).
 * The `linux-keyring-*.test.ts` files cover the rest with the runtime's default provider.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { inspect } from "node:util";
import { describe, test } from "node:test";
import { KeyringError } from "../src/contract/keyring-error.ts";
import { createLinuxKeyringStore as createFfiStore } from "../native/linux/store.ts";
import { detectRuntime, type FfiProviderName, loadFfiProvider } from "../native/ffi/index.ts";
import { keyringStoreConformance } from "./support/store-conformance.ts";
import { searchItems, startUnlockedKeyring } from "./support/linux-keyring.ts";

const runtime = detectRuntime();
const providers: FfiProviderName[] = runtime === "node" ? ["koffi"] : [runtime, "koffi"];
const SKIP = process.platform !== "linux"
  ? "the libsecret backend is Linux-only"
  : !process.env.DBUS_SESSION_BUS_ADDRESS
    ? "no test keyring: run through `npm test` or `bash scripts/with-keyring.sh node --test dist/test/linux-providers.test.js`"
    : false;

const service = (): string => `authkeep-linux-providers-${randomBytes(4).toString("hex")}`;
const account = (): string => `cli|${randomBytes(8).toString("hex")}`;

for (const ffi of providers) {
  keyringStoreConformance(`libsecret via ${ffi}`, () => createFfiStore({ ffi }), { skip: SKIP });

  describe(`libsecret via ${ffi} on the real gnome-keyring`, { skip: SKIP }, () => {
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

// Two providers in one process share one libsecret (one dlopen handle, one
// GType registry) but each has its own session: the other provider's writes
// must be seen, and an update in place must not add a second item.
describe("libsecret across two FFI providers in one process", { skip: SKIP || (providers.length < 2 && "one provider on Node") }, () => {
  test(`${providers.join(" and ")} read and update each other's entries`, async () => {
    const [own, koffi] = [createFfiStore({ ffi: providers[0] }), createFfiStore({ ffi: "koffi" })];
    const [s, a] = [service(), account()];
    try {
      koffi.saveSync(s, a, '{"from":"koffi"}');
      assert.equal(await own.load(s, a), '{"from":"koffi"}');
      assert.equal(own.loadSync(s, a), '{"from":"koffi"}');
      await own.save(s, a, `é\0ü 🔑 from ${providers[0]}`);
      assert.equal(koffi.loadSync(s, a), `é\0ü 🔑 from ${providers[0]}`);
      await koffi.save(s, a, "koffi again");
      assert.equal(own.loadSync(s, a), "koffi again");
      assert.equal(searchItems(s, a).unlocked.length, 1, "updated in place, not duplicated");
      assert.equal(await own.delete(s, a), true);
      assert.equal(await koffi.load(s, a), null);
      assert.equal(koffi.deleteSync(s, a), false);
    } finally {
      koffi.deleteSync(s, a);
    }
  });
});

describe("libsecret via an FFI provider that cannot load", { skip: process.platform !== "linux" && "Linux-only" }, () => {
  test("is a KeyringError of kind unavailable, for the sync and the async twins", async () => {
    // The runtime's own FFI on another runtime: "deno" outside Deno, "bun" on Deno.
    const foreign: FfiProviderName = runtime === "deno" ? "bun" : "deno";
    const store = createFfiStore({ ffi: foreign });
    assert.throws(() => store.loadSync(service(), account()), (error: unknown) => error instanceof KeyringError && error.kind === "unavailable");
    await assert.rejects(store.save(service(), account(), "v"), (error: unknown) => error instanceof KeyringError && error.kind === "unavailable");
  });
});

// A daemon that stops answering (SIGSTOP): the async deadline must hold on
// every provider. Off the main thread (koffi, Deno) the timer cancels the call
// while the event loop keeps running; on bun:ffi the call blocks the loop, so
// the port bounds each round trip by the deadline instead of syncTimeoutMs.
// Each provider in its own child process: glib keeps one bus connection per
// process, and the child's points at a private keyring.
const hasDaemons = process.platform === "linux" && ["dbus-daemon", "gnome-keyring-daemon"].every((tool) =>
  spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0
);
const BOUND_SKIP = !hasDaemons ? "needs Linux with dbus and gnome-keyring" : false;
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const CHILD = `
const [moduleUrl, ffi] = process.argv.slice(-2);
const { createLinuxKeyringStore } = await import(moduleUrl);
// syncTimeoutMs far beyond the test's patience: only the deadline may end the stuck call.
const store = createLinuxKeyringStore({ ffi, timeoutMs: 400, syncTimeoutMs: 120000 });
store.saveSync("authkeep-ffi-bound", "cli|0", "v");
await store.load("authkeep-ffi-bound", "cli|0"); // opens the session the async path uses
process.stdout.write("ready\\n");
await new Promise((resolve) => process.stdin.once("data", resolve));
let ticks = 0;
const timer = setInterval(() => ticks++, 5);
let result;
try {
  await store.load("authkeep-ffi-bound", "cli|0");
  result = { ok: true };
} catch (error) {
  result = { name: error.name, kind: error.kind, message: error.message };
}
clearInterval(timer);
process.stdout.write(JSON.stringify({ ...result, ticks }) + "\\n");
process.exit(0);
`;

// Deno runs each worker (and each test file) in an isolate of its own, in one
// process with one libsecret. Deno closes a worker's Deno.dlopen handles when
// it ends; libsecret unmapped and loaded again registers its GObject types
// twice and breaks ("cannot register existing type 'SecretService'"), so the
// backend pins the libraries it loads. And a worker's signal subscriptions
// (koffi) outlive it: a later worker's save makes the daemon send ItemCreated
// to them, which must never be dispatched into the ended worker's isolate
// (Deno panicked: "attempt to access Handle hosted by disposed Isolate").
const WORKER = `
const { createLinuxKeyringStore } = await import(self.name);
const store = createLinuxKeyringStore();
const account = "cli|" + crypto.randomUUID();
const missing = await store.load("authkeep-ffi-workers", account);
await store.save("authkeep-ffi-workers", account, "v");
const found = store.loadSync("authkeep-ffi-workers", account);
const deleted = await store.delete("authkeep-ffi-workers", account);
self.postMessage(JSON.stringify([missing, found, deleted]));
`;
const WORKERS = `
const [moduleUrl, workerUrl] = Deno.args;
for (let i = 0; i < 3; i++) {
  const worker = new Worker(workerUrl, { type: "module", name: moduleUrl });
  const answer = await new Promise((resolve, reject) => {
    worker.onmessage = (event) => resolve(event.data);
    worker.onerror = (event) => { event.preventDefault(); reject(new Error(event.message)); };
  });
  worker.terminate();
  console.log("worker " + i + " " + answer);
}
`;

describe("libsecret in one Deno worker after another", { skip: SKIP || (runtime !== "deno" && "Deno workers") }, () => {
  for (const ffi of providers) test(`${ffi}: each worker loads, saves and deletes, with no GObject type registered twice`, { timeout: 60_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), "authkeep-ffi-workers-"));
    try {
      writeFileSync(join(dir, "worker.mjs"), WORKER);
      writeFileSync(join(dir, "main.mjs"), WORKERS);
      const moduleUrl = new URL(`../native/linux/store${ext}`, import.meta.url).href;
      const workerUrl = new URL(`file://${join(dir, "worker.mjs")}`).href;
      const result = spawnSync(process.execPath, ["run", "--no-check", "-A", join(dir, "main.mjs"), moduleUrl, workerUrl], {
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: "1", AUTHKEEP_FFI: ffi },
        timeout: 50_000,
      });
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(result.stdout.trim().split("\n"), [0, 1, 2].map((i) => `worker ${i} [null,"v",true]`));
      assert.doesNotMatch(result.stderr, /GLib|register/, result.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("libsecret via the FFI providers with a stopped daemon", { skip: BOUND_SKIP }, () => {
  for (const ffi of providers) {
    test(`${ffi}: an async load rejects with kind unavailable at its deadline, not after syncTimeoutMs`, { timeout: 60_000 }, async () => {
      const keyring = startUnlockedKeyring();
      const dir = mkdtempSync(join(tmpdir(), "authkeep-ffi-bound-"));
      const script = join(dir, "child.mjs");
      writeFileSync(script, CHILD);
      const moduleUrl = new URL(`../native/linux/store${ext}`, import.meta.url).href;
      const args = runtime === "deno" ? ["run", "--no-check", "-A", script, moduleUrl, ffi] : [script, moduleUrl, ffi];
      const child = spawn(process.execPath, args, { env: { ...keyring.env, NO_COLOR: "1" }, stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
      // Far longer than the 400 ms deadline, far shorter than syncTimeoutMs.
      const guard = setTimeout(() => child.kill("SIGKILL"), 30_000);
      const daemon = keyring.daemonPid();
      try {
        while (!stdout.includes("ready\n")) {
          await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20))]);
          assert.equal(child.exitCode, null, `the child ended before it was ready:\n${stderr}`);
        }
        assert.ok(daemon, "no gnome-keyring-daemon pid");
        process.kill(daemon, "SIGSTOP");
        child.stdin.write("go\n");
        await exited;
        const line = stdout.split("\n").filter(Boolean).pop()!;
        assert.notEqual(line, "ready", `no answer before the guard killed the child:\n${stderr}`);
        const answer = JSON.parse(line) as { name?: string; kind?: string; ticks: number };
        assert.equal(answer.name, "KeyringError", line);
        assert.equal(answer.kind, "unavailable", line);
        // Off the main thread the event loop kept running while C waited.
        if (ffi !== "bun") assert.ok(answer.ticks > 0, line);
      } finally {
        clearTimeout(guard);
        if (daemon) process.kill(daemon, "SIGCONT");
        child.kill("SIGKILL");
        keyring.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
