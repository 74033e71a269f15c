/**
 * The concurrent-access trial, shared by test/concurrent-access.test.ts and
 * bench/reliability.ts: several processes save and load one home at once.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { childCommand, childEnv, fixturePath, isTempFileName } from "./hardening-env.ts";

/** What one concurrent-access trial measured. */
export interface ConcurrencyFigures {
  processes: number;
  operations: number;
  saves: number;
  loads: number;
  rawReads: number;
  /** Loads through the storage API that threw AuthFormatError (goal 0). */
  parseFailures: number;
  /** Single raw reads that did not parse (goal 0: renames are atomic). */
  rawParseFailures: number;
  /** Documents that mixed two writers' values (goal 0). */
  mixedVersions: number;
  /** Any other error, by name and code (goal none). */
  otherErrors: string[];
  /** Temp files left when every process is done (goal 0). */
  leftoverTemps: number;
}

/** Runs `processes` workers with `opsPerProcess` operations each on `home`, in `mode`. */
export async function runConcurrencyTrial(
  home: string,
  processes: number,
  opsPerProcess: number,
  seed: number,
  mode: "file" | "keyring" | "auto" = "file",
): Promise<ConcurrencyFigures> {
  const runs = Array.from({ length: processes }, (_, id) =>
    new Promise<string>((resolve, reject) => {
      const [command, args] = childCommand(fixturePath("hardening-worker"), [home, String(id), String(opsPerProcess), String(seed), mode]);
      const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: childEnv() });
      let out = "";
      let err = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
      child.once("error", reject);
      child.once("close", (code) => {
        if (code === 0) resolve(out);
        else reject(new Error(`worker ${id} exited with ${code}: ${err.slice(0, 2000)}`));
      });
    }));
  const figures: ConcurrencyFigures = {
    processes,
    operations: processes * opsPerProcess,
    saves: 0,
    loads: 0,
    rawReads: 0,
    parseFailures: 0,
    rawParseFailures: 0,
    mixedVersions: 0,
    otherErrors: [],
    leftoverTemps: 0,
  };
  for (const out of await Promise.all(runs)) {
    const summary = JSON.parse(out) as Omit<ConcurrencyFigures, "processes" | "operations" | "leftoverTemps">;
    figures.saves += summary.saves;
    figures.loads += summary.loads;
    figures.rawReads += summary.rawReads;
    figures.parseFailures += summary.parseFailures;
    figures.rawParseFailures += summary.rawParseFailures;
    figures.mixedVersions += summary.mixedVersions;
    figures.otherErrors.push(...summary.otherErrors);
  }
  figures.leftoverTemps = readdirSync(home).filter((name) => isTempFileName(name)).length;
  return figures;
}
