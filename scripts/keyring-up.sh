#!/usr/bin/env bash
# keyring-up.sh: start a private D-Bus session bus and an unlocked gnome-keyring
# (Secret Service, org.freedesktop.secrets), headless, for tests, benchmarks and CI.
#
# Needs (Debian/Ubuntu): dbus gnome-keyring libsecret-1-0 libsecret-tools
#   (scripts/ensure-system-deps.sh installs them).
#
# Usage:   eval "$(bash scripts/keyring-up.sh)"   # exports DBUS_SESSION_BUS_ADDRESS, KR_* ...
#          ... run things ...
#          bash scripts/keyring-down.sh            # kills both daemons by PID, removes the dir
#
# Works as root or as an ordinary user, with no X/Wayland display, no PAM and no systemd.
# The daemon is started right after the fresh bus exists, so D-Bus activation never gets to
# start a second gnome-keyring without a "login" collection ("no default collection").
set -euo pipefail

KR_DIR=${KR_DIR:-$(mktemp -d /tmp/headless-keyring.XXXXXX)}
KR_PASSWORD=${KR_PASSWORD:-ci-keyring-password}
mkdir -p "$KR_DIR/data" && mkdir -p -m 700 "$KR_DIR/run"

# 1) A private session bus. --fork returns once the bus is listening.
bus_out=$(dbus-daemon --session --fork --nopidfile \
            --address="unix:path=$KR_DIR/bus" --print-address=1 --print-pid=1)
DBUS_SESSION_BUS_ADDRESS=$(printf '%s\n' "$bus_out" | sed -n 1p)
KR_DBUS_PID=$(printf '%s\n' "$bus_out" | sed -n 2p)
export DBUS_SESSION_BUS_ADDRESS

# 2) gnome-keyring-daemon, secrets component only. The "login" keyring is created (first run)
#    or unlocked (later runs) from the password on stdin; the "default" alias points at it.
#    XDG_DATA_HOME keeps the keyring files in $KR_DIR, XDG_RUNTIME_DIR its control socket.
printf '%s' "$KR_PASSWORD" | \
  env XDG_DATA_HOME="$KR_DIR/data" XDG_RUNTIME_DIR="$KR_DIR/run" \
  gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null

# 3) Wait until org.freedesktop.secrets has an owner, then check the default collection.
for _ in $(seq 1 100); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
       org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null \
       | grep -q 'boolean true'; then break; fi
  sleep 0.05
done
KR_GKD_PID=$(dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
  org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets | awk '/uint32/{print $2}')
alias_path=$(dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
  org.freedesktop.Secret.Service.ReadAlias string:default | awk '/object path/{print $3}' | tr -d '"')
locked=$(dbus-send --session --print-reply --dest=org.freedesktop.secrets "$alias_path" \
  org.freedesktop.DBus.Properties.Get string:org.freedesktop.Secret.Collection string:Locked \
  | awk '/boolean/{print $3}')
if [ "$alias_path" = "/" ] || [ "$locked" != "false" ]; then
  echo "keyring-up: default collection missing or locked (alias=$alias_path locked=$locked)" >&2
  kill "$KR_GKD_PID" "$KR_DBUS_PID" 2>/dev/null || true
  exit 1
fi

cat <<OUT
export DBUS_SESSION_BUS_ADDRESS='$DBUS_SESSION_BUS_ADDRESS'
export KR_DIR='$KR_DIR'
export KR_DBUS_PID=$KR_DBUS_PID
export KR_GKD_PID=$KR_GKD_PID
export KR_PASSWORD='$KR_PASSWORD'
OUT
echo "keyring-up: bus=$DBUS_SESSION_BUS_ADDRESS dbus_pid=$KR_DBUS_PID gkd_pid=$KR_GKD_PID default=$alias_path" >&2
