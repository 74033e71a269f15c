/**
 * What the macos-keychain-abi-*.test.ts files share: the binding (native/macos/store.ts) on the
 * ABI stand-in (test/macos-abi/security-standin.c), once per FFI provider this runtime has, with
 * the checks for CF leaks, and the sync/async twins that run each check for both kinds of call.
 * Not a test file itself.
 *
 * @module
 */
import { after, before, beforeEach, describe } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import process from "node:process";
import { inspect } from "node:util";
import { KeyringError } from "../../src/contract/keyring-error.ts";
import type { KeyringStore } from "../../src/contract/keyring-store.ts";
import { createMacosKeyringStore } from "../../native/macos/store.ts";
import type { FfiProviderName } from "../../native/ffi/index.ts";
import { providerRuns } from "./providers.ts";
import { buildStandIn, type StandIn } from "./standin.ts";

export const SUITE =
  "macOS keychain binding vs an ABI stand-in (a C test double on Linux: checks our marshalling and CF ownership, does NOT prove Apple's keychain behaviour)";
export const skip = process.platform === "linux"
  ? false
  : "the ABI stand-in is built as a Linux shared library with the system cc; on macOS the real keychain test (macos-keychain.test.ts) runs instead";

/** The async methods and their sync twins behind one promise-returning shape, so each check runs for both. */
export interface Twin {
  readonly mode: "sync" | "async";
  readonly name: { load: string; save: string; delete: string };
  load(service: string, account: string): Promise<string | null>;
  save(service: string, account: string, value: string): Promise<void>;
  delete(service: string, account: string): Promise<boolean>;
}

export function twins(store: KeyringStore): Twin[] {
  return [
    {
      mode: "sync",
      name: { load: "loadSync()", save: "saveSync()", delete: "deleteSync()" },
      load: async (s, a) => store.loadSync(s, a),
      save: async (s, a, v) => store.saveSync(s, a, v),
      delete: async (s, a) => store.deleteSync(s, a),
    },
    {
      mode: "async",
      name: { load: "load()", save: "save()", delete: "delete()" },
      load: (s, a) => store.load(s, a),
      save: (s, a, v) => store.save(s, a, v),
      delete: (s, a) => store.delete(s, a),
    },
  ];
}

/** A fresh (service, account) pair, so no test sees another's item. */
export function names(): { service: string; account: string } {
  const id = randomUUID().slice(0, 8);
  return { service: `authkeep-abi-${id}`, account: `cli|${id}`.padEnd(20, "0") };
}

/** Rejects unless `promise` rejects with a KeyringError of `kind` (and returns that error). */
export async function rejectsWith(promise: Promise<unknown>, kind: string): Promise<KeyringError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KeyringError, `expected a KeyringError, got ${inspect(error)}`);
    assert.equal(error.kind, kind, error.message);
    assert.equal(error.backend, "macos");
    return error;
  }
  assert.fail(`expected a KeyringError of kind ${kind}, but the call succeeded`);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The stand-in and a store on it, for one provider's suite; set in its before(). */
export class StandInSession {
  readonly ffi: FfiProviderName;
  standIn!: StandIn;
  store!: KeyringStore;

  constructor(ffi: FfiProviderName) {
    this.ffi = ffi;
  }

  /** Every CF object the binding created or was handed has been released, and none twice. */
  assertNoCfLeak(): void {
    assert.equal(this.standIn.liveObjects(), 0, "live CF objects after the operation");
    assert.equal(this.standIn.misuseCount(), 0, `CF ownership mistake: ${this.standIn.lastMisuse()}`);
  }

  /** A store on the stand-in whose async calls give up after 50 ms. */
  impatientStore(): KeyringStore {
    return createMacosKeyringStore({
      securityLibraryPath: this.standIn.libraryPath,
      coreFoundationLibraryPath: this.standIn.libraryPath,
      timeoutMs: 50,
      ffi: this.ffi,
    });
  }

  /** Waits until the abandoned native calls have returned and their CF objects were released (or 30 s). */
  async settleAbandonedCalls(): Promise<void> {
    for (let waited = 0; (this.standIn.inFlight() > 0 || this.standIn.liveObjects() > 0) && waited < 30_000; waited += 20) {
      await delay(20);
    }
  }

  /** The store's methods as twins; the store is created in before(), so these forwarders read it late. */
  twins(): Twin[] {
    return twins({
      backend: "macos",
      load: (s, a) => this.store.load(s, a),
      save: (s, a, v) => this.store.save(s, a, v),
      delete: (s, a) => this.store.delete(s, a),
      loadSync: (s, a) => this.store.loadSync(s, a),
      saveSync: (s, a, v) => this.store.saveSync(s, a, v),
      deleteSync: (s, a) => this.store.deleteSync(s, a),
    });
  }
}

/**
 * One describe per FFI provider, titled `${SUITE}: ${topic}, via ${ffi}`, with a fresh stand-in
 * built before it, reset before each test and disposed after it.
 */
export function describeOnStandIn(topic: string, body: (abi: StandInSession) => void): void {
  for (const { ffi, skip: why } of providerRuns(skip)) {
    describe(`${SUITE}: ${topic}, via ${ffi}`, { skip: why }, () => {
      const abi = new StandInSession(ffi);
      before(() => {
        abi.standIn = buildStandIn();
        abi.store = createMacosKeyringStore({
          securityLibraryPath: abi.standIn.libraryPath,
          coreFoundationLibraryPath: abi.standIn.libraryPath,
          timeoutMs: 30_000,
          ffi,
        });
      });
      after(() => abi.standIn?.dispose());
      beforeEach(() => abi.standIn.reset());
      body(abi);
    });
  }
}
