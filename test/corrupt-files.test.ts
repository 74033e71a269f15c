/**
 * Corrupt files are never lost: load reports them with a typed error and
 * leaves them alone; a save that replaces one first keeps its bytes as
 * `auth.json.corrupt-<timestamp>` (0600) and warns.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { AuthFormatError, AuthStorageError, createAuthStorage, KeyringError, computeStoreKey, parseAuthJson } from "../src/index.ts";
import { MemoryKeyringStore } from "../src/testing.ts";
import { fakeAuth, makeHome, removeHome } from "./support/hardening-env.ts";
import { makeImmutable } from "./support/hardening-readonly.ts";

const corruptions: [string, Uint8Array][] = [
  ["truncated JSON", Buffer.from('{"OPENAI_API_KEY": "sk-fake-trunc')],
  ["a number where a string belongs", Buffer.from('{"OPENAI_API_KEY": 42}')],
  ["invalid UTF-8", Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
  ["not an object", Buffer.from("[1, 2, 3]")],
  ["whitespace only", Buffer.from(" \n\t")],
  ["NUL bytes", Buffer.alloc(64)],
  ["a known field given twice", Buffer.from('{"OPENAI_API_KEY": null, "OPENAI_API_KEY": null}')],
];

function backups(home: string): string[] {
  return readdirSync(home).filter((name) => name.startsWith("auth.json.corrupt-")).sort();
}

for (const [label, bytes] of corruptions) {
  test(`corrupt file (${label}): load throws AuthFormatError naming the file, and leaves it alone`, async () => {
    const home = makeHome();
    try {
      const path = join(home, "auth.json");
      writeFileSync(path, bytes, { mode: 0o600 });
      const storage = createAuthStorage({ home, onWarning: () => assert.fail("load must not warn") });
      for (const load of [() => storage.loadSync(), () => storage.load()]) {
        await assert.rejects(async () => load(), (error: unknown) => {
          assert.ok(error instanceof AuthFormatError, `got ${(error as Error).name}`);
          assert.ok(error.message.includes(path), "the message names the file");
          return true;
        });
      }
      assert.deepEqual(readFileSync(path), Buffer.from(bytes));
      assert.deepEqual(backups(home), []);
    } finally {
      removeHome(home);
    }
  });

  for (const style of ["sync", "async"] as const) {
    test(`corrupt file (${label}): a ${style} save keeps the old bytes as auth.json.corrupt-<timestamp>, 0600, and warns`, async () => {
      const home = makeHome();
      try {
        const path = join(home, "auth.json");
        writeFileSync(path, bytes, { mode: 0o644 });
        const warnings: string[] = [];
        const storage = createAuthStorage({ home, onWarning: (message) => warnings.push(message) });
        const auth = fakeAuth("after-corrupt");
        const before = Date.now();
        if (style === "sync") storage.saveSync(auth);
        else await storage.save(auth);
        const kept = backups(home);
        assert.equal(kept.length, 1);
        const backup = join(home, kept[0]!);
        assert.deepEqual(readFileSync(backup), Buffer.from(bytes), "the backup holds the exact old bytes");
        assert.equal(statSync(backup).mode & 0o777, 0o600);
        // auth.json.corrupt-2025-01-02T03-04-05-678Z: the save's time, usable in a file name everywhere.
        const stamp = /^auth\.json\.corrupt-(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z$/.exec(kept[0]!);
        assert.ok(stamp, kept[0]);
        const time = Date.parse(`${stamp[1]}T${stamp[2]}:${stamp[3]}:${stamp[4]}.${stamp[5]}Z`);
        assert.ok(time >= before - 1000 && time <= Date.now() + 1000);
        assert.equal(warnings.length, 1);
        assert.ok(warnings[0]!.includes(backup), "the warning names the backup");
        assert.deepEqual(storage.loadSync(), parseAuthJson(JSON.stringify(auth)));
        assert.equal(statSync(path).mode & 0o777, 0o600);
        // The next save has a valid predecessor: no second backup, no warning.
        storage.saveSync(fakeAuth("next"));
        assert.deepEqual(backups(home), kept);
        assert.equal(warnings.length, 1);
      } finally {
        removeHome(home);
      }
    });
  }
}

test("an empty auth.json (what a truncating writer leaves) is replaced without a backup", () => {
  const home = makeHome();
  try {
    writeFileSync(join(home, "auth.json"), "", { mode: 0o600 });
    const warnings: string[] = [];
    const storage = createAuthStorage({ home, onWarning: (message) => warnings.push(message) });
    assert.throws(() => storage.loadSync(), AuthFormatError);
    storage.saveSync(fakeAuth("e"));
    assert.deepEqual(backups(home), []);
    assert.deepEqual(warnings, []);
  } finally {
    removeHome(home);
  }
});

test("corrupt files replaced in quick succession each keep their own backup", () => {
  const home = makeHome();
  try {
    const storage = createAuthStorage({ home, onWarning: () => {} });
    const versions = Array.from({ length: 5 }, (_, i) => Buffer.from(`{"corrupt": ${i}`));
    for (const bytes of versions) {
      writeFileSync(join(home, "auth.json"), bytes);
      storage.saveSync(fakeAuth("quick"));
    }
    const kept = backups(home).map((name) => readFileSync(join(home, name)).toString());
    assert.deepEqual(kept.sort(), versions.map(String).sort());
  } finally {
    removeHome(home);
  }
});

test("a corrupt symlink target is kept beside the link, and the target replaced", () => {
  const home = makeHome();
  try {
    mkdirSync(join(home, "real"));
    const target = join(home, "real", "creds.json");
    writeFileSync(target, "{oops");
    symlinkSync(target, join(home, "auth.json"));
    const storage = createAuthStorage({ home, onWarning: () => {} });
    storage.saveSync(fakeAuth("link"));
    assert.equal(backups(home).length, 1);
    assert.equal(readFileSync(join(home, backups(home)[0]!), "utf8"), "{oops");
    assert.ok(lstatSync(join(home, "auth.json")).isSymbolicLink());
    assert.equal(parseAuthJson(readFileSync(target, "utf8")).marker, "link");
  } finally {
    removeHome(home);
  }
});

test("when the backup cannot be written, the save fails with AuthStorageError and the corrupt file stays", (t) => {
  const home = makeHome();
  const path = join(home, "auth.json");
  writeFileSync(path, "{corrupt");
  const undo = makeImmutable(home);
  if (undo === undefined) {
    removeHome(home);
    t.skip("chattr +i is not available here");
    return;
  }
  try {
    const storage = createAuthStorage({ home, onWarning: () => assert.fail("no backup was kept, so no warning") });
    assert.throws(() => storage.saveSync(fakeAuth("blocked")), (error: unknown) => {
      assert.ok(error instanceof AuthStorageError, `got ${(error as Error).name}`);
      assert.equal(error.operation, "save");
      assert.ok(error.code === "EPERM" || error.code === "EACCES", String(error.code));
      return true;
    });
    assert.equal(readFileSync(path, "utf8"), "{corrupt");
  } finally {
    undo();
    removeHome(home);
  }
});

test("auto mode: a save that falls back to the file also keeps a corrupt file", async () => {
  const home = makeHome();
  try {
    writeFileSync(join(home, "auth.json"), "{corrupt");
    const keyring = new MemoryKeyringStore();
    keyring.setError(computeStoreKey(home), new KeyringError("keyring is locked", { kind: "locked", backend: "memory" }));
    const warnings: string[] = [];
    const storage = createAuthStorage({ home, mode: "auto", keyring, onWarning: (message) => warnings.push(message) });
    await storage.save(fakeAuth("auto"));
    assert.equal(backups(home).length, 1);
    assert.ok(warnings.some((message) => message.includes("corrupt-")));
  } finally {
    removeHome(home);
  }
});

test("a corrupt keyring value: keyring mode throws AuthFormatError, auto mode warns and falls back to the file", async () => {
  const home = makeHome();
  try {
    const keyring = new MemoryKeyringStore();
    keyring.saveSync("Codex Auth", computeStoreKey(home), '{"OPENAI_API_KEY": "sk-fake-corrupt"');
    const strict = createAuthStorage({ home, mode: "keyring", keyring });
    await assert.rejects(strict.load(), AuthFormatError);
    assert.throws(() => strict.loadSync(), AuthFormatError);
    writeFileSync(join(home, "auth.json"), JSON.stringify(fakeAuth("file-copy")), { mode: 0o600 });
    const warnings: string[] = [];
    const auto = createAuthStorage({ home, mode: "auto", keyring, onWarning: (message) => warnings.push(message) });
    assert.equal((await auto.load())?.marker, "file-copy");
    assert.equal(warnings.length, 1);
    // The corrupt keyring value is not destroyed by a load.
    assert.equal(keyring.savedValue(computeStoreKey(home)), '{"OPENAI_API_KEY": "sk-fake-corrupt"');
  } finally {
    removeHome(home);
  }
});

test("the default warning channel is process.emitWarning with the name AuthkeepWarning", async () => {
  const home = makeHome();
  try {
    writeFileSync(join(home, "auth.json"), "{corrupt");
    chmodSync(join(home, "auth.json"), 0o600);
    const warning = new Promise<Error>((resolve) => process.once("warning", resolve));
    createAuthStorage({ home }).saveSync(fakeAuth("default-warning"));
    const emitted = await warning;
    assert.equal(emitted.name, "AuthkeepWarning");
    assert.ok(emitted.message.includes("corrupt-"));
  } finally {
    removeHome(home);
  }
});

test("keyring and auto mode: a save that removes a corrupt fallback file keeps its bytes first", async () => {
  for (const mode of ["keyring", "auto"] as const) {
    const home = makeHome();
    try {
      writeFileSync(join(home, "auth.json"), "{corrupt but maybe hand-edited", { mode: 0o600 });
      const keyring = new MemoryKeyringStore();
      const warnings: string[] = [];
      const storage = createAuthStorage({ home, mode, keyring, onWarning: (message) => warnings.push(message) });
      await storage.save(fakeAuth(mode));
      assert.equal(keyring.contains(computeStoreKey(home)), true);
      assert.equal(readdirSync(home).includes("auth.json"), false, "the fallback file is removed, as Codex does");
      const kept = backups(home);
      assert.equal(kept.length, 1, mode);
      assert.equal(readFileSync(join(home, kept[0]!), "utf8"), "{corrupt but maybe hand-edited");
      assert.equal(statSync(join(home, kept[0]!)).mode & 0o777, 0o600);
      assert.ok(warnings.some((message) => message.includes(kept[0]!)));
      // A valid fallback file is simply removed: the keyring holds the credentials now.
      writeFileSync(join(home, "auth.json"), JSON.stringify(fakeAuth("valid")));
      storage.saveSync(fakeAuth(mode));
      assert.deepEqual(backups(home), kept);
    } finally {
      removeHome(home);
    }
  }
});
