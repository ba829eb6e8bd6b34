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
bench_name=bench_packets
. "$(dirname "$0")/bench_common.sh"
bench_setup "$build" iperf3 tcpdump
bench_start_iperf_server

echo "loopback iperf3, ${seconds} s per run, port $port, kernel $(uname -r)"

base=$(bench_throughput) && [ -n "$base" ] || exit 1

# tcpscope record: packets on (the default), filtered to the iperf3 port like tcpdump below.
bench_record_start "$work/bench.tcpscope" --filter "port $port"
withTcpscope=$(bench_throughput) && [ -n "$withTcpscope" ] || exit 1
bench_record_stop
info=$("$tcpscope" info "$work/bench.tcpscope") || die "tcpscope info failed"

tcpdump -i lo -s 96 -w "$work/bench.pcap" "tcp port $port" >"$work/tcpdump.log" 2>&1 &
dump=$!
bench_pids+=($dump)
for _ in $(seq 100); do grep -q "listening on" "$work/tcpdump.log" && break; sleep 0.1; done
grep -q "listening on" "$work/tcpdump.log" || die "tcpdump did not start: $(cat "$work/tcpdump.log")"
withTcpdump=$(bench_throughput) && [ -n "$withTcpdump" ] || exit 1
kill -INT $dump
wait $dump

echo
printf '%-28s %10s %8s\n' "capture" "Gbit/s" "ratio"
printf '%-28s %10s %8s\n' "none" "$base" "1.000"
printf '%-28s %10s %8s\n' "tcpscope record (packets)" "$withTcpscope" "$(bench_ratio "$withTcpscope" "$base")"
printf '%-28s %10s %8s\n' "tcpdump -s 96 -w" "$withTcpdump" "$(bench_ratio "$withTcpdump" "$base")"
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
