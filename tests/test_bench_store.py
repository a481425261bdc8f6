"""The DuckDB run store: keyed rows, resume, and crash safety (a writer killed mid-run)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import duckdb

from benchmarks.store import ResultKey, ResultRow, RunStore, VerificationRow, normalize_sql, sql_hash


def _key(q: int, system: str = "s") -> ResultKey:
    return ResultKey(benchmark="spider_dev", question=q, system=system, gold_hash=sql_hash("SELECT 1"),
                     pred_hash=sql_hash(f"SELECT {q}"), semantics="auto", bound=3, constraints_hash="none",
                     tool_version="t", settings="x")


def test_normalization_keeps_quoted_text():
    assert sql_hash("select  A from t;") == sql_hash("SELECT a FROM T")
    assert sql_hash("SELECT a FROM t WHERE b = 'X'") != sql_hash("SELECT a FROM t WHERE b = 'x'")
    assert normalize_sql('SELECT "Name" FROM t') == 'select "Name" from t'


def test_rows_round_trip_and_queryable_with_sql(tmp_path):
    path = tmp_path / "r.duckdb"
    with RunStore(path) as s:
        cex = {"tables": {"t": {"columns": ["a"], "rows": [[None]]}}}
        s.stage_result(ResultRow(**_key(0).model_dump(), db_id="d", ex=True, verdict="not_equivalent",
                                 counterexample=cex, outcome="refuted", seconds=1.5))
        s.stage_result(ResultRow(**_key(1).model_dump(), db_id="d", ex=False, outcome="refuted_by_database"))
        s.stage_verification(VerificationRow(vkey="v1", verdict="equivalent"))
        s.flush()
        rows = s.results("spider_dev")
        assert [r.outcome for r in rows] == ["refuted", "refuted_by_database"]
        assert rows[0].counterexample == cex
        assert s.verifications(["v1", "nope"])["v1"].verdict == "equivalent"
    con = duckdb.connect(str(path), read_only=True)
    got = con.execute("SELECT outcome, json_extract(counterexample, '$.tables.t.rows') FROM results "
                      "WHERE ex ORDER BY question").fetchall()
    assert got == [("refuted", "[[null]]")]
    con.close()


def test_a_rerun_sees_finished_keys_and_replaces_not_duplicates(tmp_path):
    path = tmp_path / "r.duckdb"
    with RunStore(path) as s:
        for q in range(3):
            s.stage_result(ResultRow(**_key(q).model_dump(), db_id="d", outcome="verified"))
    with RunStore(path) as s:
        assert s.finished_keys("spider_dev") == {_key(q).tuple() for q in range(3)}
        s.stage_result(ResultRow(**_key(0).model_dump(), db_id="d", outcome="refuted"))
        s.flush()
        assert len(s.results("spider_dev")) == 3
        assert s.results("spider_dev")[0].outcome == "refuted"
        assert s.finished_keys("bird_dev") == set()


def test_killed_writer_loses_only_uncommitted_rows(tmp_path):
    """A child writes rows in small committed batches and is SIGKILLed mid-run: the file opens,
    holds only whole batches, and a new run can continue writing."""
    path = tmp_path / "r.duckdb"
    marker = tmp_path / "committed"
    code = textwrap.dedent(f"""
        import time
        from benchmarks.store import ResultKey, ResultRow, RunStore
        s = RunStore({str(path)!r}, batch_rows=10, batch_seconds=1e9)
        for q in range(100000):
            k = ResultKey(benchmark="b", question=q, system="s", gold_hash="g", pred_hash="p", semantics="auto",
                          bound=3, constraints_hash="none", tool_version="t", settings="x")
            s.stage_result(ResultRow(**k.model_dump(), db_id="d", outcome="verified"))
            if q % 10 == 9:
                open({str(marker)!r}, "w").write(str(q + 1))
            time.sleep(0.001)
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (not marker.exists() or int(marker.read_text() or 0) < 50):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    committed = int(marker.read_text())
    with RunStore(path) as s:
        n = len(s.finished_keys("b"))
        assert n % 10 == 0 and n >= committed - 10 and n > 0  # whole batches only
        s.stage_result(ResultRow(**_key(0).model_dump(), db_id="d", outcome="verified"))
        s.flush()
        assert len(s.finished_keys("spider_dev")) == 1
