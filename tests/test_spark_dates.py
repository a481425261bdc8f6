"""Spark's constant date forms in SQLSolver's TPC-H suite (`benchmarks.spark_dates`)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from benchmarks.spark_dates import read_spark_dates, spark_text_to_date
from benchmarks.sqlsolver import load_suite, run_suite

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sqlsolver"


@pytest.mark.parametrize("text, day", [
    ("1995-03-21 +08", datetime.date(1995, 3, 21)),   # Spark ignores what follows a space
    ("1995-03-21T10:00", datetime.date(1995, 3, 21)),  # ... or a 'T'
    ("  1994-9-1 ", datetime.date(1994, 9, 1)),       # one-digit month and day, trimmed
    ("1994-09", datetime.date(1994, 9, 1)),
    ("1994", datetime.date(1994, 1, 1)),
    # near misses: Spark reads none of these as a date (NULL there): not modelled, left to DuckDB
    ("1995-02-30", None), ("03/21/1995", None), ("1995-03-21+08", None), ("95-03-21", None), ("", None),
])
def test_spark_reads_text_as_a_date_by_its_own_rules(text, day):
    assert spark_text_to_date(text) == day


def test_spark_date_forms_on_literals_become_the_date_spark_computes():
    sql = ("SELECT a FROM t WHERE d < date('1995-03-21 +08') AND d >= date_sub('1998-12-01', 61) "
           "AND d <> date_add('1998-12-31', 1)")
    new, notes = read_spark_dates(sql)
    assert notes == ["DATE('1995-03-21 +08') read as DATE '1995-03-21'",
                     "DATE_SUB('1998-12-01', 61) read as DATE '1998-10-01'",
                     "DATE_ADD('1998-12-31', 1) read as DATE '1999-01-01'"]
    assert new == ("SELECT a FROM t WHERE d < CAST('1995-03-21' AS DATE) AND d >= CAST('1998-10-01' AS DATE) "
                   "AND d <> CAST('1999-01-01' AS DATE)")
    duckdb.sql(new.replace("FROM t", "FROM (SELECT 1 AS a, DATE '1995-01-01' AS d) AS t")).fetchall()  # DuckDB runs it


@pytest.mark.parametrize("sql", [
    "SELECT date(d) FROM t",                                 # a column: its value is not known here
    "SELECT date_sub(d, 3) FROM t",
    "SELECT date_sub('1998-12-01', n) FROM t",
    "SELECT date('1995-02-30') FROM t",                       # no such day: DuckDB reports the error
    "SELECT DATE '1995-03-21' + INTERVAL '3' MONTH FROM t",  # DuckDB's own forms stay as written
    "SELECT date_add(DATE '1995-03-21', INTERVAL 3 DAY) FROM t",
    "SELECT * FROM t WHERE",                                  # not SQL: returned for the verifier to report
])
def test_other_forms_and_texts_are_left_byte_for_byte(sql):
    assert read_spark_dates(sql) == (sql, [])


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/sqlsolver not present")
def test_tpch_pairs_with_spark_dates_are_verified_not_rejected(tmp_path):
    pairs, _ = load_suite(SHARED, "tpch")
    spark = [p for p in pairs if p.read_as]
    assert len(spark) == 9 and not [p for p in load_suite(SHARED, "calcite")[0] if p.read_as]
    assert all("date(" not in (p.q1 + p.q2).lower() for p in spark)
    # TPC-H Q1 (pair 0): `date_sub('1998-12-01', 61)` on both sides; before, "unsupported function DATE_SUB"
    row = json.loads((SHARED / "tpch.jsonl").read_text().splitlines()[0])
    (tmp_path / "tpch.base.schema.sql").write_text((SHARED / "tpch.base.schema.sql").read_text())
    (tmp_path / "tpch.jsonl").write_text(json.dumps(row) + "\n")
    [out] = run_suite(tmp_path, "tpch", bound=3, timeout=120, workers=1, limit=None, recheck_n=5,
                      console=Console(file=open("/dev/null", "w")))
    assert out.read_as == ["q1: DATE_SUB('1998-12-01', 61) read as DATE '1998-10-01'",
                           "q2: DATE_SUB('1998-12-01', 61) read as DATE '1998-10-01'"]
    assert out.verdict == "equivalent" and out.every_size and out.recheck_differences == 0
