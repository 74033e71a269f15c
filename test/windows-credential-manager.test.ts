/**
 * The Windows Credential Manager store.
 *
 * Part 1 runs everywhere: the blob encoding, the chunk layout and the
 * load/save/delete flows against an in-memory stand-in for advapi32,
 * including a simulated crash at every step of a write.
 *
 * Part 2 runs the real store inside Wine with the official Windows node.exe
 * (test/win/credential-manager.win.ts, from dist/), in three launches: all
 * checks, a chunked write killed from here between two chunk writes, and a
 * check that the old value survived it.
 *
 * Part 2 needs AUTHKEEP_WINE_NODE (and WINEPREFIX), which
 * `eval "$(bash scripts/wine-setup.sh)"` exports; scripts/test.sh does this.
 * Without it the Wine tests FAIL when CI is set, when run by `npm test`
 * (npm_lifecycle_event=test) or when AUTHKEEP_REQUIRE_WINE=1; only a plain
 * local `node --test` run skips them, with a loud message on stderr.
 *
 * @module
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import fc from "fast-check";
import { KeyringError } from "../src/contract/keyring-error.ts";
import { decodeCredentialBlob, encodeUtf16, invalidValueReason, needsEnvelope } from "../native/windows/_blob.ts";
import {
  CHUNK_BYTES,
  chunkTarget,
  chunkTargetPrefix,
  formatHead,
  HEAD_PREFIX,
  joinChunks,
  MAX_CHUNKED_VALUE_BYTES,
  parseChunkTarget,
  parseHead,
  splitPayload,
} from "../native/windows/_chunks.ts";
import { decodeError } from "../native/windows/_errors.ts";
import {
  deleteFlow,
  loadFlow,
  runFlowAsync,
  runFlowSync,
  saveFlow,
  type CredStep,
} from "../native/windows/_flow.ts";
import { createWindowsKeyringStore } from "../native/windows/store.ts";

// ---------------------------------------------------------------- part 1

/** An in-memory advapi32: targets are case-insensitive, as in Credential Manager. */
class FakeCredentials {
  readonly entries = new Map<string, { target: string; userName: string; blob: Uint8Array }>();
  steps = 0;
  exec = (step: CredStep): unknown => {
    this.steps++;
    switch (step.op) {
      case "read":
        return this.entries.get(step.target.toLowerCase())?.blob.slice() ?? null;
      case "write":
        this.entries.set(step.target.toLowerCase(), { target: step.target, userName: step.userName, blob: step.blob.slice() });
        return undefined;
      case "delete":
        return this.entries.delete(step.target.toLowerCase());
      case "list": {
        const prefix = step.filter.replace(/\*$/, "").toLowerCase();
        return [...this.entries.values()].filter((e) => e.target.toLowerCase().startsWith(prefix)).map((e) => e.target);
      }
    }
  };
  load(service: string, account: string): string | null {
    return runFlowSync(loadFlow(service, account), this.exec);
  }
  save(service: string, account: string, value: string): void {
    runFlowSync(saveFlow(service, account, value), this.exec);
  }
  delete(service: string, account: string): boolean {
    return runFlowSync(deleteFlow(service, account), this.exec);
  }
}

const ascii = (n: number): string => "a".repeat(n);

test("decodeCredentialBlob() reads keyring-rs UTF-16LE and keytar UTF-8 blobs", () => {
  const cases: [string, Uint8Array, string, string][] = [
    ["UTF-16LE JSON", encodeUtf16('{"a":1}'), '{"a":1}', "utf-16le"],
    ["UTF-16LE CJK (no zero byte)", encodeUtf16("日本語"), "日本語", "utf-16le"],
    ["UTF-16LE with a NUL terminator", encodeUtf16("abc\0"), "abc", "utf-16le"],
    ["UTF-16LE with a BOM", Buffer.from("\ufeffhi", "utf16le"), "hi", "utf-16le"],
    ["UTF-8 JSON, odd length", Buffer.from('{"a":1}'), '{"a":1}', "utf-8"],
    ["UTF-8 JSON, even length", Buffer.from('{"a":12}'), '{"a":12}', "utf-8"],
    ["UTF-8 non-ASCII", Buffer.from('{"k":"wörld 日本語 🔑"}'), '{"k":"wörld 日本語 🔑"}', "utf-8"],
    ["UTF-8 with a BOM", Buffer.from("\ufeff{}"), "{}", "utf-8"],
    ["empty", new Uint8Array(0), "", "utf-16le"],
  ];
  for (const [name, bytes, text, encoding] of cases) {
    assert.deepEqual(decodeCredentialBlob(bytes), { text, encoding }, name);
  }
  assert.equal(decodeCredentialBlob(Uint8Array.of(0xff, 0xd8, 0x41)), null, "neither encoding");
  assert.equal(decodeCredentialBlob(Uint8Array.of(0x00, 0xd8)), null, "lone surrogate, invalid UTF-8");
});

