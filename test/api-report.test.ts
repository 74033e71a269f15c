// The committed API report matches the declarations the build ships (scripts/api-report.ts).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { API_REPORT_PATH, renderApiReport } from "../scripts/api-report.ts";

test("api/authkeep.api.md matches the public declarations of the build (run `npm run api` after changing them)", () => {
  const built = renderApiReport();
  assert.match(built, /## src\/index\.d\.ts/, "the report covers the main entry");
  assert.match(built, /export declare function createAuthStorage/, "the report holds signatures, not only names");
  const committed = readFileSync(API_REPORT_PATH, "utf8");
  if (committed !== built) {
    const a = committed.split("\n"), b = built.split("\n");
    const at = a.findIndex((line, i) => line !== b[i]);
    assert.fail(`the public API changed (first difference at line ${at + 1}: ${JSON.stringify(a[at])} → ${JSON.stringify(b[at])}); run \`npm run api\` and commit api/authkeep.api.md`);
  }
});
