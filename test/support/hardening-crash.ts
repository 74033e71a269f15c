/**
 * The crash-safety trial, shared by test/crash-safety.test.ts and
 * bench/reliability.ts: a child saves auth.json in a loop, the parent kills it
 * with SIGKILL at a random moment, checks the file, and starts the next child.
 *
 * @module
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { parseAuthJson } from "../../src/document/auth-json.ts";
import { childCommand, childEnv, fixturePath, isTempFileName } from "./hardening-env.ts";
import { randomInt, seededRandom } from "./hardening-random.ts";

/** What one crash trial measured. */
export interface CrashFigures {
  kills: number;
  /** Kills after which auth.json did not parse, or held neither the old nor the new value. */
  tornFiles: number;
  /** Temp files found right after a kill (debris the next save must remove). */
  leftoverTempsAfterKills: number;
  /** Kills that landed while a save was in progress (`B` printed, no `S`). */
  killsDuringSave: number;
  /** Debris from an earlier kill still present after a later child completed a save. */
  tempsNotCleanedByNextSave: number;
  /** Temp files left after one last clean save (goal 0). */
  tempsAfterFinalSave: number;
  /** Human-readable descriptions of the first few problems (no secrets: markers only). */
  problems: string[];
}

type Child = ChildProcessByStdio<Writable, Readable, Readable>;

interface Started {
  child: Child;
  output: string[];
  ready: Promise<void>;
  closed: Promise<void>;
}

function start(home: string, style: string, padding: number, first: number): Started {
  const [command, args] = childCommand(fixturePath("hardening-saver"), [home, style, String(padding), String(first)]);
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], env: childEnv() });
  const output: string[] = [];
  let buffered = "";
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines) {
      if (line === "R") markReady();
      else output.push(line);
    }
  });
  child.stderr.resume();
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  // A child that dies before it is ready must not hang the trial.
  void closed.then(markReady);
  return { child, output, ready, closed };
}

function markerOf(home: string): string | undefined {
  const path = join(home, "auth.json");
  if (!existsSync(path)) return undefined;
  const auth = parseAuthJson(readFileSync(path, "utf8"));
  const marker = auth.marker;
  // A mix of two versions would show as a marker that disagrees with the tokens.
  if (typeof marker !== "string" || auth.tokens?.access_token !== `fake-access-${marker}`) {
    throw new Error("auth.json mixes two versions");
  }
  return marker;
}

function tempFiles(home: string): string[] {
  return readdirSync(home).filter((name) => isTempFileName(name));
}

/**
 * Runs `kills` kill-and-check rounds on `home`.
 *
 * @param home An empty directory.
 * @param kills How many children to kill.
 * @param seed The PRNG seed for delays, sizes and sync/async styles.
 * @param finalSave Saves once more at the end (in a child that exits normally) and counts temps left.
 */
export async function runCrashTrial(home: string, kills: number, seed: number): Promise<CrashFigures> {
  const random = seededRandom(seed);
  const figures: CrashFigures = {
    kills: 0,
    tornFiles: 0,
    leftoverTempsAfterKills: 0,
    killsDuringSave: 0,
    tempsNotCleanedByNextSave: 0,
    tempsAfterFinalSave: 0,
    problems: [],
  };
  const styles = ["sync", "async", "mixed"];
  const plan = (): [string, number] => [
    styles[randomInt(random, 0, 2)]!,
    // Sizes from tiny to a few hundred KiB, so kills also land inside long writes.
    random() < 0.5 ? randomInt(random, 0, 2_000) : randomInt(random, 2_000, 300_000),
  ];
  let committed: number | undefined; // The last sequence number known to be fully saved.
  let nextFirst = 1;
  let debris: string[] = [];
  let [style, padding] = plan();
  let current = start(home, style, padding, nextFirst);
  for (let round = 0; round < kills; round++) {
    await current.ready;
    current.child.stdin.write("go\n");
    // Start the next child now: its start-up overlaps this one's run.
    nextFirst += 1_000_000;
    [style, padding] = plan();
    const next = round + 1 < kills ? start(home, style, padding, nextFirst) : undefined;
    // Mostly within the first few saves (about 10-20 ms each), sometimes right away.
    await delay(random() < 0.1 ? 0 : randomInt(random, 1, 60));
    current.child.kill("SIGKILL");
    await current.closed;
    figures.kills++;

    let begun: number | undefined;
    let saved: number | undefined;
    for (const line of current.output) {
      const [kind, seq] = line.split(" ");
      if (kind === "B") begun = Number(seq);
      if (kind === "S") saved = Number(seq);
    }
    if (begun !== undefined && begun !== saved) figures.killsDuringSave++;
    const allowed = new Set<number | undefined>([saved ?? committed]);
    if (begun !== undefined && begun !== saved) allowed.add(begun);
    try {
      const marker = markerOf(home);
      const seq = marker === undefined ? undefined : Number(marker.slice("seq-".length));
      if (!allowed.has(seq)) throw new Error(`auth.json holds version ${marker}, expected one of ${[...allowed].join(", ")}`);
      committed = seq;
    } catch (error) {
      figures.tornFiles++;
      if (figures.problems.length < 5) figures.problems.push(`round ${round}: ${(error as Error).message}`);
    }
    // Debris of earlier kills must be gone once this child completed a save.
    const temps = tempFiles(home);
    if (saved !== undefined) {
      const survivors = debris.filter((name) => temps.includes(name));
      figures.tempsNotCleanedByNextSave += survivors.length;
      debris = [];
    }
    figures.leftoverTempsAfterKills += temps.length;
    debris.push(...temps.filter((name) => !debris.includes(name)));
    if (next === undefined) break;
    current = next;
  }
  figures.tempsAfterFinalSave = await finalSave(home);
  return figures;
}

/** Saves once in a child that is not killed, and returns how many temp files remain. */
async function finalSave(home: string): Promise<number> {
  const last = start(home, "sync", 0, 999_999_999);
  await last.ready;
  last.child.stdin.write("go\n");
  while (!last.output.includes("S 999999999")) {
    if (last.child.exitCode !== null) break;
    await delay(5);
  }
  last.child.kill("SIGKILL");
  await last.closed;
  // The child may have begun a second save when it was stopped; only count debris of older writers.
  return tempFiles(home).filter((name) => !name.includes(`.${last.child.pid}.`)).length;
}
