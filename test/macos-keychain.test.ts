/**
 * The macOS keychain backend against Apple's real Security.framework. Runs
 * only on macOS (the CI workflow's macos-latest job, with a throwaway default
 * keychain); everywhere else it is skipped with the reason.
 *
 * Items use random service names and are deleted afterwards. Items we create
 * belong to this process (node), so reading them back never prompts.
 *
 * It runs on every FFI provider the runtime has (koffi on Node; `bun:ffi` and
 * koffi on Bun; `Deno.dlopen` and koffi on Deno).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import process from "node:process";
import { setTimeout as delay } from "node:timers/promises";
import { KeyringError } from "../src/contract/keyring-error.ts";
import { createMacosKeyringStore } from "../native/macos/store.ts";
import type { FfiProviderName } from "../native/ffi/index.ts";
import { providerRuns } from "./macos-abi/providers.ts";

const skip = process.platform === "darwin"
  ? false
  : `needs macOS and its real keychain (this is ${process.platform}); test/macos-keychain-abi-*.test.ts check the binding against an ABI stand-in instead`;

const SUITE = "macOS keychain backend against the real keychain (Security.framework)";

function names(): { service: string; account: string } {
  const id = randomUUID().slice(0, 12);
  return { service: `authkeep-test ${id}`, account: `cli|${id}0000` };
}

/** `security find-generic-password` without -w: attributes only, so no access prompt. */
function attributes(service: string, account: string): string {
  return execFileSync("security", ["find-generic-password", "-s", service, "-a", account], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function attribute(dump: string, name: string): string | undefined {
  return dump.split("\n").find((line) => line.trimStart().startsWith(`"${name}"`))?.trim();
}

function realKeychainSuite(ffi: FfiProviderName, skip: string | false): void {
  describe(`${SUITE}, via ${ffi}`, { skip }, () => {
    const store = createMacosKeyringStore({ timeoutMs: 20_000, ffi });

    for (const mode of ["sync", "async"] as const) {
      const call = {
        load: (s: string, a: string) => (mode === "sync" ? Promise.resolve(store.loadSync(s, a)) : store.load(s, a)),
        save: (s: string, a: string, v: string) =>
          mode === "sync" ? Promise.resolve(store.saveSync(s, a, v)) : store.save(s, a, v),
        delete: (s: string, a: string) => (mode === "sync" ? Promise.resolve(store.deleteSync(s, a)) : store.delete(s, a)),
      };
      const n = mode === "sync"
        ? { load: "loadSync()", save: "saveSync()", delete: "deleteSync()" }
        : { load: "load()", save: "save()", delete: "delete()" };

      test(`real keychain: ${n.load} is null and ${n.delete} is false for a missing item`, async () => {
        const { service, account } = names();
        assert.equal(await call.load(service, account), null);
        assert.equal(await call.delete(service, account), false);
      });

      test(`real keychain: ${n.save}, ${n.load} and ${n.delete} round-trip UTF-8 as a generic password (service, account, label)`, async () => {
        const { service, account } = names();
        const value = JSON.stringify({ note: "このきれいな花は桜です 🔑", OPENAI_API_KEY: null });
        try {
          await call.save(service, account, value);
          assert.equal(await call.load(service, account), value);
          const dump = attributes(service, account);
          assert.match(dump, /class: "genp"/);
          assert.equal(attribute(dump, "svce"), `"svce"<blob>="${service}"`);
          assert.equal(attribute(dump, "acct"), `"acct"<blob>="${account}"`);
          // The label is printed as "labl" or, by older `security` versions, as attribute 0x00000007.
          const label = attribute(dump, "labl") ?? dump.split("\n").find((line) => line.trim().startsWith("0x00000007"))?.trim();
          assert.ok(label?.endsWith(`<blob>="${service}"`), label);
          if (process.env.AUTHKEEP_MACOS_KEYCHAIN) {
            // CI made a throwaway keychain the default: the item must have gone there.
            assert.ok(dump.includes(process.env.AUTHKEEP_MACOS_KEYCHAIN), dump.split("\n")[0]);
          }
          assert.equal(await call.delete(service, account), true);
        } finally {
          // Cleanup only: a failure above must not be hidden by this one.
          await call.delete(service, account).catch(() => false);
        }
        assert.equal(await call.load(service, account), null);
        assert.equal(await call.delete(service, account), false);
      });

      test(`real keychain: ${n.save} over an existing item keeps the item (its creation date), replacing only the data`, async () => {
        const { service, account } = names();
        try {
          await call.save(service, account, "first");
          const created = attribute(attributes(service, account), "cdat");
          assert.ok(created, "no creation date attribute");
          // Creation dates have one-second resolution: a re-created item would show a later one.
          await delay(1100);
          await call.save(service, account, "second");
          assert.equal(await call.load(service, account), "second");
          assert.equal(attribute(attributes(service, account), "cdat"), created);
        } finally {
          await call.delete(service, account).catch(() => false);
        }
      });
    }

    test("real keychain: an item written by the `security` tool (readable by any app) is read back", async () => {
      const { service, account } = names();
      const value = '{"auth_mode":"apikey","OPENAI_API_KEY":"sk-test"}';
      execFileSync("security", ["add-generic-password", "-A", "-s", service, "-a", account, "-w", value]);
      try {
        assert.equal(await store.load(service, account), value);
        assert.equal(store.loadSync(service, account), value);
        assert.equal(store.deleteSync(service, account), true);
      } finally {
        await store.delete(service, account).catch(() => false);
      }
    });

    test("real keychain: items are shared both ways with keyring-rs's apple-native store (@napi-rs/keyring), as with Codex CLI", async (t) => {
      let Entry: new (service: string, account: string) => {
        setPassword(value: string): void;
        getPassword(): string | null;
        deletePassword(): boolean;
      };
      try {
        ({ Entry } = createRequire(import.meta.url)("@napi-rs/keyring"));
      } catch (error) {
        t.skip(`@napi-rs/keyring is not loadable here: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
      const { service, account } = names();
      const entry = new Entry(service, account);
      try {
        entry.setPassword('{"from":"keyring-rs ☃"}');
        assert.equal(await store.load(service, account), '{"from":"keyring-rs ☃"}');
        await store.save(service, account, '{"from":"authkeep ☃"}');
        assert.equal(entry.getPassword(), '{"from":"authkeep ☃"}');
      } finally {
        await store.delete(service, account).catch(() => false);
      }
      assert.equal(entry.getPassword(), null);
    });

    test("real keychain: a wrong framework path is reported as unavailable", () => {
      const broken = createMacosKeyringStore({ securityLibraryPath: "/nonexistent/Security.framework/Security", ffi });
      assert.throws(
        () => broken.loadSync("s", "a"),
        (error) => error instanceof KeyringError && error.kind === "unavailable" && error.backend === "macos",
      );
    });
  });
}

for (const { ffi, skip: why } of providerRuns(skip)) realKeychainSuite(ffi, why);
