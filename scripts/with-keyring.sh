#!/usr/bin/env bash
# with-keyring.sh CMD [ARGS...]: run CMD with a private, unlocked gnome-keyring on a private
# session bus (DBUS_SESSION_BUS_ADDRESS exported to CMD); always tears both down afterwards.
# The exit status of CMD is preserved.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
eval "$(env -u KR_DIR bash "$here/keyring-up.sh")"
trap 'bash "$here/keyring-down.sh"' EXIT
"$@"
