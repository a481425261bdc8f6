"""Answer selection: clusters by results and verifier, order independence, tie-breaks."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from agent.select import Candidate, SelectConfig, has_outer_order_by, majority_vote, select
from agent.tools import ResultTable
from verify.schema_io import schema_from_sqlite

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "d.sqlite"
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b TEXT);
        INSERT INTO t VALUES (1, 1, 'x'), (2, 2, 'y'), (3, 3, NULL);
    """)
    con.close()
    return path


NOVER = SelectConfig(verify=False)


def cands(pairs):
    return [Candidate(id=i, sql=s) for i, s in pairs]


def test_majority_by_results_not_by_text(db):
    pool = cands([("s1", "SELECT a FROM t WHERE a > 1"), ("s2", "SELECT a FROM t WHERE a IN (2, 3)"),
                  ("s3", "SELECT a FROM t"), ("s4", "SELECT a FROM t WHERE a >= 2 ORDER BY a DESC")])
    s = select(pool, db, config=NOVER)
    # s4 sorts differently from nobody else: its multiset equals s1/s2's; they are unordered
    assert s.clusters[0].members == ["s1", "s2", "s4"] and s.answer_id in {"s1", "s2", "s4"}


def test_order_matters_only_under_order_by(db):
    pool = cands([("x", "SELECT a FROM t ORDER BY a"), ("y", "SELECT a FROM t ORDER BY a DESC"),
                  ("z", "SELECT a FROM t ORDER BY -a")])
    s = select(pool, db, config=NOVER)
    assert [c.members for c in s.clusters] == [["y", "z"], ["x"]]
    assert has_outer_order_by("SELECT a FROM t UNION SELECT 1 ORDER BY 1")
    assert not has_outer_order_by("SELECT a FROM (SELECT a FROM t ORDER BY a)")


def test_selection_does_not_depend_on_candidate_order(db):
    base = [("p", "SELECT b FROM t WHERE a = 1"), ("q", "SELECT b FROM t WHERE a = 2"),
            ("r", "SELECT b FROM t WHERE id = 2"), ("s", "SELECT b FROM t WHERE a = 3"),
            ("u", "SELECT b FROM t WHERE id = 3"), ("v", "SELECT 'x'")]
    outcomes = set()
    rng = random.Random(0)
    perms = [list(base), list(reversed(base))]
    for _ in range(10):
        perms.append(rng.sample(base, len(base)))
    for perm in perms:
        s = select(cands(perm), db, config=NOVER)
        outcomes.add((s.answer_id, tuple(tuple(c.members) for c in s.clusters)))
    assert len(outcomes) == 1
    # two clusters of two tie; the winner comes from the content key, not from the input order
    answer, clusters = outcomes.pop()
    assert clusters[0] in (("q", "r"), ("s", "u")) and clusters[2:] and answer in clusters[0]


def test_plain_majority_vote_breaks_ties_by_input_order(db):
    a = cands([("q", "SELECT b FROM t WHERE a = 2"), ("s", "SELECT b FROM t WHERE a = 3")])
    assert majority_vote(a, db) == "q"
    assert majority_vote(list(reversed(cands([("q", "SELECT b FROM t WHERE a = 2"),
                                              ("s", "SELECT b FROM t WHERE a = 3")]))), db) == "s"


def test_empty_result_is_a_legitimate_answer(db):
    pool = cands([("e1", "SELECT a FROM t WHERE a > 10"), ("e2", "SELECT a FROM t WHERE b = 'zz'"),
                  ("n", "SELECT a FROM t WHERE a = 1")])
    s = select(pool, db, config=NOVER)
    assert s.answer_id in ("e1", "e2") and s.clusters[0].rows == 0


def test_errors_are_excluded(db):
    pool = cands([("bad", "SELECT nope FROM t"), ("empty", "  "), ("ok", "SELECT 1")])
    s = select(pool, db, config=NOVER)
    assert s.answer_id == "ok"
    assert "no such column" in s.excluded["bad"] and s.excluded["empty"] == "empty query"
    assert select(cands([("bad", "SELECT nope FROM t")]), db, config=NOVER).answer_id is None


