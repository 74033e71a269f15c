import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { KeyringError } from "../src/index.ts";
import { MemoryKeyringStore } from "../src/testing.ts";
import { keyringStoreConformance } from "./support/store-conformance.ts";

keyringStoreConformance("MemoryKeyringStore (test double)", () => new MemoryKeyringStore());

test("MemoryKeyringStore: an injected error hits only the chosen operations until cleared", async () => {
  const store = new MemoryKeyringStore();
  const error = new KeyringError("locked", { kind: "locked", backend: "memory" });
  store.setError("acc", error, { operations: ["save"] });
  assert.equal(await store.load("svc", "acc"), null);
  await assert.rejects(store.save("svc", "acc", "v"), error);
  assert.throws(() => store.saveSync("svc", "acc", "v"), error);
  assert.equal(store.contains("acc"), false);
  store.clearError("acc");
  store.saveSync("svc", "acc", "v");
  assert.equal(store.savedValue("acc"), "v");
  assert.equal(store.savedValue("acc", "other-service"), undefined);
});

test("MemoryKeyringStore: a once-only error is thrown a single time", () => {
  const store = new MemoryKeyringStore();
  store.setError("acc", new KeyringError("flaky", { kind: "failure", backend: "memory" }), { once: true });
  assert.throws(() => store.loadSync("svc", "acc"), KeyringError);
  assert.equal(store.loadSync("svc", "acc"), null);
});

test("MemoryKeyringStore: inspect and JSON show a count, never the values", () => {
  const store = new MemoryKeyringStore();
  store.saveSync("svc", "acc", "sk-canary-secret-value");
  assert.equal(inspect(store), "MemoryKeyringStore { entries: 1 }");
  assert.ok(!JSON.stringify(store).includes("canary"));
  assert.ok(!inspect(store, { showHidden: true, depth: 10 }).includes("canary"));
});
