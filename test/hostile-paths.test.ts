/**
 * Every path authkeep opens can be hostile: auth.json, the home itself,
 * config.toml and the `.corrupt-*` copies may be a FIFO, a character device,
 * a directory, a dangling or looping symlink, a huge or sparse file, or a file
 * another program holds locked. Each operation, sync and async, in a real
 * child process (so a hang or a runaway read fails the test instead of
 * taking the runner down), must finish with the right result or a typed
 * error, within a generous hang guard and a bounded amount of memory.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { serializeAuthJson } from "../src/index.ts";
import { childCommand, childEnv, fakeAuth, fixturePath, makeHome, removeHome, slowTestsOff } from "./support/hardening-env.ts";
import { noKeyringEnv, runCli } from "./fixtures/cli-harness.ts";

const posix = process.platform !== "win32";
const skip = slowTestsOff ? "slow tests disabled (child processes)" : !posix ? "FIFOs, devices and symlink loops are POSIX" : false;
// A hang guard, far above the few milliseconds each call takes.
const HANG_GUARD_MS = 20_000;
const OPERATIONS = ["load-sync", "load-async", "save-sync", "save-async"] as const;

interface OpResult {
  outcome: "ok" | "error";
  value?: "credentials" | null;
  name?: string;
  typed?: boolean;
  operation?: string;
  code?: string;
  message?: string;
  warnings: string[];
  ms: number;
  baselineRssKiB: number;
  peakRssKiB: number;
}

const measured = { cases: 0, worstMs: 0, worstCase: "", peakRssKiB: 0, peakCase: "" };

function runOp(home: string, operation: string, label: string): OpResult {
  const [command, args] = childCommand(fixturePath("hostile-op"), [home, operation]);
  const child = spawnSync(command, args, { encoding: "utf8", env: childEnv(), timeout: HANG_GUARD_MS, killSignal: "SIGKILL" });
  assert.equal(child.signal, null, `${label} ${operation}: still running after ${HANG_GUARD_MS} ms (hung)`);
  assert.equal(child.status, 0, `${label} ${operation}: ${child.stderr}`);
  const result = JSON.parse(child.stdout) as OpResult;
  measured.cases++;
  if (result.ms > measured.worstMs) Object.assign(measured, { worstMs: result.ms, worstCase: `${label} ${operation}` });
  if (result.peakRssKiB > measured.peakRssKiB) Object.assign(measured, { peakRssKiB: result.peakRssKiB, peakCase: `${label} ${operation}` });
  return result;
}

type Expect = (result: OpResult, operation: string) => void;

const typedError = (code: string | RegExp, operation?: "load" | "save"): Expect => (result, op) => {
  assert.equal(result.outcome, "error", `${op}: expected a typed error, got ${JSON.stringify(result)}`);
  assert.equal(result.typed, true, `${op}: ${result.name}: ${result.message}`);
  assert.equal(result.operation, operation ?? op.split("-")[0]);
  if (typeof code === "string") assert.equal(result.code, code, `${op}: ${result.message}`);
  else assert.match(String(result.code), code, `${op}: ${result.message}`);
};

interface HostileCase {
  name: string;
  /** Puts the hostile thing at `<home>/auth.json` (or makes `home` itself hostile). */
  arrange: (home: string, path: string) => string | undefined;
  load: Expect;
  save: Expect;
}

const authJson = (): string => serializeAuthJson(fakeAuth("kept"));

