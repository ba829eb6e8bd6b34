# SPDX-License-Identifier: GPL-3.0-or-later
# Shell functions shared by the loopback benchmarks (bench_packets.sh, bench_tcpinfo.sh).
# Source it after setting bench_name; then call bench_setup. Everything started through these
# functions is stopped, every exit hook run and the work directory removed on any exit.
# shellcheck shell=bash

bench_pids=()
bench_exit_hooks=()

die() { echo "$bench_name: $*" >&2; exit 1; }

# bench_setup BUILD_DIR TOOL...: root, tools, binaries ($tcpscope, $helper), $work, exit trap.
bench_setup() {
    local build=$1
    shift
    [ "$(id -u)" -eq 0 ] || die "needs root (BPF)"
    local t
    for t in "$@" python3; do
        command -v "$t" >/dev/null || die "$t missing: packaging/deps.sh --with-test-tools"
    done
    tcpscope=${TCPSCOPE_BIN:-$build/bin/tcpscope}
    helper=${TCPSCOPE_HELPER:-$build/bin/tcpscope-helper}
    [ -x "$tcpscope" ] || die "$tcpscope not found: build it or set TCPSCOPE_BIN / use -b BUILD_DIR"
    [ -x "$helper" ] || die "$helper not found: build it or set TCPSCOPE_HELPER / use -b BUILD_DIR"
    export TCPSCOPE_HELPER=$helper
    work=$(mktemp -d "/tmp/$bench_name.XXXXXX")
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

bench_cleanup() {
    local p h
    for p in "${bench_pids[@]}"; do
        kill -INT "$p" 2>/dev/null
    done
    for p in "${bench_pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
    done
    for h in "${bench_exit_hooks[@]}"; do
        eval "$h"
    done
    rm -rf "$work"
}

# Starts an iperf3 server on a free loopback port: sets $port. Set bench_server_cpu and
# bench_client_cpu to pin the two ends (iperf3 -A): loopback throughput depends a lot on whether
# they share a CPU, and unpinned runs on a busy machine then vary more than what is measured.
bench_start_iperf_server() {
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    iperf3 -s -B 127.0.0.1 -p "$port" ${bench_server_cpu:+-A "$bench_server_cpu"} \
        >"$work/iperf3-server.log" 2>&1 &
    bench_pids+=($!)
    sleep 0.5
}

# Receiver throughput in Gbit/s of one iperf3 run of $seconds s.
bench_throughput() {
    iperf3 -c 127.0.0.1 -p "$port" -t "$seconds" ${bench_client_cpu:+-A "$bench_client_cpu"} -J \
        >"$work/iperf3.json" 2>&1 ||
        die "iperf3 failed: $(head -c 500 "$work/iperf3.json")"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.2f" % (d["end"]["sum_received"]["bits_per_second"]/1e9))' "$work/iperf3.json"
}

bench_ratio() { python3 -c "import sys; print('%.3f' % (float(sys.argv[1])/float(sys.argv[2])))" "$1" "$2"; }

# bench_record_start FILE ARGS...: `tcpscope record -o FILE ARGS` in the background, returns
# once the capture is live (the helper's Hello facts are in the file). Sets $rec (its pid).
bench_record_start() {
    local file=$1
    shift
    "$tcpscope" record -o "$file" "$@" >"$work/record.log" 2>&1 &
    rec=$!
    bench_pids+=($rec)
    for _ in $(seq 200); do
        kill -0 $rec 2>/dev/null || die "tcpscope record exited: $(cat "$work/record.log")"
        if "$tcpscope" info "$file" 2>/dev/null | grep -q "^Time range: *[0-9]"; then
            return 0
        fi
        sleep 0.1
    done
    die "tcpscope record did not start within 20 s: $(cat "$work/record.log")"
}

# Stops the recording started last (SIGINT: it finishes the file) and checks its exit status.
bench_record_stop() {
    kill -INT $rec
    wait $rec || die "tcpscope record failed: $(cat "$work/record.log")"
}

# Pid of the tcpscope-helper (or of helper binary $1) that the recording $rec spawned (its
# child), empty if none.
bench_record_helper_pid() {
    local c bin
    bin=$(readlink -f "${1:-$helper}")
    for c in $(cat /proc/$rec/task/*/children 2>/dev/null); do
        [ "$(readlink /proc/$c/exe 2>/dev/null)" = "$bin" ] && { echo $c; return; }
    done
}

# Programs the helper holds (from its fdinfo), with their cumulative run time and count, as
# "id name run_time_ns run_cnt" lines.
prog_stats() {
    local hp=$1 ids
    ids=$(grep -h "^prog_id:" /proc/"$hp"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un | tr '\n' ' ')
    bpftool prog show -j | python3 -c '
import json, sys
want = set(int(i) for i in sys.argv[1].split())
for p in json.load(sys.stdin):
    if p["id"] in want:
        print(p["id"], p.get("name", "?"), p.get("run_time_ns", 0), p.get("run_cnt", 0))
' "$ids"
}

# CPU time (user + system, in clock ticks) of the given processes so far.
cpu_ticks() {
    local t=0 p f
    for p in "$@"; do
        f=$(cut -d')' -f2- /proc/"$p"/stat 2>/dev/null) || continue
        t=$((t + $(echo "$f" | awk '{print $12 + $13}')))
    done
    echo $t
}

# bench_bpf_stats_on: kernel.bpf_stats_enabled=1 for the run, restored on exit.
bench_bpf_stats_on() {
    local before
    before=$(sysctl -n kernel.bpf_stats_enabled) || die "cannot read kernel.bpf_stats_enabled"
    bench_exit_hooks+=("sysctl -q -w kernel.bpf_stats_enabled=$before")
    sysctl -q -w kernel.bpf_stats_enabled=1 || die "cannot enable kernel.bpf_stats_enabled"
}

# Seconds from exec of helper $1 to its Hello frame (BPF objects loaded, hooks probed).
bench_helper_start() {
    python3 - "$1" <<'PY'
import socket, subprocess, sys, time
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
t0 = time.monotonic()
p = subprocess.Popen([sys.argv[1], "--fd", str(b.fileno())], pass_fds=[b.fileno()],
                     stderr=subprocess.DEVNULL)
b.close()
got = a.recv(1)
t1 = time.monotonic()
a.close()
p.wait()
print("%.3f" % (t1 - t0) if got else "")
PY
}
