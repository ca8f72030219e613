#!/usr/bin/env bash
# Builds and runs the Delta benchmark (delta.md §21) against a build tree's static library:
# bench/delta/run.sh [BUILD_DIR] [ROWS]. Prints the ratio table (a miss is reported, exit 0).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-$root/build}"
rows="${2:-6000000}"
[ -f "$build/libcodeanatomy.a" ] || { echo "bench/delta: $build/libcodeanatomy.a missing: build first" >&2; exit 1; }
out="$build/bench/bench_delta"
mkdir -p "$(dirname "$out")"
cc -std=c11 -O2 -D_GNU_SOURCE -I"$root/include" -I"$root/src" -isystem "$root/deps/duckdb/include" -o "$out" \
  "$here/bench_delta.c" "$build/libcodeanatomy.a" "$root/deps/msgpack/lib/libmsgpackc.a" \
  -L"$root/deps/duckdb/lib" -lduckdb -Wl,-rpath,"$root/deps/duckdb/lib" \
  $(pkg-config --libs jansson libb2 libutf8proc libcrypto zlib tree-sitter) -lroaring -lpthread -lm
work="$(mktemp -d "${TMPDIR:-/tmp}/ca-bench-delta-XXXXXX")"
trap 'rm -rf "$work"' EXIT
"$out" "$work/t" "$rows"
