#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Churn capacity: the highest loopback connection rate `tcpscope record` captures without losing
# a connection, a state change, a packet or a record, next to what libbpf-tools' tcplife keeps up
# with in the same steps.
#
#   sudo tests/bench/bench_churn.sh [-r "RATES"] [-t SECONDS] [-c CLIENTS] [-w WARMUP_SECONDS]
#                                   [-W WARMUP_RATE] [-b BUILD_DIR] [-B OTHER_BUILD_DIR] [-R] [-k]
#                                   [-- RECORD OPTIONS]
#
# For each rate (connect/close cycles per second, default "2000 5000 10000 15000 20000 25000
# 30000"), for each build (-B adds a second one, e.g. the version before a change, run in the
# same steps one after the other) and with tcplife running alongside (-R: without it):
#   1. tcplife (tracepoint sock:inet_sock_set_state; tracefs is mounted for the run if needed)
#      and `tcpscope record -o STEP.tcpscope [RECORD OPTIONS]` are started and live; the
#      recorder is warmed up with WARMUP_RATE cycles/s (default 3000) for WARMUP_SECONDS
#      (default 10; 0 = none) on another port: a recorder that just started spends the first
#      ~10 s of churn growing its heap to its steady size (page faults, expensive in this VM),
#      which a recorder that has been running does not;
#   2. bench_churn_driver makes the cycles for SECONDS (default 5) from CLIENTS processes
#      (default 4) to one server port on 127.0.0.1: connect, 64 bytes each way, the client
#      closes first; it prints how many cycles it completed (made) and the rate it achieved;
#   3. one second later both are stopped (SIGINT); `tcpscope record` finishes its backlog.
# Printed per step:
#   achieved  cycles/s the driver reached (each cycle is two connections: client and server)
#   complete  connections in the file with their whole history (client SYN_SENT>ESTABLISHED>
#             FIN_WAIT1>FIN_WAIT2>CLOSE, server SYN_RECV>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSE),
#             closed by FIN and with the kernel's close statistics (64 bytes each way), out of
#             2 x made
#   lost/missed/not_read/not_written/pkt_lost  from `tcpscope info --json`: records lost in the
#             ring buffers, skipped program runs, records the helper dropped because tcpscope
#             did not read them, records the writer could not store, packets lost
#   cpu_s     CPU-seconds (user+system) of `tcpscope record` and its helper from the start of the
#             measured churn to the end of the recording (stop included, warm-up not); helper_s the helper's part, writer_s the session writer thread's
#             (the rest is the ingest thread: tracking, joining, analysis); drain_s the time
#             from SIGINT to exit
#   tcplife   tcplife output lines for the server port out of 2 x made, and its lost events
#   opens     the kernel's TcpActiveOpens delta over the driver's run (/proc/net/snmp; other
#             traffic on the machine counts too), ground truth for connections made
# A step is lossless when complete = 2 x made, nothing was lost, dropped or missed and the driver
# had no failures. The summary gives, per build, the highest achieved rate of a lossless step
# (every lower step lossless too), and the highest rate at which tcplife printed every
# connection and reported no lost events.
# Needs root; run it under `flock /tmp/tcpscope-kernel.lock` on a shared machine. -k keeps the
# session files (in the printed work directory).
# shellcheck disable=SC2034
bench_name=bench_churn
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench_common.sh
. "$here/bench_common.sh"

rates="2000 5000 10000 15000 20000 25000 30000"
seconds=5
clients=4
warmup=10
warmup_rate=3000
build=build
other=
reference=1
keep=0
while getopts "r:t:c:w:W:b:B:Rkh" o; do
    case $o in
    r) rates=$OPTARG ;;
    t) seconds=$OPTARG ;;
    c) clients=$OPTARG ;;
    w) warmup=$OPTARG ;;
    W) warmup_rate=$OPTARG ;;
    b) build=$OPTARG ;;
    B) other=$OPTARG ;;
    R) reference=0 ;;
    k) keep=1 ;;
    *) sed -n '3,46p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
