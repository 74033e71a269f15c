/**
 * The report model, the Markdown tables and `bench/results/latest.{json,md}`.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { readFileSync, mkdirSync, writeFileSync, renameSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import type { Measured, TaskOutcome } from "./_harness.ts";

/** One measured (or unmeasurable) row. */
export interface Row {
  name: string;
  measured?: Measured;
  /** Why the row has no figures ("unavailable: ..."). */
  unavailable?: string;
  note?: string;
}

/**
 * A comparison measured in the same run: `value` is subject ÷ baseline of the
 * medians (unit "×"), or subject − baseline of the medians (unit "ms").
 */
export interface Comparison {
  name: string;
  subject: string;
  baseline: string;
  unit: "×" | "ms" | "count";
  value: number | null;
  /** The goal: `value` must be ≤ goal. */
  goal?: number;
  met?: boolean | null;
  note?: string;
}

/** A section of the report (file, keyring, codec, ...). */
export interface Section {
  id: string;
  title: string;
  rows: Row[];
  comparisons: Comparison[];
  notes: string[];
  /** Raw text from an external benchmark (refresh storm), shown verbatim. */
  raw?: string;
  /** Whether `raw` is Markdown to include as is (otherwise it is shown as a code block). */
  rawIsMarkdown?: boolean;
}

/** A new empty section. */
export function section(id: string, title: string): Section {
  return { id, title, rows: [], comparisons: [], notes: [] };
}

/** Adds rows from a group's outcomes, in the given order. */
export function addOutcomes(target: Section, outcomes: Map<string, TaskOutcome>): void {
  for (const [name, outcome] of outcomes) {
    target.rows.push(outcome.ok ? { name, measured: outcome.measured } : { name, unavailable: `failed: ${outcome.error}` });
  }
}

/** Adds a median ratio (or difference) of two rows of the section. */
export function compare(
  target: Section,
  name: string,
  subject: string,
  baseline: string,
  options: { goal?: number; unit?: "×" | "ms" | "count"; note?: string } = {},
): Comparison {
  const unit = options.unit ?? "×";
  const a = target.rows.find((row) => row.name === subject)?.measured;
  const b = target.rows.find((row) => row.name === baseline)?.measured;
  let value: number | null = null;
  if (a && b) value = unit === "×" ? a.medianMs / b.medianMs : unit === "ms" ? a.medianMs - b.medianMs : a.medianMs;
  const comparison: Comparison = { name, subject, baseline, unit, value };
  if (options.goal !== undefined) {
    comparison.goal = options.goal;
    comparison.met = value === null ? null : value <= options.goal;
  }
  if (options.note !== undefined) comparison.note = options.note;
  target.comparisons.push(comparison);
  return comparison;
}

/** The machine and runtime the figures come from. */
export interface Environment {
  date: string;
  quick: boolean;
  machine: { cpu: string; cores: number; memoryGiB: number; os: string; kernel: string; loadAverageAtStart: number[] };
  runtime: Record<string, string>;
  commit: string;
}

/** Collects machine facts and the versions of everything measured. */
export function describeEnvironment(root: string, quick: boolean): Environment {
  const cpus = os.cpus();
  const runtime: Record<string, string> = { node: process.versions.node, v8: process.versions.v8 };
  for (const pkg of ["typescript", "tinybench", "koffi", "@napi-rs/keyring", "write-file-atomic"]) {
    runtime[pkg] = packageVersion(join(root, "node_modules", pkg, "package.json"));
  }
  runtime.keytar = packageVersion(join(root, ".cache/bench-anchors/node_modules/keytar/package.json"));
  // It prints "gnome-keyring-daemon: 42.1" and then a "testing: enabled" line.
  runtime["gnome-keyring"] = (command("gnome-keyring-daemon", ["--version"]).split("\n")[0] ?? "").replace(/^gnome-keyring-daemon:\s*/, "");
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own field syntax, not a template
  runtime.libsecret = command("dpkg-query", ["-W", "-f=${Version}", "libsecret-1-0"]);
  runtime.dbus = command("dbus-daemon", ["--version"]).split("\n")[0] ?? "unknown";
  return {
    date: new Date().toISOString(),
    quick,
    machine: {
      cpu: `${cpus[0]?.model ?? "unknown"}`.trim(),
      cores: cpus.length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      os: `${os.type()} ${prettyOs()}`.trim(),
      kernel: os.release(),
      loadAverageAtStart: os.loadavg().map((value) => Math.round(value * 100) / 100),
    },
    runtime,
    commit: command("git", ["-C", root, "rev-parse", "--short", "HEAD"]),
  };
}

function packageVersion(path: string): string {
  try {
    return (JSON.parse(readFileSync(path, "utf8")) as { version?: string }).version ?? "unknown";
  } catch {
    return "not installed";
  }
}

function command(file: string, args: string[]): string {
  try {
    return execFileSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5000 }).trim();
  } catch {
    return "unknown";
  }
}

