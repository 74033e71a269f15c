/**
 * Windows side of the Codex file-mode interop test: authkeep's file storage
 * run by the official Windows node.exe under Wine (from dist/, driven by
 * test/codex-wine.test.ts), on the same home the real codex.exe uses. Not a
 * *.test.ts file: the Linux runner must not pick it up.
 *
 * Usage: node.exe codex-file.win.js <results.json> <phase> <home> [<document.json>]
 *   load                 writes `{ done, auth }` (the loaded document, or null)
 *   save <document.json> saves that document (read from a file, never from argv)
 *   delete               writes `{ done, deleted }`
 *
 * Nothing is printed: the results file (in the test's private temp dir) is
 * the only output, so no secret reaches the test log.
 *
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { createAuthStorage } from "../../src/storage/create-auth-storage.ts";
import type { AuthDotJson } from "../../src/document/auth-types.ts";

const [resultsPath, phase, home, documentPath] = process.argv.slice(2);
if (!resultsPath || !phase || !home) {
  process.exitCode = 2;
} else {
  const storage = createAuthStorage({ home, mode: "file" });
  const results: Record<string, unknown> = { phase, platform: process.platform };
  try {
    if (phase === "load") results.auth = await storage.load();
    else if (phase === "save") await storage.save(JSON.parse(readFileSync(documentPath!, "utf8")) as AuthDotJson);
    else if (phase === "delete") results.deleted = await storage.delete();
    else throw new Error(`unknown phase ${phase}`);
    results.done = true;
  } catch (error) {
    // authkeep's errors carry no secret; the name and message say what failed.
    results.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  writeFileSync(resultsPath, JSON.stringify(results), { mode: 0o600 });
}
