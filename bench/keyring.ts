/**
 * Keyring rows: authkeep's libsecret store (native/linux/store.ts on the koffi FFI provider, through
 * defaultKeyringStore) against @napi-rs/keyring, keytar and `secret-tool`
 * on the same private gnome-keyring, with a 4 KB value.
 *
 * Each library gets its own account: keyring-rs and libsecret items for the
 * same (service, username) can become ambiguous for @napi-rs/keyring
 * (linux-secret-service.md §5), and we measure speed here, not interop.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { createAuthStorage, defaultKeyringStore, type KeyringStore, serializeAuthJson } from "../src/index.ts";
import { loadKeytar, loadNapi, NAPI_OPTIONS, type Keytar, type NapiAsyncEntry, type NapiEntry } from "./_anchors.ts";
import type { BenchContext } from "./_context.ts";
import { ignoreWarning, makeAuth, makeHome, removeHome } from "./_fixtures.ts";
import { describeError, measureGroup, type TaskSpec } from "./_harness.ts";
import { addOutcomes, compare, type Row, section, type Section } from "./_report.ts";
import { rawSecretCallFloor, type SecretCallFloor } from "./_keyring-floor.ts";

/** The service all benchmark items live under (never Codex's). */
export const BENCH_SERVICE = "authkeep-bench";

const ACCOUNT = {
  authkeep: "bench|authkeep",
  napi: "bench|napi",
  napiAsync: "bench|napi-async",
  keytar: "bench|keytar",
  floor: "bench|floor",
} as const;

/** Two 4 KB compact values, alternated so that every save changes the secret. */
export function keyringValues(): [string, string] {
  return [serializeAuthJson(makeAuth(1), { pretty: false }), serializeAuthJson(makeAuth(2), { pretty: false })];
}

/** Whether authkeep's platform keyring store works here; the reason when not. */
export function probeAuthkeepStore(): { ok: true; store: KeyringStore } | { ok: false; reason: string } {
  if (!process.env.DBUS_SESSION_BUS_ADDRESS) return { ok: false, reason: "no keyring running (DBUS_SESSION_BUS_ADDRESS unset; use npm run bench)" };
  const store = defaultKeyringStore();
  try {
    store.saveSync(BENCH_SERVICE, "bench|probe", "probe");
    store.deleteSync(BENCH_SERVICE, "bench|probe");
    return { ok: true, store };
  } catch (error) {
    return { ok: false, reason: describeError(error) };
  }
}

