#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs what tcpscope needs to build, run and test on Debian 12 (bookworm). Idempotent: apt is
# only called when a package is missing. Used by packaging/run.sh and packaging/test.sh.
set -euo pipefail

BUILD_PKGS=(build-essential cmake ninja-build pkg-config git clang llvm libbpf-dev bpftool
            libelf-dev zlib1g-dev qt6-base-dev qt6-base-dev-tools qt6-svg-dev libgl-dev
            libqcustomplot-dev libsqlite3-dev sqlite3 libcap-dev libzstd-dev)
RUN_PKGS=(qt6-qpa-plugins fonts-dejavu-core iproute2 libcap2-bin)
# Integration tests and benchmarks drive real traffic and compare with reference tools; the
# package tests build, validate and install the .deb (packaging/build-deb.sh, check-deb.sh);
# the remote-capture test runs its own sshd (openssh-server) on a free loopback port;
# clang-format checks the sources' formatting, clang-tidy runs tests/lint/run_tidy.sh.
TEST_PKGS=(clang-format clang-tidy tshark tcpdump iperf3 hping3 curl nftables xvfb xauth
           imagemagick time dpkg-dev file lintian desktop-file-utils appstream man-db adduser debconf
           openssh-client openssh-server)

want=("${BUILD_PKGS[@]}" "${RUN_PKGS[@]}")
[[ "${1:-}" == "--with-test-tools" ]] && want+=("${TEST_PKGS[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "deps.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer "no" without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
# openssh-server is only a test tool here: installing it must not leave the system's sshd
# listening on port 22, now or after a reboot. While it installs, a policy-rc.d (unless one is
# there already) forbids starting services; afterwards its units are disabled.
new_sshd=0
for p in "${missing[@]}"; do [[ "$p" == openssh-server ]] && new_sshd=1; done
if ((new_sshd)) && [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\n# deps.sh: no service starts while test tools are installed\nexit 101\n' |
    $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 0755 /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
if ((new_sshd)); then
  if command -v systemctl >/dev/null; then
    # disable works without a running systemd (containers, VMs booted by another init).
    $SUDO systemctl disable ssh.service ssh.socket >/dev/null 2>&1 || true
    if [[ -d /run/systemd/system ]]; then
      $SUDO systemctl stop ssh.service ssh.socket >/dev/null 2>&1 || true
    fi
  fi
  $SUDO update-rc.d ssh disable >/dev/null 2>&1 || true
  echo "deps.sh: openssh-server installed for the tests; its system service is disabled"
fi
