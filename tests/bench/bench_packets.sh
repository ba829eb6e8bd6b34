#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Packet capture cost on loopback at a fixed load, in one run. Not a test: it prints numbers.
#  - iperf3 at a fixed rate (-b RATE -l 64K, client on CPU 0, server on CPU 1) with no capture,
#    with `tcpscope record` (packets + kernel metrics, filtered to the iperf3 port) and with
#    `tcpdump -s 96 -w` (same port), once per round in a rotated order; medians over rounds.
#  - CPU-seconds per transfer: the capturing tool's own (tcpscope record + its helper, or
#    tcpdump; user + sys; the helper's part on its own) and iperf3's (both ends, from its -J
#    report: BPF programs run in their context), and tcpscope's CPU as a multiple of tcpdump's.
#  - kernel.bpf_stats_enabled=1 for the run (restored on exit): run_time_ns / run_cnt of every
#    program the helper holds, over the transfers (medians of the per-round means).
#  - helper start: exec of tcpscope-helper to its Hello frame (BPF loaded, hooks probed).
#  With -H OTHER_HELPER a second helper binary runs in the same rounds as "tcpscope (other)",
#  e.g. a build of another commit: before/after side by side under the same load.
#
#   sudo tests/bench/bench_packets.sh [-t SECONDS] [-r ROUNDS] [-B RATE] [-b BUILD_DIR] [-H HELPER]
#
# Defaults: -t 5, -r 3, -B 3G. Needs root, iperf3, tcpdump and bpftool (packaging/deps.sh
# --with-test-tools) and a build with bin/tcpscope and bin/tcpscope-helper. Everything it starts
# is stopped and its files removed on any exit.
set -u

seconds=5
rounds=3
rate=3G
other=""
build="$(cd "$(dirname "$0")/../.." && pwd)/build"
usage() { sed -n '3,22p' "$0" | sed 's/^# \{0,1\}//'; }
while getopts "t:r:B:b:H:h" opt; do
    case $opt in
    t) seconds=$OPTARG ;;
    r) rounds=$OPTARG ;;
    B) rate=$OPTARG ;;
    b) build=$OPTARG ;;
    H) other=$(readlink -f "$OPTARG") ;;
    h) usage; exit 0 ;;
    *) usage; exit 2 ;;
    esac
done
bench_name=bench_packets
. "$(dirname "$0")/bench_common.sh"
bench_setup "$build" iperf3 tcpdump bpftool
[ -z "$other" ] || [ -x "$other" ] || die "-H $other is not an executable"
bench_bpf_stats_on
if [ "$(nproc)" -ge 2 ]; then
    bench_server_cpu=1
    bench_client_cpu=0
fi
bench_start_iperf_server
echo "loopback iperf3 -b $rate -l 64K, ${seconds} s per run, $rounds rounds, port $port," \
    "kernel $(uname -r), $(nproc) CPUs"

# One transfer; prints "Gbit/s iperf3-cpu-seconds" (both ends, user + sys).
transfer() {
    iperf3 -c 127.0.0.1 -p "$port" -t "$seconds" -b "$rate" -l 64K \
        ${bench_client_cpu:+-A "$bench_client_cpu"} -J >"$work/iperf3.json" 2>&1 ||
        die "iperf3 failed: $(head -c 500 "$work/iperf3.json")"
    python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["end"]
c = e["cpu_utilization_percent"]
print("%.3f %.3f" % (e["sum_received"]["bits_per_second"] / 1e9,
                     (c["host_total"] + c["remote_total"]) / 100 * float(sys.argv[2])))' \
        "$work/iperf3.json" "$seconds"
}

# One run of configuration $1 (none, tcpdump, tcpscope, other); appends
# "config Gbit/s iperf3-cpu-s tool-cpu-s" to results and "config round name dns dcnt" to progs.
measure() {
    local cfg=$1 r=$2 out c0 c1 h0=0 h1=0 hp file pids
    case $cfg in
    none)
        echo "$cfg $(transfer) - -" >>"$work/results"
        return
        ;;
    tcpdump)
        tcpdump -i lo -s 96 -w "$work/bench.pcap" "tcp port $port" >"$work/tcpdump.log" 2>&1 &
        pids=$!
        bench_pids+=($pids)
        for _ in $(seq 100); do grep -q "listening on" "$work/tcpdump.log" && break; sleep 0.1; done
        grep -q "listening on" "$work/tcpdump.log" || die "tcpdump did not start"
        c0=$(cpu_ticks $pids)
        out=$(transfer)
        c1=$(cpu_ticks $pids)
        kill -INT $pids
        wait $pids
        ;;
    tcpscope | other)
        file="$work/run.tcpscope"
        rm -f "$file" "$file"-wal "$file"-shm
        [ "$cfg" = other ] && export TCPSCOPE_HELPER=$other
        bench_record_start "$file" --filter "port $port"
        export TCPSCOPE_HELPER=$helper
        hp=$(bench_record_helper_pid "$([ "$cfg" = other ] && echo "$other" || echo "$helper")")
        [ -n "$hp" ] || die "cannot find the helper of tcpscope record (pid $rec)"
        prog_stats "$hp" >"$work/p0"
        c0=$(cpu_ticks $rec "$hp")
        h0=$(cpu_ticks "$hp")
        out=$(transfer)
        c1=$(cpu_ticks $rec "$hp")
        h1=$(cpu_ticks "$hp")
        prog_stats "$hp" >"$work/p1"
        bench_record_stop
        python3 - "$cfg" "$r" "$work/p0" "$work/p1" >>"$work/progs" <<'EOF'
