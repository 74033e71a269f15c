/**
 * Private Secret Service daemons for the Linux keyring tests, each on its own
 * D-Bus session bus: an unlocked gnome-keyring (started by the project's
 * `scripts/keyring-up.sh`), a bus where gnome-keyring is only D-Bus-activated
 * (so it has no default collection), and a bus with no Secret Service at all.
 * Every process is stopped by PID, never by name.
 *
 * @module
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { fixturePath, spawnFixture } from "./child-process.ts";

/** One private bus and (maybe) its Secret Service daemon. */
export interface PrivateKeyring {
  /** The bus address, for `DBUS_SESSION_BUS_ADDRESS`. */
  readonly address: string;
  /** The temporary directory holding the bus socket and the keyring files. */
  readonly dir: string;
  /** The environment a child process needs to use this bus. */
  readonly env: NodeJS.ProcessEnv;
  /** PID of gnome-keyring-daemon, when one is running (activated ones are looked up). */
  daemonPid(): number | undefined;
  /** Locks the `login` collection through `org.freedesktop.Secret.Service.Lock`. */
  lock(): void;
  /** Kills gnome-keyring-daemon and starts it again on the same files (unlocked). */
  restartDaemon(): void;
  /** Stops the daemons (by PID) and removes the directory unless `keepDir`. Idempotent. */
  stop(options?: { keepDir?: boolean }): void;
}

/** The repository root (where package.json is), from this file's location in test/ or dist/test/. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("package.json not found above test/support");
    dir = parent;
  }
  return dir;
}

const PASSWORD = "authkeep-test-keyring";

/**
 * Starts a private bus with an unlocked gnome-keyring (a `login` collection,
 * which the `default` alias points at), using `scripts/keyring-up.sh`.
 */
