"""Tests for verify.minimize: constraint checks and counterexample shrinking."""

from __future__ import annotations

from typing import Any

from verify.engine import EngineError, run_both
from verify.minimize import constraint_violation, minimize, satisfies_constraints
from verify.schema import Column, ForeignKey, Schema, Table, affinity_of


def col(name: str, type_: str, not_null: bool = False) -> Column:
    return Column(name=name, type=type_, affinity=affinity_of(type_), not_null=not_null)


SCHEMA = Schema(
    tables=[
        Table(
            name="Dept",
            columns=[col("id", "int"), col("name", "text", not_null=True)],
            primary_key=["id"],
            unique=[["name"]],
        ),
        Table(
            name="emp",
            columns=[col("eid", "int"), col("dept_id", "int"), col("x", "int")],
            primary_key=["eid"],
            foreign_keys=[ForeignKey(columns=["dept_id"], ref_table="dept", ref_columns=["id"])],
        ),
    ]
)


def differs(gold: str, gen: str):
    calls: list[dict[str, list[list[Any]]]] = []

    def still_differs(db: dict[str, list[list[Any]]]) -> bool:
        calls.append(db)
        try:
            return run_both(SCHEMA, db, gold, gen, "sqlite", "bag")[2].differ
        except EngineError:
            return False

    return still_differs, calls


def test_satisfies_constraints() -> None:
    ok = {"dept": [[1, "a"], [2, "b"]], "EMP": [[1, 1, None], [2, None, 3]]}
    assert satisfies_constraints(SCHEMA, ok)
    assert satisfies_constraints(SCHEMA, {})
    bad = {
        "pk clash": {"dept": [[1, "a"], [1, "b"]]},
        "pk null": {"dept": [[None, "a"]]},
        "not null": {"dept": [[1, None]]},
        "unique": {"dept": [[1, "a"], [2, "a"]]},
        "dangling fk": {"dept": [[1, "a"]], "emp": [[1, 2, 0]]},
        "width": {"dept": [[1]]},
        "unknown table": {"nope": []},
    }
    for why, db in bad.items():
        assert constraint_violation(SCHEMA, db) is not None, why
    # NULLs never clash under UNIQUE
    schema = Schema(tables=[Table(name="t", columns=[col("a", "int")], unique=[["a"]])])
    assert satisfies_constraints(schema, {"t": [[None], [None]]})


def test_minimize_count_star_vs_count_column_to_one_null_row() -> None:
    still_differs, _ = differs("SELECT count(*) FROM emp", "SELECT count(x) FROM emp")
    db = {
        "dept": [[10, "sales"], [20, "hr"]],
        "emp": [[7, 10, 5], [8, None, None], [9, 20, None], [11, 10, 42]],
    }
    small = minimize(SCHEMA, db, still_differs)
    assert small == {"dept": [], "emp": [[0, None, None]]}
    assert still_differs(small)
    assert db["emp"][0] == [7, 10, 5]  # input not mutated


def test_minimize_keeps_parents_needed_by_join_and_respects_fk() -> None:
    gold = "SELECT e.eid FROM emp e JOIN dept d ON e.dept_id = d.id"
    gen = "SELECT e.eid FROM emp e"
    still_differs, calls = differs(gold, gen)
    db = {
        "dept": [[10, "sales"], [20, "hr"]],
        "emp": [[7, 10, 5], [8, None, 1], [9, 20, 2], [11, 10, 42]],
    }
    small = minimize(SCHEMA, db, still_differs)
    assert satisfies_constraints(SCHEMA, small) and still_differs(small)
    # one employee without a department is all it takes
    assert small["dept"] == [] and len(small["emp"]) == 1 and small["emp"][0][1] is None
    assert small["emp"][0] == [0, None, 0]
    assert all(satisfies_constraints(SCHEMA, c) for c in calls)


def test_minimize_prefers_given_text_values_and_short_letters() -> None:
    gold = "SELECT name FROM dept WHERE name <> 'zz'"
    gen = "SELECT name FROM dept"
    still_differs, _ = differs(gold, gen)
    db = {"dept": [[5, "Quarterly Sales"], [6, "zz"], [7, "hr"]], "emp": []}
    small = minimize(SCHEMA, db, still_differs)
    assert small["dept"] == [[0, "zz"]]  # 'zz' matters, so it stays
    small = minimize(
        SCHEMA,
        {"dept": [[5, "Quarterly Sales"], [6, "other"]], "emp": []},
        differs("SELECT id FROM dept WHERE id > 5", "SELECT id FROM dept WHERE id >= 5")[0],
        preferred_values={("dept", "name"): ["Sales"]},
    )
    # id 5 is the boundary the queries disagree on, so no smaller number will do
    assert small == {"dept": [[5, "Sales"]], "emp": []}


def test_minimize_returns_input_unchanged_when_it_does_not_differ() -> None:
    db = {"dept": [[1, "a"]], "emp": []}
    assert minimize(SCHEMA, db, lambda _: False) is db


def test_minimize_stops_at_budget_but_still_differs() -> None:
    still_differs, _ = differs("SELECT count(*) FROM emp", "SELECT count(x) FROM emp")
    db = {"dept": [], "emp": [[i, None, None if i == 3 else i] for i in range(6)]}
    small = minimize(SCHEMA, db, still_differs, max_runs=1)
    assert small == db  # the first run (does it differ at all?) was the whole budget
    assert still_differs(small)


def test_minimize_counts_engine_runs() -> None:
    """The minimizer calls `still_differs` at most `max_runs` times, and the same budget gives the
    same database (a count of runs, not seconds)."""
    still_differs, _ = differs("SELECT count(*) FROM emp", "SELECT count(x) FROM emp")
    calls = []

    def counted(db):
        calls.append(1)
        return still_differs(db)

    db = {"dept": [], "emp": [[i, None, None if i == 3 else i] for i in range(6)]}
    first = minimize(SCHEMA, db, counted, max_runs=4)
    assert len(calls) == 4
    assert minimize(SCHEMA, db, still_differs, max_runs=4) == first
    assert minimize(SCHEMA, db, still_differs, deadline=0.0) == db  # the safety stop: past it at once


def test_values_of_a_date_column_stay_dates() -> None:
    """A SQLite column declared DATE is modelled as holding date text: simplifying its value
    gives a simpler date, never '' or a number (the counterexample stays inside the model)."""
    s = Schema(tables=[Table(name="ev", columns=[col("id", "int"), col("day", "date")])])
    out = minimize(s, {"ev": [[7, "2013-05-07 10:11:12"]]}, lambda db: bool(db["ev"]))
    (eid, day), = out["ev"]
    assert eid == 0 and day == "2000-01-01"
