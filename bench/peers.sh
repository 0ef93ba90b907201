#!/usr/bin/env bash
# dfork against the daemonizers users would otherwise pick, side by side in one
# run, on this machine: size (with the shared libraries each needs), median
# launch latency (hyperfine) and its ratio to `setsid -f`, system calls and
# processes per launch (strace -f -c, the daemon's own start-up included),
# whether the exit status reports a missing command, and the heartbeat's
# memory and cost next to the reference Python demo (bench/heartbeat.sh).
# Writes BENCHMARKS.md. Usage: bench/peers.sh [DFORK_BINARY]   (RUNS=200)
# Needs, as root: daemonize daemon busybox-static hyperfine strace python3
# (Debian packages; dpkg brings start-stop-daemon, util-linux setsid).
# Every daemon it starts is a private copy of sleep with a unique argument,
# ended by pid.
set -u
cd "$(dirname "$0")/.."
ours=${1:-target/x86_64-unknown-linux-musl/release/dfork}
[ -x "$ours" ] || cargo build --release --quiet
ours=$(readlink -f "$ours")
runs=${RUNS:-200}
for tool in daemonize daemon busybox hyperfine strace python3 start-stop-daemon setsid; do
  command -v "$tool" >/dev/null || { echo "bench/peers.sh: needs $tool" >&2; exit 1; }
done
T=$(mktemp -d)
# A private sleep outside /tmp (libslack daemon refuses world-writable
# directories); start-stop-daemon matches by executable, so no other sleep
# may look like ours.
P=$(mktemp -d "$HOME/.dfork-peers.XXXXXX"); chmod 755 "$P"; S=$P/peer-sleep; cp "$(command -v sleep)" "$S"
tag=600.$$
# The real interpreter, not a wrapper script (pyenv's shims fork through bash).
PY=$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')
ours_kill() { for p in $(pgrep -x -f "$S $tag"); do kill -9 "$p" 2>/dev/null; done; }
trap 'ours_kill; rm -rf "$T" "$P"' EXIT
printf '#!/bin/sh\nfor p in $(pgrep -x -f "%s"); do kill -9 "$p"; done\nrm -f %s/*.pid\nsleep 0.005\n' "$S $tag" "$P" >"$T/reap"
chmod +x "$T/reap"
# The reference demo's recipe (../shared/reference/): fork, setsid, fork, exec.
cat >"$T/recipe.py" <<'PY'
import os, sys
if os.fork() > 0: sys.exit(0)
os.chdir('/'); os.setsid(); os.umask(0)
if os.fork() > 0: sys.exit(0)
os.execvp(sys.argv[1], sys.argv[1:])
PY

names=(dfork setsid-f daemonize start-stop-daemon busybox-ssd libslack-daemon python-recipe)
# launch NAME PROGRAM-AND-ARGS...: the command line that starts PROGRAM as a daemon.
launch() {
  local n=$1; shift
  case $n in
    dfork) echo "$ours -q -p $P/dfork.pid -- $*" ;;
    setsid-f) echo "setsid -f $*" ;;
    daemonize) echo "daemonize -p $P/daemonize.pid $*" ;;
    start-stop-daemon) echo "start-stop-daemon --start --background --make-pidfile --pidfile $P/ssd.pid --exec $1 -- ${*:2}" ;;
    busybox-ssd) echo "busybox start-stop-daemon -S -b -m -p $P/bb.pid -x $1 -- ${*:2}" ;;
    libslack-daemon) echo "daemon --pidfile=$P/daemon.pid -- $*" ;;
    python-recipe) echo "$PY $T/recipe.py $*" ;;
  esac
}
binary() {
  case $1 in
    dfork) echo "$ours" ;; setsid-f) command -v setsid ;; daemonize) command -v daemonize ;;
    start-stop-daemon) command -v start-stop-daemon ;; busybox-ssd) command -v busybox ;;
    libslack-daemon) command -v daemon ;; python-recipe) echo "$PY" ;;
  esac
}
# The binary's size, and with every shared library it loads.
sizes() {
  local b; b=$(readlink -f "$1")
  local own; own=$(stat -c %s "$b")
  local libs=0
  for l in $(ldd "$b" 2>/dev/null | grep -o '/[^ ]*'); do libs=$((libs + $(stat -L -c %s "$l"))); done
  echo "$own $((own + libs))"
}

