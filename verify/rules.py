"""The plan rewrites of the every-size proof (`verify.rowwise`), as one ordered list.

Two plans written differently often compute the same thing; each rule below rewrites a plan at
one node into a form that keeps the result the same on every database (satisfying the schema),
so that the two plans meet in one form that row-wise reasoning compares. A rule is a function
`rule(rel, ctx) -> Rel | None`: `rel` rewritten at its root, or None where it does not apply;
`ctx` (`Context`) holds the schema and the dialect.

`RULES` is the order; this module's drivers are the only place that applies them:

- `plan_rewritten`: the rules of phase "plan" (those that rely on the schema's keys, and the
  merging of nested aggregates), once over each whole plan, one rule after the other, each at
  every operator bottom-up (top-down for the rules marked so: the outer aggregate of nested
  ones merges first); each subquery is rewritten so first, as a plan of its own;
- `order_rewritten`: the rules of phase "order" (which also run in phase "plan"), at the ORDER BY
  a plan starts with, before two ORDER BYs at the top are compared (`verify.check` under list
  semantics: which ORDER BY ... LIMIT the two queries end in);
- `level_rewritten`: the rules of phase "level", at one level of the comparison of two plans
  (`rowwise`), after the inputs of a row-local operator (a filter, a projection), of a DISTINCT,
  of an aggregate and of an EXCEPT have been rewritten the same way; the first rule that applies rewrites the level, and
  its `then` says what is rewritten again ("again": the result; "input": the result's input).

`describe()` lists the rules with their one-line docs; `demo` shows one rule on a query.

    >>> [name for name, _ in describe()][:2]
    ['uncorrelated_lateral_as_join', 'lateral_filter_as_join']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from verify import decorrelate, ir, keyed, rewrite
from verify.blocks import plain
from verify.lower import lower_query
from verify.parse import parse_query
from verify.plan_text import show
from verify.rewrite import Context
from verify.schema_io import schema_from_ddl

Phase = Literal["plan", "order", "level"]


@dataclass(frozen=True)
class Rule:
    """One rewrite: its name, its function, the phases it runs in, and (at a level) what is
    rewritten again after it fires."""

    name: str
    fn: Callable[[ir.Rel, Context], ir.Rel | None]
    phases: tuple[Phase, ...]
    then: Literal["done", "again", "input"] = "done"
    top_down: bool = False

    @property
    def doc(self) -> str:
        """The first line of the rule's docstring."""
        return (self.fn.__doc__ or "").strip().splitlines()[0]


