#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Packet capture cost on loopback, in one run: iperf3 throughput with no capture, with
# `tcpscope record` (packet capture on) and with `tcpdump -s 96 -w`, each as a ratio to no
# capture; tcpscope's packet records/s and lost records (from `tcpscope info`), tcpdump's
# packets/s and kernel drops. Not a test: it prints numbers, not verdicts.
#
#   sudo tests/bench/bench_packets.sh [-t SECONDS] [-b BUILD_DIR]
#
# Needs root, iperf3 and tcpdump (packaging/deps.sh --with-test-tools), and a build with
# bin/tcpscope and bin/tcpscope-helper (default build dir: build/, or $TCPSCOPE_BIN and
# $TCPSCOPE_HELPER). Everything it starts is stopped and its files removed on any exit.
set -u

seconds=5
build="$(cd "$(dirname "$0")/../.." && pwd)/build"
while getopts "t:b:h" opt; do
    case $opt in
    t) seconds=$OPTARG ;;
    b) build=$OPTARG ;;
    *) sed -n '2,13p' "$0"; exit 2 ;;
    esac
done
tcpscope=${TCPSCOPE_BIN:-$build/bin/tcpscope}
helper=${TCPSCOPE_HELPER:-$build/bin/tcpscope-helper}

die() { echo "bench_packets: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (BPF, tcpdump)"
for t in iperf3 tcpdump python3; do
    command -v $t >/dev/null || die "$t missing: packaging/deps.sh --with-test-tools"
done
[ -x "$tcpscope" ] || die "$tcpscope not found: build it or set TCPSCOPE_BIN / use -b BUILD_DIR"
[ -x "$helper" ] || die "$helper not found: build it or set TCPSCOPE_HELPER / use -b BUILD_DIR"
export TCPSCOPE_HELPER=$helper

work=$(mktemp -d /tmp/bench_packets.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill -INT "$p" 2>/dev/null
    done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free port for the iperf3 server.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
iperf3 -s -B 127.0.0.1 -p "$port" >"$work/iperf3-server.log" 2>&1 &
pids+=($!)
sleep 0.5

# Receiver throughput in Gbit/s of one iperf3 run.
throughput() {
    iperf3 -c 127.0.0.1 -p "$port" -t "$seconds" -J >"$work/iperf3.json" 2>&1 ||
        die "iperf3 failed: $(head -c 500 "$work/iperf3.json")"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.2f" % (d["end"]["sum_received"]["bits_per_second"]/1e9))' "$work/iperf3.json"
}
ratio() { python3 -c "import sys; print('%.3f' % (float(sys.argv[1])/float(sys.argv[2])))" "$1" "$2"; }

echo "loopback iperf3, ${seconds} s per run, port $port, kernel $(uname -r)"

base=$(throughput) && [ -n "$base" ] || exit 1

# tcpscope record: packets on (the default), filtered to the iperf3 port like tcpdump below.
"$tcpscope" record -o "$work/bench.tcpscope" --filter "port $port" >"$work/record.log" 2>&1 &
rec=$!
pids+=($rec)
live=0
for _ in $(seq 200); do
    kill -0 $rec 2>/dev/null || die "tcpscope record exited: $(cat "$work/record.log")"
    # Live once the helper's Hello facts (capture start time) are in the file.
    if "$tcpscope" info "$work/bench.tcpscope" 2>/dev/null | grep -q "^Time range: *[0-9]"; then
        live=1
        break
    fi
    sleep 0.1
done
[ $live -eq 1 ] || die "tcpscope record did not start within 20 s: $(cat "$work/record.log")"
withTcpscope=$(throughput) && [ -n "$withTcpscope" ] || exit 1
kill -INT $rec
wait $rec || die "tcpscope record failed: $(cat "$work/record.log")"
info=$("$tcpscope" info "$work/bench.tcpscope") || die "tcpscope info failed"

tcpdump -i lo -s 96 -w "$work/bench.pcap" "tcp port $port" >"$work/tcpdump.log" 2>&1 &
dump=$!
pids+=($dump)
for _ in $(seq 100); do grep -q "listening on" "$work/tcpdump.log" && break; sleep 0.1; done
grep -q "listening on" "$work/tcpdump.log" || die "tcpdump did not start: $(cat "$work/tcpdump.log")"
withTcpdump=$(throughput) && [ -n "$withTcpdump" ] || exit 1
kill -INT $dump
wait $dump

echo
printf '%-28s %10s %8s\n' "capture" "Gbit/s" "ratio"
printf '%-28s %10s %8s\n' "none" "$base" "1.000"
printf '%-28s %10s %8s\n' "tcpscope record (packets)" "$withTcpscope" "$(ratio "$withTcpscope" "$base")"
printf '%-28s %10s %8s\n' "tcpdump -s 96 -w" "$withTcpdump" "$(ratio "$withTcpdump" "$base")"
echo
echo "tcpscope (from tcpscope info):"
echo "$info" | grep -E "^(Time range|Records|Lost records|Packets|Lost packets|Filtered out):" |
    sed 's/^/  /'
recv=$(echo "$info" | python3 -c '
import re, sys
text = sys.stdin.read()
m = re.search(r"packets\D*?(\d+)\s+received", text, re.I) or re.search(r"(\d+)\s+packet", text, re.I)
print(m.group(1) if m else "")')
[ -n "$recv" ] && echo "  packet records/s: $(python3 -c "print(int($recv/$seconds))") (over the ${seconds} s transfer)"
echo "tcpdump:"
grep -E "captured|dropped|received" "$work/tcpdump.log" | sed 's/^/  /'
cap=$(grep -oE "^[0-9]+ packets captured" "$work/tcpdump.log" | cut -d' ' -f1)
[ -n "$cap" ] && echo "  packets/s: $(python3 -c "print(int($cap/$seconds))")"
