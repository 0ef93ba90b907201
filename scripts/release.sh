#!/usr/bin/env bash
# Static release binaries of dfork, one per target, each run through a real
# scenario under qemu-user; dist/VERSION/ gets dfork-VERSION-TARGET and
# SHA256SUMS, and this prints a table of sizes and each one's ratio to
# x86_64's (at most 1.5). CI runs it. docs/cross.md explains each choice.
#
# All with the pinned toolchain. x86_64, i686 and aarch64 have rustup's
# musl std and link with rust-lld (.cargo/config.toml). The others have no
# std here: core is built from source (-Zbuild-std=core, the rust-src
# component; RUSTC_BOOTSTRAP=1 lets the pinned stable compiler take that
# flag), and `zig cc` from PyPI's ziglang package links them: it carries
# musl 1.2's start files and libc for armv7 (hard float), mipsel and mips
# (big-endian, soft float: OpenWrt's mips_24kc) and riscv64.
#
# Usage: scripts/release.sh VERSION [TARGET...]
#   (needs qemu-user-static, python3 -m pip); with TARGETs, only those and
#   x86_64 (the base of the ratios) are built.
set -u
cd "$(dirname "$0")/.."
version=${1:?usage: scripts/release.sh VERSION [TARGET...]}
shift
only=${*:+ $* } # the TARGETs asked for, space-delimited; empty: all
[ "$version" = "$(scripts/version)" ] || { echo "release: $version is not Cargo.toml's version"; exit 1; }
out=dist/$version
rm -rf "$out"; mkdir -p "$out"
T=$(mktemp -d)
# Every process a scenario starts is listed in $T/pids (the scenario runs
# in a subshell); at the end, passed or failed, those still running are
# killed: only while their command line is still ours (a binary of $out,
# or a sleep tagged with this script's pid), never a pid reused since.
track() { echo "$@" >>"$T/pids"; }
clean_up() {
  local p tag=" 60[0-3][.]$$"
  for p in $(cat "$T/pids" 2>/dev/null); do
    tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -E -e "$out/dfork-" -e "$tag " >/dev/null && kill -9 "$p"
  done
  kill $(jobs -p) 2>/dev/null
  rm -rf "$T"
}
trap clean_up EXIT
# zig from PyPI; a Debian system Python wants --break-system-packages for it.
python3 -m ziglang version >/dev/null 2>&1 || python3 -m pip install -q ziglang >/dev/null 2>&1 ||
  python3 -m pip install -q --break-system-packages ziglang >/dev/null 2>&1 || { echo "release: cannot install ziglang from PyPI (python3 -m pip)"; exit 1; }
rustup component list --installed | grep '^rust-src' >/dev/null || rustup component add rust-src >/dev/null
# zig cc as the linker, for the target in ZIG_TARGET. -Os: zig builds its
# musl for these flags (and caches it), smaller than its default.
cat >"$T/zigcc" <<'ZIG'
#!/bin/sh
exec python3 -m ziglang cc -target "$ZIG_TARGET" -Os "$@"
ZIG
chmod +x "$T/zigcc"
mkdir -p "$T/nolibc" # zig brings the C library: build.rs needs no other

# A service that says READY=1 to NOTIFY_SOCKET after 1 s, having first
# created the file in argv[1], then sleeps.
notify='import os, socket, sys, time
time.sleep(1)
open(sys.argv[1], "w").close()
a = os.environ["NOTIFY_SOCKET"]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect("\0" + a[1:] if a[0] == "@" else a)
s.send(b"READY=1")
time.sleep(float(sys.argv[2]))'

