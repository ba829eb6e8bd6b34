#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# What a host costs over SSH: the same loopback connection churn recorded by a local
# `tcpscope record` and by `tcpscope record --remote` through a real sshd on this machine (its
# own port and keys in the work directory; nothing else of ssh is touched), side by side, step by
# step.
#
#   sudo tests/bench/bench_remote.sh [-r "RATES"] [-t SECONDS] [-b BUILD_DIR]
#
# For each rate (connect/close cycles per second, default "1000 2000 4000"), first locally, then
# over SSH: the recorder is started and live, bench_churn_driver makes the cycles for SECONDS
# (default 5), and one second later the recorder is stopped. Printed per step:
#   records/s  records the recorder received (`info --json` records) per second of churn
#   lost       records lost on the way (ring buffers, skipped runs, not read, not written)
#   rec_cpu_s  CPU-seconds of `tcpscope record` and its children: the helper in the local step,
#              the ssh client over SSH
#   remote_s   CPU-seconds of the far end: the sshd session and the remote tcpscope-helper
#              (over SSH only)
#   clock      over SSH: the remote clock's offset from this machine's as the recording
#              measured it (ClockProbe round trips), with its error bound (`info --json` hosts)
# The ssh connection is to 127.0.0.1, so the link itself is free: what is measured is what
# framing, encryption and the extra processes cost per record.
# Needs root (BPF; sshd logs in as root with the generated key) and openssh-server; run it under
# `flock /tmp/tcpscope-kernel.lock` on a shared machine.
# shellcheck disable=SC2034
bench_name=bench_remote
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench_common.sh
. "$here/bench_common.sh"

rates="1000 2000 4000"
seconds=5
build=build
while getopts "r:t:b:" o; do
    case $o in
    r) rates=$OPTARG ;;
    t) seconds=$OPTARG ;;
    b) build=$OPTARG ;;
    *) sed -n '3,20p' "$0" >&2; exit 2 ;;
    esac
done
bench_setup "$build" ssh ssh-keygen /usr/sbin/sshd
driver=$build/bin/bench_churn_driver
[ -x "$driver" ] || die "$driver not found: cmake --build $build --target bench_churn_driver"

# sshd on a free loopback port, root login with a key made here, nothing else.
made_run_sshd=0
if [ ! -d /run/sshd ]; then
    mkdir -p /run/sshd && made_run_sshd=1
fi
bench_exit_hooks+=('[ $made_run_sshd = 1 ] && rmdir /run/sshd')
ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/id"
cp "$work/id.pub" "$work/authorized_keys"
sshport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/sshd_config" <<EOF
ListenAddress 127.0.0.1
HostKey $work/host_key
AuthorizedKeysFile $work/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PidFile none
EOF
echo "[127.0.0.1]:$sshport $(cut -d' ' -f1,2 "$work/host_key.pub")" >"$work/known_hosts"
cat >"$work/ssh_config" <<EOF
Host benchremote
  HostName 127.0.0.1
  Port $sshport
  User root
  IdentityFile $work/id
  IdentitiesOnly yes
  IdentityAgent none
  UserKnownHostsFile $work/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
EOF
/usr/sbin/sshd -D -e -f "$work/sshd_config" -p "$sshport" 2>"$work/sshd.log" &
sshd_pid=$!
# Its sessions outlive the listener: stop every sshd below it on exit.
bench_exit_hooks+=('pkill -TERM -P $sshd_pid 2>/dev/null; kill $sshd_pid 2>/dev/null; wait $sshd_pid 2>/dev/null')
for _ in $(seq 50); do
    (exec 3<>/dev/tcp/127.0.0.1/"$sshport") 2>/dev/null && break
    sleep 0.1
done

descendants() {
    local p c
    for p in "$@"; do
        for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do
            echo "$c"
            descendants "$c"
        done
    done
}

json_field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

printf "%-6s %-6s %8s %10s %8s %9s %9s  %s\n" mode rate achieved records/s lost rec_cpu_s remote_s clock
for rate in $rates; do
    for mode in local ssh; do
        file=$work/$mode-$rate.tcpscope
        if [ $mode = ssh ]; then
            TCPSCOPE_SSH="ssh -F $work/ssh_config" \
                bench_record_start "$file" --remote benchremote --remote-helper "$(readlink -f "$helper")"
        else
            bench_record_start "$file"
        fi
        sleep 1
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        # shellcheck disable=SC2086
        before=$(cpu_ticks $rec $(descendants "$rec"))
        # shellcheck disable=SC2086
        remote_before=$(cpu_ticks $(descendants "$sshd_pid"))
        "$driver" --port "$port" --rate "$rate" --seconds "$seconds" >"$work/driver.out" ||
            die "bench_churn_driver failed: $(cat "$work/driver.out")"
        sleep 1
        # shellcheck disable=SC2086
        after=$(cpu_ticks $rec $(descendants "$rec"))
        # shellcheck disable=SC2086
        remote_after=$(cpu_ticks $(descendants "$sshd_pid"))
        bench_record_stop
        "$tcpscope" info "$file" --json >"$work/info.json" || die "info failed"
        received=$(json_field "$work/info.json" 'd["records"]')
        lost=$(json_field "$work/info.json" 'd["lost_records"] + d["not_read"] + d["not_written"]')
        achieved=$(sed -n 's/.*rate=\([0-9.]*\).*/\1/p' "$work/driver.out")
        hz=$(getconf CLK_TCK)
        clock=-
        [ $mode = ssh ] && clock=$(json_field "$work/info.json" '"%+.3f ms ± %.3f ms" % (d["hosts"][0]["clock_offset_ns"] / 1e6, d["hosts"][0]["offset_error_ns"] / 1e6) if d.get("hosts") else "(not measured)"')
        printf "%-6s %-6s %8.0f %10.0f %8s %9.2f %9s  %s\n" $mode "$rate" "$achieved" \
            "$(python3 -c "print($received / $seconds)")" "$lost" \
            "$(python3 -c "print(($after - $before) / $hz)")" \
            "$([ $mode = ssh ] && python3 -c "print('%.2f' % (($remote_after - $remote_before) / $hz))" || echo -)" \
            "$clock"
        rm -f "$file"
    done
done
