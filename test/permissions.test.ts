/**
 * Permissions and paths: 0600 files and 0700 directories on create, 0600
 * after saving over a looser file, a warning for a home others can write to,
 * the documented symlink policy (src/storage/file-storage.ts), exclusive temp files
 * with unpredictable names, and typed errors that leave the old file intact
 * when the disk refuses (EACCES as uid 65534, EPERM from `chattr +i`, EROFS
 * from a read-only bind mount: the tests run as root, where mode bits alone
 * refuse nothing).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
// A namespace import: not every runtime's node:module has syncBuiltinESMExports, and a missing
// named import would fail the whole file instead of skipping the two tests that need it.
import * as nodeModule from "node:module";
import * as fsNamespace from "node:fs";
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { AuthStorageError, createAuthStorage, parseAuthJson, serializeAuthJson } from "../src/index.ts";
import { childCommand, childEnv, fakeAuth, fixturePath, isTempFileName, makeHome, removeHome, slowTestsOff } from "./support/hardening-env.ts";
import { makeImmutable, mountReadOnly } from "./support/hardening-readonly.ts";

const posix = process.platform !== "win32";
const mode = (path: string): number => statSync(path).mode & 0o7777;

test("a save creates missing directories 0700 and the file 0600, whatever the umask", { skip: !posix }, async () => {
  for (const umask of [0o000, 0o022, 0o002]) {
    const root = makeHome();
    const previous = process.umask(umask);
    try {
      const home = join(root, "a", "b", ".codex");
      const storage = createAuthStorage({ home, onWarning: (message) => assert.fail(`unexpected warning: ${message}`) });
      storage.saveSync(fakeAuth("sync"));
      for (const dir of [join(root, "a"), join(root, "a", "b"), home]) assert.equal(mode(dir), 0o700, `${dir} under umask ${umask.toString(8)}`);
      assert.equal(mode(join(home, "auth.json")), 0o600);
      await storage.save(fakeAuth("async"));
      assert.equal(mode(join(home, "auth.json")), 0o600);
    } finally {
      process.umask(previous);
      removeHome(root);
    }
  }
});

test("an existing 0644 (or 0666, or 0400) auth.json is 0600 after a save", { skip: !posix }, async () => {
  for (const loose of [0o644, 0o666, 0o400, 0o755]) {
    for (const style of ["sync", "async"]) {
      const home = makeHome();
      try {
        const path = join(home, "auth.json");
        writeFileSync(path, serializeAuthJson(fakeAuth("old")));
        chmodSync(path, loose);
        const storage = createAuthStorage({ home });
        if (style === "sync") storage.saveSync(fakeAuth("new"));
        else await storage.save(fakeAuth("new"));
        assert.equal(mode(path), 0o600, `was ${loose.toString(8)}, ${style}`);
        assert.equal(parseAuthJson(readFileSync(path, "utf8")).marker, "new");
      } finally {
        removeHome(home);
      }
    }
  }
});

test("a home directory that other users can write to gets one warning; a private one none", { skip: !posix }, () => {
  const cases: [number, boolean][] = [
    [0o700, false],
    [0o755, false],
    [0o750, false],
    [0o777, true],
    [0o1777, true], // sticky: others cannot replace auth.json, but can plant it or a symlink before us
    [0o770, true],
    [0o775, true],
    [0o703, true],
  ];
  for (const [homeMode, warned] of cases) {
    const home = makeHome();
    try {
      chmodSync(home, homeMode);
      const warnings: string[] = [];
      const storage = createAuthStorage({ home, onWarning: (message) => warnings.push(message) });
      storage.saveSync(fakeAuth("w"));
      storage.saveSync(fakeAuth("w2"));
      assert.equal(warnings.length, warned ? 1 : 0, `home mode ${homeMode.toString(8)}: ${JSON.stringify(warnings)}`);
      if (warned) assert.ok(warnings[0]!.includes(home) && warnings[0]!.includes("chmod 700"));
    } finally {
      removeHome(home);
    }
  }
});

test("loading from a home that others can write to warns too (the file may be theirs)", { skip: !posix }, async () => {
  for (const [homeMode, warned] of [[0o777, true], [0o770, true], [0o700, false]] as const) {
    for (const style of ["sync", "async"]) {
      const home = makeHome();
      try {
        writeFileSync(join(home, "auth.json"), serializeAuthJson(fakeAuth("planted")), { mode: 0o600 });
        chmodSync(home, homeMode);
        const warnings: string[] = [];
        const storage = createAuthStorage({ home, onWarning: (message) => warnings.push(message) });
        const auth = style === "sync" ? storage.loadSync() : await storage.load();
        assert.equal(auth?.marker, "planted");
        assert.equal(warnings.length, warned ? 1 : 0, `home mode ${homeMode.toString(8)}, ${style}`);
      } finally {
        removeHome(home);
      }
    }
  }
});

test("symlink policy: a save replaces the link's target atomically and keeps the link; load reads through it; delete removes both", { skip: !posix }, async () => {
  const home = makeHome();
  try {
    const elsewhere = join(home, "elsewhere");
    mkdirSync(elsewhere, { mode: 0o700 });
    const target = join(elsewhere, "real-auth.json");
    writeFileSync(target, serializeAuthJson(fakeAuth("old")), { mode: 0o644 });
    const link = join(home, "auth.json");
    symlinkSync(target, link);
    const storage = createAuthStorage({ home });
    const inodeBefore = statSync(target).ino;
    await storage.save(fakeAuth("new"));
    assert.ok(lstatSync(link).isSymbolicLink(), "the link stays a link");
    assert.equal(readlinkSync(link), target);
    assert.notEqual(statSync(target).ino, inodeBefore, "the target was replaced by rename, not rewritten in place");
    assert.equal(mode(target), 0o600);
    assert.equal(parseAuthJson(readFileSync(target, "utf8")).marker, "new");
    // The temp file lived beside the target (same file system, so the rename is atomic).
    assert.deepEqual(readdirSync(home).filter((name) => isTempFileName(name)), []);
    assert.equal(storage.loadSync()?.marker, "new");
    assert.equal(storage.deleteSync(), true);
    assert.equal(existsSync(link) || lstatSync(link, { throwIfNoEntry: false }) !== undefined, false);
    assert.equal(existsSync(target), false);
    assert.equal(storage.deleteSync(), false);
  } finally {
    removeHome(home);
  }
});

test("symlink policy: a chain of links is followed to the end", { skip: !posix }, () => {
  const home = makeHome();
  try {
    const target = join(home, "final.json");
    writeFileSync(target, serializeAuthJson(fakeAuth("old")));
    symlinkSync(target, join(home, "middle.json"));
    symlinkSync(join(home, "middle.json"), join(home, "auth.json"));
    createAuthStorage({ home }).saveSync(fakeAuth("chained"));
    assert.ok(lstatSync(join(home, "middle.json")).isSymbolicLink());
    assert.ok(lstatSync(join(home, "auth.json")).isSymbolicLink());
    assert.equal(parseAuthJson(readFileSync(target, "utf8")).marker, "chained");
  } finally {
    removeHome(home);
  }
});

test("symlink policy: a dangling link is an AuthStorageError on save (nothing is created at its target); load sees no credentials", { skip: !posix }, async () => {
  const home = makeHome();
  try {
    const target = join(home, "missing-dir", "nowhere.json");
    symlinkSync(target, join(home, "auth.json"));
    const storage = createAuthStorage({ home });
    for (const save of [() => storage.saveSync(fakeAuth("x")), () => storage.save(fakeAuth("x"))]) {
      await assert.rejects(async () => save(), (error: unknown) => {
        assert.ok(error instanceof AuthStorageError, `got ${(error as Error).name}`);
        assert.equal(error.operation, "save");
        assert.ok(error.message.includes("symlink"));
        return true;
      });
    }
    assert.equal(existsSync(target), false);
    assert.ok(lstatSync(join(home, "auth.json")).isSymbolicLink());
    assert.equal(storage.loadSync(), null);
    assert.equal(await storage.load(), null);
  } finally {
    removeHome(home);
  }
});

test("a symlinked home directory works like the real one", { skip: !posix }, () => {
  const root = makeHome();
  try {
    const real = join(root, "real-home");
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, join(root, "linked-home"));
    createAuthStorage({ home: join(root, "linked-home") }).saveSync(fakeAuth("via-link"));
    assert.equal(parseAuthJson(readFileSync(join(real, "auth.json"), "utf8")).marker, "via-link");
    assert.equal(createAuthStorage({ home: real }).loadSync()?.marker, "via-link");
  } finally {
    removeHome(root);
  }
});

/** Wraps fs.openSync and fs/promises.open (as the sources see them) for the duration of `body`. */
async function withOpenSpy(
  spy: (path: string, flags: unknown, mode: unknown) => void,
  body: () => Promise<void>,
): Promise<boolean> {
  const syncBuiltinESMExports = (nodeModule as { syncBuiltinESMExports?: () => void }).syncBuiltinESMExports;
  if (typeof syncBuiltinESMExports !== "function") return false;
  const require = nodeModule.createRequire(import.meta.url);
  const fs = require("node:fs") as { openSync: (...args: unknown[]) => number };
  const fsp = require("node:fs/promises") as { open: (...args: unknown[]) => Promise<unknown> };
  const openSync = fs.openSync;
  const open = fsp.open;
  fs.openSync = function (this: unknown, ...args: unknown[]) {
    spy(String(args[0]), args[1], args[2]);
    return openSync.apply(this, args);
  };
  fsp.open = function (this: unknown, ...args: unknown[]) {
    spy(String(args[0]), args[1], args[2]);
    return open.apply(this, args);
  };
  syncBuiltinESMExports();
  try {
    // Where the runtime's node:fs namespace does not follow (Deno), there is nothing to observe.
    if (fsNamespace.openSync === openSync) return false;
    await body();
  } finally {
    fs.openSync = openSync;
    fsp.open = open;
    syncBuiltinESMExports();
  }
  return true;
}

