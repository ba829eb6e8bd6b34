#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Cost of the capture filter's owner terms in the kernel, in one run. Not a test: it prints
# numbers, not verdicts. The same iperf3 load (fixed rate, loopback; both ends in a cgroup the
# script makes) is recorded with no filter, with `cgroup` naming the ends' cgroup (every packet
# kept after a verdict lookup), with `cgroup` naming an empty sibling (every packet left out) and
# with `pid` of the iperf3 server (its half of the sockets kept). With kernel.bpf_stats_enabled=1
# (restored on exit), run_time_ns / run_cnt of the helper's programs before and after each
# transfer give ns per run.
#
#   sudo tests/bench/bench_owner_filter.sh [-t SECONDS] [-r ROUNDS] [-b BUILD_DIR] [-R RATE]
#
#   -t SECONDS   iperf3 duration per run (default 5)
#   -r ROUNDS    rounds over all configurations (default 2)
#   -b DIR       build dir with bin/tcpscope and bin/tcpscope-helper (default build/)
#   -R RATE      iperf3 -b rate (default 3G)
# Needs root, iperf3, bpftool and a cgroup v2 mount. Everything it starts or makes is stopped or
# removed on any exit.
set -u

seconds=5
rounds=2
rate=3G
build="$(cd "$(dirname "$0")/../.." && pwd)/build"
usage() { sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'; }
while getopts "t:r:b:R:h" opt; do
    case $opt in
    t) seconds=$OPTARG ;;
    r) rounds=$OPTARG ;;
    b) build=$OPTARG ;;
    R) rate=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage; exit 2 ;;
    esac
done

bench_name=bench_owner_filter
. "$(dirname "$0")/bench_common.sh"
bench_setup "$build" iperf3 bpftool

root=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$root" ] || die "no cgroup v2 mount"
rel="/tcpscope-bench-$$"
mkdir "$root$rel" "$root$rel/load" "$root$rel/empty" || die "cannot make cgroups under $root"
bench_exit_hooks+=("rmdir '$root$rel/load' '$root$rel/empty' '$root$rel' 2>/dev/null")
bench_bpf_stats_on

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sh -c "echo \$\$ > '$root$rel/load/cgroup.procs' && exec iperf3 -s -B 127.0.0.1 -p $port -A 1" \
    >"$work/iperf3-server.log" 2>&1 &
server=$!
bench_pids+=($server)
sleep 0.5

transfer() {
    sh -c "echo \$\$ > '$root$rel/load/cgroup.procs' && exec iperf3 -c 127.0.0.1 -p $port \
        -t $seconds -b $rate -A 0 -J" >"$work/iperf3.json" 2>&1 ||
        die "iperf3 failed: $(head -c 300 "$work/iperf3.json")"
}

# One run of configuration $1; appends "config program dns dcnt" lines to progs.
measure() {
    local cfg=$1 file hp filter
    case $cfg in
    none) filter= ;;
    cgroup-kept) filter="cgroup $rel/load" ;;
    cgroup-left-out) filter="cgroup $rel/empty" ;;
    pid) filter="pid $server" ;;
    esac
    file="$work/run.tcpscope"
    rm -f "$file" "$file"-wal "$file"-shm
    bench_record_start "$file" ${filter:+--filter "$filter"}
    hp=$(bench_record_helper_pid)
    [ -n "$hp" ] || die "cannot find the helper of tcpscope record (pid $rec)"
    prog_stats "$hp" >"$work/p0"
    transfer
    prog_stats "$hp" >"$work/p1"
    bench_record_stop
    python3 - "$cfg" "$work/p0" "$work/p1" >>"$work/progs" <<'PY'
import sys
def load(path):
    return {l.split()[0]: l.split()[1:] for l in open(path) if l.strip()}
a, b = load(sys.argv[2]), load(sys.argv[3])
for i, (name, ns, cnt) in b.items():
    ns0, cnt0 = (int(x) for x in a.get(i, [name, 0, 0])[1:])
    print(sys.argv[1], name, int(ns) - ns0, int(cnt) - cnt0)
PY
}

configs=(none cgroup-kept cgroup-left-out pid)
: >"$work/progs"
echo "loopback iperf3 -b $rate, ${seconds} s per run, $rounds rounds, kernel $(uname -r), $(nproc) CPUs"
n=${#configs[@]}
for ((r = 0; r < rounds; r++)); do
    order=()
    for ((k = 0; k < n; k++)); do order+=("${configs[$(((k + r) % n))]}"); done
    echo "round $((r + 1))/$rounds: ${order[*]}"
    for cfg in "${order[@]}"; do measure "$cfg"; done
done

python3 - "$work/progs" "${configs[@]}" <<'PY'
import sys
per = {}
for line in open(sys.argv[1]):
    cfg, name, dns, dcnt = line.split()
    d = per.setdefault(name, {}).setdefault(cfg, [0, 0])
    d[0] += int(dns)
    d[1] += int(dcnt)
configs = sys.argv[2:]
print()
print("ns per run of each program (runs summed over the rounds)")
print("  %-16s" % "program" + "".join("%17s" % c for c in configs))
for name in sorted(per):
    row = per[name]
    if not any(row.get(c, [0, 0])[1] for c in configs):
        continue
    cells = []
    for c in configs:
        dns, dcnt = row.get(c, [0, 0])
        cells.append("%17s" % ("%.0f (%d)" % (dns / dcnt, dcnt) if dcnt else "-"))
    print("  %-16s" % name + "".join(cells))
PY
