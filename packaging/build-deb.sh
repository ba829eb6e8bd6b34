#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the Debian package tcpscope_<version>_<arch>.deb into build/ (CPack; dependencies from
# dpkg-shlibdeps) and, with --check, validates it: lintian (no errors), desktop-file-validate,
# appstreamcli validate, and both manual pages rendered with man -l. Prints the .deb's path last.
# Extra arguments go to cmake. Install it with: sudo apt install ./build/tcpscope_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
if [[ "${1:-}" == "--check" ]]; then
  check=1
  shift
fi
# The app is compiled with the helper's installed path, so the prefix must be the package's.
cmake --preset default -DCMAKE_INSTALL_PREFIX=/usr "$@" >/dev/null
cmake --build build -j"$(nproc)" --target deb >&2
version=$(sed -n 's/^project(tcpscope VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
deb="build/tcpscope_${version}_$(dpkg --print-architecture).deb"
[[ -f "$deb" ]] || { echo "build-deb.sh: $deb was not built" >&2; exit 1; }
if ((check)); then
  packaging/check-deb.sh "$deb" >&2
fi
echo "$deb"