test("temp files are created exclusively (O_EXCL), 0600, with unpredictable names", { skip: !posix }, async (t) => {
  const home = makeHome();
  try {
    const storage = createAuthStorage({ home });
    const temps: { path: string; flags: unknown; mode: unknown }[] = [];
    const ran = await withOpenSpy(
      (path, flags, fileMode) => {
        if (isTempFileName(path.slice(home.length + 1))) temps.push({ path, flags, mode: fileMode });
      },
      async () => {
        for (let i = 0; i < 100; i++) {
          storage.saveSync(fakeAuth(`s${i}`));
          await storage.save(fakeAuth(`a${i}`));
        }
      },
    );
    if (!ran) return t.skip("this runtime cannot intercept node:fs");
    assert.equal(temps.length, 200);
    const randomParts = new Set<string>();
    for (const temp of temps) {
      assert.equal(temp.flags, "wx", "created with O_CREAT|O_EXCL");
      assert.equal(temp.mode, 0o600);
      const match = /^\.auth\.json\.(\d+)\.([0-9a-f]{12})\.tmp$/.exec(temp.path.slice(home.length + 1));
      assert.ok(match, temp.path);
      assert.equal(Number(match[1]), process.pid);
      randomParts.add(match[2]!);
    }
    // 48 random bits per name: 200 names never repeat, and are not a counter.
    assert.equal(randomParts.size, 200);
  } finally {
    removeHome(home);
  }
});