declare -A bytes total link ms calls forks missing
for n in "${names[@]}"; do
  read -r bytes[$n] total[$n] < <(sizes "$(binary "$n")")
  link[$n]=$(file -bL "$(binary "$n")" | grep 'statically linked\|static-pie' >/dev/null && echo static || echo dynamic)
  cmd=$(launch "$n" "$S" "$tag")
  "$T/reap"
  ms[$n]=$(hyperfine -N -w 5 -r "$runs" --prepare "$T/reap" --export-json "$T/$n.json" "$cmd" >/dev/null 2>&1 &&
    python3 -c "import json;print('%.3f'%(json.load(open('$T/$n.json'))['results'][0]['median']*1000))" || echo "?")
  "$T/reap"
  # strace -f follows the daemon too: end our sleep once the launch is over.
  timeout 60 strace -f -c -o "$T/$n.strace" $cmd >/dev/null 2>&1 & sp=$!
  for _ in $(seq 200); do [ -n "$(pgrep -x -f "$S $tag")" ] && break; sleep 0.02; done
  sleep 0.2; ours_kill; wait $sp
  # Columns: % time, seconds, usecs/call, calls, [errors,] syscall.
  calls[$n]=$(awk '$NF == "total" {print $4}' "$T/$n.strace")
  forks[$n]=$(awk '$NF ~ /^(fork|vfork|clone|clone3)$/ {s += $4} END {print s + 0}' "$T/$n.strace")
  "$T/reap"
  # A missing command: does the launcher's exit status say so?
  $(launch "$n" /nonexistent/dfork-bench-cmd "$tag") >/dev/null 2>&1; st=$?
  missing[$n]=$([ "$st" -ne 0 ] && echo "yes ($st)" || echo "no (0)")
  "$T/reap"
  echo "measured $n: ${ms[$n]} ms, ${calls[$n]} syscalls" >&2
done

hb=$(bash bench/heartbeat.sh "$ours" 2>/dev/null)
rss_dfork=$(echo "$hb" | awk '/^dfork --heartbeat/ {print $3}')
rss_py=$(echo "$hb" | awk '/^python3 reference demo/ {print $4}')
ipt=$(echo "$hb" | awk '$1 == "ctime" && $2 == "UTC" {print $3}')
base=${ms[setsid-f]}

# One target, lowest wins: dfork's figure against the best peer's.
verdict() {
  local -n fig=$1
  local bn="" bv="" n v
  for n in "${names[@]}"; do
    [ "$n" = dfork ] && continue
    v=${fig[$n]}
    [[ $v =~ ^[0-9.]+$ ]] || continue
    if [ -z "$bv" ] || awk -v a="$v" -v b="$bv" 'BEGIN { exit !(a < b) }'; then bn=$n; bv=$v; fi
  done
  v=${fig[dfork]}
  if [[ $v =~ ^[0-9.]+$ ]] && awk -v a="$v" -v b="$bv" 'BEGIN { exit !(a < b) }'; then
    echo "met: dfork $v, the best peer $bn $bv"
  else
    echo "**not met**: dfork $v, the best peer $bn $bv"
  fi
}

{
  echo "# Benchmarks"
  echo
  echo "Written by \`bench/peers.sh\` on $(date -u +%Y-%m-%d), one run, one machine: $(nproc) cores,"
  echo "Linux $(uname -r), $(. /etc/os-release; echo "$PRETTY_NAME"). Figures of other runs and machines differ;"
  echo "the ratios within one run are what compare. Each launcher starts the same program (a copy of"
  echo "\`sleep\`) as a daemon; before each timed run the previous daemon is ended, so no launcher short-cuts"
  echo "with \"already running\"."
  echo
  echo "| launcher | binary bytes | with its shared libraries | linkage | median launch (ms) | vs \`setsid -f\` | syscalls per launch | forks | missing command in exit status |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for n in "${names[@]}"; do
    ratio=$(python3 -c "print('%.2f' % (float('${ms[$n]}') / float('$base')))" 2>/dev/null || echo "?")
    echo "| $n | ${bytes[$n]} | ${total[$n]} | ${link[$n]} | ${ms[$n]} | ${ratio} | ${calls[$n]} | ${forks[$n]} | ${missing[$n]} |"
  done
  echo
  echo "dfork alone returns only after the daemon really started (its exec happened) and reports a"
  echo "failed start in its exit status; \`setsid -f\`, daemonize and the Python recipe return after their"
  echo "fork. Syscalls and forks count the whole process tree, the daemon's start-up included (\`strace -f -c\`)."
  echo
  echo "| heartbeat daemon | VmRSS | instructions per tick (\`ctime\`, UTC) |"
  echo "|---|---|---|"
  echo "| \`dfork --heartbeat\` | ${rss_dfork} kB | ${ipt} |"
  echo "| reference Python demo | ${rss_py} kB | |"
  echo
  echo "## Commands"
  echo
  echo "Latency: \`hyperfine -N -w 5 -r $runs --prepare <end the previous daemon> '<command>'\`; syscalls:"
  echo "\`strace -f -c <command>\`; missing command: the same command with \`/nonexistent/dfork-bench-cmd\`."
  echo "The heartbeat figures come from \`bench/heartbeat.sh\`."
  echo
  echo '```'
  for n in "${names[@]}"; do (ours=dfork P=/run T=bench PY=python3; launch "$n" SLEEP 600.N); done
  echo '```'
  echo
  echo "Targets of the peer issue, in this run (lowest wins; computed by the script):"
  echo
  echo "- the smallest binary, counting the shared libraries each needs: $(verdict total)"
  echo "- the lowest median launch latency (ms): $(verdict ms)"
  echo "- the fewest syscalls per launch: $(verdict calls)"
} >BENCHMARKS.md
cat BENCHMARKS.md
