/**
 * The one constructor step the error classes share: the `ErrorOptions` to
 * pass to `super()`, with a `cause` only when there is one, so that
 * `"cause" in error` stays false for an error without one.
 *
 * @module
 */

/** `{ cause }` for `super(message, …)`, or `undefined` when `options.cause` is unset. */
export function superOptions(options: { cause?: unknown }): ErrorOptions | undefined {
  return options.cause === undefined ? undefined : { cause: options.cause };
}
