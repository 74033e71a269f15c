/**
 * File modes and ownership: 0600 files and 0700 directories on create, 0600 after saving over a
 * looser file, a warning for a home others can write to, and root saving another user's file
 * keeps that user as its owner.
 */
import assert from "node:assert/strict";
import { chmodSync, chownSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { createAuthStorage, parseAuthJson, serializeAuthJson } from "../src/index.ts";
import { runAsNobody, nobodySkip } from "./support/as-nobody.ts";
import { fakeAuth, makeHome, removeHome } from "./support/hardening-env.ts";

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
