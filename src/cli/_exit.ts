/**
 * The `authkeep` CLI's exit statuses.
 *
 * | status | name | meaning |
 * |---:|---|---|
 * | 0 | `ok` | success: `status` found credentials for the mode; `doctor`: the configured mode works here; `migrate` moved the credentials (or they were already in the target); `logout` removed whatever was stored |
 * | 1 | `failure` | something failed: an I/O error, unreadable credentials, a keyring error, `migrate`'s read-back check (the source is kept), or the refresh lock was held too long by another process |
 * | 2 | `usage` | bad command line: unknown command or option, missing or invalid value |
 * | 3 | `nothingStored` | `status`: no credentials for this mode; `migrate`: nothing to move |
 * | 4 | `unavailable` | a store the command needs cannot be reached: `doctor`: the configured mode does not work here; `status`/`migrate`/`logout`: the keyring is unavailable or locked |
 * | 5 | `conflict` | `migrate`: both stores hold different credentials; nothing was changed (rerun with `--force` to let the source win) |
 *
 * @module
 */

/** Exit statuses by name. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  nothingStored: 3,
  unavailable: 4,
  conflict: 5,
} as const;

/** One of {@linkcode EXIT}'s values. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit status table, as printed by `authkeep --help`. */
export const EXIT_STATUS_HELP = `Exit status:
  0  success (status: logged in; doctor: the configured mode works here;
     migrate: moved, or already there; logout: done)
  1  failure (I/O error, unreadable credentials, keyring error, migrate's
     read-back check failed and the source was kept, refresh lock busy)
  2  usage error (unknown command or option, missing or invalid value)
  3  nothing stored (status: not logged in for this mode; migrate: nothing to move)
  4  a store the command needs is unavailable or locked (doctor: the
     configured mode does not work here)
  5  migrate: the file and the keyring hold different credentials; nothing
     was changed (use --force to let the source win)`;