const CASES: HostileCase[] = [
  {
    name: "auth.json is a FIFO",
    arrange: (_home, path) => void execFileSync("mkfifo", [path]),
    load: typedError("EFTYPE"),
    save: typedError("EFTYPE"),
  },
  {
    name: "auth.json is a symlink to /dev/zero",
    arrange: (_home, path) => {
      symlinkSync("/dev/zero", path);
    },
    load: typedError("EFTYPE"),
    save: typedError("EFTYPE"),
  },
  {
    name: "auth.json is a symlink to the character device /dev/null",
    arrange: (_home, path) => {
      symlinkSync("/dev/null", path);
    },
    load: typedError("EFTYPE"),
    save: typedError("EFTYPE"),
  },
  {
    name: "auth.json is a directory",
    arrange: (_home, path) => {
      mkdirSync(path);
    },
    load: typedError("EISDIR"),
    save: typedError("EISDIR"),
  },
  {
    name: "auth.json is a dangling symlink",
    arrange: (home, path) => {
      symlinkSync(join(home, "nowhere"), path);
    },
    load: (result) => assert.deepEqual([result.outcome, result.value], ["ok", null], "a dangling link is nothing stored"),
    save: typedError("ENOENT"),
  },
  {
    name: "auth.json is a symlink loop",
    arrange: (home, path) => {
      symlinkSync(join(home, "loop-b"), path);
      symlinkSync(path, join(home, "loop-b"));
    },
    load: typedError("ELOOP"),
    save: typedError("ELOOP"),
  },
  {
    name: "auth.json is a 200 MB file",
    arrange: (_home, path) => {
      const fd = openSync(path, "w", 0o600);
      const chunk = Buffer.alloc(8 * 1024 * 1024, 0x20);
      for (let i = 0; i < 25; i++) writeSync(fd, chunk);
      closeSync(fd);
    },
    load: typedError("EFBIG"),
    save: typedError("EFBIG"),
  },
  {
    name: "auth.json is a sparse 64 GiB file",
    arrange: (_home, path) => {
      writeFileSync(path, "", { mode: 0o600 });
      truncateSync(path, 64 * 1024 ** 3);
    },
    load: typedError("EFBIG"),
    save: typedError("EFBIG"),
  },
  {
    name: "auth.json is just over the 1 MiB cap",
    arrange: (_home, path) => {
      writeFileSync(path, `{"OPENAI_API_KEY": null, "pad": "${"x".repeat(1024 * 1024)}"}`, { mode: 0o600 });
    },
    load: typedError("EFBIG"),
    save: typedError("EFBIG"),
  },
  {
    name: "the home is a FIFO",
    arrange: (home) => {
      const fifo = join(home, "fifo-home");
      execFileSync("mkfifo", [fifo]);
      return fifo;
    },
    load: typedError("ENOTDIR"),
    save: typedError(/^(ENOTDIR|EEXIST)$/),
  },
  {
    name: "the home is a symlink loop",
    arrange: (home) => {
      symlinkSync(join(home, "home-b"), join(home, "home-a"));
      symlinkSync(join(home, "home-a"), join(home, "home-b"));
      return join(home, "home-a");
    },
    load: typedError("ELOOP"),
    save: typedError(/^(ELOOP|EEXIST)$/),
  },
];

for (const hostile of CASES) {
  test(`${hostile.name}: load and save, sync and async, finish with the right result or a typed error`, { skip }, () => {
    const root = makeHome();
    try {
      const home = hostile.arrange(root, join(root, "auth.json")) ?? root;
      const before = lstatSync(home === root ? join(root, "auth.json") : home, { throwIfNoEntry: false });
      for (const operation of OPERATIONS) {
        const result = runOp(home, operation, hostile.name);
        (operation.startsWith("load") ? hostile.load : hostile.save)(result, operation);
        // Nothing that was there is replaced or grown by a failed save.
        const after = lstatSync(home === root ? join(root, "auth.json") : home, { throwIfNoEntry: false });
        assert.deepEqual([after?.ino, after?.size, after?.mode], [before?.ino, before?.size, before?.mode], `${operation} changed what was there`);
      }
      assert.deepEqual(readdirSync(root).filter((name) => name.includes(".corrupt-") || name.endsWith(".tmp")), [], "no copy or temp file left");
    } finally {
      removeHome(root);
    }
  });
}

test("the peak memory of loading or saving over a 200 MB auth.json stays near that of an ordinary load", { skip }, (t) => {
  const home = makeHome();
  try {
    writeFileSync(join(home, "auth.json"), authJson(), { mode: 0o600 });
    const ordinary = runOp(home, "load-sync", "an ordinary auth.json");
    assert.equal(ordinary.value, "credentials");
    CASES.find((c) => c.name === "auth.json is a 200 MB file")!.arrange(home, join(home, "auth.json"));
    for (const operation of OPERATIONS) {
      const huge = runOp(home, operation, "a 200 MB file");
      t.diagnostic(`200 MB auth.json ${operation}: peak RSS ${Math.round(huge.peakRssKiB / 1024)} MiB (ordinary load: ${Math.round(ordinary.peakRssKiB / 1024)} MiB)`);
      // At most cap + 1 bytes are read: far under the 200 MB that a full read costs.
      assert.ok(huge.peakRssKiB - ordinary.peakRssKiB < 32 * 1024, `${operation}: peak RSS ${huge.peakRssKiB} KiB vs ${ordinary.peakRssKiB} KiB`);
    }
  } finally {
    removeHome(home);
  }
});

