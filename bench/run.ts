/**
 * The benchmark suite's entry: `node dist/bench/run.js [--quick] [--only a,b] [--out dir]`.
 * Use `npm run bench` (scripts/bench.sh), which builds and starts a private
 * keyring first.
 *
 * Prints the Markdown report and writes `latest.json` and `latest.md` to
 * bench/results/ (quick runs go to .cache/bench/quick/ and partial ones to
 * .cache/bench/partial/, so CI and a run of a few parts never touch
 * the committed figures). Never asserts times; a row that cannot run says why.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runAutoKeyringDown, runAutoKeyringUp } from "./auto.ts";
import { type BenchContext, repositoryRoot } from "./_context.ts";
import { runCodec } from "./codec.ts";
import { runColdStart } from "./cold-start.ts";
import { measureOtherRuntimes, parseRefreshStorm, parseReliability, runExternal } from "./external.ts";
import { runFile } from "./file.ts";
import { benchConfig, describeError } from "./_harness.ts";
import { runKeyring } from "./keyring.ts";
import { runKeyringSize } from "./keyring-size.ts";
import { runSecrets } from "./secrets.ts";
import { measureWindowsUnderWine } from "./windows-wine.ts";
import { describeEnvironment, type Environment, renderMarkdown, section, type Section, writeResults } from "./_report.ts";

const BENCH_JSON = "BENCH_JSON ";
const thisFile = fileURLToPath(import.meta.url);

interface Options {
  quick: boolean;
  child?: string;
  /** Re-render latest.md from a latest.json (after a change to the report layout). */
  render?: string;
  only?: Set<string>;
  out?: string;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { quick: process.env.BENCH_QUICK === "1" };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--quick") options.quick = true;
    else if (arg === "--child") options.child = argv[++i];
    else if (arg === "--only") options.only = new Set((argv[++i] ?? "").split(","));
    else if (arg === "--out") options.out = argv[++i];
    else if (arg === "--render") options.render = argv[++i];
    else if (arg === "--help" || arg === "-h") {
      process.stdout.write("usage: node dist/bench/run.js [--quick] [--render results/latest.json] [--only file,codec,keyring,secrets,auto,cold-start,keyring-size,refresh-storm,codex-race,reliability,wine,runtimes] [--out dir]\n");
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  return options;
}

/** The parts that run in a child process, by id. */
const CHILD_PARTS: Record<string, (context: BenchContext) => Promise<Section[]>> = {
  "auto-down": runAutoKeyringDown,
  "keyring-size": runKeyringSize,
};

