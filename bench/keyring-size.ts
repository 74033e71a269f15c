/**
 * Keyring-size rows: save (and load) latency with 1, 100 and 500 items in the
 * keyring. gnome-keyring re-encrypts and rewrites its whole `login.keyring`
 * on every change, so a save costs more as the keyring grows.
 *
 * Runs in a child under scripts/with-keyring.sh (see run.ts): a fresh private
 * keyring that the other rows never see, removed afterwards.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { loadNapi, NAPI_OPTIONS, type NapiEntry } from "./_anchors.ts";
import type { BenchContext } from "./_context.ts";
import { describeError, measureGroup, type TaskSpec } from "./_harness.ts";
import { addOutcomes, compare, section, type Section } from "./_report.ts";
import { BENCH_SERVICE, keyringValues, probeAuthkeepStore } from "./keyring.ts";

const FILLER_SERVICE = "authkeep-bench-filler";

/** Runs the keyring-size rows (inside a private keyring). */
export async function runKeyringSize(context: BenchContext): Promise<Section[]> {
  const result = section("keyring-size", "keyring size: save latency vs items in the keyring (4 KB items)");
  const sizes = context.config.quick ? [1, 10] : [1, 100, 500];
  const values = keyringValues();
  let turn = 0;
  const nextValue = () => values[turn++ & 1]!;
  const authkeep = probeAuthkeepStore();
  const napi = loadNapi();
  let entry: NapiEntry | null = null;
  let napiReason = napi.ok ? "" : napi.reason;
  if (napi.ok) {
    try {
      // The one Entry of this process (never one per item: see linux-secret-service.md §5).
      entry = new napi.value.Entry(BENCH_SERVICE, "bench|size-napi", NAPI_OPTIONS);
      entry.setPassword(values[0]);
    } catch (error) {
      napiReason = describeError(error);
      entry = null;
    }
  }
  const store = authkeep.ok ? authkeep.store : null;
  if (store) store.saveSync(BENCH_SERVICE, "bench|size-authkeep", values[0]);
  // Items measured on: authkeep's and napi's own (2), plus fillers.
  let items = (store ? 1 : 0) + (entry ? 1 : 0);
  let filler = 0;
  const fillMethod = store ? "authkeep store" : "secret-tool store (subprocess)";
  const fill = (): void => {
    const account = `filler-${filler++}`;
    if (store) {
      store.saveSync(FILLER_SERVICE, account, values[0]);
      return;
    }
    const stored = spawnSync("secret-tool", ["store", "--label", account, "service", FILLER_SERVICE, "username", account], { input: values[0] });
    if (stored.status !== 0) throw new Error(`secret-tool store failed: ${stored.stderr.toString().trim()}`);
  };
  if (!store && !entry) {
    result.rows.push({ name: "keyring size", unavailable: `unavailable: authkeep store (${authkeep.ok ? "" : authkeep.reason}) and @napi-rs/keyring (${napiReason}) both unavailable` });
    return [result];
  }
  const fillStarted = performance.now();
  try {
    for (const size of sizes) {
      while (items < size) {
        fill();
        items++;
      }
      const tasks: TaskSpec[] = [];
      if (store) {
        tasks.push({ name: `authkeep saveSync, ${items} items`, fn: () => store.saveSync(BENCH_SERVICE, "bench|size-authkeep", nextValue()) });
        tasks.push({ name: `authkeep loadSync, ${items} items`, fn: () => store.loadSync(BENCH_SERVICE, "bench|size-authkeep") });
      }
      if (entry) {
        const napiEntry = entry;
        tasks.push({ name: `@napi-rs/keyring setPassword, ${items} items`, fn: () => napiEntry.setPassword(nextValue()) });
        tasks.push({ name: `@napi-rs/keyring getPassword, ${items} items`, fn: () => napiEntry.getPassword() });
      }
      // A save at 500 items takes ~100 ms: fixed, small sample counts.
      addOutcomes(result, await measureGroup(tasks, context.config, {
        rounds: 1,
        iterations: context.config.quick ? 3 : 20,
        warmupIterations: context.config.quick ? 1 : 3,
        timeMs: context.config.quick ? 10 : 500,
      }));
    }
  } catch (error) {
    result.notes.push(`stopped at ${items} items: ${describeError(error)}`);
  }
  const fillSeconds = (performance.now() - fillStarted) / 1000;
  const first = sizes[0]!;
  const last = Math.max(...sizes.filter((size) => size <= items));
  const itemsAt = (size: number) => (size === first ? Math.max(first, (store ? 1 : 0) + (entry ? 1 : 0)) : size);
  if (store) compare(result, `authkeep save: ${itemsAt(last)} items / ${itemsAt(first)}`, `authkeep saveSync, ${itemsAt(last)} items`, `authkeep saveSync, ${itemsAt(first)} items`);
  if (entry) compare(result, `@napi-rs/keyring save: ${itemsAt(last)} items / ${itemsAt(first)}`, `@napi-rs/keyring setPassword, ${itemsAt(last)} items`, `@napi-rs/keyring setPassword, ${itemsAt(first)} items`);
  if (store && entry) {
    for (const size of sizes) {
      compare(result, `authkeep / @napi-rs/keyring save at ${itemsAt(size)} items`, `authkeep saveSync, ${itemsAt(size)} items`, `@napi-rs/keyring setPassword, ${itemsAt(size)} items`);
    }
  }
  if (!store) result.rows.push({ name: "authkeep saveSync", unavailable: `unavailable: ${authkeep.ok ? "" : authkeep.reason}` });
  result.notes.push(`fresh private keyring; fillers stored with ${fillMethod}; whole run took ${fillSeconds.toFixed(1)} s`);
  return [result];
}
