#!/usr/bin/env bash
# Checks the systemd units with `systemd-analyze verify`, on copies whose ExecStart names the
# built binary (verify insists that the programs exist). Any message is a failure: verify exits
# 0 on unknown keys and unparsable values, printing a warning.
# Usage: verify_units.sh SOURCE_DIR TEMPLET_BINARY     Exit 77 (skipped) without systemd-analyze.
set -euo pipefail
src=$1 binary=$2
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not found: skipped"; exit 77; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for unit in templet.service templet-boot.service; do
  sed "s#/usr/bin/templet#${binary}#g" "$src/packaging/systemd/$unit" >"$work/$unit"
done
# --man=no: the man page is checked by the package test, not installed here.
out=$(cd "$work" && systemd-analyze verify --man=no ./templet.service ./templet-boot.service 2>&1) \
  || { echo "$out"; echo "systemd-analyze verify failed"; exit 1; }
if [[ -n "$out" ]]; then
  echo "$out"
  echo "systemd-analyze verify printed warnings"
  exit 1
fi
# The daemon's watchdog: without it a wedged loop would never be restarted.
grep -qx 'WatchdogSec=[0-9]*min' "$src/packaging/systemd/templet.service" \
  || { echo "templet.service has no WatchdogSec="; exit 1; }
echo "both units verify cleanly"
