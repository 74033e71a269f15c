/**
 * Why a keyring does not work here, and the fix: the facts of this machine
 * that matter (D-Bus, display, SSH, WSL, containers, libsecret) and a mapping
 * from a {@linkcode KeyringError}'s kind, code and message to a named
 * problem. Pure functions, apart from {@linkcode environmentFacts}.
 *
 * The Linux cases and their GErrors are those of
 * `linux-secret-service.md` §4 (libsecret 0.20.5 through FFI):
 *
 * | problem | typical error |
 * |---|---|
 * | `ffi-missing` | the optional FFI dependency cannot be loaded (`MODULE_NOT_FOUND`) |
 * | `libsecret-missing` | `libsecret-1.so.0: cannot open shared object file` |
 * | `no-dbus-session` | `Cannot autolaunch D-Bus without X11 $DISPLAY [g-io-error-quark:0]`, `[g-spawn-exit-error-quark:1]` |
 * | `dbus-unreachable` | `Could not connect: No such file or directory [g-io-error-quark:1]` |
 * | `no-secret-service` | `The name org.freedesktop.secrets was not provided by any .service files [g-dbus-error-quark:2]` |
 * | `no-default-collection` | `Object does not exist at path "/org/freedesktop/secrets/collection/login" [g-dbus-error-quark:19]` |
 * | `locked` | `Cannot create an item in a locked collection [secret-error:2]`, kind `locked` |
 * | `timeout` | `Timeout was reached [g-io-error-quark:24]`, `Operation was cancelled [g-io-error-quark:19]` |
 *
 * @module
 */
import { nodeFs } from "../contract/_node-builtins.ts";
import { join } from "node:path";
import { ffiPackageSpec } from "./_package.ts";
import type { ErrorInfo } from "./_stores.ts";

/** The facts of this machine that decide whether a keyring can work. */
export interface EnvironmentFacts {
  platform: string;
  /** `DBUS_SESSION_BUS_ADDRESS`, or `null` when unset or empty. */
  dbusSessionBusAddress: string | null;
  /** For a `unix:path=` address: whether the socket exists. `null` for other addresses or none. */
  dbusSocketExists: boolean | null;
  /** `DISPLAY` or `WAYLAND_DISPLAY`, or `null` (headless). */
  display: string | null;
  /** Logged in over SSH (`SSH_CONNECTION` or `SSH_TTY`). */
  ssh: boolean;
  /** Running under Windows Subsystem for Linux. */
  wsl: boolean;
  /** Running in a container (Docker, Podman, …). */
  container: boolean;
  /** Where libsecret-1.so.0 was found (Linux), or `null`. */
  libsecret: string | null;
}

/** Collects the {@linkcode EnvironmentFacts} of this process. */
export function environmentFacts(env: Readonly<Record<string, string | undefined>> = process.env): EnvironmentFacts {
  const platform = process.platform;
  const address = env.DBUS_SESSION_BUS_ADDRESS ? env.DBUS_SESSION_BUS_ADDRESS : null;
  const linuxLike = platform === "linux" || platform === "freebsd" || platform === "openbsd";
  return {
    platform,
    dbusSessionBusAddress: address,
    dbusSocketExists: socketExists(address),
    display: env.WAYLAND_DISPLAY || env.DISPLAY || null,
    ssh: Boolean(env.SSH_CONNECTION || env.SSH_TTY),
    wsl: platform === "linux" && (Boolean(env.WSL_DISTRO_NAME) || /microsoft/i.test(readText("/proc/version"))),
    container: linuxLike && (nodeFs().existsSync("/.dockerenv") || nodeFs().existsSync("/run/.containerenv") || Boolean(env.container)),
    libsecret: linuxLike ? findLibrary("libsecret-1.so.0", env) : null,
  };
}

function socketExists(address: string | null): boolean | null {
  if (address === null) return null;
  // The first transport is the one GDBus tries first; only plain unix paths can be checked cheaply.
  const match = /(?:^|;)unix:(?:[^;]*,)?path=([^,;]+)/.exec(address);
  if (!match) return null;
  return nodeFs().existsSync(decodeURIComponent(match[1]!));
}

