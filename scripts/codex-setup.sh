#!/usr/bin/env bash
# codex-setup.sh: installs the real Codex CLI (npm @openai/codex, platform package only) into the
# git-ignored .ci/rt-codex/<version>/, cached, and prints shell exports for the tests:
#
#   eval "$(bash scripts/codex-setup.sh)"              # exports AUTHKEEP_CODEX_BIN (Linux x64 binary)
#   CODEX_WIN=1 eval "$(bash scripts/codex-setup.sh)"  # also AUTHKEEP_CODEX_EXE (Windows build, for Wine)
#   CODEX_VERSION=latest bash scripts/codex-setup.sh   # the drift check's newest release
#
# Why not a devDependency: the Linux package is ~60 MB packed (the Windows one 187 MB), and
# `npm install && npm start` must stay light. Why only the platform packages: the `@openai/codex`
# wrapper is a JS launcher that finds the same binary; calling the binary directly keeps the tests
# independent of the launcher and of Node's version.
set -euo pipefail
cd "$(dirname "$0")/.."

version="${CODEX_VERSION:-0.169.0}"
if [ "$version" = latest ]; then
  version=$(npm view @openai/codex version)
fi
dir=${AUTHKEEP_CODEX_CACHE:-$PWD/.ci/rt-codex}/$version
mkdir -p "$dir"
[ -f "$dir/package.json" ] || echo '{"private":true}' > "$dir/package.json"

linux_bin=$dir/node_modules/codex-linux/vendor/x86_64-unknown-linux-musl/bin/codex
win_exe=$dir/node_modules/codex-win32/vendor/x86_64-pc-windows-msvc/bin/codex.exe

install() { # alias spec
  echo "codex-setup: installing @openai/codex@$2 as $1 into .ci/rt-codex/$version (one-off)" >&2
  (cd "$dir" && npm install --no-save --no-audit --no-fund --no-package-lock --ignore-scripts \
      "$1@npm:@openai/codex@$2") >&2
}

if [ ! -x "$linux_bin" ]; then
  install codex-linux "$version-linux-x64"
  [ -x "$linux_bin" ] || { echo "codex-setup: $linux_bin missing after install" >&2; exit 1; }
fi
echo "codex-setup: $("$linux_bin" --version 2>/dev/null | head -1)" >&2
echo "export AUTHKEEP_CODEX_BIN='$linux_bin'"
echo "export AUTHKEEP_CODEX_VERSION='$version'"

if [ "${CODEX_WIN:-0}" = 1 ]; then
  if [ ! -f "$win_exe" ]; then
    # npm refuses a win32 package on Linux (EBADPLATFORM), so unpack the tarball by hand.
    echo "codex-setup: unpacking the Windows build too (187 MB packed, one-off)" >&2
    mkdir -p "$dir/node_modules/codex-win32"
    tgz=$(cd "$dir" && npm pack --silent "@openai/codex@$version-win32-x64")
    tar xzf "$dir/$tgz" -C "$dir/node_modules/codex-win32" --strip-components=1
    rm -f "$dir/$tgz"
    [ -f "$win_exe" ] || { echo "codex-setup: $win_exe missing after unpacking" >&2; exit 1; }
  fi
  echo "export AUTHKEEP_CODEX_EXE='$win_exe'"
fi
