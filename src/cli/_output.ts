/**
 * Output for the `authkeep` CLI: colour and progress only on a TTY, and
 * never with `NO_COLOR` (or `TERM=dumb`); `--json` on stdout, messages and
 * errors on stderr, and secrets only ever redacted.
 *
 * @module
 */
import { redact } from "../contract/_redact.ts";

/** A writable the CLI prints to (stdout, stderr, or a test double). */
export interface Sink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** Colour helpers; each returns its input unchanged when colour is off. */
export interface Palette {
  ok(text: string): string;
  bad(text: string): string;
  warn(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

/** Where and how a command prints. */
export interface Output {
  /** `--json`: the command prints one JSON document on stdout and nothing else there. */
  readonly json: boolean;
  /** Colours for human output on stdout. */
  readonly color: Palette;
  /** Colours for messages on stderr. */
  readonly errColor: Palette;
  /** Prints a line of human output on stdout (nothing in JSON mode). */
  line(text?: string): void;
  /** Prints the JSON document (JSON mode only). */
  document(value: unknown): void;
  /** Whether {@linkcode Output.document} has printed: `--json` prints exactly one document, failures included. */
  readonly documentPrinted: boolean;
  /** A warning on stderr (`authkeep: warning: …`), in both modes. */
  warning(text: string): void;
  /** A note on stderr (`authkeep: …`), in both modes. */
  note(text: string): void;
  /** An error on stderr (`authkeep: error: …`), in both modes. */
  error(text: string): void;
  /** Shows a transient progress line on a stderr TTY; returns the function that clears it. */
  progress(label: string): () => void;
}

/** Streams and environment an {@linkcode Output} is made from. */
export interface OutputOptions {
  json: boolean;
  stdout?: Sink;
  stderr?: Sink;
  env?: Readonly<Record<string, string | undefined>>;
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** Whether to colour a stream: a TTY, `NO_COLOR` unset or empty, and `TERM` not `dumb`. */
export function colorEnabled(stream: Sink, env: Readonly<Record<string, string | undefined>>): boolean {
  if (stream.isTTY !== true) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return env.TERM !== "dumb";
}

/** ANSI colours, or identity functions. */
export function palette(enabled: boolean): Palette {
  const wrap = (open: number, close: number) => (text: string) => (enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text);
  return { ok: wrap(32, 39), bad: wrap(31, 39), warn: wrap(33, 39), dim: wrap(2, 22), bold: wrap(1, 22) };
}

/** Creates the output for one command run. */
export function createOutput(options: OutputOptions): Output {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const json = options.json;
  const color = palette(!json && colorEnabled(stdout, env));
  const errColor = palette(colorEnabled(stderr, env));
  // The spinner redraws the line with control sequences: only on a terminal, and not with NO_COLOR either.
  const showProgress = !json && colorEnabled(stderr, env);
  let documentPrinted = false;
  return {
    json,
    color,
    errColor,
    get documentPrinted() {
      return documentPrinted;
    },
    line(text = "") {
      if (!json) stdout.write(`${text}\n`);
    },
    document(value) {
      if (!json || documentPrinted) return;
      documentPrinted = true;
      stdout.write(`${jsonForTerminal(value)}\n`);
    },
    // Messages may quote file contents or paths: never let them drive the terminal.
    warning(text) {
      stderr.write(`${errColor.warn("authkeep: warning:")} ${terminalSafe(text, true)}\n`);
    },
    note(text) {
      stderr.write(`authkeep: ${terminalSafe(text, true)}\n`);
    },
    error(text) {
      stderr.write(`${errColor.bad("authkeep: error:")} ${terminalSafe(text, true)}\n`);
    },
    progress(label) {
      if (!showProgress) return () => {};
      let frame = 0;
      const draw = () => stderr.write(`\r${errColor.dim(`${SPINNER[frame++ % SPINNER.length]} ${label}…`)}\u001b[K`);
      draw();
      const timer = setInterval(draw, 80);
      timer.unref?.();
      return () => {
        clearInterval(timer);
        stderr.write("\r\u001b[K");
      };
    },
  };
}

// C0 controls (ESC, BEL, CR, ... but not TAB), DEL, C1 controls, and the invisible
// characters that reorder or hide text (bidi overrides and isolates, line/paragraph separators).
// deno-lint-ignore no-control-regex
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from outside (token claims, file names, error messages) as it may be
 * shown on a terminal: each control character is written as a visible
 * `\x1b` / `\u202e` escape, so an email claim cannot clear the screen, ring
 * the bell, move the cursor or fake a line (`keepNewlines` for our own
 * multi-line messages). JSON output needs none of this:
 * JSON.stringify already escapes C0 controls, and a JSON reader sees text.
 */
export function terminalSafe(text: string, keepNewlines = false): string {
  return text.replace(UNSAFE, (c) => {
    if (keepNewlines && c === "\n") return c;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

// What JSON.stringify leaves raw but a terminal may still act on: DEL, C1 (0x9b is CSI), bidi and line separators.
const UNSAFE_IN_JSON = /[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `JSON.stringify(value, null, 2)` with the characters JSON leaves raw but a
 * terminal may act on written as `\uXXXX`: the same JSON value, safe to print
 * (they can only occur inside strings, so the replacement never touches syntax).
 */
export function jsonForTerminal(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A secret as the CLI shows it: the first four characters and `…` (just `…` when short). */
export function showSecret(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return redact(value);
}

/** Milliseconds with a sensible precision for a latency column. */
export function formatMs(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}

/** "in 3 h", "5 min ago": a coarse relative time. */
export function relativeTime(date: Date, now: number = Date.now()): string {
  const delta = date.getTime() - now;
  const abs = Math.abs(delta);
  const units: [number, string][] = [
    [86_400_000, "d"],
    [3_600_000, "h"],
    [60_000, "min"],
    [1000, "s"],
  ];
  let text = "now";
  for (const [size, name] of units) {
    if (abs >= size) {
      text = `${Math.floor(abs / size)} ${name}`;
      break;
    }
  }
  if (text === "now") return text;
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}

/** Left-aligned columns: each row's cells padded to the widest cell of that column (the last is not padded). */
export function columns(rows: readonly (readonly string[])[], indent = "  "): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell));
    });
  }
  return rows.map((row) =>
    (indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - visibleLength(cell)))).join("  ")).trimEnd()
  );
}

function visibleLength(text: string): number {
  // deno-lint-ignore no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, "").length;
}
