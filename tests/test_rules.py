"""The rewrite rules of `verify.rules`, each against its fixture file `tests/rules/<name>.txt`, and
the comparison steps of `verify.rowwise.COMPARISONS`, each on pairs where it applies and near
misses where it does not.

A fixture file holds the DDL of a small schema, then cases: `## title`, one SQL query, `->`, and
the plan printed (`verify.plan_text.show`) after the rule alone is applied once at each operator,
bottom-up (`verify.rules.apply_once`), or `Noop` where the rule must not fire anywhere. A rule
that stops firing, or fires where it must not, fails its case.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

from verify.cli import rules_text
from verify.plan_text import show
from verify.rowwise import COMPARISONS, SKIP, prove_for_every_size
from verify.rules import BY_NAME, DEMO_DDL, RULES, apply_once, describe, level_rewritten, lowered, plan_rewritten
from verify.schema_io import schema_from_ddl

FIXTURES = Path(__file__).parent / "rules"


def parse_fixture(text: str) -> tuple[str, list[tuple[str, str, str]]]:
    """The DDL and the (title, sql, expected) cases of a fixture file."""
    head, *blocks = text.split("\n## ")
    cases = []
    for block in blocks:
        title, rest = block.split("\n", 1)
        sql, expected = rest.split("\n->\n", 1)
        cases.append((title.strip(), sql.strip(), expected.strip()))
    return head, cases


def fixture_cases():
    for path in sorted(FIXTURES.glob("*.txt")):
        ddl, cases = parse_fixture(path.read_text())
        for title, sql, expected in cases:
            yield pytest.param(path.stem, ddl, sql, expected, id=f"{path.stem}: {title}")


def rules_first(ddl: str) -> list[str]:
    """The rules a fixture file's header line `-- first: a, b` names: they rewrite each query
    before the rule under test (a level rule's input may be a form only another rule makes,
    e.g. two filters in a row)."""
    for line in ddl.splitlines():
        if line.startswith("-- first:"):
            return [n.strip() for n in line.removeprefix("-- first:").split(",")]
    return []


@pytest.mark.parametrize("name, ddl, sql, expected", fixture_cases())
def test_rule_fixture(name, ddl, sql, expected):
    rel, ctx = lowered(sql, ddl)
    for first in rules_first(ddl):
        rel = apply_once(BY_NAME[first], rel, ctx)
    after = apply_once(BY_NAME[name], rel, ctx)
    assert ("Noop" if after is rel else show(after)) == expected


def test_every_rule_has_a_fixture_file_with_firing_cases_and_near_misses():
    files = {p.stem for p in FIXTURES.glob("*.txt")}
    assert files == set(BY_NAME), (sorted(files - set(BY_NAME)), sorted(set(BY_NAME) - files))
    for name in BY_NAME:
        _, cases = parse_fixture((FIXTURES / f"{name}.txt").read_text())
        noops = sum(expected == "Noop" for _, _, expected in cases)
        assert noops >= 2 and len(cases) - noops >= 2, name


def test_every_rule_has_a_one_line_doc_and_a_doctest():
    assert len({r.name for r in RULES}) == len(RULES)
    for rule in RULES:
        assert rule.doc and rule.doc.endswith("."), rule.name
        tests = doctest.DocTestFinder().find(rule.fn, module=importlib.import_module(rule.fn.__module__))
        assert any(t.examples and t.name.endswith(rule.fn.__name__) for t in tests), rule.name
    assert [name for name, _ in describe()] == [r.name for r in RULES]


def test_the_plan_rules_run_in_order_each_over_the_whole_plan():
    # the join removed first leaves one table grouped by its key: each group is one row
    rel, ctx = lowered("SELECT p.id, p.name, COUNT(*) AS n FROM p LEFT JOIN p AS r ON p.g = r.id GROUP BY p.id, p.name",
                       DEMO_DDL)
    fired: list[str] = []
    after = plan_rewritten(rel, ctx, lambda name, _: fired.append(name))
    assert fired == ["unused_left_join_removed", "grouped_by_key"]
    assert show(after) == ("Project _key0 AS id, _key1 AS name, _agg0 AS n\n"
                           "  Project id AS _key0, name AS _key1, 1 AS _agg0\n"
                           "    Scan p(id, name, g)")


def test_a_level_rule_rewrites_its_inputs_first_and_its_result_again():
    # the filtered FULL join is a filter over a LEFT join (a projection of it, from a RIGHT join);
    # the filter moves below the projection, then below the join, and the projections merge
    rel, ctx = lowered("SELECT * FROM t FULL JOIN q ON t.a = q.pid WHERE q.v = 1", DEMO_DDL)
    fired: list[str] = []
    after = level_rewritten(rel, ctx, lambda name, _: fired.append(name))
    assert fired == ["filtered_full_join_as_right", "filter_below_project", "filter_before_left_join",
                     "projections_merged"]
    assert show(after) == ("Project a, b, qid, pid, v\n"
                           "  Join left ON a = pid\n"
                           "    Filter v = 1\n"
                           "      Scan q(qid, pid, v)\n"
                           "    Scan t(a, b)")


def test_the_proof_trace_names_the_rules_and_where_the_plans_met():
    schema = schema_from_ddl(DEMO_DDL)
    gold, gen = (lowered(sql, DEMO_DDL)[0] for sql in (
        "SELECT DISTINCT t.a FROM t LEFT JOIN q ON t.a = q.pid WHERE q.v = 1",
        "SELECT DISTINCT q.pid FROM q JOIN t ON q.pid = t.a WHERE q.v = 1"))
    trace: list[str] = []
    assert prove_for_every_size(gold, gen, schema, "sqlite", trace) == (True, [])
    assert trace == [  # the DISTINCT's input is rewritten at its level, before the two are compared
        "gold: filtered_outer_join_narrowed gives",
        "    Filter v = 1",
        "      Join inner ON a = pid",
        "        Scan t(a, b)",
        "        Scan q(qid, pid, v)",
        "the same operator on both sides, inputs compared: Distinct / Distinct",
        "the plans meet as select-project-join blocks: Project a / Project pid",
        "proved: one select-project-join block on each side, compared on one symbolic tuple per table: "
        "same pass condition and output (Z3 unsat)",
    ]
    trace.clear()
    assert prove_for_every_size(gold, lowered("SELECT DISTINCT q.v FROM q", DEMO_DDL)[0], schema, "sqlite",
                                trace) == (False, [])
    assert trace[-1].startswith("not proved: one select-project-join block on each side")


def test_a_rule_firing_on_one_side_only_does_not_block_a_proof_without_it():
    """Spider q751 (RESDSQL_NatSQL_3B): the parent join is left out on the side that reads only
    the parent's key, kept on the side that reads another parent column, so the plans no longer
    meet; without `parent_join_removed` they do (`count_of_never_null` still fires)."""
    ddl = ("CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT {}); "
           "CREATE TABLE r (rid INTEGER PRIMARY KEY, pid INTEGER NOT NULL REFERENCES p(id));")
    for not_null in (True, False):  # near miss: a nullable name, whose NULLs COUNT(p.name) skips
        text = ddl.format("NOT NULL" if not_null else "")
        gold, gen = (lowered(sql, text)[0] for sql in ("SELECT COUNT(p.name) FROM p JOIN r ON p.id = r.pid",
                                                       "SELECT COUNT(*) FROM r JOIN p ON r.pid = p.id"))
        trace: list[str] = []
        assert prove_for_every_size(gold, gen, schema_from_ddl(text), "sqlite", trace)[0] == not_null
        assert "again without the plan rules that fired on one side only: parent_join_removed" in trace


# (step, gold, generated, the path of inputs to the level compared, whether the step applies there)
COMPARISON_CASES = [
    ("columns_differ", "SELECT a FROM t", "SELECT a, b FROM t", (), True),
    ("columns_differ", "SELECT a FROM t", "SELECT b FROM t", (), False),
    ("same_plan", "SELECT a FROM t", "SELECT x.a FROM t AS x", (), True),
    ("same_plan", "SELECT a FROM t", "SELECT b FROM t", (), False),
    ("same_plan", "SELECT a FROM t LIMIT 1", "SELECT a FROM t LIMIT 1", (), False),  # not deterministic
    ("both_always_empty", "SELECT a FROM t WHERE 1 = 0", "SELECT b FROM t WHERE NULL", (), True),
    ("both_always_empty", "SELECT a FROM t WHERE 1 = 0", "SELECT a FROM t", (), False),
    ("select_project_join_blocks", "SELECT a FROM t WHERE NOT (a = 7 AND a = 8)", "SELECT a FROM t", (), True),
    ("select_project_join_blocks", "SELECT DISTINCT a FROM t", "SELECT a FROM t", (), False),
    # a WHERE's EXISTS over blocks is part of the block, wherever it filters (correlated by `<>`)
    ("select_project_join_blocks", "SELECT p.name FROM p JOIN q ON p.id = q.pid "
     "WHERE EXISTS (SELECT 1 FROM q AS r WHERE r.pid = p.id AND r.v <> q.v)",
     "SELECT p.name FROM p JOIN (SELECT * FROM q WHERE EXISTS (SELECT 1 FROM q AS r WHERE r.pid = q.pid "
     "AND r.v <> q.v)) AS x ON p.id = x.pid", (), True),
    ("select_project_join_blocks", "SELECT p.name FROM p JOIN q ON p.id = q.pid "   # the subquery groups
     "WHERE EXISTS (SELECT r.pid FROM q AS r WHERE r.v <> q.v GROUP BY r.pid HAVING COUNT(*) > 1)",
     "SELECT p.name FROM p JOIN (SELECT * FROM q WHERE EXISTS (SELECT r.pid FROM q AS r WHERE r.v <> q.v "
     "GROUP BY r.pid HAVING COUNT(*) > 1)) AS x ON p.id = x.pid", (), False),
    ("pass_through_unwrapped", "SELECT * FROM (SELECT DISTINCT a, b FROM t)", "SELECT DISTINCT a, b FROM t", (),
     True),
    ("pass_through_unwrapped", "SELECT DISTINCT a FROM t", "SELECT a FROM t GROUP BY a", ("input",), False),
    ("distinct_rows_as_distinct", "SELECT DISTINCT t.a, p.name FROM t LEFT JOIN p ON t.a = p.id",
     "SELECT x.a, p.name FROM (SELECT DISTINCT a FROM t) AS x LEFT JOIN p ON x.a = p.id", (), True),
    ("distinct_rows_as_distinct", "SELECT DISTINCT t.a, p.name FROM t LEFT JOIN p ON t.a = p.id",
     "SELECT t.a, p.name FROM t LEFT JOIN p ON t.a = p.id", (), False),  # t.a repeats
    ("operators_paired", "SELECT p.id, x.n FROM p JOIN (SELECT pid, COUNT(*) AS n FROM q GROUP BY pid) AS x "
     "ON x.pid = p.id WHERE p.g > 1", "SELECT p.id, x.n FROM (SELECT * FROM p WHERE g > 1) AS p "
     "JOIN (SELECT pid, COUNT(*) AS n FROM q GROUP BY pid) AS x ON x.pid = p.id", ("rewritten", "input"), True),
    ("operators_paired", "SELECT p.id, x.n FROM p JOIN (SELECT pid, COUNT(*) AS n FROM q GROUP BY pid) AS x "
     "ON x.pid = p.id WHERE p.g > 1", "SELECT p.id, x.n FROM (SELECT * FROM p WHERE g > 1) AS p "   # counts r's rows
     "JOIN (SELECT pid, COUNT(*) AS n FROM r GROUP BY pid) AS x ON x.pid = p.id", ("rewritten", "input"), False),
    ("operators_paired", "SELECT p.id FROM p JOIN (SELECT pid FROM q ORDER BY v LIMIT 2) AS x "   # LIMIT's ties
     "ON x.pid = p.id WHERE p.g > 1", "SELECT p.id FROM (SELECT * FROM p WHERE g > 1) AS p "
     "JOIN (SELECT pid FROM q ORDER BY v LIMIT 2) AS x ON x.pid = p.id", ("rewritten", "input"), False),
    # the same operator (a filter) over blocks of different shapes: paired where that proves them equal
    ("operators_paired", "SELECT p.id, x.n FROM p JOIN (SELECT pid, COUNT(*) AS n FROM q GROUP BY pid) AS x "
     "ON x.pid = p.id JOIN t ON t.a = p.g WHERE x.n > 2", "SELECT p.id, x.n FROM p JOIN (SELECT pid, COUNT(*) AS n "
     "FROM q GROUP BY pid) AS x ON x.pid = p.id, t WHERE t.a = p.g AND x.n > 2", ("rewritten", "input"), True),
    ("operators_paired", "SELECT p.id, x.n FROM p JOIN (SELECT pid, COUNT(*) AS n FROM q GROUP BY pid) AS x "
     "ON x.pid = p.id JOIN t ON t.a = p.g WHERE x.n > 2", "SELECT p.id, x.n FROM p JOIN (SELECT pid, COUNT(*) AS n "
     "FROM q GROUP BY pid) AS x ON x.pid = p.id, t WHERE t.a = p.g AND x.n > 3", ("rewritten", "input"), False),
    ("different_operators", "SELECT DISTINCT a FROM t", "SELECT a FROM t GROUP BY a", ("input",), True),
    ("different_operators", "SELECT DISTINCT a FROM t", "SELECT DISTINCT b FROM t", (), False),
    ("same_distinct", "SELECT DISTINCT a FROM t", "SELECT DISTINCT b FROM t", (), True),
    ("same_distinct", "SELECT DISTINCT a FROM t", "SELECT a FROM t", (), False),
    ("same_set_operation", "SELECT a FROM t EXCEPT SELECT pid FROM q",
     "SELECT a FROM t WHERE 1 = 1 EXCEPT SELECT pid FROM q", (), True),
    ("same_set_operation", "SELECT a FROM t EXCEPT SELECT pid FROM q", "SELECT a FROM t EXCEPT ALL SELECT pid FROM q",
     (), False),
    ("same_row_local_operator", "SELECT a + 1 FROM (SELECT DISTINCT a FROM t)",
     "SELECT 1 + a FROM (SELECT DISTINCT a FROM t)", (), True),
    # identical projections reading a subquery of their own row that leaves no choice: by their inputs
    ("same_row_local_operator", "SELECT a + (SELECT COUNT(*) FROM q WHERE q.pid = x.a) FROM (SELECT DISTINCT a FROM t) AS x",
     "SELECT a + (SELECT COUNT(*) FROM q WHERE q.pid = x.a) FROM (SELECT DISTINCT a FROM t WHERE 1 = 1) AS x", (), True),
    ("same_row_local_operator", "SELECT a + (SELECT v FROM q WHERE q.pid = x.a ORDER BY qid LIMIT 1) "
     "FROM (SELECT DISTINCT a FROM t) AS x", "SELECT a + (SELECT v FROM q WHERE q.pid = x.a ORDER BY qid LIMIT 1) "
     "FROM (SELECT DISTINCT a FROM t WHERE 1 = 1) AS x", (), False),  # the row LIMIT takes is the plan's choice
    ("same_row_local_operator", "SELECT a + (SELECT COUNT(*) FROM q WHERE q.pid = x.a) FROM (SELECT DISTINCT a FROM t) AS x",
     "SELECT a + (SELECT COUNT(*) FROM q WHERE q.pid = x.a + 0) FROM (SELECT DISTINCT a FROM t) AS x", (), False),
    # identical projections reading a subquery of no enclosing row and no choice: compared by their inputs
    ("same_row_local_operator", "SELECT a + (SELECT COUNT(*) FROM q) FROM (SELECT DISTINCT a FROM t)",
     "SELECT x.a + (SELECT COUNT(*) FROM q) FROM (SELECT DISTINCT a FROM t) AS x", (), True),
    ("same_row_local_operator", "SELECT a + (SELECT v FROM q ORDER BY pid LIMIT 1) FROM (SELECT DISTINCT a FROM t)",
     "SELECT x.a + (SELECT v FROM q ORDER BY pid LIMIT 1) FROM (SELECT DISTINCT a FROM t) AS x", (),
     False),  # which tied row each query's LIMIT takes is its plan's choice
    ("same_join", "SELECT x.a, q.v FROM (SELECT DISTINCT a FROM t) x LEFT JOIN q ON x.a = q.pid",
     "SELECT x.a, q.v FROM (SELECT DISTINCT a FROM t) x LEFT JOIN q ON q.pid = x.a", ("input",), True),
    ("same_join", "SELECT x.a, q.v FROM (SELECT DISTINCT a FROM t) x LEFT JOIN q ON x.a = q.pid",
     "SELECT x.a, q.v FROM (SELECT DISTINCT a FROM t) x JOIN q ON x.a = q.pid", ("input",), False),
    ("same_aggregate", "SELECT a, COUNT(*) FROM t GROUP BY a", "SELECT a, COUNT(*) FROM t WHERE 1 = 1 GROUP BY a",
     ("input",), True),
    ("same_aggregate", "SELECT a, COUNT(*) FROM t GROUP BY a", "SELECT a, SUM(b) FROM t GROUP BY a", ("input",), False),
    ("same_window", "SELECT a, SUM(b) OVER (PARTITION BY a) FROM t",
     "SELECT a, SUM(b) OVER (PARTITION BY a) FROM t WHERE 1 = 1", ("input",), True),
    ("same_window", "SELECT a, ROW_NUMBER() OVER (ORDER BY a) FROM t",   # tied rows numbered in either order
     "SELECT a, ROW_NUMBER() OVER (ORDER BY a) FROM t WHERE 1 = 1", ("input",), False),
    ("same_operator_otherwise", "SELECT a FROM t ORDER BY a LIMIT 1", "SELECT a FROM t ORDER BY a LIMIT 2", (), True),
]
COMPARISON = {c.name: c for c in COMPARISONS}


@pytest.mark.parametrize("name, gold, gen, path, applies", COMPARISON_CASES,
                         ids=[f"{c[0]}: {'applies' if c[4] else 'near miss'}: {c[2]}" for c in COMPARISON_CASES])
def test_comparison_step(name, gold, gen, path, applies):
    # the level as the driver gives it to the step: the plans after the plan rules, at `path`,
    # rewritten by the level rules for the steps that see the level so
    step = COMPARISON[name]
    (r1, ctx), (r2, _) = lowered(gold, DEMO_DDL), lowered(gen, DEMO_DDL)
    r1, r2 = plan_rewritten(r1, ctx), plan_rewritten(r2, ctx)
    for attr in path:  # "rewritten": the level rules, as the walk applies them before it goes down
        r1, r2 = (level_rewritten(r1, ctx), level_rewritten(r2, ctx)) if attr == "rewritten" else \
            (getattr(r1, attr), getattr(r2, attr))
    if step.rewritten:
        r1, r2 = level_rewritten(r1, ctx), level_rewritten(r2, ctx)
    assert (step.fn(r1, r2, ctx, None) is not SKIP) == applies


def test_every_comparison_step_has_a_doc_a_case_where_it_applies_and_a_near_miss():
    assert len(COMPARISON) == len(COMPARISONS)
    for step in COMPARISONS:
        assert step.doc and step.doc.endswith("."), step.name
        outcomes = {applies for name, *_, applies in COMPARISON_CASES if name == step.name}
        # the last step applies to every pair that reaches it
        assert outcomes == ({True} if step is COMPARISONS[-1] else {True, False}), step.name


def test_the_comparison_steps_keep_the_order_of_the_walk_and_verify_rules_lists_them():
    assert [c.name for c in COMPARISONS] == [
        "columns_differ", "same_plan", "both_always_empty", "select_project_join_blocks", "pass_through_unwrapped",
        "distinct_rows_as_distinct", "operators_paired", "different_operators", "same_distinct", "same_set_operation", "same_row_local_operator", "same_join",
        "same_aggregate", "same_window", "same_operator_otherwise"]
    assert [c.rewritten for c in COMPARISONS[:3]] == [False, False, True]
    text = rules_text()
    assert "\n".join(f"{n:3}. {c.name} [{'rewritten' if c.rewritten else 'given'}]: {c.doc}"
                     for n, c in enumerate(COMPARISONS, 1)) in text


def test_the_first_comparison_step_that_applies_decides_each_level():
    # a projection passing DISTINCT through against that DISTINCT: the projection is unwrapped,
    # the two DISTINCTs compare their inputs, which meet as select-project-join blocks
    schema = schema_from_ddl(DEMO_DDL)
    gold, gen = (lowered(sql, DEMO_DDL)[0] for sql in ("SELECT * FROM (SELECT DISTINCT a, b FROM t)",
                                                        "SELECT DISTINCT a, b FROM t WHERE 1 = 1"))
    trace: list[str] = []
    assert prove_for_every_size(gold, gen, schema, "sqlite", trace) == (True, [])
    assert trace[:2] == ["the same operator on both sides, inputs compared: Distinct / Distinct",
                         "the plans meet as select-project-join blocks: Project a, b / Project a, b"]


def test_set_aggregates_of_an_inner_key_merge_with_its_grouping_in_duckdb():
    """`partial_aggregates_merged` (DuckDB has BIT_AND): BIT_AND and MIN of the keys of an inner
    GROUP BY read each value once or more, which changes neither; BIT_AND of an inner COUNT
    does not combine partial results and stays."""
    ddl = "CREATE TABLE t (a INTEGER, b INTEGER);"
    rel, ctx = lowered("SELECT BIT_AND(a), MIN(a), SUM(a) FROM (SELECT a FROM t GROUP BY a) AS x", ddl, "duckdb")
    after = apply_once(BY_NAME["partial_aggregates_merged"], rel, ctx)
    assert show(after).splitlines()[1].strip() == \
        "Aggregate: bit_and(_c0) AS _agg0, min(_c1) AS _agg1, sum(DISTINCT _c2) AS _agg2"
    rel, ctx = lowered("SELECT BIT_AND(n) FROM (SELECT a, COUNT(*) AS n FROM t GROUP BY a) AS x", ddl, "duckdb")
    assert apply_once(BY_NAME["partial_aggregates_merged"], rel, ctx) is rel
