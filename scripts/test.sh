#!/usr/bin/env bash
# npm test: everything the test suite needs, brought up here, then the suite on Node (built dist/).
#   1. the Debian packages (installed when missing and running as root; otherwise the exact command)
#   2. the TypeScript build (dist/) and the bundle (dist/bundle/), then the linter (biome.json)
#   3. a private headless gnome-keyring on a private D-Bus session bus (torn down on exit)
#   4. the real Codex CLI (scripts/codex-setup.sh), Linux and Windows builds
#   5. Wine with the Windows node.exe, for the Credential Manager tests (and codex.exe)
#   6. node --test over dist/test/*.test.js
# Extra arguments are passed to node --test (e.g. npm test -- --test-name-pattern=keyring).
set -euo pipefail
cd "$(dirname "$0")/.."
export NO_COLOR=1

bash scripts/ensure-system-deps.sh
[ -d node_modules/typescript ] || npm install --no-audit --no-fund
npm run build --silent   # tsc, then the bundle the package publishes (scripts/bundle.ts)
# Lint (Biome: one fast binary from npm, no plugin tree; rules in biome.json). Errors fail the run.
node_modules/.bin/biome lint --diagnostic-level=error src native test bench scripts

keyring_env=$(env -u KR_DIR bash scripts/keyring-up.sh)
eval "$keyring_env"
trap 'bash scripts/keyring-down.sh' EXIT

# The real Codex CLI 0.169.0 (Linux binary, and the Windows build for Wine): AUTHKEEP_CODEX_BIN,
# AUTHKEEP_CODEX_EXE. Cached in .ci/rt-codex; not a devDependency (see the script).
codex_env=$(CODEX_WIN=1 bash scripts/codex-setup.sh)
eval "$codex_env"
export AUTHKEEP_REQUIRE_CODEX=1   # the Codex tests fail, never skip, when the binary is missing

# Exports AUTHKEEP_WINE_NODE (the Windows node.exe) and WINEPREFIX for test/windows-*.test.ts.
# A plain `eval "$(...)"` would not stop on failure under set -e, so capture first.
wine_env=$(bash scripts/wine-setup.sh)
eval "$wine_env"
export AUTHKEEP_REQUIRE_WINE=1

# Node 20's --test takes no globs: the shell expands the list.
node --test --test-concurrency=2 "$@" dist/test/*.test.js
