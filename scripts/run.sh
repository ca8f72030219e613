#!/usr/bin/env bash
# The main job (`make run`): extract the evidence of the machine's Python standard library into
# Delta tables under build/, print the summary and a sample query over the result.
set -euo pipefail
build=${1:-build}
cli="$build/codeanatomy"
stdlib=/usr/lib/python3.11
out="$build/stdlib-evidence"

echo "== codeanatomy version"
"$cli" version

echo
echo "== extract $stdlib -> $out/evidence (Delta tables)"
"$cli" extract "$stdlib" -o "$out"

echo
echo "== the ten longest functions of $stdlib (sample query over the Delta tables)"
"$cli" query \
  --table "defs=$out/evidence/defs" --table "repo_files=$out/evidence/repo_files" "
  SELECT r.path, d.qualname, d.end_line - d.start_line + 1 AS lines
  FROM defs d JOIN repo_files r USING (file_id)
  WHERE d.kind = 'function'
  ORDER BY lines DESC, r.path, d.qualname
  LIMIT 10"
