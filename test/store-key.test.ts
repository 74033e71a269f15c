import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, realpathSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { computeStoreKey } from "../src/index.ts";
import { storeKeyForCanonicalPath, toVerbatimPath } from "../src/document/store-key.ts";
import { tempHome } from "./support/auth-fixtures.ts";

test("computeStoreKey() hashes a path that does not exist exactly as given (seed vector)", () => {
  assert.equal(computeStoreKey("~/.codex"), "cli|940db7b1d0e4eb40");
  assert.equal(computeStoreKey("/home/user/.codex-authkeep-does-not-exist"), storeKeyForCanonicalPath("/home/user/.codex-authkeep-does-not-exist"));
});

test("storeKeyForCanonicalPath() matches the documented vectors", () => {
  assert.equal(storeKeyForCanonicalPath("/home/user/.codex"), "cli|59448a44901f7128");
  assert.equal(storeKeyForCanonicalPath("/Users/alice/.codex"), "cli|576cf2d09fac729f");
  assert.equal(storeKeyForCanonicalPath("\\\\?\\C:\\Users\\alice\\.codex"), "cli|0a09f70e1bf72236");
});

test("computeStoreKey() canonicalizes a symlinked home, so both paths share one keyring entry", (t) => {
  const root = tempHome(t);
  const real = join(root, "real-home");
  mkdirSync(real);
  const link = join(root, "linked-home");
  symlinkSync(real, link);
  const expected = `cli|${createHash("sha256").update(realpathSync(real)).digest("hex").slice(0, 16)}`;
  assert.equal(computeStoreKey(link), expected);
  assert.equal(computeStoreKey(real), expected);
  assert.equal(computeStoreKey(join(real, "..", "real-home")), expected);
});

test("computeStoreKey() on win32 hashes Rust's verbatim path form", () => {
  assert.equal(toVerbatimPath("C:\\Users\\alice\\.codex"), "\\\\?\\C:\\Users\\alice\\.codex");
  assert.equal(toVerbatimPath("\\\\server\\share\\codex"), "\\\\?\\UNC\\server\\share\\codex");
  assert.equal(toVerbatimPath("\\\\?\\C:\\already"), "\\\\?\\C:\\already");
  // A path that does not exist is hashed as given on every platform, as Rust does.
  assert.equal(computeStoreKey("\\\\?\\C:\\Users\\alice\\.codex", { platform: "win32" }), "cli|0a09f70e1bf72236");
});