def test_verifier_support_breaks_a_size_tie(db):
    # cluster A: two texts the verifier proves equivalent; cluster B: equal here by accident only
    # (b = 'y' and id = 2 pick the same row of this database)
    pool = cands([("a1", "SELECT a FROM t WHERE a > 2"), ("a2", "SELECT a FROM t WHERE 2 < a"),
                  ("b1", "SELECT a FROM t WHERE b = 'y'"), ("b2", "SELECT a FROM t WHERE id = 2")])
    s = select(pool, db, schema=schema_from_sqlite(db), config=SelectConfig(verify_budget=20, verify_pair_timeout=8))
    top = s.clusters[0]
    assert top.members == ["a1", "a2"] and top.support == 1 and s.clusters[1].support == 0
    assert s.answer_id in ("a1", "a2") and s.verifier_calls >= 2


def test_verifier_merges_a_candidate_that_timed_out(db):
    pool = cands([("x", "SELECT a FROM t WHERE a > 1"), ("y", "SELECT 1")])
    pool.append(Candidate(id="slow", sql="SELECT a FROM t WHERE 1 < a", error="query stopped at its time limit",
                          timed_out=True))
    s = select(pool, db, schema=schema_from_sqlite(db), config=SelectConfig(verify_budget=20, verify_pair_timeout=8))
    assert s.clusters[0].members == ["slow", "x"] and s.clusters[1].members == ["y"]
    assert "slow" not in s.excluded
    # without the verifier the timed-out candidate cannot vote
    s2 = select([c.model_copy() for c in pool], db, config=NOVER)
    assert "slow" in s2.excluded


def test_python_candidates_vote_but_sql_answers(db):
    pool = [Candidate(id="py1", language="python", result=ResultTable(columns=["v"], rows=[[2], [3]], total_rows=2)),
            Candidate(id="py2", language="python", result=ResultTable(columns=["w"], rows=[[3], [2]], total_rows=2)),
            Candidate(id="s1", sql="SELECT a FROM t WHERE a > 1"),
            Candidate(id="s2", sql="SELECT a FROM t WHERE a = 1"),
            Candidate(id="s3", sql="SELECT a FROM t WHERE a < 2")]
    s = select(pool, db, config=NOVER)
    assert s.clusters[0].members == ["py1", "py2", "s1"] and s.answer_id == "s1"
    only_py = select(pool[:2], db, config=NOVER)
    assert only_py.answer_id is None and only_py.clusters[0].size == 2


def test_representative_is_the_most_written_text(db):
    pool = cands([("a", "SELECT a FROM t WHERE a >= 2"), ("b", "select a from t where a >= 2"),
                  ("c", "SELECT a FROM t WHERE a > 1")])
    assert select(pool, db, config=NOVER).answer_id == "a"


def test_duplicate_ids_are_refused(db):
    with pytest.raises(ValueError, match="unique"):
        select(cands([("a", "SELECT 1"), ("a", "SELECT 2")]), db, config=NOVER)


@pytest.mark.skipif(not (DATA / "spider" / "dev.json").is_file(), reason="shared Spider data absent")
def test_select_command_on_spider_predictions(tmp_path):
    from typer.testing import CliRunner

    from sqlwitness_cli import app

    preds = DATA / "predictions" / "spider_dev"
    out = tmp_path / "report.json"
    r = CliRunner().invoke(app, ["agent", "select", str(preds / "DAILSQL_SC.sql"), str(preds / "RESDSQL_3B.sql"),
                                 str(preds / "Llama2-7B.sql"), "--data", str(DATA), "--limit", "12",
                                 "--workers", "1", "--verify-budget", "0", "--out", str(out)])
    assert r.exit_code == 0, r.output
    import json

    rep = json.loads(out.read_text())
    assert rep["questions"] == 12 and set(rep["systems"]) == {"DAILSQL_SC", "RESDSQL_3B", "Llama2-7B"}
    assert 0 <= rep["selected_ex"] <= rep["oracle_ex"] <= 1 and rep["best_ex"] >= rep["systems"]["Llama2-7B"]
    assert "selected (clusters + verifier)" in r.output

    bad = CliRunner().invoke(app, ["agent", "select", str(tmp_path / "nope.sql"), "--data", str(DATA)])
    assert bad.exit_code != 0 and "no such file" in bad.output
