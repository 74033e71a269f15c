/**
 * The API report: the declarations the package's entries reach (tsc's
 * `dist/types`, exactly what the package ships), comments stripped, in one
 * Markdown file, `api/authkeep.api.md`. `test/api-report.test.ts` fails when the
 * committed file differs from the build, so a change to the public surface
 * (a name, a parameter, an option, a type) shows up in review.
 *
 * Usage: `npm run api` (build, then write the file).
 *
 * @module
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** Where the repository's files are, seen from dist/scripts/ or scripts/. */
const root = fileURLToPath(new URL(import.meta.url.includes("/dist/") ? "../../" : "../", import.meta.url));
/** The committed report. */
export const API_REPORT_PATH = join(root, "api", "authkeep.api.md");

/** The declarations without comments, source-map lines or blank lines. */
function stripped(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .split("\n")
    .filter((line) => !/^\s*\/\//.test(line) && line.trim() !== "")
    .join("\n");
}

/** The report as the current build (`dist/types`) makes it. */
export function renderApiReport(typesDir = join(root, "dist", "types")): string {
  const files = readdirSync(typesDir, { recursive: true })
    .map(String)
    .filter((name) => name.endsWith(".d.ts"))
    .map((name) => relative(typesDir, join(typesDir, name)).split("\\").join("/"))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const parts = [
    "# API report: authkeep",
    "",
    "Made by `npm run api` from `dist/types`, the declarations the package ships for its entries",
    "`authkeep` (`src/index.d.ts`) and `authkeep/testing` (`src/testing.d.ts`). A change to the public",
    "surface must update this file: `test/api-report.test.ts` compares it with the build.",
  ];
  for (const file of files) {
    parts.push("", `## ${file}`, "", "```ts", stripped(readFileSync(join(typesDir, file), "utf8")), "```");
  }
  return `${parts.join("\n")}\n`;
}

// The entries first, then the rest by path.
function rank(file: string): number {
  return file === "src/index.d.ts" ? 0 : file === "src/testing.d.ts" ? 1 : 2;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(API_REPORT_PATH, renderApiReport());
  console.error(`api-report: wrote ${relative(root, API_REPORT_PATH)}`);
}
