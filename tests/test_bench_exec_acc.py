"""Execution accuracy: the official Spider / BIRD comparisons on hand-made results and databases."""

from __future__ import annotations

import os
import sqlite3

import pytest

from benchmarks.exec_acc import (
    bird_eq, execution_match, first_statement, remove_distinct, result_eq, run_readonly, spider_permutation, spider_prepare,
)


@pytest.fixture()
def db(tmp_path):
    p = tmp_path / "t.sqlite"
    con = sqlite3.connect(p)
    con.executescript("""
        CREATE TABLE t (a INTEGER, b TEXT, c REAL);
        INSERT INTO t VALUES (1, 'x', 0.5), (1, 'x', 0.5), (2, 'y', NULL), (3, NULL, 1.0);
    """)
    con.commit()
    con.close()
    return p


def test_duplicates_multiset_vs_set():
    g = [(1,), (1,), (2,)]
    assert not result_eq(g, [(1,), (2,), (2,)], ordered=False)  # same set, other multiplicities
    assert result_eq(g, [(2,), (1,), (1,)], ordered=False)
    assert bird_eq(g, [(1,), (2,), (2,)]) and bird_eq(g, [(2,), (1,)])


def test_order_only_when_gold_orders():
    assert result_eq([(1,), (2,)], [(2,), (1,)], ordered=False)
    assert not result_eq([(1,), (2,)], [(2,), (1,)], ordered=True)
    assert bird_eq([(1,), (2,)], [(2,), (1,)])


def test_column_permutations_and_column_order():
    g = [(1, "a", None), (2, "b", 3.5)]
    p = [("a", None, 1), ("b", 3.5, 2)]
    assert spider_permutation(g, p, ordered=False) == [2, 0, 1]
    assert not bird_eq(g, p)
    # more than three columns: pruning must not lose the right permutation
    g4 = [(1, 2, 3, 4, 5), (6, 7, 8, 9, 10)]
    p4 = [(5, 4, 3, 2, 1), (10, 9, 8, 7, 6)]
    assert spider_permutation(g4, p4, ordered=True) == [4, 3, 2, 1, 0]
    assert not result_eq(g4, [(5, 4, 3, 2, 1), (10, 9, 8, 6, 7)], ordered=False)
    # columns that match only as a whole, not cell by cell
    assert not result_eq([(1, 2), (2, 1)], [(1, 1), (2, 2)], ordered=False)
    assert not result_eq([(1, 2)], [(1, 2, 3)], ordered=False)


def test_null_float_and_empty():
    assert result_eq([(None, 1.0)], [(1, None)], ordered=False)  # 1 == 1.0, NULL equals NULL in rows
    assert not result_eq([(0.1 + 0.2,)], [(0.3,)], ordered=False)  # exact, as the official scripts
    assert result_eq([], [], ordered=True) and not result_eq([], [(1,)], ordered=False)
    assert bird_eq([], []) and not bird_eq([(None,)], [])


def test_distinct_flag_and_preprocessing():
    g, p = spider_prepare("SELECT DISTINCT a FROM t WHERE b > = 'distinct'", "SELECT a FROM t WHERE a = value ")
    assert "DISTINCT" not in g and "'distinct'" in g and ">=" in g and p.endswith("= 1 ")
    g2, _ = spider_prepare("SELECT DISTINCT a FROM t", "SELECT a FROM t", keep_distinct=True)
    assert "DISTINCT" in g2
    assert remove_distinct('SELECT "distinct" FROM t') == 'SELECT "distinct" FROM t'


def test_execution_match_on_a_database(db):
    # spider drops DISTINCT (official default), keep_distinct restores it
    assert execution_match("SELECT DISTINCT a FROM t", "SELECT a FROM t", db).match is True
    assert execution_match("SELECT DISTINCT a FROM t", "SELECT a FROM t", db, keep_distinct=True).match is False
    assert execution_match("SELECT DISTINCT a FROM t", "SELECT a FROM t", db, flavour="bird").match is True
    r = execution_match("SELECT a, b FROM t ORDER BY a", "SELECT b, a FROM t ORDER BY a DESC", db)
    assert r.match is False and r.gold_rows == 4
    r = execution_match("SELECT a, b FROM t ORDER BY a", "SELECT b, a FROM t ORDER BY a", db)
    assert r.match is True and r.column_permutation == [1, 0]
    bad = execution_match("SELECT a FROM t", "SELECT nope FROM t", db)
    assert bad.match is False and "prediction failed" in bad.error and "nope" in bad.error
    gold_bad = execution_match("SELECT nope FROM t", "SELECT a FROM t", db)
    assert gold_bad.match is None and gold_bad.error.startswith("gold query failed")
    assert execution_match("SELECT a FROM t", "  ", db).error == "prediction is empty"


def test_results_without_rows_pair_their_columns_by_name(db):
    """Every column order matches two results without rows, so EX cannot tell which prediction
    column answers which gold column; the names do (Spider question 14, TA_SQL: `SELECT
    LOCATION, name` against `SELECT stadium.Name, stadium.Location`, no stadium in range). Rows
    decide where there are some, and names that do not pair up leave the order as it is."""
    r = execution_match("SELECT b, a FROM t WHERE a > 5", "SELECT t.A, t.B FROM t WHERE a > 5", db)
    assert r.match is True and r.column_permutation == [1, 0]
    r = execution_match("SELECT b, a FROM t WHERE a > 5", "SELECT a AS x, b FROM t WHERE a > 5", db)
    assert r.match is True and r.column_permutation == []
    r = execution_match("SELECT a, b FROM t WHERE a = 2", "SELECT b AS a, a AS b FROM t WHERE a = 2", db)
    assert r.match is True and r.column_permutation == [1, 0]  # the rows, not the names


def test_timeout_and_read_only(db):
    slow = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r"
    r = execution_match("SELECT a FROM t", slow, db, timeout=0.3)
    assert r.match is False and "timed out" in r.error and r.seconds < 5
    before = os.path.getmtime(db)
    r = execution_match("SELECT a FROM t", "DELETE FROM t", db, flavour="bird")
    assert r.match is False and "readonly" in r.error.replace(" ", "").lower()
    assert os.path.getmtime(db) == before and len(run_readonly(db, "SELECT * FROM t")) == 4


def test_a_prediction_of_several_statements_is_judged_on_its_first(db):
    # the official scripts hand the text to Python's sqlite3, which ran the first statement only
    for flavour in ("spider", "bird"):
        r = execution_match("SELECT a FROM t", "SELECT a FROM t; SELECT b FROM t;", db, flavour=flavour)
        assert r.match is True and r.error is None
        r = execution_match("SELECT a FROM t", "SELECT b FROM t; SELECT a FROM t", db, flavour=flavour)
        assert r.match is False
    # a semicolon inside a string or a comment ends nothing
    assert execution_match("SELECT 'x;y'", "SELECT 'x;y' -- ; trailing\n; SELECT 1", db).match is True
    before = open(db, "rb").read()
    assert execution_match("SELECT a FROM t", "SELECT a FROM t; DELETE FROM t", db).match is True
    assert open(db, "rb").read() == before


def test_first_statement_keeps_a_single_statement_as_written():
    assert first_statement("SELECT 1;  \n") == "SELECT 1;  \n"
    assert first_statement("SELECT 1;;") == "SELECT 1;;"
    assert first_statement("SELECT ';' AS x; SELECT 2") == "SELECT ';' AS x;"
    assert first_statement("SELECT 1 /* ; */ + 1; SELECT 2") == "SELECT 1 /* ; */ + 1;"
