"""`codeanatomy delta …` end to end: writes read back through `codeanatomy query … read_delta`,
the write_outcome JSON, DML, inspection, maintenance, and two concurrent writer processes.

The binary comes from $CA_CLI. Skipped while the `delta` command is not in the command table.
"""
import json
import os
import subprocess

import pytest

CLI = os.environ.get("CA_CLI", "")


def run(*args, timeout=120, cwd=None):
    return subprocess.run([CLI, *args], capture_output=True, timeout=timeout, cwd=cwd)


def _has_delta():
    if not CLI or not os.access(CLI, os.X_OK):
        return False
    return run("delta", "--help").returncode == 0


pytestmark = pytest.mark.skipif(not _has_delta(), reason="CA_CLI unset or without the delta command")


def ok(*args, **kw):
    p = run(*args, **kw)
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout.decode()


def js(*args, **kw):
    return json.loads(ok(*args, "--json", **kw))


def count(table, where="true", cwd=None):
    out = ok("query", "--format", "json", f"select count(*) as n from read_delta('{table}') where {where}", cwd=cwd)
    return json.loads(out)[0]["n"]


def test_million_rows_relative_path(tmp_path):
    """issue 4 'done when': write then count through read_delta, relative table path."""
    p = run("delta", "write", "t", "--sql", "select range as id from range(1000000)", cwd=tmp_path)
    assert p.returncode == 0, p.stderr.decode()
    out = ok("query", "select count(*) from read_delta('t')", cwd=tmp_path)
    assert "1000000" in out


def test_write_outcome_and_modes(tmp_path):
    t = str(tmp_path / "w")
    o = js("delta", "write", t, "--sql", "select range as id, 'a' as s from range(100)")
    assert o == {"status": "captured", "delta_version": 0, "files_added": 1, "files_removed": 0,
                 "bytes_written": o["bytes_written"], "rows_added": 100}
    assert o["bytes_written"] > 0
    o = js("delta", "write", t, "--sql", "select 100 as id, 'b' as s")
    assert o["delta_version"] == 1 and o["rows_added"] == 1
    assert count(t) == 101
    o = js("delta", "write", t, "--mode", "overwrite", "--sql", "select 7 as id, 'c' as s")
    assert o["files_removed"] == 2 and o["delta_version"] == 2
    assert count(t) == 1
    # merge by key: update 7, insert 8
    o = js("delta", "write", t, "--mode", "merge", "--key", "id", "--sql",
           "select * from (values (7, 'm'), (8, 'n')) v(id, s)")
    assert o["status"] == "captured"
    assert count(t) == 2 and count(t, "s = 'm'") == 1
    # duplicate merge keys: unavailable outcome, exit 1
    p = run("delta", "write", t, "--json", "--mode", "merge", "--key", "id", "--sql",
            "select 1 as id, 'x' as s union all select 1, 'y'")
    assert p.returncode == 1
    assert json.loads(p.stdout) == {"status": "unavailable", "reason": "merge_key_duplicate"}
    assert b"delta_merge_keys" in p.stderr
    # schema mismatch
    p = run("delta", "write", t, "--sql", "select 'x' as id")
    assert p.returncode == 1 and b"delta_schema" in p.stderr


def test_app_transaction_and_metadata(tmp_path):
    t = str(tmp_path / "a")
    args = ["delta", "write", t, "--sql", "select 1 as x", "--app-id", "job", "--app-version", "3",
            "--metadata", "codeanatomy.spec_hash=abc"]
    assert js(*args)["status"] == "captured"
    assert js(*args) == {"status": "unavailable", "reason": "not_attempted"}
    assert count(t) == 1
    h = js("delta", "history", t)
    assert h[0]["operation"] == "CREATE TABLE"
    assert h[0]["custom"]["codeanatomy.spec_hash"] == "abc"


