/**
 * Private helpers that keep secrets out of `util.inspect`, `console.log` and
 * `JSON.stringify` of our objects.
 *
 * @module
 */

/** The symbol `util.inspect` (Node, Bun and Deno's Node layer) looks for. */
export const inspectSymbol: unique symbol = Symbol.for("nodejs.util.inspect.custom") as never;

/**
 * Shortens a secret to its first four characters and an ellipsis, for
 * messages that must show *which* value is meant without showing it.
 */
export function redact(value: string | null | undefined): string {
  if (value === null || value === undefined) return String(value);
  if (value.length <= 8) return "…";
  return `${value.slice(0, 4)}…`;
}
