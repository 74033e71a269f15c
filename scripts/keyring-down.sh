#!/usr/bin/env bash
# keyring-down.sh: stop what keyring-up.sh started (by PID) and remove its directory.
# Expects KR_DBUS_PID, KR_GKD_PID and KR_DIR in the environment (from keyring-up.sh).
# The daemon may have been restarted by a test (wrong password, SIGSTOP), so also stop any
# gnome-keyring-daemon that lives on this private bus's directory.
[ -n "${KR_GKD_PID:-}" ] && kill -CONT "$KR_GKD_PID" 2>/dev/null && kill "$KR_GKD_PID" 2>/dev/null
if [ -n "${KR_DIR:-}" ]; then
  pkill -f "XDG_RUNTIME_DIR=$KR_DIR" 2>/dev/null || true
fi
[ -n "${KR_DBUS_PID:-}" ] && kill "$KR_DBUS_PID" 2>/dev/null
case "${KR_DIR:-}" in /tmp/headless-keyring.*) rm -rf "$KR_DIR" ;; esac
exit 0
