"""`codeanatomy functions` and the function library as seen from `codeanatomy query`."""
import json
import os
import subprocess

import pytest

CLI = os.environ.get("CA_CLI", "")

pytestmark = pytest.mark.skipif(not CLI or not os.access(CLI, os.X_OK), reason="CA_CLI is not set")


def run(*args):
    return subprocess.run([CLI, *args], capture_output=True, timeout=120)


def ok(*args):
    p = run(*args)
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout.decode()


def test_query_computes_the_documented_stable_id():
    # functions.md §12.2 H29
    out = ok("query", "--format", "csv", "select stable_id('def', 'a.py', 0, 10) as id")
    assert out.splitlines() == ["id", "def:90a6928209d1e25ff2290615b7e5e183"]


def test_functions_table_lists_every_registry_entry():
    out = ok("functions")
    names = [line.split()[0] for line in out.splitlines()[1:] if line.strip()]
    snapshot = json.loads(ok("functions", "--json"))
    primaries = [e["name"] for e in snapshot["entries"] if not e.get("alias_of")]
    assert sorted(names) == sorted(primaries)
    assert "stable_id" in names and "span_overlaps" in names


def test_functions_json_is_the_canonical_snapshot_with_its_hash():
    text = ok("functions", "--json").strip()
    snap = json.loads(text)
    assert len(snap["registry_hash"]) == 64
    # RFC 8785: no whitespace, members sorted.
    assert text == json.dumps(snap, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    rows = json.loads(ok("query", "--format", "json", "select count(*) as n from codeanatomy_functions()"))
    assert rows[0]["n"] >= len(snap["entries"])


def test_functions_name_shows_doc_and_example():
    out = ok("functions", "stable_id")
    assert "SELECT stable_id('node', 'a', 'b')" in out
    assert "node:065ab5741cdfad44687cf119c1eb4ec9" in out


def test_unknown_function_fails_with_not_found():
    p = run("functions", "no_such_function_xyz")
    assert p.returncode == 1
    assert p.stderr.decode().startswith("codeanatomy: not_found: ")


def test_functions_usage_error_exits_2():
    assert run("functions", "--bogus").returncode == 2
    assert run("functions", "--help").returncode == 0
