/**
 * The conformance suite every KeyringStore passes (after keyring-rs's shared
 * `lib.rs` tests): random names, missing entries, empty values, ASCII and
 * non-ASCII values, update, and a second delete returning false, for the
 * async and the sync API.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { KeyringStore } from "../../src/index.ts";

/** Registers the conformance tests for `createStore` under the name `label`. */
export function keyringStoreConformance(label: string, createStore: () => KeyringStore, options: { skip?: string | false } = {}): void {
  const service = () => `authkeep-conformance-${randomBytes(4).toString("hex")}`;
  const account = () => `cli|${randomBytes(8).toString("hex")}`;
  const skip = options.skip ?? false;

  test(`${label}: load() of a missing entry is null and delete() is false`, { skip }, async () => {
    const store = createStore();
    assert.equal(await store.load(service(), account()), null);
    assert.equal(await store.delete(service(), account()), false);
    assert.equal(store.loadSync(service(), account()), null);
    assert.equal(store.deleteSync(service(), account()), false);
  });

  for (const [name, value] of [
    ["an empty value", ""],
    ["an ASCII value", '{"OPENAI_API_KEY":"sk-conformance"}'],
    ["a non-ASCII value", "このきれいな花は桜です ü 🔑"],
  ] as const) {
    test(`${label}: save() then load() round-trips ${name}`, { skip }, async () => {
      const store = createStore();
      const [s, a] = [service(), account()];
      try {
        await store.save(s, a, value);
        assert.equal(await store.load(s, a), value);
        assert.equal(store.loadSync(s, a), value);
      } finally {
        await store.delete(s, a);
      }
    });

    test(`${label}: saveSync() then loadSync() round-trips ${name}`, { skip }, () => {
      const store = createStore();
      const [s, a] = [service(), account()];
      try {
        store.saveSync(s, a, value);
        assert.equal(store.loadSync(s, a), value);
      } finally {
        store.deleteSync(s, a);
      }
    });
  }

  test(`${label}: save() replaces the value and delete() removes it once`, { skip }, async () => {
    const store = createStore();
    const [s, a] = [service(), account()];
    await store.save(s, a, "first");
    await store.save(s, a, "second");
    assert.equal(await store.load(s, a), "second");
    assert.equal(await store.delete(s, a), true);
    assert.equal(await store.delete(s, a), false);
    assert.equal(await store.load(s, a), null);
  });

  test(`${label}: entries are separate per service and per account`, { skip }, async () => {
    const store = createStore();
    const [s1, s2, a1, a2] = [service(), service(), account(), account()];
    try {
      store.saveSync(s1, a1, "s1a1");
      store.saveSync(s2, a1, "s2a1");
      store.saveSync(s1, a2, "s1a2");
      assert.equal(store.loadSync(s1, a1), "s1a1");
      assert.equal(store.loadSync(s2, a1), "s2a1");
      assert.equal(store.loadSync(s1, a2), "s1a2");
    } finally {
      store.deleteSync(s1, a1);
      store.deleteSync(s2, a1);
      store.deleteSync(s1, a2);
    }
  });
}
