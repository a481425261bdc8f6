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


# ------------------------------------------------------------------ databases in one DuckDB instance
def attached() -> set[str]:
    from verify.engine import _duckdb_home

    return {r[0] for r in _duckdb_home().execute("SELECT database_name FROM duckdb_databases()").fetchall()}


def test_duckdb_databases_are_separate_and_closing_one_frees_it() -> None:
    from verify.engine import DuckDBDatabase

    before = attached()
    a, b = materialize(parent_child("duckdb"), ROWS, "duckdb"), materialize(parent_child("duckdb"), {}, "duckdb")
    assert isinstance(a, DuckDBDatabase) and len(attached() - before) == 2
    assert run_query(a, "SELECT count(*) FROM emp", "duckdb").rows == [(3,)]
    assert run_query(b, "SELECT count(*) FROM emp", "duckdb").rows == [(0,)]  # its own tables
    assert run_query(a, "SELECT current_setting('TimeZone')", "duckdb").rows == [("UTC",)]
    a.close()
    a.close()  # again: nothing
    assert len(attached() - before) == 1
    with pytest.raises(EngineError, match="closed"):
        a.execute("SELECT 1")
    b.close()
    assert not attached() - before  # (one an earlier test left may be freed meanwhile)


def test_a_rejected_duckdb_database_is_detached() -> None:
    before = attached()
    for rows in ({"dept": [[1, "a"], [1, "b"]]}, {"dept": [[1, "a"]], "emp": [[10, 99, 1.0]]}):
        with pytest.raises(EngineError):
            materialize(parent_child("duckdb"), rows, "duckdb")
    assert not attached() - before  # (one an earlier test left may be freed meanwhile)


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb"])
def test_the_empty_database_is_shared_per_schema_and_no_query_changes_it(dialect: str) -> None:
    from verify import engine

    schema = parent_child(dialect)
    conn = engine.empty_database(schema, dialect)
    assert engine.empty_database(schema, dialect) is conn
    assert engine.empty_database(Schema(tables=schema.tables[:1]), dialect) is not conn  # other tables
    for write in ("INSERT INTO emp VALUES (1, NULL, 1.0)", "DELETE FROM emp", "DROP TABLE emp",
                  "CREATE TABLE x (a INT)"):
        with pytest.raises(EngineError):
            run_query(conn, write, dialect)
    assert run_query(conn, "SELECT count(*) FROM emp", dialect).rows == [(0,)]
    assert run_query(conn, "SELECT count(*) FROM dept", dialect).rows == [(0,)]


def test_a_pairs_queries_run_on_the_empty_database_of_the_whole_schema(monkeypatch) -> None:
    """One empty database serves every pair over a schema, whatever tables each pair reads; a
    schema the engine cannot make in full falls back to the tables the pair reads."""
    from verify import engine
    from verify.check import check_pair
    from verify.schema_io import schema_from_ddl
    from verify.verdict import VerdictKind

    asked: list[list[str]] = []
    empty_database = engine.empty_database

    def recorded(schema, dialect="sqlite"):
        asked.append([t.name for t in schema.tables])
        return empty_database(schema, dialect)
    monkeypatch.setattr(engine, "empty_database", recorded)
    whole = schema_from_ddl("CREATE TABLE wt (a INT); CREATE TABLE wu (b INT);", dialect="duckdb")
    for gold, gen in (("SELECT a FROM wt", "SELECT a FROM wt WHERE a = a"), ("SELECT b FROM wu", "SELECT b + 0 FROM wu")):
        v = check_pair(gold, gen, schema=whole, dialect="duckdb", bound=1)
        assert v.verdict != VerdictKind.ERROR, v.reason
    assert asked == [["wt", "wu"], ["wt", "wu"]]
    asked.clear()
    # DuckDB has no RANDOMBLOB: the table with that CHECK cannot be made, the pair's table can
    partly = schema_from_ddl("CREATE TABLE bad (a INT CHECK (randomblob(2) IS NOT NULL)); CREATE TABLE ok (b INT);",
                             dialect="duckdb")
    v = check_pair("SELECT b FROM ok", "SELECT b FROM ok WHERE b = b", schema=partly, dialect="duckdb", bound=1)
    assert v.verdict != VerdictKind.ERROR, v.reason
    assert asked == [["bad", "ok"], ["ok"]]


def test_the_least_recently_used_empty_databases_are_closed_beyond_the_kept_number() -> None:
    from verify import engine

    schemas = [Schema(tables=[Table(name=f"t{i}", columns=[col("a", "int")])]) for i in range(engine.EMPTY_DATABASES_KEPT + 2)]
    first = engine.empty_database(schemas[0], "duckdb")
    second = engine.empty_database(schemas[1], "duckdb")
    for s in schemas[2:]:
        engine.empty_database(schemas[0], "duckdb")  # the first stays in use
        engine.empty_database(s, "duckdb")
    assert engine.empty_database(schemas[0], "duckdb") is first
    with pytest.raises(EngineError, match="closed"):
        second.execute("SELECT 1")
    assert engine.empty_database(schemas[1], "duckdb") is not second  # opened again


_FORKED_USE = """
import os, threading
from verify.engine import materialize, run_query
from verify.schema_io import schema_from_ddl
schema = schema_from_ddl("CREATE TABLE dept (id INT PRIMARY KEY, name TEXT);", dialect="duckdb")
conn = materialize(schema, {"dept": [[1, "a"], [2, "b"]]}, "duckdb")
run_query(conn, "SELECT 1", "duckdb")
for t in threading.enumerate():  # run_query's time-limit timer, cancelled, ends
    if t is not threading.main_thread():
        t.join(timeout=10)
threads = len(os.listdir("/proc/self/task"))
pid = os.fork()
if pid == 0:
    ok = run_query(conn, "SELECT count(*) FROM dept", "duckdb").rows == [(2,)]
    fresh = materialize(schema, {"dept": [[7, "z"]]}, "duckdb")
    ok = ok and run_query(fresh, "SELECT name FROM dept", "duckdb").rows == [("z",)]
    os._exit(0 if ok else 1)
_, status = os.waitpid(pid, 0)
print(threads, os.WIFEXITED(status) and os.WEXITSTATUS(status))
"""


def test_a_forked_process_uses_the_duckdb_databases_of_its_parent() -> None:
    """The benchmarks fork each task from a worker that holds the verifier's DuckDB instance:
    it runs no thread of its own (the process has one thread), so the child gets it whole and
    runs its queries there. In a process of its own: the test runner's may run threads."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", _FORKED_USE], cwd=root, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "0"]  # one thread; the child's queries gave the rows


def test_duckdb_constants_are_folded_in_utc_and_kept() -> None:
    from verify.engine import duckdb_constant, duckdb_date

    assert duckdb_date("1998-12-01") == datetime.date(1998, 12, 1)
    assert duckdb_constant("CAST('1998-12-01' AS DATE) - INTERVAL 61 DAY") == datetime.datetime(1998, 10, 1)
    assert duckdb_constant("current_setting('TimeZone')") == "UTC"
    hits = duckdb_constant.cache_info().hits
    duckdb_date("1998-12-01")
    assert duckdb_constant.cache_info().hits == hits + 1
    with pytest.raises(EngineError, match="(?i)conversion|date"):
        duckdb_date("1998-13-45")
