#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Large-session benchmark: generates a ~10-million-record session with bench_session_gen (the
# real SessionWriter and TcpAnalyzer, no kernel involved) and measures what a user waits for:
# file size and bytes per packet, `tcpscope info`, `export --chart timeline`, `--chart overview`,
# `export --connections` and `export --packets` (wall time and max RSS), and the GUI opening
# it when bench_session_gui is built. Needs no root.
#
#   tests/bench/bench_session.sh [-b BUILD_DIR] [-k] [-s SESSION] [-- GENERATOR OPTIONS]
#
# -b: build directory (default: build); -k: keep the work directory (session and outputs);
# -s: measure this existing session file instead of generating one.
# Generator options default to the 10M-record session:
#   --connections 200000 --bulk 30 --bulk-packets 100000 --minutes 13
set -euo pipefail

build=build
keep=0
given=
while [ $# -gt 0 ]; do
    case $1 in
    -b) build=$2; shift 2 ;;
    -k) keep=1; shift ;;
    -s) given=$2; shift 2 ;;
    --) shift; break ;;
    -h | --help) sed -n '3,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench_session: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
gen_args=("$@")
[ ${#gen_args[@]} -gt 0 ] || gen_args=(--connections 200000 --bulk 30 --bulk-packets 100000 --minutes 13)

tcpscope=${TCPSCOPE_BIN:-$build/bin/tcpscope}
gen=$build/bin/bench_session_gen
gui=$build/bin/bench_session_gui
[ -x "$tcpscope" ] || { echo "bench_session: $tcpscope not built (cmake --build $build --target tcpscope)" >&2; exit 1; }
[ -x "$gen" ] || { echo "bench_session: $gen not built (cmake --build $build --target bench_session_gen)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench_session: /usr/bin/time missing (packaging/deps.sh --with-test-tools)" >&2; exit 1; }

work=$(mktemp -d /tmp/bench_session.XXXXXX)
cleanup() { if [ "$keep" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
session=$work/bench.tcpscope

# measure LABEL CMD...: one line "LABEL  wall s  max RSS MB", the command's output in $work/out.
measure() {
    local label=$1
    shift
    if ! /usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$work/out" 2>"$work/err"; then
        echo "bench_session: '$*' failed:" >&2
        cat "$work/err" >&2
        exit 1
    fi
    read -r wall rss <"$work/time"
    printf '%-34s %8.2f s %9.1f MB\n' "$label" "$wall" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
}

mb_per_s() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", (s > 0 ? b / 1e6 / s : 0) }'; }

if [ -n "$given" ]; then
    [ -f "$given" ] || { echo "bench_session: $given: no such file" >&2; exit 1; }
    session=$given
else
    echo "== generating: bench_session_gen ${gen_args[*]}"
    "$gen" -o "$session" "${gen_args[@]}"
fi
size=$(stat -c %s "$session")
packets=$("$tcpscope" info "$session" | sed -n 's/^Packets: *\([0-9]*\) received.*/\1/p')
echo "file: $size bytes, $packets packets: $(awk -v b="$size" -v n="$packets" 'BEGIN { printf "%.1f", (n > 0 ? b / n : 0) }') bytes/packet (all records included)"
echo
printf '%-34s %10s %12s\n' "" "wall" "max RSS"
measure "tcpscope info" "$tcpscope" info "$session"
measure "export --chart timeline (png)" "$tcpscope" export "$session" --chart timeline -o "$work/timeline.png"
measure "export --chart overview (png)" "$tcpscope" export "$session" --chart overview -o "$work/overview.png"
measure "export --connections (csv)" "$tcpscope" export "$session" --connections "$work/conns.csv"
echo "    $(($(wc -l <"$work/conns.csv") - 1)) rows, $(mb_per_s "$(stat -c %s "$work/conns.csv")" "$wall") MB/s written"
for fmt in pcapng csv; do
    measure "export --packets ($fmt)" "$tcpscope" export "$session" --packets "$work/packets.$fmt"
    n=$(sed -n 's/^wrote \([0-9]*\) packets.*/\1/p' "$work/out")
    echo "    $n packets, $(awk -v n="$n" -v s="$wall" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }') packets/s, $(mb_per_s "$(stat -c %s "$work/packets.$fmt")" "$wall") MB/s written"
    rm -f "$work/packets.$fmt"
done
if [ -x "$gui" ]; then
    echo
    echo "== bench_session_gui"
    QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen} /usr/bin/time -f 'bench_session_gui: %e s wall, %M kB max RSS' "$gui" "$session"
else
    echo "skipped: bench_session_gui not built"
fi
