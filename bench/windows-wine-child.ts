/**
 * The Windows Credential Manager rows, run by the official Windows node.exe
 * under Wine (bench/windows-wine.ts starts it; never run by the Linux node).
 *
 * Usage: node.exe windows-wine-child.js <results.json> [--quick]
 *
 * Measures authkeep's Windows store through the package entry
 * (`createWindowsKeyringStore`, `createAuthStorage`) against
 * @napi-rs/keyring's Windows build (one reused `Entry` and one reused
 * `AsyncEntry`), each library on its own target, with two payloads:
 * - the 4 KB compact ChatGPT auth.json of the Linux keyring rows. It does not
 *   fit one credential (2560 bytes of UTF-16LE), so authkeep chunks it and
 *   keyring-rs refuses it; its napi rows then say so with napi's own error.
 * - a 0.2 KB API-key auth.json, which fits one credential for both.
 *
 * node.exe under Wine dies on a Unix pipe as stdio, so the sections (the
 * shapes of _report.ts) go to <results.json>; no secret is ever printed.
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import process from "node:process";
import { createAuthStorage, type KeyringStore, serializeAuthJson } from "../src/index.ts";
import { createWindowsKeyringStore } from "../native/windows/store.ts";
import { loadNapi, type NapiAsyncEntry, type NapiEntry } from "./_anchors.ts";
import { ignoreWarning, makeAuth, makeHome, removeHome } from "./_fixtures.ts";
import { benchConfig, describeError, measureGroup, type TaskSpec } from "./_harness.ts";
import { BENCH_SERVICE, keyringValues } from "./keyring.ts";
import { addOutcomes, compare, section, type Section } from "./_report.ts";

/** What the Linux side reads back from <results.json>. */
export interface WineChildResults {
  /** node.exe's `process.version` and `process.platform`. */
  runtime: string;
  sections: Section[];
}

const [resultsPath, ...flags] = process.argv.slice(2);
if (resultsPath === undefined) throw new Error("usage: node.exe windows-wine-child.js <results.json> [--quick]");
const quick = flags.includes("--quick") || process.env.BENCH_QUICK === "1";
const config = benchConfig(quick);

const AUTHKEEP = "authkeep store";
const NAPI = "@napi-rs/keyring";
const STORAGE_LOAD = "authkeep storage loadSync (keyring mode, parsed), 4 KB";
const STORAGE_SAVE = "authkeep storage saveSync (keyring mode), 4 KB";

/** A row's name: library, call and payload size. */
function rowName(library: string, call: string, label: string): string {
  return `${library} ${call}, ${label}`;
}

/** One payload size: its label, the two alternated values and the accounts of each library. */
interface Payload {
  label: string;
  values: [string, string];
  account: { authkeep: string; napi: string; napiAsync: string };
}

/** An API-key login: a 164-character project key, the shape OpenAI issues today. */
function apiKeyValues(): [string, string] {
  const login = (variant: number) => serializeAuthJson({ auth_mode: "apikey", OPENAI_API_KEY: `sk-proj-${"K".repeat(155)}${variant}` }, { pretty: false });
  return [login(1), login(2)];
}

const small: Payload = {
  label: "0.2 KB",
  values: apiKeyValues(),
  account: { authkeep: "bench|authkeep-small", napi: "bench|napi-small", napiAsync: "bench|napi-async-small" },
};
const large: Payload = {
  label: "4 KB",
  values: keyringValues(),
  account: { authkeep: "bench|authkeep-4k", napi: "bench|napi-4k", napiAsync: "bench|napi-async-4k" },
};

/** The reused napi entries of one payload, or why napi cannot hold it. */
type NapiPair = { ok: true; entry: NapiEntry; asyncEntry: NapiAsyncEntry } | { ok: false; reason: string };

function napiPair(payload: Payload, napi: ReturnType<typeof loadNapi>, napiReason: string): NapiPair {
  if (!napi.ok) return { ok: false, reason: napiReason };
  try {
    // One Entry per account for the whole run, as in the Linux rows.
    const entry = new napi.value.Entry(BENCH_SERVICE, payload.account.napi);
    const asyncEntry = new napi.value.AsyncEntry(BENCH_SERVICE, payload.account.napiAsync);
    entry.setPassword(payload.values[0]);
    return { ok: true, entry, asyncEntry };
  } catch (error) {
    return { ok: false, reason: `@napi-rs/keyring refuses this value: ${describeError(error)}` };
  }
}

/**
 * Why napi's Windows binary does not load. Its loader only says "Cannot find
 * native binding" (with advice about npm); loading the binary itself gives
 * Windows' reason, e.g. a DLL it imports that Wine lacks.
 */
