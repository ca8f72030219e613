"""The codeanatomy command end to end: version, query in every format, exit codes, help.

The binary comes from $CA_CLI (set by CTest's cli/pytest test).
"""
import csv
import io
import json
import os
import subprocess
import time

import pytest

CLI = os.environ.get("CA_CLI", "")

pytestmark = pytest.mark.skipif(not CLI or not os.access(CLI, os.X_OK), reason="CA_CLI is not set")


def run(*args, stdin=None, env=None, timeout=60):
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, timeout=timeout, env=env)


def ok(*args, **kw):
    p = run(*args, **kw)
    assert p.returncode == 0, p.stderr.decode()
    assert p.stderr == b""
    return p.stdout.decode()


def no_bare_constants(name):
    raise AssertionError(f"bare JSON constant {name} (NaN/Infinity must be strings)")


def loads(text):
    return json.loads(text, parse_constant=no_bare_constants)


# ---- version -----------------------------------------------------------------------------------


def test_version_text():
    lines = ok("version").splitlines()
    assert lines[0] == "codeanatomy 0.1.0"
    assert lines[1].startswith("duckdb v1.4")
    assert lines[2].startswith("tree-sitter ") and len(lines[2].split()) == 2
    assert lines[3].startswith("tree-sitter-python 0.") and lines[3].endswith(")")
    assert "(ABI " in lines[3]
    assert len(lines) == 4


def test_version_json():
    out = ok("version", "--json")
    assert out.endswith("}\n") and out.count("\n") == 1
    v = loads(out)
    assert list(v) == ["codeanatomy", "duckdb", "tree_sitter", "tree_sitter_python", "tree_sitter_python_abi"]
    assert v["codeanatomy"] == "0.1.0"
    assert v["duckdb"].startswith("v1.4")
    assert isinstance(v["tree_sitter"], str) and v["tree_sitter"]
    assert isinstance(v["tree_sitter_python"], str) and v["tree_sitter_python"].count(".") == 2
    assert isinstance(v["tree_sitter_python_abi"], int) and 13 <= v["tree_sitter_python_abi"] <= 15


def test_version_flag_alias():
    assert ok("--version") == ok("version")


# ---- query: formats ----------------------------------------------------------------------------


def test_query_json_exact():
    assert ok("query", "--format", "json", "select 42 as x, 'a' as y") == '[{"x":42,"y":"a"}]\n'


def test_query_json_empty_result():
    assert ok("query", "--format", "json", "select 1 as x where false") == "[]\n"
    assert ok("query", "--format", "jsonl", "select 1 as x where false") == ""


MIXED = (
    "SELECT 42 AS i, 9007199254740993::BIGINT AS big, -9007199254740992::BIGINT AS edge, "
    "170141183460469231731687303715884105727::HUGEINT AS huge, 18446744073709551615::UBIGINT AS ubig, "
    "1.5::DOUBLE AS d, 0.1::DOUBLE AS d2, 2.0::DOUBLE AS d3, 1e20::DOUBLE AS d4, "
    "'nan'::DOUBLE AS nan, '-inf'::DOUBLE AS ninf, 0.5::FLOAT AS f, "
    "123.45::DECIMAL(10,2) AS dec, DATE '2024-02-29' AS dt, TIMESTAMP '2024-01-02 03:04:05.5' AS ts, "
    "TIMESTAMPTZ '2024-01-02 03:04:05+00' AS tstz, TIME '12:34:56' AS tm, INTERVAL '1 day 2 hours' AS iv, "
    "from_hex('00ff10') AS bl, [1, NULL, 3] AS li, [[1], []] AS lili, {'a': 1, 'b': 'x y'} AS st, "
    "MAP {'k': 1} AS mp, MAP {1: 'a'} AS mp2, NULL::INTEGER AS nul, true AS b, 'q\"\\,' AS s, "
    "'12345678-9abc-def0-1234-56789abcdef0'::UUID AS u, '' AS empty"
)

MIXED_JSON = {
    "i": 42,
    "big": "9007199254740993",
    "edge": -9007199254740992,
    "huge": "170141183460469231731687303715884105727",
    "ubig": "18446744073709551615",
    "d": 1.5,
    "d2": 0.1,
    "d3": 2.0,
    "d4": 1e20,
    "nan": "NaN",
    "ninf": "-Infinity",
    "f": 0.5,
    "dec": "123.45",
    "dt": "2024-02-29",
    "ts": "2024-01-02T03:04:05.5",
    "tstz": "2024-01-02T03:04:05Z",
    "tm": "12:34:56",
    "iv": "P1DT2H",
    "bl": "AP8Q",
    "li": [1, None, 3],
    "lili": [[1], []],
    "st": {"a": 1, "b": "x y"},
    "mp": {"k": 1},
    "mp2": [{"key": 1, "value": "a"}],
    "nul": None,
    "b": True,
    "s": 'q"\\,',
    "u": "12345678-9abc-def0-1234-56789abcdef0",
    "empty": "",
}

