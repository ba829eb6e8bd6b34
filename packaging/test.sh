#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# One command from a fresh Debian 12 machine to every test: installs dependencies (incl. the
# reference tools the integration tests compare against), builds, runs the whole CTest suite.
# Integration tests need root (real BPF, real traffic); without root they skip and say why.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/deps.sh --with-test-tools
packaging/build.sh
export QT_QPA_PLATFORM=offscreen
if [[ $(id -u) -ne 0 ]]; then
  echo "test.sh: NOT ROOT - integration tests (real BPF) will be skipped; run with sudo for the full suite" >&2
fi
# Unit, GUI and lint tests in parallel, then the integration tests in a phase of their own (they
# are sensitive to CPU load: a churn test competing with other tests measures the machine). The
# integration tests run one at a time because each holds RESOURCE_LOCK kernel (tcpscope_add_test
# gives it to every test labelled integration), not because of -j: the lock is what serialises.
ctest --preset default -L "unit|gui|lint" -j"$(nproc)" --timeout 600 "$@"
ctest --preset default -L integration -j"$(nproc)" --timeout 600 "$@"
# The unit and GUI tests once more under AddressSanitizer + UBSan, and the unit tests under
# ThreadSanitizer (the ingest, writer and closer threads), each built by its own preset (only
# what those tests need, in build-asan/ and build-tsan/, warnings as errors).
# TCPSCOPE_SANITIZERS=0 leaves these passes out of a quick local run; CI always runs them.
if [[ "${TCPSCOPE_SANITIZERS:-1}" != 0 ]]; then
  for preset in asan tsan; do
    cmake --preset "$preset" >/dev/null
    cmake --build --preset "$preset" -j"$(nproc)"
    ctest --preset "$preset" -j"$(nproc)" --timeout 900 "$@"
  done
fi
