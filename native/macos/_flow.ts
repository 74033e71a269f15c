/**
 * The steps of the macOS backend's call sequences, each written once as a
 * flow on the engine (`src/contract/engine.ts`): the flow yields each call
 * that may block (a `SecItem*` call can wait on a keychain prompt) as a
 * {@linkcode secCall} step and receives its `OSStatus`. The engine's
 * `runSync` makes the calls on this thread; its `runAsync` makes them through
 * the FFI provider's `.async` under the store's deadline.
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
import type { Step } from "../../src/contract/engine.ts";
import type { FfiArgType, NativeFunction } from "../ffi/index.ts";
// Not re-exported by ffi/index.ts: the argument list a declared function takes.
import type { FfiArgValues } from "../ffi/index.ts";

/**
 * One blocking native call that returns an `OSStatus`, as a flow step: made
 * directly by `runSync`, through the provider's `.async` by
 * {@linkcode runAsync}. The arguments (buffers included) stay referenced by
 * the step until the call is over.
 */
export function secCall<const A extends readonly FfiArgType[]>(
  fn: NativeFunction<A, "i32">,
  ...args: FfiArgValues<A>
): Step<number> {
  return { sync: () => fn(...args), async: () => fn.async(...args) };
}
