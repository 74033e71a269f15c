/**
 * Runs a native call sequence written once as a generator: the generator
 * yields each call that may block (a `SecItem*` call can wait on a keychain
 * prompt) and receives its `OSStatus`. {@linkcode runSync} makes the calls on
 * this thread; {@linkcode runAsync} makes them on koffi's worker threads with
 * a deadline, so the event loop never waits on the keychain.
 *
 * The generator owns its CF references and releases them in `finally`. When
 * the deadline passes while a call is still running, the promise rejects at
 * once, but the generator is only closed (and its references released) after
 * that call returns: the worker thread is still reading them.
 *
 * @module
 */
import { KeyringError } from "../src/keyring-error.ts";
import type { NativeFn } from "./_macos-bindings.ts";

const MAX_TIMER_MS = 2 ** 31 - 1;

/** One blocking native call: the function and its arguments. */
export interface NativeStep {
  // deno-lint-ignore no-explicit-any
  readonly fn: NativeFn<any[], number>;
  readonly args: readonly unknown[];
}

/** A call sequence: yields {@linkcode NativeStep}s, is resumed with each call's status. */
export type NativeFlow<T> = Generator<NativeStep, T, number>;

/** Runs `flow` with direct calls on the calling thread. */
export function runSync<T>(flow: NativeFlow<T>): T {
  let step = flow.next();
  while (!step.done) {
    let status: number;
    try {
      status = step.value.fn(...step.value.args);
    } catch (error) {
      step = flow.throw(error);
      continue;
    }
    step = flow.next(status);
  }
  return step.value;
}

/**
 * Runs `flow` with each call made through koffi's `.async`, rejecting with a
 * {@linkcode KeyringError} of kind `unavailable` when `timeoutMs` passes
 * (no deadline when it is larger than a timer can hold, e.g. `Infinity`).
 */
export function runAsync<T>(flow: NativeFlow<T>, timeoutMs: number, backend: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    // setTimeout turns delays past 2^31 - 1 ms into 1 ms; those (and Infinity) mean "no deadline" here.
    const timer = timeoutMs > MAX_TIMER_MS ? undefined : setTimeout(() => {
      settle(() =>
        reject(
          new KeyringError(
            `the macOS keychain did not answer within ${timeoutMs} ms (a keychain prompt may be waiting); answer the prompt, or raise timeoutMs`,
            { kind: "unavailable", backend },
          ),
        )
      );
    }, timeoutMs);

    const advance = (resume: () => IteratorResult<NativeStep, T>): void => {
      let step: IteratorResult<NativeStep, T>;
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
      const { fn, args } = step.value;
      try {
        fn.async(...args, (error: unknown, status: number) => {
          if (settled) {
            // The deadline has passed: the call is over now, so its references can go.
            try {
              flow.return(undefined as T);
            } catch {
              // Nothing is waiting for this outcome any more.
            }
            return;
          }
          advance(() => (error ? flow.throw(error) : flow.next(status)));
        });
      } catch (error) {
        // koffi refused the call before starting it (e.g. a marshalling error): nothing is running.
        advance(() => flow.throw(error));
      }
    };
    advance(() => flow.next());
  });
}
