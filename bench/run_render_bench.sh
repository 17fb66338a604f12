#!/bin/sh
# Whole-process render benchmark: templet vs the Go reference (tests/goref).
#
# Generates a large template + JSON (bench/gen_render_bench.py), checks that
# both programs print byte-identical output, then runs each RUNS times and
# prints a markdown table of the median wall time and median peak RSS.
#
# Environment:
#   TEMPLET_BIN  templet binary            (default: build/templet)
#   RUNS         timed runs per program    (default: 10)
#   ITEMS        items in the data set     (default: 25000)
#   SERVICES     services in the data set  (default: 200)
#   GO           Go toolchain              (default: /usr/lib/go-1.23/bin/go)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
TEMPLET_BIN=${TEMPLET_BIN:-$root/build/templet}
RUNS=${RUNS:-10}
ITEMS=${ITEMS:-25000}
SERVICES=${SERVICES:-200}
GO=${GO:-/usr/lib/go-1.23/bin/go}
export GOFLAGS=${GOFLAGS:--mod=mod} GOPATH=${GOPATH:-/tmp/gopath} GOCACHE=${GOCACHE:-/tmp/gocache}

if [ ! -x /usr/bin/time ]; then
  echo "bench: /usr/bin/time not found; installing the 'time' package" >&2
  apt-get install -y time >/dev/null || { echo "bench: please install GNU time (apt-get install time)" >&2; exit 1; }
fi
case $TEMPLET_BIN in /*) ;; *) TEMPLET_BIN=$(pwd)/$TEMPLET_BIN ;; esac
[ -x "$TEMPLET_BIN" ] || { echo "bench: templet binary not found: $TEMPLET_BIN (set TEMPLET_BIN)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root/tests/goref" && "$GO" build -o "$tmp/goref" .)
python3 "$root/bench/gen_render_bench.py" "$tmp" --items "$ITEMS" --services "$SERVICES" >/dev/null
T=$tmp/bench.tmpl
D=$tmp/bench.json

# Correctness first: identical output, both succeed.
"$tmp/goref" preview "$T" --data "$D" >"$tmp/go.out"
if ! "$TEMPLET_BIN" preview "$T" --data "$D" >"$tmp/templet.out" 2>"$tmp/templet.err"; then
  echo "bench: templet failed:" >&2; head -c 2000 "$tmp/templet.err" >&2; exit 1
fi
if ! cmp -s "$tmp/go.out" "$tmp/templet.out"; then
  echo "bench: outputs differ (first differences below)" >&2
  diff "$tmp/go.out" "$tmp/templet.out" | head -20 >&2
  exit 1
fi
out_bytes=$(wc -c <"$tmp/go.out")

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# measure NAME BINARY: RUNS runs; wall time from date(1) in ms resolution,
# peak RSS (KiB) from GNU time's %M (its %e is also recorded).
measure() {
  : >"$tmp/$1.wall"; : >"$tmp/$1.rss"
  i=0
  while [ "$i" -lt "$RUNS" ]; do
    start=$(date +%s%N)
    /usr/bin/time -f '%e %M' -o "$tmp/$1.time" "$2" preview "$T" --data "$D" >/dev/null
    end=$(date +%s%N)
    echo "$(( (end - start) / 1000 ))" | awk '{ printf "%.6f\n", $1 / 1e6 }' >>"$tmp/$1.wall"
    awk '{ print $2 }' "$tmp/$1.time" >>"$tmp/$1.rss"
    i=$((i + 1))
  done
}
measure go "$tmp/goref"
measure templet "$TEMPLET_BIN"

go_t=$(median <"$tmp/go.wall");          tp_t=$(median <"$tmp/templet.wall")
go_m=$(median <"$tmp/go.rss");           tp_m=$(median <"$tmp/templet.rss")

echo "Render benchmark: $ITEMS items, $SERVICES services, JSON $(wc -c <"$D") bytes, output $out_bytes bytes, $RUNS runs each (medians)"
echo
echo "| program | wall time (s) | peak RSS (MiB) |"
echo "|---|---:|---:|"
awk -v t="$tp_t" -v m="$tp_m" 'BEGIN { printf "| templet | %.3f | %.1f |\n", t, m / 1024 }'
awk -v t="$go_t" -v m="$go_m" 'BEGIN { printf "| Go text/template (goref) | %.3f | %.1f |\n", t, m / 1024 }'
awk -v gt="$go_t" -v tt="$tp_t" -v gm="$go_m" -v tm="$tp_m" \
  'BEGIN { printf "| **ratio** | Go/templet = %.2fx | templet/Go = %.2fx |\n", gt / tt, tm / gm }'
