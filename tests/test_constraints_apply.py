"""Compiling constraints into the schema: the CHECK expressions (and their NULL semantics on
SQLite), validation status, name matching, and constraints that cannot apply."""

from __future__ import annotations

import sqlite3

import pytest

from constraints.apply import apply_constraints, apply_report
from constraints.models import (
    Categorical, ConstraintSet, ForeignKey, Format, FunctionalDependency, NotNull, Ordering, PrimaryKey,
    Range, Unique, Validation, ValueSource,
)
from verify.schema_io import schema_from_ddl

DDL = """CREATE TABLE dept (id INTEGER PRIMARY KEY, code TEXT);
CREATE TABLE emp (id INT, name TEXT, flag bool, age INT, hired DATE, left_on DATE, dept INT, zip TEXT);"""


@pytest.fixture
def schema():
    return schema_from_ddl(DDL)


def test_checks_and_schema_fields(schema):
    cs = ConstraintSet(constraints=[
        Range(table="EMP", column="AGE", min=0, max=120),
        Categorical(table="emp", column="name", values=["a", "it's"]),
        Ordering(table="emp", left="hired", right="left_on", text=True),
        Format(table="emp", column="zip", min_length=5, max_length=5, charset="0-9"),
        Format(table="emp", column="hired", pattern="date"),
        NotNull(table="emp", column="age"),
        FunctionalDependency(table="emp", lhs=["zip"], rhs=["dept"]),
        Unique(table="emp", columns=["name"]),
        PrimaryKey(table="emp", columns=["id"]),
        ForeignKey(table="emp", columns=["dept"], ref_table="dept", ref_columns=["id"]),
        ValueSource(table="emp", column="name", values=["Ann", "Bob"]),
    ])
    out, rep = apply_report(schema, cs)
    emp = out.table("emp")
    assert emp.checks == [
        '"age" BETWEEN 0 AND 120',
        "\"name\" IN ('a', 'it''s')",
        '"hired" <= "left_on"',
        'length("zip") = 5',
        "\"zip\" NOT GLOB '*[^0-9]*'",
        "\"hired\" GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'",
    ]
    assert emp.column("age").not_null and not schema.table("emp").column("age").not_null  # a copy
    assert [(f.lhs, f.rhs) for f in emp.functional_dependencies] == [(["zip"], ["dept"])]
    assert emp.unique == [["name"]] and emp.primary_key == ["id"]
    assert emp.foreign_keys[0].ref_table == "dept"
    assert out.sample_values("emp", "name")[:2] == ["Ann", "Bob"]
    assert rep.skipped == []


def test_checks_have_sqlite_check_semantics(schema):
    cs = ConstraintSet(constraints=[Range(table="emp", column="age", min=0, max=120),
                                    Format(table="emp", column="zip", min_length=5, max_length=5, charset="0-9")])
    con = sqlite3.connect(":memory:")
    con.executescript(apply_constraints(schema, cs).ddl())
    con.execute("INSERT INTO emp (id, age, zip) VALUES (1, NULL, NULL)")  # NULL passes
    con.execute("INSERT INTO emp (id, age, zip) VALUES (2, 120, '01234')")
    for age, zip_ in ((121, "01234"), (-1, "01234"), (5, "0123a"), (5, "123456")):
        with pytest.raises(sqlite3.IntegrityError):
            con.execute("INSERT INTO emp (id, age, zip) VALUES (3, ?, ?)", (age, zip_))


def test_validation_status_decides(schema):
    rejected = Range(table="emp", column="age", min=0, max=1, validation=Validation(status="rejected", reason="no"))
    pending = Range(table="emp", column="id", min=0, max=9)
    accepted = NotNull(table="emp", column="name", validation=Validation(status="accepted"))
    cs = ConstraintSet(constraints=[rejected, pending, accepted])
    assert apply_constraints(schema, cs).table("emp").checks == ['"id" BETWEEN 0 AND 9']
    strict, rep = apply_report(schema, cs, include_unvalidated=False)
    assert strict.table("emp").checks == [] and strict.table("emp").column("name").not_null
    assert "range:emp.age: rejected (no)" in rep.skipped and "range:emp.id: not validated" in rep.skipped


def test_constraints_that_cannot_apply_are_skipped_with_reasons(schema):
    cs = ConstraintSet(constraints=[
        Categorical(table="emp", column="flag", values=["F", "T"]),  # bool: NUMERIC, modelled as numbers
        Range(table="emp", column="name", min=0, max=3),
        Format(table="emp", column="age", min_length=1, max_length=3),
        Ordering(table="emp", left="age", right="name"),
        Range(table="nope", column="x", min=0, max=1),
        Range(table="emp", column="nope", min=0, max=1),
        ForeignKey(table="emp", columns=["name"], ref_table="dept", ref_columns=["code"]),
        PrimaryKey(table="dept", columns=["code"]),
    ])
    out, rep = apply_report(schema, cs)
    assert out.table("emp").checks == [] and out.table("emp").foreign_keys == []
    assert out.table("dept").primary_key == ["id"]
    reasons = [s.split(": ", 1)[1] for s in rep.skipped]
    assert reasons[0] == "values of another type than 'flag' is modelled with (numbers)"
    assert reasons[1].startswith("numeric range on 'name'") and reasons[2].startswith("text format on 'age'")
    assert reasons[3] == "ordering between a text and a numeric column"
    assert reasons[4] == "no table 'nope' in the schema" and "no column 'nope'" in reasons[5]
    assert reasons[6] == "referenced columns are not the parent's primary key or UNIQUE"
    assert reasons[7] == "the table already has primary key (id)"
