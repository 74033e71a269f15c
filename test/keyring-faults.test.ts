/**
 * Keyring faults: MemoryKeyringStore (the test double) injects each error kind
 * at each keyring step of keyring- and auto-mode load, save and delete, with
 * the credentials first only in the keyring or only in the file. The table of
 * outcomes is asserted, and no failing path loses the only copy.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { type AuthDotJson, AuthStorageError, computeStoreKey, createAuthStorage, KeyringError, type KeyringErrorKind, parseAuthJson, serializeAuthJson } from "../src/index.ts";
import { type KeyringOperation, MemoryKeyringStore } from "../src/testing.ts";
import { fakeAuth, makeHome, removeHome } from "./support/hardening-env.ts";
import { makeImmutable } from "./support/hardening-readonly.ts";

const SERVICE = "Codex Auth";
const OLD: AuthDotJson = { ...fakeAuth("old"), last_refresh: "2025-01-01T00:00:00Z" };
const NEW: AuthDotJson = { ...fakeAuth("new"), last_refresh: "2025-06-01T00:00:00Z" };

type Mode = "keyring" | "auto";
type Op = "load" | "save" | "delete";
type Step = KeyringOperation | "all";
type Where = "keyring" | "file";
type Copy = "old" | "new" | "none" | "other";
type FaultKind = KeyringErrorKind | "plain-error";

interface Outcome {
  /** `ok:<old|new|null|true|false>` or `throws:<ErrorName>`. */
  result: string;
  keyring: Copy;
  file: Copy;
  warned: boolean;
}

const KINDS: FaultKind[] = ["unavailable", "locked", "too-large", "invalid", "failure", "plain-error"];
const STEPS: Step[] = ["load", "save", "delete", "all"];

function copyOf(text: string | undefined): Copy {
  if (text === undefined) return "none";
  const marker = parseAuthJson(text).marker;
  return marker === "old" || marker === "new" ? marker : "other";
}

function describe(value: unknown): string {
  if (value === null || typeof value === "boolean") return String(value);
  return String((value as AuthDotJson).marker);
}

function fault(kind: FaultKind): Error {
  if (kind === "plain-error") return new Error("the backend crashed");
  return new KeyringError(`injected ${kind}`, { kind, backend: "memory" });
}

async function runCase(mode: Mode, op: Op, step: Step, kind: FaultKind, initial: Where, sync: boolean): Promise<Outcome> {
  const home = makeHome();
  try {
    const keyring = new MemoryKeyringStore();
    const account = computeStoreKey(home);
    const path = join(home, "auth.json");
    if (initial === "keyring") keyring.saveSync(SERVICE, account, serializeAuthJson(OLD, { pretty: false }));
    else writeFileSync(path, serializeAuthJson(OLD), { mode: 0o600 });
    const injected = fault(kind);
    keyring.setError(account, injected, step === "all" ? {} : { operations: [step] });
    let warned = false;
    const storage = createAuthStorage({ home, mode, keyring, onWarning: () => (warned = true) });
    let result: string;
    try {
      const value =
        op === "load" ? (sync ? storage.loadSync() : await storage.load())
        : op === "save" ? (sync ? storage.saveSync(NEW) : await storage.save(NEW))
        : sync ? storage.deleteSync() : await storage.delete();
      result = op === "save" ? "ok" : `ok:${describe(value)}`;
    } catch (error) {
      result = `throws:${(error as Error).name}`;
      if (error instanceof KeyringError) {
        // The kind survives the context added on the way up, and the injected error is the cause.
        assert.equal(error.kind, kind === "plain-error" ? "failure" : kind);
        let cause: unknown = error;
        while (cause !== injected && cause instanceof Error && cause.cause !== undefined) cause = cause.cause;
        assert.equal(cause, injected, "the injected error is in the cause chain");
      }
    }
    keyring.clearError(account);
    const outcome: Outcome = {
      result,
      keyring: copyOf(keyring.savedValue(account, SERVICE)),
      file: copyOf(existsSync(path) ? readFileSync(path, "utf8") : undefined),
      warned,
    };
    // No path loses the only copy: unless a delete succeeded, old or new is still stored somewhere.
    if (!(op === "delete" && result.startsWith("ok"))) {
      assert.ok(
        [outcome.keyring, outcome.file].some((copy) => copy === "old" || copy === "new"),
        `${mode} ${op} with ${kind} at ${step} lost the credentials`,
      );
    }
    // A save that reported success is what the next load of the same mode returns.
    if (op === "save" && result === "ok") {
      const reader = createAuthStorage({ home, mode, keyring, onWarning: () => {} });
      assert.equal(reader.loadSync()?.marker, "new");
    }
    return outcome;
  } finally {
    removeHome(home);
  }
}

