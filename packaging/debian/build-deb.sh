#!/usr/bin/env bash
# Build dfork_VERSION_amd64.deb from the release binary: /usr/bin/dfork, its
# manual page and its copyright. Needs dpkg-deb and gzip only (no debhelper).
# Usage: packaging/debian/build-deb.sh [BIN] [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-target/x86_64-unknown-linux-musl/release/dfork}
out=${2:-target/debian}
version=$(scripts/version)
root=$(mktemp -d)
chmod 0755 "$root"
trap 'rm -rf "$root"' EXIT
install -D -m 0755 "$bin" "$root/usr/bin/dfork"
install -d "$root/usr/share/man/man1" "$root/usr/share/doc/dfork" "$root/DEBIAN"
gzip -9n <dfork.1 >"$root/usr/share/man/man1/dfork.1.gz"
gzip -9n <CHANGELOG.md >"$root/usr/share/doc/dfork/changelog.gz"
{
  echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
  echo "Upstream-Name: dfork"
  echo
  echo "Files: *"
  echo "Copyright: The dfork developers"
  echo "License: MIT or Apache-2.0"
  echo
  sed 's/^$/./; s/^/ /' LICENSE-MIT
} >"$root/usr/share/doc/dfork/copyright"
cat >"$root/DEBIAN/control" <<CONTROL
Package: dfork
Version: $version
Architecture: amd64
Maintainer: The dfork developers <dfork@invalid>
Installed-Size: $(du -k -s "$root/usr" | cut -f1)
Section: admin
Priority: optional
Description: tiny static daemonizer and service supervisor
 dfork starts any command as a daemon and proves it started, stops and
 reports it from a locked pidfile, restarts it, and finds every process of
 it, even those of a daemon that forks itself. One static binary, no libc.
CONTROL
mkdir -p "$out"
deb="$out/dfork_${version}_amd64.deb"
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
echo "$deb"
