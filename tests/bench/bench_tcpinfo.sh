#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Cost of the kernel's-view probes on loopback, in one run. Not a test: it prints
# numbers, not verdicts.
#  (a) per-program BPF cost: with kernel.bpf_stats_enabled=1 (restored on exit), run_time_ns and
#      run_cnt of every program the recording helper holds (`bpftool prog show -j`, before and
#      after the transfer): ns per run, runs/s and CPU share.
#  (b) iperf3 throughput with no capture, with lifecycle only (if `record --no-tcpinfo` exists)
#      and with `tcpscope record --no-packets` (lifecycle + tcpinfo) at each sample interval,
#      as ratios to no capture, with the tcp_probe samples/s that reached the session file.
#      Also the CPU time `tcpscope record` and its helper use (user space: ring buffer, SQLite).
#  Loopback throughput on a shared machine is noisy: iperf3's ends are pinned to CPUs 0 and 1,
#  every configuration runs once per round, in a rotated order, and the table shows medians
#  (and the spread of the no-capture runs).
#
#   sudo tests/bench/bench_tcpinfo.sh [-t SECONDS] [-r ROUNDS] [-b BUILD_DIR] [-i "0 1000 10000"]
#
#   -t SECONDS   iperf3 duration per run (default 5)
#   -r ROUNDS    rounds over all configurations (default 3)
#   -b DIR       build dir with bin/tcpscope and bin/tcpscope-helper (default build/; or set
#                $TCPSCOPE_BIN / $TCPSCOPE_HELPER)
#   -i LIST      sample intervals in microseconds (default "0 1000 10000")
# Needs root, iperf3 and bpftool (packaging/deps.sh --with-test-tools). Everything it starts is
# stopped and its files removed on any exit.
set -u

seconds=5
rounds=3
intervals="0 1000 10000"
build="$(cd "$(dirname "$0")/../.." && pwd)/build"
usage() { sed -n '3,24p' "$0" | sed 's/^# \{0,1\}//'; }
for a in "$@"; do
    [ "$a" = "--help" ] && { usage; exit 0; }
done
while getopts "t:r:b:i:h" opt; do
    case $opt in
    t) seconds=$OPTARG ;;
    r) rounds=$OPTARG ;;
    b) build=$OPTARG ;;
    i) intervals=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage; exit 2 ;;
    esac
done

bench_name=bench_tcpinfo
. "$(dirname "$0")/bench_common.sh"
bench_setup "$build" iperf3 bpftool

bench_bpf_stats_on

# Which record flags this build has: an invalid use of a known flag is a usage error that names
# the flag; an unknown one is "Unknown option". Neither starts a capture.
knows() { ! "$tcpscope" record -o "$work/probe.tcpscope" "$@" 2>&1 | grep -qi "unknown option"; }
has_interval=0
has_no_tcpinfo=0
knows --sample-interval x && has_interval=1
knows --no-tcpinfo --duration x && has_no_tcpinfo=1

# Rows of a table in a session file ("" if the table is missing).
session_count() {
    python3 -c '
import sqlite3, sys
try:
    db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
    print(db.execute("select count(*) from %s" % sys.argv[2]).fetchone()[0])
except Exception:
    print("")
' "$1" "$2"
}

# One run of configuration $1 ("none", "lifecycle" or "ti:INTERVAL"); appends
# "config Gbit/s samples events cpu_ticks" to results and "config name dns dcnt" to progs.
measure() {
    local cfg=$1 thr file hp c0 c1 samples events
    if [ "$cfg" = none ]; then
        thr=$(bench_throughput) && [ -n "$thr" ] || exit 1
        echo "$cfg $thr - - -" >>"$work/results"
        return
    fi
    local args=(--no-packets)
    case $cfg in
    lifecycle) args+=(--no-tcpinfo) ;;
    ti:default) ;;
    ti:*) args+=(--sample-interval "${cfg#ti:}") ;;
    esac
    file="$work/run.tcpscope"
    rm -f "$file" "$file"-wal "$file"-shm
    bench_record_start "$file" "${args[@]}"
    hp=$(bench_record_helper_pid)
    [ -n "$hp" ] || die "cannot find the helper of tcpscope record (pid $rec)"
    prog_stats "$hp" >"$work/p0"
    c0=$(cpu_ticks $rec "$hp")
    thr=$(bench_throughput) && [ -n "$thr" ] || exit 1
    c1=$(cpu_ticks $rec "$hp")
    prog_stats "$hp" >"$work/p1"
    bench_record_stop
    samples=$(session_count "$file" tcp_samples)
    events=$(session_count "$file" kernel_events)
    echo "$cfg $thr ${samples:--} ${events:--} $((c1 - c0))" >>"$work/results"
    python3 - "$cfg" "$work/p0" "$work/p1" >>"$work/progs" <<'EOF'
