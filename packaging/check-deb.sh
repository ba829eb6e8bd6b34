#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Validates a built tcpscope .deb without installing it: lintian reports no errors, the desktop
# file and the AppStream metainfo validate, both manual pages render with man -l, and the
# package holds each file where the app expects it (and tcpscope-cli without the GUI's
# libraries). Needs the tools of packaging/deps.sh --with-test-tools. Exit 0 when everything
# passes.
set -euo pipefail
deb=${1:?usage: check-deb.sh PACKAGE.deb}
for tool in lintian desktop-file-validate appstreamcli man dpkg-deb readelf; do
  command -v "$tool" >/dev/null || { echo "check-deb.sh: $tool missing (packaging/deps.sh --with-test-tools)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$deb" "$work/root"
dpkg-deb -e "$deb" "$work/control"
fail=0

for f in usr/bin/tcpscope usr/bin/tcpscope-cli usr/libexec/tcpscope/tcpscope-helper \
         usr/share/applications/tcpscope.desktop \
         usr/share/icons/hicolor/scalable/apps/tcpscope.svg \
         usr/share/metainfo/io.github.tcpscope.metainfo.xml \
         usr/share/man/man1/tcpscope.1.gz usr/share/man/man1/tcpscope-cli.1.gz \
         usr/share/man/man8/tcpscope-helper.8.gz \
         usr/share/doc/tcpscope/copyright usr/share/doc/tcpscope/changelog.gz; do
  [[ -e "$work/root/$f" ]] || { echo "check-deb.sh: /$f missing from the package" >&2; fail=1; }
done
# Wireshark's extcap directory is under the multiarch libdir (usr/lib/x86_64-linux-gnu/...).
compgen -G "$work/root/usr/lib/*/wireshark/extcap/tcpscope-extcap" >/dev/null ||
  { echo "check-deb.sh: tcpscope-extcap missing from Wireshark's extcap directory" >&2; fail=1; }
# tcpscope-cli loads the chart renderer from the multiarch libdir it was compiled for, and must
# run without the graphical app's libraries (Qt Widgets, Qt GUI, QCustomPlot).
compgen -G "$work/root/usr/lib/*/tcpscope/tcpscope-chart-renderer.so" >/dev/null ||
  { echo "check-deb.sh: the chart renderer tcpscope-chart-renderer.so missing" >&2; fail=1; }
if [[ -f "$work/root/usr/bin/tcpscope-cli" ]] &&
   readelf -d "$work/root/usr/bin/tcpscope-cli" | grep -E 'NEEDED.*(libQt6Widgets|libQt6Gui|qcustomplot)'; then
  echo "check-deb.sh: tcpscope-cli needs the graphical app's libraries" >&2
  fail=1
fi
grep -q '^Depends:.*libbpf' "$work/control/control" ||
  { echo "check-deb.sh: Depends lacks the shared libraries (dpkg-shlibdeps)" >&2; fail=1; }

echo "== lintian"
# Errors fail; warnings are shown. --tag-display-limit 0: every instance.
if ! lintian --fail-on error --tag-display-limit 0 "$deb"; then
  echo "check-deb.sh: lintian reports errors" >&2
  fail=1
fi
echo "== desktop-file-validate"
desktop-file-validate "$work/root/usr/share/applications/tcpscope.desktop" || fail=1
echo "== appstreamcli validate"
appstreamcli validate --no-net --pedantic "$work/root/usr/share/metainfo/io.github.tcpscope.metainfo.xml" || fail=1
echo "== man -l"
for page in usr/share/man/man1/tcpscope.1.gz usr/share/man/man8/tcpscope-helper.8.gz; do
  # groff's warnings (-ww) go to stderr: any of them is a defect of the page.
  out=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$work/root/$page" 2>"$work/man.err" | wc -l)
  if [[ -s "$work/man.err" || "$out" -lt 20 ]]; then
    echo "check-deb.sh: $page does not render cleanly ($out lines):" >&2
    cat "$work/man.err" >&2
    fail=1
  else
    echo "$page: $out lines"
  fi
done
exit "$fail"