function napiBinaryFailure(): string {
  const binary = "@napi-rs/keyring-win32-x64-msvc/keyring.win32-x64-msvc.node";
  try {
    createRequire(import.meta.url)(binary);
    return "its loader failed although its binary loads";
  } catch (error) {
    const reason = describeError(error);
    // ERROR_MOD_NOT_FOUND for the binary that exists: one of the DLLs it imports is missing.
    const hint = /Module not found/.test(reason) ? " (a DLL it imports is missing; Wine 8 lacks ProcessPrng, for which scripts/wine-setup.sh builds a bcryptprimitives.dll stand-in)" : "";
    return `${binary}: ${reason}${hint}`;
  }
}

/** Removes every item this run may have left (a killed earlier run included). */
async function cleanUp(store: KeyringStore, pairs: NapiPair[]): Promise<void> {
  for (const payload of [small, large]) {
    try {
      store.deleteSync(BENCH_SERVICE, payload.account.authkeep);
    } catch {
      // best effort: the rows already say when the store does not work
    }
  }
  for (const pair of pairs) {
    if (!pair.ok) continue;
    try {
      pair.entry.deletePassword();
      await pair.asyncEntry.deletePassword();
    } catch {
      // best effort
    }
  }
}

async function main(): Promise<Section[]> {
  const load = section("wine-load", "Windows Credential Manager under Wine: load");
  const save = section("wine-save", "Windows Credential Manager under Wine: save (replace)");
  const remove = section("wine-delete", "Windows Credential Manager under Wine: delete");
  const all = [load, save, remove];

  const store = createWindowsKeyringStore({ timeoutMs: 10_000 });
  const napiLoad = loadNapi();
  const napiReason = napiLoad.ok ? "" : `@napi-rs/keyring's Windows build does not load under Wine: ${napiBinaryFailure()}`;
  const pairs = new Map<Payload, NapiPair>([small, large].map((payload) => [payload, napiPair(payload, napiLoad, napiReason)]));
  await cleanUp(store, []);
  try {
    store.saveSync(BENCH_SERVICE, small.account.authkeep, small.values[0]);
  } catch (error) {
    for (const target of all) target.rows.push({ name: "authkeep store", unavailable: `unavailable: ${describeError(error)}` });
    await cleanUp(store, [...pairs.values()]);
    return all;
  }
  store.saveSync(BENCH_SERVICE, large.account.authkeep, large.values[0]);

  // The storage level (keyring mode, 4 KB login): the store call plus computeStoreKey and auth.json validation.
  const home = makeHome("wine");
  // The direct Credential Manager entry; on Windows keyring mode defaults to the encrypted store (bench/secrets.ts).
  const storage = createAuthStorage({ home, mode: "keyring", keyring: store, keyringBackend: "direct", service: BENCH_SERVICE, onWarning: ignoreWarning });
  const docs = [makeAuth(1), makeAuth(2)];
  storage.saveSync(docs[0]!);
  let turn = 0;

  try {
    const loadTasks: TaskSpec[] = [];
    const saveTasks: TaskSpec[] = [];
    const deleteTasks: TaskSpec[] = [];
    for (const payload of [small, large]) {
      const { label, values } = payload;
      const account = payload.account.authkeep;
      const next = () => values[turn++ & 1]!;
      const recreate = () => store.saveSync(BENCH_SERVICE, account, values[0]);
      const ours = (call: string) => rowName(AUTHKEEP, call, label);
      loadTasks.push({ name: ours("loadSync"), fn: () => store.loadSync(BENCH_SERVICE, account) });
      loadTasks.push({ name: ours("load (async)"), fn: () => store.load(BENCH_SERVICE, account), async: true });
      saveTasks.push({ name: ours("saveSync"), fn: () => store.saveSync(BENCH_SERVICE, account, next()) });
      saveTasks.push({ name: ours("save (async)"), fn: () => store.save(BENCH_SERVICE, account, next()), async: true });
      deleteTasks.push({ name: ours("deleteSync"), fn: () => store.deleteSync(BENCH_SERVICE, account), beforeEach: recreate });
      deleteTasks.push({ name: ours("delete (async)"), fn: () => store.delete(BENCH_SERVICE, account), async: true, beforeEach: recreate });
      const pair = pairs.get(payload)!;
      if (!pair.ok) continue;
      const { entry, asyncEntry } = pair;
      const theirs = (call: string) => rowName(NAPI, call, label);
      await asyncEntry.setPassword(values[0]);
      loadTasks.push({ name: theirs("Entry.getPassword"), fn: () => entry.getPassword() });
      loadTasks.push({ name: theirs("AsyncEntry.getPassword"), fn: () => asyncEntry.getPassword(), async: true });
      saveTasks.push({ name: theirs("Entry.setPassword"), fn: () => entry.setPassword(next()) });
      saveTasks.push({ name: theirs("AsyncEntry.setPassword"), fn: () => asyncEntry.setPassword(next()), async: true });
      deleteTasks.push({ name: theirs("Entry.deletePassword"), fn: () => entry.deletePassword(), beforeEach: () => entry.setPassword(values[0]) });
      deleteTasks.push({
        name: theirs("AsyncEntry.deletePassword"),
        fn: () => asyncEntry.deletePassword(),
        async: true,
        beforeEach: () => asyncEntry.setPassword(values[0]),
      });
    }
    loadTasks.push({ name: STORAGE_LOAD, fn: () => storage.loadSync() });
    saveTasks.push({ name: STORAGE_SAVE, fn: () => storage.saveSync(docs[turn++ & 1]!) });
    addOutcomes(load, await measureGroup(loadTasks, config));
    addOutcomes(save, await measureGroup(saveTasks, config));
    addOutcomes(remove, await measureGroup(deleteTasks, config));
  } finally {
    try {
      storage.deleteSync();
    } catch {
      // best effort
    }
    removeHome(home);
    await cleanUp(store, [...pairs.values()]);
  }

  // A payload napi cannot hold gets one row per section that says why (its own error message).
  for (const payload of [small, large]) {
    const pair = pairs.get(payload)!;
    if (pair.ok) continue;
    for (const target of all) target.rows.push({ name: rowName(NAPI, "Entry / AsyncEntry", payload.label), unavailable: `unavailable: ${pair.reason}` });
  }
  addComparisons(load, save, remove, [small, large].filter((payload) => pairs.get(payload)?.ok));
  load.notes.push(
    `${process.version} ${process.platform} (official node.exe) under Wine; every library has its own target; @napi-rs/keyring reuses one Entry and one AsyncEntry`,
    `payloads: the 4 KB compact ChatGPT auth.json of the Linux keyring rows (${Buffer.byteLength(large.values[0])} bytes; authkeep stores it as a head credential and chunks of at most 2560 bytes) and a ${Buffer.byteLength(small.values[0])}-byte API-key auth.json (one credential for both libraries)`,
  );
  return all;
}

