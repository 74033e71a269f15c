/**
 * authkeep's own package.json, found from this file (it sits at
 * `src/cli/` in the sources and `dist/src/cli/` when built).
 *
 * @module
 */
import { nodeFs } from "../contract/_node-builtins.ts";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The fields the CLI uses. */
export interface PackageInfo {
  name: string;
  version: string;
  optionalDependencies: Record<string, string>;
}

let cached: PackageInfo | undefined;

/** Reads authkeep's package.json (the nearest one named `authkeep` above this file). */
export function packageInfo(): PackageInfo {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const json = JSON.parse(nodeFs().readFileSync(join(dir, "package.json"), "utf8")) as Partial<PackageInfo>;
      if (json.name === "authkeep") {
        cached = {
          name: json.name,
          version: typeof json.version === "string" ? json.version : "0.0.0",
          optionalDependencies: { ...json.optionalDependencies },
        };
        return cached;
      }
    } catch {
      // Not here: look one level up.
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  cached = { name: "authkeep", version: "unknown", optionalDependencies: {} };
  return cached;
}

/**
 * The npm package that provides FFI to the native keyrings (authkeep's one
 * optional dependency), as `name@version`, for install hints.
 */
export function ffiPackageSpec(): string {
  const [name, version] = Object.entries(packageInfo().optionalDependencies)[0] ?? [];
  if (name === undefined) return "the optional FFI dependency";
  return version ? `${name}@${version}` : name;
}