record_opts=("$@")

bench_setup "$build" stdbuf
driver=$build/bin/bench_churn_driver
[ -x "$driver" ] || die "$driver not found: cmake --build $build --target bench_churn_driver"
builds=("$build")
# Each build's name in the table and in its files: its directory's name, or (when both are
# called the same, e.g. two "build" directories) "this" and "other".
labels=("$(basename "$build")")
if [ -n "$other" ]; then
    for b in "$other/bin/tcpscope" "$other/bin/tcpscope-helper"; do
        [ -x "$b" ] || die "$b not found"
    done
    builds+=("$other")
    labels+=("$(basename "$other")")
    [ "${labels[0]}" = "${labels[1]}" ] && labels=(this other)
fi
[ $keep = 1 ] && bench_exit_hooks+=("cp -a '$work' '$work.kept' && echo 'sessions kept in $work.kept' >&2")

tcplife_bin=
if [ $reference = 1 ]; then
    tcplife_bin=$(command -v tcplife || true)
    [ -n "$tcplife_bin" ] || echo "bench_churn: tcplife not found (libbpf-tools), no reference" >&2
    # tcplife attaches to the classic tracepoint, which needs tracefs.
    if [ -n "$tcplife_bin" ] && [ ! -d /sys/kernel/tracing/events/sock ]; then
        mount -t tracefs nodev /sys/kernel/tracing || die "cannot mount tracefs for tcplife"
        bench_exit_hooks+=("umount /sys/kernel/tracing")
    fi
fi

