/**
 * The human output of `authkeep status`. Everything taken from the stored
 * credentials or the file system passes through {@linkcode terminalSafe}.
 *
 * @module
 */
import type { CommonOptions } from "./_args.ts";
import { columns, type Output, relativeTime, terminalSafe } from "./_output.ts";
import type { CopyState } from "./_stores.ts";
import type { CredentialsSummary, StatusReport, StoreReport } from "./_status-report.ts";

/** A summary whose strings are safe to print (see {@linkcode terminalSafe}). */
function safeSummary(summary: CredentialsSummary): CredentialsSummary {
  const safe = (value: string | null) => (value === null ? null : terminalSafe(value));
  return {
    ...summary,
    authMode: safe(summary.authMode),
    apiKey: safe(summary.apiKey),
    accountId: safe(summary.accountId),
    email: safe(summary.email),
    plan: safe(summary.plan),
    chatgptUserId: safe(summary.chatgptUserId),
    idToken: safe(summary.idToken),
    accessToken: safe(summary.accessToken),
    refreshToken: safe(summary.refreshToken),
    lastRefresh: safe(summary.lastRefresh),
    notes: summary.notes.map((note) => terminalSafe(note)),
  };
}

/** Prints the report for a person. */
export function printReport(out: Output, report: StatusReport, common: CommonOptions): void {
  const c = out.color;
  const t = terminalSafe;
  const source = { flag: "--mode", config: "config.toml", default: "default" }[common.modeSource];
  out.line(`${c.bold("home")}  ${t(report.home)}`);
  out.line(`${c.bold("mode")}  ${report.mode} ${c.dim(`(${source})`)}`);
  out.line();
  const f = report.stores.file;
  const k = report.stores.keyring;
  out.line(c.bold("Where"));
  for (const line of columns([
    ["file", stateText(out, f.state, report.active === "file"), t(f.path), t(detailText(f))],
    ["keyring", stateText(out, k.state, report.active === "keyring"), t(k.encryptedFile === undefined ? `${k.backend}: "${k.service}" / ${k.account}` : `encrypted ${k.encryptedFile} (passphrase: ${k.backend} "${k.service}" / ${k.account})`), t(detailText(k))],
  ])) out.line(line);
  out.line();
  if (report.credentials === null) {
    out.line(notLoggedInText(report));
    return;
  }
  // Every claim comes from a token anyone could have minted: no control character reaches the terminal.
  const summary = safeSummary(report.credentials);
  out.line(c.bold(`Credentials ${c.dim(`(${report.active} copy)`)}`));
  const rows: string[][] = [["auth mode", summary.authMode ?? "unknown"]];
  if (summary.accountId !== null) rows.push(["account", summary.accountId]);
  if (summary.email !== null) rows.push(["email", summary.email]);
  if (summary.plan !== null) rows.push(["plan", summary.plan]);
  if (summary.accessToken !== null) {
    let expiry = "expiry unknown";
    if (summary.accessTokenExpiresAt !== null) {
      const at = new Date(summary.accessTokenExpiresAt);
      const when = `${summary.accessTokenExpired ? "expired" : "expires"} ${summary.accessTokenExpiresAt} (${relativeTime(at)})`;
      expiry = summary.accessTokenExpired ? c.warn(when) : when;
    }
    rows.push(["access token", `${summary.accessToken}  ${expiry}`]);
  }
  if (summary.refreshToken !== null) rows.push(["refresh token", summary.refreshToken]);
  if (summary.idToken !== null) rows.push(["id token", summary.idToken]);
  rows.push(["API key", summary.apiKey ?? "none"]);
  if (summary.lastRefresh !== null) {
    const at = new Date(summary.lastRefresh);
    rows.push(["last refresh", Number.isNaN(at.getTime()) ? summary.lastRefresh : `${summary.lastRefresh} (${relativeTime(at)})`]);
  }
  for (const line of columns(rows)) out.line(line);
  for (const note of summary.notes) out.line(c.dim(`  note: ${note}`));
}

function notLoggedInText(report: StatusReport): string {
  const { file, keyring } = report.stores;
  if (report.mode === "ephemeral") return "Mode ephemeral keeps credentials only in the memory of the process that saved them.";
  if (report.location === "neither") return "Not logged in: no credentials are stored for this home.";
  const primary = report.mode === "keyring" ? keyring : file;
  const other = report.mode === "keyring" ? file : keyring;
  if (report.mode === "auto" && keyring.state !== "present" && keyring.state !== "absent" && file.state === "absent") {
    return "Not logged in for mode auto: no auth.json, and the keyring could not be checked.";
  }
  if (primary.state === "absent") {
    const name = report.mode === "keyring" ? "the keyring" : "auth.json";
    return other.state === "present"
      ? `Not logged in for mode ${report.mode}: nothing in ${name} (the credentials are elsewhere; see the warning below).`
      : `Not logged in for mode ${report.mode}: nothing in ${name}${other.state === "absent" ? "" : `, and the ${report.mode === "keyring" ? "file" : "keyring"} could not be checked`}.`;
  }
  return `The credentials for mode ${report.mode} cannot be read (${primary.state}).`;
}

function stateText(out: Output, state: CopyState["state"], active: boolean): string {
  const c = out.color;
  switch (state) {
    case "present":
      return active ? c.ok("present (in use)") : c.ok("present");
    case "absent":
      return c.dim("absent");
    case "unavailable":
    case "locked":
      return c.warn(state);
    default:
      return c.bad(state);
  }
}

function detailText(store: StoreReport): string {
  if (store.state === "present") return store.credentials?.lastRefresh ? `last_refresh ${store.credentials.lastRefresh}` : "";
  if (store.problem) return `${store.problem.summary} (\`authkeep doctor\` shows the fix)`;
  return store.error?.message ?? "";
}
