#!/usr/bin/env bash
# Extractor benchmark (issue 5): bench/extract/run.sh BUILD_DIR [THREADS] [RUNS]
# Corpus: the standard library of the `python3` first on PATH (a full CPython Lib/ on the
# project machines), site-packages excluded; else /usr/lib/python3.11.
# Median of RUNS (5) wall times of: extract (ca_extract_run writing the evidence files, as
# `codeanatomy extract` does), /usr/bin/python3 ast.parse of every file, and tree-sitter parsing
# alone with the same threads. Prints the ratio table, peak RSS and rows per table.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
threads="${2:-2}"
runs="${3:-5}"
[ -f "$build/libcodeanatomy.a" ] || { echo "bench/extract: $build/libcodeanatomy.a missing: build first" >&2; exit 1; }

corpus=""
if command -v python3 >/dev/null 2>&1; then
  corpus="$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])' 2>/dev/null || true)"
fi
[ -n "$corpus" ] && [ -d "$corpus" ] || corpus=/usr/lib/python3.11

bin="$build/bench/bench_extract"
mkdir -p "$(dirname "$bin")"
cc -std=c11 -O2 -D_GNU_SOURCE -I"$root/include" -I"$root/src" -o "$bin" "$here/bench_extract.c" \
  "$build/libcodeanatomy.a" "$root/deps/msgpack/lib/libmsgpackc.a" \
  -L"$root/deps/duckdb/lib" -lduckdb -Wl,-rpath,"$root/deps/duckdb/lib" \
  $(pkg-config --libs jansson libb2 libutf8proc libcrypto zlib tree-sitter) -lroaring -lpthread -lm

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
find "$corpus" -name '*.py' -not -path '*/site-packages/*' | sort > "$work/files.txt"
nfiles=$(wc -l < "$work/files.txt")
nlines=$(xargs -d '\n' cat < "$work/files.txt" | wc -l)

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }

ext=() ; py=() ; ts=()
for i in $(seq "$runs"); do
  ext+=("$("$bin" extract "$corpus" "$threads" "$work/out" 2>"$work/extract.err")")
  t0=$(now)
  /usr/bin/python3 - "$work/files.txt" <<'PY'
import ast, sys
for f in open(sys.argv[1]).read().splitlines():
    try:
        ast.parse(open(f, "rb").read())
    except (SyntaxError, ValueError):
        pass
PY
  t1=$(now)
  py+=("$(echo "$t1 - $t0" | bc -l)")
  ts+=("$("$bin" ts "$corpus" "$threads")")
done
e=$(printf '%s\n' "${ext[@]}" | median)
p=$(printf '%s\n' "${py[@]}" | median)
t=$(printf '%s\n' "${ts[@]}" | median)
echo "corpus: $corpus ($nfiles files, $nlines lines), threads $threads, median of $runs"
printf '%-44s %10s\n' "measure" "seconds"
printf '%-44s %10.3f\n' "extract (all tables, files written)" "$e"
printf '%-44s %10.3f\n' "/usr/bin/python3 ast.parse (1 thread)" "$p"
printf '%-44s %10.3f\n' "tree-sitter parse alone ($threads threads)" "$t"
printf '%-44s %10s %8s\n' "ratio" "value" "goal"
printf '%-44s %10.2f %8s\n' "extract / ast.parse" "$(echo "$e / $p" | bc -l)" "<= 0.5"
printf '%-44s %10.2f %8s\n' "extract / tree-sitter alone" "$(echo "$e / $t" | bc -l)" "<= 2.0"
grep peak_rss "$work/extract.err" | awk '{printf "peak RSS (extract): %.0f MiB\n", $2/1024}'
grep '^rows ' "$work/extract.err" | awk '{printf "  rows %-14s %d\n", $2, $3}'
