/**
 * A full disk while a save keeps a corrupt auth.json: on a real 64 KiB tmpfs
 * (CI runs as root), the `.corrupt-*` copy is complete or absent, never 0
 * bytes or partial, and saves that keep failing do not pile up copies.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { AuthStorageError, createAuthStorage } from "../src/index.ts";
import { fakeAuth, makeHome, removeHome } from "./support/hardening-env.ts";

const isRoot = process.platform === "linux" && process.getuid?.() === 0;

function withTinyTmpfs(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = makeHome("authkeep-enospc-");
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", dir]);
  return run(dir).finally(() => {
    execFileSync("umount", [dir]);
    removeHome(dir);
  });
}

const copies = (dir: string): string[] => readdirSync(dir).filter((name) => name.startsWith("auth.json.corrupt-"));
const leftovers = (dir: string): string[] => readdirSync(dir).filter((name) => name.endsWith(".tmp"));
const isEnospc = (error: unknown): boolean => error instanceof AuthStorageError && error.operation === "save" && error.code === "ENOSPC";

test("ENOSPC: a corrupt file too big to copy is kept as it was, with no 0-byte or partial copy, however often the save is retried", { skip: isRoot ? false : "needs root to mount a tmpfs" }, async () => {
  await withTinyTmpfs(async (home) => {
    const corrupt = `{"OPENAI_API_KEY": "sk-fake-corrupt ${"x".repeat(40 * 1024)}`;
    writeFileSync(join(home, "auth.json"), corrupt, { mode: 0o600 });
    const storage = createAuthStorage({ home, onWarning: () => {} });
    for (let attempt = 0; attempt < 3; attempt++) {
      assert.throws(() => storage.saveSync(fakeAuth("new")), isEnospc);
      await assert.rejects(storage.save(fakeAuth("new")), isEnospc);
      assert.deepEqual(copies(home), [], "no partial copy");
      assert.deepEqual(leftovers(home), []);
    }
    assert.equal(readFileSync(join(home, "auth.json"), "utf8"), corrupt, "the corrupt file is untouched");
  });
});

test("ENOSPC: when the copy fits but the new file does not, repeated failed saves keep exactly one complete copy", { skip: isRoot ? false : "needs root to mount a tmpfs" }, async () => {
  await withTinyTmpfs(async (home) => {
    const corrupt = `{"OPENAI_API_KEY": "sk-fake-corrupt ${"y".repeat(20 * 1024)}`;
    writeFileSync(join(home, "auth.json"), corrupt, { mode: 0o600 });
    const warnings: string[] = [];
    const storage = createAuthStorage({ home, onWarning: (message) => warnings.push(message) });
    const big = fakeAuth("big", 30 * 1024);
    for (let attempt = 0; attempt < 3; attempt++) {
      assert.throws(() => storage.saveSync(big), isEnospc);
      await assert.rejects(storage.save(big), isEnospc);
    }
    const kept = copies(home);
    assert.equal(kept.length, 1, `copies: ${kept.join(", ")}`);
    assert.equal(readFileSync(join(home, kept[0]!), "utf8"), corrupt, "the copy is complete");
    assert.ok(warnings.some((message) => message.includes("already kept in")), warnings.join("\n"));
    // Once there is room, the save goes through; the copy is still the only one.
    await storage.save(fakeAuth("small"));
    assert.equal((await storage.load())?.marker, "small");
    assert.deepEqual(copies(home), kept);
    assert.deepEqual(leftovers(home), []);
  });
});
