/**
 * A save skips work whose answer this process already has: it does not read
 * and validate again the file it wrote last while an `lstat` shows the same
 * file (device, inode, size, mtime, ctime), and it does not `mkdir -p` a home
 * it already saved into. Whatever another process does in between, the
 * policies still apply: a corrupt file it leaves is kept before it is
 * replaced, and a removed home is created again.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { type AuthStorage, createAuthStorage } from "../src/index.ts";
import { childCommand, childEnv, fakeAuth, fixturePath, makeHome, removeHome } from "./support/hardening-env.ts";

function backups(home: string): string[] {
  return readdirSync(home).filter((name) => name.startsWith("auth.json.corrupt-")).sort();
}

/** Another process writes `text` to `file`, by `how` (test/fixtures/foreign-writer.ts). */
function foreignWrite(how: "replace" | "in-place", file: string, text: string): void {
  const [command, args] = childCommand(fixturePath("foreign-writer"), [how, file, text]);
  const child = spawnSync(command, args, { env: childEnv(), encoding: "utf8" });
  assert.equal(child.status, 0, child.stderr);
}

const styles = {
  sync: (storage: AuthStorage, marker: string) => Promise.resolve(storage.saveSync(fakeAuth(marker))),
  async: (storage: AuthStorage, marker: string) => storage.save(fakeAuth(marker)),
};

for (const [style, save] of Object.entries(styles)) {
  test(`${style}: a file another process replaced with corrupt bytes after our save is kept before the next save`, async () => {
    const home = makeHome();
    try {
      const warnings: string[] = [];
      const storage = createAuthStorage({ home, onWarning: (message) => warnings.push(message) });
      await save(storage, "first");
      await save(storage, "second"); // our own file: no backup
      foreignWrite("replace", join(home, "auth.json"), '{"OPENAI_API_KEY": "sk-fake-trunc');
      await save(storage, "third");
      const kept = backups(home);
      assert.equal(kept.length, 1);
      assert.equal(readFileSync(join(home, kept[0]!), "utf8"), '{"OPENAI_API_KEY": "sk-fake-trunc');
      assert.equal(warnings.length, 1);
      assert.equal(storage.loadSync()?.marker, "third");
    } finally {
      removeHome(home);
    }
  });

  test(`${style}: a same-size corrupt rewrite in place (same inode) after our save is kept before the next save`, async () => {
    const home = makeHome();
    try {
      const path = join(home, "auth.json");
      const warnings: string[] = [];
      const storage = createAuthStorage({ home, onWarning: (message) => warnings.push(message) });
      await save(storage, "first");
      const ours = lstatSync(path);
      const corrupt = `x${readFileSync(path, "utf8").slice(1)}`;
      foreignWrite("in-place", path, corrupt);
      const theirs = lstatSync(path);
      assert.equal(theirs.ino, ours.ino, "the same inode");
      assert.equal(theirs.size, ours.size, "the same size");
      await save(storage, "second");
      const kept = backups(home);
      assert.equal(kept.length, 1);
      assert.equal(readFileSync(join(home, kept[0]!), "utf8"), corrupt);
      assert.equal(warnings.length, 1);
      assert.equal(storage.loadSync()?.marker, "second");
    } finally {
      removeHome(home);
    }
  });

  test(`${style}: a home removed between two saves is created again, 0700, and the save lands`, async () => {
    const parent = makeHome();
    try {
      const home = join(parent, "codex");
      const storage = createAuthStorage({ home, onWarning: () => {} });
      await save(storage, "first");
      rmSync(home, { recursive: true });
      await save(storage, "second");
      assert.equal(statSync(home).mode & 0o777, 0o700);
      assert.equal(storage.loadSync()?.marker, "second");
      // And once more, now that it is known again.
      rmSync(home, { recursive: true });
      mkdirSync(join(parent, "unrelated"));
      await save(storage, "third");
      assert.equal(storage.loadSync()?.marker, "third");
    } finally {
      removeHome(parent);
    }
  });

  test(`${style}: a symlink's target corrupted by another process after our save is kept before the next save`, async () => {
    const home = makeHome();
    try {
      mkdirSync(join(home, "real"));
      const target = join(home, "real", "creds.json");
      const storage = createAuthStorage({ home, onWarning: () => {} });
      await save(storage, "plain");
      rmSync(join(home, "auth.json"));
      symlinkSync(target, join(home, "auth.json"));
      foreignWrite("replace", target, "{}");
      await save(storage, "first");
      foreignWrite("in-place", target, "{oops");
      await save(storage, "second");
      assert.deepEqual(backups(home).map((name) => readFileSync(join(home, name), "utf8")), ["{oops"]);
      assert.ok(lstatSync(join(home, "auth.json")).isSymbolicLink());
    } finally {
      removeHome(home);
    }
  });
}

test("a corrupt file another process creates after our delete is kept before the next save", () => {
  const home = makeHome();
  try {
    const storage = createAuthStorage({ home, onWarning: () => {} });
    storage.saveSync(fakeAuth("first"));
    const size = statSync(join(home, "auth.json")).size;
    assert.equal(storage.deleteSync(), true);
    // The same size again, so only the delete itself tells the files apart.
    const corrupt = "x".repeat(size);
    foreignWrite("replace", join(home, "auth.json"), corrupt);
    storage.saveSync(fakeAuth("second"));
    assert.deepEqual(backups(home).map((name) => readFileSync(join(home, name), "utf8")), [corrupt]);
  } finally {
    removeHome(home);
  }
});
