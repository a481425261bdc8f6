"""Tests for verify.engine: building databases, running queries, comparing results."""

from __future__ import annotations

import datetime

import pytest

from verify.engine import (
    EngineError,
    EngineTimeout,
    EngineWorkLimit,
    Result,
    compare_results,
    materialize,
    run_both,
    run_query,
)
from verify.schema import Affinity, Column, ForeignKey, Schema, Table, affinity_of


def col(name: str, type_: str, not_null: bool = False, dialect: str = "sqlite") -> Column:
    return Column(name=name, type=type_, affinity=affinity_of(type_, dialect), not_null=not_null)


def parent_child(dialect: str = "sqlite") -> Schema:
    return Schema(
        tables=[
            Table(
                name="Dept",
                columns=[col("id", "int", dialect=dialect), col("name", "varchar(20)", dialect=dialect)],
                primary_key=["id"],
            ),
            Table(
                name="emp",
                columns=[
                    col("eid", "int", dialect=dialect),
                    col("dept_id", "int", dialect=dialect),
                    col("salary", "real", dialect=dialect),
                ],
                primary_key=["eid"],
                foreign_keys=[ForeignKey(columns=["dept_id"], ref_table="Dept", ref_columns=["id"])],
            ),
        ]
    )


ROWS = {"dept": [[1, "a"], [2, "b"]], "EMP": [[10, 1, 1.5], [11, None, 2.0], [12, 2, 3.0]]}


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb"])
def test_materialize_and_run(dialect: str) -> None:
    conn = materialize(parent_child(dialect), ROWS, dialect)
    try:
        res = run_query(
            conn,
            "SELECT d.name, count(*) AS n FROM emp e JOIN dept d ON e.dept_id = d.id "
            "GROUP BY d.name ORDER BY d.name",
            dialect,
        )
    finally:
        conn.close()
    assert res.columns == ["name", "n"]
    assert res.rows == [("a", 1), ("b", 1)]


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb"])
def test_each_database_is_built_afresh_from_the_same_schema(dialect: str) -> None:
    # SQLite databases start from the pages of the schema's empty database, built once: each
    # still holds only its own rows, and a schema of no tables (queries that read none) works too
    first = materialize(parent_child(dialect), ROWS, dialect)
    second = materialize(parent_child(dialect), {"dept": [[7, "z"]]}, dialect)
    try:
        assert run_query(first, "SELECT id FROM dept ORDER BY id", dialect).rows == [(1,), (2,)]
        assert run_query(second, "SELECT id FROM dept", dialect).rows == [(7,)]
        assert run_query(second, "SELECT count(*) FROM emp", dialect).rows == [(0,)]
    finally:
        first.close()
        second.close()
    for _ in range(2):
        gold, gen, cmp = run_both(Schema(tables=[]), {}, "SELECT 1", "SELECT 2", dialect)
        assert (gold.rows, gen.rows, cmp.differ) == ([(1,)], [(2,)], True)
    with pytest.raises(EngineError, match="FOREIGN KEY"):  # the pages carry no setting: checks still apply
        materialize(parent_child(dialect), {"dept": [[1, "a"]], "emp": [[10, 99, 1.0]]}, dialect)


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb"])
def test_foreign_key_violation_raises(dialect: str) -> None:
    with pytest.raises(EngineError, match="FOREIGN KEY"):
        materialize(parent_child(dialect), {"dept": [[1, "a"]], "emp": [[10, 99, 1.0]]}, dialect)


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb"])
def test_child_before_parent_and_self_reference_are_fine(dialect: str) -> None:
    schema = Schema(
        tables=[
            Table(
                name="node",
                columns=[col("id", "int", dialect=dialect), col("up", "int", dialect=dialect)],
                primary_key=["id"],
                foreign_keys=[ForeignKey(columns=["up"], ref_table="node", ref_columns=["id"])],
            )
        ]
    )
    conn = materialize(schema, {"node": [[2, 1], [1, None]]}, dialect)
    assert run_query(conn, "SELECT count(*) FROM node", dialect).rows == [(2,)]
    conn.close()


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb"])
def test_primary_key_and_not_null_violations_raise(dialect: str) -> None:
    with pytest.raises(EngineError, match="(?i)unique|primary key"):
        materialize(parent_child(dialect), {"dept": [[1, "a"], [1, "b"]]}, dialect)
    schema = Schema(tables=[Table(name="t", columns=[col("a", "int", not_null=True)])])
    with pytest.raises(EngineError, match="(?i)not null"):
        materialize(schema, {"t": [[None]]}, dialect)