/** The expected outcome; the same for every error kind. */
function expected(mode: Mode, op: Op, step: Step, initial: Where): Outcome {
  const fails = (operation: KeyringOperation): boolean => step === "all" || step === operation;
  const before = { keyring: initial === "keyring" ? "old" : "none", file: initial === "file" ? "old" : "none" } as const;
  const keyringError = { result: "throws:KeyringError", ...before, warned: false };
  if (op === "load") {
    if (!fails("load")) return { result: `ok:${mode === "keyring" && initial === "file" ? "null" : "old"}`, ...before, warned: false };
    // keyring mode reports the fault; auto mode warns and reads the file.
    if (mode === "keyring") return keyringError;
    return { result: `ok:${initial === "file" ? "old" : "null"}`, ...before, warned: true };
  }
  if (op === "delete") {
    // Both modes delete the keyring entry first; a fault there aborts before the file is touched.
    if (fails("delete")) return keyringError;
    return { result: "ok:true", keyring: "none", file: "none", warned: false };
  }
  // save
  if (!fails("save")) return { result: "ok", keyring: "new", file: "none", warned: false };
  if (mode === "keyring") return keyringError;
  // auto: falls back to the file, then removes the keyring's now stale copy when it can.
  return { result: "ok", keyring: fails("delete") ? before.keyring : "none", file: "new", warned: true };
}

for (const mode of ["keyring", "auto"] as const) {
  for (const op of ["load", "save", "delete"] as const) {
    test(`${mode} ${op}: every error kind at every keyring step gives the expected outcome and loses nothing`, async () => {
      const rows: string[] = [];
      for (const step of STEPS) {
        for (const initial of ["keyring", "file"] as const) {
          const want = expected(mode, op, step, initial);
          for (const kind of KINDS) {
            for (const sync of [true, false]) {
              const got = await runCase(mode, op, step, kind, initial, sync);
              assert.deepEqual(got, want, `${mode} ${op}, ${kind} at ${step}, credentials in the ${initial}, ${sync ? "sync" : "async"}`);
            }
          }
          rows.push(`${step.padEnd(6)} ${initial.padEnd(7)} → ${JSON.stringify(want)}`);
        }
      }
      // The table, for the record (no secrets: markers only).
      for (const row of rows) console.log(`# ${mode} ${op}: ${row}`);
    });
  }
}

test("auto save: keyring refuses and the file cannot be written either → AuthStorageError, the keyring copy stays", async (t) => {
  const home = makeHome();
  const keyring = new MemoryKeyringStore();
  const account = computeStoreKey(home);
  keyring.saveSync(SERVICE, account, serializeAuthJson(OLD, { pretty: false }));
  const undo = makeImmutable(home);
  if (undo === undefined) {
    removeHome(home);
    return t.skip("chattr +i is not available here");
  }
  try {
    keyring.setError(account, fault("locked"), { operations: ["save"] });
    const storage = createAuthStorage({ home, mode: "auto", keyring, onWarning: () => {} });
    await assert.rejects(storage.save(NEW), AuthStorageError);
    assert.throws(() => storage.saveSync(NEW), AuthStorageError);
    keyring.clearError(account);
    assert.equal(copyOf(keyring.savedValue(account, SERVICE)), "old");
    assert.equal(storage.loadSync()?.marker, "old");
  } finally {
    undo();
    removeHome(home);
  }
});

