/**
 * The timing harness: tinybench does the warm-up and sampling; we pool the
 * samples of several rounds and compute median, p99 and ops/s ourselves.
 *
 * Why rounds: this machine is shared, and a burst of someone else's load can
 * land on one task only. Each round runs every task of a group once, in
 * alternating order (A B C, then C B A, ...), so a burst hurts all
 * compared tasks about equally and the ratios stay honest.
 *
 * @module
 */
import { Bench } from "tinybench";

/** How hard to measure. */
export interface BenchConfig {
  /** Few iterations, only to prove the suite still works. */
  quick: boolean;
  /** Rounds per group (tasks alternate order between rounds). */
  rounds: number;
  /** Time budget per task and round, in ms. */
  timeMs: number;
  /** Minimum iterations per task and round. */
  iterations: number;
  /** Warm-up iterations per task and round. */
  warmupIterations: number;
  /** Warm-up time budget per task and round, in ms. */
  warmupTimeMs: number;
}

/** The quick and full configurations. */
export function benchConfig(quick: boolean): BenchConfig {
  return quick
    ? { quick, rounds: 1, timeMs: 15, iterations: 5, warmupIterations: 2, warmupTimeMs: 5 }
    : { quick, rounds: 5, timeMs: 300, iterations: 40, warmupIterations: 10, warmupTimeMs: 60 };
}

/** Timing of one task, in milliseconds. */
export interface Measured {
  medianMs: number;
  p99Ms: number;
  meanMs: number;
  minMs: number;
  /** Throughput over the whole run: 1000 / mean latency. */
  opsPerSec: number;
  samples: number;
}

/** One task of a group. */
export interface TaskSpec {
  name: string;
  fn: () => unknown;
  /** Whether `fn` returns a promise to await (tinybench times the await). */
  async?: boolean;
  /** Untimed preparation before each iteration (e.g. create the item a delete removes). */
  beforeEach?: () => unknown;
}

/** A task's result: timings, or why it could not run. */
export type TaskOutcome = { ok: true; measured: Measured } | { ok: false; error: string };

/** Overrides of the configuration for slow tasks (e.g. a 100 ms keyring save). */
export interface GroupOptions {
  timeMs?: number;
  iterations?: number;
  warmupIterations?: number;
  rounds?: number;
}

/**
 * Measures a group of tasks that are compared with each other.
 *
 * @returns One outcome per task name. A task that throws is reported, not fatal.
 */
export async function measureGroup(tasks: TaskSpec[], config: BenchConfig, options: GroupOptions = {}): Promise<Map<string, TaskOutcome>> {
  const rounds = options.rounds ?? config.rounds;
  const pooled = new Map<string, number[]>(tasks.map((task) => [task.name, []]));
  const errors = new Map<string, string>();
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({
      time: options.timeMs ?? config.timeMs,
      iterations: options.iterations ?? config.iterations,
      warmupIterations: options.warmupIterations ?? config.warmupIterations,
      warmupTime: config.warmupTimeMs,
      retainSamples: true,
      throws: false,
    });
    const ordered = round % 2 === 0 ? tasks : [...tasks].reverse();
    for (const task of ordered) {
      if (errors.has(task.name)) continue;
      bench.add(task.name, task.fn as () => void, {
        async: task.async ?? false,
        ...(task.beforeEach ? { beforeEach: task.beforeEach as () => void } : {}),
      });
    }
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result;
      if (result.state === "errored") {
        errors.set(task.name, describeError(result.error));
        continue;
      }
      if (result.state !== "completed" && result.state !== "aborted-with-statistics") {
        errors.set(task.name, `tinybench state ${result.state}`);
        continue;
      }
      const samples = result.latency.samples;
      const list = pooled.get(task.name);
      // Not push(...samples): a fast task yields 100k+ samples, more than a call's argument limit.
      if (samples && list) for (const sample of samples) list.push(sample);
    }
  }
  const outcomes = new Map<string, TaskOutcome>();
  for (const task of tasks) {
    const error = errors.get(task.name);
    const samples = pooled.get(task.name) ?? [];
    if (error !== undefined) outcomes.set(task.name, { ok: false, error });
    else if (samples.length === 0) outcomes.set(task.name, { ok: false, error: "no samples" });
    else outcomes.set(task.name, { ok: true, measured: summarize(samples) });
  }
  return outcomes;
}

/** Median, p99, mean and ops/s of latency samples in ms. */
export function summarize(samples: readonly number[]): Measured {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return {
    medianMs: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    meanMs: mean,
    minMs: sorted[0] ?? 0,
    opsPerSec: mean > 0 ? 1000 / mean : 0,
    samples: sorted.length,
  };
}

/** Linear-interpolated quantile of sorted samples (same definition as tinybench). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const low = sorted[lower] ?? 0;
  const high = sorted[upper] ?? low;
  return low + (high - low) * (position - lower);
}

/** One line describing an error, without a stack. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const kind = (error as { kind?: unknown }).kind;
    return `${error.name}${typeof kind === "string" ? `(${kind})` : ""}: ${error.message}`.split("\n")[0] ?? "error";
  }
  return String(error);
}
