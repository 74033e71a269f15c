/**
 * Sync/async twins written once. A flow is a generator that yields I/O steps;
 * `runSync` performs each step directly, `runAsync` awaits its async form.
 * All decisions live in the flow, so `load()` and `loadSync()` cannot drift
 * apart.
 *
 * @module
 */

/** One I/O operation in both forms. */
export interface Step<T> {
  sync(): T;
  async(): Promise<T>;
}

/** A flow: yields steps, receives their results, returns `R`. */
export type Flow<R> = Generator<Step<unknown>, R, unknown>;

/** Performs one step inside a flow: `const x = yield* io(step)`. */
export function* io<T>(step: Step<T>): Generator<Step<unknown>, T, unknown> {
  return (yield step as Step<unknown>) as T;
}

/** Runs a flow with synchronous I/O. */
export function runSync<R>(flow: Flow<R>): R {
  let next = flow.next();
  while (!next.done) {
    let value: unknown;
    try {
      value = next.value.sync();
    } catch (error) {
      next = flow.throw(error);
      continue;
    }
    next = flow.next(value);
  }
  return next.value;
}

/** Runs a flow with asynchronous I/O. */
export async function runAsync<R>(flow: Flow<R>): Promise<R> {
  let next = flow.next();
  while (!next.done) {
    let value: unknown;
    try {
      value = await next.value.async();
    } catch (error) {
      next = flow.throw(error);
      continue;
    }
    next = flow.next(value);
  }
  return next.value;
}

/** A step that waits `ms` milliseconds (blocking in the sync form). */
export function sleepStep(ms: number): Step<void> {
  return {
    sync: () => {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    },
    async: () => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}