def test_sqlite_quirk_null_in_non_integer_primary_key_is_accepted() -> None:
    # SQLite (unlike DuckDB) lets a PRIMARY KEY column that is not INTEGER PRIMARY KEY hold
    # NULL; the random databases and the minimizer never produce one.
    conn = materialize(parent_child("sqlite"), {"dept": [[None, "a"]]}, "sqlite")
    assert run_query(conn, "SELECT id FROM dept", "sqlite").rows == [(None,)]
    with pytest.raises(EngineError):
        materialize(parent_child("duckdb"), {"dept": [[None, "a"]]}, "duckdb")


def test_duckdb_dates_as_date_or_iso_string() -> None:
    schema = Schema(tables=[Table(name="t", columns=[col("d", "date", dialect="duckdb")])])
    assert schema.tables[0].columns[0].affinity == Affinity.DATE
    conn = materialize(schema, {"t": [[datetime.date(2020, 1, 1)], ["2020-01-02"]]}, "duckdb")
    res = run_query(conn, "SELECT d FROM t WHERE d > DATE '2020-01-01'", "duckdb")
    assert res.rows == [(datetime.date(2020, 1, 2),)]


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb"])
def test_bad_query_raises_engine_error_naming_the_problem(dialect: str) -> None:
    conn = materialize(parent_child(dialect), ROWS, dialect)
    with pytest.raises(EngineError, match="nope"):
        run_query(conn, "SELECT nope FROM emp", dialect)
    with pytest.raises(EngineError):
        run_query(conn, "SELEC 1", dialect)


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb"])
def test_dollar_identifiers_are_quoted_on_retry(dialect: str) -> None:
    conn = materialize(parent_child(dialect), ROWS, dialect)
    sql = "SELECT t.$f0, EXPR$0 FROM (SELECT eid AS $f0, salary AS EXPR$0 FROM emp) AS t ORDER BY t.$f0"
    res = run_query(conn, sql, dialect)
    assert res.rows == [(10, 1.5), (11, 2.0), (12, 3.0)]


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb"])
def test_writes_are_refused(dialect: str) -> None:
    conn = materialize(parent_child(dialect), ROWS, dialect)
    with pytest.raises(EngineError):
        run_query(conn, "DELETE FROM emp", dialect)
    assert run_query(conn, "SELECT count(*) FROM emp", dialect).rows == [(3,)]


def test_a_runaway_sqlite_query_stops_at_the_step_limit_on_any_machine() -> None:
    """The step count decides, not the clock: with a time limit no machine reaches, the query
    still stops, as a work-limit error (the query's outcome), not as a timeout."""
    schema = Schema(tables=[Table(name="t", columns=[col("a", "int")])])
    conn = materialize(schema, {"t": [[1]]}, "sqlite")
    endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    with pytest.raises(EngineWorkLimit, match="virtual-machine steps") as e:
        run_query(conn, endless, "sqlite", timeout=3600)
    assert not isinstance(e.value, EngineTimeout)
    assert run_query(conn, "SELECT count(*) FROM t", "sqlite").rows == [(1,)]


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb"])
def test_timeout(dialect: str) -> None:
    schema = Schema(tables=[Table(name="t", columns=[col("a", "int")])])
    conn = materialize(schema, {"t": [[i] for i in range(10)]}, dialect)
    slow = "SELECT count(*) FROM " + ", ".join(f"t t{i}" for i in range(12))
    with pytest.raises(EngineTimeout):
        run_query(conn, slow, dialect, timeout=0.2)
    # the connection is still usable afterwards
    assert run_query(conn, "SELECT count(*) FROM t", dialect).rows == [(10,)]


