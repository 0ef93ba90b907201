#!/usr/bin/env bash
# Cross builds of dfork, each run through a real scenario under qemu-user:
# a heartbeat at --every 1 whose first three lines must match the host's
# clock within 2 s (a 1970 or garbage time fails), then a command started in
# exec mode and stopped with --stop, every exit code checked.
# Usage: scripts/cross.sh        (needs qemu-user-static; rustup targets below)
# Stable targets link with the rust-lld rustup ships (.cargo/config.toml).
# Prints a table: target, bytes, passed/failed. Exit status 1 if any failed.
set -u
cd "$(dirname "$0")/.."
targets=(x86_64-unknown-linux-musl:- i686-unknown-linux-musl:qemu-i386-static aarch64-unknown-linux-musl:qemu-aarch64-static)
T=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
failed=0
rows=()

# scenario TARGET RUNNER: what goes wrong, on stdout (nothing: passed).
scenario() {
  local bin=target/$1/release/dfork run=() out now t before
  [ "$2" = - ] || run=("$2")
  before=$(date +%s)
  out=$("${run[@]}" "$bin" -p "$T/$1.hb.pid" --heartbeat "$T/$1.log" --every 1 --format epoch) || { echo "heartbeat start exited $?"; return; }
  pids+=("${out#Daemon PID }")
  for _ in $(seq 100); do [ "$(wc -l <"$T/$1.log" 2>/dev/null || echo 0)" -ge 3 ] && break; sleep 0.1; done
  now=$(date +%s)
  for t in $(head -3 "$T/$1.log"); do
    # Within 2 s of the host's clock while the lines were written.
    [ "$t" -ge $((before - 2)) ] && [ "$t" -le $((now + 2)) ] || { echo "heartbeat line $t is not the host's clock ($before..$now)"; return; }
  done
  [ "$(wc -l <"$T/$1.log")" -ge 3 ] || { echo "fewer than 3 heartbeat lines"; return; }
  "${run[@]}" "$bin" --stop -p "$T/$1.hb.pid" || { echo "--stop of the heartbeat exited $?"; return; }
  # Exec mode: a (native) command as the daemon, its status, its stop.
  out=$("${run[@]}" "$bin" -p "$T/$1.pid" -- sleep 600.$$) || { echo "exec start exited $?"; return; }
  pids+=("${out#Daemon PID }")
  "${run[@]}" "$bin" --status -p "$T/$1.pid" >/dev/null || { echo "--status exited $?, not 0"; return; }
  "${run[@]}" "$bin" --stop -p "$T/$1.pid" || { echo "--stop exited $?"; return; }
  "${run[@]}" "$bin" --status -p "$T/$1.pid" >/dev/null; [ $? -eq 3 ] || { echo "--status after --stop is not 3"; return; }
  "${run[@]}" "$bin" -- /nonexistent/cmd 2>/dev/null; [ $? -eq 127 ] || { echo "a missing command is not 127"; return; }
}

for spec in "${targets[@]}"; do
  t=${spec%%:*}; q=${spec##*:}
  if ! rustup target list --installed | grep -qx "$t"; then
    rows+=("$t|-|failed: rustup target add $t"); failed=1; continue
  fi
  if [ "$q" != - ] && ! command -v "$q" >/dev/null; then
    rows+=("$t|-|failed: $q missing (apt-get install qemu-user-static)"); failed=1; continue
  fi
  if ! cargo build --release --locked --quiet --target "$t" 2>"$T/$t.build"; then
    tail -5 "$T/$t.build"; rows+=("$t|-|failed: build"); failed=1; continue
  fi
  size=$(stat -c %s "target/$t/release/dfork")
  why=$(scenario "$t" "$q")
  if [ -z "$why" ]; then rows+=("$t|$size|passed"); else rows+=("$t|$size|failed: $why"); failed=1; fi
done
# Targets without a rustup std here: core built from source on nightly
# (-Zbuild-std=core, rust-src), linked with rust-lld against musl's crt
# objects and libc.a from Debian's musl-dev for that architecture, fetched
# with private package lists (the system's architectures are not touched).
# nightly TARGET DEBIAN-ARCH MUSL-LIBDIR QEMU
nightly() {
  local t=$1 arch=$2 dir=$3 q=$4 D=target/cross/$2
  # Under CI nothing is skipped: a missing nightly or rust-src fails the row.
  local skip=SKIPPED; [ -n "${CI:-}" ] && skip=failed
  if ! rustc +nightly --version >/dev/null 2>&1; then rows+=("$t|-|$skip: no nightly toolchain"); [ -n "${CI:-}" ] && failed=1; return; fi
  if [ ! -d "$(rustc +nightly --print sysroot)/lib/rustlib/src/rust/library" ]; then
    rustup component add rust-src --toolchain nightly >/dev/null 2>&1 || { rows+=("$t|-|$skip: nightly has no rust-src"); [ -n "${CI:-}" ] && failed=1; return; }
  fi
  if [ ! -f "$D/usr/lib/$dir/libc.a" ]; then
    mkdir -p "$D/lists/partial" "$D/cache/archives/partial"
    local O=(-o "APT::Architectures::=$arch" -o "Dir::State::Lists=$PWD/$D/lists" -o "Dir::Cache=$PWD/$D/cache")
    apt-get "${O[@]}" update -qq >/dev/null 2>&1
    (cd "$D" && apt-get "${O[@]}" download "musl-dev:$arch" >/dev/null 2>&1)
    dpkg-deb -x "$D"/musl-dev_*_"$arch".deb "$D" 2>/dev/null || { rows+=("$t|-|failed: no musl-dev:$arch"); failed=1; return; }
  fi
  local L=$PWD/$D/usr/lib/$dir f
  f='"-C","relocation-model=static","-C","target-feature=+crt-static","-C","link-self-contained=no"'
  f+=",\"-Z\",\"pre-link-arg=$L/crt1.o\",\"-Z\",\"pre-link-arg=$L/crti.o\",\"-C\",\"link-arg=$L/crtn.o\""
  f+=',"-C","link-arg=-znorelro","-C","link-arg=-znoseparate-code","-C","link-arg=-zmax-page-size=4096"'
  f+=',"-C","link-arg=--gc-sections","-C","link-arg=--build-id=none"'
  f+="${5:+,$5}"
  if ! DFORK_LIBC_DIR=$L cargo +nightly build --release --quiet -Zbuild-std=core --target "$t" \
      --config "target.$t.linker=\"rust-lld\"" --config "target.$t.rustflags=[$f]" 2>"$T/$t.build"; then
    tail -5 "$T/$t.build"; rows+=("$t|-|failed: build"); failed=1; return
  fi
  local size why
  size=$(stat -c %s "target/$t/release/dfork")
  why=$(scenario "$t" "$q")
  if [ -z "$why" ]; then rows+=("$t|$size|passed"); else rows+=("$t|$size|failed: $why"); failed=1; fi
}
nightly armv7-unknown-linux-musleabihf armhf arm-linux-musleabihf qemu-arm-static
# Debian's mipsel musl is hard-float; Rust's target defaults to soft-float.
nightly mipsel-unknown-linux-musl mipsel mipsel-linux-musl qemu-mipsel-static '"-C","target-feature=-soft-float"'

printf '| target | bytes | result |\n|---|---|---|\n'
for r in "${rows[@]}"; do IFS='|' read -r a b c <<<"$r"; printf '| %s | %s | %s |\n' "$a" "$b" "$c"; done
exit $failed
