"""How a verdict was reached: `Verdict.proof` for every path of `check_pair`, and
`verify pair --explain` / `--json`, which show it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import verify.check as check_module
from verify.budget import DEFAULT, Budget
from verify.check import check_pair
from sqlwitness_cli import app
from verify.schema_io import schema_from_ddl
from verify.verdict import Verdict, VerdictKind

DDL = "CREATE TABLE t (a INTEGER, b INTEGER); CREATE TABLE u (id INTEGER PRIMARY KEY, x TEXT NOT NULL);"
SCHEMA = schema_from_ddl(DDL)
ENV = {"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "NO_COLOR": "1", "COLUMNS": "120"}


def check(gold: str, gen: str, **kw) -> Verdict:
    kw.setdefault("timeout", 20)
    kw.setdefault("bound", 3)
    return check_pair(gold, gen, schema=SCHEMA, **kw)


def rows_in(v: Verdict) -> int:
    assert v.counterexample is not None
    return sum(len(t.rows) for t in v.counterexample.tables.values())


@pytest.mark.parametrize("gold, gen, method", [
    ("SELECT a FROM t", "select  a  from t", "identical"),
    ("SELECT t.a FROM t", "SELECT x.a FROM t AS x", "same_plan"),
])
def test_a_shortcut_names_itself(gold, gen, method):
    v = check(gold, gen)
    assert v.verdict == VerdictKind.EQUIVALENT and v.complete
    assert v.proof is not None and v.proof.method == method
    assert v.proof.bounds == [] and v.stats.smt_calls == 0


def test_a_row_wise_proof_lists_the_rules_that_fired_and_where_the_plans_met():
    ddl = ("CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
           "CREATE TABLE q (qid INTEGER PRIMARY KEY, pid INTEGER REFERENCES p(id), v INTEGER);")
    v = check_pair("SELECT p.name FROM p LEFT JOIN q ON p.id = q.pid WHERE q.v = 1",
                   "SELECT p.name FROM q JOIN p ON q.pid = p.id WHERE q.v = 1", schema=schema_from_ddl(ddl))
    assert v.verdict == VerdictKind.EQUIVALENT and v.complete and v.proof.method == "row_wise"
    steps = v.proof.steps
    # the WHERE on the padded side makes the gold's LEFT JOIN inner (verify.rules), printed as a plan
    assert steps[0] == "gold: filtered_outer_join_narrowed gives"
    assert any("Join inner ON id = pid" in s for s in steps[1:5])
    assert not any(s.startswith("generated:") for s in steps)  # no rule fired on the generated side
    assert steps[-1].startswith("proved: one select-project-join block on each side")


def test_a_rule_that_rewrote_a_subquery_says_so_and_shows_the_subquery():
    """Subqueries are rewritten first, as plans of their own (`verify.rules.plan_rewritten`): the
    trace labels those steps, so the plan shown is not taken for the whole query's."""
    v = check_pair("SELECT a FROM t WHERE a IN (SELECT b FROM t WHERE b IN (SELECT a FROM t))",
                   "SELECT a FROM t WHERE a IN (SELECT b FROM t WHERE EXISTS (SELECT 1 FROM t AS u WHERE u.a = t.b))",
                   schema=schema_from_ddl("CREATE TABLE t (a INTEGER, b INTEGER);"))
    assert v.verdict == VerdictKind.EQUIVALENT and v.complete and v.proof.method == "row_wise"
    fired = [s for s in v.proof.steps if s.endswith(" gives")]
    assert fired[:2] == ["gold: semi_join_conjunct_as_join (in a subquery) gives",
                         "gold: semi_join_conjunct_as_join gives"], fired
    sub = v.proof.steps.index(fired[0])
    assert v.proof.steps[sub + 1] == "    Project b"  # the subquery's plan, not the query's (Project a)
    assert "generated: correlation_as_in_columns (in a subquery) gives" in fired


def test_a_failed_row_wise_attempt_is_listed_as_tried():
    v = check("SELECT COUNT(*) FROM t", "SELECT COUNT(a) FROM t")
    assert v.verdict == VerdictKind.NOT_EQUIVALENT
    assert any(t.startswith("row-wise proof") for t in v.proof.tried)