export function startUnlockedKeyring(options: { dir?: string } = {}): PrivateKeyring {
  const dir = options.dir ?? mkdtempSync("/tmp/headless-keyring.");
  const output = execFileSync("bash", [join(repoRoot(), "scripts", "keyring-up.sh")], {
    env: { ...process.env, KR_DIR: dir, KR_PASSWORD: PASSWORD, DBUS_SESSION_BUS_ADDRESS: "" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const value = (name: string): string => {
    const match = new RegExp(`^export ${name}='?([^'\\n]*)'?$`, "m").exec(output);
    if (!match?.[1]) throw new Error(`keyring-up.sh printed no ${name}:\n${output}`);
    return match[1];
  };
  return privateKeyring(dir, value("DBUS_SESSION_BUS_ADDRESS"), Number(value("KR_DBUS_PID")), Number(value("KR_GKD_PID")));
}

/**
 * Starts a private bus on which gnome-keyring is only D-Bus-activated, with
 * empty data directories: it then has no `login` collection and the `default`
 * alias is unset, as on a machine where nothing ever created a keyring.
 * With `secretService: false` the bus has no service directories at all, so
 * nothing provides org.freedesktop.secrets.
 */
export function startBus(options: { secretService: boolean }): PrivateKeyring {
  const dir = mkdtempSync("/tmp/headless-keyring.");
  mkdirSync(join(dir, "data"));
  mkdirSync(join(dir, "run"), { mode: 0o700 });
  const args = ["--fork", "--nopidfile", `--address=unix:path=${dir}/bus`, "--print-address=1", "--print-pid=1"];
  if (options.secretService) {
    args.unshift("--session");
  } else {
    const config = join(dir, "session-no-services.conf");
    writeFileSync(config, NO_SERVICES_CONFIG);
    args.unshift(`--config-file=${config}`);
  }
  // Activated services inherit this environment: their keyring files stay in `dir`.
  const output = execFileSync("dbus-daemon", args, {
    env: { ...process.env, XDG_DATA_HOME: join(dir, "data"), XDG_RUNTIME_DIR: join(dir, "run"), DBUS_SESSION_BUS_ADDRESS: "" },
    encoding: "utf8",
  });
  const [address, pid] = output.trim().split("\n");
  if (!address || !pid) throw new Error(`dbus-daemon printed no address/pid: ${output}`);
  return privateKeyring(dir, address, Number(pid), undefined);
}

/** A bus configuration with no `<servicedir>`: D-Bus activation cannot start anything. */
const NO_SERVICES_CONFIG = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;

function privateKeyring(dir: string, address: string, dbusPid: number, startedDaemon: number | undefined): PrivateKeyring {
  let daemon = startedDaemon;
  let stopped = false;
  const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: address };
  const dbusSend = (args: string[]): string =>
    spawnSync("dbus-send", ["--session", "--print-reply", ...args], { env, encoding: "utf8", timeout: 10_000 }).stdout ?? "";
  const lookupDaemon = (): number | undefined => {
    const reply = dbusSend([
      "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
      "org.freedesktop.DBus.GetConnectionUnixProcessID", "string:org.freedesktop.secrets",
    ]);
    const match = /uint32 (\d+)/.exec(reply);
    return match ? Number(match[1]) : undefined;
  };
  const signal = (pid: number | undefined, name: NodeJS.Signals): void => {
    if (pid === undefined) return;
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  };
  return {
    address,
    dir,
    env,
    daemonPid: () => (daemon ??= lookupDaemon()),
    lock() {
      dbusSend([
        "--dest=org.freedesktop.secrets", "/org/freedesktop/secrets",
        "org.freedesktop.Secret.Service.Lock", "array:objpath:/org/freedesktop/secrets/collection/login",
      ]);
    },
    restartDaemon() {
      const old = daemon ?? lookupDaemon();
      signal(old, "SIGCONT");
      signal(old, "SIGTERM");
      // Wait until the name is free, so the new daemon does not just hand over to the old one.
      for (let i = 0; i < 100 && lookupDaemon() !== undefined; i++) spawnSync("sleep", ["0.05"]);
      spawnSync("gnome-keyring-daemon", ["--unlock", "--components=secrets", "--daemonize"], {
        input: PASSWORD,
        env: { ...env, XDG_DATA_HOME: join(dir, "data"), XDG_RUNTIME_DIR: join(dir, "run") },
        stdio: ["pipe", "ignore", "ignore"],
        timeout: 10_000,
      });
      daemon = undefined;
      for (let i = 0; i < 100 && (daemon = lookupDaemon()) === undefined; i++) spawnSync("sleep", ["0.05"]);
    },
    stop(options = {}) {
      if (stopped) return;
      stopped = true;
      const pid = daemon ?? lookupDaemon();
      signal(pid, "SIGCONT");
      signal(pid, "SIGTERM");
      signal(dbusPid, "SIGTERM");
      if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `secret-tool` on the bus in `env`; returns stdout and stderr merged (attributes go to stderr). */
export function secretTool(args: readonly string[], env: NodeJS.ProcessEnv = process.env, input?: string): { status: number | null; output: string } {
  const result = spawnSync("secret-tool", args, { env, input, encoding: "utf8", timeout: 30_000 });
  return { status: result.status, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}

/** Calls a Secret Service method with `dbus-send` on the bus in `env`; returns the printed reply. */
function dbusSecrets(env: NodeJS.ProcessEnv, path: string, method: string, args: readonly string[]): string {
  // Read-only queries, so a retry is safe: once in a CI run the live shared gnome-keyring 42 (same
  // PID before and after) answered UnknownMethod to a well-formed SearchItems from dbus-send.
  let stderr = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    if (attempt > 0) spawnSync("sleep", ["0.2"]);
    const result = spawnSync("dbus-send", ["--session", "--print-reply", "--dest=org.freedesktop.secrets", path, method, ...args], {
      env,
      encoding: "utf8",
      timeout: 10_000,
    });
    if (result.status === 0) return result.stdout;
    stderr = result.stderr;
    if (!/UnknownMethod/.test(stderr)) break;
  }
  throw new Error(`dbus-send ${method} failed: ${stderr}`);
}

/**
 * The object paths of the items whose attributes include `{service, username}`,
 * in every collection, unlocked and locked (Secret Service `SearchItems`).
 */
export function searchItems(service: string, account: string, env: NodeJS.ProcessEnv = process.env): { unlocked: string[]; locked: string[] } {
  const reply = dbusSecrets(env, "/org/freedesktop/secrets", "org.freedesktop.Secret.Service.SearchItems", [
    `dict:string:string:service,${service},username,${account}`,
  ]);
  const [unlocked = "", locked = ""] = reply.split("array [").slice(1);
  const paths = (block: string) => [...block.matchAll(/object path "([^"]+)"/g)].map((match) => match[1] as string);
  return { unlocked: paths(unlocked), locked: paths(locked) };
}

/** The attributes of the item at `path`. */
export function itemAttributes(path: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const reply = dbusSecrets(env, path, "org.freedesktop.DBus.Properties.Get", ["string:org.freedesktop.Secret.Item", "string:Attributes"]);
  const strings = [...reply.matchAll(/string "([^"]*)"/g)].map((match) => match[1] as string);
  const attributes: Record<string, string> = {};
  for (let i = 0; i + 1 < strings.length; i += 2) attributes[strings[i] as string] = strings[i + 1] as string;
  return attributes;
}

/** The label of the item at `path`. */
export function itemLabel(path: string, env: NodeJS.ProcessEnv = process.env): string {
  const reply = dbusSecrets(env, path, "org.freedesktop.DBus.Properties.Get", ["string:org.freedesktop.Secret.Item", "string:Label"]);
  return /string "([^"]*)"/.exec(reply)?.[1] ?? "";
}

/** One answer of `test/fixtures/linux-keyring-child.ts`. */
export interface ChildAnswer {
  ok?: unknown;
  error?: { name: string; kind?: string; reason?: string; code?: string | number | null; message: string };
  elapsedMs: number;
  ticks: number;
}

/** A running `linux-keyring-child` process. */
export interface KeyringChild {
  /** Sends one command and waits for its answer. */
  send(command: Record<string, unknown>): Promise<ChildAnswer>;
  /** Ends the child (stdin closed, then SIGKILL by PID after 5 s) and returns its stderr. */
  close(): Promise<string>;
}

/** Starts the keyring child fixture (next to `callerUrl`'s test file) with `env`. */
export function startKeyringChild(callerUrl: string, env: NodeJS.ProcessEnv): KeyringChild {
  const child = spawnFixture(fixturePath("linux-keyring-child", callerUrl), [], { env, stdio: ["pipe", "pipe", "pipe"] });
  const waiting: { resolve: (answer: ChildAnswer) => void; reject: (error: Error) => void }[] = [];
  let stderr = "";
  let buffered = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      waiting.shift()?.resolve(JSON.parse(line) as ChildAnswer);
    }
  });
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  void exited.then(() => {
    for (const waiter of waiting.splice(0)) waiter.reject(new Error(`keyring child exited: ${stderr}`));
  });
  return {
    send(command) {
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin?.write(`${JSON.stringify(command)}\n`);
      });
    },
    async close() {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
      return stderr;
    },
  };
}
