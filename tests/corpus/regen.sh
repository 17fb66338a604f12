#!/bin/sh
# Regenerate the expected output of every corpus case with the Go reference
# (tests/goref). Idempotent: run it after adding or editing any case.
#
# A case is tests/corpus/AREA/NAME.tmpl with optional NAME.json (data) and
# NAME.flags (one line of extra flags, split on whitespace). The reference is
# run from the repository root as
#     goref preview tests/corpus/AREA/NAME.tmpl [--data tests/corpus/AREA/NAME.json] [flags]
# i.e. the template name is the path relative to the repository root; the C++
# test (tests/unit/corpus_test.cpp) passes it the same way.
# Success writes NAME.out (exact stdout); failure writes NAME.err: the exit
# status on the first line, then Go's error message (informational).
# The tests/corpus/sprig_* areas use Sprig and come from regen-sprig.sh instead.
# A case with NAME.manual keeps its expectation by hand: Go 1.24's range over
# an integer, which the Go 1.23 reference in Debian cannot produce.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
GO=${GO:-/usr/lib/go-1.23/bin/go}
export GOFLAGS=${GOFLAGS:--mod=mod} GOPATH=${GOPATH:-/tmp/gopath} GOCACHE=${GOCACHE:-/tmp/gocache}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root/tests/goref" && "$GO" build -o "$tmp/goref" .)

cd "$root"
# Drop expectations whose template was deleted or renamed.
for exp in tests/corpus/*/*.out tests/corpus/*/*.err; do
  [ -e "$exp" ] || continue
  case $exp in tests/corpus/sprig_*) continue ;; esac
  [ -f "${exp%.*}.tmpl" ] || { echo "regen: removing orphan $exp"; rm -f "$exp"; }
done
n=0; nout=0; nerr=0
for tmpl in tests/corpus/*/*.tmpl; do
  case $tmpl in tests/corpus/sprig_*) continue ;; esac
  base=${tmpl%.tmpl}
  # NAME.manual: the expectation is kept by hand (behaviour newer than the reference Go).
  if [ -f "$base.manual" ]; then n=$((n + 1)); continue; fi
  set -- preview "$tmpl"
  [ -f "$base.json" ] && set -- "$@" --data "$base.json"
  if [ -f "$base.flags" ]; then
    # shellcheck disable=SC2046
    set -- "$@" $(cat "$base.flags")
  fi
  status=0
  "$tmp/goref" "$@" >"$tmp/stdout" 2>"$tmp/stderr" || status=$?
  if [ "$status" -eq 0 ]; then
    cp "$tmp/stdout" "$base.out"; rm -f "$base.err"; nout=$((nout + 1))
  elif [ "$status" -eq 1 ]; then
    { echo 1; cat "$tmp/stderr"; } >"$base.err"; rm -f "$base.out"; nerr=$((nerr + 1))
  else
    echo "regen: $tmpl: reference exited with status $status (usage error?)" >&2
    cat "$tmp/stderr" >&2
    exit 1
  fi
  n=$((n + 1))
done
echo "regen: $n cases ($nout .out, $nerr .err)"
