/**
 * `authkeep doctor`: probes every backend on this machine (the file, the OS
 * keyring, process memory), says what works and why not, with the fix, and
 * prints the round-trip latency of each working backend.
 *
 * The probes never touch the real credentials: the file probe writes its own
 * uniquely named file in the home, the keyring probe its own entry (service
 * `authkeep doctor`, account `probe|<pid>-<random>`), and both are removed
 * afterwards, also on Ctrl-C.
 *
 * @module
 */
import { nodeFs } from "../contract/_node-builtins.ts";
import { join } from "node:path";
import type { AuthCredentialsStoreMode } from "../document/auth-types.ts";
import { DEFAULT_AUTH_FILE_NAME, DEFAULT_KEYRING_SERVICE } from "../storage/create-auth-storage.ts";
import { defaultKeyringStore } from "../keyring/default-keyring-store.ts";
import type { KeyringStore } from "../contract/keyring-store.ts";
import { computeStoreKey } from "../document/store-key.ts";
import type { CommonOptions } from "./_args.ts";
import { type EnvironmentFacts, environmentFacts } from "./_diagnose.ts";
import { EXIT, type ExitCode } from "./_exit.ts";
import { columns, formatMs, type Output } from "./_output.ts";
import { type BackendReport, cleanUpOnSignal, probeEphemeral, probeFile, probeKeyring } from "./_probes.ts";
import { type ErrorInfo, openStores } from "./_stores.ts";
import { checkEncryptedStore, type EncryptedStoreReport } from "./_encrypted-store.ts";

export { type BackendReport, type Latency, PROBE_SERVICE } from "./_probes.ts";

/** The help text of `authkeep doctor`. */
export const DOCTOR_HELP = `Usage: authkeep doctor [--home DIR] [--mode MODE] [--json] [--timeout MS] [--debug]

Probes each credentials backend on this machine (the auth.json file, the OS
keyring, process memory) with a throw-away entry of its own, and says what
works, why not, and how to fix it: FFI library or libsecret missing, no D-Bus
session bus, no Secret Service, no default keyring, a locked keyring, a
timeout. Prints the round-trip latency of each working backend.

The probe never reads or writes the real credentials: it uses the keyring
entry "authkeep doctor" / "probe|<pid>-<random>" and a hidden file in the
home, and removes both.

--timeout MS  deadline of each keyring call (default 5000)

Exit status: 0 when the configured mode (--mode, else
cli_auth_credentials_store in <home>/config.toml, else file) works here;
4 when it does not.`;

/** Whether a mode works here, and what it would use. */
export interface ModeReport {
  works: boolean;
  uses: "file" | "keyring" | "memory" | null;
  note?: string;
}

/** The JSON document `doctor --json` prints. */
export interface DoctorReport {
  command: "doctor";
  ok: boolean;
  home: string;
  mode: AuthCredentialsStoreMode;
  modeSource: CommonOptions["modeSource"];
  platform: { os: string; arch: string; runtime: string };
  environment: EnvironmentFacts;
  credentials: { file: string; keyring: { service: string; account: string } };
  backends: BackendReport[];
  /** Codex's encrypted auth store, when keyring modes use it here or it exists. */
  encryptedStore: EncryptedStoreReport | null;
  modes: Record<AuthCredentialsStoreMode, ModeReport>;
  warnings: string[];
}

/** Things the doctor can be given instead of the real ones (for tests of the CLI's own logic). */
export interface DoctorDeps {
  keyring?: KeyringStore;
  env?: Readonly<Record<string, string | undefined>>;
}

