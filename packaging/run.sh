#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# One command from a fresh Debian 12 machine to a running tcpscope: installs dependencies, builds,
# grants the helper its capabilities (so the app itself never runs as root), launches the app.
# Arguments are passed to tcpscope (e.g. a session file to open).
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/deps.sh
packaging/build.sh
helper=build/bin/tcpscope-helper
if [[ $(id -u) -ne 0 ]]; then
  # The dumpcap model: only the small helper is privileged, through file capabilities.
  if ! getcap "$helper" | grep -q cap_bpf; then
    echo "run.sh: granting $helper cap_bpf,cap_perfmon,cap_net_admin,cap_sys_ptrace (sudo)"
    sudo setcap cap_bpf,cap_perfmon,cap_net_admin,cap_sys_ptrace+ep "$helper"
  fi
fi
exec build/bin/tcpscope "$@"