test("every storable string survives save and load exactly, whatever its encoding looks like", () => {
  const fake = new FakeCredentials();
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 1400 }), (value) => {
      fc.pre(invalidValueReason(value) === null);
      fake.save("svc", "acct", value);
      assert.equal(fake.load("svc", "acct"), value);
    }),
    { numRuns: 300 },
  );
  for (const value of ["꧃", "꧃꧃", "é", `${HEAD_PREFIX}1:1:00000000:${"0".repeat(64)}`]) {
    fake.save("svc", "acct", value);
    assert.equal(fake.load("svc", "acct"), value, "ambiguous or head-like values still round-trip");
  }
  assert.equal(needsEnvelope("꧃", encodeUtf16("꧃"), HEAD_PREFIX), true, "U+A9C3 encodes to the UTF-8 of é");
  assert.equal(needsEnvelope('{"a":1}', encodeUtf16('{"a":1}'), HEAD_PREFIX), false);
});

test("saveSync() keeps values up to 2560 UTF-16 bytes in the single keyring-rs entry and chunks larger ones", () => {
  const fake = new FakeCredentials();
  for (const [units, single] of [[1279, true], [1280, true], [1281, false]] as const) {
    fake.save("Codex Auth", "cli|0123456789abcdef", ascii(units));
    const entry = fake.entries.get("cli|0123456789abcdef.codex auth");
    assert.ok(entry);
    assert.equal(entry.target, "cli|0123456789abcdef.Codex Auth");
    assert.equal(entry.userName, "cli|0123456789abcdef");
    if (single) assert.deepEqual(entry.blob, encodeUtf16(ascii(units)));
    else assert.ok(decodeCredentialBlob(entry.blob)?.text.startsWith(HEAD_PREFIX));
    assert.equal(fake.entries.size, single ? 1 : 2);
    assert.equal(fake.load("Codex Auth", "cli|0123456789abcdef"), ascii(units));
  }
  for (const blob of [...fake.entries.values()].map((e) => e.blob)) assert.ok(blob.length <= 2560);
});

test("the chunk layout: head text, chunk names and the bounds are as documented", () => {
  const payload = Buffer.from(ascii(2 * CHUNK_BYTES + 1));
  const parts = splitPayload(payload);
  assert.deepEqual(parts.map((p) => p.length), [2560, 2560, 1]);
  const head = parseHead(formatHead(payload, parts.length, "0a1b2c3d"));
  assert.deepEqual(head && { count: head.count, bytes: head.bytes, id: head.id }, { count: 3, bytes: 5121, id: "0a1b2c3d" });
  assert.ok(head);
  assert.deepEqual(joinChunks(head, parts), new Uint8Array(payload));
  assert.equal(joinChunks(head, parts.slice(0, 2)), "expected 3 chunks, found 2");
  const tampered = parts.map((p) => Buffer.from(p));
  tampered[0]![0] = 0x62;
  assert.equal(joinChunks(head, tampered), "checksum mismatch");
  assert.equal(parseHead('{"not":"a head"}'), null);
  assert.throws(() => parseHead(`${HEAD_PREFIX}3:9999999:0a1b2c3d:${"0".repeat(64)}`), /inconsistent/);
  assert.throws(() => parseHead(`${HEAD_PREFIX}x`), /malformed/);

  const longTarget = `${"a".repeat(500)}.${"s".repeat(500)}`;
  const name = chunkTarget(longTarget, "0a1b2c3d", 127);
  assert.ok(name.length < 60, "chunk names stay far below Wine's 247-character cap");
  assert.ok(!name.includes("\\"), "no backslash (Wine folds it to _)");
  assert.equal(chunkTargetPrefix("cli|x.Codex Auth"), chunkTargetPrefix("CLI|X.codex auth"), "case-insensitive like targets");
  assert.deepEqual(parseChunkTarget(chunkTargetPrefix(longTarget), name), { id: "0a1b2c3d", index: 127 });
  assert.equal(parseChunkTarget(chunkTargetPrefix(longTarget), `${chunkTargetPrefix(longTarget)}zz:1`), null);
  assert.equal(MAX_CHUNKED_VALUE_BYTES, 327680);
});

test("saveSync() of a value past 320 KiB is too-large and touches nothing; NUL is invalid", () => {
  const fake = new FakeCredentials();
  assert.throws(() => fake.save("s", "a", ascii(MAX_CHUNKED_VALUE_BYTES + 1)), (e: unknown) => e instanceof KeyringError && e.kind === "too-large" && e.reason === "too-large");
  assert.throws(() => fake.save("s", "a", "a\0"), (e: unknown) => e instanceof KeyringError && e.kind === "invalid" && e.reason === "invalid");
  assert.throws(() => fake.save("s", "a".repeat(514), "v"), (e: unknown) => e instanceof KeyringError && e.kind === "invalid" && e.reason === "invalid");
  assert.equal(fake.entries.size, 0);
  fake.save("s", "a", ascii(MAX_CHUNKED_VALUE_BYTES));
  assert.equal(fake.load("s", "a"), ascii(MAX_CHUNKED_VALUE_BYTES));
});

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

