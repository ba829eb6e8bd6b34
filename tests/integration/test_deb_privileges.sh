#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The Debian package as real users see it (root, real kernel). Installs the .deb built by the
# `deb` target, creates two temporary users (one in the group tcpscope, one not) and checks:
#   - the package's permission model: system group, helper root:tcpscope 0750 with exactly the
#     documented file capabilities, a dpkg-statoverride;
#   - the outsider cannot start a capture (exit 77 and a sentence saying what to do), cannot
#     run the helper, and cannot read the member's capture;
#   - the member captures real traffic into a 0600 file; the running helper keeps exactly
#     CAP_BPF + CAP_NET_ADMIN (effective and permitted), no_new_privs, not dumpable;
#   - a helper stripped of its capabilities says so (exit 77) and dpkg-reconfigure restores them;
#   - remove drops the override and every file, purge the group; nothing of it stays behind.
# Always leaves the machine as it found it (trap): package purged, users and their homes gone.
# Usage: test_deb_privileges.sh PACKAGE.deb TS_TRAFFIC
set -uo pipefail

deb=${1:?usage: test_deb_privileges.sh PACKAGE.deb TS_TRAFFIC}
traffic=${2:?usage: test_deb_privileges.sh PACKAGE.deb TS_TRAFFIC}
helper=/usr/libexec/tcpscope/tcpscope-helper
expected_caps="cap_bpf,cap_net_admin,cap_perfmon,cap_sys_ptrace"
# CAP_NET_ADMIN (12) and CAP_BPF (39): what the helper keeps once attached.
expected_capeff=0000008000001000
member=tsdeb-m$$
outsider=tsdeb-o$$
shared=""
failures=0

if [[ $(id -u) -ne 0 ]]; then
  echo "SKIPPED: NOT ROOT - the package test installs a .deb and creates users"
  exit 0
fi
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
pass() { echo "ok: $*"; }
# Runs as a user with a login-like environment (own HOME, groups from the group database).
as() {
  local user=$1
  shift
  runuser -u "$user" -- env -i PATH=/usr/bin:/bin HOME="/home/$user" LANG=C.UTF-8 "$@"
}

cleanup() {
  local pid
  for pid in ${record_pid:-}; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  if dpkg-query -W -f='${Status}' tcpscope 2>/dev/null | grep -q installed ||
     dpkg-query -W -f='${Status}' tcpscope 2>/dev/null | grep -q config-files; then
    dpkg --purge tcpscope >/dev/null 2>&1 || echo "cleanup: dpkg --purge tcpscope failed" >&2
  fi
  for u in "$member" "$outsider"; do
    getent passwd "$u" >/dev/null && userdel -r "$u" >/dev/null 2>&1
  done
  # The group is the package's: if a failed purge left it, remove it (it did not exist before).
  getent group tcpscope >/dev/null && groupdel tcpscope 2>/dev/null
  dpkg-statoverride --list "$helper" >/dev/null 2>&1 && dpkg-statoverride --remove "$helper"
  [[ -n "$shared" ]] && rm -rf "$shared"
}

[[ -f "$deb" ]] || { echo "FAIL: no package at $deb (build the 'deb' target)" >&2; exit 1; }
# Never touch a real installation or a group someone else created.
if dpkg-query -W -f='${Status}' tcpscope 2>/dev/null | grep -q "installed\|config-files"; then
  echo "FAIL: the tcpscope package is already installed here; the test installs and purges it" >&2
  exit 1
fi
if getent group tcpscope >/dev/null; then
  echo "FAIL: a group tcpscope exists without the package; the test would remove it" >&2
  exit 1
fi
trap cleanup EXIT

# --- install ---
if ! dpkg -i "$deb" >/tmp/tsdeb-install.$$ 2>&1; then
  cat /tmp/tsdeb-install.$$ >&2
  rm -f /tmp/tsdeb-install.$$
  echo "FAIL: dpkg -i $deb" >&2
  exit 1
fi
rm -f /tmp/tsdeb-install.$$
gid=$(getent group tcpscope | cut -d: -f3)
if [[ -n "$gid" && "$gid" -lt 1000 ]]; then pass "system group tcpscope ($gid)"; else fail "no system group tcpscope ($gid)"; fi
owner=$(stat -c '%U:%G %a' "$helper")
[[ "$owner" == "root:tcpscope 750" ]] && pass "helper $owner" || fail "helper is $owner, want root:tcpscope 750"
override=$(dpkg-statoverride --list "$helper")
[[ "$override" == "root tcpscope 750 $helper" ]] && pass "statoverride: $override" ||
  fail "statoverride is '$override'"
