"""SQL beyond the basics: window functions, grouping sets, FILTER, IS DISTINCT FROM, nested
joins, and the DuckDB dialect. Each verdict is checked against what the engine does."""

from __future__ import annotations

import duckdb

from verify.check import check_pair
from verify.schema_io import schema_from_ddl
from verify.verdict import VerdictKind

SQLITE = schema_from_ddl("CREATE TABLE t (a INTEGER, b INTEGER); CREATE TABLE u (a INTEGER, c INTEGER);")
DUCK = schema_from_ddl(
    "CREATE TABLE emp (empno INTEGER PRIMARY KEY, deptno INTEGER, sal INTEGER, job VARCHAR);"
    "CREATE TABLE dept (deptno INTEGER PRIMARY KEY, name VARCHAR);",
    dialect="duckdb",
)


def verdict(gold, gen, schema=SQLITE, **kw):
    kw.setdefault("timeout", 20)
    kw.setdefault("bound", 3)
    return check_pair(gold, gen, schema=schema, **kw)


def test_rank_vs_dense_rank_differ_on_ties():
    v = verdict("SELECT a, RANK() OVER (ORDER BY b) FROM t", "SELECT a, DENSE_RANK() OVER (ORDER BY b) FROM t")
    assert v.verdict == VerdictKind.NOT_EQUIVALENT


def test_windowed_sum_equals_join_with_group_by():
    v = verdict(
        "SELECT a, SUM(b) OVER (PARTITION BY a) FROM t",
        "SELECT t.a, s.total FROM t JOIN (SELECT a, SUM(b) AS total FROM t GROUP BY a) AS s ON t.a IS s.a",
    )
    assert v.verdict == VerdictKind.EQUIVALENT, v.reason


def test_running_count_includes_peers():
    v = verdict(
        "SELECT a, COUNT(*) OVER (ORDER BY b) FROM t",
        "SELECT a, (SELECT COUNT(*) FROM t AS t2 WHERE t2.b <= t.b OR t2.b IS NULL) FROM t",
    )
    assert v.verdict == VerdictKind.EQUIVALENT, v.reason
    assert v.stats.unconfirmed_models == 0


def test_rollup_is_a_union_of_groupings():
    v = verdict(
        "SELECT deptno, job, COUNT(*) FROM emp GROUP BY ROLLUP(deptno, job)",
        "SELECT deptno, job, COUNT(*) FROM emp GROUP BY deptno, job "
        "UNION ALL SELECT deptno, NULL, COUNT(*) FROM emp GROUP BY deptno "
        "UNION ALL SELECT NULL, NULL, COUNT(*) FROM emp",
        schema=DUCK, dialect="duckdb",
    )
    assert v.verdict == VerdictKind.EQUIVALENT, v.reason


def test_grouping_sets_without_the_empty_set_differ_on_empty_table():
    v = verdict(
        "SELECT deptno, COUNT(*) FROM emp GROUP BY GROUPING SETS ((deptno), ())",
        "SELECT deptno, COUNT(*) FROM emp GROUP BY deptno",
        schema=DUCK, dialect="duckdb",
    )
    assert v.verdict == VerdictKind.NOT_EQUIVALENT
    assert v.counterexample.tables == {}  # the empty database already tells them apart


def test_filter_clause_equals_case_inside_count():
    v = verdict(
        "SELECT COUNT(*) FILTER (WHERE sal > 10) FROM emp",
        "SELECT COUNT(CASE WHEN sal > 10 THEN 1 END) FROM emp",
        schema=DUCK, dialect="duckdb",
    )
    assert v.verdict == VerdictKind.EQUIVALENT, v.reason


def test_is_not_distinct_from_matches_nulls():
    v = verdict(
        "SELECT t.b FROM t JOIN u ON t.a IS NOT DISTINCT FROM u.a",
        "SELECT t.b FROM t JOIN u ON t.a = u.a",
        dialect="duckdb", schema=schema_from_ddl("CREATE TABLE t (a INTEGER, b INTEGER); CREATE TABLE u (a INTEGER);",
                                                  dialect="duckdb"),
    )
    assert v.verdict == VerdictKind.NOT_EQUIVALENT


def test_duckdb_division_is_real_and_confirmed_on_duckdb():
    v = verdict("SELECT sal / 2 FROM emp", "SELECT sal // 2 FROM emp", schema=DUCK, dialect="duckdb")
    assert v.verdict == VerdictKind.NOT_EQUIVALENT
    con = duckdb.connect()
    con.execute(v.counterexample.inserts)
    assert con.execute("SELECT sal / 2 FROM emp").fetchall() != con.execute("SELECT sal // 2 FROM emp").fetchall()