@pytest.mark.parametrize("bound, bounds", [(3, [1, 2, 3]), (4, [1, 2, 3, 4])])
def test_a_bounded_smt_proof_lists_the_bounds_it_proved(bound, bounds):
    v = check("SELECT a FROM t WHERE a > 1 AND b < 2", "SELECT a FROM t WHERE b < 2 AND NOT a <= 1",
              bound=bound, shortcuts=False)
    assert v.verdict == VerdictKind.EQUIVALENT and not v.complete and v.bound == bound
    assert v.proof.method == "smt" and v.proof.bounds == bounds and v.proof.stopped is None
    assert f"at most {bound} rows" in v.proof.summary
    assert any(t.startswith("random pass:") for t in v.proof.tried)


def test_no_table_read_is_decided_at_k_0():
    v = check("SELECT 1", "SELECT 1 + 0")
    assert v.verdict == VerdictKind.EQUIVALENT and v.bound == 0
    assert v.proof.method == "no_tables" and v.proof.bounds == [0]


def test_a_random_refutation_says_how_many_databases_and_what_the_minimizer_removed():
    v = check("SELECT COUNT(*) FROM t", "SELECT COUNT(a) FROM t")
    assert v.verdict == VerdictKind.NOT_EQUIVALENT and v.counterexample.found_by == "random"
    p = v.proof
    assert p.method == "random" and p.k is None
    assert p.databases == v.stats.random_databases >= 1
    assert f"after {p.databases} database" in p.summary
    assert p.minimized is not None and p.minimized.rows_after == rows_in(v) <= p.minimized.rows_before
    assert p.minimized.cells_after == 2 * rows_in(v)  # t has two columns


def test_without_minimizing_nothing_is_said_removed():
    v = check("SELECT COUNT(*) FROM t", "SELECT COUNT(a) FROM t", minimize_result=False)
    assert v.verdict == VerdictKind.NOT_EQUIVALENT and v.proof.minimized is None


@pytest.mark.parametrize("gold, gen, k, bounds", [
    ("SELECT COUNT(*) FROM t", "SELECT COUNT(a) FROM t", 1, []),
    ("SELECT a FROM t", "SELECT DISTINCT a FROM t", 2, [1]),  # two equal rows are needed
])
def test_an_smt_refutation_names_its_bound_and_the_bounds_proved_before(gold, gen, k, bounds):
    v = check(gold, gen, budget=DEFAULT.without_random())
    assert v.verdict == VerdictKind.NOT_EQUIVALENT and v.counterexample.found_by == "smt"
    assert v.proof.method == "smt" and v.proof.k == k == v.bound and v.proof.bounds == bounds
    assert f"at k={k}" in v.proof.summary
    assert v.proof.databases is None


def test_a_refutation_by_the_random_pass_after_the_solver_says_why_the_solver_stopped(monkeypatch):
    monkeypatch.setattr(check_module, "_smt_at", lambda *a, **kw: check_module._SmtResult(
        "unknown", assumptions=[], reason="solver gave up at k=1"))
    # only the pass after the solver runs
    v = check("SELECT COUNT(*) FROM t", "SELECT COUNT(a) FROM t", budget=Budget(random_first=0, random_reserve=300))
    assert v.verdict == VerdictKind.NOT_EQUIVALENT and v.counterexample.found_by == "random"
    p = v.proof
    assert p.method == "random" and "after the SMT search stopped" in p.summary
    assert p.stopped == "solver gave up at k=1" and p.bounds == [] and p.databases == v.stats.random_databases


def test_the_width_check_names_itself():
    v = check("SELECT a FROM t", "SELECT a, b FROM t")
    assert v.verdict == VerdictKind.NOT_EQUIVALENT
    assert v.proof.method == "width" and "1 and 2 columns" in v.proof.summary


def test_a_hint_refutation_names_the_hint():
    v = check("SELECT COUNT(*) FROM t", "SELECT COUNT(a) FROM t", hints=[{"t": [[None, 1]]}])
    assert v.verdict == VerdictKind.NOT_EQUIVALENT and v.proof.method == "hint"


