#!/bin/sh
# Regenerate the expected output of the Sprig corpus areas (tests/corpus/sprig_*/) with the
# Sprig reference (tests/sprigref). Cases follow regen.sh's layout (NAME.tmpl, optional
# NAME.json); an error case's NAME.err holds the exit status and Go's message, which
# corpus_test.cpp compares byte for byte for these areas (unless NAME.status_only says why not).
#
# The reference builds offline from Debian packages, in GOPATH mode (no module proxy):
#     apt-get install golang-go golang-github-masterminds-sprig-dev golang-github-davecgh-go-spew-dev
# (tests/corpus/sprig_spew pins consul-template's spew_* functions the same way).
# Debian installs Sprig and semver without the /v3 suffix their import paths use, so a
# scratch GOPATH links them under it. CI does not need Go: the expectations are committed.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
GO=${GO:-go}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gocode=/usr/share/gocode/src/github.com/Masterminds
mkdir -p "$tmp/gopath/src/github.com/Masterminds/sprig" "$tmp/gopath/src/github.com/Masterminds/semver"
ln -s "$gocode/sprig" "$tmp/gopath/src/github.com/Masterminds/sprig/v3"
ln -s "$gocode/semver" "$tmp/gopath/src/github.com/Masterminds/semver/v3"
(cd "$root/tests/sprigref" &&
  GO111MODULE=off GOPATH="$tmp/gopath:/usr/share/gocode" GOCACHE="${GOCACHE:-$tmp/gocache}" \
    "$GO" build -o "$tmp/sprigref" .)

cd "$root"
for exp in tests/corpus/sprig_*/*.out tests/corpus/sprig_*/*.err; do
  [ -e "$exp" ] || continue
  [ -f "${exp%.*}.tmpl" ] || { echo "regen-sprig: removing orphan $exp"; rm -f "$exp"; }
done
n=0
for tmpl in tests/corpus/sprig_*/*.tmpl; do
  base=${tmpl%.tmpl}
  if [ -f "$base.manual" ]; then n=$((n + 1)); continue; fi
  set -- preview "$tmpl"
  [ -f "$base.json" ] && set -- "$@" --data "$base.json"
  status=0
  "$tmp/sprigref" "$@" >"$tmp/stdout" 2>"$tmp/stderr" || status=$?
  if [ "$status" -eq 0 ]; then
    cp "$tmp/stdout" "$base.out"; rm -f "$base.err"
  elif [ "$status" -eq 1 ]; then
    { echo 1; cat "$tmp/stderr"; } >"$base.err"; rm -f "$base.out"
  else
    echo "regen-sprig: $tmpl: reference exited with status $status" >&2
    cat "$tmp/stderr" >&2
    exit 1
  fi
  n=$((n + 1))
done
echo "regen-sprig: $n cases"
