/**
 * How the Linux keyring backend (libsecret through koffi) fails: no bus, a
 * bus whose socket is gone, no Secret Service, no default collection, a
 * locked collection, a stopped or restarted daemon, a bus that comes back,
 * and auto storage falling back to auth.json meanwhile. Each test gets its
 * own private bus and runs the store in child processes, because glib keeps
 * one session bus connection per process. They are slow (each starts
 * daemons) and sit in one `describe`, skippable as a group.
 *
 * @module
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { computeStoreKey, serializeAuthJson } from "../src/index.ts";
import { resolveFfiProviderName } from "../native/ffi/index.ts";
import { authWithPrefix, tempHome } from "./support/auth-fixtures.ts";
import { type ChildAnswer, searchItems, secretTool, startBus, startKeyringChild, startUnlockedKeyring } from "./support/linux-keyring.ts";
import { account, service, storeCall } from "./support/linux-keyring-cases.ts";

const onLinux = process.platform === "linux";
const hasDaemons = onLinux && ["dbus-daemon", "gnome-keyring-daemon", "dbus-send"].every((tool) =>
  spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0
);
const FAILURE_SKIP = !onLinux ? "the libsecret backend is Linux-only" : !hasDaemons ? "needs dbus and gnome-keyring installed" : false;

/** The error of an answer, asserted to be a KeyringError of `kind`. */
function expectError(answer: ChildAnswer, kind: string, label: string): NonNullable<ChildAnswer["error"]> {
  assert.ok(answer.error, `${label}: expected a ${kind} error, got ${JSON.stringify(answer)}`);
  assert.equal(answer.error.name, "KeyringError", label);
  assert.equal(answer.error.kind, kind, `${label}: ${answer.error.message}`);
  return answer.error;
}

/** The result of an answer, asserted to be a success. */
function okOf(answer: ChildAnswer, label = "call"): unknown {
  assert.equal(answer.error, undefined, `${label}: ${JSON.stringify(answer)}`);
  return answer.ok;
}


const METHODS = ["load", "loadSync", "save", "saveSync", "delete", "deleteSync"] as const;

