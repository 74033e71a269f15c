/**
 * What the Credential Manager check groups share (see credential-manager.win.ts, which runs
 * them in the Windows node.exe): the store under test, the recorded checks and timings, and
 * helpers that never print a secret value (details give lengths and kinds only).
 *
 * @module
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createWindowsKeyringStore } from "../../native/windows/store.ts";
import { KeyringError } from "../../src/contract/keyring-error.ts";

/** The service name the checks store their test credentials under. */
export const SERVICE = "authkeep wine test";
/** The Windows store under test, with its defaults. */
export const store = createWindowsKeyringStore();

/** One recorded check: its name, whether it passed, and why not. */
export interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}
/** Every check run so far, in order. */
export const checks: Check[] = [];
/** Milliseconds per call, by label (the latency check). */
export const timings: Record<string, number> = {};

/** A fresh random account, so no check sees another's credential. */
export function account(): string {
  return `cli|${randomBytes(8).toString("hex")}`;
}

/** Runs one check and records whether it passed. */
export async function check(name: string, body: () => void | Promise<void>): Promise<void> {
  try {
    await body();
    checks.push({ name, ok: true });
  } catch (error) {
    const e = error as Error & { kind?: string; code?: unknown };
    // Messages from assert can quote values: keep only the first line, values here are test data.
    checks.push({ name, ok: false, detail: `${e.name}${e.kind ? `(${e.kind}, ${String(e.code)})` : ""}: ${String(e.message).split("\n")[0]}` });
  }
}

/** A deterministic JSON-ish value of exactly `bytes` UTF-8 bytes, with some non-ASCII text. */
export function valueOfUtf8Bytes(bytes: number): string {
  const head = '{"k":"wörld 日本語 🔑 ';
  let text = head;
  let i = 0;
  while (Buffer.byteLength(text) < bytes - 2) text += String.fromCharCode(97 + (i++ % 26));
  text += '"}';
  while (Buffer.byteLength(text) > bytes) text = `${text.slice(0, -3)}"}`;
  while (Buffer.byteLength(text) < bytes) text = `${text.slice(0, -2)}x"}`;
  assert.equal(Buffer.byteLength(text), bytes);
  return text;
}

/** Fails unless `body` throws (or rejects with) a KeyringError of `kind`. */
export async function expectKeyringError(kind: string, body: () => unknown): Promise<void> {
  try {
    await body();
  } catch (error) {
    assert.ok(error instanceof KeyringError, `expected a KeyringError, got ${(error as Error).name}`);
    assert.equal(error.kind, kind, `kind (message: ${error.message})`);
    return;
  }
  assert.fail(`expected a KeyringError of kind ${kind}, got success`);
}

/** Records the mean time of `n` runs of `body` under `label`. */
export function time(label: string, n: number, body: () => void): void {
  const start = performance.now();
  for (let i = 0; i < n; i++) body();
  timings[label] = (performance.now() - start) / n;
}

/** Records the mean time of `n` sequential runs of `body` under `label`. */
export async function timeAsync(label: string, n: number, body: () => Promise<void>): Promise<void> {
  const start = performance.now();
  for (let i = 0; i < n; i++) await body();
  timings[label] = (performance.now() - start) / n;
}
