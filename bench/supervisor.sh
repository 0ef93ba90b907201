#!/usr/bin/env bash
# The --respawn supervisor's resident memory, measured, not asserted: what it
# costs the box is its anonymous memory (RssAnon: its own pages, which cannot
# be dropped; the target is at most 24 KiB), with VmRSS, RssFile (shared,
# droppable page cache of the binary) beside it, from
# /proc/PID/status, and the resident pages of the binary (its code and data
# mappings) and of the stack (/proc/PID/smaps), over several starts (the
# stack's random start decides whether one more page is touched), with and
# without -E (an environment table), before and after restarts.
# Usage: bench/supervisor.sh [DFORK_BINARY]
# Every process it starts is stopped by pid.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/x86_64-unknown-linux-musl/release/dfork}
[ -x "$bin" ] || cargo build --release --quiet
T=$(mktemp -d)
sups=()
# SIGTERM to a supervisor stops its child and then itself (a stopped one is gone already).
cleanup() { for p in "${sups[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT

kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
# The Rss of the mapping whose line matches $2, in kB.
rss_of() { awk -v m="$2" '$0 ~ /^[0-9a-f]+-[0-9a-f]+ / { hit = index($0, m) > 0 } hit && $1 == "Rss:" { s += $2 } END { print s + 0 }' "/proc/$1/smaps"; }

echo "# --respawn supervisor: $(stat -c %s "$bin") bytes ($bin)"
printf '%-44s %6s %8s %8s %7s %6s\n' case VmRSS RssAnon RssFile binary stack
max=0 max_anon=0
run() { # name, seconds to wait before measuring, then dfork's arguments and COMMAND
  local name=$1 wait=$2 pid rss anon
  shift 2
  for i in 1 2 3 4 5; do
    "$bin" -q -p "$T/s.pid" "$@"
    pid=$(cat "$T/s.pid"); sups+=("$pid")
    sleep "$wait"
    rss=$(kb "$pid" VmRSS) anon=$(kb "$pid" RssAnon)
    printf '%-44s %3s kB %5s kB %5s kB %4s kB %3s kB\n' "$name, run $i" "$rss" "$anon" \
      "$(kb "$pid" RssFile)" "$(rss_of "$pid" "$(basename "$bin")")" "$(rss_of "$pid" '[stack]')"
    [ "$rss" -gt "$max" ] && max=$rss
    [ "$anon" -gt "$max_anon" ] && max_anon=$anon
    "$bin" --stop -p "$T/s.pid" >/dev/null
  done
}
run "--respawn sleep" 0.2 --respawn sleep 1000
run "--respawn -E A=1 sleep" 0.2 -E A=1 --respawn sleep 1000
# A child that exits every 0.1 s: measured after several restarts.
run "--respawn, after restarts" 1.2 --respawn --respawn-delay 0.1 sh -c 'sleep 0.1; exit 3'
run "--respawn -E A=1, after restarts" 1.2 -E A=1 --respawn --respawn-delay 0.1 sh -c 'sleep 0.1; exit 3'
echo "largest RssAnon: $max_anon kB (target: at most 24 KiB): $([ "$max_anon" -le 24 ] && echo met || echo 'NOT met'); largest VmRSS: $max kB"