/** Runs one part in a child process (another environment) and returns its sections. */
function inChild(context: BenchContext, part: string, command: string[], env: NodeJS.ProcessEnv, title: string, timeoutMs: number): Section[] {
  const args = [...command, process.execPath, thisFile, "--child", part, ...(context.config.quick ? ["--quick"] : [])];
  const [file, ...rest] = args;
  const child = spawnSync(file!, rest, { cwd: context.root, env, encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  const line = (child.stdout ?? "").split("\n").find((text) => text.startsWith(BENCH_JSON));
  if (line) return JSON.parse(line.slice(BENCH_JSON.length)) as Section[];
  const failed = section(part, title);
  const reason = child.error?.message ?? ((child.stderr ?? "").trim().split("\n").slice(-3).join(" ") || `exit ${child.status ?? child.signal}`);
  failed.rows.push({ name: part, unavailable: `unavailable: child failed: ${reason}` });
  return [failed];
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const root = repositoryRoot(import.meta.url);
  const context: BenchContext = { config: benchConfig(options.quick), root, keyringUp: Boolean(process.env.DBUS_SESSION_BUS_ADDRESS) };

  if (options.render !== undefined) {
    const saved = JSON.parse(readFileSync(options.render, "utf8")) as { environment: Environment; sections: Section[] };
    const markdown = renderMarkdown(saved.environment, saved.sections);
    writeResults(dirname(options.render), saved.environment, saved.sections, markdown);
    process.stdout.write(markdown);
    return;
  }

  if (options.child !== undefined) {
    const part = CHILD_PARTS[options.child];
    if (!part) throw new Error(`unknown child part ${options.child}`);
    const sections = await part(context);
    process.stdout.write(`${BENCH_JSON}${JSON.stringify(sections)}\n`);
    return;
  }

  const wanted = (id: string) => options.only === undefined || options.only.has(id);
  const environment = describeEnvironment(root, options.quick);
  const sections: Section[] = [];
  const started = performance.now();
  const part = async (id: string, title: string, run: () => Promise<Section[]> | Section[]): Promise<void> => {
    if (!wanted(id)) return;
    const partStarted = performance.now();
    process.stderr.write(`bench: ${id} ...`);
    try {
      sections.push(...(await run()));
    } catch (error) {
      const failed = section(id, title);
      failed.rows.push({ name: id, unavailable: `failed: ${describeError(error)}` });
      sections.push(failed);
    }
    process.stderr.write(` ${((performance.now() - partStarted) / 1000).toFixed(1)} s\n`);
  };

  await part("file", "file", () => runFile(context));
  await part("codec", "codec", () => runCodec(context));
  await part("keyring", "keyring", () => runKeyring(context));
  await part("secrets", "encrypted auth store", () => runSecrets(context));
  await part("auto", "auto mode", async () => [
    ...(await runAutoKeyringUp(context)),
    // A bus address whose socket does not exist: libsecret fails to connect, as on a box without a Secret Service.
    ...inChild(context, "auto-down", [], { ...process.env, DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/authkeep-bench-bus" }, "auto mode: keyring unavailable", 300_000),
  ]);
  await part("cold-start", "cold start", () => runColdStart(context));
  await part("keyring-size", "keyring size", () =>
    inChild(context, "keyring-size", ["bash", join(root, "scripts/with-keyring.sh")], childEnvWithoutKeyring(), "keyring size", 900_000));
  await part("refresh-storm", "refresh storm", () =>
    runExternal(context, "refresh-storm", "refresh storm (bench/refresh-storm.ts)", {
      quickArgs: ["--runs=1", "--workers=3", "--delay=50"],
      timeoutMs: context.config.quick ? 60_000 : 900_000,
      parse: parseRefreshStorm,
    }));
  await part("codex-race", "refresh race with the real Codex CLI", () =>
    runExternal(context, "codex-race", "refresh race with the real Codex CLI (bench/codex-race.ts)", {
      quickArgs: ["--runs=1", "--modes=file"],
      timeoutMs: context.config.quick ? 120_000 : 1_800_000,
      markdown: true,
    }));
  await part("reliability", "reliability", () =>
    runExternal(context, "reliability", "reliability (bench/reliability.ts)", {
      timeoutMs: 1_200_000,
      skipInQuick: "its crash, concurrency and fuzz trials take minutes; npm test covers the same goals",
      markdown: true,
      parse: parseReliability,
    }));
  await part("wine", "Windows under Wine", () => measureWindowsUnderWine(context));
  await part("runtimes", "Bun and Deno", () => measureOtherRuntimes(context));

  const markdown = renderMarkdown(environment, sections);
  // Only a full run replaces the committed results: a quick or partial (--only) run would otherwise
  // overwrite them with a few sections.
  const out = options.out ??
    (options.quick ? join(root, ".cache/bench/quick") : options.only ? join(root, ".cache/bench/partial") : join(root, "bench/results"));
  writeResults(out, environment, sections, markdown);
  process.stdout.write(markdown);
  process.stderr.write(`bench: done in ${((performance.now() - started) / 1000).toFixed(1)} s; wrote ${join(out, "latest.json")} and latest.md\n`);
}

/** The environment without the suite's keyring, so with-keyring.sh starts a fresh one. */
function childEnvWithoutKeyring(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ["KR_DIR", "KR_DBUS_PID", "KR_GKD_PID", "DBUS_SESSION_BUS_ADDRESS"]) delete env[name];
  return env;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
