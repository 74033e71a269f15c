/**
 * Secrets never leak from the codec and the storages: canary values in every token field (id,
 * access and refresh token, API key), driven through bad JSON, bad JWTs, corrupt files, disk
 * errors, keyring errors of every kind and the default warning channel; no canary, nor any 8
 * characters of its random part, may appear in an error message, stack, cause chain, warning,
 * util.inspect or JSON.stringify of our objects. The same for refresh (secret-leaks-refresh) and
 * the CLI (secret-leaks-cli).
 *
 * (The credentials objects themselves, AuthDotJson and parseIdToken's
 * IdTokenInfo.rawJwt, hold the tokens by design and are not searched.)
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import {
  computeStoreKey,
  createAuthStorage,
  KeyringError,
  type KeyringErrorKind,
  parseAuthJson,
  parseIdToken,
  serializeAuthJson,
} from "../src/index.ts";
import { MemoryKeyringStore } from "../src/testing.ts";
import { canaryAuth, makeCanaries } from "./support/hardening-canary.ts";
import { makeImmutable } from "./support/hardening-readonly.ts";
import { leakCheck, testNoLeaks } from "./support/leak-check.ts";

const { collector, home, observe } = leakCheck();

test("the codec: bad JSON, bad types, bad JWTs and unserializable documents", async () => {
  const canaries = collector.watch(makeCanaries());
  const text = serializeAuthJson(canaryAuth(canaries));
  // Cut or break the document at every few characters, through every token.
  for (let i = 1; i < text.length; i += 7) {
    await observe(`truncated at ${i}`, () => parseAuthJson(text.slice(0, i)));
    await observe(`broken at ${i}`, () => parseAuthJson(`${text.slice(0, i)}\u0001${text.slice(i)}`));
    await observe(`quote removed at ${i}`, () => parseAuthJson(text.slice(0, i) + text.slice(i).replace('"', "")));
  }
  for (const field of ["id_token", "access_token", "refresh_token"]) {
    const auth = canaryAuth(canaries) as unknown as { tokens: Record<string, unknown> };
    auth.tokens[field] = 42;
    await observe(`serialize with a bad ${field}`, () => serializeAuthJson(auth as never));
    await observe(`parse with a bad ${field}`, () => parseAuthJson(JSON.stringify(auth)));
  }
  await observe("bad last_refresh", () => parseAuthJson(JSON.stringify({ ...canaryAuth(canaries), last_refresh: canaries.refreshToken })));
  await observe("bad auth_mode", () => parseAuthJson(JSON.stringify({ ...canaryAuth(canaries), auth_mode: 7 })));
  await observe("lone surrogate", () => parseAuthJson(JSON.stringify({ ...canaryAuth(canaries), OPENAI_API_KEY: `${canaries.apiKey}\ud800` })));
  for (const jwt of [canaries.idToken, canaries.accessToken]) {
    const [header, payload, signature] = jwt.split(".");
    for (const broken of [
      `${header}.${payload}`,
      `${header}.${payload}.${signature}.${signature}`,
      `${header}.${payload}!.${signature}`,
      `${header}.${payload!.slice(0, -3)}.${signature}`,
      `${header}.${Buffer.from("[1]").toString("base64url")}.${signature}`,
      jwt.replace(/\./g, ""),
    ]) {
      await observe("broken JWT", () => parseIdToken(broken));
    }
  }
});

test("file storage: corrupt files, disk errors and warnings", async () => {
  const canaries = collector.watch(makeCanaries());
  const text = serializeAuthJson(canaryAuth(canaries));
  const dir = home();
  const warnings: string[] = [];
  const storage = createAuthStorage({ home: dir, onWarning: (message) => warnings.push(message) });
  for (let i = 10; i < text.length; i += 61) {
    writeFileSync(join(dir, "auth.json"), text.slice(0, i));
    await observe("file load of a corrupt file", () => storage.load());
    await observe("file loadSync of a corrupt file", () => storage.loadSync());
  }
  writeFileSync(join(dir, "auth.json"), Buffer.concat([Buffer.from(text.slice(0, 40)), Buffer.from([0xff]), Buffer.from(text.slice(40))]));
  await observe("file load of invalid UTF-8", () => storage.load());
  // A save over the corrupt file: the backup warning.
  await storage.save(canaryAuth(canaries));
  collector.object("file storage", storage);
  // Disk errors while saving and deleting.
  const undo = makeImmutable(dir);
  if (undo !== undefined) {
    try {
      await observe("file save on an immutable home", () => storage.save(canaryAuth(canaries)));
      await observe("file saveSync on an immutable home", () => storage.saveSync(canaryAuth(canaries)));
      await observe("file delete on an immutable home", () => storage.delete());
    } finally {
      undo();
    }
  }
  await observe("file save to /proc", () => createAuthStorage({ home: "/proc/authkeep-leak-test" }).save(canaryAuth(canaries)));
  assert.ok(warnings.length > 0);
  for (const [i, warning] of warnings.entries()) collector.text(`file warning ${i}`, warning);
});

test("keyring and auto storage: every keyring error kind at every operation, and corrupt keyring values", async () => {
  const canaries = collector.watch(makeCanaries());
  const kinds: KeyringErrorKind[] = ["unavailable", "locked", "too-large", "invalid", "failure"];
  for (const mode of ["keyring", "auto"] as const) {
    const dir = home();
    const keyring = new MemoryKeyringStore();
    const account = computeStoreKey(dir);
    const warnings: string[] = [];
    const storage = createAuthStorage({ home: dir, mode, keyring, onWarning: (message) => warnings.push(message) });
    await storage.save(canaryAuth(canaries));
    for (const kind of kinds) {
      keyring.setError(account, new KeyringError(`injected ${kind}`, { kind, backend: "memory", code: 42 }));
      await observe(`${mode} load, ${kind}`, () => storage.load());
      await observe(`${mode} save, ${kind}`, () => storage.save(canaryAuth(canaries)));
      await observe(`${mode} saveSync, ${kind}`, () => storage.saveSync(canaryAuth(canaries)));
      await observe(`${mode} delete, ${kind}`, () => storage.delete());
      keyring.clearError(account);
      await storage.save(canaryAuth(canaries));
    }
    // A backend that fails with a plain error.
    keyring.setError(account, new TypeError("backend bug"));
    await observe(`${mode} load, plain error`, () => storage.load());
    keyring.clearError(account);
    // Corrupt values in the keyring.
    const value = serializeAuthJson(canaryAuth(canaries), { pretty: false });
    for (let i = 5; i < value.length; i += 31) {
      keyring.saveSync("Codex Auth", account, value.slice(0, i));
      await observe(`${mode} load of a corrupt keyring value`, () => storage.load());
    }
    collector.object(`${mode} storage`, storage);
    collector.object(`${mode} keyring`, keyring);
    for (const [i, warning] of warnings.entries()) collector.text(`${mode} warning ${i}`, warning);
  }
});

test("the default warning channel (process.emitWarning)", async () => {
  const canaries = collector.watch(makeCanaries());
  const dir = home();
  const seen: Error[] = [];
  const listener = (warning: Error): void => void seen.push(warning);
  process.on("warning", listener);
  try {
    writeFileSync(join(dir, "auth.json"), serializeAuthJson(canaryAuth(canaries)).slice(0, 120));
    const keyring = new MemoryKeyringStore();
    keyring.setError(computeStoreKey(dir), new KeyringError("locked", { kind: "locked", backend: "memory" }));
    const storage = createAuthStorage({ home: dir, mode: "auto", keyring });
    await storage.save(canaryAuth(canaries));
    await storage.load();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off("warning", listener);
  }
  assert.ok(seen.length >= 2);
  for (const [i, warning] of seen.entries()) collector.error(`process warning ${i}`, warning);
});

testNoLeaks(collector, "codec and storage", 2000);