test("an attacker who plants a symlink at the temp name first cannot redirect the write", { skip: !posix }, async (t) => {
  const home = makeHome();
  try {
    const victim = join(home, "victim.txt");
    writeFileSync(victim, "untouched");
    const storage = createAuthStorage({ home });
    storage.saveSync(fakeAuth("before"));
    for (const style of ["sync", "async"]) {
      const ran = await withOpenSpy(
        (path) => {
          // Win the race: the name is known only at open time, as it would be to an attacker watching the directory.
          if (isTempFileName(path.slice(home.length + 1)) && !existsSync(path)) symlinkSync(victim, path);
        },
        async () => {
          const save = style === "sync" ? async () => storage.saveSync(fakeAuth("planted")) : () => storage.save(fakeAuth("planted"));
          await assert.rejects(save(), (error: unknown) => error instanceof AuthStorageError && error.code === "EEXIST");
        },
      );
      if (!ran) return t.skip("this runtime cannot intercept node:fs");
      assert.equal(readFileSync(victim, "utf8"), "untouched");
      assert.equal(storage.loadSync()?.marker, "before");
    }
  } finally {
    removeHome(home);
  }
});

interface NobodyResult {
  uid?: number;
  outcome: "ok" | "error";
  value?: unknown;
  name?: string;
  typed?: boolean;
  operation?: string;
  code?: string;
  path?: string;
  message?: string;
}