def test_unknown_says_what_was_tried_and_why_it_stopped(monkeypatch):
    monkeypatch.setattr(check_module, "_smt_at", lambda *a, **kw: check_module._SmtResult(
        "unknown", assumptions=[], reason="solver gave up at k=1"))
    v = check("SELECT a FROM t", "SELECT a FROM t WHERE 1", budget=Budget(random_first=5, random_reserve=20),
              shortcuts=False)
    assert v.verdict == VerdictKind.UNKNOWN
    p = v.proof
    assert p.method == "undecided" and p.stopped == "solver gave up at k=1" and p.bounds == []
    assert [t.split(":")[0] for t in p.tried] == ["random pass", "random pass after the SMT search"]


def test_nondeterministic_names_the_search_that_found_the_witness_and_what_was_tried():
    v = check("SELECT a FROM t LIMIT 1", "SELECT a FROM t ORDER BY a LIMIT 1", timeout=10)
    assert v.verdict == VerdictKind.NONDETERMINISTIC and v.counterexample.order_dependent
    p = v.proof
    assert p.method == v.counterexample.found_by and p.method in ("random", "smt")
    assert "order SQLite leaves open" in p.summary
    assert p.tried and p.tried[0].startswith("row-wise proof")


def test_unsupported_says_the_random_pass_ran():
    v = check("SELECT printf('%d', a) FROM t", "SELECT printf('%d', a) FROM t WHERE 1")
    assert v.verdict == VerdictKind.UNSUPPORTED
    assert v.proof.method == "undecided" and v.proof.stopped == v.reason
    assert v.proof.tried and v.proof.tried[0].startswith("random pass:")


def test_errors_carry_no_proof_and_old_json_still_loads():
    assert check("SELECT nope FROM t", "SELECT a FROM t").proof is None
    old = json.loads(check("SELECT a FROM t", "SELECT a FROM t").model_dump_json())
    del old["proof"]
    assert Verdict.model_validate(old).proof is None


# ----------------------------------------------------------------------------- the CLI


@pytest.fixture
def pair(tmp_path: Path):
    (tmp_path / "schema.sql").write_text(DDL)

    def run(gold: str, gen: str, *extra: str):
        (tmp_path / "gold.sql").write_text(gold)
        (tmp_path / "gen.sql").write_text(gen)
        return CliRunner().invoke(app, ["pair", str(tmp_path / "gold.sql"), str(tmp_path / "gen.sql"),
                                        "--schema", str(tmp_path / "schema.sql"), "--timeout", "10", *extra],
                                  env=ENV)
    return run


def test_explain_prints_the_bounds_of_a_bounded_proof(pair):
    r = pair("SELECT COUNT(a) FROM t", "SELECT COUNT(*) FROM t WHERE a IS NOT NULL", "-k", "3", "--explain")
    assert r.exit_code == 0, r.output
    how = r.output[r.output.index("How: "):]
    assert "the SMT solver proved that no database with at most 3 rows per table" in how
    assert "bounds proved: k = 1, 2, 3" in how


def test_explain_prints_the_search_and_the_minimization_of_a_refutation(pair):
    r = pair("SELECT COUNT(*) FROM t", "SELECT COUNT(a) FROM t", "--explain")
    assert r.exit_code == 1, r.output
    how = r.output[r.output.index("How: "):]
    assert "found by the random pass after" in how and "minimized: " in how


def test_without_explain_no_proof_is_printed_and_json_always_has_it(pair):
    r = pair("SELECT a FROM t", "SELECT a FROM t")
    assert r.exit_code == 0 and "How: " not in r.output
    r = pair("SELECT a FROM t", "SELECT a FROM t", "--json")
    assert json.loads(r.output)["proof"]["method"] == "identical"


def test_explain_prints_the_rules_of_a_row_wise_proof_as_plans(pair):
    # a filter on the right side of a RIGHT JOIN's padded side: the rules turn it into an inner join
    r = pair("SELECT u.x FROM t RIGHT JOIN u ON t.a = u.id WHERE t.b = 1",
             "SELECT u.x FROM u JOIN t ON u.id = t.a WHERE t.b = 1", "--explain")
    assert r.exit_code == 0, r.output
    how = r.output[r.output.index("How: "):]
    lines = how.splitlines()
    assert "  steps:" in lines
    fired = [ln.strip() for ln in lines if ln.strip().startswith("gold: ")]
    assert fired and fired[0].endswith(" gives"), how
    assert any(ln.strip().startswith("Join inner ON") for ln in lines), how  # the plan, one operator a line
    assert lines[-1].strip().startswith("proved: ")
