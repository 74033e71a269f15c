#!/usr/bin/env bash
# bench.sh [--quick] [--only a,b] [--out dir]: the benchmark suite (`npm run bench`).
#
# 1. builds with tsc (into dist/; errors in unrelated files do not stop the emit), then the bundle;
# 2. in full mode, installs keytar on demand into .cache/bench-anchors/ (gitignored; never the
#    project's node_modules) and skips its rows with the printed reason when that fails;
# 3. when the "wine" part runs, prepares Wine with scripts/wine-setup.sh (its rows say why when
#    that fails);
# 3b. when the "codex-race" part runs, installs the real Codex CLI with scripts/codex-setup.sh;
# 4. starts a private D-Bus bus + unlocked gnome-keyring (scripts/keyring-up.sh) and always
#    stops it again (scripts/keyring-down.sh), also on Ctrl-C;
# 5. runs node dist/bench/run.js (or $BENCH_BUILD_DIR/bench/run.js), which prints the Markdown table and writes
#    bench/results/latest.{json,md} (quick mode: .cache/bench/quick/).
#
# --quick (or BENCH_QUICK=1) runs a few iterations only, to prove the suite still works
# (CI: `npm run bench -- --quick`, well under a minute). Benchmarks never assert times.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

quick=${BENCH_QUICK:-0}
for arg in "$@"; do [ "$arg" = "--quick" ] && quick=1; done
export BENCH_QUICK=$quick

# BENCH_BUILD_DIR (default dist) lets a run use a private build that no concurrent
# `npm run build` can rewrite halfway through the suite.
build=${BENCH_BUILD_DIR:-dist}
echo "bench: building (tsc -> $build)" >&2
mkdir -p .cache
if ! npx --no-install tsc -p tsconfig.json --outDir "$build" >.cache/bench-tsc.log 2>&1; then
  echo "bench: tsc reported $(grep -c 'error TS' .cache/bench-tsc.log || true) type errors; using what it emitted" >&2
  grep 'error TS' .cache/bench-tsc.log | grep '^bench/' >&2 || true
fi
[ -f "$build/bench/run.js" ] || { echo "bench: $build/bench/run.js was not built" >&2; exit 1; }
# The package runs the bundle (scripts/bundle.ts); the cold-start rows import it.
node "$build/scripts/bundle.js" || { echo "bench: bundling $build failed" >&2; exit 1; }

# keytar is an anchor only "if it builds here": it needs libsecret-1-dev, a C++ toolchain,
# python3 and Node headers (node-gyp; prebuilt binaries come from GitHub, often unreachable).
if [ "$quick" != "1" ] && [ -z "${BENCH_KEYTAR_SKIP:-}" ]; then
  anchors=.cache/bench-anchors
  if [ ! -f "$anchors/node_modules/keytar/build/Release/keytar.node" ]; then
    if ! pkg-config --exists libsecret-1 2>/dev/null; then
      export BENCH_KEYTAR_SKIP="keytar not built: libsecret-1-dev (pkg-config libsecret-1) is missing"
    else
      echo "bench: installing keytar into $anchors (once; log in $anchors/install.log)" >&2
      mkdir -p "$anchors"
      [ -f "$anchors/package.json" ] ||
        echo '{"name":"authkeep-bench-anchors","private":true,"description":"keytar for the benchmarks only; installed by scripts/bench.sh"}' >"$anchors/package.json"
      # Newer npm may hold back install scripts (allowScripts); then build the addon ourselves.
      if ! (cd "$anchors" && timeout 600 npm install --no-audit --no-fund keytar@7.9.0 >install.log 2>&1 &&
            { [ -f node_modules/keytar/build/Release/keytar.node ] ||
              (cd node_modules/keytar && timeout 600 npx --no-install node-gyp rebuild >>../../install.log 2>&1) ||
              (cd node_modules/keytar && timeout 600 npm exec --yes -- node-gyp rebuild >>../../install.log 2>&1); } &&
            [ -f node_modules/keytar/build/Release/keytar.node ]); then
        export BENCH_KEYTAR_SKIP="keytar failed to install or build (see $anchors/install.log)"
      fi
    fi
  fi
  if [ -n "${BENCH_KEYTAR_SKIP:-}" ]; then echo "bench: skipping keytar rows: $BENCH_KEYTAR_SKIP" >&2; fi
elif [ "$quick" = "1" ]; then
  export BENCH_KEYTAR_SKIP="skipped in quick mode"
fi

# Wine with the official Windows node.exe, for the "wine" part only (scripts/wine-setup.sh, cached in
# .cache/wine; the first run downloads node.exe). When it cannot be set up, that part's rows say why.
only=""
previous=""
for arg in "$@"; do [ "$previous" = "--only" ] && only=$arg; previous=$arg; done
if [ -z "$only" ] || [[ ",$only," == *,wine,* ]]; then
  echo "bench: preparing Wine (scripts/wine-setup.sh; log in .cache/bench-wine-setup.log)" >&2
  if wine_env=$(bash scripts/wine-setup.sh 2>.cache/bench-wine-setup.log); then
    eval "$wine_env"
  else
    reason=$(sed -n '/ERROR:/,$p' .cache/bench-wine-setup.log | sed 's/^wine-setup: ERROR: //; s/(log above)/(log in .cache\/bench-wine-setup.log)/' |
      tr -s '\n ' ' ' | sed 's/ $//')
    export BENCH_WINE_SKIP="scripts/wine-setup.sh failed: ${reason:-see .cache/bench-wine-setup.log}"
    echo "bench: skipping the Wine rows: $BENCH_WINE_SKIP" >&2
  fi
fi

# The real Codex CLI, for the "codex-race" part only (scripts/codex-setup.sh, cached in .ci/rt-codex).
# When it cannot be installed, that part's row says why (bench/codex-race.ts reads AUTHKEEP_CODEX_BIN).
if [ -z "$only" ] || [[ ",$only," == *,codex-race,* ]]; then
  if codex_env=$(bash scripts/codex-setup.sh 2>.cache/bench-codex-setup.log); then
    eval "$codex_env"
  else
    echo "bench: the Codex CLI could not be installed (log in .cache/bench-codex-setup.log); its race rows will say so" >&2
  fi
fi

# Our own keyring: never the user's session keyring, and always torn down.
unset KR_DIR
for tool in dbus-daemon gnome-keyring-daemon secret-tool; do
  command -v "$tool" >/dev/null ||
    echo "bench: $tool is missing, so keyring rows will say unavailable; install the keyring packages with: sudo bash scripts/ensure-system-deps.sh" >&2
done
if keyring_env=$(bash scripts/keyring-up.sh); then
  eval "$keyring_env"
  trap 'bash scripts/keyring-down.sh' EXIT
  trap 'exit 130' INT TERM
else
  echo "bench: could not start a private keyring; keyring rows will say unavailable" >&2
  unset DBUS_SESSION_BUS_ADDRESS
fi

node "$build/bench/run.js" "$@"
