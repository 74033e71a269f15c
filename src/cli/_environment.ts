/**
 * The facts of this machine that decide whether a keyring can work here
 * (D-Bus, display, SSH, WSL, containers, libsecret), for `authkeep doctor`.
 *
 * @module
 */
import { nodeFs } from "../contract/_node-builtins.ts";
import { join } from "node:path";

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
