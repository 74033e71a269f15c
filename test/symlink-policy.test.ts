/**
 * The documented symlink policy (src/storage/file-storage.ts): a linked auth.json is replaced at
 * its target and stays a link, chains are followed, a dangling link is a typed error, and a
 * linked home works like the real one.
 */
import assert from "node:assert/strict";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { AuthStorageError, createAuthStorage, parseAuthJson, serializeAuthJson } from "../src/index.ts";
import { fakeAuth, isTempFileName, makeHome, removeHome } from "./support/hardening-env.ts";

const posix = process.platform !== "win32";
const mode = (path: string): number => statSync(path).mode & 0o7777;

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
