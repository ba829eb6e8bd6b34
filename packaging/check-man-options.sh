#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Every option that `tcpscope --help` and each subcommand's help name must appear in the manual
# page, and every subcommand must have its section: the page cannot silently fall behind the
# CLI. Usage: check-man-options.sh TCPSCOPE_BINARY MAN_PAGE_SOURCE
set -euo pipefail
bin=${1:?usage: check-man-options.sh TCPSCOPE MANPAGE}
page=${2:?usage: check-man-options.sh TCPSCOPE MANPAGE}
# roff writes a literal minus as \- ; compare on plain text.
text=$(sed 's/\\-/-/g; s/\\f[BIRP]//g' "$page")
missing=0
commands=$("$bin" --help | sed -n 's/^  \([a-z]\+\)  .*/\1/p')
[[ -n "$commands" ]] || { echo "check-man-options.sh: no commands in tcpscope --help" >&2; exit 1; }
for cmd in $commands; do
  if ! grep -q "^\.SS $cmd\$" <<<"$text"; then
    echo "check-man-options.sh: no section for the command '$cmd'" >&2
    missing=1
  fi
  for opt in $("$bin" help "$cmd" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
    if ! grep -q -- "$opt\b" <<<"$text"; then
      echo "check-man-options.sh: '$cmd' option $opt is not in $page" >&2
      missing=1
    fi
  done
done
for opt in $("$bin" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
  grep -q -- "$opt\b" <<<"$text" || { echo "check-man-options.sh: $opt is not in $page" >&2; missing=1; }
done
[[ $missing -eq 0 ]] && echo "check-man-options.sh: $(wc -w <<<"$commands") commands, all options documented"
exit "$missing"
