/**
 * The one sync/async engine. A flow is a generator that yields I/O steps;
 * {@linkcode runSync} performs each step directly, {@linkcode runAsync}
 * awaits its async form, optionally under a deadline. All decisions live in
 * the flow, so `load()` and `loadSync()` cannot drift apart. The storages
 * and every native backend (Linux, Windows, macOS) run on it.
 *
 * @module
 */

/** One I/O operation in both forms. */
export interface Step<T> {
  sync(): T;
  /** `abandoned()` turns true once the deadline of {@linkcode runAsync} has passed (never, when left out). */
  async(abandoned?: () => boolean): Promise<T>;
}

/** A flow: yields steps, receives their results, returns `R`. */
export type Flow<R> = Generator<Step<unknown>, R, unknown>;

/** Performs one step inside a flow: `const x = yield* io(step)`. */
export function* io<T>(step: Step<T>): Generator<Step<unknown>, T, unknown> {
  return (yield step as Step<unknown>) as T;
}

/** setTimeout's (and GDBus's) largest delay: 2^31 - 1 ms, about 24.8 days. */
export const MAX_DEADLINE_MS = 2_147_483_647;

/**
 * The one deadline policy of every store, checked when the store is created:
 * - `undefined`: `defaultMs`;
 * - a positive number: that many milliseconds, rounded up to a whole one;
 * - above {@linkcode MAX_DEADLINE_MS} (about 24.8 days), `Infinity` included:
 *   clamped to it, because setTimeout would turn it into 1 ms;
 * - `0`, a negative number, `NaN` or a non-number: a `RangeError`, because a
 *   deadline that has already passed is a caller's bug, not a keyring failure.
 *
 * @throws {RangeError} when `ms` is not a positive number.
 */
export function resolveDeadline(ms: number | undefined, defaultMs: number, name = "timeoutMs"): number {
  if (ms === undefined) return defaultMs;
  if (typeof ms !== "number" || Number.isNaN(ms) || ms <= 0) {
    throw new RangeError(`${name} must be a positive number of milliseconds, got ${String(ms)}`);
  }
  return Math.min(Math.ceil(ms), MAX_DEADLINE_MS);
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

/** The deadline of one {@linkcode runAsync} call. */
export interface Deadline {
  /** Milliseconds, as returned by {@linkcode resolveDeadline}. */
  ms: number;
  /** Called once when it passes (cancel what can be cancelled); returns the error to reject with. */
  expired(): Error;
}

/**
 * Runs a flow with asynchronous I/O. With a `deadline`, the promise rejects
 * with `deadline.expired()` as soon as it passes; a native call cannot be
 * interrupted, so the flow is closed (its `finally` blocks run, releasing what
 * the call was using) only after the step in progress returns, and the steps
 * it would have taken next are never taken. Where a step blocks the event loop
 * (bun:ffi), the timer cannot fire during it: the deadline is checked again
 * each time a step returns.
 */
export function runAsync<R>(flow: Flow<R>, deadline?: Deadline): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    const abandoned = (): boolean => settled;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const expire = (): void => {
      if (deadline !== undefined) settle(() => reject(deadline.expired()));
    };
    const endsAt = deadline === undefined ? Infinity : performance.now() + deadline.ms;
    const timer = deadline === undefined ? undefined : setTimeout(expire, deadline.ms);

    const advance = (resume: () => IteratorResult<Step<unknown>, R>): void => {
      let step: IteratorResult<Step<unknown>, R>;
      try {
        step = resume();
      } catch (error) {
        settle(() => reject(error));
        return;
      }
      if (step.done) {
        settle(() => resolve(step.value));
        return;
      }
      let call: Promise<unknown>;
      try {
        call = step.value.async(abandoned);
      } catch (error) {
        // The step failed before starting anything (e.g. a marshalling error): nothing is running.
        advance(() => flow.throw(error));
        return;
      }
      call.then(
        (value) => returned(() => flow.next(value)),
        (error: unknown) => returned(() => flow.throw(error)),
      );
    };

    const returned = (resume: () => IteratorResult<Step<unknown>, R>): void => {
      if (!settled && performance.now() >= endsAt) expire();
      if (settled) {
        // The deadline has passed: the call is over now, so what it used can go.
        try {
          flow.return(undefined as R);
        } catch {
          // Nothing is waiting for this outcome any more.
        }
        return;
      }
      advance(resume);
    };
    advance(() => flow.next());
  });
}

/**
 * Turns a flow that yields plain descriptions of its I/O (Windows's
 * `CredStep`s) into an engine flow, `perform` giving each its two forms. The
 * described flow stays free of FFI, so tests run it against a fake.
 */
export function* describedFlow<S, R>(flow: Generator<S, R, unknown>, perform: (step: S) => Step<unknown>): Flow<R> {
  let done = false;
  try {
    let next = flow.next();
    while (!next.done) {
      let value: unknown;
      try {
        value = yield perform(next.value);
      } catch (error) {
        next = flow.throw(error);
        continue;
      }
      next = flow.next(value);
    }
    done = true;
    return next.value;
  } finally {
    // Closed early (a deadline passed): let the described flow run its own finally blocks.
    if (!done) flow.return(undefined as R);
  }
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