function readText(path: string): string {
  try {
    return nodeFs().readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Looks for a shared library where the dynamic loader would (LD_LIBRARY_PATH, then the usual directories). */
function findLibrary(name: string, env: Readonly<Record<string, string | undefined>>): string | null {
  const dirs = [
    ...(env.LD_LIBRARY_PATH ?? "").split(":").filter(Boolean),
    `/usr/lib/${multiarch()}`,
    `/lib/${multiarch()}`,
    "/usr/lib64",
    "/lib64",
    "/usr/lib",
    "/lib",
    "/usr/local/lib",
  ];
  for (const dir of dirs) {
    const path = join(dir, name);
    if (nodeFs().existsSync(path)) return path;
  }
  // Distributions with other layouts (NixOS, Guix): any */lib*/ directory listed in ld.so.conf.d.
  for (const dir of ldConfigDirs()) {
    const path = join(dir, name);
    if (nodeFs().existsSync(path)) return path;
  }
  return null;
}

function multiarch(): string {
  const arch = { x64: "x86_64", arm64: "aarch64", arm: "arm", ia32: "i386", ppc64: "powerpc64le", s390x: "s390x", riscv64: "riscv64" }[
    process.arch as string
  ];
  return `${arch ?? process.arch}-linux-gnu`;
}

function ldConfigDirs(): string[] {
  const dirs: string[] = [];
  let files: string[] = [];
  try {
    files = nodeFs().readdirSync("/etc/ld.so.conf.d").filter((f) => f.endsWith(".conf"));
  } catch {
    return dirs;
  }
  for (const file of files) {
    for (const line of readText(join("/etc/ld.so.conf.d", file)).split("\n")) {
      const dir = line.trim();
      if (dir.startsWith("/")) dirs.push(dir);
    }
  }
  return dirs;
}

/** The named reasons a keyring does not work. New ones may be added. */
export type KeyringProblemId =
  | "ffi-missing"
  | "libsecret-missing"
  | "no-dbus-session"
  | "dbus-unreachable"
  | "no-secret-service"
  | "no-default-collection"
  | "locked"
  | "timeout"
  | "no-logon-session"
  | "interaction-not-allowed"
  | "too-large"
  | "read-back-mismatch"
  | "unsupported-platform"
  | "backend-not-ready"
  | "other";

/** A diagnosed keyring problem. */
export interface KeyringProblem {
  id: KeyringProblemId;
  /** One line: what is wrong. */
  summary: string;
  /** Why, in terms of this machine. */
  reason: string;
  /** What to do about it (one or more lines). */
  fix: string[];
}

const HEADLESS_RECIPE =
  "dbus-run-session -- sh -c 'printf %s \"$KEYRING_PASSWORD\" | gnome-keyring-daemon --unlock --components=secrets --daemonize; <your command>'";

/**
 * Names the problem behind a keyring error.
 *
 * @param error The error (a KeyringError, or its {@linkcode ErrorInfo}).
 * @param facts This machine's facts, which refine the diagnosis.
 * @param timeoutMs The deadline that was used, for the timeout message.
 */
export function diagnoseKeyringError(error: unknown, facts: EnvironmentFacts, timeoutMs: number): KeyringProblem {
  const info = normalize(error);
  const text = `${info.message} ${String(info.code ?? "")} ${info.causeText}`;
  const has = (pattern: RegExp) => pattern.test(text);

  if (info.causeCode === "MODULE_NOT_FOUND" || info.causeCode === "ERR_MODULE_NOT_FOUND" || has(/optional dependency/i)) {
    const spec = ffiPackageSpec();
    return {
      id: "ffi-missing",
      summary: "the FFI library authkeep uses to reach the keyring is not installed",
      reason:
        `authkeep calls the OS keyring through its optional dependency ${spec}, which could not be loaded (installed with --omit=optional or --no-optional, or its platform package is missing).`,
      fix: [`npm install ${spec}`, "or use --mode file"],
    };
  }
  if (has(/needs libsecret|libsecret[^ ]*\.so|cannot open shared object|libsecret.*(not found|not installed|missing)/i)) {
    return {
      id: "libsecret-missing",
      summary: "libsecret (libsecret-1.so.0) is not installed",
      reason: "authkeep talks to the Secret Service through libsecret, and the dynamic loader cannot find libsecret-1.so.0.",
      fix: [
        "Debian/Ubuntu: sudo apt-get install libsecret-1-0",
        "Fedora: sudo dnf install libsecret · Arch: sudo pacman -S libsecret · Alpine: sudo apk add libsecret",
      ],
    };
  }
  if (
    info.kind !== "locked" &&
    (info.code === "timeout" ||
      has(/time(d)? ?out|timeout was reached|g-io-error-quark:(19|24)\b|g-dbus-error-quark:(4|12|20)\b|did not (answer|reply)|no answer within|operation was cancelled/i))
  ) {
    return {
      id: "timeout",
      summary: `the keyring did not answer within ${timeoutMs} ms`,
      reason:
        "The Secret Service daemon is hung, overloaded, or waiting for an unlock prompt that nobody can see (no display).",
      fix: [
        "check that the daemon answers: secret-tool search --all service x",
        "restart it: gnome-keyring-daemon --replace --components=secrets --daemonize (or log in to the desktop to answer the prompt)",
        "or raise --timeout, or use --mode file",
      ],
    };
  }
  if (facts.platform === "linux" || facts.platform === "freebsd" || facts.platform === "openbsd") {
    const linux = diagnoseLinux(info, has, facts);
    if (linux) return linux;
  }
  if (info.code === 1312 || has(/no such logon session/i)) {
    return {
      id: "no-logon-session",
      summary: "there is no logon session with a Credential Manager here",
      reason: "Windows has no credential vault for this session (a service account, a scheduled task without a profile, or a network logon).",
      fix: ["run as the interactive user, or use --mode file"],
    };
  }
  if (info.code === -25308 || has(/user interaction is not allowed/i)) {
    return {
      id: "interaction-not-allowed",
      summary: "the keychain needs a prompt that cannot be shown here",
      reason: "macOS refuses keychain prompts in this session (typically over SSH or in a launchd job).",
      fix: ["security unlock-keychain ~/Library/Keychains/login.keychain-db", "or use --mode file"],
    };
  }
  if (info.kind === "locked") {
    return {
      id: "locked",
      summary: "the keyring is locked",
      reason: "A keyring exists but is locked, or access to it was refused.",
      fix: ["unlock it from the desktop session (or: security unlock-keychain on macOS)", "or use --mode file"],
    };
  }
  if (info.kind === "too-large") {
    return { id: "too-large", summary: "the value is too large for this keyring", reason: info.message, fix: ["use --mode file"] };
  }
  if (info.backend === "none") {
    return {
      id: "unsupported-platform",
      summary: `authkeep has no keyring backend for ${facts.platform}`,
      reason: info.message,
      fix: ["use --mode file"],
    };
  }
  if (has(/not implemented/i)) {
    return {
      id: "backend-not-ready",
      summary: "this build of authkeep has no keyring backend for this platform yet",
      reason: info.message,
      fix: ["use --mode file"],
    };
  }
  return {
    id: "other",
    summary: `the keyring failed (${info.kind ?? "error"}${info.code !== undefined ? ` ${info.code}` : ""})`,
    reason: info.message,
    fix: ["run again with --debug for details", "or use --mode file"],
  };
}

function diagnoseLinux(info: Normalized, has: (pattern: RegExp) => boolean, facts: EnvironmentFacts): KeyringProblem | undefined {
  const where = [facts.ssh ? "an SSH session" : "", facts.wsl ? "WSL" : "", facts.container ? "a container" : ""].filter(Boolean).join(", ");
  if (has(/no secret service|org\.freedesktop\.secrets was not provided|serviceunknown|service ?unknown|namehasnoowner|g-dbus-error-quark:(2|3|2[3-9]|3[0-4])\b/i)) {
    return {
      id: "no-secret-service",
      summary: "no Secret Service (org.freedesktop.secrets) on the session bus",
      reason: "The bus is up, but no keyring daemon provides the Secret Service and none can be started on demand.",
      fix: [
        "install and start one: sudo apt-get install gnome-keyring, then gnome-keyring-daemon --start --components=secrets",
        "(KeePassXC with Secret Service integration, or KWallet 5.97+, also work)",
        "or use --mode file",
      ],
    };
  }
  if (has(/default collection|no such collection|collection\/login|object does not exist at path|no result found/i)) {
    return {
      id: "no-default-collection",
      summary: "the Secret Service has no default keyring (collection)",
      reason: `A keyring daemon is running but has no default collection to store into${facts.wsl ? " (usual on WSL)" : ""}: it was started by D-Bus activation without a login keyring, or no keyring was ever created.`,
      fix: [
        "create one and make it the default (Seahorse, \"Passwords and Keys\": File → New → Password Keyring, then Set as Default),",
        "or restart the daemon with a password so that it creates and unlocks \"login\":",
        "  printf %s \"$KEYRING_PASSWORD\" | gnome-keyring-daemon --replace --unlock --components=secrets --daemonize",
        "or use --mode file",
      ],
    };
  }
  if (info.kind === "locked" || has(/locked collection|is locked|prompt was dismissed|secret-error:2\b/i)) {
    return {
      id: "locked",
      summary: "the default keyring is locked",
      reason: `The keyring exists but is locked, and authkeep never shows an unlock prompt${facts.display === null ? " (there is no display here anyway)" : ""}.`,
      fix: [
        "unlock it in the desktop session (log in graphically, or unlock \"Login\" in Seahorse), or restart the daemon with its password:",
        "  printf %s \"$KEYRING_PASSWORD\" | gnome-keyring-daemon --replace --unlock --components=secrets --daemonize",
        "or use --mode file",
      ],
    };
  }
  const noBus = has(
    /no D-Bus session bus|autolaunch|could not connect|connection refused|g-spawn-(exit-)?error-quark|g-io-error-quark:(0|1|14|18|39|44|45)\b|g-dbus-error-quark:(5|6|10|11|15)\b/i,
  );
  if (noBus || (facts.dbusSessionBusAddress === null && info.kind === "unavailable" && !has(/not implemented/i))) {
    if (facts.dbusSessionBusAddress === null) {
      return {
        id: "no-dbus-session",
        summary: "there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)",
        reason: `The Secret Service is reached over the D-Bus session bus, and this process has none${where ? ` (${where})` : facts.display === null ? " (no desktop session: headless, cron, CI)" : ""}.`,
        fix: [
          "run inside a desktop session, or start a bus and a keyring for one command:",
          `  ${HEADLESS_RECIPE}`,
          "or use --mode file (or auto, which falls back to auth.json)",
        ],
      };
    }
    return {
      id: "dbus-unreachable",
      summary: "the D-Bus session bus in DBUS_SESSION_BUS_ADDRESS does not answer",
      reason: `DBUS_SESSION_BUS_ADDRESS=${facts.dbusSessionBusAddress} points to a bus that is not running${facts.dbusSocketExists === false ? " (its socket does not exist)" : ""}: the session that started it has ended, or the variable is stale (inherited by tmux or screen).`,
      fix: [
        "start a new login session, or refresh the variable (in tmux: tmux update-environment), or unset it",
        "or use --mode file",
      ],
    };
  }
  return undefined;
}

interface Normalized {
  message: string;
  kind: string | undefined;
  code: string | number | undefined;
  backend: string | undefined;
  causeCode: string | undefined;
  causeText: string;
}

function normalize(error: unknown): Normalized {
  const e = (typeof error === "object" && error !== null ? error : { message: String(error) }) as Partial<ErrorInfo> & {
    cause?: unknown;
  };
  const causes: string[] = [];
  let causeCode: string | undefined;
  let cause = e.cause;
  for (let depth = 0; depth < 5 && cause !== undefined && cause !== null; depth++) {
    const c = cause as { message?: unknown; code?: unknown; cause?: unknown };
    if (typeof c.message === "string") causes.push(c.message);
    if (causeCode === undefined && typeof c.code === "string") causeCode = c.code;
    cause = c.cause;
  }
  return {
    message: typeof e.message === "string" ? e.message : "",
    kind: e.kind,
    code: e.code,
    backend: e.backend,
    causeCode,
    causeText: causes.join(" "),
  };
}