# getcap prints "PATH cap_a,cap_b=ep" (newer libcap) or "PATH = cap_a,cap_b+ep".
caps=$(getcap "$helper" | sed 's/^[^ ]* //; s/^= //; s/[=+]ep$//' | tr ',' '\n' | sort | paste -sd,)
[[ "$caps" == "$expected_caps" ]] && pass "file capabilities $caps =ep" ||
  fail "file capabilities '$(getcap "$helper")', want $expected_caps=ep"
[[ -x /usr/bin/tcpscope ]] || fail "/usr/bin/tcpscope missing"

useradd -m -s /bin/sh "$member" && useradd -m -s /bin/sh "$outsider" || { fail "useradd"; exit 1; }
usermod -aG tcpscope "$member"
# A directory anyone may write to: only the capture file's own mode protects it there.
shared=$(mktemp -d /tmp/tsdeb-shared.XXXXXX)
chmod 1777 "$shared"

# --- the outsider ---
out=$(as "$outsider" /usr/bin/tcpscope record -o "$shared/outsider.tcpscope" --duration 2 2>&1)
rc=$?
if [[ $rc -eq 77 ]]; then pass "outsider: record exits 77"; else fail "outsider: record exited $rc, want 77: $out"; fi
if grep -q "only members of the group 'tcpscope'" <<<"$out" &&
   grep -q "sudo usermod -aG tcpscope $outsider" <<<"$out"; then
  pass "outsider told: $out"
else
  fail "outsider's message does not say what to do: $out"
fi
[[ ! -e "$shared/outsider.tcpscope" ]] || fail "a refused capture left a file behind"
as "$outsider" "$helper" --help >/dev/null 2>&1
rc=$?
[[ $rc -eq 126 ]] && pass "outsider cannot execute the helper (126)" ||
  fail "outsider ran the helper: exit $rc"

# --- a member whose login predates the membership (no supplementary groups in the process) ---
out=$(setpriv --reuid "$member" --regid "$(id -g "$member")" --clear-groups \
        env -i PATH=/usr/bin:/bin HOME="/home/$member" \
        /usr/bin/tcpscope record -o "$shared/stale.tcpscope" --duration 1 2>&1)
rc=$?
[[ $rc -eq 77 ]] && pass "stale login: exit 77" || fail "stale login: exit $rc: $out"
grep -q "log out and in again" <<<"$out" && pass "stale login told: $out" ||
  fail "stale login not told to log in again: $out"

# --- the member captures real traffic ---
as "$member" /usr/bin/tcpscope record -q -o "$shared/member.tcpscope" --duration 6 \
  >"$shared/member.out" 2>&1 &
record_pid=$!
hpid=""
for _ in $(seq 100); do
  hpid=$(pgrep -u "$member" -x tcpscope-helper | head -1)
  # Capturing once the recorder reports nothing but the helper has dropped: CapPrm shrinks last.
  if [[ -n "$hpid" ]] && grep -q "^CapPrm:[[:space:]]*$expected_capeff" "/proc/$hpid/status" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
if [[ -n "$hpid" ]]; then
  status=$(cat "/proc/$hpid/status")
  capeff=$(awk '/^CapEff:/ {print $2}' <<<"$status")
  capprm=$(awk '/^CapPrm:/ {print $2}' <<<"$status")
  capinh=$(awk '/^CapInh:/ {print $2}' <<<"$status")
  capamb=$(awk '/^CapAmb:/ {print $2}' <<<"$status")
  nnp=$(awk '/^NoNewPrivs:/ {print $2}' <<<"$status")
  [[ "$capeff" == "$expected_capeff" ]] && pass "running helper CapEff $capeff (CAP_BPF, CAP_NET_ADMIN)" ||
    fail "running helper CapEff $capeff, want $expected_capeff"
  [[ "$capprm" == "$expected_capeff" ]] && pass "CapPrm $capprm" || fail "CapPrm $capprm, want $expected_capeff"
  [[ "$capinh" == 0000000000000000 && "$capamb" == 0000000000000000 ]] &&
    pass "no inheritable or ambient capabilities" || fail "CapInh $capinh CapAmb $capamb"
  [[ "$nnp" == 1 ]] && pass "no_new_privs" || fail "NoNewPrivs $nnp"
  # A non-dumpable process's /proc files belong to root.
  [[ "$(stat -c %U "/proc/$hpid/status")" == root ]] && pass "helper not dumpable" ||
    fail "helper is dumpable"
