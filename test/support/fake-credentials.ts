/**
 * An in-memory stand-in for advapi32's Credential Manager calls, driving the Windows store's
 * load/save/delete flows (native/windows/_flow.ts) everywhere, for the
 * windows-credential-manager-blobs and -flows tests.
 *
 * @module
 */
import { deleteFlow, loadFlow, runFlowSync, saveFlow, type CredStep } from "../../native/windows/_flow.ts";

/** An in-memory advapi32: targets are case-insensitive, as in Credential Manager. */
export class FakeCredentials {
  readonly entries = new Map<string, { target: string; userName: string; blob: Uint8Array }>();
  steps = 0;
  exec = (step: CredStep): unknown => {
    this.steps++;
    switch (step.op) {
      case "read":
        return this.entries.get(step.target.toLowerCase())?.blob.slice() ?? null;
      case "write":
        this.entries.set(step.target.toLowerCase(), { target: step.target, userName: step.userName, blob: step.blob.slice() });
        return undefined;
      case "delete":
        return this.entries.delete(step.target.toLowerCase());
      case "list": {
        const prefix = step.filter.replace(/\*$/, "").toLowerCase();
        return [...this.entries.values()].filter((e) => e.target.toLowerCase().startsWith(prefix)).map((e) => e.target);
      }
    }
  };
  load(service: string, account: string): string | null {
    return runFlowSync(loadFlow(service, account), this.exec);
  }
  save(service: string, account: string, value: string): void {
    runFlowSync(saveFlow(service, account, value), this.exec);
  }
  delete(service: string, account: string): boolean {
    return runFlowSync(deleteFlow(service, account), this.exec);
  }
}

/** A value of `n` ASCII characters (so `n` UTF-8 bytes and `2n` UTF-16 bytes). */
export const ascii = (n: number): string => "a".repeat(n);
