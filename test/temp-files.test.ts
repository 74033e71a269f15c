/**
 * Temp files: created exclusively (O_EXCL), 0600, with unpredictable names, so a symlink planted
 * at the temp name cannot redirect the write. Observed by wrapping node:fs's open functions.
 */
import assert from "node:assert/strict";
// A namespace import: not every runtime's node:module has syncBuiltinESMExports, and a missing
// named import would fail the whole file instead of skipping the two tests that need it.
import * as nodeModule from "node:module";
import * as fsNamespace from "node:fs";
import { existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { AuthStorageError, createAuthStorage } from "../src/index.ts";
import { fakeAuth, isTempFileName, makeHome, removeHome } from "./support/hardening-env.ts";

const posix = process.platform !== "win32";

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
