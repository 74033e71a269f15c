#!/usr/bin/env bash
# keyring-down.sh: stop what keyring-up.sh started (by PID) and remove its directory.
# Expects KR_DBUS_PID, KR_GKD_PID and KR_DIR in the environment (from keyring-up.sh).
# A test may have restarted the daemon (wrong password, --replace) or stopped it (SIGSTOP), so
# also stop every process whose environment names this keyring's private runtime directory.
[ -n "${KR_GKD_PID:-}" ] && { kill -CONT "$KR_GKD_PID"; kill "$KR_GKD_PID"; } 2>/dev/null
if [ -n "${KR_DIR:-}" ]; then
  for environ in /proc/[0-9]*/environ; do
    pid=${environ#/proc/}; pid=${pid%/environ}
    if { tr "\0" "\n" < "$environ"; } 2>/dev/null | grep -qxF "XDG_RUNTIME_DIR=$KR_DIR/run"; then
      { kill -CONT "$pid"; kill "$pid"; } 2>/dev/null
    fi
  done
fi
[ -n "${KR_DBUS_PID:-}" ] && kill "$KR_DBUS_PID" 2>/dev/null
case "${KR_DIR:-}" in /tmp/headless-keyring.*) rm -rf "$KR_DIR" ;; esac
exit 0
