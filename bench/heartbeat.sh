#!/usr/bin/env bash
# The heartbeat daemon's cost, measured (not asserted by tests): resident
# memory next to the reference Python demo's, system calls per tick, and
# instructions per tick. Usage: bench/heartbeat.sh [DFORK_BINARY]
# Needs: python3, strace, valgrind. Every process it starts is stopped by pid.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/x86_64-unknown-linux-musl/release/dfork}
[ -x "$bin" ] || cargo build --release --quiet
for tool in python3 strace valgrind; do
  command -v "$tool" >/dev/null || { echo "bench/heartbeat.sh: needs $tool" >&2; exit 1; }
done
T=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT

kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

echo "# heartbeat daemon: $(stat -c %s "$bin") bytes ($bin)"
echo
echo "## Resident memory (from /proc/PID/status, after 3 ticks; RssAnon is what a daemon costs the box, target at most 24 KiB)"
printf '%-34s %8s %8s %8s\n' daemon VmRSS RssAnon RssFile
"$bin" -q -p "$T/hb.pid" --heartbeat "$T/hb.log" --every 0.2
pid=$(cat "$T/hb.pid"); pids+=("$pid")
sleep 0.7
printf '%-34s %5s kB %5s kB %5s kB\n' "dfork --heartbeat" "$(kb "$pid" VmRSS)" "$(kb "$pid" RssAnon)" "$(kb "$pid" RssFile)"
dfork_rss=$(kb "$pid" VmRSS) dfork_anon=$(kb "$pid" RssAnon)
kill "$pid"
# The reference demo's daemon body (the double fork left out: its RSS is the
# interpreter's either way), at the same period.
cat >"$T/demo.py" <<'PY'
import sys, time
f = open(sys.argv[1], "w")
while 1:
    f.write('%s\n' % time.ctime(time.time()))
    f.flush()
    time.sleep(0.2)
PY
python3 "$T/demo.py" "$T/py.log" & pid=$!; pids+=("$pid")
sleep 0.7
printf '%-34s %5s kB %5s kB %5s kB\n' "python3 reference demo" "$(kb "$pid" VmRSS)" "$(kb "$pid" RssAnon)" "$(kb "$pid" RssFile)"
py_rss=$(kb "$pid" VmRSS) py_anon=$(kb "$pid" RssAnon)
kill "$pid"
awk -v a="$dfork_anon" -v b="$py_anon" -v c="$dfork_rss" -v d="$py_rss" \
  'BEGIN {printf "ratio: dfork uses %.1f%% of the demo'"'"'s anonymous memory (%.1f%% of its VmRSS)\n", 100 * a / b, 100 * c / d}'
echo "heartbeat RssAnon: $dfork_anon kB (target: at most 24 KiB): $([ "$dfork_anon" -le 24 ] && echo met || echo 'NOT met')"

echo
echo "## System calls per tick (strace -f -c; two runs, the difference per extra line; TZ=Europe/Berlin)"
for secs in 1 3; do
  rm -f "$T/s.log"
  TZ=Europe/Berlin timeout -s TERM "$secs" strace -f -c -o "$T/strace.$secs" "$bin" -f --heartbeat "$T/s.log" --every 0.05 || true
  wc -l <"$T/s.log" >"$T/ticks.$secs"
done
awk -v x="$(cat "$T/ticks.1")" -v y="$(cat "$T/ticks.3")" '
  FNR == 1 { run++ }
  /^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+/ && $NF != "total" { c[run, $NF] = $4; names[$NF] = 1 }
  END {
    for (n in names) { d = (c[2, n] - c[1, n]) / (y - x); if (d > 0.05) { printf "  %-18s %5.2f per tick\n", n, d; t += d } }
    printf "  %-18s %5.2f per tick (%d and %d ticks)\n", "all", t, x, y
  }' "$T/strace.1" "$T/strace.3"

echo
echo "## Instructions per tick (valgrind --tool=callgrind; two runs, the difference per extra line)"
printf '%-10s %-30s %14s\n' format TZ instructions/tick
per_tick() { # format tz
  local n1 n2 i1 i2
  for secs in 1 3; do
    rm -f "$T/cg.log" "$T/cg.out"
    TZ=$2 timeout -s TERM "$secs" valgrind --tool=callgrind --callgrind-out-file="$T/cg.out" \
      "$bin" -f --heartbeat "$T/cg.log" --every 0.05 --format "$1" >/dev/null 2>&1 || true
    eval "n$secs=\$(wc -l <\"$T/cg.log\")"
    eval "i$secs=\$(awk '/^summary:/ {print \$2}' \"$T/cg.out\")"
  done
  awk -v a="$i1" -v b="$i3" -v x="$n1" -v y="$n3" 'BEGIN { if (y > x) printf "%.0f", (b - a) / (y - x); else printf "?" }'
}
for f in ctime iso8601 epoch; do
  for tz in UTC Europe/Berlin 'CET-1CEST,M3.5.0,M10.5.0/3'; do
    printf '%-10s %-30s %14s\n' "$f" "$tz" "$(per_tick "$f" "$tz")"
  done
done