describe("libsecret failure modes (private daemons, child processes)", { skip: FAILURE_SKIP }, () => {
  test("no session bus (DBUS_SESSION_BUS_ADDRESS unset or empty, no $DISPLAY): every call is unavailable, reason no-bus, at once, with one fix text", async () => {
    const messages = new Set<string>();
    for (const address of [undefined, ""]) {
      const env = { ...process.env };
      delete env.DBUS_SESSION_BUS_ADDRESS;
      delete env.DISPLAY;
      if (address !== undefined) env.DBUS_SESSION_BUS_ADDRESS = address;
      const child = startKeyringChild(import.meta.url, env);
      try {
        for (const method of METHODS) {
          const answer = await child.send(storeCall(method, "s", "a"));
          const error = expectError(answer, "unavailable", `${method} with the address ${JSON.stringify(address)}`);
          assert.equal(error.reason, "no-bus", error.message);
          assert.match(error.message, /DBUS_SESSION_BUS_ADDRESS/);
          // The fix text, without the GError detail in parentheses at the end.
          messages.add(error.message.replace(/^libsecret: [^:]+ failed: /, "").replace(/ \([^()]*\)$/, ""));
          assert.ok(answer.elapsedMs < 2000, `${method} took ${answer.elapsedMs} ms`);
        }
      } finally {
        await child.close();
      }
    }
    assert.equal(messages.size, 1, [...messages].join("\n"));
  });

  test("a bus address whose socket is gone: unavailable, saying how to get a bus", async () => {
    const dir = mkdtempSync(join(tmpdir(), "authkeep-nobus-"));
    const child = startKeyringChild(import.meta.url, { ...process.env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${dir}/bus` });
    try {
      for (const method of ["load", "saveSync"]) {
        const error = expectError(await child.send(storeCall(method, "s", "a")), "unavailable", method);
        assert.match(error.message, /session bus/);
        assert.equal(error.code, "g-io-error-quark:1");
        assert.equal(error.reason, "no-bus");
      }
    } finally {
      await child.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a bus with no Secret Service on it: unavailable, naming what to install", async () => {
    const bus = startBus({ secretService: false });
    const child = startKeyringChild(import.meta.url, bus.env);
    try {
      for (const method of ["load", "saveSync", "delete"]) {
        const error = expectError(await child.send(storeCall(method, "s", "a")), "unavailable", method);
        assert.match(error.message, /org\.freedesktop\.secrets/);
        assert.match(error.message, /apt-get install gnome-keyring/);
        assert.equal(error.reason, "no-service");
      }
    } finally {
      await child.close();
      bus.stop();
    }
  });

  test("no default collection (gnome-keyring only D-Bus-activated): unavailable, saying how to create one", async () => {
    const bus = startBus({ secretService: true });
    const child = startKeyringChild(import.meta.url, bus.env);
    try {
      for (const method of METHODS) {
        const error = expectError(await child.send(storeCall(method, "s", account())), "unavailable", method);
        assert.match(error.message, /no default collection/);
        assert.equal(error.reason, "no-default-collection");
      }
      assert.ok(bus.daemonPid(), "gnome-keyring was activated");
    } finally {
      await child.close();
      bus.stop();
    }
  });

  test("a locked collection: present and missing entries are both locked, and nothing is deleted", async () => {
    const keyring = startUnlockedKeyring();
    const child = startKeyringChild(import.meta.url, keyring.env);
    const [s, a] = [service(), account()];
    try {
      okOf(await child.send(storeCall("saveSync", s, a, "kept")));
      // The default collection is now known to be unlocked; locking it must be noticed (CollectionChanged).
      assert.equal(okOf(await child.send(storeCall("load", s, account()))), null);
      keyring.lock();
      for (const method of METHODS) {
        for (const who of [a, account()]) {
          const error = expectError(await child.send(storeCall(method, s, who)), "locked", `${method} ${who === a ? "present" : "missing"}`);
          assert.match(error.message, /locked; unlock it/);
          assert.equal(error.reason, "locked");
        }
      }
      assert.equal(searchItems(s, a, keyring.env).locked.length, 1, "the locked item is still there");
    } finally {
      await child.close();
      keyring.stop();
    }
  });

  test("a SIGSTOPped daemon: load() rejects at its deadline (timers keep running unless on bun:ffi); loadSync() after syncTimeoutMs", async () => {
    const keyring = startUnlockedKeyring();
    const child = startKeyringChild(import.meta.url, keyring.env);
    const pid = keyring.daemonPid() as number;
    const options = { timeoutMs: 1000, syncTimeoutMs: 1500 };
    const [s, a] = [service(), account()];
    try {
      okOf(await child.send(storeCall("save", s, a, "v", options))); // connected
      process.kill(pid, "SIGSTOP");
      const asyncAnswer = await child.send(storeCall("load", s, a, "v", options));
      expectError(asyncAnswer, "unavailable", "load");
      assert.ok(asyncAnswer.elapsedMs >= 950 && asyncAnswer.elapsedMs < 3000, `load() took ${asyncAnswer.elapsedMs} ms`);
      // The child has this process's runtime and AUTHKEEP_FFI, hence its provider.
      if (resolveFfiProviderName() !== "bun") {
        assert.ok(asyncAnswer.ticks >= 20, `the event loop ran (${asyncAnswer.ticks} ticks of 20 ms)`);
        assert.match(asyncAnswer.error?.message ?? "", /did not answer in time.*1000 ms/);
      } else {
        // bun:ffi cannot leave the main thread: the call blocks the loop, and the round trip
        // itself ends at min(timeoutMs, syncTimeoutMs), GDBus's timeout.
        assert.ok(asyncAnswer.ticks <= 2, `bun:ffi blocked the event loop (${asyncAnswer.ticks} ticks of 20 ms)`);
        assert.equal(asyncAnswer.error?.code, "g-io-error-quark:24");
        assert.match(asyncAnswer.error?.message ?? "", /did not answer in time/);
      }
      const syncAnswer = await child.send(storeCall("loadSync", s, a, "v", options));
      expectError(syncAnswer, "unavailable", "loadSync");
      assert.equal(asyncAnswer.error?.reason, "timeout");
      assert.equal(syncAnswer.error?.reason, "timeout");
      assert.ok(syncAnswer.elapsedMs >= 1400 && syncAnswer.elapsedMs < 5000, `loadSync() took ${syncAnswer.elapsedMs} ms`);
      assert.equal(syncAnswer.error?.code, "g-io-error-quark:24");
      // An entry never seen before needs a search (through libsecret's proxy): bounded the same way.
      const searchAnswer = await child.send(storeCall("deleteSync", s, account(), "v", options));
      expectError(searchAnswer, "unavailable", "deleteSync of an unknown entry");
      assert.ok(searchAnswer.elapsedMs >= 1400 && searchAnswer.elapsedMs < 5000, `deleteSync() took ${searchAnswer.elapsedMs} ms`);
      const saveAnswer = await child.send(storeCall("save", s, a, "w", options));
      expectError(saveAnswer, "unavailable", "save");
      process.kill(pid, "SIGCONT");
      // Once the daemon runs again, the same process carries on. The timed-out save
      // may or may not have reached the daemon before it stopped.
      const after = await child.send(storeCall("load", s, a, "v", options));
      assert.ok(after.ok === "v" || after.ok === "w", JSON.stringify(after));
    } finally {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        // gone
      }
      await child.close();
      keyring.stop();
    }
  });

  test("the daemon restarts: the next call reconnects on its own and finds the entry", async () => {
    const keyring = startUnlockedKeyring();
    const child = startKeyringChild(import.meta.url, keyring.env);
    const [s, a] = [service(), account()];
    try {
      okOf(await child.send(storeCall("save", s, a, "before")));
      assert.equal(okOf(await child.send(storeCall("load", s, a))), "before");
      keyring.restartDaemon();
      assert.equal(okOf(await child.send(storeCall("load", s, a))), "before");
      okOf(await child.send(storeCall("saveSync", s, a, "after")));
      assert.equal(okOf(await child.send(storeCall("loadSync", s, a))), "after");
      assert.equal(searchItems(s, a, keyring.env).unlocked.length, 1);
    } finally {
      await child.close();
      keyring.stop();
    }
  });

  test("the bus goes away and comes back: calls are unavailable meanwhile, then work again in the same process", async () => {
    const dir = mkdtempSync("/tmp/headless-keyring.");
    let keyring = startUnlockedKeyring({ dir });
    const child = startKeyringChild(import.meta.url, keyring.env);
    const [s, a] = [service(), account()];
    try {
      okOf(await child.send(storeCall("save", s, a, "persisted")));
      keyring.stop({ keepDir: true });
      for (const method of ["load", "loadSync", "save"]) {
        const error = expectError(await child.send(storeCall(method, s, a)), "unavailable", method);
        assert.match(error.message, /session bus/);
      }
      keyring = startUnlockedKeyring({ dir });
      assert.equal(okOf(await child.send(storeCall("load", s, a))), "persisted");
      okOf(await child.send(storeCall("saveSync", s, a, "again")));
      assert.equal(okOf(await child.send(storeCall("loadSync", s, a))), "again");
    } finally {
      await child.close();
      keyring.stop();
    }
  });

  test("auto storage falls back to auth.json while the bus is absent and returns to the keyring when it is back", async (t) => {
    const dir = mkdtempSync("/tmp/headless-keyring.");
    const home = tempHome(t);
    const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${dir}/bus` };
    const child = startKeyringChild(import.meta.url, env);
    let keyring: ReturnType<typeof startUnlockedKeyring> | undefined;
    const file = join(home, "auth.json");
    const first = authWithPrefix("offline");
    const second = authWithPrefix("online");
    try {
      const saved = await child.send({ op: "storage", method: "save", home, mode: "auto", auth: first });
      assert.equal(saved.error, undefined, JSON.stringify(saved));
      assert.ok((saved.ok as { warnings: string[] }).warnings.some((w) => /keyring/.test(w)), "the fallback is reported");
      assert.ok(existsSync(file), "auth.json was written");
      assert.deepEqual(JSON.parse(readFileSync(file, "utf8")).OPENAI_API_KEY, first.OPENAI_API_KEY);
      const loaded = await child.send({ op: "storage", method: "load", home, mode: "auto" });
      assert.deepEqual((loaded.ok as { result: unknown }).result, first);

      keyring = startUnlockedKeyring({ dir });
      const back = await child.send({ op: "storage", method: "save", home, mode: "auto", auth: second });
      assert.equal(back.error, undefined, JSON.stringify(back));
      assert.equal(existsSync(file), false, "auth.json is removed once the keyring took the save");
      const key = computeStoreKey(home);
      assert.equal(searchItems("Codex Auth", key, keyring.env).unlocked.length, 1);
      assert.equal(secretTool(["lookup", "service", "Codex Auth", "username", key], keyring.env).output, serializeAuthJson(second, { pretty: false }));
      const reloaded = await child.send({ op: "storage", method: "load", home, mode: "auto" });
      assert.deepEqual((reloaded.ok as { result: unknown }).result, second);
    } finally {
      await child.close();
      keyring?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
