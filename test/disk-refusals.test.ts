/**
 * When the disk refuses: typed errors that leave the old file intact (EACCES as uid 65534, EPERM
 * from `chattr +i`, EROFS from a read-only bind mount: the tests run as root, where mode bits
 * alone refuse nothing), and typed errors for a home under /proc, a directory, a FIFO or a device
 * where auth.json should be.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { AuthStorageError, createAuthStorage, serializeAuthJson } from "../src/index.ts";
import { runAsNobody, nobodySkip } from "./support/as-nobody.ts";
import { fakeAuth, makeHome, removeHome } from "./support/hardening-env.ts";
import { makeImmutable, mountReadOnly } from "./support/hardening-readonly.ts";

const posix = process.platform !== "win32";

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
