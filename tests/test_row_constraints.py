"""Row constraints (CHECK expressions) and functional dependencies in the schema: the solver
respects them, the engine enforces them on every database it builds, and a constraint the
verifier cannot model makes the pair `unsupported` rather than being dropped."""

import pytest

from verify import check_pair
from verify.engine import EngineError, materialize
from verify.schema import FunctionalDependency, Schema
from verify.schema_io import schema_from_ddl

DDL = "CREATE TABLE p (id INTEGER PRIMARY KEY, age INTEGER, city TEXT, zip TEXT NOT NULL);"


def with_table(schema: Schema, **update) -> Schema:
    return schema.model_copy(update={"tables": [schema.tables[0].model_copy(update=update)]})


def test_range_check_turns_an_unrealistic_difference_into_equivalence():
    s = schema_from_ddl(DDL)
    g, n = "SELECT id FROM p WHERE age > 200", "SELECT id FROM p WHERE 0 = 1"
    unconstrained = check_pair(g, n, schema=s)
    assert unconstrained.verdict.value == "not_equivalent"
    assert any(r[1] > 200 for r in unconstrained.counterexample.tables["p"].rows)
    constrained = check_pair(g, n, schema=with_table(s, checks=["age BETWEEN 0 AND 120"]))
    assert constrained.verdict.value == "equivalent" and constrained.bound == 4


def test_counterexamples_satisfy_the_checks():
    s = with_table(schema_from_ddl(DDL), checks=["age BETWEEN 0 AND 120", "length(zip) = 5"])
    v = check_pair("SELECT id FROM p WHERE age > 60", "SELECT id FROM p WHERE age >= 60", schema=s)
    assert v.verdict.value == "not_equivalent"
    for row in v.counterexample.tables["p"].rows:
        assert row[1] is None or 0 <= row[1] <= 120
        assert len(row[3]) == 5


def test_functional_dependency_makes_group_by_equal_to_distinct():
    g, n = "SELECT DISTINCT zip, city FROM p", "SELECT zip, MAX(city) FROM p GROUP BY zip"
    s = schema_from_ddl(DDL)
    assert check_pair(g, n, schema=s, semantics="set").verdict.value == "not_equivalent"
    fd = FunctionalDependency(lhs=["zip"], rhs=["city"])
    v = check_pair(g, n, schema=with_table(s, functional_dependencies=[fd]), semantics="set")
    assert v.verdict.value == "equivalent" and v.bound == 4


def test_engine_rejects_databases_that_break_a_dependency_or_check():
    fd = FunctionalDependency(lhs=["zip"], rhs=["city"])
    s = with_table(schema_from_ddl(DDL), functional_dependencies=[fd], checks=["age >= 0"])
    for dialect in ("sqlite", "duckdb"):
        materialize(s, {"p": [[1, 3, "a", "z"], [2, None, "a", "z"]]}, dialect).close()
        with pytest.raises(EngineError, match="functional dependency"):
            materialize(s, {"p": [[1, 3, "a", "z"], [2, 4, "b", "z"]]}, dialect)
        with pytest.raises(EngineError):
            materialize(s, {"p": [[1, -3, "a", "z"]]}, dialect)


def test_a_constraint_the_verifier_cannot_model_is_named_as_unsupported():
    s = with_table(schema_from_ddl(DDL), checks=["frobnicate(age)"])
    v = check_pair("SELECT id FROM p", "SELECT id FROM p WHERE age > 1", schema=s)
    assert v.verdict.value == "unsupported"
    assert "CHECK (frobnicate(age))" in v.reason


def test_constraints_that_admit_no_row_are_flagged():
    s = with_table(schema_from_ddl(DDL), checks=["age > 10", "age < 5"])
    s.tables[0].columns[1].not_null = True
    v = check_pair("SELECT id FROM p", "SELECT id FROM p WHERE age > 100", schema=s)
    assert v.verdict.value == "equivalent"
    assert any("admit no row in table p" in a for a in v.assumptions)
    fine = check_pair("SELECT id FROM p", "SELECT id FROM p WHERE age > 100",
                      schema=with_table(schema_from_ddl(DDL), checks=["age BETWEEN 0 AND 120"]))
    assert not any("admit no row" in a for a in fine.assumptions)
