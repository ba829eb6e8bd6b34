#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# One command from a fresh Debian 12 machine to a running tcpscope: installs dependencies, builds,
# grants the built helper its capabilities (so the app itself never runs as root), launches the
# app. Arguments are passed to tcpscope (e.g. a session file to open).
# Started through sudo or pkexec, the app runs as the user who asked (SUDO_USER / PKEXEC_UID):
# only the helper is privileged. A plain root login runs it as root, and the app warns.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/deps.sh
packaging/build.sh
helper=build/bin/tcpscope-helper
caps=cap_bpf,cap_perfmon,cap_net_admin,cap_sys_ptrace
sudo=""
[[ $(id -u) -ne 0 ]] && sudo=sudo
# The dumpcap model: only the small helper is privileged, through file capabilities. A build
# tree has no tcpscope group, so whoever can run this script may capture with it.
if ! getcap "$helper" | grep -q cap_bpf; then
  echo "run.sh: granting $helper $caps${sudo:+ (sudo)}"
  $sudo setcap "$caps+ep" "$helper"
fi
target_user=""
if [[ $(id -u) -eq 0 ]]; then
  if [[ -n "${SUDO_USER:-}" && "${SUDO_USER}" != root ]]; then
    target_user=$SUDO_USER
  elif [[ -n "${PKEXEC_UID:-}" && "${PKEXEC_UID}" != 0 ]]; then
    target_user=$(getent passwd "$PKEXEC_UID" | cut -d: -f1)
  fi
fi
if [[ -n "$target_user" ]]; then
  # runuser keeps DISPLAY/WAYLAND_DISPLAY/XAUTHORITY from this environment (--preserve-env
  # would be sudo's); the user's own HOME and groups come from the password database.
  exec runuser -u "$target_user" -- env HOME="$(getent passwd "$target_user" | cut -d: -f6)" \
    build/bin/tcpscope "$@"
fi
exec build/bin/tcpscope "$@"
