"""The IR's traversal (`verify.ir`: children, walk, transform, key) and `verify.blocks.plain`,
checked against their plain definitions over every field of every node, on the plans of real
queries (SQLSolver's Calcite and TPC-H suites, before and after the plan rules) and on small
hand-made ones.

The traversal skips the fields whose type holds no node (`_SCALAR_FIELD_TYPES`) and keeps each
node's key and what it reads beyond its row with the node; these tests say that this changes no
answer."""

from __future__ import annotations

from dataclasses import fields, replace
from functools import lru_cache
from pathlib import Path

import pytest

from verify import ir
from verify.blocks import plain
from verify.errors import QueryError, Unsupported
from verify.lower import lower_query
from verify.parse import parse_query
from verify.rewrite import Context
from verify.rules import plan_rewritten

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sqlsolver"
HOLDERS = (ir.InSubquery, ir.Exists, ir.ExistsAt, ir.ScalarSubquery)


# ------------------------------------------------------------------ the plain definitions
def nodes_in(value) -> list:
    """The nodes in one field's value, tuples flattened in order (the definition of a child)."""
    if isinstance(value, tuple):
        return [n for v in value for n in nodes_in(v)]
    return [value] if ir.is_node(value) else []


def every_field_children(node, into_subqueries: bool) -> tuple:
    """`ir.children` by its definition: the nodes of every field, a subquery's plan left out when
    not `into_subqueries`."""
    if isinstance(node, tuple):
        return tuple(nodes_in(node))
    return tuple(n for f in fields(node) if into_subqueries or not (isinstance(node, HOLDERS) and f.name == "query")
                 for n in nodes_in(getattr(node, f.name)))


def key_afresh(x) -> tuple:
    """`ir.key` computed again from every field (nothing kept)."""
    if isinstance(x, tuple):
        return ("tuple",) + tuple(key_afresh(v) for v in x)
    if ir.is_node(x):
        return (type(x).__name__,) + tuple(key_afresh(getattr(x, f.name)) for f in fields(x))
    if isinstance(x, str):
        return ("str", repr(str(x)))
    return (type(x).__name__, repr(x))


def plain_by_walking(exprs, params: bool) -> bool:
    """`plain` by its definition: no node reads other rows, but (with `params`) the enclosing row's."""
    readers = (ir.InSubquery, ir.Exists, ir.ExistsAt, ir.ScalarSubquery, ir.Outer, ir.WinRef)
    return not any(isinstance(n, readers) and not (params and isinstance(n, ir.Outer) and n.depth == 1)
                   for n in ir.walk(tuple(exprs), into_subqueries=False))


# ------------------------------------------------------------------ the corpus
@lru_cache(maxsize=1)
def suite_plans() -> tuple[ir.Rel, ...]:
    """Each query of SQLSolver's suites that lowers, as lowered and after the plan rules."""
    from benchmarks.sqlsolver import DIALECT, load_suite

    plans = []
    for suite in ("calcite", "tpch"):
        pairs, schemas = load_suite(SHARED, suite)
        for p in pairs:
            schema = schemas[p.schema_file]
            for sql in (p.q1, p.q2):
                try:
                    rel = lower_query(parse_query(sql, DIALECT), schema, DIALECT).rel
                except (QueryError, Unsupported):
                    continue
                plans += [rel, plan_rewritten(rel, Context(schema, DIALECT))]
    return tuple(plans)


needs_suites = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/sqlsolver not present")


def all_nodes(plans) -> list:
    return [n for rel in plans for n in ir.walk(rel)]


# ------------------------------------------------------------------ the tests
@needs_suites
def test_children_and_walk_follow_every_field_on_real_plans() -> None:
    plans = suite_plans()
    assert len(plans) > 600  # most of the 2 x 254 queries lower
    seen_holders = 0
    for n in all_nodes(plans):
        for into in (True, False):
            assert ir.children(n, into_subqueries=into) == every_field_children(n, into)
        seen_holders += isinstance(n, HOLDERS)
    assert seen_holders > 50  # subqueries are among them


@needs_suites
def test_fields_typed_as_text_numbers_flags_or_names_hold_no_node() -> None:
    """What lets the traversal skip those fields: on every node of the corpus they hold no node."""
    scalar_fields = 0
    for n in all_nodes(suite_plans()):
        for f in fields(n):
            if f.type in ir._SCALAR_FIELD_TYPES:
                scalar_fields += 1
                assert nodes_in(getattr(n, f.name)) == [], (type(n).__name__, f.name)
    assert scalar_fields > 10_000


