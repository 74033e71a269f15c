/**
 * File rows: storage load/save of a 4 KB auth.json against the bare
 * primitives people use today, sync and async.
 *
 * Baselines do the same logical work as the subject: the load baseline
 * reads and `JSON.parse`s (no validation), the save baselines
 * `JSON.stringify` the same object and write it.
 *
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { createAuthStorage, serializeAuthJson, writeFileAtomic, writeFileAtomicSync } from "../src/index.ts";
import type { BenchContext } from "./_context.ts";
import { ignoreWarning, makeAuth, makeHome, removeHome } from "./_fixtures.ts";
import { measureGroup } from "./_harness.ts";
import { addOutcomes, compare, section, type Section } from "./_report.ts";

interface WriteFileAtomicOptions {
  mode?: number;
  fsync?: boolean;
}
interface WriteFileAtomicModule {
  (path: string, data: string, options: WriteFileAtomicOptions): Promise<void>;
  sync(path: string, data: string, options: WriteFileAtomicOptions): void;
}

// write-file-atomic is CommonJS without bundled types.
const writeFileAtomicPackage = createRequire(import.meta.url)("write-file-atomic") as WriteFileAtomicModule;
const WFA_OPTIONS: WriteFileAtomicOptions = { mode: 0o600, fsync: true };

/** Runs the file rows. */
export async function runFile(context: BenchContext): Promise<Section[]> {
  const home = makeHome("file");
  try {
    return [await loadRows(context, home), await saveRows(context, home)];
  } finally {
    removeHome(home);
  }
}

async function loadRows(context: BenchContext, home: string): Promise<Section> {
  const result = section("file-load", "file: load (4 KB auth.json)");
  const storage = createAuthStorage({ home, mode: "file", onWarning: ignoreWarning });
  storage.saveSync(makeAuth());
  const path = join(home, "auth.json");
  const size = readFileSync(path).length;
  result.notes.push(`auth.json is ${size} bytes; load = read + UTF-8 decode + JSON.parse + schema validation`);
  addOutcomes(result, await measureGroup([
    { name: "authkeep loadSync", fn: () => storage.loadSync() },
    { name: "readFileSync + JSON.parse", fn: () => JSON.parse(readFileSync(path, "utf8")) },
    { name: "authkeep load (async)", fn: () => storage.load(), async: true },
    { name: "fs/promises readFile + JSON.parse", fn: async () => JSON.parse(await readFile(path, "utf8")), async: true },
  ], context.config));
  compare(result, "loadSync / bare readFileSync + JSON.parse", "authkeep loadSync", "readFileSync + JSON.parse", { goal: 1.3 });
  compare(result, "load / bare readFile + JSON.parse (async)", "authkeep load (async)", "fs/promises readFile + JSON.parse", { goal: 1.3 });
  return result;
}

async function saveRows(context: BenchContext, home: string): Promise<Section> {
  const result = section("file-save", "file: save (4 KB auth.json)");
  const storage = createAuthStorage({ home, mode: "file", onWarning: ignoreWarning });
  // Two payloads, alternated, so every write really changes the file.
  const docs = [makeAuth(1), makeAuth(2)];
  const bytes = docs.map((doc) => new TextEncoder().encode(serializeAuthJson(doc)));
  let i = 0;
  const next = () => docs[i++ & 1]!;
  const nextBytes = () => bytes[i++ & 1]!;
  const path = join(home, "auth.json");
  const wfaPath = join(home, "wfa.json");
  const plainPath = join(home, "plain.json");
  const primitivePath = join(home, "primitive.json");
  result.notes.push(
    "authkeep save = serialize + mkdir -p 0700 + home permission check + symlink check + read/validate the old file (corrupt-file backup) + stale temp sweep + temp 0600 + write + fsync + rename + fsync(dir)",
    "write-file-atomic = realpath + temp + write + fsync + rename (it does not fsync the directory); plain writeFileSync = truncate + write, no fsync (what Codex does)",
  );
  addOutcomes(result, await measureGroup([
    { name: "authkeep saveSync", fn: () => storage.saveSync(next()) },
    { name: "write-file-atomic.sync (0o600, fsync)", fn: () => writeFileAtomicPackage.sync(wfaPath, JSON.stringify(next(), null, 2), WFA_OPTIONS) },
    { name: "writeFileSync (truncate, no fsync)", fn: () => writeFileSync(plainPath, JSON.stringify(next(), null, 2)) },
    { name: "authkeep writeFileAtomicSync (bytes only)", fn: () => writeFileAtomicSync(primitivePath, nextBytes()) },
    { name: "authkeep save (async)", fn: () => storage.save(next()), async: true },
    { name: "write-file-atomic (async, 0o600, fsync)", fn: () => writeFileAtomicPackage(wfaPath, JSON.stringify(next(), null, 2), WFA_OPTIONS), async: true },
    { name: "fs/promises writeFile (truncate, no fsync)", fn: () => writeFile(plainPath, JSON.stringify(next(), null, 2)), async: true },
    { name: "authkeep writeFileAtomic (async, bytes only)", fn: () => writeFileAtomic(primitivePath, nextBytes()), async: true },
  ], context.config));
  compare(result, "saveSync / write-file-atomic.sync", "authkeep saveSync", "write-file-atomic.sync (0o600, fsync)", { goal: 0.7 });
  compare(result, "save / write-file-atomic (async)", "authkeep save (async)", "write-file-atomic (async, 0o600, fsync)", { goal: 0.7 });
  compare(result, "saveSync / plain writeFileSync", "authkeep saveSync", "writeFileSync (truncate, no fsync)");
  compare(result, "writeFileAtomicSync / write-file-atomic.sync", "authkeep writeFileAtomicSync (bytes only)", "write-file-atomic.sync (0o600, fsync)");
  compare(result, "saveSync / writeFileAtomicSync (storage overhead)", "authkeep saveSync", "authkeep writeFileAtomicSync (bytes only)");
  return result;
}