# pic_prologues BIN: how many MIPS position-independent prologues
# (addu $gp, ..., $t9) BIN's executable segment holds. Such code finds its
# globals through its own address in $t9, which nothing sets in a static
# non-PIC executable: musl's dlsym is one (hand-written; the binary has its
# own), and it crashed with SIGBUS. zig builds the rest of musl non-PIC.
pic_prologues() {
  python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
e = ">" if d[5] == 2 else "<"
phoff, = struct.unpack_from(e + "I", d, 28)
phentsize, phnum = struct.unpack_from(e + "HH", d, 42)
n = 0
for i in range(phnum):
    typ, off, _, _, size, _, flags, _ = struct.unpack_from(e + "8I", d, phoff + i * phentsize)
    if typ == 1 and flags & 1:  # PT_LOAD, executable
        for at in range(off - off % 4, off + size - 3, 4):
            w, = struct.unpack_from(e + "I", d, at)
            if w >> 26 == 0 and w & 0x7FF == 0x21 and (w >> 11) & 31 == 28 and 25 in ((w >> 21) & 31, (w >> 16) & 31):
                n += 1
print(n)
PY
}

# alive PID: the process exists and is not a zombie (an orphan's parent
# here may be a PID 1 that does not reap).
alive() {
  local st
  st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  st=${st##*) }
  [ "${st%% *}" != Z ]
}

# scenario TARGET RUNNER: what goes wrong, on stdout (nothing: passed).
# A heartbeat at --every 1: its first three lines are the host's clock (a
# 1970 or garbage time fails), each a later second than the one before (a
# tick that comes early fails; a slow emulator may skip one); then a
# command started in exec mode, --status (0), --stop (0), --status again
# (3), and a missing command (127); --notify returns only once COMMAND
# said READY=1; --respawn: the child killed is restarted, and --stop ends
# the supervisor and its child; --init passes COMMAND's exit status
# through, and SIGTERM on (exit 143).
scenario() {
  local bin=$out/dfork-$version-$1 run=() out now t before prev=
  [ "$2" = - ] || run=("$2")
  before=$(date +%s)
  out=$("${run[@]}" "$bin" -p "$T/$1.hb.pid" --heartbeat "$T/$1.log" --every 1 --format epoch) || { echo "heartbeat start exited $?"; return; }
  track "${out#Daemon PID }"
  for _ in $(seq 100); do [ "$(wc -l <"$T/$1.log" 2>/dev/null || echo 0)" -ge 3 ] && break; sleep 0.1; done
  now=$(date +%s)
  [ "$(wc -l <"$T/$1.log")" -ge 3 ] || { echo "fewer than 3 heartbeat lines"; return; }
  for t in $(head -3 "$T/$1.log"); do
    # Within 2 s of the host's clock while the lines were written.
    [ "$t" -ge $((before - 2)) ] && [ "$t" -le $((now + 2)) ] || { echo "heartbeat line $t is not the host's clock ($before..$now)"; return; }
    [ -z "$prev" ] || [ "$t" -gt "$prev" ] || { echo "heartbeat lines $prev then $t: a tick came early"; return; }
    prev=$t
  done
  "${run[@]}" "$bin" --stop -p "$T/$1.hb.pid" || { echo "--stop of the heartbeat exited $?"; return; }
  # Exec mode: a (native) command as the daemon, its status, its stop.
  out=$("${run[@]}" "$bin" -p "$T/$1.pid" -- sleep 600.$$) || { echo "exec start exited $?"; return; }
  track "${out#Daemon PID }"
  "${run[@]}" "$bin" --status -p "$T/$1.pid" >/dev/null || { echo "--status exited $?, not 0"; return; }
  "${run[@]}" "$bin" --stop -p "$T/$1.pid" || { echo "--stop exited $?"; return; }
  "${run[@]}" "$bin" --status -p "$T/$1.pid" >/dev/null; [ $? -eq 3 ] || { echo "--status after --stop is not 3"; return; }
  "${run[@]}" "$bin" -- /nonexistent/cmd 2>/dev/null; [ $? -eq 127 ] || { echo "a missing command is not 127"; return; }
  # Readiness: --notify returns once COMMAND sent READY=1 (a datagram with
  # the sender's credentials), not before.
  out=$("${run[@]}" "$bin" -p "$T/$1.nf.pid" --notify -w 10 -- python3 -c "$notify" "$T/$1.nf.sent" 602.$$) || { echo "--notify start exited $?"; return; }
  track "${out#Daemon PID }"
  [ -e "$T/$1.nf.sent" ] || { echo "--notify returned before READY=1 was sent"; return; }
  "${run[@]}" "$bin" --stop -p "$T/$1.nf.pid" || { echo "--stop of the --notify service exited $?"; return; }
  # The supervisor: its child killed is restarted; --stop ends both.
  local sup child new
  out=$("${run[@]}" "$bin" -p "$T/$1.sv.pid" --respawn --respawn-delay 0.1 -- sleep 601.$$) || { echo "--respawn start exited $?"; return; }
  sup=${out#Daemon PID }; track "$sup"
  child=$(pgrep -P "$sup" -f "sleep 601.$$") || { echo "--respawn: no child"; return; }
  track "$child"
  kill -KILL "$child"
  for _ in $(seq 50); do new=$(pgrep -P "$sup" -f "sleep 601.$$") && [ "$new" != "$child" ] && break; new=; sleep 0.1; done
  [ -n "$new" ] || { echo "--respawn: the killed child was not restarted"; return; }
  track "$new"
  "${run[@]}" "$bin" --stop -p "$T/$1.sv.pid" || { echo "--stop of the supervisor exited $?"; return; }
  ! alive "$sup" && ! alive "$new" || { echo "--stop left the supervisor or its child"; return; }
  # --init: in the foreground; its exit status is COMMAND's, 128+15 when
  # the SIGTERM it passed on ended COMMAND.
  "${run[@]}" "$bin" --init -- sh -c 'exit 3'; [ $? -eq 3 ] || { echo "--init did not pass COMMAND's status 3 through"; return; }
  local init st
  "${run[@]}" "$bin" --init -- sleep 603.$$ &
  init=$!; track "$init"
  for _ in $(seq 50); do child=$(pgrep -P "$init" -f "sleep 603.$$") && break; sleep 0.1; done
  [ -n "$child" ] || { echo "--init: no child"; return; }
  track "$child"
  kill -TERM "$init"
  wait "$init"; st=$?
  [ "$st" -eq 143 ] || { echo "--init exited $st after SIGTERM, not 143"; return; }
  ! alive "$child" || { echo "--init left its child running"; return; }
}

# TARGET ZIG-TARGET QEMU [--cfg ...]; ZIG-TARGET - for rustup's targets.
# rustix makes system calls itself where it can. On mipsel that is behind
# the cfg rustix_use_experimental_asm (inline assembly for MIPS is unstable
# in Rust); for big-endian MIPS rustix always goes through libc, so the libc
# crate is told it is musl 1.2 with its 64-bit time_t (its default is the
# 32-bit time_t of musl 1.1, and rustix's libc calls would pass it 64-bit
# timespecs: sleeps lost their nanoseconds).
targets=(
  "x86_64-unknown-linux-musl - -"
  "i686-unknown-linux-musl - qemu-i386-static"
  "aarch64-unknown-linux-musl - qemu-aarch64-static"
  "armv7-unknown-linux-musleabihf arm-linux-musleabihf qemu-arm-static"
  "mipsel-unknown-linux-musl mipsel-linux-musleabi qemu-mipsel-static rustix_use_experimental_asm"
  "mips-unknown-linux-musl mips-linux-musleabi qemu-mips-static libc_unstable_musl_v1_2"
  "riscv64gc-unknown-linux-musl riscv64-linux-musl qemu-riscv64-static"
)
# build TARGET ZIG-TARGET CFG: the release build of TARGET; its exit status
# goes to $T/TARGET.rc, its seconds to $T/TARGET.secs, its errors to
# $T/TARGET.build. The zig targets each build in a target directory of
# their own (target/zig/TARGET), so that they can build at the same time:
# much of each build is serial (core and dfork are one codegen unit each).
build() {
  local t=$1 zig=$2 cfg=$3 f t0=$SECONDS
  if [ "$zig" = - ]; then
    cargo build --release --locked --quiet --target "$t" 2>"$T/$t.build"
  else
    f='"-C","relocation-model=static","-C","target-feature=+crt-static","-C","link-self-contained=no"'
    f+=',"-C","link-arg=-Wl,-z,norelro","-C","link-arg=-Wl,-z,max-page-size=4096","-C","link-arg=-Wl,-z,common-page-size=16"'
    f+=',"-C","link-arg=-Wl,--gc-sections","-C","link-arg=-Wl,--build-id=none"'
    # core is built here anyway: built to abort at a panic on the spot,
    # without the panic machinery (a panic is a bug either way; the x86_64
    # build's handler aborts too). Standard in embedded Rust; it saves
    # 2.2 KB on mips (85 584 -> 83 376 bytes). Re-measure: drop the line,
    # scripts/release.sh VERSION mips-unknown-linux-musl.
    f+=',"-Z","unstable-options","-C","panic=immediate-abort"'
    f+="${cfg:+,\"--cfg\",\"$cfg\"}"
    RUSTC_BOOTSTRAP=1 ZIG_TARGET=$zig DFORK_LIBC_DIR=$T/nolibc cargo build --release --locked --quiet -Zbuild-std=core --target "$t" \
      --target-dir "target/zig/$t" --config "target.$t.linker=\"$T/zigcc\"" --config "target.$t.rustflags=[$f]" 2>"$T/$t.build"
  fi
  echo $? >"$T/$t.rc"
  echo $((SECONDS - t0)) >"$T/$t.secs"
}

selected() {
  [ -z "$only" ] || [ "$1" = x86_64-unknown-linux-musl ] || [[ $only == *" $1 "* ]]
}
builders=()
for spec in "${targets[@]}"; do
  read -r t zig q cfg <<<"$spec"
  selected "$t" || continue
  if [ "$zig" = - ]; then build "$t" - ""; else build "$t" "$zig" "$cfg" & builders+=($!); fi
done
wait "${builders[@]}" 2>/dev/null

failed=0 base=0 rows=()
for spec in "${targets[@]}"; do
  read -r t zig q cfg <<<"$spec"
  selected "$t" || continue
  [ "$(cat "$T/$t.rc")" = 0 ] || { tail -5 "$T/$t.build"; rows+=("$t|-|-|failed: build"); failed=1; continue; }
  bin=$out/dfork-$version-$t
  if [ "$zig" = - ]; then cp "target/$t/release/dfork" "$bin"; else cp "target/zig/$t/$t/release/dfork" "$bin"; fi
  size=$(stat -c %s "$bin")
  [ "$t" = x86_64-unknown-linux-musl ] && base=$size
  ratio=$(awk -v a="$size" -v b="$base" 'BEGIN { printf "%.2f", a / b }')
  if [ "$q" != - ] && ! command -v "$q" >/dev/null 2>&1; then
    rows+=("$t|$size|$ratio|failed: $q missing (apt-get install qemu-user-static)"); failed=1; continue
  fi
  t1=$SECONDS
  # A router's flash is small: no target may take more than 1.5 times the
  # x86_64 binary's bytes.
  awk -v a="$size" -v b="$base" 'BEGIN { exit !(a * 2 > b * 3) }' && { rows+=("$t|$size|$ratio|failed: over 1.5 times x86_64"); failed=1; continue; }
  why=
  case $t in mips*) n=$(pic_prologues "$bin"); [ "$n" = 0 ] || why="$n position-independent prologues: they need \$t9";; esac
  [ -n "$why" ] || why=$(scenario "$t" "$q")
  echo "$t: built in $(cat "$T/$t.secs") s, scenario $((SECONDS - t1)) s"
  if [ -z "$why" ]; then rows+=("$t|$size|$ratio|passed"); else rows+=("$t|$size|$ratio|failed: $why"); failed=1; fi
done
(cd "$out" && sha256sum dfork-"$version"-* >SHA256SUMS)
printf '| target | bytes | × x86_64 | scenario under qemu |\n|---|---|---|---|\n'
for r in "${rows[@]}"; do IFS='|' read -r a b c d <<<"$r"; printf '| %s | %s | %s | %s |\n' "$a" "$b" "$c" "$d"; done
echo "$out: $(ls "$out" | wc -l) files"
exit $failed