else
  fail "no tcpscope-helper of $member appeared: $(cat "$shared/member.out")"
fi
# Real loopback traffic while the member records (generated as root: a capture sees everyone's).
server_out=$(mktemp)
"$traffic" server 4 2000 2000 >"$server_out" &
server_pid=$!
port=""
for _ in $(seq 50); do
  port=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$server_out")
  [[ -n "$port" ]] && break
  sleep 0.1
done
"$traffic" client 4 "$port" 2000 2000 >/dev/null || fail "traffic client"
wait "$server_pid" || fail "traffic server"
rm -f "$server_out"
wait "$record_pid"
rc=$?
record_pid=""
[[ $rc -eq 0 ]] && pass "member: record exits 0" || fail "member: record exited $rc: $(cat "$shared/member.out")"
file="$shared/member.tcpscope"
mode=$(stat -c '%U %a' "$file" 2>/dev/null)
[[ "$mode" == "$member 600" ]] && pass "capture is $mode" || fail "capture is '$mode', want '$member 600'"
conns=$(as "$member" /usr/bin/tcpscope export "$file" --connections - 2>&1)
# CSV columns: id,pid,comm,family,local_addr,local_port,remote_addr,remote_port,...
if awk -F, -v port="$port" '$3 == "ts_client" && $8 == port {found=1} END {exit !found}' <<<"$conns"; then
  pass "member's capture holds the traffic on port $port"
else
  fail "member's capture lacks the connection on port $port: $(head -5 <<<"$conns")"
fi
# The outsider cannot read it, although the directory lets everyone in.
out=$(as "$outsider" /usr/bin/tcpscope info "$file" 2>&1)
rc=$?
[[ $rc -ne 0 ]] && pass "outsider cannot read the member's capture (exit $rc)" ||
  fail "outsider read the member's capture: $out"
as "$outsider" cat "$file" >/dev/null 2>&1 && fail "outsider can cat the capture"

# --- a helper without its capabilities says what to do; dpkg-reconfigure restores them ---
setcap -r "$helper"
out=$(as "$member" /usr/bin/tcpscope record -o "$shared/nocaps.tcpscope" --duration 1 2>&1)
rc=$?
[[ $rc -eq 77 ]] && pass "helper without capabilities: exit 77" || fail "helper without capabilities: exit $rc: $out"
grep -q "dpkg-reconfigure tcpscope" <<<"$out" && pass "told: $out" || fail "no remedy named: $out"
dpkg-reconfigure tcpscope >/dev/null 2>&1 || dpkg-reconfigure -fnoninteractive tcpscope >/dev/null 2>&1
caps=$(getcap "$helper" | sed 's/^[^ ]* //; s/^= //; s/[=+]ep$//' | tr ',' '\n' | sort | paste -sd,)
[[ "$caps" == "$expected_caps" ]] && pass "dpkg-reconfigure restored the capabilities" ||
  fail "after dpkg-reconfigure: '$(getcap "$helper")'"

# --- remove, then purge: nothing stays ---
files=$(dpkg -L tcpscope | while read -r f; do [[ -f "$f" ]] && echo "$f"; done)
dpkg --remove tcpscope >/dev/null 2>&1 || fail "dpkg --remove"
left=$(for f in $files; do [[ -e "$f" ]] && echo "$f"; done)
[[ -z "$left" ]] && pass "remove: every file gone" || fail "remove left: $left"
[[ ! -e /usr/libexec/tcpscope ]] || fail "remove left /usr/libexec/tcpscope"
dpkg-statoverride --list "$helper" >/dev/null 2>&1 && fail "remove left the statoverride" ||
  pass "remove: statoverride gone"
dpkg --purge tcpscope >/dev/null 2>&1 || fail "dpkg --purge"
getent group tcpscope >/dev/null && fail "purge left the group tcpscope" || pass "purge: group gone"
dpkg-query -W tcpscope >/dev/null 2>&1 && fail "dpkg still knows tcpscope" || pass "purge: package unknown to dpkg"
if command -v bpftool >/dev/null && bpftool prog show 2>/dev/null | grep -q " ts_"; then
  fail "BPF programs still loaded: $(bpftool prog show | grep ' ts_')"
fi

if ((failures)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all package checks passed"