MIXED_TEXT = [
    "42", "9007199254740993", "-9007199254740992", "170141183460469231731687303715884105727",
    "18446744073709551615", "1.5", "0.1", "2.0", "1e+20", "nan", "-inf", "0.5", "123.45", "2024-02-29",
    "2024-01-02 03:04:05.5", "2024-01-02 03:04:05+00", "12:34:56", "1 day 02:00:00", "\\x00\\xFF\\x10",
    "[1, NULL, 3]", "[[1], []]", "{'a': 1, 'b': x y}", "{k=1}", "{1=a}", None, "true", 'q"\\,',
    "12345678-9abc-def0-1234-56789abcdef0", "",
]


def test_query_json_mixed_types():
    out = ok("query", "--format", "json", MIXED)
    assert out.endswith("]\n") and " " not in out.replace('"x y"', "")
    rows = loads(out)
    assert rows == [MIXED_JSON]
    # key order is the column order
    assert list(rows[0]) == list(MIXED_JSON)
    # the literal forms, not just equal values
    assert '"d3":2.0,' in out and '"d4":1e+20,' in out and '"edge":-9007199254740992,' in out


def test_query_jsonl_mixed_types():
    sql = MIXED + " UNION ALL " + MIXED.replace("SELECT 42 AS i", "SELECT 43 AS i")
    out = ok("query", "--format", "jsonl", sql + " ORDER BY i")
    lines = out.split("\n")
    assert lines[-1] == "" and len(lines) == 3
    assert loads(lines[0]) == MIXED_JSON
    assert loads(lines[1]) == dict(MIXED_JSON, i=43)


def test_query_csv_mixed_types():
    out = run("query", "--format", "csv", MIXED)
    assert out.returncode == 0, out.stderr
    raw = out.stdout.decode()
    assert raw.endswith("\r\n") and raw.count("\r\n") == 2
    rows = list(csv.reader(io.StringIO(raw, newline="")))
    assert rows[0] == list(MIXED_JSON)
    assert rows[1] == [t if t is not None else "" for t in MIXED_TEXT]
    # NULL is an empty field, the empty string a quoted empty field
    line = raw.split("\r\n")[1]
    assert ',,true,' in line and line.endswith(',""')


def test_query_csv_quoting():
    raw = ok("query", "--format", "csv",
             "select 'a,b' as \"c,1\", 'say \"hi\"' as q, 'two\nlines' as nl, 'plain' as p, NULL as n")
    assert raw == '"c,1",q,nl,p,n\r\n"a,b","say ""hi""","two\nlines",plain,\r\n'
    rows = list(csv.reader(io.StringIO(raw, newline="")))
    assert rows == [["c,1", "q", "nl", "p", "n"], ["a,b", 'say "hi"', "two\nlines", "plain", ""]]


def test_query_table_alignment():
    out = ok("query", "select 1 as n, 'a' as s union all select 12345, 'bbbbbb' "
                      "union all select NULL, NULL order by n nulls last")
    assert out == (
        "     n | s\n"
        "-------+--------\n"
        "     1 | a\n"
        " 12345 | bbbbbb\n"
        "  NULL | NULL\n"
        "(3 rows)\n"
    )


def test_query_table_is_the_default_and_escapes_control_characters():
    out = ok("query", "--format", "table", "select 'a\nb' as x, 1.5::double as d, '日本' as w")
    assert out == (
        " x    |   d | w\n"
        "------+-----+------\n"
        " a\\nb | 1.5 | 日本\n"
        "(1 row)\n"
    )
    assert ok("query", "select 'a\nb' as x, 1.5::double as d, '日本' as w") == out


def test_query_table_mixed_types_lines_up():
    out = ok("query", MIXED + " UNION ALL " + MIXED.replace("SELECT 42 AS i", "SELECT -7 AS i"))
    lines = out.splitlines()
    assert lines[-1] == "(2 rows)"
    rule = [i for i, ch in enumerate(lines[1]) if ch == "+"]
    assert len(rule) == len(MIXED_JSON) - 1
    for line in [lines[0]] + lines[2:-1]:
        assert [i for i, ch in enumerate(line) if ch == "|"] == rule


def test_query_many_rows_all_formats():
    sql = "select range as i, 'r' || range as s from range(5000)"
    assert len(loads(ok("query", "--format", "json", sql))) == 5000
    assert len(ok("query", "--format", "jsonl", sql).splitlines()) == 5000
    assert len(ok("query", "--format", "csv", sql).split("\r\n")) == 5002
    assert ok("query", sql).splitlines()[-1] == "(5000 rows)"


def test_query_reads_sql_from_stdin():
    assert ok("query", "--format", "csv", "-", stdin=b"select 7 as seven") == "seven\r\n7\r\n"


def test_query_multiple_statements_prints_the_last():
    sql = "create table t as select 1 as x; insert into t values (2); select sum(x) as s from t"
    assert ok("query", "--format", "json", sql) == '[{"s":3}]\n'