RULES: tuple[Rule, ...] = (
    Rule("uncorrelated_lateral_as_join", decorrelate.uncorrelated_lateral_as_join, ("plan",)),
    Rule("lateral_filter_as_join", decorrelate.lateral_filter_as_join, ("plan",)),
    Rule("one_row_lateral_as_subqueries", decorrelate.one_row_lateral_as_subqueries, ("plan",)),
    Rule("one_row_joined_as_columns", rewrite.one_row_joined_as_columns, ("plan",)),
    Rule("limited_row_tested_as_exists", keyed.limited_row_tested_as_exists, ("plan",)),
    Rule("exists_of_one_row_true", keyed.exists_of_one_row_true, ("plan",)),
    Rule("one_row_subquery_as_cross_join", decorrelate.one_row_subquery_as_cross_join, ("plan",)),
    Rule("correlated_aggregate_as_left_join", decorrelate.correlated_aggregate_as_left_join, ("plan",)),
    Rule("null_key_groups_unjoined", decorrelate.null_key_groups_unjoined, ("plan",)),
    Rule("null_aware_anti_join_as_not_in", decorrelate.null_aware_anti_join_as_not_in, ("plan",)),
    Rule("correlation_as_in_columns", decorrelate.correlation_as_in_columns, ("plan",)),
    Rule("semi_join_conjunct_as_join", keyed.semi_join_conjunct_as_join, ("plan",)),
    Rule("in_subquery_as_join", keyed.in_subquery_as_join, ("plan",)),
    Rule("semi_join_implied_by_join", keyed.semi_join_implied_by_join, ("plan",)),
    Rule("repeated_unique_join_removed", keyed.repeated_unique_join_removed, ("plan",)),
    Rule("exists_as_marked_join", keyed.exists_as_marked_join, ("plan",)),
    Rule("never_null_in_as_marked_join", keyed.never_null_in_as_marked_join, ("plan",)),
    Rule("in_subquery_as_counted_join", keyed.in_subquery_as_counted_join, ("plan",)),
    Rule("null_tested_marker_as_true", rewrite.null_tested_marker_as_true, ("plan",)),
    Rule("unlimited_sort_dropped", rewrite.unlimited_sort_dropped, ("plan",)),
    Rule("window_of_fixed_columns", rewrite.window_of_fixed_columns, ("plan", "level")),
    Rule("sort_key_as_first_equal_column", rewrite.sort_key_as_first_equal_column, ("plan", "order")),
    Rule("sort_of_sorted_merged", rewrite.sort_of_sorted_merged, ("plan", "order")),
    Rule("top_k_of_union_branches_dropped", rewrite.top_k_of_union_branches_dropped, ("plan", "order")),
    Rule("right_join_as_left", rewrite.right_join_as_left, ("plan", "level"), then="input"),
    Rule("left_join_above_inner_join", rewrite.left_join_above_inner_join, ("plan",)),
    Rule("unused_left_join_removed", keyed.unused_left_join_removed, ("plan", "level")),
    Rule("parent_join_removed", keyed.parent_join_removed, ("plan",)),
    Rule("key_self_join_removed", keyed.key_self_join_removed, ("plan",)),
    Rule("counted_rows_expanded", keyed.counted_rows_expanded, ("plan",)),
    Rule("sum_of_ones_as_count", rewrite.sum_of_ones_as_count, ("plan",)),
    Rule("aggregate_before_join", keyed.aggregate_before_join, ("plan",)),
    Rule("distinct_of_set_aggregate_dropped", rewrite.distinct_of_set_aggregate_dropped, ("plan",)),
    Rule("branch_filtered_aggregates_merged", rewrite.branch_filtered_aggregates_merged, ("plan",)),
    Rule("partial_aggregates_merged", rewrite.partial_aggregates_merged, ("plan", "level"), top_down=True),
    Rule("distinct_of_unique_dropped", keyed.distinct_of_unique_dropped, ("plan",)),
    Rule("count_of_never_null", keyed.count_of_never_null, ("plan",)),
    Rule("equated_group_keys", keyed.equated_group_keys, ("plan",)),
    Rule("grouped_by_key", keyed.grouped_by_key, ("plan",)),
    Rule("aggregate_of_single_rows", keyed.aggregate_of_single_rows, ("plan", "level")),
    Rule("projection_above_join", rewrite.projection_above_join, ("plan", "level"), then="again"),
    Rule("aggregates_joined_on_their_keys_merged", rewrite.aggregates_joined_on_their_keys_merged, ("plan",)),
    Rule("padded_projection_into_condition", rewrite.padded_projection_into_condition, ("plan", "level"), then="again"),
    Rule("projection_above_union_all", rewrite.projection_above_union_all, ("plan", "level")),
    Rule("window_above_projection", rewrite.window_above_projection, ("plan", "level")),
    Rule("counted_union_as_intersect", keyed.counted_union_as_intersect, ("plan",)),
    Rule("union_as_distinct_union_all", rewrite.union_as_distinct_union_all, ("plan",)),
    Rule("key_filter_below_aggregate", rewrite.key_filter_below_aggregate, ("level",), then="again"),
    Rule("constant_group_key", rewrite.constant_group_key, ("level",)),
    Rule("grouping_without_aggregates_as_distinct", rewrite.grouping_without_aggregates_as_distinct, ("level",), then="again"),
    Rule("constants_outside_distinct", rewrite.constants_outside_distinct, ("level",), then="again"),
    Rule("aggregates_of_no_row", rewrite.aggregates_of_no_row, ("level",)),
    Rule("aggregate_of_nothing", rewrite.aggregate_of_nothing, ("level",)),
    Rule("except_of_itself", rewrite.except_of_itself, ("level",)),
    Rule("except_or_intersect_of_filters", rewrite.except_or_intersect_of_filters, ("level",)),
    Rule("duplicates_dropped_below_set_reader", rewrite.duplicates_dropped_below_set_reader, ("level",), then="again"),
    Rule("unread_left_join_below_set_reader", rewrite.unread_left_join_below_set_reader, ("level",), then="again"),
    Rule("distinct_of_distinct_rows_dropped", keyed.distinct_of_distinct_rows_dropped, ("level",)),
    Rule("facts_across_join", rewrite.facts_across_join, ("level",), then="again"),
    Rule("outer_join_of_nothing_padded", rewrite.outer_join_of_nothing_padded, ("level",)),
    Rule("filters_merged", rewrite.filters_merged, ("level",), then="again"),
    Rule("left_join_filter_into_on", rewrite.left_join_filter_into_on, ("level",), then="again"),
    Rule("filter_below_project", rewrite.filter_below_project, ("level",), then="input"),
    Rule("filter_below_distinct", rewrite.filter_below_distinct, ("level",)),
    Rule("filtered_full_join_as_right", rewrite.filtered_full_join_as_right, ("level",), then="again"),
    Rule("filtered_outer_join_narrowed", rewrite.filtered_outer_join_narrowed, ("level",)),
    Rule("outer_join_narrowed_by_join_condition", rewrite.outer_join_narrowed_by_join_condition, ("level",),
         then="again"),
    Rule("filter_before_left_join", rewrite.filter_before_left_join, ("level",)),
    Rule("projections_merged", rewrite.projections_merged, ("level",)),
)
_PLAN = tuple(r for r in RULES if "plan" in r.phases)
_LEVEL = tuple(r for r in RULES if "level" in r.phases)
_ORDER = tuple(r for r in RULES if "order" in r.phases)
BY_NAME = {r.name: r for r in RULES}