/**
 * The same-run ratios: authkeep ÷ napi per call, for each payload napi can
 * hold, and the price of chunking and of the storage layer.
 */
function addComparisons(load: Section, save: Section, remove: Section, napiPayloads: Payload[]): void {
  const pairsOfCalls: [Section, string, string][] = [
    [load, "loadSync", "Entry.getPassword"],
    [load, "load (async)", "AsyncEntry.getPassword"],
    [save, "saveSync", "Entry.setPassword"],
    [save, "save (async)", "AsyncEntry.setPassword"],
    [remove, "deleteSync", "Entry.deletePassword"],
    [remove, "delete (async)", "AsyncEntry.deletePassword"],
  ];
  for (const [target, ours, theirs] of pairsOfCalls) {
    for (const { label } of napiPayloads) {
      compare(target, `${ours} / napi ${theirs}, ${label}`, rowName(AUTHKEEP, ours, label), rowName(NAPI, theirs, label));
    }
  }
  compare(load, "loadSync 4 KB (chunked) / loadSync 0.2 KB", rowName(AUTHKEEP, "loadSync", large.label), rowName(AUTHKEEP, "loadSync", small.label));
  compare(save, "saveSync 4 KB (chunked) / saveSync 0.2 KB", rowName(AUTHKEEP, "saveSync", large.label), rowName(AUTHKEEP, "saveSync", small.label));
  compare(load, "storage loadSync (parsed) / store loadSync, 4 KB", STORAGE_LOAD, rowName(AUTHKEEP, "loadSync", large.label));
  compare(save, "storage saveSync / store saveSync, 4 KB", STORAGE_SAVE, rowName(AUTHKEEP, "saveSync", large.label));
}

let sections: Section[];
try {
  sections = await main();
} catch (error) {
  const failed = section("wine", "Windows Credential Manager under Wine");
  failed.rows.push({ name: "load / save under Wine", unavailable: `failed: ${describeError(error)}` });
  sections = [failed];
}
const results: WineChildResults = { runtime: `${process.version} ${process.platform}`, sections };
writeFileSync(resultsPath, JSON.stringify(results));