def test_query_db_file_persists(tmp_path):
    db = str(tmp_path / "t.duckdb")
    ok("query", "--db", db, "create table t as select 41 + 1 as answer")
    assert ok("query", "--db", db, "--format", "json", "select * from t") == '[{"answer":42}]\n'
    assert ok("query", "--format=json", "--db=" + db, "select count(*) as n from t") == '[{"n":1}]\n'


def test_query_options_after_sql():
    assert ok("query", "select 1 as x", "--format", "jsonl") == '{"x":1}\n'


# ---- failures and usage ------------------------------------------------------------------------


def test_sql_error_exits_1():
    p = run("query", "selec 1")
    assert p.returncode == 1
    assert p.stdout == b""
    err = p.stderr.decode()
    assert err.startswith("codeanatomy: duckdb: ")
    assert "syntax error" in err and err.count("\n") == 1


def test_runtime_error_exits_1():
    p = run("query", "--format", "json", "select 'x'::integer as i")
    assert p.returncode == 1
    assert p.stderr.decode().startswith("codeanatomy: duckdb: ")


def _fixture_table():
    shared = os.environ.get("CA_SHARED_DIR", "")
    manifest = os.path.join(shared, "fixtures", "delta", "manifest.json")
    if not os.path.exists(manifest):
        pytest.skip("no ../shared/fixtures/delta")
    with open(manifest) as f:
        tables = json.load(f)["tables"]
    for t in tables:
        if t["expect"] == "read_ok" and t.get("expected_row_count") and not t["partition_columns"]:
            return os.path.join(shared, "fixtures", "delta", t["root"]), t["expected_row_count"]
    pytest.skip("no plain fixture table")


def test_table_option_registers_a_delta_table_as_a_view():
    root, rows = _fixture_table()
    out = ok("query", "--format", "json", "--table", "t=" + root, "select count(*) as n from t")
    assert json.loads(out) == [{"n": rows}]


def test_table_option_on_a_directory_that_is_not_a_table_fails():
    p = run("query", "--table", "t=/nonexistent/nowhere", "select 1")
    assert p.returncode == 1
    assert p.stderr.decode().startswith("codeanatomy: ")


def test_table_option_needs_name_and_path():
    assert run("query", "--table", "=/tmp/x", "select 1").returncode == 2
    assert run("query", "--table", "t", "select 1").returncode == 2


@pytest.mark.parametrize("args", [
    [],
    ["nope"],
    ["--bogus"],
    ["query"],
    ["query", "select 1", "select 2"],
    ["query", "--format", "xml", "select 1"],
    ["query", "--format"],
    ["query", "--db"],
    ["query", "--bogus", "select 1"],
    ["query", "--table", "no-equals-sign", "select 1"],
    ["query", "--table", "=path", "select 1"],
    ["version", "extra"],
    ["version", "--bogus"],
])
def test_usage_errors_exit_2(args):
    p = run(*args)
    assert p.returncode == 2, p
    err = p.stderr.decode()
    assert err.startswith("codeanatomy: usage: ")
    assert "\nusage: codeanatomy " in err
    assert p.stdout == b""


@pytest.mark.parametrize("sql", [
    "select * from st_read('x.shp')",
    "INSTALL spatial",
    "LOAD spatial",
    "INSTALL httpfs; LOAD httpfs; select * from read_csv('https://example.com/x.csv')",
])
def test_extensions_never_installed_or_fetched(tmp_path, sql):
    env = dict(os.environ, HOME=str(tmp_path), TMPDIR=str(tmp_path))
    t0 = time.monotonic()
    p = run("query", sql, env=env, timeout=30)
    elapsed = time.monotonic() - t0
    assert p.returncode == 1
    assert elapsed < 5, elapsed
    err = p.stderr.decode()
    assert err.startswith("codeanatomy: duckdb: ")
    assert "extension" in err.lower()
    assert not (tmp_path / ".duckdb").exists()
    # the session's temporary directory is gone too
    assert [x.name for x in tmp_path.iterdir()] == []


def test_builtin_extensions_work():
    assert ok("query", "--format", "json", "select json_extract('{\"a\": 5}', '$.a')::INTEGER as a") \
        == '[{"a":5}]\n'


# ---- help --------------------------------------------------------------------------------------


@pytest.mark.parametrize("cmd", ["query", "version"])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_subcommand_help(cmd, flag):
    out = ok(cmd, flag)
    assert out.startswith(f"usage: codeanatomy {cmd}")
    assert "--help" in out


def test_query_help_mentions_every_option():
    out = ok("query", "--help")
    for opt in ("--db", "--format", "--table", "table", "csv", "json", "jsonl"):
        assert opt in out


@pytest.mark.parametrize("flag", ["--help", "-h", "help"])
def test_global_help(flag):
    out = ok(flag)
    assert out.startswith("usage: codeanatomy <command>")
    assert "\n  query " in out and "\n  version " in out