/** Runs `authkeep doctor`. */
export async function runDoctor(common: CommonOptions, out: Output, deps: DoctorDeps = {}): Promise<ExitCode> {
  const facts = environmentFacts(deps.env ?? process.env);
  const cleanups = new Set<() => Promise<void>>();
  const removeSignalHandlers = cleanUpOnSignal(cleanups);
  let backends: BackendReport[];
  let encryptedStore: EncryptedStoreReport | null = null;
  try {
    let stop = out.progress("probing auth.json");
    const file = await probeFile(common.home, cleanups);
    stop();
    stop = out.progress("probing the keyring");
    const keyring = await probeKeyring(deps.keyring ?? defaultKeyringStore({ timeoutMs: common.timeoutMs }), common.timeoutMs, facts, cleanups);
    stop();
    const ephemeral = await probeEphemeral(common.home);
    backends = [file, keyring, ephemeral];
    if (keyring.ok) {
      stop = out.progress("opening the encrypted auth store");
      const stores = openStores(common.home, common.timeoutMs, deps.keyring);
      encryptedStore = await checkEncryptedStore(stores, common.keyringBackend);
      stop();
    }
  } finally {
    removeSignalHandlers();
  }
  const modes = modeReports(backends);
  const warnings: string[] = [];
  warnings.push(...permissionWarnings(common.home));
  const configured = modes[common.mode];
  const report: DoctorReport = {
    command: "doctor",
    ok: configured.works,
    home: common.home,
    mode: common.mode,
    modeSource: common.modeSource,
    platform: { os: process.platform, arch: process.arch, runtime: runtimeName() },
    environment: facts,
    credentials: {
      file: join(common.home, DEFAULT_AUTH_FILE_NAME),
      keyring: { service: DEFAULT_KEYRING_SERVICE, account: computeStoreKey(common.home) },
    },
    backends,
    encryptedStore,
    modes,
    warnings,
  };
  if (out.json) out.document(report);
  else printReport(out, report);
  for (const warning of warnings) out.warning(warning);
  for (const backend of backends) {
    if (backend.cleanupFailed) out.warning(backend.cleanupFailed);
  }
  return configured.works ? EXIT.ok : EXIT.unavailable;
}

function modeReports(backends: BackendReport[]): Record<AuthCredentialsStoreMode, ModeReport> {
  const file = backends.find((b) => b.name === "file")!;
  const keyring = backends.find((b) => b.name === "keyring")!;
  const auto: ModeReport = keyring.ok
    ? { works: true, uses: "keyring" }
    : file.ok
    ? { works: true, uses: "file", note: "falls back to auth.json because the keyring does not work here; each save warns" }
    : { works: false, uses: null };
  return {
    file: { works: file.ok, uses: file.ok ? "file" : null },
    keyring: { works: keyring.ok, uses: keyring.ok ? "keyring" : null },
    auto,
    ephemeral: { works: true, uses: "memory", note: "nothing persists after the process exits" },
  };
}

function permissionWarnings(home: string): string[] {
  if (process.platform === "win32") return [];
  const path = join(home, DEFAULT_AUTH_FILE_NAME);
  try {
    const mode = nodeFs().statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) return [`${path} can be read by other users (mode ${mode.toString(8)}); run: chmod 600 ${path}`];
  } catch {
    // No file: nothing to check.
  }
  return [];
}

/** The platform's own words: the GError at the end of a libsecret message, else the kind and code. */
function errorDetail(error: ErrorInfo): string {
  const gerror = /\(([^()]*\[[\w-]+:-?\d+\])\)$/.exec(error.message)?.[1];
  if (gerror !== undefined) return gerror;
  const tags = [error.kind, error.code].filter((t) => t !== undefined).join(" ");
  return error.message.length <= 160 ? `${error.message}${tags ? ` [${tags}]` : ""}` : `${error.message.slice(0, 157)}…${tags ? ` [${tags}]` : ""} (--json shows it whole)`;
}

function runtimeName(): string {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions.bun) return `bun ${versions.bun}`;
  if (versions.deno) return `deno ${versions.deno}`;
  return `node ${process.version}`;
}

