import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { once } from "node:events";
import process from "node:process";
import { AuthFormatError, createAuthStorage, parseAuthJson, serializeAuthJson } from "../src/index.ts";
import { authWithPrefix, tempHome } from "./support/auth-fixtures.ts";
import { collect, fixturePath, spawnFixture } from "./support/child-process.ts";

const posix = process.platform !== "win32";

test("file storage: save creates the home 0700 and auth.json 0600", { skip: !posix && "POSIX modes" }, (t) => {
  const home = join(tempHome(t), "nested", "home");
  createAuthStorage({ home, mode: "file" }).saveSync(authWithPrefix("p"));
  assert.equal(statSync(home).mode & 0o777, 0o700);
  assert.equal(statSync(join(home, "auth.json")).mode & 0o777, 0o600);
});

test("file storage: save makes an existing 0644 auth.json 0600", { skip: !posix && "POSIX modes" }, async (t) => {
  const home = tempHome(t);
  const file = join(home, "auth.json");
  writeFileSync(file, serializeAuthJson(authWithPrefix("old")));
  chmodSync(file, 0o644);
  await createAuthStorage({ home, mode: "file" }).save(authWithPrefix("new"));
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(parseAuthJson(readFileSync(file, "utf8")), authWithPrefix("new"));
});

test("file storage: save leaves no temp file behind", async (t) => {
  const home = tempHome(t);
  const storage = createAuthStorage({ home, mode: "file" });
  await storage.save(authWithPrefix("a"));
  storage.saveSync(authWithPrefix("b"));
  assert.deepEqual(readdirSync(home).sort(), ["auth.json", "auth.json.lock", "auth.lock"], "only the file and Codex's two lock files");
});

test("file storage: a reader in another process never sees a half-written file", async (t) => {
  const home = tempHome(t);
  const storage = createAuthStorage({ home, mode: "file" });
  storage.saveSync(authWithPrefix("seed"));
  const writer = collect(spawnFixture(fixturePath("storage-save-loop", import.meta.url), [home, "400"]));
  const reader = collect(spawnFixture(fixturePath("storage-load-loop", import.meta.url), [home, "4000"]));
  const [written, read] = await Promise.all([writer, reader]);
  assert.equal(written.code, 0, written.stderr);
  assert.equal(read.code, 0, read.stderr);
  assert.deepEqual(JSON.parse(read.stdout), { loads: 4000, failures: 0, missing: 0 });
  assert.deepEqual(readdirSync(home).sort(), ["auth.json", "auth.json.lock", "auth.lock"]);
});

test("file storage: load retries while another process truncates and rewrites the file", async (t) => {
  const home = tempHome(t);
  const file = join(home, "auth.json");
  const full = serializeAuthJson(authWithPrefix("rewritten"));
  writeFileSync(file, serializeAuthJson(authWithPrefix("before")));
  const child = spawnFixture(fixturePath("truncating-writer", import.meta.url), [file, full, "70"]);
  const done = collect(child);
  await once(child.stdout!, "data");
  // The file really is unreadable when the load starts...
  assert.throws(() => parseAuthJson(readFileSync(file, "utf8")), AuthFormatError);
  // ...and the load still returns the completed document.
  assert.deepEqual(await createAuthStorage({ home, mode: "file" }).load(), authWithPrefix("rewritten"));
  assert.equal((await done).code, 0);
});

test("file storage: load gives up with AuthFormatError on a file that stays corrupt", async (t) => {
  const home = tempHome(t);
  writeFileSync(join(home, "auth.json"), "{ not json");
  const storage = createAuthStorage({ home, mode: "file" });
  await assert.rejects(storage.load(), AuthFormatError);
  assert.throws(() => storage.loadSync(), AuthFormatError);
});
