/**
 * Private helpers that keep secrets out of `util.inspect`, `console.log` and
 * `JSON.stringify` of our objects, and out of text a server sends back.
 *
 * @module
 */

/** The symbol `util.inspect` (Node, Bun and Deno's Node layer) looks for. */
export const inspectSymbol: unique symbol = Symbol.for("nodejs.util.inspect.custom") as never;

/** What a scrubbed secret is replaced with. */
export const REDACTED = "[redacted]";

/**
 * Shortens a secret to its first four characters and an ellipsis, for
 * messages that must show *which* value is meant without showing it.
 */
export function redact(value: string | null | undefined): string {
  if (value === null || value === undefined) return String(value);
  if (value.length <= 8) return "…";
  return `${value.slice(0, 4)}…`;
}

const SHORT_ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

/**
 * Text with its JSON string escapes decoded (`\/`, `\u00xx`, `\n`…), and for
 * each decoded character where it started in the raw text: a server may
 * echo a token in any escaping, and we must find it in every one.
 */
function decodeEscapes(raw: string): { text: string; starts: Int32Array } {
  const starts = new Int32Array(raw.length + 1);
  let text = "";
  let n = 0;
  for (let i = 0; i < raw.length; ) {
    starts[n++] = i;
    if (raw[i] === "\\" && i + 1 < raw.length) {
      const next = raw[i + 1]!;
      if (next === "u" && /^[0-9a-fA-F]{4}$/.test(raw.slice(i + 2, i + 6))) {
        text += String.fromCharCode(Number.parseInt(raw.slice(i + 2, i + 6), 16));
        i += 6;
        continue;
      }
      if (next in SHORT_ESCAPES) {
        text += SHORT_ESCAPES[next];
        i += 2;
        continue;
      }
    }
    text += raw[i];
    i += 1;
  }
  starts[n] = raw.length;
  return { text, starts: starts.subarray(0, n + 1) };
}

/** Replaces the raw ranges `[start, end)` (merged when they touch) with {@link REDACTED}. */
function replaceRanges(raw: string, ranges: Array<[number, number]>): string {
  if (ranges.length === 0) return raw;
  ranges.sort((a, b) => a[0] - b[0]);
  let out = "";
  let at = 0;
  for (let k = 0; k < ranges.length; k++) {
    const start = ranges[k]![0];
    let end = ranges[k]![1];
    while (k + 1 < ranges.length && ranges[k + 1]![0] <= end) end = Math.max(end, ranges[++k]![1]);
    out += raw.slice(at, start) + REDACTED;
    at = end;
  }
  return out + raw.slice(at);
}

/**
 * Removes every occurrence of each secret from `raw`, raw or JSON-escaped in
 * any mix (`\/`, `\u00xx`), whatever its length. Linear in `raw` per secret
 * (a plain `indexOf` over the decoded text), so a 1 MiB body costs little.
 */
export function scrubSecrets(raw: string, secrets: readonly string[]): string {
  const wanted = secrets.filter((s) => s.length > 0);
  if (wanted.length === 0 || raw.length === 0) return raw;
  const { text, starts } = decodeEscapes(raw);
  const ranges: Array<[number, number]> = [];
  for (const secret of wanted) {
    for (let i = text.indexOf(secret); i !== -1; i = text.indexOf(secret, i + 1)) {
      ranges.push([starts[i]!, starts[i + secret.length]!]);
    }
  }
  return replaceRanges(raw, ranges);
}

/** The shortest piece of a secret that {@linkcode scrubFragments} removes. */
export const FRAGMENT_LENGTH = 8;

/**
 * Removes any piece of a secret, {@link FRAGMENT_LENGTH} characters or
 * longer, in any case and escaping: what is left of a token that a length cap
 * cut in half, or that a server quoted in part. For short texts (messages):
 * it costs one set lookup per character.
 */
export function scrubFragments(raw: string, secrets: readonly string[]): string {
  const grams = new Set<string>();
  for (const secret of secrets) {
    const lower = secret.toLowerCase();
    for (let i = 0; i + FRAGMENT_LENGTH <= lower.length; i++) grams.add(lower.slice(i, i + FRAGMENT_LENGTH));
  }
  if (grams.size === 0 || raw.length === 0) return raw;
  const { text, starts } = decodeEscapes(raw);
  const lower = text.toLowerCase();
  const ranges: Array<[number, number]> = [];
  for (let i = 0; i + FRAGMENT_LENGTH <= lower.length; i++) {
    if (grams.has(lower.slice(i, i + FRAGMENT_LENGTH))) ranges.push([starts[i]!, starts[i + FRAGMENT_LENGTH]!]);
  }
  return replaceRanges(raw, ranges);
}
