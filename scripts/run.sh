#!/usr/bin/env bash
# The main job at this stage (`make run`): a version report and a sample query over a real input.
set -euo pipefail
build=${1:-build}
cli="$build/codeanatomy"
stdlib=/usr/lib/python3.11

echo "== codeanatomy version"
"$cli" version

echo
echo "== the ten largest modules of $stdlib (sample query)"
"$cli" query "
  SELECT replace(filename, '$stdlib/', '') AS module, size AS bytes
  FROM read_text('$stdlib/*.py')
  ORDER BY size DESC, module
  LIMIT 10"
