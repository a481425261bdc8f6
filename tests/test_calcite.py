"""`verify.calcite`: Calcite's printed SQL read as the DuckDB query that means the same, each
translation checked against DuckDB itself where the meaning is observable; `verify pair
--calcite` and `verify bench sqlsolver --calcite` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from rich.console import Console
from typer.testing import CliRunner

from benchmarks.sqlsolver import run_suite
from sqlwitness_cli import app
from verify.calcite import read_calcite, read_calcite_pair
from verify.errors import QueryError, Unsupported

DDL = "CREATE TABLE emp (empno INTEGER PRIMARY KEY, deptno INTEGER, job VARCHAR, sal INTEGER);"


def _run(sql: str, rows: list[tuple]) -> list[tuple]:
    con = duckdb.connect()
    con.execute(DDL)
    if rows:
        con.executemany("INSERT INTO emp VALUES (?, ?, ?, ?)", rows)
    return sorted(con.execute(sql).fetchall(), key=repr)


ROWS = [(1, 10, "a", 100), (2, 10, None, 200), (3, None, "b", 300), (4, 20, "b", 400)]


# ---------------------------------------------------------------------------- GROUP BY numbers

def test_a_number_in_group_by_is_the_constant_not_a_position():
    sql, notes = read_calcite("SELECT emp.deptno, MAX(emp.sal) FROM emp GROUP BY emp.deptno, 4")
    assert "CAST(4 AS INT)" in sql and notes == ["GROUP BY 4: the constant 4 (Calcite), not the 4th column"]
    # DuckDB reads the text as written as a fourth column, which the query does not have
    with pytest.raises(duckdb.BinderException, match="out of range"):
        _run("SELECT emp.deptno, MAX(emp.sal) FROM emp GROUP BY emp.deptno, 4", ROWS)
    # read as Calcite: the groups of deptno alone (the constant splits none)
    assert _run(sql, ROWS) == _run("SELECT deptno, MAX(sal) FROM emp GROUP BY deptno", ROWS)


def test_constant_group_keys_alone_make_one_group_and_none_on_no_row():
    sql, _ = read_calcite("SELECT 4, 2 + 3, MAX(5) FROM emp GROUP BY 4, 2 + 3")
    assert _run(sql, ROWS) == [(4, 5, 5)]
    assert _run(sql, []) == []   # unlike the same SELECT without GROUP BY, which has one row


def test_numbers_in_grouping_sets_rollup_and_cube_are_constants_too():
    sql, notes = read_calcite("SELECT COUNT(*) FROM emp GROUP BY GROUPING SETS ((deptno, 1), 2), ROLLUP (3)")
    assert sql.count("CAST(") == 3 and len(notes) == 3
    assert _run(sql, ROWS)  # DuckDB runs it (positions 2 and 3 would be out of range)


def test_order_by_numbers_and_other_literals_are_left_as_they_are():
    sql, notes = read_calcite("SELECT deptno, sal FROM emp GROUP BY deptno, sal, 'x', -1 ORDER BY 2")
    assert notes == [] and sql.endswith("GROUP BY deptno, sal, 'x', -1 ORDER BY 2")


# ---------------------------------------------------------------------------- names

def test_values_columns_get_calcites_names_and_dollar_names_are_quoted():
    sql, notes = read_calcite("SELECT t.EXPR$0 + t.EXPR$1 AS $f0 FROM (VALUES (10, 1), (20, 3)) AS t")
    assert sql == 'SELECT t."EXPR$0" + t."EXPR$1" AS "$f0" FROM (VALUES (10, 1), (20, 3)) AS t("EXPR$0", "EXPR$1")'
    assert notes == ["VALUES columns named EXPR$0, EXPR$1, as Calcite names them"]
    assert _run(sql, []) == [(11,), (23,)]


def test_a_values_list_with_its_own_column_names_keeps_them():
    sql, notes = read_calcite("SELECT t.a FROM (VALUES (1)) AS t (a)")
    assert notes == [] and _run(sql, []) == [(1,)]


# ---------------------------------------------------------------------------- SINGLE_VALUE

SINGLE = 'SELECT SINGLE_VALUE(emp.deptno) AS $f0 FROM emp WHERE emp.sal > {v}'


def test_single_value_is_the_scalar_subquery_null_one_value_or_an_error():
    sql, notes = read_calcite(SINGLE.format(v=0))
    assert sql == 'SELECT (SELECT emp.deptno FROM emp WHERE emp.sal > 0) AS "$f0"'
    assert notes == ["SINGLE_VALUE(e): the scalar subquery (SELECT e ...) (Calcite's aggregate)"]
    assert _run(read_calcite(SINGLE.format(v=1000))[0], ROWS) == [(None,)]   # no row: NULL
    assert _run(read_calcite(SINGLE.format(v=350))[0], ROWS) == [(20,)]      # one row: its value
    with pytest.raises(duckdb.InvalidInputException, match="More than one row"):   # several: an error,
        _run(sql, ROWS)                                                            # as Calcite's SINGLE_VALUE


def test_single_value_inside_single_value_is_read_too():
    sql, _ = read_calcite("SELECT SINGLE_VALUE(x.m) AS m2 FROM (SELECT SINGLE_VALUE(emp.sal) AS m FROM emp "
                          "WHERE emp.empno = 1) AS x")
    assert "SINGLE_VALUE" not in sql.upper()
    assert _run(sql, ROWS) == [(100,)]


def test_single_value_elsewhere_has_no_reading():
    for sql in ("SELECT deptno, SINGLE_VALUE(sal) FROM emp GROUP BY deptno",
                "SELECT SINGLE_VALUE(sal), COUNT(*) FROM emp",
                "SELECT SINGLE_VALUE(sal) + 1 FROM emp",
                "SELECT SINGLE_VALUE(sal) FROM emp ORDER BY 1 LIMIT 1"):
        with pytest.raises(Unsupported, match="SINGLE_VALUE"):
            read_calcite(sql)


# ---------------------------------------------------------------------------- COUNT of several arguments

def test_count_of_several_arguments_counts_the_rows_without_a_null():
    sql, notes = read_calcite("SELECT COUNT(deptno, job) FROM emp")
    assert notes == ["COUNT of 2 arguments: the rows where none is NULL (Calcite)"]
    assert _run(sql, ROWS) == [(2,)]   # rows 1 and 4; 2 has no job, 3 no deptno


def test_count_distinct_of_several_arguments_counts_distinct_tuples_without_a_null():
    sql, notes = read_calcite("SELECT COUNT(DISTINCT deptno, job) FROM emp")
    assert notes == ["COUNT(DISTINCT of 2 arguments): the distinct tuples with no NULL (Calcite)"]
    assert _run(sql, ROWS + [(5, 20, "b", 500)]) == [(2,)]   # (10, a), (20, b) twice


def test_count_distinct_of_several_arguments_is_verified_as_the_count_of_tuples_without_a_null():
    """The DuckDB text the reading writes is verified as a count of distinct tuples (`ir.Agg` of a
    tuple): Calcite's expansion of it (the groups of the arguments, counted where none is NULL) is
    proved for every size; counting the groups with a NULL part too is refuted on DuckDB."""
    from verify.check import check_pair
    from verify.schema_io import schema_from_ddl
    schema = schema_from_ddl(DDL, "duckdb")
    gold = read_calcite("SELECT deptno, COUNT(DISTINCT job, sal) FROM emp GROUP BY deptno")[0]
    expanded = ("SELECT deptno, COUNT(job, sal) FROM (SELECT deptno, job, sal FROM emp GROUP BY deptno, job, sal) AS t "
                "GROUP BY deptno")
    v = check_pair(gold, read_calcite(expanded)[0], schema=schema, dialect="duckdb")
    assert v.verdict.value == "equivalent" and v.complete, v.reason
    near = read_calcite(expanded.replace("COUNT(job, sal)", "COUNT(job)"))[0]
    v = check_pair(gold, near, schema=schema, dialect="duckdb")
    assert v.verdict.value == "not_equivalent" and v.confirmed, v.reason
    # a tuple that is not NULL where a part is (DuckDB counts (NULL, 1)) is not modelled
    counted = "SELECT COUNT(DISTINCT CASE WHEN job IS NULL THEN NULL ELSE (job, sal) END) FROM emp"
    v = check_pair(counted, counted + " WHERE sal = sal OR sal IS NULL", schema=schema, dialect="duckdb")
    assert v.verdict.value == "unsupported" and "tuples" in v.reason


# ---------------------------------------------------------------------------- pairs, errors

def test_a_pair_names_its_queries_in_notes_and_errors():
    gold, gen, notes = read_calcite_pair("SELECT 1 FROM emp GROUP BY 4", "SELECT 1 FROM emp GROUP BY 4")
    assert gold.endswith("CAST(4 AS INT)") and gen == gold
    assert notes[0].startswith("gold: GROUP BY 4") and notes[1].startswith("gold query as DuckDB SQL: ")
    assert notes[2].startswith("generated: GROUP BY 4")
    with pytest.raises(QueryError, match="^generated query: syntax error"):
        read_calcite_pair("SELECT 1", "SELECT FROM WHERE (")
    with pytest.raises(Unsupported, match="^gold query: SINGLE_VALUE"):
        read_calcite_pair("SELECT SINGLE_VALUE(sal) + 1 FROM emp", "SELECT 1")
    deep = "SELECT " + "(" * 3000 + "1" + ")" * 3000
    with pytest.raises(QueryError, match="^gold query: .*nest"):
        read_calcite_pair(deep, "SELECT 1")


# ---------------------------------------------------------------------------- end to end

def pair_args(tmp_path: Path, gold: str, gen: str, ddl: str = DDL) -> list[str]:
    """`verify pair` arguments for `gold` and `gen` over `ddl`, written into `tmp_path`."""
    for name, text in (("s.sql", ddl), ("g.sql", gold), ("p.sql", gen)):
        (tmp_path / name).write_text(text)
    return ["pair", str(tmp_path / "g.sql"), str(tmp_path / "p.sql"), "--schema", str(tmp_path / "s.sql")]


def test_verify_pair_calcite_proves_what_duckdb_reading_rejects(tmp_path: Path):
    args = pair_args(tmp_path, "SELECT emp.deptno, MAX(emp.sal) FROM emp GROUP BY emp.deptno, 4",
                      "SELECT e.deptno, MAX(e.sal) FROM emp AS e GROUP BY e.deptno")
    runner = CliRunner()
    as_duckdb = runner.invoke(app, args + ["--dialect", "duckdb", "--json"])
    assert as_duckdb.exit_code == 3 and "out of range" in json.loads(as_duckdb.output)["reason"]
    as_calcite = runner.invoke(app, args + ["--calcite", "--json"])
    v = json.loads(as_calcite.output)
    assert as_calcite.exit_code == 0 and v["verdict"] == "equivalent" and v["complete"] and v["dialect"] == "duckdb"
    assert v["read_as"][0] == "gold: GROUP BY 4: the constant 4 (Calcite), not the 4th column"
    shown = runner.invoke(app, args + ["--calcite"])
    assert shown.exit_code == 0 and "Read as:" in shown.output
    both = runner.invoke(app, args + ["--calcite", "--dialect", "sqlite"])
    assert both.exit_code == 3 and "cannot be combined with --dialect sqlite" in both.output


def test_verify_pair_calcite_refutes_with_a_counterexample_on_duckdb(tmp_path: Path):
    args = pair_args(tmp_path, "SELECT SINGLE_VALUE(emp.sal) AS $f0 FROM emp WHERE emp.empno = 1",
                      "SELECT MAX(emp.sal) AS $f0 FROM emp WHERE emp.empno = 2")
    r = CliRunner().invoke(app, args + ["--calcite", "--json"])
    v = json.loads(r.output)
    assert r.exit_code == 1 and v["verdict"] == "not_equivalent" and v["confirmed"]


def test_verify_pair_calcite_without_a_reading_is_unsupported(tmp_path: Path):
    args = pair_args(tmp_path, "SELECT deptno, SINGLE_VALUE(sal) FROM emp GROUP BY deptno",
                      "SELECT deptno, MAX(sal) FROM emp GROUP BY deptno")
    r = CliRunner().invoke(app, args + ["--calcite", "--json"])
    v = json.loads(r.output)
    assert r.exit_code == 2 and v["verdict"] == "unsupported"
    assert v["reason"].startswith("unsupported: gold query: SINGLE_VALUE")


def test_bench_sqlsolver_calcite_reads_the_calcite_suite_as_calcite(tmp_path: Path):
    (tmp_path / "tiny.schema.sql").write_text(DDL)
    pairs = [("SELECT emp.deptno, MAX(emp.sal) FROM emp GROUP BY emp.deptno, 4",
              "SELECT e.deptno, MAX(e.sal) FROM emp AS e GROUP BY e.deptno"),
             ("SELECT t.EXPR$0 + t.EXPR$1 FROM (VALUES (10, 1), (20, 3)) AS t", "SELECT * FROM (VALUES (11), (23)) AS t1"),
             ("SELECT deptno, SINGLE_VALUE(sal) FROM emp GROUP BY deptno", "SELECT deptno, MAX(sal) FROM emp GROUP BY deptno")]
    lines = [json.dumps({"id": i, "suite": "calcite", "schema": "tiny.schema.sql", "q1": a, "q2": b})
             for i, (a, b) in enumerate(pairs)]
    (tmp_path / "calcite.jsonl").write_text("\n".join(lines) + "\n")
    quiet = Console(file=open("/dev/null", "w"))
    as_duckdb = run_suite(tmp_path, "calcite", bound=2, timeout=30, workers=1, limit=None, recheck_n=0, console=quiet)
    assert [r.verdict for r in as_duckdb] == ["error", "error", "error"]
    as_calcite = run_suite(tmp_path, "calcite", bound=2, timeout=30, workers=1, limit=None, recheck_n=5,
                           console=quiet, calcite=True)
    assert [(r.verdict, r.every_size) for r in as_calcite] == [("equivalent", True), ("equivalent", True),
                                                                ("unsupported", False)]
    assert as_calcite[0].recheck_databases == 5 and as_calcite[0].recheck_differences == 0
    assert any("GROUP BY 4" in n for n in as_calcite[0].read_as)
    assert as_calcite[2].blocker.startswith("unsupported: gold query: SINGLE_VALUE")


# ---------------------------------------------------------------------------- DuckDB's tie order

TIE_DDL = ("CREATE TABLE emp (empno INTEGER PRIMARY KEY, deptno INTEGER, sal INTEGER);"
           "CREATE TABLE dept (deptno INTEGER PRIMARY KEY, name VARCHAR);")


def test_ties_are_broken_by_every_output_column_after_the_order_by():
    from verify.check import _ties_broken

    assert _ties_broken("SELECT a, b FROM t ORDER BY b DESC LIMIT 3", "duckdb", 2) == \
        "SELECT a, b FROM t ORDER BY b DESC, 1, 2 LIMIT 3"
    assert _ties_broken("SELECT a FROM t UNION SELECT a FROM u ORDER BY 1", "duckdb", 1) == \
        "SELECT a FROM t UNION SELECT a FROM u ORDER BY 1, 1"
    assert _ties_broken("SELECT * FROM (SELECT * FROM t ORDER BY b LIMIT 2) AS x ORDER BY x.b", "duckdb", 2) == \
        "SELECT * FROM (SELECT * FROM t ORDER BY b, COLUMNS(*) LIMIT 2) AS x ORDER BY x.b, 1, 2"
    assert _ties_broken("SELECT * FROM (SELECT a, b FROM t ORDER BY b) AS x ORDER BY x.b", "duckdb", 2) == \
        "SELECT * FROM (SELECT a, b FROM t ORDER BY b) AS x ORDER BY x.b, 1, 2"   # inner order kept nothing
    assert _ties_broken("SELECT * FROM (SELECT *, COUNT(*) OVER () FROM t GROUP BY a, b ORDER BY b LIMIT 1) AS x "
                        "ORDER BY 1", "duckdb", 3) is None   # a SELECT * of groups: not broken
    assert _ties_broken("SELECT a FROM t", "duckdb", 1) is None   # no ORDER BY: any order
    assert _ties_broken("SELECT FROM (", "duckdb", 1) is None


def test_duckdb_results_differing_only_in_tied_rows_are_no_counterexample():
    """Calcite's top-k pushed below a LEFT join on the parent's key (SQLSolver's #96): the same
    rows, but DuckDB returns the rows tied on `sal` in an order each plan picks, and keeps any of
    the tied rows at the LIMIT. With the ties broken alike both queries return the same rows, so
    no database refutes the pair; a difference a tie order explains is a nondeterminism witness."""
    from verify.check import check_pair
    from verify.schema_io import schema_from_ddl

    schema = schema_from_ddl(TIE_DDL, "duckdb")
    gold = "SELECT * FROM emp LEFT JOIN dept ON emp.deptno = dept.deptno ORDER BY emp.sal LIMIT 2"
    gen = ("SELECT * FROM (SELECT * FROM emp ORDER BY sal LIMIT 2) AS t LEFT JOIN dept ON t.deptno = dept.deptno "
           "ORDER BY t.sal LIMIT 2")
    v = check_pair(gold, gen, schema=schema, dialect="duckdb", bound=3, timeout=120)
    assert v.verdict.value in ("nondeterministic", "equivalent"), (v.verdict, v.reason)
    assert v.counterexample is None or v.counterexample.order_dependent
    # near miss: another sort direction keeps other rows whatever the ties
    v = check_pair(gold, gen.replace("ORDER BY sal", "ORDER BY sal DESC"), schema=schema, dialect="duckdb",
                   bound=3, timeout=120)
    assert v.verdict.value == "not_equivalent" and v.confirmed and not v.counterexample.order_dependent


# ---------------------------------------------------------------------------- types and NULL order

TYPED = ("CREATE TABLE num (i INTEGER, j BIGINT, r DOUBLE, d DECIMAL(6, 2));")


def _typed(sql: str) -> tuple[str, list[str]]:
    from verify.schema_io import schema_from_ddl

    return read_calcite(sql, schema_from_ddl(TYPED, "duckdb"))


def _on_num(sql: str, rows: list[tuple]) -> list[tuple]:
    con = duckdb.connect()
    con.execute(TYPED)
    if rows:
        con.executemany("INSERT INTO num VALUES (?, ?, ?, ?)", rows)
    return con.execute(sql).fetchall()


NUMS = [(7, -7, 2.5, 1.25), (-7, 2, None, None), (2, None, 1.0, 3.00)]


def test_a_division_of_integers_is_an_integer_truncated_toward_zero():
    sql, notes = _typed("SELECT i / 2, j / i, r / 2, (i - i * i / 2) / 2 FROM num")
    assert sql == "SELECT i // 2, j // i, r / 2, (i - i * i // 2) // 2 FROM num"
    assert notes == ["a / b of integers: an integer, truncated (Calcite), a // b"]
    # Java's int division, which Calcite's generated code runs: 7 / 2 = 3, -7 / 2 = -3
    assert _on_num(sql, NUMS) == [(3, -1, 1.25, -8), (-3, 0, None, -15), (1, None, 0.5, 0)]


def test_avg_of_integers_is_their_sum_divided_by_their_count_as_integers():
    sql, notes = _typed("SELECT AVG(i), AVG(DISTINCT j), AVG(r), AVG(i) FILTER (WHERE i > 0) FROM num")
    assert sql.startswith("SELECT (SUM(i) // COUNT(i)), (SUM(DISTINCT j) // COUNT(DISTINCT j)), AVG(r)")
    assert notes == ["AVG of integers: an integer (Calcite), SUM(x) // COUNT(x)"]
    assert _on_num(sql, NUMS) == [(0, -2, 1.75, 4)]   # 2/3 -> 0, -5/2 -> -2, (7 + 2) / 2 -> 4
    assert _on_num(sql, []) == [(None, None, None, None)]


def test_what_differs_by_type_without_a_duckdb_form_is_unsupported():
    for sql in ("SELECT d / 2 FROM num", "SELECT i / 2.5 FROM num", "SELECT AVG(d) FROM num",
                "SELECT STDDEV_POP(i) FROM num", "SELECT VAR_SAMP(d) FROM num", "SELECT CAST(r AS INTEGER) FROM num",
                "SELECT CAST(d AS BIGINT) FROM num"):
        with pytest.raises(Unsupported, match="Calcite"):
            _typed(sql)
    # read alike: DOUBLE arithmetic, a spread of DOUBLEs, casts of integers and of NULL
    for sql in ("SELECT r / 2, STDDEV_POP(r), CAST(i AS BIGINT), CAST(NULL AS INTEGER) FROM num",):
        assert _typed(sql)[1] == []
    with pytest.raises(Unsupported, match="not known"):
        read_calcite("SELECT i / 2 FROM num")   # no schema: the types of i are unknown


def test_desc_puts_nulls_first_as_calcite_sorts_null_highest():
    sql, notes = read_calcite("SELECT i FROM num ORDER BY i DESC, j")
    assert sql == "SELECT i FROM num ORDER BY i DESC NULLS FIRST, j"
    assert notes == ["ORDER BY ... DESC: NULLs first (Calcite sorts NULL as the highest value)"]
    assert _on_num(sql, NUMS + [(None, 1, 1.0, 1.0)])[0] == (None,)
    with pytest.raises(Unsupported, match="explicitly"):
        read_calcite("SELECT i FROM num ORDER BY i DESC NULLS LAST")


def test_a_constant_order_by_key_orders_nothing_and_is_left_out():
    """Calcite prints `ORDER BY NULL` for a UNION branch's constant column (TPC-DS); DuckDB
    rejects a sort by a constant that is not a position."""
    sql, notes = read_calcite("SELECT i FROM num ORDER BY NULL, i FETCH NEXT 2 ROWS ONLY")
    assert sql == "SELECT i FROM num ORDER BY i LIMIT 2" and notes == ["ORDER BY NULL: a constant, orders nothing (Calcite)"]
    assert _on_num(sql, NUMS) == sorted(_on_num("SELECT i FROM num", NUMS))[:2]
    alone, _ = read_calcite("SELECT i FROM num ORDER BY NULL, 'x'")
    assert alone == "SELECT i FROM num"
    with pytest.raises(duckdb.BinderException):
        _on_num("SELECT i FROM num ORDER BY NULL", NUMS)


def test_verify_pair_calcite_reads_integer_division_with_the_schema(tmp_path: Path):
    args = pair_args(tmp_path, "SELECT emp.sal / 2 FROM emp", "SELECT emp.sal * 0.5 FROM emp")
    as_duckdb = CliRunner().invoke(app, args + ["--dialect", "duckdb", "--json"])
    assert json.loads(as_duckdb.output)["verdict"] == "equivalent"   # 7 / 2 = 3.5 = 7 * 0.5 in DuckDB
    as_calcite = CliRunner().invoke(app, args + ["--calcite", "--json"])
    v = json.loads(as_calcite.output)
    assert as_calcite.exit_code == 1 and v["verdict"] == "not_equivalent" and v["confirmed"]   # 7 / 2 = 3
    assert "gold: a / b of integers: an integer, truncated (Calcite), a // b" in v["read_as"]
    emp = v["counterexample"]["tables"]["emp"]
    sals = [row[emp["columns"].index("sal")] for row in emp["rows"]]
    assert any(s is not None and s % 2 for s in sals)   # an odd salary tells them apart


def test_a_division_reading_an_avg_of_integers_through_a_derived_table_is_of_integers_too():
    sql, notes = _typed("SELECT CAST(x.a / 2 AS INTEGER) FROM (SELECT AVG(i) AS a FROM num) AS x")
    assert sql == "SELECT CAST(x.a // 2 AS INT) FROM (SELECT (SUM(i) // COUNT(i)) AS a FROM num) AS x"
    assert sorted(notes) == ["AVG of integers: an integer (Calcite), SUM(x) // COUNT(x)",
                             "a / b of integers: an integer, truncated (Calcite), a // b"]
    assert _on_num(sql, NUMS) == [(0,)]   # AVG 2 / 3 -> 0, 0 / 2 -> 0
