"""`codeanatomy extract` end to end: outputs, summary (text and JSON), determinism, usage errors,
robustness inputs, and the CPython oracle over a small tree.

The binary comes from $CA_CLI. Skipped while the CLI has no `extract` command.
"""
import json
import os
import subprocess
import sys

import pytest

CLI = os.environ.get("CA_CLI", "")
HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(HERE, "..", "oracle", "oracle.py")
TABLES = ["repo_files", "file_lines", "scopes", "defs", "params", "refs", "attributes", "imports",
          "calls", "call_args", "decorators", "class_bases", "parse_errors", "syntax_nodes"]


def run(*args, timeout=300):
    return subprocess.run([CLI, *args], capture_output=True, timeout=timeout)


def has_extract():
    if not CLI or not os.access(CLI, os.X_OK):
        return False
    return run("extract", "--help").returncode == 0


pytestmark = pytest.mark.skipif(not has_extract(), reason="CA_CLI has no extract command")


def query(sql):
    p = run("query", "--format", "jsonl", sql)
    assert p.returncode == 0, p.stderr.decode()
    return [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]


@pytest.fixture
def repo(tmp_path):
    r = tmp_path / "repo"
    (r / "pkg").mkdir(parents=True)
    (r / "pkg" / "__init__.py").write_text("from .mod import f\n")
    (r / "pkg" / "mod.py").write_text(
        "import os\n\n\ndef f(a, *, b=1):\n    '''Doc.'''\n    return os.path.join(a, str(b))\n\n\n"
        "class C(object):\n    def m(self):\n        return [x for x in range(3)]\n")
    (r / "bad.py").write_bytes(b"def (:\n")
    (r / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\ns = '\xe9'\n")
    (r / "binary.py").write_bytes(b"\x00\x01\x02")
    (r / ".hidden").mkdir()
    (r / ".hidden" / "h.py").write_text("x = 1\n")
    return r


def test_extract_writes_every_table(repo, tmp_path):
    out = tmp_path / "out"
    p = run("extract", str(repo), "-o", str(out), "--ast", "--quiet")
    assert p.returncode == 0, p.stderr.decode()
    assert p.stdout == b"" and p.stderr == b""
    for t in TABLES:
        assert (out / "evidence" / t / "_delta_log" / ("0" * 20 + ".json")).exists(), t
    rows = query("SELECT path, module_name, error FROM read_delta('%s/evidence/repo_files') ORDER BY path" % out)
    assert [r["path"] for r in rows] == ["bad.py", "binary.py", "latin.py", "pkg/__init__.py", "pkg/mod.py"]
    errors = {r["path"]: r["error"] for r in rows}
    assert errors["binary.py"] == "binary" and errors["latin.py"] is None
    assert {r["path"]: r["module_name"] for r in rows}["pkg/mod.py"] == "pkg.mod"
    d = query("SELECT qualname, docstring FROM read_delta('%s/evidence/defs') WHERE kind='function' ORDER BY qualname" % out)
    assert d == [{"qualname": "C.m", "docstring": None}, {"qualname": "f", "docstring": "Doc."}]


def test_summary_json_and_text(repo, tmp_path):
    p = run("extract", str(repo), "-o", str(tmp_path / "o1"), "--json", "--threads", "2")
    assert p.returncode == 0, p.stderr.decode()
    s = json.loads(p.stdout)
    assert s["files"] == 5 and s["files_skipped"] == 1 and s["skipped"]["binary"] == 1
    assert s["files_with_parse_errors"] == 1
    assert set(s["rows"]) == set(TABLES) and s["rows"]["syntax_nodes"] == 0
    assert s["rows"]["defs"] > 5
    p = run("extract", str(repo), "-o", str(tmp_path / "o2"))
    assert p.returncode == 0
    text = p.stdout.decode()
    assert "files: 5" in text and "skipped binary: 1" in text and "refs" in text


def test_deterministic(repo, tmp_path):
    outs = []
    for k, threads in enumerate(["1", "3"]):
        out = tmp_path / ("d%d" % k)
        assert run("extract", str(repo), "-o", str(out), "--quiet", "--threads", threads).returncode == 0
        outs.append(out)
    for t in TABLES[:-1]:
        a = query("SELECT count(*) AS n FROM (SELECT * FROM read_delta('%s/evidence/%s') EXCEPT ALL "
                  "SELECT * FROM read_delta('%s/evidence/%s'))" % (outs[0], t, outs[1], t))
        assert a == [{"n": 0}], t


def test_include_exclude(repo, tmp_path):
    out = tmp_path / "o"
    assert run("extract", str(repo), "-o", str(out), "--quiet", "--include", "pkg/**").returncode == 0
    rows = query("SELECT path FROM read_delta('%s/evidence/repo_files') ORDER BY path" % out)
    assert [r["path"] for r in rows] == ["pkg/__init__.py", "pkg/mod.py"]
    assert run("extract", str(repo), "-o", str(out), "--quiet", "--exclude", "pkg").returncode == 0
    rows = query("SELECT path FROM read_delta('%s/evidence/repo_files') ORDER BY path" % out)
    assert [r["path"] for r in rows] == ["bad.py", "binary.py", "latin.py"]


def test_max_file_size(repo, tmp_path):
    p = run("extract", str(repo), "-o", str(tmp_path / "o"), "--json", "--max-file-size", "20")
    s = json.loads(p.stdout)
    assert s["skipped"]["too_large"] >= 2


def test_usage_errors(repo, tmp_path):
    assert run("extract").returncode == 2
    assert run("extract", str(repo)).returncode == 2  # no -o
    assert run("extract", str(repo), "-o", str(tmp_path), "--threads", "0").returncode == 2
    assert run("extract", str(repo), "-o", str(tmp_path), "--bogus").returncode == 2
    p = run("extract", str(tmp_path / "missing"), "-o", str(tmp_path / "o"))
    assert p.returncode == 1
    assert p.stderr.decode().startswith("codeanatomy: invalid: ")


def test_oracle_small_tree(repo, tmp_path):
    p = subprocess.run(["/usr/bin/python3", ORACLE, CLI, str(repo), "--out", str(tmp_path / "oo")],
                       capture_output=True, timeout=300)
    assert p.returncode == 0, p.stdout.decode() + p.stderr.decode()
    assert b"(0 disagree)" in p.stdout