def test_parenthesized_join_is_associative():
    v = verdict(
        "SELECT * FROM emp CROSS JOIN dept AS d1 INNER JOIN dept AS d2 ON emp.deptno = d2.deptno",
        "SELECT * FROM emp INNER JOIN (dept AS d1 CROSS JOIN dept AS d2) ON emp.deptno = d2.deptno",
        schema=DUCK, dialect="duckdb", bound=2,
    )
    assert v.verdict == VerdictKind.EQUIVALENT, v.reason


def test_a_parenthesized_join_of_derived_tables_shows_their_names_outside():
    """`a JOIN ((SELECT ...) AS x JOIN (SELECT ...) AS y ON ...) ON a.k = x.k`, as Calcite prints
    TPC-DS: x and y are read outside the parentheses; a condition on another column is refuted."""
    nested = ("SELECT emp.empno, x.name FROM emp INNER JOIN ((SELECT * FROM dept) AS x INNER JOIN "
              "(SELECT * FROM dept) AS y ON x.deptno = y.deptno) ON emp.deptno = {} ")
    flat = "SELECT emp.empno, dept.name FROM emp JOIN dept ON emp.deptno = dept.deptno"
    v = verdict(nested.format("y.deptno"), flat, schema=DUCK, dialect="duckdb", bound=2)
    assert v.verdict == VerdictKind.EQUIVALENT and v.complete, v.reason
    v = verdict(nested.format("y.deptno + 1"), flat, schema=DUCK, dialect="duckdb", bound=2)
    assert v.verdict == VerdictKind.NOT_EQUIVALENT and v.confirmed, v.reason


def test_fetch_offset_syntax():
    v = verdict(
        "SELECT empno FROM emp ORDER BY empno OFFSET 1 ROWS FETCH NEXT 1 ROWS ONLY",
        "SELECT empno FROM emp ORDER BY empno LIMIT 1 OFFSET 1",
        schema=DUCK, dialect="duckdb",
    )
    assert v.verdict == VerdictKind.EQUIVALENT, v.reason


def test_duplicate_column_names_in_a_derived_table_mean_the_first():
    # the engines rename the second `a` (a:1 in SQLite, a_1 in DuckDB); `a` is t's column
    v = verdict("SELECT a FROM (SELECT * FROM t, u) AS x", "SELECT t.a FROM t, u")
    assert v.verdict == VerdictKind.EQUIVALENT, v.reason
    v = verdict("SELECT a FROM (SELECT * FROM t, u) AS x", "SELECT u.a FROM t, u")
    assert v.verdict == VerdictKind.NOT_EQUIVALENT


def test_bit_and_bool_aggregates_in_duckdb():
    one_row_groups = verdict("SELECT empno, BIT_AND(sal), BIT_OR(sal) FROM emp GROUP BY empno",
                             "SELECT empno, sal, sal FROM emp", schema=DUCK, dialect="duckdb", bound=1)
    assert one_row_groups.verdict == VerdictKind.EQUIVALENT, one_row_groups.reason
    v = verdict("SELECT BIT_AND(sal) FROM emp", "SELECT BIT_OR(sal) FROM emp", schema=DUCK, dialect="duckdb")
    assert v.verdict == VerdictKind.NOT_EQUIVALENT
    g = v.counterexample.gold_result.rows[0][0]
    rows = [r[2] for r in v.counterexample.tables["emp"].rows if r[2] is not None]
    acc = -1
    for x in rows:
        acc &= x
    assert g == acc
    v = verdict("SELECT deptno, BOOL_AND(sal > 0) FROM emp GROUP BY deptno",
                "SELECT deptno, MIN(sal) > 0 FROM emp GROUP BY deptno", schema=DUCK, dialect="duckdb")
    assert v.verdict == VerdictKind.EQUIVALENT, v.reason


def test_window_over_an_aggregate_query():
    v = verdict("SELECT deptno, SUM(SUM(sal)) OVER () FROM emp GROUP BY deptno",
                "SELECT deptno, (SELECT SUM(sal) FROM emp) FROM emp GROUP BY deptno", schema=DUCK,
                dialect="duckdb")
    assert v.verdict == VerdictKind.EQUIVALENT, v.reason


def test_cast_of_null_to_a_type_not_modelled_is_null():
    v = verdict("SELECT CAST(NULL AS TIMESTAMP), deptno FROM dept", "SELECT NULL, deptno FROM dept",
                schema=DUCK, dialect="duckdb")
    assert v.verdict == VerdictKind.EQUIVALENT, v.reason