import sys
def load(path):
    return {l.split()[0]: l.split()[1:] for l in open(path) if l.strip()}
a, b = load(sys.argv[2]), load(sys.argv[3])
for i, (name, ns, cnt) in b.items():
    ns0, cnt0 = (int(x) for x in a.get(i, [name, 0, 0])[1:])
    print(sys.argv[1], name, int(ns) - ns0, int(cnt) - cnt0)
EOF
}

# iperf3 client on CPU 0, server on CPU 1 (when there are two): see bench_start_iperf_server.
if [ "$(nproc)" -ge 2 ]; then
    bench_server_cpu=1
    bench_client_cpu=0
fi
bench_start_iperf_server
echo "loopback iperf3, ${seconds} s per run, $rounds rounds, port $port, kernel $(uname -r)," \
    "$(nproc) CPUs${bench_client_cpu:+, iperf3 client on CPU $bench_client_cpu, server on CPU $bench_server_cpu}"
configs=(none)
if [ $has_no_tcpinfo -eq 1 ]; then
    configs+=(lifecycle)
else
    echo "NOTE: 'tcpscope record' has no --no-tcpinfo here: no lifecycle-only run"
fi
if [ $has_interval -eq 1 ]; then
    for iv in $intervals; do configs+=("ti:$iv"); done
else
    echo "NOTE: 'tcpscope record' has no --sample-interval here: tcpinfo runs use its default"
    configs+=(ti:default)
fi
: >"$work/results"
: >"$work/progs"
n=${#configs[@]}
for ((r = 0; r < rounds; r++)); do
    order=()
    for ((k = 0; k < n; k++)); do order+=("${configs[$(((k + r) % n))]}"); done
    echo "round $((r + 1))/$rounds: ${order[*]}"
    for cfg in "${order[@]}"; do measure "$cfg"; done
done

python3 - "$work/results" "$work/progs" "$seconds" "$(getconf CLK_TCK)" "${configs[@]}" <<'EOF'
import statistics, sys
results, progs, secs, tck = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
configs = sys.argv[5:]
runs = {}
for line in open(results):
    cfg, thr, samples, events, ticks = line.split()
    runs.setdefault(cfg, []).append((float(thr), samples, events, ticks))
base = statistics.median(t for t, *_ in runs["none"])
none = sorted(t for t, *_ in runs["none"])
def label(cfg):
    if cfg in ("none", "lifecycle"):
        return {"none": "no capture", "lifecycle": "lifecycle only"}[cfg]
    return "lifecycle+tcpinfo " + cfg[3:] + ("" if cfg[3:] == "default" else " us")
print()
print("BPF programs of the helper during the transfers (sum over rounds; CPU% = share of one CPU):")
per = {}
for line in open(progs):
    cfg, name, dns, dcnt = line.split()
    d = per.setdefault(cfg, {}).setdefault(name, [0, 0])
    d[0] += int(dns)
    d[1] += int(dcnt)
for cfg in configs:
    if cfg not in per:
        continue
    wall = secs * len(runs[cfg])
    print("  %s:" % label(cfg))
    print("    %-16s %10s %10s %8s" % ("program", "runs/s", "ns/run", "CPU%"))
    total = 0
    for name, (dns, dcnt) in sorted(per[cfg].items()):
        total += dns
        if dcnt:
            print("    %-16s %10d %10.0f %8.2f" % (name, dcnt / wall, dns / dcnt, 100 * dns / (wall * 1e9)))
    print("    %-16s %10s %10s %8.2f" % ("all programs", "", "", 100 * total / (wall * 1e9)))
print()
print("throughput: median of %d runs each; ratio to the no-capture median %.2f Gbit/s"
      % (len(runs["none"]), base))
print("(no-capture runs ranged %.2f..%.2f Gbit/s: differences inside that spread are noise)"
      % (none[0], none[-1]))
print("  %-28s %8s %7s %11s %9s %10s" % ("capture", "Gbit/s", "ratio", "samples/s", "events/s",
                                         "user CPU%"))
for cfg in configs:
    r = runs[cfg]
    med = statistics.median(t for t, *_ in r)
    def rate(idx):
        vals = [int(x[idx]) for x in r if x[idx] != "-"]
        return "%d" % (sum(vals) / (secs * len(vals))) if vals else "-"
    ticks = [int(x[3]) for x in r if x[3] != "-"]
    cpu = "%.1f" % (100 * sum(ticks) / tck / (secs * len(ticks))) if ticks else "-"
    print("  %-28s %8.2f %7.3f %11s %9s %10s" % (label(cfg), med, med / base, rate(1), rate(2), cpu))
print("  (samples/s, events/s: rows of tcp_samples / kernel_events in the session file per second")
print("   of transfer; user CPU%: tcpscope record + its helper, share of one CPU)")
EOF
