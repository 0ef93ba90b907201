#!/usr/bin/env bash
# Boot Debian's kernel (linux-image-amd64, downloaded and extracted, not
# installed) under qemu-system-x86_64 (TCG, no KVM needed) with an initramfs
# of busybox-static, dfork and an /init that runs dfork as a small system
# would: a heartbeat, its pidfile, --status, --stop, a command in exec mode.
# /init prints one verdict line on the serial console and powers off; this
# script prints that line and exits 0 only for a PASS. Bounded: 120 s.
# Usage: scripts/initramfs.sh [DFORK_BINARY]   (KERNEL=path skips the download)
# Needs: qemu-system-x86, busybox-static, cpio, apt-get (for the kernel).
set -eu
cd "$(dirname "$0")/.."
bin=$(readlink -f "${1:-target/x86_64-unknown-linux-musl/release/dfork}")
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
if [ -z "${KERNEL:-}" ]; then
  pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
  (cd "$W" && apt-get download "$pkg" >/dev/null 2>&1) || { echo "initramfs: cannot download $pkg" >&2; exit 1; }
  dpkg-deb -x "$W"/linux-image-*.deb "$W/k"
  KERNEL=$(ls "$W"/k/boot/vmlinuz-* | head -1)
fi
bb=$(command -v busybox)
file -bL "$bb" | grep 'statically linked' >/dev/null || { echo "initramfs: $bb is not static (apt-get install busybox-static)" >&2; exit 1; }
r=$W/root
mkdir -p "$r"/bin "$r"/dev "$r"/proc "$r"/sys "$r"/run
cp "$bb" "$r/bin/busybox"
cp "$bin" "$r/dfork"
cat >"$r/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs run /run
fail() { echo "DFORK-VERDICT: FAIL $*"; poweroff -f; }
/dfork --heartbeat /run/hb --every 1 -p /run/hb.pid || fail "heartbeat start exited $?"
pid=$(cat /run/hb.pid)
kill -0 "$pid" || fail "no heartbeat process $pid"
sleep 3
n=$(wc -l </run/hb)
[ "$n" -ge 3 ] || fail "$n heartbeat lines after 3 s"
# ctime lines of this century, not 1970: the clock came through.
awk '$5 < 2024 || NF != 5 { exit 1 }' /run/hb || fail "bad line: $(head -1 /run/hb)"
/dfork --status -p /run/hb.pid >/dev/null || fail "--status exited $?"
/dfork --stop -p /run/hb.pid || fail "--stop exited $?"
[ ! -e /run/hb.pid ] || fail "pidfile left after the heartbeat stopped"
/dfork -p /run/s.pid -- /bin/sleep 600 >/dev/null || fail "exec start exited $?"
/dfork --stop -p /run/s.pid || fail "--stop of sleep exited $?"
/dfork --status -p /run/s.pid >/dev/null; [ $? -eq 3 ] || fail "--status after --stop is not 3"
echo "DFORK-VERDICT: PASS $n lines, first: $(head -1 /run/hb)"
poweroff -f
INIT
chmod +x "$r/init"
(cd "$r" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$W/initrd.gz"
timeout 120 qemu-system-x86_64 -nographic -no-reboot -m 256 -accel tcg -kernel "$KERNEL" -initrd "$W/initrd.gz" \
  -append "console=ttyS0 panic=-1 quiet" >"$W/console.log" 2>&1 || true
verdict=$(grep -a -m1 'DFORK-VERDICT' "$W/console.log" | tr -d '\r' || true)
if [ -z "$verdict" ]; then
  echo "initramfs: no verdict on the console; its last lines:" >&2
  tail -20 "$W/console.log" >&2
  exit 1
fi
echo "$verdict"
case $verdict in *PASS*) exit 0 ;; *) exit 1 ;; esac