// ---------------------------------------------------------------- part 2

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const winScript = join(here, "win", "credential-manager.win.js");
const wineNode = process.env.AUTHKEEP_WINE_NODE;
const ci = process.env.CI !== undefined && process.env.CI !== "" && process.env.CI !== "false" && process.env.CI !== "0";
const required = ci || process.env.npm_lifecycle_event === "test" || process.env.AUTHKEEP_REQUIRE_WINE === "1";
const setupHint = 'run `eval "$(bash scripts/wine-setup.sh)"` first (scripts/test.sh does)';

if (!wineNode && !required) {
  process.stderr.write(
    `\n*** windows-credential-manager: SKIPPING the Windows tests under Wine: AUTHKEEP_WINE_NODE is not set; ${setupHint}. ***\n\n`,
  );
}

/** Windows spelling of a Linux path for node.exe (Wine maps / to Z:). */
function winPath(path: string): string {
  return `Z:${path.replaceAll("/", "\\")}`;
}

const wineEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  WINEDEBUG: process.env.WINEDEBUG ?? "-all",
  WINEDLLOVERRIDES: process.env.WINEDLLOVERRIDES ?? "mscoree,mshtml=",
  DISPLAY: "",
});

interface WinResults {
  phase: string;
  checks: { name: string; ok: boolean; detail?: string }[];
  timings: Record<string, number>;
  done: boolean;
}

/**
 * Runs the Windows script. node.exe under Wine dies on a Unix pipe as stdio,
 * so its output goes to a log file.
 */
function runWine(dir: string, label: string, args: string[]): { status: number | null; log: string; results: WinResults | null } {
  const logPath = join(dir, `${label}.log`);
  const resultsPath = join(dir, `${label}.json`);
  const fd = openSync(logPath, "w");
  try {
    const child = spawnSync("wine", [wineNode!, winPath(winScript), args[0]!, winPath(resultsPath), ...args.slice(1)], {
      cwd: root,
      env: wineEnv(),
      stdio: ["ignore", fd, fd],
      timeout: 150_000,
    });
    const log = readFileSync(logPath, "utf8");
    const results = existsSync(resultsPath) ? (JSON.parse(readFileSync(resultsPath, "utf8")) as WinResults) : null;
    return { status: child.status, log, results };
  } finally {
    closeSync(fd);
  }
}

async function report(t: { test: (name: string, fn: () => void) => Promise<void> }, run: ReturnType<typeof runWine>): Promise<void> {
  assert.ok(run.results?.done, `the Windows script did not finish (exit ${run.status}); its output:\n${run.log}`);
  for (const check of run.results.checks) {
    await t.test(check.name, () => assert.ok(check.ok, check.detail));
  }
  assert.equal(run.status, 0, run.log);
}

const wineOptions = { skip: !wineNode && !required ? "AUTHKEEP_WINE_NODE is not set (see stderr)" : false, timeout: 300_000 } as const;

test("Credential Manager under Wine with the Windows node.exe", wineOptions, async (t) => {
  assert.ok(wineNode, `AUTHKEEP_WINE_NODE is not set, so the Windows tests cannot run; ${setupHint}`);
  assert.ok(existsSync(wineNode), `AUTHKEEP_WINE_NODE=${wineNode} does not exist; ${setupHint}`);
  assert.ok(existsSync(winScript), `${winScript} is missing: build with npx tsc -p tsconfig.json`);
  const dir = mkdtempSync(join(tmpdir(), "authkeep-wine-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const crashKey = `cli|crash${Date.now().toString(16)}${Math.random().toString(16).slice(2, 8)}`;

  const main = runWine(dir, "main", ["main", crashKey]);
  await report(t, main);
  for (const [label, ms] of Object.entries(main.results?.timings ?? {})) t.diagnostic(`${label}: ${ms.toFixed(2)}`);

  await t.test("a chunked save killed between chunk writes leaves the old value readable", async (t2) => {
    // Start the writer; it creates the marker after its 3rd chunk and waits; kill the Wine process then.
    const marker = join(dir, "crash.marker");
    const logPath = join(dir, "crash-write.log");
    const fd = openSync(logPath, "w");
    const child = spawn("wine", [wineNode!, winPath(winScript), "crash-write", winPath(join(dir, "crash-write.json")), crashKey, winPath(marker)], {
      cwd: root,
      env: wineEnv(),
      stdio: ["ignore", fd, fd],
    });
    closeSync(fd);
    const exited = new Promise<number | null>((resolveExit) => child.on("exit", (code) => resolveExit(code)));
    const deadline = Date.now() + 120_000;
    let finished: number | null | undefined;
    void exited.then((code) => (finished = code));
    while (!existsSync(marker) && finished === undefined && Date.now() < deadline) await sleep(50);
    assert.ok(existsSync(marker), `the writer never reached its 3rd chunk (exit ${finished}):\n${readFileSync(logPath, "utf8")}`);
    // /usr/bin/wine execs the loader, so this pid is node.exe itself; the wineserver (which holds the
    // registry, and so the credentials already written) is a separate daemon and survives, as LSA would.
    process.kill(child.pid!, "SIGKILL");
    const code = await exited;
    assert.notEqual(code, 4, "the write was expected to be killed, not to complete");

    const verify = runWine(dir, "verify", ["crash-verify", crashKey]);
    await report(t2, verify);
  });
});
