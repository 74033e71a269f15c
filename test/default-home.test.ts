import { test } from "node:test";
import assert from "node:assert/strict";
import { realpathSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { AuthStorageError, defaultHome } from "../src/index.ts";
import { tempHome } from "./support/auth-fixtures.ts";

test("defaultHome() is ~/.codex when CODEX_HOME is unset or empty", () => {
  assert.equal(defaultHome({}), join(homedir(), ".codex"));
  assert.equal(defaultHome({ CODEX_HOME: "" }), join(homedir(), ".codex"));
});

test("defaultHome() uses CODEX_HOME, canonicalized", (t) => {
  const dir = tempHome(t);
  assert.equal(defaultHome({ CODEX_HOME: join(dir, ".") }), realpathSync(dir));
});

test("defaultHome() rejects a CODEX_HOME that does not exist or is a file", (t) => {
  const dir = tempHome(t);
  assert.throws(() => defaultHome({ CODEX_HOME: join(dir, "missing") }), (error: unknown) => {
    assert.ok(error instanceof AuthStorageError);
    assert.equal(error.code, "ENOENT");
    assert.match(error.message, /CODEX_HOME/);
    return true;
  });
  const file = join(dir, "file");
  writeFileSync(file, "");
  assert.throws(() => defaultHome({ CODEX_HOME: file }), (error: unknown) => error instanceof AuthStorageError && error.code === "ENOTDIR");
});

test("defaultHome() takes another CLI's variable and directory names", (t) => {
  const dir = tempHome(t);
  assert.equal(defaultHome({ MYCLI_HOME: dir }, { envVar: "MYCLI_HOME" }), realpathSync(dir));
  assert.equal(defaultHome({}, { envVar: "MYCLI_HOME", dirName: ".mycli" }), join(homedir(), ".mycli"));
});