# called with (rule name, plan after it) each time a rule changes a plan; `plan_rewritten` adds
# `where="in a subquery"` when the plan is a subquery's (the rule rewrote it as a plan of its own)
Fired = Callable[..., None]


def first_sentence(doc: str | None) -> str:
    """The first sentence of a docstring, on one line.

        >>> first_sentence("One thing.  Then\\n    another.")
        'One thing.'
    """
    text = " ".join((doc or "").split())
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def describe() -> list[tuple[str, str]]:
    """Each rule in order, as (name, one-line doc)."""
    return [(r.name, r.doc) for r in RULES]


def plan_rewritten(rel: ir.Rel, ctx: Context, fired: Fired | None = None,
                   skip: frozenset[str] = frozenset()) -> ir.Rel:
    """`rel` after the plan-phase rules (but those named in `skip`), each over the whole plan in
    `RULES` order. Each subquery is rewritten so first, as a plan of its own (innermost first),
    so that a rule reading it as a join (`semi_join_conjunct_as_join`, ...) brings its rewritten
    plan into the enclosing one. The columns of an enclosing row that a correlated subquery
    reads (`Outer`) are values its rules do not look into: a rule is exact for every value.

        >>> rel, ctx = lowered("SELECT a FROM t WHERE a IN (SELECT b FROM t WHERE b IN (SELECT a FROM t))", DEMO_DDL)
        >>> print(show(plan_rewritten(rel, ctx)))
        Project a
          Project a, b#1 AS b
            Join inner ON a = b#2
              Scan t(a, b)
              Distinct
                Project b
                  Project a#0 AS a, b
                    Join inner ON b = a#2
                      Scan t(a, b)
                      Distinct
                        Project a
                          Scan t(a, b)
    """
    in_subquery = None if fired is None else (lambda name, plan: fired(name, plan, where="in a subquery"))

    def own_query(n):
        if isinstance(n, (ir.Exists, ir.InSubquery, ir.ScalarSubquery)):
            query = _plan_rules(n.query, ctx, in_subquery, skip)
            return n if query is n.query else replace(n, query=query)
        return n
    with keyed.blocks_remembered():
        return _plan_rules(ir.transform(rel, own_query), ctx, fired, skip)


def _plan_rules(rel: ir.Rel, ctx: Context, fired: Fired | None, skip: frozenset[str]) -> ir.Rel:
    """`rel` after the plan-phase rules but those in `skip`, the subqueries inside left as they are."""
    for rule in _PLAN:
        if rule.name in skip:
            continue
        new = _top_down(rule, rel, ctx) if rule.top_down else apply_once(rule, rel, ctx)
        if new is not rel and fired is not None:
            fired(rule.name, new)
        rel = new
    return rel


def apply_once(rule: Rule, rel: ir.Rel, ctx: Context) -> ir.Rel:
    """`rel` with `rule` applied once at each of its operators, bottom-up (an operator the rule
    rewrote is not visited again; subqueries inside expressions are left as they are)."""
    return ir.transform_rels(rel, lambda n: rule.fn(n, ctx) or n)


