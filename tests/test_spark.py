"""`verify.spark`: Spark SQL read as the DuckDB query that means the same, each translation run
on DuckDB against Spark's meaning of the original text (written out in each test); `verify
pair --spark` end to end."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import duckdb
import pytest
from test_calcite import pair_args
from typer.testing import CliRunner

from sqlwitness_cli import app
from verify.errors import QueryError, Unsupported
from verify.spark import read_spark, read_spark_pair

DDL = "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, name VARCHAR);"
ROWS = [(1, 3, 2, "x"), (2, None, 0, None), (3, -7, 2, "y")]


def _run(sql: str, rows: list[tuple] = ROWS) -> list[tuple]:
    con = duckdb.connect()
    con.execute(DDL)
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    return con.execute(sql).fetchall()


def test_ascending_keys_put_nulls_first_as_spark_sorts_null_lowest():
    sql, notes = read_spark("SELECT a FROM t ORDER BY a")
    assert notes == ["ORDER BY ... ASC: NULLs first (Spark sorts NULL lowest)"]
    assert _run(sql) == [(None,), (-7,), (3,)]
    desc, notes = read_spark("SELECT a FROM t ORDER BY a DESC")
    assert notes == [] and _run(desc) == [(3,), (-7,), (None,)]   # last under DESC, in both


def test_null_safe_equality_if_and_concat():
    sql, notes = read_spark("SELECT id, a <=> NULL, IF(a > 0, 'pos', 'not'), CONCAT(name, '!') FROM t ORDER BY id")
    assert sorted(notes) == ["CONCAT: NULL where an argument is (Spark), a || b", "IF(c, a, b): CASE WHEN c THEN a ELSE b END",
                             "ORDER BY ... ASC: NULLs first (Spark sorts NULL lowest)",
                             "a <=> b: a IS NOT DISTINCT FROM b"]
    # Spark: NULL <=> NULL is TRUE; IF of a NULL condition takes the ELSE; CONCAT with a NULL is NULL
    assert _run(sql) == [(1, False, "pos", "x!"), (2, True, "not", None), (3, False, "not", "y!")]


def test_failed_casts_and_division_by_zero_are_null_and_div_is_the_integer_quotient():
    sql, _ = read_spark("SELECT id, CAST(name AS INT), b / 0, a DIV b, POSITIVE(a) FROM t ORDER BY id")
    # Spark (not ANSI): a text that is no number casts to NULL, x / 0 is NULL, -7 DIV 2 is -3
    assert _run(sql) == [(1, None, None, 1, 3), (2, None, None, None, None), (3, None, None, -3, -7)]


def test_a_text_literal_cast_to_date_is_the_day_spark_reads_in_it():
    sql, notes = read_spark("SELECT date('1995-03-21 +08'), to_date('1995-3-1'), CAST('1995-02-30' AS DATE), "
                            "CAST('x' AS DATE) FROM t WHERE id = 1")
    # Spark ignores what follows the day after a space; a day that does not exist, or no day, is NULL
    assert _run(sql) == [(datetime.date(1995, 3, 21), datetime.date(1995, 3, 1), None, None)]
    assert notes[0] == "DATE of '1995-03-21 +08': 1995-03-21 (Spark reads it so)"
    with pytest.raises(duckdb.ConversionException):   # DuckDB's own reading of the text fails
        _run("SELECT CAST('1995-03-21 +08' AS DATE)")
    with pytest.raises(Unsupported, match="a cast of text to DATE"):   # texts the two accept differ
        read_spark("SELECT CAST(name AS DATE) FROM t")


def test_a_constant_order_by_key_orders_nothing_and_is_left_out():
    sql, notes = read_spark("SELECT id FROM t ORDER BY 'a', id DESC")
    assert sql == "SELECT id FROM t ORDER BY id DESC" and notes == ["ORDER BY 'a': a constant, orders nothing (Spark)"]
    alone, _ = read_spark("SELECT id FROM t ORDER BY NULL LIMIT 2")
    assert alone == "SELECT id FROM t LIMIT 2"
    kept, notes = read_spark("SELECT id FROM t ORDER BY 1")   # a number is a position, in Spark too
    assert kept == "SELECT id FROM t ORDER BY 1 NULLS FIRST" and _run(kept) == [(1,), (2,), (3,)]


def test_a_pair_names_its_queries_and_bad_text_is_an_error_naming_it():
    gold, gen, notes = read_spark_pair("SELECT a <=> b FROM t", "SELECT a FROM t")
    assert gold == "SELECT a IS NOT DISTINCT FROM b FROM t" and gen == "SELECT a FROM t"
    assert notes == ["gold: a <=> b: a IS NOT DISTINCT FROM b",
                     "gold query as DuckDB SQL: SELECT a IS NOT DISTINCT FROM b FROM t"]
    with pytest.raises(QueryError, match="^generated query: syntax error"):
        read_spark_pair("SELECT 1", "SELECT FROM WHERE (")
    deep = "SELECT " + "(" * 3000 + "1" + ")" * 3000
    with pytest.raises(QueryError, match="^gold query: .*nest"):
        read_spark_pair(deep, "SELECT 1")


def _pair_args(tmp_path: Path, gold: str, gen: str) -> list[str]:
    return pair_args(tmp_path, gold, gen, DDL)


def test_verify_pair_spark_proves_what_duckdb_rejects_and_refutes_on_duckdb(tmp_path: Path):
    runner = CliRunner()
    args = _pair_args(tmp_path, "SELECT t.a <=> t.a FROM t", "SELECT TRUE FROM t")
    as_duckdb = runner.invoke(app, args + ["--dialect", "duckdb", "--json"])
    assert as_duckdb.exit_code == 3 and "cannot run it" in json.loads(as_duckdb.output)["reason"]
    as_spark = runner.invoke(app, args + ["--spark", "--json"])
    v = json.loads(as_spark.output)
    assert as_spark.exit_code == 0 and v["verdict"] == "equivalent" and v["complete"] and v["dialect"] == "duckdb"
    assert v["read_as"][0] == "gold: a <=> b: a IS NOT DISTINCT FROM b"
    refuted = runner.invoke(app, _pair_args(tmp_path, "SELECT IF(a > 1, 1, 0) FROM t", "SELECT IF(a >= 1, 1, 0) FROM t")
                            + ["--spark", "--json"])
    v = json.loads(refuted.output)
    assert refuted.exit_code == 1 and v["verdict"] == "not_equivalent" and v["confirmed"]


def test_verify_pair_spark_cannot_be_combined_with_another_reading_or_sqlite(tmp_path: Path):
    runner = CliRunner()
    args = _pair_args(tmp_path, "SELECT a FROM t", "SELECT a FROM t")
    both = runner.invoke(app, args + ["--spark", "--calcite"])
    assert both.exit_code == 3 and "give one" in both.output
    sqlite = runner.invoke(app, args + ["--spark", "--dialect", "sqlite"])
    assert sqlite.exit_code == 3 and "cannot be combined with --dialect sqlite" in sqlite.output
