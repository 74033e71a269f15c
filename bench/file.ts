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
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import process from "node:process";
import { createAuthStorage, serializeAuthJson } from "../src/index.ts";
import { writeFileAtomic, writeFileAtomicSync } from "../src/storage/atomic-write.ts";
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
  const wfaPath = join(home, "wfa.json");
  const plainPath = join(home, "plain.json");
  const primitivePath = join(home, "primitive.json");
  const barePath = join(home, "bare.json");
  result.notes.push(
    "authkeep save = serialize + mkdir -p 0700 + home permission check + symlink check + read/validate the old file (corrupt-file backup) + stale temp sweep + temp 0600 + write + fsync + rename + fsync(dir)",
    "write-file-atomic = realpath + temp + write + fsync + rename (it does not fsync the directory); plain writeFileSync = truncate + write, no fsync (what Codex does)",
  );
  addOutcomes(result, await measureGroup([
    { name: "authkeep saveSync", fn: () => storage.saveSync(next()) },
    { name: "write-file-atomic.sync (0o600, fsync)", fn: () => writeFileAtomicPackage.sync(wfaPath, JSON.stringify(next(), null, 2), WFA_OPTIONS) },
    { name: "writeFileSync (truncate, no fsync)", fn: () => writeFileSync(plainPath, JSON.stringify(next(), null, 2)) },
    { name: "authkeep writeFileAtomicSync (bytes only)", fn: () => writeFileAtomicSync(primitivePath, nextBytes()) },
    { name: "reference: temp + write + fsync + rename (no dir fsync)", fn: () => bareAtomicWrite(barePath, nextBytes(), false) },
    { name: "reference: temp + write + fsync + rename + fsync(dir)", fn: () => bareAtomicWrite(barePath, nextBytes(), true) },
    { name: "authkeep save (async)", fn: () => storage.save(next()), async: true },
    { name: "write-file-atomic (async, 0o600, fsync)", fn: () => writeFileAtomicPackage(wfaPath, JSON.stringify(next(), null, 2), WFA_OPTIONS), async: true },
    { name: "fs/promises writeFile (truncate, no fsync)", fn: () => writeFile(plainPath, JSON.stringify(next(), null, 2)), async: true },
    { name: "authkeep writeFileAtomic (async, bytes only)", fn: () => writeFileAtomic(primitivePath, nextBytes()), async: true },
  ], context.config));
  // The raw durable floor (issue 20): exclusive temp, write, fsync, close, rename, fsync(dir), same bytes, same run.
  compare(result, "saveSync / raw durable floor", "authkeep saveSync", "reference: temp + write + fsync + rename + fsync(dir)", { goal: 1.15 });
  compare(result, "save (async) / raw durable floor", "authkeep save (async)", "reference: temp + write + fsync + rename + fsync(dir)");
  compare(result, "saveSync / write-file-atomic.sync", "authkeep saveSync", "write-file-atomic.sync (0o600, fsync)", { goal: 0.7 });
  compare(result, "save / write-file-atomic (async)", "authkeep save (async)", "write-file-atomic (async, 0o600, fsync)", { goal: 0.7 });
  compare(result, "saveSync / plain writeFileSync", "authkeep saveSync", "writeFileSync (truncate, no fsync)");
  compare(result, "writeFileAtomicSync / write-file-atomic.sync", "authkeep writeFileAtomicSync (bytes only)", "write-file-atomic.sync (0o600, fsync)");
  compare(result, "saveSync / writeFileAtomicSync (storage overhead)", "authkeep saveSync", "authkeep writeFileAtomicSync (bytes only)");
  compare(result, "reference: fsync(dir) added (with / without)", "reference: temp + write + fsync + rename + fsync(dir)", "reference: temp + write + fsync + rename (no dir fsync)");
  compare(result, "reference: minimal atomic write without dir fsync / write-file-atomic.sync", "reference: temp + write + fsync + rename (no dir fsync)", "write-file-atomic.sync (0o600, fsync)");
  compare(result, "reference: minimal atomic write with dir fsync / write-file-atomic.sync", "reference: temp + write + fsync + rename + fsync(dir)", "write-file-atomic.sync (0o600, fsync)");
  return result;
}

let bareCounter = 0;

/**
 * The least an atomic replace can do, as a yardstick: it shows how much of a
 * save is the disk (fsyncs) and how much is everything else.
 */
function bareAtomicWrite(path: string, data: Uint8Array, syncDirectory: boolean): void {
  const temp = `${path}.${process.pid}.${bareCounter++}.tmp`;
  const fd = openSync(temp, "wx", 0o600);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  if (syncDirectory) {
    const directory = openSync(dirname(path), "r");
    try {
      fsyncSync(directory);
    } finally {
      closeSync(directory);
    }
  }
}
