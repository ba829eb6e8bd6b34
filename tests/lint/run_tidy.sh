#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs clang-tidy 14 with the repository's .clang-tidy over every C++ translation unit of the
# project in BUILD_DIR's compile_commands.json: core, gui, bpf/helper and tests. Left out: the
# code moc/rcc generate into BUILD_DIR (*_autogen) and bpf/progs (BPF C, built by clang on its
# own, not listed there). Prints each finding once (a header's finding is reported by every
# unit that includes it) and a count per check. Exit 0 when there is none, 1 on any finding or
# on a unit clang-tidy could not compile, 77 (skipped) when clang-tidy 14 (Debian 12) is not
# installed: another major version has other checks and would report code nobody touched.
# BUILD_DIR must have been built (the tests include the .moc files AUTOMOC writes there).
# Runs at nice 10 (builds keep priority), TIDY_JOBS units at a time (default: all cores).
# Usage: run_tidy.sh [BUILD_DIR]   (default: build/ of this source tree)
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(realpath -m "${1:-$src/build}")
want_major=14

tidy=
for t in clang-tidy-$want_major clang-tidy; do
  if command -v "$t" >/dev/null; then
    major=$("$t" --version | sed -nE 's/.*LLVM version ([0-9]+)\..*/\1/p')
    if [[ "$major" == "$want_major" ]]; then
      tidy=$t
      break
    fi
  fi
done
if [[ -z "$tidy" ]]; then
  echo "SKIPPED: clang-tidy $want_major is not installed (packaging/deps.sh --with-test-tools installs it)"
  exit 77
fi
if [[ ! -f "$build/compile_commands.json" ]]; then
  echo "run_tidy.sh: $build/compile_commands.json not found: configure and build first (packaging/build.sh)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The project's own units, each once (a source built into two targets is listed twice), as
# paths relative to the source tree.
python3 - "$build/compile_commands.json" "$src" "$build" >"$work/units" <<'EOF' || exit 1
import json, os, sys
db, src, build = sys.argv[1:]
seen = set()
for e in json.load(open(db)):
    f = os.path.normpath(os.path.join(e["directory"], e["file"]))
    rel = os.path.relpath(f, src)
    if rel.startswith("..") or f.startswith(build + "/") or rel.startswith("bpf/progs/"):
        continue
    if "_autogen" in rel or rel.startswith("build"):
        continue
    if rel not in seen:
        seen.add(rel)
        print(rel)
EOF
units=$(wc -l <"$work/units")
if ((units == 0)); then
  echo "run_tidy.sh: no project sources in $build/compile_commands.json" >&2
  exit 1
fi
jobs=${TIDY_JOBS:-$(nproc)}
echo "clang-tidy $want_major ($tidy): $units units from $build, $jobs at a time"

start=$(date +%s)
cd "$src" || exit 1
# One log per unit; clang-tidy finds .clang-tidy above each source.
export tidy build work
xargs -a "$work/units" -P "$jobs" -I{} nice -n 10 bash -c \
  'log="$work/log.$(echo "$1" | tr / _)"
   "$tidy" -p "$build" --quiet "$1" >"$log" 2>&1 || echo "$1" >>"$work/failed"' _ {}
elapsed=$(($(date +%s) - start))

# A finding: "path:line:col: warning|error: text [check]", once however many units saw it.
cat "$work"/log.* | grep -E '^[^ ].*:[0-9]+:[0-9]+: (warning|error): ' |
  sed -E 's#^'"$src"'/##' | sort -u >"$work/findings"
findings=$(wc -l <"$work/findings")
failed=0
[[ -f "$work/failed" ]] && failed=$(sort -u "$work/failed" | wc -l)

if ((findings > 0)); then
  cat "$work/findings"
  echo
  echo "Findings per check:"
  sed -nE 's/.*\[([^]]+)\]$/\1/p' "$work/findings" | tr ',' '\n' | sort | uniq -c | sort -rn
  if grep -q "\.moc' file not found\|moc_.*file not found" "$work/findings"; then
    echo "(moc output missing: build $build first)"
  fi
  echo "Each log line above names the check; run one file with: $tidy -p $build FILE"
fi
if ((findings > 0 || failed > 0)); then
  echo "FAILED: $findings findings; $failed of $units units not clean (${elapsed}s)"
  if ((findings == 0)); then
    # clang-tidy failed without a finding line (crash, bad command): show those logs.
    for u in $(sort -u "$work/failed"); do
      echo "== $u"
      cat "$work/log.$(echo "$u" | tr / _)"
    done
  fi
  exit 1
fi
echo "clean: $units units, no findings (${elapsed}s)"
