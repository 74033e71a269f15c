/**
 * Runs the macOS backend's call sequences, each written once as a flow
 * (`src/contract/engine.ts`): the flow yields each call that may block (a `SecItem*`
 * call can wait on a keychain prompt) as a {@linkcode secCall} step and
 * receives its `OSStatus`. `runSync` (from `src/contract/engine.ts`) makes the calls on
 * this thread; {@linkcode runAsync} makes them through the FFI provider's
 * `.async` with a deadline.
 *
 * Where `.async` leaves the main thread (koffi's worker threads, Deno's
 * blocking pool), the event loop never waits on the keychain and the deadline
 * timer rejects while a call still runs. On bun:ffi (`offThread: false`) a
 * call blocks the event loop until the keychain answers, so no timer can fire
 * meanwhile: the deadline is checked when each call returns instead, and a
 * call that overran rejects the same way.
 *
 * The flow owns its CF references and releases them in `finally`. When the
 * deadline passes while a call is still running, the promise rejects at
 * once, but the flow is only closed (and its references released) after
 * that call returns: the native call is still reading them. The calls the
 * flow would have made next are never made.
 *
 * @module
 */
import { KeyringError } from "../../src/contract/keyring-error.ts";
import type { Flow, Step } from "../../src/contract/engine.ts";
import type { FfiArgType, NativeFunction } from "../ffi/index.ts";
// Not re-exported by ffi/index.ts: the argument list a declared function takes.
import type { FfiArgValues } from "../ffi/index.ts";

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One blocking native call that returns an `OSStatus`, as a flow step: made
 * directly by `runSync`, through the provider's `.async` by
 * {@linkcode runAsync}. The arguments (buffers included) stay referenced by
 * the step until the call is over.
 *
 * @example
 * ```ts
 * // Internal modules: the package exports no subpath for them, hence the deep paths.
 * import { io, runSync } from "./node_modules/authkeep/src/contract/engine.ts";
 * import { loadFfiProvider } from "./node_modules/authkeep/native/ffi/index.ts";
 * import { secCall } from "./node_modules/authkeep/native/macos/_flow.ts";
 *
 * const libc = loadFfiProvider().open(process.platform === "darwin" ? "/usr/lib/libSystem.B.dylib" : "libc.so.6", {
 *   abs: { args: ["i32"], returns: "i32" },
 * });
 * console.log(runSync((function* () { return yield* io(secCall(libc.symbols.abs, -25300)); })())); // 25300
 * ```
 */
export function secCall<const A extends readonly FfiArgType[]>(
  fn: NativeFunction<A, "i32">,
  ...args: FfiArgValues<A>
): Step<number> {
  return { sync: () => fn(...args), async: () => fn.async(...args) };
}

/**
 * Runs `flow` with each call made through the provider's `.async`, rejecting
 * with a {@linkcode KeyringError} of kind `unavailable` when `timeoutMs`
 * passes (no deadline when it is larger than a timer can hold, e.g.
 * `Infinity`). See the module notes for bun:ffi.
 *
 * @example
 * ```ts
 * // Internal module: the package exports no subpath for it, hence the deep path.
 * import { runAsync } from "./node_modules/authkeep/native/macos/_flow.ts";
 *
 * const slow = { sync: () => 0, async: () => new Promise<number>((resolve) => setTimeout(() => resolve(0), 200)) };
 * try {
 *   await runAsync((function* () { yield slow; return "done"; })(), 20, "macos");
 * } catch (error) {
 *   console.log((error as { kind: string }).kind); // "unavailable"
 * }
 * ```
 */
export function runAsync<T>(flow: Flow<T>, timeoutMs: number, backend: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const timedOut = (): void =>
      settle(() =>
        reject(
          new KeyringError(
            `the macOS keychain did not answer within ${timeoutMs} ms (a keychain prompt may be waiting); answer the prompt, or raise timeoutMs`,
            { kind: "unavailable", reason: "timeout", backend },
          ),
        )
      );
    // setTimeout turns delays past 2^31 - 1 ms into 1 ms; those (and Infinity) mean "no deadline" here.
    const bounded = timeoutMs <= MAX_TIMER_MS;
    const deadline = performance.now() + timeoutMs;
    const timer = bounded ? setTimeout(timedOut, timeoutMs) : undefined;

    const advance = (resume: () => IteratorResult<Step<unknown>, T>): void => {
      let step: IteratorResult<Step<unknown>, T>;
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
        call = step.value.async();
      } catch (error) {
        // The provider refused the call before starting it (e.g. a marshalling error): nothing is running.
        advance(() => flow.throw(error));
        return;
      }
      call.then(
        (status) => returned(() => flow.next(status)),
        (error: unknown) => returned(() => flow.throw(error)),
      );
    };

    const returned = (resume: () => IteratorResult<Step<unknown>, T>): void => {
      // On bun:ffi the call blocked the event loop, so the timer could not fire during it: check now.
      if (bounded && !settled && performance.now() >= deadline) timedOut();
      if (settled) {
        // The deadline has passed: the call is over now, so its references can go.
        try {
          flow.return(undefined as T);
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