function runAsNobody(home: string, operation: string): NobodyResult {
  const [command, args] = childCommand(fixturePath("hardening-as-nobody"), [home, operation]);
  const out = execFileSync(command, args, { encoding: "utf8", env: childEnv() });
  return JSON.parse(out) as NobodyResult;
}

const canSetuid = posix && typeof process.getuid === "function" && process.getuid() === 0;
// Child processes as uid 65534: run in npm test (Node 20), not in the runtime matrix's fast pass.
const nobodySkip = slowTestsOff ? "slow tests disabled (child processes)" : !canSetuid ? "needs root to drop to uid 65534" : false;

test("EACCES (as uid 65534): save, load and delete give a typed AuthStorageError and the old file stays intact", { skip: nobodySkip }, () => {
  const home = makeHome();
  try {
    const path = join(home, "auth.json");
    const old = serializeAuthJson(fakeAuth("old"));
    // A home others may read but not write: the save cannot create its temp file.
    chmodSync(home, 0o755);
    writeFileSync(path, old, { mode: 0o644 });
    for (const style of ["sync", "async"]) {
      const result = runAsNobody(home, `save-${style}`);
      assert.equal(result.uid, 65534);
      assert.deepEqual(
        { outcome: result.outcome, typed: result.typed, operation: result.operation, code: result.code, path: result.path },
        { outcome: "error", typed: true, operation: "save", code: "EACCES", path },
      );
      assert.ok(result.message!.includes(path));
      assert.equal(readFileSync(path, "utf8"), old);
      assert.deepEqual(readdirSync(home), ["auth.json"]);
      const removal = runAsNobody(home, `delete-${style}`);
      assert.deepEqual([removal.outcome, removal.typed, removal.operation, removal.code], ["error", true, "delete", "EACCES"]);
      assert.equal(readFileSync(path, "utf8"), old);
    }
    // A file only its owner may read: load is a typed error, not "logged out".
    chmodSync(path, 0o600);
    for (const style of ["sync", "async"]) {
      const result = runAsNobody(home, `load-${style}`);
      assert.deepEqual([result.outcome, result.typed, result.operation, result.code], ["error", true, "load", "EACCES"]);
    }
    // A home that cannot be created.
    const missing = join(home, "sub", ".codex");
    const create = runAsNobody(missing, "save-sync");
    assert.deepEqual([create.outcome, create.typed, create.operation, create.code], ["error", true, "save", "EACCES"]);
    assert.equal(existsSync(join(home, "sub")), false);
  } finally {
    removeHome(home);
  }
});

for (const [label, block] of [
  ["EPERM (chattr +i)", makeImmutable],
  ["EROFS (read-only bind mount)", mountReadOnly],
] as const) {
  test(`${label}: save and delete give a typed AuthStorageError and the old file stays intact`, { skip: !posix }, async (t) => {
    const home = makeHome();
    const path = join(home, "auth.json");
    const old = serializeAuthJson(fakeAuth("old"));
    writeFileSync(path, old, { mode: 0o600 });
    const undo = block(home);
    if (undo === undefined) {
      removeHome(home);
      return t.skip(`${label} is not available here`);
    }
    try {
      const storage = createAuthStorage({ home });
      const expectError = (operation: string) => (error: unknown) => {
        assert.ok(error instanceof AuthStorageError, `got ${(error as Error).name}`);
        assert.equal(error.operation, operation);
        assert.ok(["EPERM", "EROFS", "EACCES"].includes(String(error.code)), String(error.code));
        assert.ok(error.cause instanceof Error);
        return true;
      };
      assert.throws(() => storage.saveSync(fakeAuth("new")), expectError("save"));
      await assert.rejects(storage.save(fakeAuth("new")), expectError("save"));
      assert.throws(() => storage.deleteSync(), expectError("delete"));
      await assert.rejects(storage.delete(), expectError("delete"));
      assert.equal(readFileSync(path, "utf8"), old);
      assert.deepEqual(readdirSync(home), ["auth.json"]);
      assert.equal(storage.loadSync()?.marker, "old");
    } finally {
      undo();
      removeHome(home);
    }
  });
}

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

