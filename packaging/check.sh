#!/usr/bin/env bash
# What this machine can prove of the packages (CI runs it as root):
# - the .deb builds, installs with dpkg -i, runs (dfork -V), its manual page
#   renders, and it removes cleanly;
# - the APKBUILD and the OpenWrt Makefile have the fields their tools require,
#   with Cargo.toml's version;
# - the OpenRC service and the procd script run the service they describe,
#   with their framework's functions stubbed, and stop it whole.
# Usage: packaging/check.sh [BIN]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-target/x86_64-unknown-linux-musl/release/dfork}")
version=$(scripts/version)
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "-- debian"
[ "$(id -u)" = 0 ] || fail "installing the .deb needs root"
deb=$(packaging/debian/build-deb.sh "$bin" "$tmp")
dpkg-deb -I "$deb" | grep "Version: $version" >/dev/null || fail "$deb: not version $version"
dpkg -i "$deb" >/dev/null
[ "$(/usr/bin/dfork -V)" = "$("$bin" -V)" ] || fail "the installed dfork is not the one built"
man -l /usr/share/man/man1/dfork.1.gz 2>/dev/null | grep "run a command, or a built-in heartbeat" >/dev/null || fail "the installed manual page does not render"
dpkg -r dfork >/dev/null
[ ! -e /usr/bin/dfork ] || fail "dpkg -r left /usr/bin/dfork"

echo "-- alpine: APKBUILD fields"
a=packaging/alpine/APKBUILD
sh -n "$a"
for f in pkgname pkgver pkgrel pkgdesc url arch license source; do grep -q "^$f=" "$a" || fail "$a: no $f="; done
grep -q "^pkgver=$version$" "$a" || fail "$a: pkgver is not $version"
grep -q "^package() {" "$a" || fail "$a: no package()"

echo "-- openwrt: Makefile fields"
m=packaging/openwrt/Makefile
for l in 'include $(TOPDIR)/rules.mk' 'PKG_NAME:=dfork' "PKG_VERSION:=$version" 'PKG_RELEASE:=' 'include $(INCLUDE_DIR)/package.mk' 'define Package/dfork' 'SECTION:=' 'CATEGORY:=' 'TITLE:=' 'define Package/dfork/install' '$(eval $(call BuildPackage,dfork))'; do
  grep -qF -- "$l" "$m" || fail "$m: no '$l'"
done

# Both service scripts find dfork on PATH (the procd one by /usr/sbin/dfork,
# rewritten to the binary under test).
mkdir -p "$tmp/bin"; ln -s "$bin" "$tmp/bin/dfork"
export PATH="$tmp/bin:$PATH"
tag="600.$$"

echo "-- openrc: the example service starts, reports and stops a service"
(
  ebegin() { :; }; eend() { return "$1"; }; einfo() { echo "$*"; }; eerror() { echo "$*"; }
  RC_SVCNAME=check$$ command=/bin/sleep command_args=$tag
  . packaging/alpine/dfork-example.initd
  pidfile=$tmp/openrc.pid
  start || fail "openrc start"
  [ "$(status)" = "status: started" ] || fail "openrc status after start"
  stop || fail "openrc stop"
  [ "$(status)" = "status: stopped" ] || fail "openrc status after stop"
  ! pgrep -f "sleep $tag" >/dev/null || fail "openrc stop left sleep $tag"
)

echo "-- procd: the example instance runs its service through dfork"
(
  cmd=()
  procd_open_instance() { :; }; procd_close_instance() { :; }
  procd_set_param() { [ "$1" = command ] && { shift; cmd=("$@"); }; return 0; }
  . packaging/openwrt/files/dfork-example.init
  start_service
  [ "${cmd[0]}" = /usr/sbin/dfork ] || fail "procd: the command is not /usr/sbin/dfork"
  # The same dfork options, with a service of ours that forks itself.
  "$bin" "${cmd[@]:1:3}" -- sh -c "sleep $tag & exit 0" &
  sup=$!
  for _ in $(seq 50); do pgrep -f "sleep $tag" >/dev/null && break; sleep 0.1; done
  pgrep -P "$sup" -f "sleep $tag" >/dev/null || fail "procd: the supervisor did not adopt the service"
  kill -TERM "$sup"; wait "$sup" || fail "procd: the supervisor exited $?"
  ! pgrep -f "sleep $tag" >/dev/null || fail "procd: SIGTERM left the service"
)
echo "packages: all checked"