def _top_down(rule: Rule, rel: ir.Rel, ctx: Context) -> ir.Rel:
    """`rel` with `rule` applied at its root first, then at the inputs of the result (`ir.transform`
    goes bottom-up)."""
    rel = rule.fn(rel, ctx) or rel
    changes = {}
    for name in rel.__dataclass_fields__:
        child = getattr(rel, name)
        if isinstance(child, ir.Rel):
            new = _top_down(rule, child, ctx)
            if new is not child:
                changes[name] = new
    return replace(rel, **changes) if changes else rel


def order_rewritten(rel: ir.Rel, ctx: Context, fired: Fired | None = None) -> ir.Rel:
    """`rel` after the order-phase rules at the ORDER BY it starts with: at its root, or under
    the row-local projections (no subquery) above it; each rule again as long as one applies.

        >>> rel, ctx = lowered("SELECT a FROM (SELECT a FROM t ORDER BY a LIMIT 3) AS x ORDER BY a", DEMO_DDL)
        >>> print(show(order_rewritten(rel, ctx)))
        Sort a NULLS FIRST LIMIT 3
          Project a
            Project a
              Scan t(a, b)
    """
    if isinstance(rel, ir.Project) and plain(rel.exprs):
        inner = order_rewritten(rel.input, ctx, fired)
        return rel if inner is rel.input else replace(rel, input=inner)
    for rule in _ORDER:
        out = rule.fn(rel, ctx)
        if out is not None:
            if fired is not None:
                fired(rule.name, out)
            return order_rewritten(out, ctx, fired)
    return rel


def level_rewritten(rel: ir.Rel, ctx: Context, fired: Fired | None = None) -> ir.Rel:
    """`rel` after the level-phase rules at its root (module doc)."""
    rel = _inputs_rewritten(rel, ctx, fired)
    for rule in _LEVEL:
        out = rule.fn(rel, ctx)
        if out is None:
            continue
        if fired is not None:
            fired(rule.name, out)
        if rule.then == "again":
            return level_rewritten(out, ctx, fired)
        if rule.then == "input":
            return replace(out, input=level_rewritten(out.input, ctx, fired))
        return out
    return rel


def _inputs_rewritten(rel: ir.Rel, ctx: Context, fired: Fired | None) -> ir.Rel:
    """`rel` with the inputs the level rules read rewritten first: the input of a filter or a
    projection without subqueries, of a DISTINCT and of an aggregate, both inputs of an EXCEPT."""
    if (isinstance(rel, ir.Filter) and plain((rel.cond,))) or (isinstance(rel, ir.Project) and plain(rel.exprs)) \
            or isinstance(rel, (ir.Distinct, ir.Aggregate)):
        inner = level_rewritten(rel.input, ctx, fired)
        return rel if inner is rel.input else replace(rel, input=inner)
    if isinstance(rel, ir.SetOp) and rel.op == "except":
        return replace(rel, left=level_rewritten(rel.left, ctx, fired), right=level_rewritten(rel.right, ctx, fired))
    return rel


# the schema `demo` lowers its queries on
DEMO_DDL = """
CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT, g INTEGER);
CREATE TABLE q (qid INTEGER PRIMARY KEY, pid INTEGER, v INTEGER);
CREATE TABLE t (a INTEGER, b INTEGER);
CREATE TABLE r (rid INTEGER PRIMARY KEY, pid INTEGER NOT NULL REFERENCES p(id));
"""


def lowered(sql: str, ddl: str, dialect: str = "sqlite") -> tuple[ir.Rel, Context]:
    """The plan of `sql` on the schema of `ddl`, and the rules' context for it."""
    schema = schema_from_ddl(ddl, dialect=dialect)
    return lower_query(parse_query(sql, dialect), schema, dialect).rel, Context(schema, dialect)


def demo(name: str, sql: str, ddl: str = DEMO_DDL) -> str:
    """The plan of `sql` after the rule `name` alone (`apply_once`), printed (`verify.plan_text`),
    or 'Noop' when the rule applies nowhere.

        >>> print(demo("projections_merged", "SELECT x + 1 FROM (SELECT a * 2 AS x FROM t)"))
        Project ((a * 2) + 1) AS "x + 1"
          Scan t(a, b)
    """
    rel, ctx = lowered(sql, ddl)
    after = apply_once(BY_NAME[name], rel, ctx)
    return "Noop" if after is rel else show(after)
