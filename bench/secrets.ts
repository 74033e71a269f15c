/**
 * Encrypted-store rows: load and save of Codex's encrypted auth store
 * (`secrets/codex_auth.age`, scrypt logN 19 as Codex writes it on Linux
 * here), cold (one scrypt derivation per new header) and warm (the file key
 * cached in the process), beside the direct keyring entry. Each run is a
 * fresh process (bench/_secrets-child.ts) so its peak RSS is measured too.
 *
 * Quick mode uses logN 12 (4 MiB, milliseconds) and says so: logN 19 costs
 * 512 MiB and seconds per derivation.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { defaultKeyringStore, serializeAuthJson } from "../src/index.ts";
import { runSync } from "../src/contract/engine.ts";
import { encryptAgeFlow } from "../src/storage/secrets/age.ts";
import { SECRETS_KEYRING_SERVICE, secretsFilePath, secretsKeyringAccount } from "../src/storage/secrets/secrets-storage.ts";
import type { BenchContext } from "./_context.ts";
import { makeAuth, makeHome, removeHome } from "./_fixtures.ts";
import type { Measured } from "./_harness.ts";
import { type Row, section, type Section } from "./_report.ts";

const CHILD = fileURLToPath(new URL("./_secrets-child.js", import.meta.url));
const PASSPHRASE = btoa("authkeep-bench-passphrase-32byte"); // a fixed bench value, never a real one

function measured(samples: number[]): Measured {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((sum, value) => sum + value, 0) / samples.length;
  return {
    medianMs: sorted[Math.floor(sorted.length / 2)]!,
    p99Ms: sorted[sorted.length - 1]!,
    meanMs: mean,
    minMs: sorted[0]!,
    opsPerSec: 1000 / mean,
    samples: samples.length,
  };
}

function child(which: string, home: string): Record<string, number> {
  const run = spawnSync(process.execPath, [CHILD, which, home], { encoding: "utf8", timeout: 300_000, env: process.env });
  const line = (run.stdout ?? "").trim().split("\n").pop() ?? "";
  const parsed = JSON.parse(line || `{"error":${JSON.stringify(run.stderr || `exit ${run.status}`)}}`) as Record<string, number> & { error?: string };
  if (parsed.error !== undefined) throw new Error(String(parsed.error));
  return parsed;
}

/** Runs the encrypted-store rows. */
export function runSecrets(context: BenchContext): Section[] {
  const logN = context.config.quick ? 12 : 19;
  const runs = context.config.quick ? 1 : 3;
  const result = section("secrets", `encrypted auth store (age, scrypt logN ${logN}) vs direct keyring entry, 4 KB auth`);
  if (!process.env.DBUS_SESSION_BUS_ADDRESS) {
    result.rows.push({ name: "encrypted store", unavailable: "unavailable: no keyring running for the passphrase (use npm run bench)" });
    return [result];
  }
  if (context.config.quick) result.notes.push("quick mode: scrypt logN 12 (4 MiB) instead of Codex's 19 (512 MiB); figures show the code path only");
  result.notes.push(`each figure is a fresh process (${runs} run${runs === 1 ? "" : "s"}); "cold" is the first call in the process (FFI keyring start-up included) and pays scrypt, "warm" reuses the file key this process already derived (a save still derives one key for its fresh salt); peak RSS is the process's maxRSS`);
  const home = makeHome("secrets");
  try {
    const keyring = defaultKeyringStore();
    keyring.saveSync(SECRETS_KEYRING_SERVICE, secretsKeyringAccount(home), PASSPHRASE);
    const document = JSON.stringify({ version: 1, secrets: { "global/CODEX_AUTH": serializeAuthJson(makeAuth(0), { pretty: false }) } });
    const sealed = runSync(encryptAgeFlow(new TextEncoder().encode(document), PASSPHRASE, logN));
    const path = secretsFilePath(home);
    mkdirSync(dirname(path), { recursive: true });
    const reseed = () => writeFileSync(path, sealed, { mode: 0o600 });
    const samples: Record<string, number[]> = {};
    const rss: Record<string, number[]> = {};
    const add = (name: string, value: number | undefined) => {
      if (value !== undefined) (samples[name] ??= []).push(value);
    };
    for (let i = 0; i < runs; i++) {
      for (const which of ["load", "save", "direct"] as const) {
        reseed();
        const r = child(which, home);
        const label = which === "direct" ? "direct keyring" : `encrypted ${which}`;
        const rowName = which === "direct" ? "direct keyring save" : label;
        add(`${rowName}: cold (sync)`, r.coldMs);
        add(`${rowName}: warm (sync)`, r.warmMs);
        add(`${rowName}: warm (async)`, r.warmAsyncMs);
        add("direct keyring load (sync)", r.loadMs);
        (rss[label] ??= []).push(r.maxRssMiB!);
      }
    }
    for (const [name, values] of Object.entries(samples)) {
      const row: Row = { name, measured: measured(values) };
      const owner = name.startsWith("encrypted load") ? "encrypted load" : name.startsWith("encrypted save") ? "encrypted save" : "direct keyring";
      if (name.endsWith("cold (sync)") || name === "direct keyring load (sync)") row.note = `peak RSS ${Math.max(...rss[owner]!).toFixed(0)} MiB`;
      result.rows.push(row);
    }
  } catch (error) {
    result.rows.push({ name: "encrypted store", unavailable: `failed: ${error instanceof Error ? error.message : String(error)}` });
  } finally {
    try {
      defaultKeyringStore().deleteSync(SECRETS_KEYRING_SERVICE, secretsKeyringAccount(home));
    } catch {
      // The bench keyring is torn down after the run anyway.
    }
    removeHome(home);
  }
  return [result];
}