test("a home under /proc (no such writable place) gives a typed AuthStorageError", {
  // Deno refuses any /proc access without --allow-all, before the file system is asked.
  skip: process.platform !== "linux" ? "Linux only" : isDeno ? "Deno needs --allow-all for /proc" : false,
}, async () => {
  const storage = createAuthStorage({ home: "/proc/authkeep-cannot-write-here" });
  await assert.rejects(storage.save(fakeAuth("x")), (error: unknown) => error instanceof AuthStorageError && error.operation === "save");
  assert.throws(() => storage.saveSync(fakeAuth("x")), AuthStorageError);
  assert.equal(storage.loadSync(), null);
});

test("a directory where auth.json should be gives typed errors for load and save", () => {
  const home = makeHome();
  try {
    mkdirSync(join(home, "auth.json"));
    const storage = createAuthStorage({ home });
    assert.throws(() => storage.loadSync(), (error: unknown) => error instanceof AuthStorageError && error.operation === "load" && error.code === "EISDIR");
    assert.throws(() => storage.saveSync(fakeAuth("x")), (error: unknown) => error instanceof AuthStorageError && error.operation === "save");
    assert.ok(statSync(join(home, "auth.json")).isDirectory());
  } finally {
    removeHome(home);
  }
});

test("root saving another user's auth.json keeps that user as its owner (0600), so they can still read it", { skip: nobodySkip }, async () => {
  const home = makeHome();
  try {
    chmodSync(home, 0o755);
    const path = join(home, "auth.json");
    writeFileSync(path, serializeAuthJson(fakeAuth("old")), { mode: 0o600 });
    chownSync(path, 65534, 65534);
    const storage = createAuthStorage({ home });
    storage.saveSync(fakeAuth("by-root-sync"));
    assert.deepEqual([statSync(path).uid, statSync(path).gid, mode(path)], [65534, 65534, 0o600]);
    await storage.save(fakeAuth("by-root-async"));
    assert.deepEqual([statSync(path).uid, statSync(path).gid, mode(path)], [65534, 65534, 0o600]);
    const result = runAsNobody(home, "load-sync");
    assert.deepEqual([result.outcome, result.value], ["ok", "credentials"]);
    // So does the backup root keeps of the user's corrupt file.
    writeFileSync(path, "{corrupt");
    chownSync(path, 65534, 65534);
    storage.saveSync(fakeAuth("over-corrupt"));
    const backup = readdirSync(home).find((name) => name.startsWith("auth.json.corrupt-"));
    assert.ok(backup);
    assert.deepEqual([statSync(join(home, backup)).uid, mode(join(home, backup))], [65534, 0o600]);
    // A file root creates itself stays root's.
    const fresh = join(home, "fresh");
    createAuthStorage({ home: fresh }).saveSync(fakeAuth("new"));
    assert.equal(statSync(join(fresh, "auth.json")).uid, 0);
  } finally {
    removeHome(home);
  }
});

test("a FIFO or a device in place of auth.json is refused with a typed error, instead of hanging or reading forever", { skip: !posix, timeout: 30_000 }, async () => {
  const home = makeHome();
  try {
    const path = join(home, "auth.json");
    execFileSync("mkfifo", [path]);
    const storage = createAuthStorage({ home, onWarning: () => {} });
    // Async first: were the read to block, it blocks a worker thread and the test timeout still fires.
    await assert.rejects(storage.load(), (error: unknown) => error instanceof AuthStorageError && error.operation === "load" && error.code === "EFTYPE");
    assert.throws(() => storage.loadSync(), (error: unknown) => error instanceof AuthStorageError && error.operation === "load");
    await assert.rejects(storage.save(fakeAuth("x")), (error: unknown) => error instanceof AuthStorageError && error.operation === "save");
    rmSync(path);
    symlinkSync("/dev/zero", path);
    await assert.rejects(storage.load(), (error: unknown) => error instanceof AuthStorageError && error.operation === "load");
    assert.throws(() => storage.loadSync(), AuthStorageError);
    assert.ok(lstatSync(path).isSymbolicLink(), "nothing was replaced");
  } finally {
    removeHome(home);
  }
});