test("auth.json held under flock by another program loads and saves normally", { skip }, async () => {
  const home = makeHome();
  const path = join(home, "auth.json");
  writeFileSync(path, authJson(), { mode: 0o600 });
  // flock(1) holds LOCK_EX on the file itself until it is killed.
  const holder = spawn("flock", ["--exclusive", path, "sleep", "60"], { stdio: "ignore" });
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(holder.exitCode, null, "flock is holding the lock");
    for (const operation of OPERATIONS) {
      const result = runOp(home, operation, "a file under flock");
      assert.equal(result.outcome, "ok", `${operation}: ${result.message}`);
      if (operation.startsWith("load")) assert.equal(result.value, "credentials");
    }
  } finally {
    holder.kill("SIGKILL");
    removeHome(home);
  }
});

test("a FIFO or a directory named like a .corrupt- copy is left alone and never read", { skip }, () => {
  const home = makeHome();
  try {
    execFileSync("mkfifo", [join(home, "auth.json.corrupt-0-fifo")]);
    mkdirSync(join(home, "auth.json.corrupt-1-dir"));
    symlinkSync("/dev/zero", join(home, "auth.json.corrupt-2-zero"));
    for (const operation of ["save-sync", "save-async"]) {
      writeFileSync(join(home, "auth.json"), `{corrupt ${operation}`, { mode: 0o600 });
      const result = runOp(home, operation, "hostile .corrupt- names");
      assert.equal(result.outcome, "ok", result.message);
      assert.ok(result.warnings.some((warning) => warning.includes("were kept in")), JSON.stringify(result.warnings));
    }
    const copies = readdirSync(home).filter((name) => name.startsWith("auth.json.corrupt-") && lstatSync(join(home, name)).isFile());
    assert.deepEqual(copies.map((name) => readFileSync(join(home, name), "utf8")).sort(), ["{corrupt save-async", "{corrupt save-sync"]);
  } finally {
    removeHome(home);
  }
});

const CONFIG_CASES: [string, (path: string) => void][] = [
  ["a FIFO", (path) => void execFileSync("mkfifo", [path])],
  ["a symlink to /dev/zero", (path) => symlinkSync("/dev/zero", path)],
  ["a directory", (path) => mkdirSync(path)],
  ["a symlink loop", (path) => symlinkSync(path, path)],
  ["a 2 MiB file", (path) => writeFileSync(path, `cli_auth_credentials_store = "keyring"\n${"#".repeat(2 * 1024 * 1024)}`)],
  ["not UTF-8", (path) => writeFileSync(path, Buffer.from([0x63, 0x6c, 0x69, 0xff, 0xfe, 0x0a]))],
];

for (const [name, arrange] of CONFIG_CASES) {
  test(`config.toml is ${name}: every CLI command finishes, ignores it with a note and keeps --json one document`, { skip }, async () => {
    const home = makeHome();
    try {
      arrange(join(home, "config.toml"));
      const result = await runCli(["status", "--json", "--home", home], { env: noKeyringEnv(), timeoutMs: HANG_GUARD_MS });
      measured.cases++;
      assert.equal(result.signal, null, "status hung");
      const report = JSON.parse(result.stdout) as { mode: string; modeSource: string };
      assert.deepEqual([report.mode, report.modeSource], ["file", "default"]);
      assert.match(result.stderr, /ignoring .*config\.toml: it (is|cannot)/);
      assert.equal(result.code, 3, "nothing stored");
    } finally {
      removeHome(home);
    }
  });
}

test("hostile paths: the figures", { skip }, (t) => {
  t.diagnostic(`hostile cases run: ${measured.cases}`);
  t.diagnostic(`slowest call: ${measured.worstMs.toFixed(1)} ms (${measured.worstCase})`);
  t.diagnostic(`highest peak RSS: ${Math.round(measured.peakRssKiB / 1024)} MiB (${measured.peakCase})`);
  assert.ok(measured.cases > 0);
});