def r(*rows: tuple, ncols: int = 1) -> Result:
    return Result(columns=[f"c{i}" for i in range(ncols)], rows=list(rows))


def test_bag_semantics_counts_duplicates() -> None:
    cmp = compare_results(r((1,), (1,), (2,)), r((1,), (2,), (2,)), "bag")
    assert cmp.differ
    assert cmp.gold_only == [(1,)]
    assert cmp.gen_only == [(2,)]
    assert not compare_results(r((1,), (2,), (1,)), r((2,), (1,), (1,)), "bag").differ


def test_set_semantics_ignores_duplicates() -> None:
    assert not compare_results(r((1,), (1,), (2,)), r((1,), (2,), (2,)), "set").differ
    cmp = compare_results(r((1,), (1,)), r((2,)), "set")
    assert cmp.differ and cmp.gold_only == [(1,)] and cmp.gen_only == [(2,)]


def test_list_semantics_order() -> None:
    cmp = compare_results(r((1,), (2,)), r((2,), (1,)), "list")
    assert cmp.differ and cmp.gold_only == [] and cmp.gen_only == []
    assert not compare_results(r((1,), (2,)), r((1,), (2,)), "list").differ
    cmp = compare_results(r((1,), (2,)), r((1,), (3,)), "list")
    assert cmp.differ and cmp.gold_only == [(2,)] and cmp.gen_only == [(3,)]


def test_nulls_equal_each_other_but_not_values() -> None:
    assert not compare_results(r((None,), (1,)), r((1,), (None,)), "bag").differ
    cmp = compare_results(r((None,)), r((0,)), "bag")
    assert cmp.differ and cmp.gold_only == [(None,)] and cmp.gen_only == [(0,)]
    assert compare_results(r((None,)), r(("",)), "set").differ


def test_numbers_int_float_and_tolerance() -> None:
    assert not compare_results(r((2,)), r((2.0,)), "bag").differ
    assert not compare_results(r((True,)), r((1,)), "bag").differ
    assert not compare_results(r((0.1 + 0.2,)), r((0.3,)), "bag").differ
    assert not compare_results(r((1 / 3,)), r((0.3333333333333333,)), "list").differ
    assert not compare_results(r((1e-17,)), r((0.0,)), "bag").differ
    assert compare_results(r((2,)), r((2.001,)), "bag").differ
    assert compare_results(r((1,)), r(("1",)), "bag").differ  # text is not a number
    assert compare_results(r(("a",)), r(("A",)), "bag").differ


def test_column_count_always_differs_and_names_do_not_matter() -> None:
    assert compare_results(r(ncols=1), r(ncols=2), "bag").differ
    cmp = compare_results(r((1,), ncols=1), r((1, 2), ncols=2), "set")
    assert cmp.differ and cmp.gold_only == [(1,)] and cmp.gen_only == [(1, 2)]
    a = Result(columns=["x", "y"], rows=[(1, 2)])
    b = Result(columns=["p", "q"], rows=[(1, 2)])
    assert not compare_results(a, b, "list").differ
    assert compare_results(a, Result(columns=["x", "y"], rows=[(2, 1)]), "bag").differ


def test_run_both_finds_difference_on_sqlite_and_duckdb() -> None:
    for dialect in ("sqlite", "duckdb"):
        gold, gen, cmp = run_both(
            parent_child(dialect),
            ROWS,
            "SELECT count(*) FROM emp",
            "SELECT count(dept_id) FROM emp",
            dialect,
            "bag",
        )
        assert gold.rows == [(3,)] and gen.rows == [(2,)]
        assert cmp.differ and cmp.gold_only == [(3,)] and cmp.gen_only == [(2,)]