function prettyOs(): string {
  try {
    const text = readFileSync("/etc/os-release", "utf8");
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? "";
  } catch {
    return "";
  }
}

/** Formats milliseconds with a unit that keeps 3 significant digits. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  const sign = ms < 0 ? "−" : "";
  const size = Math.abs(ms);
  if (size < 1) return `${sign}${(size * 1000).toPrecision(3)} µs`;
  if (size < 1000) return `${sign}${size.toPrecision(3)} ms`;
  return `${sign}${(size / 1000).toPrecision(3)} s`;
}

function formatOps(ops: number): string {
  if (ops >= 100) return Math.round(ops).toLocaleString("en-US");
  return ops.toPrecision(3);
}

function formatComparison(comparison: Comparison): string {
  if (comparison.value === null) return "n/a";
  if (comparison.unit === "count") return String(comparison.value);
  return comparison.unit === "×" ? `${comparison.value.toFixed(2)}×` : `${comparison.value >= 0 ? "+" : ""}${formatMs(comparison.value)}`;
}

function formatGoal(comparison: Comparison): string {
  if (comparison.goal === undefined) return "";
  if (comparison.unit === "count") return `= ${comparison.goal}`;
  return comparison.unit === "×" ? `≤ ${comparison.goal}×` : `≤ +${formatMs(comparison.goal)}`;
}

function formatMet(comparison: Comparison): string {
  if (comparison.met === undefined) return "";
  if (comparison.met === null) return "not measured";
  return comparison.met ? "yes" : "**no**";
}

/** The whole report as Markdown. */
export function renderMarkdown(environment: Environment, sections: Section[]): string {
  const lines: string[] = [];
  const { machine, runtime } = environment;
  lines.push(`# authkeep benchmarks${environment.quick ? " (quick mode: few iterations, figures not meaningful)" : ""}`);
  lines.push("");
  lines.push(`- date: ${environment.date} (commit ${environment.commit})`);
  lines.push(`- machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}, kernel ${machine.kernel}, load average at start ${machine.loadAverageAtStart.join(" / ")}`);
  lines.push(`- runtime: ${Object.entries(runtime).map(([name, version]) => `${name} ${version}`).join(", ")}`);
  lines.push("- reproduce: `npm install && npm run bench` (starts and stops its own private gnome-keyring)");
  lines.push("- ratios compare medians measured in the same run; ops/s = 1000 / mean latency");
  lines.push("");
  const goals = sections.flatMap((part) => part.comparisons.filter((comparison) => comparison.goal !== undefined).map((comparison) => ({ part, comparison })));
  if (goals.length > 0) {
    lines.push("## Goals");
    lines.push("");
    lines.push("| section | comparison | measured | goal | met? |");
    lines.push("|---|---|---:|---:|---|");
    for (const { part, comparison } of goals) {
      lines.push(`| ${part.title} | ${comparison.name} | ${formatComparison(comparison)} | ${formatGoal(comparison)} | ${formatMet(comparison)} |`);
    }
    lines.push("");
  }
  for (const part of sections) {
    lines.push(`## ${part.title}`);
    lines.push("");
    if (part.rows.length > 0) {
      lines.push("| row | median | p99 | ops/s | samples |");
      lines.push("|---|---:|---:|---:|---:|");
      for (const row of part.rows) {
        const note = row.note ? ` (${row.note})` : "";
        if (row.measured) {
          const m = row.measured;
          lines.push(`| ${row.name}${note} | ${formatMs(m.medianMs)} | ${formatMs(m.p99Ms)} | ${formatOps(m.opsPerSec)} | ${m.samples} |`);
        } else {
          lines.push(`| ${row.name}${note} | ${escapeCell(row.unavailable ?? "unavailable")} | | | |`);
        }
      }
      lines.push("");
    }
    if (part.comparisons.length > 0) {
      lines.push("| comparison (same run) | measured | goal | met? |");
      lines.push("|---|---:|---:|---|");
      for (const comparison of part.comparisons) {
        const note = comparison.note ? ` (${comparison.note})` : "";
        lines.push(`| ${comparison.name}${note} | ${formatComparison(comparison)} | ${formatGoal(comparison)} | ${formatMet(comparison)} |`);
      }
      lines.push("");
    }
    for (const note of part.notes) lines.push(`- ${note}`);
    if (part.notes.length > 0) lines.push("");
    if (part.raw !== undefined && part.raw.trim() !== "") {
      if (!part.rawIsMarkdown) lines.push("```");
      lines.push(part.raw.trim());
      if (!part.rawIsMarkdown) lines.push("```");
      lines.push("");
    }
  }
  return `${lines.join("\n")}\n`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** Writes `latest.json` and `latest.md` atomically (a crash never leaves half a report). */
export function writeResults(directory: string, environment: Environment, sections: Section[], markdown: string): void {
  mkdirSync(directory, { recursive: true });
  const json = `${JSON.stringify({ environment, sections }, null, 2)}\n`;
  replace(join(directory, "latest.json"), json);
  replace(join(directory, "latest.md"), markdown);
}

function replace(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}
