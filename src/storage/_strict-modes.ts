/**
 * authkeep's StrictModes (after sshd's): before trusting credentials, look at
 * who could have written them and who can read them. sshd refuses such files;
 * authkeep warns instead, because Codex reads the same file without any check
 * and a refusal would log the user out of both, and because a save repairs the
 * file's own mode (0600). docs/behaviour.md: "Permissions and ownership".
 *
 * Each problem is reported once per process per path.
 *
 * @module
 */
import type { Stats } from "node:fs";
import { type Flow, io } from "../contract/engine.ts";
import { statOrNull } from "./_fs-steps.ts";

/** Where a check reports. */
export interface StrictModesLocation {
  home: string;
  warn: (message: string) => void;
}

const warned = new Set<string>();
// Storages whose home was already checked: one stat per storage, not one per load.
const checkedLocations = new WeakSet<StrictModesLocation>();

/**
 * The problems with a file or directory that holds or leads to credentials, for
 * a process running as `uid` (`undefined`: no uids on this platform).
 * - Owned by someone other than the user or root: that user could have planted it,
 *   and can change it at will. Root itself is exempt (`sudo authkeep status` on a user's home).
 * - Writable by group or others: another user can swap the credentials for their own
 *   (in a directory, also plant a symlink; the sticky bit does not stop that).
 * - A file readable by group or others: they can read the tokens.
 * - A file with more than one hard link: another name shares the credentials, and a
 *   save (an atomic rename) would silently split them.
 */
export function exposureProblems(stats: Stats, isDirectory: boolean, uid: number | undefined): string[] {
  const problems: string[] = [];
  if (uid !== undefined && uid !== 0 && stats.uid !== uid && stats.uid !== 0) {
    problems.push(`is owned by another user (uid ${stats.uid}), who could have planted it or can change it`);
  }
  if ((stats.mode & 0o022) !== 0) problems.push("can be written by other users");
  if (!isDirectory && (stats.mode & 0o044) !== 0) problems.push("can be read by other users");
  if (!isDirectory && stats.nlink > 1) problems.push(`has ${stats.nlink} hard links, so another name shares these credentials`);
  return problems;
}

function report(location: StrictModesLocation, path: string, problems: string[], fix: () => string): void {
  if (problems.length === 0) return;
  const key = `${path}\0${problems.join()}`;
  if (warned.has(key)) return;
  warned.add(key);
  location.warn(`${path} ${problems.join(", and ")}; ${fix()}`);
}

const currentUid = (): number | undefined => process.getuid?.();

/** Warns (once) about the credentials file just read, from the `fstat` of the read. */
export function warnIfFileIsExposed(location: StrictModesLocation, path: string, stats: Stats): void {
  if (process.platform === "win32") return;
  // Every load passes here: the message is only built when there is something to say.
  const fix = () => `it is mode ${(stats.mode & 0o777).toString(8).padStart(3, "0")}; run \`chmod 600 ${path}\` (a save also fixes the mode) and check that it is yours`;
  report(location, path, exposureProblems(stats, false, currentUid()), fix);
}

/** Warns (once) about a home directory that others own or can write to. */
export function* warnIfHomeIsShared(location: StrictModesLocation): Flow<void> {
  if (process.platform === "win32" || checkedLocations.has(location)) return;
  const stats = yield* io(statOrNull(location.home));
  if (stats === null) return;
  checkedLocations.add(location);
  report(location, location.home, exposureProblems(stats, true, currentUid()), () => `run \`chmod 700 ${location.home}\` and check that it is yours`);
}
