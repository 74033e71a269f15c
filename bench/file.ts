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
import { closeSync, constants, fstatSync, fsyncSync, lstatSync, openSync, readFileSync, readSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { open, readFile, rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import process from "node:process";
import { createAuthStorage, parseAuthJson, serializeAuthJson } from "../src/index.ts";
import { writeFileAtomic, writeFileAtomicSync } from "../src/storage/atomic-write.ts";
import { fileLocker } from "../src/storage/_file-locker.ts";
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
  result.notes.push(
    `auth.json is ${size} bytes; load = read + UTF-8 decode + JSON.parse + schema validation`,
    "FIFO-safe read = open(O_NONBLOCK) + fstat (refuse what is not a regular file) + read until EOF + close, what the load's policy needs; parseAuthJson = the strict parser (duplicate known fields, depth, exact numbers, field types); the two reference rows are plain calls, no authkeep code in the read",
  );
  addOutcomes(result, await measureGroup([
    { name: "authkeep loadSync", fn: () => storage.loadSync() },
    { name: "readFileSync + JSON.parse", fn: () => JSON.parse(readFileSync(path, "utf8")) },
    { name: "reference: FIFO-safe read + JSON.parse", fn: () => JSON.parse(fifoSafeRead(path)) },
    { name: "reference: FIFO-safe read + parseAuthJson (the policies' floor)", fn: () => parseAuthJson(fifoSafeRead(path)) },
    { name: "authkeep load (async)", fn: () => storage.load(), async: true },
    { name: "fs/promises readFile + JSON.parse", fn: async () => JSON.parse(await readFile(path, "utf8")), async: true },
  ], context.config));
  compare(result, "loadSync / bare readFileSync + JSON.parse", "authkeep loadSync", "readFileSync + JSON.parse", { goal: 1.3 });
  compare(result, "load / bare readFile + JSON.parse (async)", "authkeep load (async)", "fs/promises readFile + JSON.parse", { goal: 1.3 });
  compare(result, "loadSync / the policies' floor (FIFO-safe read + parseAuthJson)", "authkeep loadSync", "reference: FIFO-safe read + parseAuthJson (the policies' floor)");
  compare(result, "the policies' floor / bare readFileSync + JSON.parse", "reference: FIFO-safe read + parseAuthJson (the policies' floor)", "readFileSync + JSON.parse");
  compare(result, "FIFO-safe read + JSON.parse / bare readFileSync + JSON.parse (the read's share)", "reference: FIFO-safe read + JSON.parse", "readFileSync + JSON.parse");
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
  const policyPath = join(home, "policy-floor.json");
  result.notes.push(
    "authkeep save = serialize + mkdir -p 0700 (first save of a home only) + home permission check (once per storage) + Codex's two locks + symlink check + read/validate the old file (corrupt-file backup; skipped while it is the file this process wrote last, same lstat identity) + stale temp sweep (at most every 30 s) + temp 0600 + write + fsync + rename + fsync(dir) + lstat (the identity)",
    "write-file-atomic = realpath + temp + write + fsync + rename (it does not fsync the directory); plain writeFileSync = truncate + write, no fsync (what Codex does)",
  );
  addOutcomes(result, await measureGroup([
    { name: "authkeep saveSync", fn: () => storage.saveSync(next()) },
    { name: "write-file-atomic.sync (0o600, fsync)", fn: () => writeFileAtomicPackage.sync(wfaPath, JSON.stringify(next(), null, 2), WFA_OPTIONS) },
    { name: "writeFileSync (truncate, no fsync)", fn: () => writeFileSync(plainPath, JSON.stringify(next(), null, 2)) },
    { name: "authkeep writeFileAtomicSync (bytes only)", fn: () => writeFileAtomicSync(primitivePath, nextBytes()) },
    { name: "reference: temp + write + fsync + rename (no dir fsync)", fn: () => bareAtomicWrite(barePath, nextBytes(), false) },
    { name: "reference: temp + write + fsync + rename + fsync(dir)", fn: () => bareAtomicWrite(barePath, nextBytes(), true) },
    { name: "reference: the save policies' floor (serialize + Codex's two flocks + lstat + the same durable replace)", fn: () => policyFloorSave(home, policyPath, next()) },
    { name: "authkeep save (async)", fn: () => storage.save(next()), async: true },
    { name: "reference (async): temp + write + fsync + rename + fsync(dir)", fn: () => bareAtomicWriteAsync(barePath, nextBytes()), async: true },
    { name: "write-file-atomic (async, 0o600, fsync)", fn: () => writeFileAtomicPackage(wfaPath, JSON.stringify(next(), null, 2), WFA_OPTIONS), async: true },
    { name: "fs/promises writeFile (truncate, no fsync)", fn: () => writeFile(plainPath, JSON.stringify(next(), null, 2)), async: true },
    { name: "authkeep writeFileAtomic (async, bytes only)", fn: () => writeFileAtomic(primitivePath, nextBytes()), async: true },
  ], context.config));
  // The raw durable floor (issue 20): exclusive temp, write, fsync, close, rename, fsync(dir), same bytes, same run.
  compare(result, "saveSync / raw durable floor", "authkeep saveSync", "reference: temp + write + fsync + rename + fsync(dir)", { goal: 1.15 });
  compare(result, "save (async) / raw durable floor (async)", "authkeep save (async)", "reference (async): temp + write + fsync + rename + fsync(dir)", { goal: 1.15 });
  compare(result, "saveSync / the save policies' floor", "authkeep saveSync", "reference: the save policies' floor (serialize + Codex's two flocks + lstat + the same durable replace)");
  compare(result, "the save policies' floor / raw durable floor", "reference: the save policies' floor (serialize + Codex's two flocks + lstat + the same durable replace)", "reference: temp + write + fsync + rename + fsync(dir)");
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

/** The same durable replace with fs/promises, each call a round trip to libuv's thread pool as in authkeep's async save. */
async function bareAtomicWriteAsync(path: string, data: Uint8Array): Promise<void> {
  const temp = `${path}.${process.pid}.${bareCounter++}.tmp`;
  const file = await open(temp, "wx", 0o600);
  try {
    await file.write(data);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
  const directory = await open(dirname(path), "r");
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

const encoder = new TextEncoder();

/**
 * What any save under authkeep's policies must do at least, as plain calls: serialize the
 * document, take Codex's two locks (auth.lock, then <file>.lock; opened, flocked, released,
 * closed), lstat the file (symlink policy), and the durable replace of the raw floor.
 */
function policyFloorSave(home: string, path: string, doc: ReturnType<typeof makeAuth>): void {
  const data = encoder.encode(serializeAuthJson(doc));
  const { locker } = fileLocker();
  if (locker === null) throw new Error("no file locker here (koffi missing)");
  const outer = locker.open(join(home, "policy-floor.lock"), 0o644);
  try {
    if (!locker.tryLock(outer)) throw new Error("policy-floor.lock is busy");
    const inner = locker.open(`${path}.lock`, 0o600);
    try {
      if (!locker.tryLock(inner)) throw new Error(`${path}.lock is busy`);
      lstatSync(path, { throwIfNoEntry: false });
      bareAtomicWrite(path, data, true);
    } finally {
      locker.close(inner);
    }
  } finally {
    locker.close(outer);
  }
}

const fifoSafeBuffer = new Uint8Array(64 * 1024);
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The least a load that refuses FIFOs and devices does: open non-blocking, fstat the descriptor, read to EOF, close. */
function fifoSafeRead(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${path} is not a regular file`);
    let length = 0;
    for (let count: number; (count = readSync(fd, fifoSafeBuffer, length, fifoSafeBuffer.length - length, null)) > 0; ) length += count;
    return decoder.decode(fifoSafeBuffer.subarray(0, length));
  } finally {
    closeSync(fd);
  }
}
