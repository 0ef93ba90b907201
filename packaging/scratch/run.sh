#!/usr/bin/env bash
# The FROM scratch image of packaging/scratch/Dockerfile, without Docker: its
# root file system built as a directory (dfork, a static busybox, /www), run
# as the image would be, with dfork as PID 1 of new PID and mount namespaces.
# Checks that the service answers, that a killed service is restarted, and
# that SIGTERM to PID 1 (docker stop) stops everything at once, with the
# service's own status (143: ended by the SIGTERM passed on).
# Usage: packaging/scratch/run.sh [BIN]   (root; busybox-static)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${1:-target/x86_64-unknown-linux-musl/release/dfork}")
bb=$(command -v busybox)
file -bL "$bb" | grep 'statically linked' >/dev/null || { echo "FAIL: $bb is not static (busybox-static)"; exit 1; }
root=$(mktemp -d)
pid1=
cleanup() { [ -n "$pid1" ] && kill -KILL "$pid1" 2>/dev/null; rm -rf "$root"; }
trap cleanup EXIT
mkdir -p "$root/bin" "$root/dev"
cp "$bin" "$root/dfork"; cp "$bb" "$root/bin/busybox"; cp -r packaging/scratch/www "$root/www"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
get() { python3 -c "import urllib.request,sys; print(urllib.request.urlopen('http://127.0.0.1:$port/', timeout=2).read().decode())" 2>/dev/null; }
# As the ENTRYPOINT, on a port of ours, with the /dev/null a container
# runtime provides. The shell execs chroot, which execs dfork: $pid1 is
# dfork, PID 1 inside.
touch "$root/dev/null"
unshare --pid --mount --propagation private --fork --kill-child sh -c 'mount --bind /dev/null "$1/dev/null" && exec chroot "$@"' sh \
  "$root" /dfork --init --respawn --respawn-delay 0.1 -- /bin/busybox httpd -f -p "127.0.0.1:$port" -h /www &
outer=$!
for _ in $(seq 50); do pid1=$(pgrep -P "$outer" -x dfork || true); [ -n "$pid1" ] && get | grep dfork >/dev/null && break; sleep 0.1; done
[ -n "$pid1" ] || { echo "FAIL: dfork did not start"; exit 1; }
[ "$(awk '/^NSpid/ {print $3}' /proc/"$pid1"/status)" = 1 ] || { echo "FAIL: dfork is not PID 1 in its namespace"; exit 1; }
get | grep 'served by busybox httpd under dfork' >/dev/null || { echo "FAIL: the service does not answer"; exit 1; }
httpd=$(pgrep -P "$pid1")
kill -KILL "$httpd"
for _ in $(seq 50); do new=$(pgrep -P "$pid1" || true); [ -n "$new" ] && [ "$new" != "$httpd" ] && get | grep dfork >/dev/null && break; sleep 0.1; done
[ -n "$new" ] && [ "$new" != "$httpd" ] || { echo "FAIL: the killed service was not restarted"; exit 1; }
kill -TERM "$pid1"
st=0; wait "$outer" || st=$?
[ "$st" = 143 ] || { echo "FAIL: PID 1 exited $st on SIGTERM, not 143 (httpd ended by SIGTERM)"; exit 1; }
pid1=
pgrep -f "httpd -f -p 127.0.0.1:$port" >/dev/null && { echo "FAIL: the service outlived PID 1"; exit 1; }
echo "scratch image: served, restarted, stopped on SIGTERM with the service's status 143"
