#!/usr/bin/env bash
# Builds and runs the function library benchmark (functions.md §10) against a build tree's static
# library: bench/functions/run.sh [BUILD_DIR] [ROWS]. Prints the ratio table; exit 1 on a miss.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-$root/build}"
rows="${2:-10000000}"
[ -f "$build/libcodeanatomy.a" ] || { echo "bench/functions: $build/libcodeanatomy.a missing: build first" >&2; exit 1; }
out="$build/bench/bench_functions"
mkdir -p "$(dirname "$out")"
cc -std=c11 -O2 -D_GNU_SOURCE -I"$root/include" -I"$root/src" -o "$out" "$here/bench_functions.c" \
  "$build/libcodeanatomy.a" "$root/deps/msgpack/lib/libmsgpackc.a" \
  -L"$root/deps/duckdb/lib" -lduckdb -Wl,-rpath,"$root/deps/duckdb/lib" \
  $(pkg-config --libs jansson libb2 libutf8proc libcrypto zlib tree-sitter) -lroaring -lpthread -lm
exec "$out" "$rows"
