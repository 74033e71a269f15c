/**
 * The AuthStorage shell shared by every mode: each mode supplies three flows
 * and gets both the async and the sync methods from them.
 *
 * @module
 */
import type { AuthStorage } from "./auth-storage.ts";
import type { AuthCredentialsStoreMode, AuthDotJson } from "../document/auth-types.ts";
import { type Flow, runAsync, runSync } from "../contract/engine.ts";
import { inspectSymbol } from "../contract/_redact.ts";

/** The three operations of a storage mode, as flows. */
export interface StorageFlows {
  load(): Flow<AuthDotJson | null>;
  save(auth: AuthDotJson): Flow<void>;
  delete(): Flow<boolean>;
}

/** An {@linkcode AuthStorage} whose methods run the given flows. */
export class FlowStorage implements AuthStorage {
  readonly mode: AuthCredentialsStoreMode;
  readonly home: string;
  readonly fileName: string;
  readonly #flows: StorageFlows;

  constructor(mode: AuthCredentialsStoreMode, home: string, fileName: string, flows: StorageFlows) {
    this.mode = mode;
    this.home = home;
    this.fileName = fileName;
    this.#flows = flows;
  }

  load(): Promise<AuthDotJson | null> {
    return runAsync(this.#flows.load());
  }
  save(auth: AuthDotJson): Promise<void> {
    return runAsync(this.#flows.save(auth));
  }
  delete(): Promise<boolean> {
    return runAsync(this.#flows.delete());
  }
  loadSync(): AuthDotJson | null {
    return runSync(this.#flows.load());
  }
  saveSync(auth: AuthDotJson): void {
    runSync(this.#flows.save(auth));
  }
  deleteSync(): boolean {
    return runSync(this.#flows.delete());
  }

  [inspectSymbol](): string {
    return `AuthStorage { mode: ${JSON.stringify(this.mode)}, home: ${JSON.stringify(this.home)} }`;
  }
  toJSON(): { mode: AuthCredentialsStoreMode; home: string; fileName: string } {
    return { mode: this.mode, home: this.home, fileName: this.fileName };
  }
}
