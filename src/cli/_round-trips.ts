/**
 * The doctor's round trips: save → load → delete of a throw-away entry, a few
 * times, timed, with a typed error when the entry does not read back.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Buffer } from "node:buffer";
import type { AuthStorage } from "../storage/auth-storage.ts";
import type { AuthDotJson } from "../document/auth-types.ts";
import { serializeAuthJson } from "../document/auth-json.ts";
import type { KeyringProblem } from "./_diagnose.ts";

/** Round-trip timings of a working backend, in milliseconds. */
export interface Latency {
  /** Median of the warm round trips. */
  save: number;
  load: number;
  delete: number;
  /** save + load + delete. */
  total: number;
  /** The first round trip, which also loads the libraries and connects. */
  first: number;
}

/** A probe's problem: a keyring problem, or one of the file and memory probes' own. */
export type ProbeProblem = KeyringProblem | { id: string; summary: string; reason: string; fix: string[] };

export function uniqueSuffix(): string {
  return `${process.pid}-${randomBytes(6).toString("hex")}`;
}

/** A realistic login (about 3.5 KB, like a ChatGPT auth.json) made of random bytes: sizes matter on Windows. */
export function probeAuth(): AuthDotJson {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const jwt = (claims: Record<string, unknown>) => `${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.${randomBytes(256).toString("base64url")}`;
  const filler = randomBytes(600).toString("base64url");
  return {
    auth_mode: "chatgpt",
    OPENAI_API_KEY: null,
    tokens: {
      id_token: jwt({ email: "probe@authkeep.invalid", filler, "https://api.openai.com/auth": { chatgpt_account_id: "probe" } }),
      access_token: jwt({ exp: Math.floor(Date.now() / 1000) + 3600, filler }),
      refresh_token: `probe-${randomBytes(48).toString("base64url")}`,
      account_id: "probe",
    },
    last_refresh: new Date().toISOString(),
  };
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

/** Round trips per probe: the first pays for loading libraries and connecting; the others are the steady state. */
const ROUNDS = 3;

/** A probe entry that did not read back what was written. */
export class ReadBackError extends Error {
  readonly problem: ProbeProblem;
  constructor(problem: ProbeProblem) {
    super(problem.summary);
    this.name = "ReadBackError";
    this.problem = problem;
  }
}

/** One backend's three operations on its probe entry. */
export interface ProbeOps {
  save(): Promise<void>;
  /** Reads the entry back; throws {@linkcode ReadBackError} when it differs. */
  verify(): Promise<void>;
  remove(): Promise<boolean>;
}

/** Runs {@linkcode ROUNDS} save → load → delete round trips; reports the median of the warm ones and the first. */
export async function roundTrips(ops: ProbeOps, onStage: (stage: "save" | "load" | "delete") => void): Promise<Latency> {
  const runs: [number, number, number][] = [];
  for (let round = 0; round < ROUNDS; round++) {
    onStage("save");
    const [, save] = await timed(() => ops.save());
    onStage("load");
    const [, load] = await timed(() => ops.verify());
    onStage("delete");
    const [removed, del] = await timed(() => ops.remove());
    if (!removed) {
      throw new ReadBackError({
        id: "read-back-mismatch",
        summary: "the probe entry was gone before it was deleted",
        reason: "Something else removed it between the save and the delete, or the store dropped it.",
        fix: ["run `authkeep doctor` again; if it persists, use --mode file"],
      });
    }
    runs.push([save, load, del]);
  }
  const warm = runs.length > 1 ? runs.slice(1) : runs;
  const median = (i: 0 | 1 | 2) => {
    const sorted = warm.map((run) => run[i]).sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  const [save, load, del] = [median(0), median(1), median(2)];
  const first = runs[0]!;
  return { save, load, delete: del, total: save + load + del, first: first[0] + first[1] + first[2] };
}

export function mismatch(what: string, loaded: string | null, expected: string): ReadBackError {
  return new ReadBackError({
    id: "read-back-mismatch",
    summary: loaded === null ? `${what} accepted the probe entry but returned nothing for it` : `${what} returned something else than what was stored`,
    reason:
      loaded === null
        ? "A locked keyring, or one without a default collection, can silently drop reads."
        : `The value came back changed (${loaded.length} characters instead of ${expected.length}).`,
    fix: ["run `authkeep doctor` again; if it persists, use --mode file"],
  });
}

/** The probe operations of an {@linkcode AuthStorage} (file or ephemeral mode). */
export function storageOps(storage: AuthStorage, auth: AuthDotJson, what: string): ProbeOps {
  const expected = serializeAuthJson(auth);
  return {
    save: () => storage.save(auth),
    verify: async () => {
      const loaded = await storage.load();
      const text = loaded === null ? null : serializeAuthJson(loaded);
      if (text !== expected) throw mismatch(what, text, expected);
    },
    remove: () => storage.delete(),
  };
}
