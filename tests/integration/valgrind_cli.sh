#!/usr/bin/env bash
# Runs the codeanatomy CLI under valgrind (memcheck) and fails on any error or on a definitely /
# indirectly lost block. "Still reachable" blocks are not errors: DuckDB keeps process-wide
# caches (and glibc/libstdc++ their pools) until exit.
#
# usage: valgrind_cli.sh <codeanatomy binary>
set -u

cli=${1:?usage: valgrind_cli.sh <codeanatomy binary>}
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind_cli.sh: valgrind is not installed" >&2
    exit 1
fi

supp=()
if [ -f "$here/valgrind.supp" ]; then
    supp=(--suppressions="$here/valgrind.supp")
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" TMPDIR="$work/tmp"
mkdir -p "$HOME" "$TMPDIR"

failures=0
check() { # check <expected exit code> <args...>
    local want=$1
    shift
    local out="$work/out" err="$work/err"
    valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 -q \
        --num-callers=30 "${supp[@]}" "$cli" "$@" >"$out" 2>"$err"
    local rc=$? shown="$*"
    shown=${shown//$'\n'/ }
    shown=${shown:0:100}
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL (exit $rc, expected $want): codeanatomy $shown" >&2
        cat "$err" >&2
        failures=$((failures + 1))
    else
        echo "ok   (exit $rc): codeanatomy $shown"
    fi
}

mixed="SELECT 42 AS i, 9007199254740993::BIGINT AS big, 'nan'::DOUBLE AS nan, 123.45::DECIMAL(10,2) AS dec,
       DATE '2024-02-29' AS dt, TIMESTAMPTZ '2024-01-02 03:04:05+00' AS ts, INTERVAL '1 day' AS iv,
       from_hex('00ff') AS bl, [1, NULL] AS li, {'a': 1, 'b': 'x'} AS st, MAP {'k': [1]} AS mp,
       MAP {1: 'a'} AS mp2, NULL::INTEGER AS nul, 0.1::FLOAT AS f, 'ünï' AS s
       FROM range(3)"

check 0 version
check 0 version --json
check 0 query --format json "select 42 as x, 'a' as y"
check 0 query "$mixed"
check 0 query --format csv "$mixed"
check 0 query --format json "$mixed"
check 0 query --format jsonl "$mixed"
check 0 query --format jsonl "select range as i, 'r' || range as s from range(5000)"
check 0 query --db "$work/t.duckdb" "create table t as select 1 as x; select * from t"
check 1 query "selec 1"
check 1 query "select * from st_read('x.shp')"
check 1 query --table t=/nowhere "select 1"
check 2 query --format xml "select 1"
check 0 query --help

if [ "$failures" -ne 0 ]; then
    echo "valgrind_cli.sh: $failures run(s) failed" >&2
    exit 1
fi
echo "valgrind_cli.sh: all runs clean"