/** Runs the keyring rows. */
export async function runKeyring(context: BenchContext): Promise<Section[]> {
  const load = section("keyring-load", "keyring: load (libsecret, 4 KB secret)");
  const save = section("keyring-save", "keyring: save (libsecret, 4 KB secret, replace)");
  const remove = section("keyring-delete", "keyring: delete (libsecret)");
  const tool = section("keyring-secret-tool", "keyring: secret-tool subprocess");
  const all = [load, save, remove, tool];
  const values = keyringValues();
  let turn = 0;
  const nextValue = () => values[turn++ & 1]!;

  const authkeep = probeAuthkeepStore();
  const napi = loadNapi();
  const keytar = loadKeytar(context);
  let napiEntry: NapiEntry | null = null;
  let napiAsyncEntry: NapiAsyncEntry | null = null;
  let napiReason = napi.ok ? "" : napi.reason;
  if (napi.ok) {
    try {
      // One Entry per account for the whole run: each `new Entry()` opens a D-Bus
      // connection that is only freed by GC, and ~1000 of them stall the process.
      napiEntry = new napi.value.Entry(BENCH_SERVICE, ACCOUNT.napi, NAPI_OPTIONS);
      napiAsyncEntry = new napi.value.AsyncEntry(BENCH_SERVICE, ACCOUNT.napiAsync, NAPI_OPTIONS);
      napiEntry.setPassword(values[0]);
      await napiAsyncEntry.setPassword(values[0]);
    } catch (error) {
      napiReason = describeError(error);
      napiEntry = null;
      napiAsyncEntry = null;
    }
  }
  let keytarReason = keytar.ok ? "" : keytar.reason;
  let keytarLib: Keytar | null = keytar.ok ? keytar.value : null;
  if (keytarLib) {
    try {
      await keytarLib.setPassword(BENCH_SERVICE, ACCOUNT.keytar, values[0]);
    } catch (error) {
      keytarReason = describeError(error);
      keytarLib = null;
    }
  }
  const store = authkeep.ok ? authkeep.store : null;
  if (store) store.saveSync(BENCH_SERVICE, ACCOUNT.authkeep, values[0]);
  // The warm save's floor: one raw SetSecret on the store's connection (bench/_keyring-floor.ts).
  let floor: SecretCallFloor | null = null;
  let floorReason = authkeep.ok ? "" : authkeep.reason;
  if (store) {
    try {
      store.saveSync(BENCH_SERVICE, ACCOUNT.floor, values[0]);
      floor = rawSecretCallFloor(BENCH_SERVICE, ACCOUNT.floor, values);
    } catch (error) {
      floorReason = describeError(error);
    }
  }

  // The storage level (keyring mode): the store call plus computeStoreKey and auth.json validation.
  const home = makeHome("keyring");
  const storage = store ? createAuthStorage({ home, mode: "keyring", keyring: store, service: BENCH_SERVICE, onWarning: ignoreWarning }) : null;
  const docs = [makeAuth(1), makeAuth(2)];
  if (storage) storage.saveSync(docs[0]!);

  try {
    // load
    const loadTasks: TaskSpec[] = [];
    if (store) {
      loadTasks.push({ name: "authkeep store loadSync", fn: () => store.loadSync(BENCH_SERVICE, ACCOUNT.authkeep) });
      loadTasks.push({ name: "authkeep store load (async)", fn: () => store.load(BENCH_SERVICE, ACCOUNT.authkeep), async: true });
    }
    if (storage) {
      loadTasks.push({ name: "authkeep storage loadSync (keyring mode, parsed)", fn: () => storage.loadSync() });
    }
    if (floor) {
      const raw = floor;
      loadTasks.push({ name: "floor: one raw GetSecret (same connection, not decrypted)", fn: () => raw.getSecretSync() });
    }
    if (napiEntry && napiAsyncEntry) {
      const entry = napiEntry;
      const asyncEntry = napiAsyncEntry;
      loadTasks.push({ name: "@napi-rs/keyring Entry.getPassword", fn: () => entry.getPassword() });
      loadTasks.push({ name: "@napi-rs/keyring AsyncEntry.getPassword", fn: () => asyncEntry.getPassword(), async: true });
    }
    if (keytarLib) {
      const lib = keytarLib;
      loadTasks.push({ name: "keytar getPassword (async)", fn: () => lib.getPassword(BENCH_SERVICE, ACCOUNT.keytar), async: true });
    }
    addOutcomes(load, await measureGroup(loadTasks, context.config));

    // save
    const saveTasks: TaskSpec[] = [];
    if (store) {
      saveTasks.push({ name: "authkeep store saveSync", fn: () => store.saveSync(BENCH_SERVICE, ACCOUNT.authkeep, nextValue()) });
      saveTasks.push({ name: "authkeep store save (async)", fn: () => store.save(BENCH_SERVICE, ACCOUNT.authkeep, nextValue()), async: true });
    }
    if (floor) {
      const raw = floor;
      saveTasks.push({ name: "floor: one raw SetSecret (same connection, pre-encrypted)", fn: () => raw.setSecretSync() });
    }
    if (storage) {
      saveTasks.push({ name: "authkeep storage saveSync (keyring mode)", fn: () => storage.saveSync(docs[turn++ & 1]!) });
    }
    if (napiEntry && napiAsyncEntry) {
      const entry = napiEntry;
      const asyncEntry = napiAsyncEntry;
      saveTasks.push({ name: "@napi-rs/keyring Entry.setPassword", fn: () => entry.setPassword(nextValue()) });
      saveTasks.push({ name: "@napi-rs/keyring AsyncEntry.setPassword", fn: () => asyncEntry.setPassword(nextValue()), async: true });
    }
    if (keytarLib) {
      const lib = keytarLib;
      saveTasks.push({ name: "keytar setPassword (async)", fn: () => lib.setPassword(BENCH_SERVICE, ACCOUNT.keytar, nextValue()), async: true });
    }
    addOutcomes(save, await measureGroup(saveTasks, context.config));

    // delete: the item is re-created, untimed, before each timed delete.
    const deleteTasks: TaskSpec[] = [];
    if (store) {
      deleteTasks.push({
        name: "authkeep store deleteSync",
        fn: () => store.deleteSync(BENCH_SERVICE, ACCOUNT.authkeep),
        beforeEach: () => store.saveSync(BENCH_SERVICE, ACCOUNT.authkeep, values[0]),
      });
      deleteTasks.push({
        name: "authkeep store delete (async)",
        fn: () => store.delete(BENCH_SERVICE, ACCOUNT.authkeep),
        async: true,
        beforeEach: () => store.saveSync(BENCH_SERVICE, ACCOUNT.authkeep, values[0]),
      });
    }
    if (napiEntry && napiAsyncEntry) {
      const entry = napiEntry;
      const asyncEntry = napiAsyncEntry;
      deleteTasks.push({ name: "@napi-rs/keyring Entry.deletePassword", fn: () => entry.deletePassword(), beforeEach: () => entry.setPassword(values[0]) });
      deleteTasks.push({
        name: "@napi-rs/keyring AsyncEntry.deletePassword",
        fn: () => asyncEntry.deletePassword(),
        async: true,
        beforeEach: () => asyncEntry.setPassword(values[0]),
      });
    }
    if (keytarLib) {
      const lib = keytarLib;
      deleteTasks.push({
        name: "keytar deletePassword (async)",
        fn: () => lib.deletePassword(BENCH_SERVICE, ACCOUNT.keytar),
        async: true,
        beforeEach: () => lib.setPassword(BENCH_SERVICE, ACCOUNT.keytar, values[0]),
      });
    }
    addOutcomes(remove, await measureGroup(deleteTasks, context.config));

    // secret-tool: a whole process per lookup (~30 ms), so fewer samples.
    if (napiEntry) napiEntry.setPassword(values[0]);
    const lookupAccount = napiEntry ? ACCOUNT.napi : ACCOUNT.authkeep;
    const secretTool = spawnSync("secret-tool", ["lookup", "service", BENCH_SERVICE, "username", lookupAccount], { encoding: "utf8" });
    if (secretTool.error || secretTool.status !== 0 || secretTool.stdout.length < 1000) {
      tool.rows.push({ name: "secret-tool lookup (spawnSync)", unavailable: `unavailable: ${secretTool.error?.message ?? `exit ${secretTool.status}: ${secretTool.stderr.trim() || "item not found"}`}` });
    } else {
      addOutcomes(tool, await measureGroup([
        {
          name: "secret-tool lookup (spawnSync)",
          fn: () => spawnSync("secret-tool", ["lookup", "service", BENCH_SERVICE, "username", lookupAccount]),
        },
      ], context.config, { iterations: context.config.quick ? 3 : 20, timeMs: context.config.quick ? 10 : 300 }));
    }
  } finally {
    removeHome(home);
    if (store) {
      for (const account of [ACCOUNT.authkeep, ACCOUNT.floor, "bench|probe"]) {
        try {
          store.deleteSync(BENCH_SERVICE, account);
        } catch {
          // best effort
        }
      }
    }
    try {
      napiEntry?.deletePassword();
      await napiAsyncEntry?.deletePassword();
      await keytarLib?.deletePassword(BENCH_SERVICE, ACCOUNT.keytar);
    } catch {
      // best effort: the keyring is private and removed by scripts/bench.sh anyway
    }
  }

  // Rows that could not run say why, instead of failing the suite.
  const missing = (target: Section, names: string[], reason: string): void => {
    for (const name of names) {
      if (!target.rows.some((row: Row) => row.name === name)) target.rows.push({ name, unavailable: `unavailable: ${reason}` });
    }
  };
  if (!authkeep.ok) {
    missing(load, ["authkeep store loadSync", "authkeep store load (async)"], authkeep.reason);
    missing(save, ["authkeep store saveSync", "authkeep store save (async)"], authkeep.reason);
    missing(remove, ["authkeep store deleteSync", "authkeep store delete (async)"], authkeep.reason);
  }
  if (!floor) {
    missing(load, ["floor: one raw GetSecret (same connection, not decrypted)"], floorReason);
    missing(save, ["floor: one raw SetSecret (same connection, pre-encrypted)"], floorReason);
  }
  if (!napiEntry) {
    missing(load, ["@napi-rs/keyring Entry.getPassword"], napiReason);
    missing(save, ["@napi-rs/keyring Entry.setPassword"], napiReason);
    missing(remove, ["@napi-rs/keyring Entry.deletePassword"], napiReason);
  }
  if (!keytarLib) {
    missing(load, ["keytar getPassword (async)"], keytarReason);
    missing(save, ["keytar setPassword (async)"], keytarReason);
    missing(remove, ["keytar deletePassword (async)"], keytarReason);
  }

  compare(load, "loadSync / napi Entry.getPassword", "authkeep store loadSync", "@napi-rs/keyring Entry.getPassword", { goal: 0.6 });
  compare(load, "load (async) / napi AsyncEntry.getPassword", "authkeep store load (async)", "@napi-rs/keyring AsyncEntry.getPassword", { goal: 0.6 });
  compare(load, "loadSync / the floor (one raw GetSecret)", "authkeep store loadSync", "floor: one raw GetSecret (same connection, not decrypted)");
  compare(load, "the floor (one raw GetSecret) / napi Entry.getPassword", "floor: one raw GetSecret (same connection, not decrypted)", "@napi-rs/keyring Entry.getPassword");
  compare(load, "storage loadSync (parsed) / napi Entry.getPassword", "authkeep storage loadSync (keyring mode, parsed)", "@napi-rs/keyring Entry.getPassword");
  compare(load, "load (async) / keytar getPassword", "authkeep store load (async)", "keytar getPassword (async)");
  compare(save, "saveSync / napi Entry.setPassword", "authkeep store saveSync", "@napi-rs/keyring Entry.setPassword", { goal: 0.9 });
  compare(save, "save (async) / napi AsyncEntry.setPassword", "authkeep store save (async)", "@napi-rs/keyring AsyncEntry.setPassword", { goal: 0.9 });
  compare(save, "saveSync / the floor (one raw SetSecret)", "authkeep store saveSync", "floor: one raw SetSecret (same connection, pre-encrypted)");
  compare(save, "napi Entry.setPassword / the floor (one raw SetSecret)", "@napi-rs/keyring Entry.setPassword", "floor: one raw SetSecret (same connection, pre-encrypted)");
  compare(save, "storage saveSync / napi Entry.setPassword", "authkeep storage saveSync (keyring mode)", "@napi-rs/keyring Entry.setPassword");
  compare(save, "save (async) / keytar setPassword", "authkeep store save (async)", "keytar setPassword (async)");
  compare(remove, "deleteSync / napi Entry.deletePassword", "authkeep store deleteSync", "@napi-rs/keyring Entry.deletePassword");
  compare(remove, "delete (async) / napi AsyncEntry.deletePassword", "authkeep store delete (async)", "@napi-rs/keyring AsyncEntry.deletePassword");
  if (tool.rows[0]?.measured) {
    tool.rows.push(...load.rows.filter((row) => row.name === "authkeep store loadSync" || row.name === "@napi-rs/keyring Entry.getPassword"));
    compare(tool, "secret-tool lookup / authkeep loadSync", "secret-tool lookup (spawnSync)", "authkeep store loadSync");
  }
  load.notes.push("the 4 KB value is the compact auth.json Codex stores; every library has its own item on the same daemon; @napi-rs/keyring reuses one Entry");
  return all;
}
