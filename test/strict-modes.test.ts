/**
 * authkeep's StrictModes-style policy (src/storage/_strict-modes.ts): a load
 * warns about an auth.json others can read or write, one with several hard
 * links, and (as a real other user, uid 65534) a file or home owned by a
 * third user. Warnings only: the credentials still load.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, linkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { createAuthStorage, serializeAuthJson } from "../src/index.ts";
import { childCommand, childEnv, fakeAuth, fixturePath, makeHome, removeHome, slowTestsOff } from "./support/hardening-env.ts";

const posix = process.platform !== "win32";

function loadWarnings(home: string, style: "sync" | "async"): Promise<string[]> | string[] {
  const warnings: string[] = [];
  const storage = createAuthStorage({ home, onWarning: (message) => warnings.push(message) });
  if (style === "sync") {
    assert.equal(storage.loadSync()?.marker, "mine");
    return warnings;
  }
  return storage.load().then((auth) => {
    assert.equal(auth?.marker, "mine");
    return warnings;
  });
}

const CASES: [string, number, RegExp | null][] = [
  ["0600", 0o600, null],
  ["0644 (world-readable)", 0o644, /auth\.json can be read by other users; it is mode 644; run `chmod 600 /],
  ["0640 (group-readable)", 0o640, /can be read by other users; it is mode 640/],
  ["0666 (writable by others)", 0o666, /can be written by other users, and can be read by other users/],
];

for (const [name, fileMode, expected] of CASES) {
  for (const style of ["sync", "async"] as const) {
    test(`load${style === "sync" ? "Sync" : ""}() of an auth.json with mode ${name} ${expected ? "warns once and still loads" : "does not warn"}`, { skip: !posix }, async () => {
      const home = makeHome();
      try {
        writeFileSync(join(home, "auth.json"), serializeAuthJson(fakeAuth("mine")));
        chmodSync(join(home, "auth.json"), fileMode);
        const warnings = await loadWarnings(home, style);
        if (expected === null) assert.deepEqual(warnings, []);
        else {
          assert.equal(warnings.length, 1, warnings.join("\n"));
          assert.match(warnings[0]!, expected);
        }
      } finally {
        removeHome(home);
      }
    });
  }
}

test("a load warns when auth.json has another hard link (a save would split the two names)", { skip: !posix }, async () => {
  const home = makeHome();
  try {
    writeFileSync(join(home, "auth.json"), serializeAuthJson(fakeAuth("mine")), { mode: 0o600 });
    linkSync(join(home, "auth.json"), join(home, "elsewhere.json"));
    assert.match((await loadWarnings(home, "async")).join("\n"), /has 2 hard links, so another name shares these credentials/);
  } finally {
    removeHome(home);
  }
});

interface NobodyResult {
  outcome: string;
  value?: unknown;
  warnings: string[];
}

function loadAsNobody(home: string): NobodyResult {
  const [command, args] = childCommand(fixturePath("hardening-as-nobody"), [home, "load-async"]);
  return JSON.parse(execFileSync(command, args, { encoding: "utf8", env: childEnv(), timeout: 30_000 })) as NobodyResult;
}

const asNobodySkip = slowTestsOff ? "slow tests disabled (child processes)" : posix && process.getuid?.() === 0 ? false : "needs root to chown and to drop to uid 65534";

test("as uid 65534: an auth.json owned by a third user warns (it could have been planted), and still loads", { skip: asNobodySkip }, () => {
  const home = makeHome();
  try {
    chownSync(home, 65534, 65534);
    writeFileSync(join(home, "auth.json"), serializeAuthJson(fakeAuth("planted")), { mode: 0o644 });
    chownSync(join(home, "auth.json"), 12345, 12345);
    const result = loadAsNobody(home);
    assert.deepEqual([result.outcome, result.value], ["ok", "credentials"]);
    assert.match(result.warnings.join("\n"), /auth\.json is owned by another user \(uid 12345\), who could have planted it or can change it, and can be read by other users/);
  } finally {
    removeHome(home);
  }
});

test("as uid 65534: a home owned by a third user warns; files owned by the user or by root do not", { skip: asNobodySkip }, () => {
  const home = makeHome();
  try {
    chmodSync(home, 0o755);
    chownSync(home, 12345, 12345);
    writeFileSync(join(home, "auth.json"), serializeAuthJson(fakeAuth("mine")), { mode: 0o600 });
    chownSync(join(home, "auth.json"), 65534, 65534);
    const foreignHome = loadAsNobody(home);
    assert.equal(foreignHome.outcome, "ok");
    assert.equal(foreignHome.warnings.length, 1, foreignHome.warnings.join("\n"));
    assert.match(foreignHome.warnings[0]!, /is owned by another user \(uid 12345\).*run `chmod 700 /);
    // Root's own home (the usual sudo layout) holding the user's file: no warning.
    chownSync(home, 0, 0);
    assert.deepEqual(loadAsNobody(home).warnings, []);
  } finally {
    removeHome(home);
  }
});