def test_a_node_put_in_a_field_the_traversal_reads_is_found() -> None:
    """Near-miss guard: a node in a field of a node-holding type is a child, wherever it sits."""
    inner = ir.Col(0, "int")
    case = ir.Case(((ir.Lit(True, "bool"), inner),), ir.Lit(None, "null"), "int")
    assert inner in ir.children(case)
    values = ir.Values((ir.OutCol("a", "int"),), ((ir.Lit(1, "int"),), (inner,)))
    assert inner in list(ir.walk(values))


@needs_suites
def test_transform_rebuilds_the_same_tree_as_rebuilding_every_field() -> None:
    """A change reaches every column wherever it is; nothing changed keeps the very same objects."""
    def bump(n):
        return replace(n, index=n.index + 1) if isinstance(n, ir.Col) else n

    def bump_every_field(x):
        if isinstance(x, tuple):
            return tuple(bump_every_field(v) for v in x)
        if not ir.is_node(x):
            return x
        return bump(replace(x, **{f.name: bump_every_field(getattr(x, f.name)) for f in fields(x)}))

    for rel in suite_plans()[:200]:
        assert ir.transform(rel, lambda n: n) is rel
        assert ir.key(ir.transform(rel, bump)) == key_afresh(bump_every_field(rel))


@needs_suites
def test_a_kept_key_is_the_key_computed_afresh() -> None:
    for n in all_nodes(suite_plans()):
        assert ir.key(n) == key_afresh(n)
        assert ir.key(n) == key_afresh(n)  # and again, from what was kept


def test_a_changed_copy_of_a_node_has_its_own_key() -> None:
    lit = ir.Lit(1, "int")
    cmp = ir.Cmp("=", ir.Col(0, "int"), lit, "num")
    before = ir.key(cmp)
    changed = replace(cmp, right=replace(lit, value=2))
    assert ir.key(changed) != before and ir.key(cmp) == before
    assert changed == ir.Cmp("=", ir.Col(0, "int"), ir.Lit(2, "int"), "num")  # the kept key is no field
    assert repr(cmp) == "Cmp(op='=', left=Col(index=0, kind='int', affinity=None), " \
                        "right=Lit(value=1, kind='int'), mode='num', kind='bool')"


@needs_suites
def test_plain_agrees_with_walking_every_expression() -> None:
    checked = {True: 0, False: 0}
    for n in all_nodes(suite_plans()):
        groups = [n.exprs] if isinstance(n, ir.Project) else [(n.cond,)] if isinstance(n, ir.Filter) else []
        groups += [n.keys] if isinstance(n, ir.Aggregate) else []
        for exprs in groups:
            for params in (False, True):
                got = plain(exprs, params=params)
                assert got == plain_by_walking(exprs, params)
                checked[got] += 1
    assert checked[True] > 500 and checked[False] > 20  # both answers occur


def test_plain_reads_through_a_subquery_holder_but_not_into_its_plan() -> None:
    t = ir.Scan((ir.OutCol("a", "int"),), "t")
    correlated = ir.Filter(t.columns, t, ir.Cmp("=", ir.Col(0, "int"), ir.Outer(1, 0, "int"), "num"))
    exists = ir.Exists(correlated)
    assert not plain((exists,)) and not plain((exists,), params=True)  # the EXISTS reads other rows
    assert plain((correlated.cond,), params=True) and not plain((correlated.cond,))
    deeper = ir.Not(ir.IsNull(ir.Outer(2, 0, "int")))
    assert not plain((deeper,), params=True)  # a correlation further out is no parameter


@needs_suites
def test_a_plans_head_is_the_first_line_it_prints() -> None:
    """`plan_text.head` prints the top operator alone; the proof trace names operators with it."""
    from verify.plan_text import head, show

    rels = [n for n in all_nodes(suite_plans()) if isinstance(n, ir.Rel)]
    assert len(rels) > 3000
    for n in rels:
        assert head(n) == show(n).splitlines()[0]


def test_a_head_with_a_line_break_in_a_literal_stops_where_the_printed_plan_does() -> None:
    from verify.plan_text import head, show

    t = ir.Scan((ir.OutCol("a", "text"),), "t")
    rel = ir.Filter(t.columns, t, ir.Cmp("=", ir.Col(0, "text"), ir.Lit("x\ny", "text"), "text"))
    assert head(rel) == show(rel).splitlines()[0] == "Filter a = 'x"