def test_partitioned_dml_and_inspection(tmp_path):
    t = str(tmp_path / "p")
    ok("delta", "write", t, "--partition-by", "k", "--sql",
       "select range as id, (range % 3)::integer as k, 'v' as s from range(30)")
    info = js("delta", "info", t)
    assert info["partition_columns"] == ["k"] and info["files"] == 3 and info["records"] == 30
    files = js("delta", "files", t)
    assert len(files) == 3 and all(f["path"].startswith("k%3D") for f in files)
    assert all(f["stats"]["numRecords"] == 10 for f in files)
    d = js("delta", "delete", t, "--where", "id < 5")
    assert d["rows_deleted"] == 5
    u = js("delta", "update", t, "--set", "s='u'", "--where", "id = 10")
    assert u["rows_updated"] == 1
    assert count(t) == 25 and count(t, "s = 'u'") == 1
    ok("delta", "write", t, "--mode", "overwrite", "--replace-where", "k = 1",
       "--sql", "select 1000 as id, 1 as k, 'r' as s")
    assert count(t, "k = 1") == 1 and count(t) == 1 + count(t, "k <> 1")
    assert js("delta", "info", t, "--version", "0")["version"] == 0
    hist = js("delta", "history", t, "--limit", "2")
    assert [h["operation"] for h in hist] == ["WRITE", "UPDATE"]


def test_maintenance_commands(tmp_path):
    t = str(tmp_path / "m")
    for _ in range(3):
        ok("delta", "write", t, "--sql", "select range as x from range(50)")
    c = js("delta", "compact", t)
    assert c["step"] == "compact" and c["status"] == "succeeded"
    assert c["metrics"]["files_removed"] == 3 and c["metrics"]["files_added"] == 1
    cp = js("delta", "checkpoint", t)
    assert cp["metrics"]["written"] is True
    assert js("delta", "checkpoint", t)["metrics"]["written"] is False
    p = run("delta", "vacuum", t, "--retention-hours", "1")
    assert p.returncode == 1 and b"invalid" in p.stderr
    v = js("delta", "vacuum", t, "--retention-hours", "0", "--allow-short-retention", "--dry-run")
    assert v["metrics"]["dry_run"] is True and v["metrics"]["files_deleted"] == 3
    r = js("delta", "restore", t, "--version", "1")
    assert r["status"] == "succeeded"
    assert count(t) == 100
    m = js("delta", "maintain", t)
    assert [s["step"] for s in m] == ["compact", "checkpoint", "vacuum", "cleanup_log"]
    assert all(s["status"] == "succeeded" for s in m)
    cl = js("delta", "cleanup-log", t)
    assert cl["step"] == "cleanup_log"
    assert count(t) == 100


def test_usage_errors(tmp_path):
    assert run("delta").returncode == 2
    assert run("delta", "nope", "t").returncode == 2
    assert run("delta", "write", "t").returncode == 2
    assert run("delta", "write", "t", "--sql", "select 1", "--mode", "merge").returncode == 2
    assert run("delta", "delete", "t").returncode == 2
    p = run("delta", "info", str(tmp_path / "missing"))
    assert p.returncode == 1 and b"delta_not_a_table" in p.stderr


def test_two_writer_processes(tmp_path):
    """Two processes × 15 appends: contiguous versions, no lost or duplicated commit."""
    t = str(tmp_path / "c")
    ok("delta", "write", t, "--sql", "select 0 as w, 0 as i")
    script = "for i in $(seq 1 15); do \"$0\" delta write \"$1\" --sql \"select $2 as w, $i as i\" " \
             "--app-id \"w$2\" --app-version $i >/dev/null || exit 1; done"
    procs = [subprocess.Popen(["sh", "-c", script, CLI, t, str(w)]) for w in (1, 2)]
    assert all(p.wait(timeout=300) == 0 for p in procs)
    assert count(t) == 31
    out = ok("query", "--format", "json", f"select w, count(distinct i) as n from read_delta('{t}') group by w order by w")
    assert json.loads(out) == [{"w": 0, "n": 1}, {"w": 1, "n": 15}, {"w": 2, "n": 15}]
    log = sorted(os.listdir(os.path.join(t, "_delta_log")))
    commits = [f for f in log if f.endswith(".json") and not f.startswith(".")]
    assert commits == [f"{v:020d}.json" for v in range(31)]