# A free server port below the ephemeral range, so no client ever gets it as a local port.
port=$(python3 -c '
import random, socket
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(100):
    p = random.randrange(10000, lo - 1)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        s.close()
')
[ -n "$port" ] || die "no free port"
warmup_port=$((port + 1))

active_opens() { awk '/^Tcp:/ { if (n++) print $6 }' /proc/net/snmp; }
ticks=$(getconf CLK_TCK)
# CPU ticks of process $1, or empty once it is gone.
proc_ticks() { cut -d')' -f2- /proc/"$1"/stat 2>/dev/null | awk '{print $12 + $13}'; }

# CPU ticks of the session writer thread(s) of recorder $1.
writer_ticks() {
    local f n=0 t
    for f in /proc/"$1"/task/*; do
        [ "$(cat "$f"/comm 2>/dev/null)" = tcpscope-writer ] || continue
        t=$(proc_ticks "${f#/proc/}") && [ -n "$t" ] && n=$((n + t))
    done
    echo $n
}

# step BUILD LABEL RATE: one measured step; prints its table row and appends "build rate ok" to
# $work/verdicts and "rate ok" to $work/tcplife (when tcplife ran).
step() {
    local b=$1 label=$2 rate=$3 tag file tlpid='' timepid='' rec='' hp='' hticks=0 wticks=0 t
    tag=$label-$rate
    file=$work/$tag.tcpscope
    tcpscope=$b/bin/tcpscope
    export TCPSCOPE_HELPER=$b/bin/tcpscope-helper
    if [ -n "$tcplife_bin" ]; then
        stdbuf -oL "$tcplife_bin" >"$work/$tag.tcplife" 2>"$work/$tag.tcplife.err" &
        tlpid=$!
        bench_pids+=("$tlpid")
    fi
    /usr/bin/time -f "%U %S" -o "$work/$tag.time" \
        "$tcpscope" record -o "$file" -q "${record_opts[@]}" >"$work/$tag.record.log" 2>&1 &
    timepid=$!
    bench_pids+=("$timepid")
    local live=''
    for _ in $(seq 300); do
        kill -0 $timepid 2>/dev/null || die "tcpscope record exited: $(cat "$work/$tag.record.log")"
        # The recorder itself (time's child) gets the SIGINT, also from the exit trap.
        if [ -z "$rec" ]; then
            rec=$(cat /proc/$timepid/task/*/children 2>/dev/null | awk '{print $1}')
            [ -n "$rec" ] && bench_pids+=("$rec")
        fi
        if [ -n "$rec" ] && "$tcpscope" info "$file" 2>/dev/null | grep -q "^Time range: *[0-9]"; then
            live=1
            break
        fi
        sleep 0.1
    done
    [ -n "$live" ] || die "tcpscope record did not start: $(cat "$work/$tag.record.log")"
    for c in $(cat /proc/"$rec"/task/*/children 2>/dev/null); do
        [ "$(readlink -f /proc/"$c"/exe)" = "$(readlink -f "$TCPSCOPE_HELPER")" ] && hp=$c
    done
    if [ -n "$tlpid" ]; then
        sleep 0.5
        kill -0 "$tlpid" 2>/dev/null || die "tcplife failed: $(head -c 400 "$work/$tag.tcplife.err")"
    fi
    if [ "$warmup" != 0 ]; then
        "$driver" --port "$warmup_port" --rate "$warmup_rate" --seconds "$warmup" \
            --clients "$clients" >/dev/null || die "warm-up failed"
        sleep 1
    fi
    # CPU so far (warm-up), subtracted from the step's.
    local pre_rec pre_h pre_w
    pre_rec=$(proc_ticks "$rec")
    pre_h=$(proc_ticks "$hp")
    pre_h=${pre_h:-0}
    hticks=$pre_h
    pre_w=$(writer_ticks "$rec")
    local opens0 opens1 out
    opens0=$(active_opens)
    out=$("$driver" --port "$port" --rate "$rate" --seconds "$seconds" --clients "$clients") ||
        die "driver failed: $out"
    opens1=$(active_opens)
    sleep 1
    local stop0 stop1
    stop0=$(date +%s.%N)
    kill -INT "$rec"
    # The helper's and the writer thread's CPU until they end (the last values are read here).
    while kill -0 "$timepid" 2>/dev/null; do
        [ -n "$hp" ] && { t=$(proc_ticks "$hp"); [ -n "$t" ] && hticks=$t; }
        t=$(writer_ticks "$rec")
        [ -n "$t" ] && [ "$t" -gt 0 ] && wticks=$t
        sleep 0.05
    done
    wait "$timepid" || die "tcpscope record failed: $(cat "$work/$tag.record.log")"
    stop1=$(date +%s.%N)
    if [ -n "$tlpid" ]; then
        kill -INT "$tlpid"
        wait "$tlpid"
    fi
    # The connections of the server port, checked one by one, and the capture's counters.
    "$tcpscope" export "$file" --connections "$work/$tag.csv" -Y "tcp.port == $port" >/dev/null ||
        die "export failed"
    "$tcpscope" info --json "$file" >"$work/$tag.json" || die "info failed"
    python3 - "$out" "$work/$tag.csv" "$work/$tag.json" "$work/$tag.time" "$hticks" "$ticks" \
        "$stop0" "$stop1" "$((opens1 - opens0))" "$port" "$work/$tag.tcplife" \
        "$work/$tag.tcplife.err" "$label" "$rate" "$work/verdicts" "$work/tcplife" \
        "${tlpid:+1}" "$wticks" "$((pre_rec + pre_h))" "$pre_h" "$pre_w" <<'PY'
import csv, json, re, sys
(out, csvf, jsonf, timef, hticks, tck, s0, s1, opens, port, tlf, tlerr, build, rate, verdicts,
 tlverdicts, tlran, wticks, pre_all, pre_h, pre_w) = sys.argv[1:22]
d = dict(kv.split("=") for kv in out.split())
made, failed = int(d["made"]), int(d["failed"])
want = {
    "client": "SYN_SENT>ESTABLISHED>FIN_WAIT1>FIN_WAIT2>CLOSE",
    "server": "SYN_RECV>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSE",
}
complete = 0
for r in csv.DictReader(open(csvf)):
    if (want.get(r["role"]) == r["states"] and r["close_reason"] == "fin"
            and r["bytes_sent"] == "64" and r["bytes_received"] == "64"):
        complete += 1
j = json.load(open(jsonf))
lost, missed = j["lost_records"], j["missed_program_runs"]
not_read, not_written = j["not_read"], j["not_written"]
pkt_lost = j["packets"]["lost"]
u, s = (float(x) for x in open(timef).read().split()[-2:])
helper = (int(hticks) - int(pre_h)) / int(tck)
writer = (int(wticks) - int(pre_w)) / int(tck)
cpu = u + s - int(pre_all) / int(tck)
ok = (failed == 0 and complete == 2 * made and lost == 0 and missed == 0 and not_read == 0
      and not_written == 0 and pkt_lost == 0)
tl = "-"
tlok = False
if tlran:
    lines = 0
    for line in open(tlf):
        f = line.split()
        if len(f) >= 6 and (f[3] == port or f[5] == port):
            lines += 1
    tllost = sum(int(m) for m in re.findall(r"lost (\d+) events", open(tlerr).read()))
    tlok = failed == 0 and lines == 2 * made and tllost == 0
    tl = "%d/%d lost %d" % (lines, 2 * made, tllost)
    open(tlverdicts, "a").write("%s %s %d\n" % (rate, d["rate"], tlok))
print("%-10s %6s %8s %7d %6d %8s %9d %7d %8d %9d %7d %6.2f %8.2f %8.2f %7.2f  %-22s %7s %s" % (
    build, rate, d["rate"], made, failed, "%d/%d" % (complete, 2 * made), lost, missed,
    not_read, not_written, pkt_lost, cpu, helper, writer, float(s1) - float(s0), tl, opens,
    "ok" if ok else "LOSS"))
open(verdicts, "a").write("%s %s %s %d\n" % (build, rate, d["rate"], ok))
PY
    [ $keep = 1 ] || rm -f "$file" "$file"-wal "$file"-shm "$work/$tag.csv"
}

echo "bench_churn: $(date -u +%Y-%m-%dT%H:%MZ) $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)," \
    "port $port, $clients client processes, ${seconds} s per step after ${warmup} s at $warmup_rate/s," \
    "tcp_tw_reuse=$(sysctl -n net.ipv4.tcp_tw_reuse)"
printf "%-10s %6s %8s %7s %6s %8s %9s %7s %8s %9s %7s %6s %8s %8s %7s  %-22s %7s %s\n" build \
    target achieved made failed complete lost missed not_read not_written pkt_lost cpu_s helper_s \
    writer_s drain_s "tcplife (lines/conns)" opens verdict
for rate in $rates; do
    for i in "${!builds[@]}"; do
        step "${builds[$i]}" "${labels[$i]}" "$rate"
    done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$work/verdicts" "$work/tcplife" <<'PY'
import os, sys
best = {}
broken = set()
for line in open(sys.argv[1]):
    build, rate, achieved, ok = line.split()
    if ok == "1" and build not in broken:
        best[build] = max(best.get(build, 0), float(achieved))
    elif ok != "1":
        broken.add(build)
seen = []
for line in open(sys.argv[1]):
    b = line.split()[0]
    if b not in seen:
        seen.append(b)
for b in seen:
    print("highest lossless rate, %s: %s cycles/s (%s connections/s)" % (
        b, "%.0f" % best[b] if b in best else "none",
        "%.0f" % (2 * best[b]) if b in best else "-"))
if os.path.exists(sys.argv[2]):
    tbest, tbroken = 0, False
    for line in open(sys.argv[2]):
        rate, achieved, ok = line.split()
        if ok == "1" and not tbroken:
            tbest = max(tbest, float(achieved))
        elif ok != "1":
            tbroken = True
    print("highest rate tcplife printed every connection: %.0f cycles/s (%.0f connections/s)" % (
        tbest, 2 * tbest))
PY