function printReport(out: Output, report: DoctorReport): void {
  const c = out.color;
  const mark = (ok: boolean) => (ok ? c.ok("✓") : c.bad("✗"));
  const source = { flag: "--mode", config: "config.toml", default: "default" }[report.modeSource];
  const facts = report.environment;
  out.line(`${c.bold("authkeep doctor")}  ${report.platform.os} ${report.platform.arch}, ${report.platform.runtime}`);
  out.line(`${c.bold("home")}  ${report.home}${nodeFs().existsSync(report.home) ? "" : c.dim(" (does not exist yet)")}`);
  out.line(`${c.bold("mode")}  ${report.mode} ${c.dim(`(${source})`)}`);
  out.line();
  if (facts.platform === "linux" || facts.platform === "freebsd" || facts.platform === "openbsd") {
    out.line(c.bold("Environment"));
    const bus = facts.dbusSessionBusAddress === null
      ? c.warn("not set")
      : `${facts.dbusSessionBusAddress}${facts.dbusSocketExists === false ? c.warn(" (socket missing)") : ""}`;
    const session = [facts.ssh ? "SSH" : "", facts.wsl ? "WSL" : "", facts.container ? "container" : ""].filter(Boolean).join(", ");
    for (const line of columns([
      ["DBUS_SESSION_BUS_ADDRESS", bus],
      ["display", facts.display ?? "none (headless)"],
      ["session", session || "local"],
      ["libsecret", facts.libsecret ?? c.warn("not found")],
    ])) out.line(line);
    out.line();
  }
  out.line(c.bold("Backends"));
  for (const backend of report.backends) {
    const label = backend.name === "keyring" ? `keyring (${backend.backend})` : backend.name;
    if (backend.ok && backend.latencyMs) {
      const l = backend.latencyMs;
      const where = backend.name === "file"
        ? `this home's credentials: ${report.credentials.file}`
        : backend.name === "keyring"
        ? `this home's credentials: "${report.credentials.keyring.service}" / ${report.credentials.keyring.account}`
        : undefined;
      out.line(
        `  ${mark(true)} ${label.padEnd(20)} works  round trip ${formatMs(l.total)} ${
          c.dim(`(save ${formatMs(l.save)} · load ${formatMs(l.load)} · delete ${formatMs(l.delete)}; first ${formatMs(l.first)})`)
        }`,
      );
      if (where !== undefined) out.line(c.dim(`      ${where}`));
    } else if (backend.problem) {
      out.line(`  ${mark(false)} ${label.padEnd(20)} ${backend.problem.summary}`);
      out.line(`      ${c.dim("why:")} ${backend.problem.reason}`);
      for (const [i, fix] of backend.problem.fix.entries()) out.line(`      ${c.dim(i === 0 ? "fix:" : "    ")} ${fix}`);
      if (backend.error && backend.error.message !== backend.problem.reason) out.line(c.dim(`      error: ${errorDetail(backend.error)}`));
    } else {
      out.line(`  ${mark(false)} ${label}`);
    }
    for (const note of backend.notes) out.line(c.dim(`      note: ${note}`));
  }
  const store = report.encryptedStore;
  if (store !== null) {
    out.line();
    out.line(`${c.bold("Encrypted auth store")} ${c.dim(store.selected ? "(used by keyring modes here)" : "(not selected: [features] secret_auth_storage is off)")}`);
    const state = store.state === "present" ? `${mark(true)} holds the CLI auth` : store.state === "absent" ? `${mark(true)} no CLI auth stored` : `${mark(false)} ${store.problem?.summary ?? store.state}`;
    out.line(`  ${state}`);
    out.line(c.dim(`      ${store.path}; passphrase "${store.passphrase.service}" / ${store.passphrase.account}`));
    if (store.problem) out.line(`      ${c.dim("fix:")} ${store.problem.fix}`);
  }
  out.line();
  out.line(c.bold("Modes"));
  for (const mode of ["file", "keyring", "auto", "ephemeral"] as const) {
    const m = report.modes[mode];
    const configured = mode === report.mode ? c.bold(" ← configured") : "";
    const uses = m.works ? `uses ${m.uses === "memory" ? "process memory" : m.uses === "file" ? "auth.json" : "the keyring"}` : "does not work here";
    out.line(`  ${mark(m.works)} ${mode.padEnd(10)} ${uses}${m.note ? c.dim(` (${m.note})`) : ""}${configured}`);
  }
  out.line();
  const configured = report.modes[report.mode];
  if (configured.works) {
    out.line(c.ok(`Mode ${report.mode} works on this machine.`));
  } else {
    const alternatives = (["auto", "file"] as const).filter((m) => m !== report.mode && report.modes[m].works);
    out.line(c.bad(`Mode ${report.mode} does not work on this machine.`) + (alternatives.length ? ` Use --mode ${alternatives[0]} or fix the problem above.` : ""));
  }
}
