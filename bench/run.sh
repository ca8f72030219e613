#!/usr/bin/env bash
# `make bench`: runs every benchmark suite under bench/<suite>/run.sh and prints its ratio table.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
found=0
for suite in "$root"/bench/*/run.sh; do
  [[ -f $suite ]] || continue
  found=1
  echo "== bench: $(basename "$(dirname "$suite")")"
  bash "$suite" "$root/$build"
done
[[ $found == 1 ]] || echo "no benchmark suites yet"