import sys
def load(path):
    return {l.split()[0]: l.split()[1:] for l in open(path) if l.strip()}
a, b = load(sys.argv[3]), load(sys.argv[4])
for i, (name, ns, cnt) in b.items():
    ns0, cnt0 = (int(x) for x in a.get(i, [name, 0, 0])[1:])
    print(sys.argv[1], sys.argv[2], name, int(ns) - ns0, int(cnt) - cnt0)
EOF
        ;;
    esac
    echo "$cfg $out $(python3 -c "t = $(getconf CLK_TCK); print('%.3f %.3f' % (($c1 - $c0) / t, ($h1 - $h0) / t))")" \
        >>"$work/results"
}

configs=(none tcpdump tcpscope)
[ -n "$other" ] && configs+=(other)
: >"$work/results"
: >"$work/progs"
: >"$work/starts"
n=${#configs[@]}
for ((r = 0; r < rounds; r++)); do
    order=()
    for ((k = 0; k < n; k++)); do order+=("${configs[$(((k + r) % n))]}"); done
    echo "round $((r + 1))/$rounds: ${order[*]}"
    for cfg in "${order[@]}"; do measure "$cfg" "$r"; done
    echo "tcpscope $(bench_helper_start "$helper")" >>"$work/starts"
    [ -n "$other" ] && echo "other $(bench_helper_start "$other")" >>"$work/starts"
done

python3 - "$work/results" "$work/progs" "$work/starts" "$other" "${configs[@]}" <<'EOF'
import statistics as st, sys
results, progs, starts, other = sys.argv[1:5]
configs = sys.argv[5:]
label = {"none": "no capture", "tcpdump": "tcpdump -s 96 -w", "tcpscope": "tcpscope record",
         "other": "tcpscope (other helper)"}
runs = {}
for line in open(results):
    cfg, gbit, icpu, tcpu, hcpu = line.split()
    runs.setdefault(cfg, []).append((float(gbit), float(icpu), None if tcpu == "-" else float(tcpu),
                                     None if hcpu == "-" else float(hcpu)))
med = lambda xs: st.median(xs) if xs else float("nan")
dump = med([t for _, _, t, _ in runs.get("tcpdump", [])])
print()
print("medians over %d rounds (CPU-s per transfer; x tcpdump = tool CPU / tcpdump's)" % len(runs["none"]))
print("  %-26s %8s %12s %12s %11s %12s" % ("capture", "Gbit/s", "iperf3 CPU-s", "tool CPU-s",
                                          "x tcpdump", "helper CPU-s"))
for cfg in configs:
    r = runs[cfg]
    tool = med([t for _, _, t, _ in r if t is not None])
    ours = cfg in ("tcpscope", "other")
    ratio = "%.2f" % (tool / dump) if ours and dump > 0 else "-"
    helper = "%.3f" % med([h for _, _, _, h in r]) if ours else "-"
    print("  %-26s %8.2f %12.3f %12s %11s %12s" % (label[cfg], med([g for g, _, _, _ in r]),
          med([c for _, c, _, _ in r]), "-" if cfg == "none" else "%.3f" % tool, ratio, helper))
print("  (tool CPU-s: tcpscope record + its helper, or tcpdump; helper CPU-s: the helper's part)")
per = {}
for line in open(progs):
    cfg, rnd, name, dns, dcnt = line.split()
    if int(dcnt):
        per.setdefault(cfg, {}).setdefault(name, []).append((int(dns) / int(dcnt), int(dcnt)))
print()
print("BPF programs during the transfers: ns/run (run_time_ns / run_cnt; median of the rounds)")
for cfg in configs:
    if cfg not in per:
        continue
    print("  %s:" % label[cfg])
    for name, vals in sorted(per[cfg].items()):
        print("    %-20s %9.0f ns/run %10d runs/round" % (name, med([v for v, _ in vals]),
                                                        med([c for _, c in vals])))
sts = {}
for line in open(starts):
    parts = line.split()
    if len(parts) == 2:
        sts.setdefault(parts[0], []).append(float(parts[1]))
print()
for cfg, vals in sts.items():
    print("helper start (exec to Hello), %s: median %.3f s of %d (%s)" % (
        label[cfg], med(vals), len(vals), " ".join("%.3f" % v for v in vals)))
EOF