test("keyring save succeeds but the old file cannot be removed → success with a warning; the keyring copy wins on load", async (t) => {
  for (const mode of ["keyring", "auto"] as const) {
    const home = makeHome();
    const keyring = new MemoryKeyringStore();
    writeFileSync(join(home, "auth.json"), serializeAuthJson(OLD), { mode: 0o600 });
    const undo = makeImmutable(home);
    if (undo === undefined) {
      removeHome(home);
      return t.skip("chattr +i is not available here");
    }
    try {
      const warnings: string[] = [];
      const storage = createAuthStorage({ home, mode, keyring, onWarning: (message) => warnings.push(message) });
      await storage.save(NEW);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /fallback file/);
      assert.equal(copyOf(keyring.savedValue(computeStoreKey(home), SERVICE)), "new");
      assert.equal(copyOf(readFileSync(join(home, "auth.json"), "utf8")), "old");
      assert.equal(storage.loadSync()?.marker, "new");
    } finally {
      undo();
      removeHome(home);
    }
  }
});

test("a one-shot keyring fault (once: true) in auto save: file fallback, then the stale keyring copy is removed", async () => {
  const home = makeHome();
  try {
    const keyring = new MemoryKeyringStore();
    const account = computeStoreKey(home);
    keyring.saveSync(SERVICE, account, serializeAuthJson(OLD, { pretty: false }));
    keyring.setError(account, fault("unavailable"), { operations: ["save"], once: true });
    const storage = createAuthStorage({ home, mode: "auto", keyring, onWarning: () => {} });
    await storage.save(NEW);
    assert.equal(keyring.contains(account), false);
    assert.equal(copyOf(readFileSync(join(home, "auth.json"), "utf8")), "new");
    // The keyring works again: the next save goes there and removes the file.
    await storage.save({ ...NEW, last_refresh: "2025-07-01T00:00:00Z" });
    assert.equal(copyOf(keyring.savedValue(account, SERVICE)), "new");
    assert.equal(existsSync(join(home, "auth.json")), false);
  } finally {
    removeHome(home);
  }
});

test("auto load: a fallback file newer than an unremovable keyring copy wins, with a warning", async () => {
  const home = makeHome();
  try {
    const keyring = new MemoryKeyringStore();
    const account = computeStoreKey(home);
    keyring.saveSync(SERVICE, account, serializeAuthJson(OLD, { pretty: false }));
    keyring.setError(account, fault("locked"), { operations: ["save", "delete"] });
    const storage = createAuthStorage({ home, mode: "auto", keyring, onWarning: () => {} });
    await storage.save(NEW);
    keyring.clearError(account);
    const warnings: string[] = [];
    const reader = createAuthStorage({ home, mode: "auto", keyring, onWarning: (message) => warnings.push(message) });
    assert.equal((await reader.load())?.marker, "new");
    assert.equal(warnings.length, 1);
  } finally {
    removeHome(home);
  }
});

test("auto: an API-key login saved while the keyring was down is not shadowed by the old keyring entry later", async () => {
  const home = makeHome();
  try {
    const keyring = new MemoryKeyringStore();
    const account = computeStoreKey(home);
    keyring.saveSync(SERVICE, account, serializeAuthJson(OLD, { pretty: false }));
    // The keyring is down for the whole save: the fallback file is written, the stale entry stays.
    keyring.setError(account, fault("unavailable"));
    const storage = createAuthStorage({ home, mode: "auto", keyring, onWarning: () => {} });
    const apiKeyLogin: AuthDotJson = { auth_mode: "apikey", OPENAI_API_KEY: "sk-fake-new-login", marker: "new" };
    await storage.save(apiKeyLogin);
    keyring.clearError(account);
    // The keyring is back: the newest credentials are the file's, which has no last_refresh at all.
    assert.equal((await storage.load())?.marker, "new");
    // And the next save (e.g. after reading them) keeps them.
    await storage.save((await storage.load())!);
    assert.equal(copyOf(keyring.savedValue(account, SERVICE)), "new");
  } finally {
    removeHome(home);
  }
});
