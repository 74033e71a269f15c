/**
 * The Codex CLI's flock protocol around writes of auth.json, against the same
 * kernel lock held by another process: `flock(1)` from util-linux takes
 * exactly the `flock(LOCK_EX)` Codex 0.169 takes on `auth.lock` and
 * `auth.json.lock`. Every wait here is ended by the holder, never by a timer.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { AuthStorageError, createAuthStorage, LockTimeoutError, parseAuthJson, serializeAuthJson } from "../src/index.ts";
import { authWithPrefix, tempHome } from "./support/auth-fixtures.ts";
import { collect, fixturePath, spawnFixture } from "./support/child-process.ts";
import { HOSTILE_KINDS, makeHostilePath } from "./support/hostile-paths.ts";

const hasFlock = process.platform === "linux" && spawnSync("flock", ["--version"]).status === 0;
const skip = !hasFlock && "needs Linux and flock(1) from util-linux";
const LOCKS = ["auth.lock", "auth.json.lock"] as const;

/** Holds `flock(path, LOCK_EX)` in a `flock(1)` process until it is killed, or until `marker` is written after `releaseAfterS`. */
async function holdLock(t: { after(fn: () => void): void }, path: string, releaseAfterS?: number, marker?: string): Promise<ChildProcess> {
  const script = releaseAfterS === undefined ? "exec sleep 600" : `sleep ${releaseAfterS}; echo released > '${marker}'`;
  // -o: the lock stays with flock(1) itself (not the command), so killing flock(1) releases it.
  const holder = spawn("flock", ["-o", path, "sh", "-c", script], { stdio: "ignore" });
  t.after(() => {
    if (holder.exitCode === null) holder.kill("SIGKILL");
  });
  // Held once a non-blocking flock(1) of our own fails (bounded: the test's timeout is the guard).
  while (spawnSync("flock", ["-n", path, "true"]).status === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  return holder;
}

function homeWithLogin(t: { after(fn: () => void): void }): { home: string; file: string; before: string } {
  const home = tempHome(t, "authkeep-locks-");
  const before = serializeAuthJson(authWithPrefix("before"));
  writeFileSync(join(home, "auth.json"), before, { mode: 0o600 });
  return { home, file: join(home, "auth.json"), before };
}

test("file save creates Codex's lock files with Codex's modes and never removes them", { skip }, async (t) => {
  const { home } = homeWithLogin(t);
  const storage = createAuthStorage({ home, mode: "file" });
  const umask = process.umask();
  await storage.save(authWithPrefix("one"));
  assert.equal(statSync(join(home, "auth.lock")).mode & 0o777, 0o644 & ~umask);
  assert.equal(statSync(join(home, "auth.json.lock")).mode & 0o777, 0o600 & ~umask);
  const inodes = LOCKS.map((name) => statSync(join(home, name)).ino);
  storage.saveSync(authWithPrefix("two"));
  assert.equal(await storage.delete(), true);
  assert.deepEqual(LOCKS.map((name) => statSync(join(home, name)).ino), inodes, "same inodes after save, save and delete");
  assert.deepEqual(LOCKS.map((name) => statSync(join(home, name)).size), [0, 0], "never written to");
});

for (const name of LOCKS) {
  test(`save() waits while another process holds ${name}, keeps the event loop running, then succeeds`, { skip, timeout: 30_000 }, async (t) => {
    const { home, file } = homeWithLogin(t);
    const storage = createAuthStorage({ home, mode: "file" });
    await storage.save(authWithPrefix("first")); // creates the lock files
    const inode = statSync(join(home, name)).ino;
    const holder = await holdLock(t, join(home, name));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const saving = storage.save(authWithPrefix("after-release"));
    let settled = false;
    void saving.finally(() => (settled = true)).catch(() => {});
    try {
      while (ticks < 10) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(settled, false, "the save waits for the lock");
      assert.deepEqual(parseAuthJson(readFileSync(file, "utf8")), authWithPrefix("first"), "nothing written while held");
      holder.kill("SIGTERM");
      await saving;
    } finally {
      clearInterval(timer);
    }
    assert.ok(ticks >= 10, "timers ran while the save waited");
    assert.deepEqual(parseAuthJson(readFileSync(file, "utf8")), authWithPrefix("after-release"));
    assert.equal(statSync(join(home, name)).ino, inode, "the lock file's inode is unchanged");
    assert.ok(LOCKS.every((lock) => existsSync(join(home, lock))), "both lock files still exist");
  });

  test(`saveSync() waits while another process holds ${name}, then succeeds`, { skip, timeout: 30_000 }, async (t) => {
    const { home, file } = homeWithLogin(t);
    const storage = createAuthStorage({ home, mode: "file" });
    storage.saveSync(authWithPrefix("first"));
    const inode = statSync(join(home, name)).ino;
    const marker = join(home, "released-marker");
    await holdLock(t, join(home, name), 0.3, marker);
    storage.saveSync(authWithPrefix("after-release"));
    assert.ok(existsSync(marker), "the save finished only after the holder released the lock");
    assert.deepEqual(parseAuthJson(readFileSync(file, "utf8")), authWithPrefix("after-release"));
    assert.equal(statSync(join(home, name)).ino, inode, "the lock file's inode is unchanged");
  });

  for (const sync of [false, true]) {
    const call = sync ? "saveSync()" : "save()";
    test(`${call}: ${name} held past lockTimeoutMs is a LockTimeoutError naming it; auth.json is intact`, { skip, timeout: 30_000 }, async (t) => {
      const { home, file, before } = homeWithLogin(t);
      writeFileSync(join(home, name), "");
      await holdLock(t, join(home, name));
      const storage = createAuthStorage({ home, mode: "file", lockTimeoutMs: 150 });
      const error = await (sync ? Promise.resolve().then(() => storage.saveSync(authWithPrefix("x"))) : storage.save(authWithPrefix("x"))).then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(error instanceof LockTimeoutError, `got ${String(error)}`);
      assert.equal(error.lock, "file");
      assert.equal(error.path, join(home, name));
      assert.match(error.message, /another program/);
      assert.ok(error.message.includes(join(home, name)));
      assert.equal(readFileSync(file, "utf8"), before, "auth.json untouched");
      const deleteError = await (sync ? Promise.resolve().then(() => storage.deleteSync()) : storage.delete()).then(() => null, (e: unknown) => e);
      assert.ok(deleteError instanceof LockTimeoutError, "delete waits for the same locks");
      assert.equal(readFileSync(file, "utf8"), before, "auth.json still there");
    });
  }
}

for (const name of LOCKS) {
  for (const kind of HOSTILE_KINDS) {
    for (const sync of [false, true]) {
      const call = sync ? "saveSync()" : "save()";
      test(`${call} with a ${kind} at ${name}: a typed AuthStorageError at once, auth.json intact`, { skip, timeout: 10_000 }, async (t) => {
        const { home, file, before } = homeWithLogin(t);
        if (!makeHostilePath(kind, join(home, name), home)) return t.skip(`cannot make a ${kind} here`);
        const storage = createAuthStorage({ home, mode: "file" });
        const error = await (sync ? Promise.resolve().then(() => storage.saveSync(authWithPrefix("x"))) : storage.save(authWithPrefix("x"))).then(
          () => null,
          (e: unknown) => e,
        );
        assert.ok(error instanceof AuthStorageError, `got ${String(error)}`);
        assert.ok(["ELOOP", "EISDIR", "EFTYPE"].includes(error.code ?? ""), `code ${error.code}`);
        assert.ok(error.message.includes(join(home, name)), error.message);
        assert.equal(readFileSync(file, "utf8"), before, "auth.json untouched");
      });
    }
  }
}

test("without FFI a save still succeeds atomically, with one warning per process that names what is lost", { timeout: 30_000 }, async () => {
  // An FFI provider this runtime cannot load stands in for "koffi is not installed".
  const ffi = "Deno" in globalThis ? "bun" : "deno";
  const child = spawnFixture(fixturePath("save-without-ffi", import.meta.url), [], { env: { ...process.env, AUTHKEEP_FFI: ffi } });
  const { code, stdout, stderr } = await collect(child);
  assert.equal(code, 0, stderr);
  const result = JSON.parse(stdout) as { warnings: string[]; saved: boolean; lockFiles: boolean };
  assert.equal(result.saved, true);
  assert.equal(result.warnings.length, 1, JSON.stringify(result.warnings));
  assert.match(result.warnings[0]!, /no file locking/);
  assert.match(result.warnings[0]!, /Codex/);
  assert.equal(result.lockFiles, false, "no lock files without a lock");
});
