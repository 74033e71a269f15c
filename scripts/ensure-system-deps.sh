#!/usr/bin/env bash
# ensure-system-deps.sh: make sure the Debian packages the tests need are installed.
# As root, installs what is missing with apt-get. Otherwise prints the exact command and fails.
#
#   dbus gnome-keyring libsecret-1-0 libsecret-tools   the real Secret Service keyring (Linux tests)
#   wine wine64                                         the Windows node.exe (Credential Manager tests)
#   gcc libc6-dev                                       builds the macOS ABI stand-in (test/macos-abi)
#   gcc-mingw-w64-x86-64-win32                          builds bcryptprimitives.dll for @napi-rs/keyring under Wine
set -euo pipefail
packages=(dbus gnome-keyring libsecret-1-0 libsecret-tools wine wine64 gcc libc6-dev gcc-mingw-w64-x86-64-win32)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "authkeep tests need these Debian packages: ${missing[*]}" >&2
  echo "Install them as root, then run npm test again:" >&2
  echo "  sudo sh -c '$cmd'" >&2
  exit 1
fi
echo "ensure-system-deps: installing ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
