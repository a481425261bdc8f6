"""Plan rewrites that keep the result the same on every database, so that two plans written
differently meet in one form that row-wise reasoning (`verify.rowwise`) compares. The rules here
need no key of the schema; those that do are in `verify.keyed`. `verify.rules` lists them all in
order and applies them; each is a function `rule(rel, ctx) -> Rel | None` (None: it does not apply
at `rel`'s root) with a fixture file `tests/rules/<name>.txt`.

Each rewrite has a property test on databases larger than any bound
(`tests/test_property_soundness.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from verify import ir
from verify.blocks import deterministic, map_cols, plain, row_exprs, same_plan, shift, substitute
from verify.facts import EXACT_KINDS, conjunction, conjuncts, constant_of, equated_columns, moved, row_facts
from verify.encode import constant, free_depth
from verify.implication import always_empty, always_null, always_true, never_true, null_on_nulls, rejects_nulls
from verify.schema import Schema
from verify.names import FuncName, JoinKind


@dataclass(frozen=True)
class Context:
    """What a rule may read besides the plan: the schema (its keys) and the SQL dialect."""

    schema: Schema
    dialect: str = "sqlite"


# ----------------------------------------------------------------------------- rules
# Each rule is `rule(rel, ctx) -> Rel | None`: `rel` rewritten at its root, or None when the rule
# does not apply there. `verify.rules` lists them in order and is the one place that applies them.
def partial_aggregates_merged(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """An aggregate over partial aggregates is one aggregate over their inputs.

        >>> from verify.rules import demo
        >>> print(demo("partial_aggregates_merged",
        ...            "SELECT a, SUM(c) AS s FROM (SELECT a, b, COUNT(*) AS c FROM t GROUP BY a, b) GROUP BY a"))
        Project _key0 AS a, _agg0 AS s
          Aggregate GROUP BY _c0: count(*) AS _agg0
            Project a AS _c0
              Scan t(a, b)
    """
    return flatten(rel) if isinstance(rel, ir.Aggregate) else None


def branch_filtered_aggregates_merged(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """An aggregate over UNION ALL whose every FILTER keeps the rows of one branch, each branch grouping one input, is one aggregate over that input.

    Calcite writes `COUNT(DISTINCT x)` beside other aggregates as GROUPING SETS, one set per
    aggregate, read back by FILTERs on the GROUPING() flags: a UNION ALL of GROUP BYs of one
    input, each aggregate of the outer GROUP BY reading one of them. Where each branch groups
    the same input by the outer keys and more, every branch has a row for each outer group there
    is (the input's values of the outer keys), so the outer groups are the input's groups; each
    aggregate reads its branch's rows of the group, which is the aggregate of partial aggregates
    of that branch alone (`flatten`), and the aggregates of all branches are one aggregate over
    the input.

        >>> from verify.rules import demo
        >>> print(demo("branch_filtered_aggregates_merged",
        ...            "SELECT COUNT(a) FILTER (WHERE f = 1) AS na, COUNT(b) FILTER (WHERE f = 2) AS nb FROM "
        ...            "(SELECT a, NULL AS b, 1 AS f FROM t GROUP BY a UNION ALL SELECT NULL, b, 2 FROM t GROUP BY b)"))
        Project _agg0 AS na, _agg1 AS nb
          Aggregate: count(DISTINCT _c0) AS _agg0, count(DISTINCT _c1) AS _agg1
            Project a AS _c0, b AS _c1
              Scan t(a, b)
    """
    if not isinstance(rel, ir.Aggregate) or not rel.items:
        return None
    branches = union_branches(rel.input)
    if len(branches) < 2 or any(not isinstance(it, ir.Agg) or it.filter is None for it in rel.items):
        return None
    kinds = [c.kind for c in rel.input.columns]
    if any(c.kind not in (k, "null") for b in branches for c, k in zip(b.columns, kinds)):
        return None  # a UNION that unifies kinds converts values (a NULL stays NULL)
    read_by = []  # the one branch each aggregate reads
    for it in rel.items:
        kept = [b for b, branch in enumerate(branches) if _filter_keeps(it.filter, branch, True)]
        if len(kept) != 1 or not all(_filter_keeps(it.filter, branch, False)
                                     for b, branch in enumerate(branches) if b != kept[0]):
            return None
        read_by.append(kept[0])
    nk = len(rel.keys)
    parts = []  # per branch: its aggregates, as one aggregate over the branch's input
    for b, branch in enumerate(branches):
        mine = [m for m, r in enumerate(read_by) if r == b]
        cols = rel.columns[:nk] + tuple(rel.columns[nk + m] for m in mine)
        items = tuple(replace(rel.items[m], filter=None) for m in mine)
        flat = flatten(_narrowed(ir.Aggregate(cols, branch, rel.keys, items, rel.bare_from, rel.grouped)))
        if not isinstance(flat, ir.Aggregate) or not isinstance(flat.input, ir.Project):
            return None
        parts.append((mine, flat))
    return _merged_aggregates(rel, parts)


def aggregates_joined_on_their_keys_merged(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """Aggregates of one input grouped by the same keys, joined on those keys, are one aggregate.

    Calcite writes `SUM(x), COUNT(DISTINCT y)` without GROUPING SETS as a join of two aggregates
    of the same input, each grouped by the query's keys, on `IS NOT DISTINCT FROM` of every key.
    Both sides have one row for each group of that input, so the join pairs each group with
    itself, once: the result is one aggregate computing the aggregates of both sides, each
    column where its side had it. A key compared by `=` instead leaves out the groups where it
    is NULL. Only keys whose equal values are identical (`IDENTICAL_WHEN_EQUAL`): two groupings
    of values equal but not identical (1 and 1.0) might show different ones.

        >>> from verify.rules import demo
        >>> print(demo("aggregates_joined_on_their_keys_merged",
        ...            "SELECT x.a, x.s, y.n FROM (SELECT a, SUM(b) AS s FROM t GROUP BY a) AS x "
        ...            "JOIN (SELECT a, COUNT(DISTINCT b) AS n FROM t GROUP BY a) AS y ON x.a IS y.a"))
        Project a#0 AS a, s, n
          Project _key0 AS a, _agg0 AS s, _key0 AS a, _agg1 AS n
            Aggregate GROUP BY _c0: sum(_c1) AS _agg0, count(DISTINCT _c2) AS _agg1
              Project a AS _c0, b AS _c1, b AS _c2
                Scan t(a, b)
    """
    if not (isinstance(rel, ir.Join) and rel.kind == JoinKind.INNER and rel.cond is not None):
        return None
    sides = [_grouped_view(rel.left), _grouped_view(rel.right)]
    if sides[0] is None or sides[1] is None:
        return None
    (la, lexprs), (ra, rexprs) = sides  # type: ignore[misc]
    nk = len(la.keys)
    if not (nk and len(ra.keys) == nk and la.grouped and ra.grouped) or \
            any(c.kind not in IDENTICAL_WHEN_EQUAL for c in la.columns[:nk]):
        return None
    lp, rp = _over_own_input(la), _over_own_input(ra)
    if lp is None or rp is None:
        return None
    source = lp.input.input
    if not (same_plan(source, rp.input.input) and deterministic(source)
            and ir.same(lp.input.exprs[:nk], rp.input.exprs[:nk])):
        return None
    width = len(rel.left.columns)
    compared: set[int] = set()  # the keys the condition pairs
    null_rejected: set[int] = set()  # the keys it compares by `=`
    for c in conjuncts(rel.cond):
        if isinstance(c, ir.Func) and c.name == FuncName.SAME:
            a, b, by_equality = c.args[0], c.args[1], False
        elif isinstance(c, ir.Cmp) and c.op == "=":
            a, b, by_equality = c.left, c.right, True
        else:
            return None
        if not (isinstance(a, ir.Col) and isinstance(b, ir.Col)):
            return None
        if a.index >= width:
            a, b = b, a
        if not a.index < width <= b.index:
            return None
        key = lexprs[a.index].index
        if key >= nk or rexprs[b.index - width].index != key:
            return None
        compared.add(key)
        if by_equality:
            null_rejected.add(key)
    if compared != set(range(nk)):
        return None
    offset = len(lp.input.exprs) - nk
    layout = lp.input.exprs + rp.input.exprs[nk:]
    moved = (lambda c: ir.Col(c.index + offset, c.kind, c.affinity) if c.index >= nk else c)
    items = lp.items + tuple(map_cols(it, moved) for it in rp.items)
    cols = tuple(ir.OutCol(f"_c{i}", e.kind) for i, e in enumerate(layout))
    out = tuple(ir.OutCol(f"_key{i}", c.kind, c.affinity) for i, c in enumerate(la.columns[:nk])) + \
        tuple(ir.OutCol(f"_agg{m}", it.kind) for m, it in enumerate(items))
    merged: ir.Rel = ir.Aggregate(out, ir.Project(cols, source, layout), lp.keys, items)
    if null_rejected:
        merged = ir.Filter(out, merged, conjunction([ir.Not(ir.IsNull(ir.Col(k, out[k].kind, out[k].affinity)))
                                                     for k in sorted(null_rejected)]))
    # each column of the join: the merged column of its key, or of its side's aggregate
    where = [e.index for e in lexprs] + [e.index + (len(la.items) if e.index >= nk else 0) for e in rexprs]
    return ir.Project(rel.columns, merged, tuple(ir.Col(i, out[i].kind, out[i].affinity) for i in where))


def _over_own_input(agg: ir.Aggregate) -> ir.Aggregate | None:
    """`agg` over a projection of its input to its keys, arguments and filters (`preprojected`),
    that input read through the plain projections above it (computed from their inputs), so
    that aggregates written over different projections of one input read it alike."""
    pre = preprojected(agg)
    if pre is None or not isinstance(pre.input, ir.Project):
        return None
    proj = pre.input
    while isinstance(proj.input, ir.Project) and plain(proj.input.exprs):
        inner = proj.input
        proj = ir.Project(proj.columns, inner.input, tuple(substitute(e, list(inner.exprs)) for e in proj.exprs))
    return replace(pre, input=proj)


def in_canonical_order(agg: ir.Aggregate) -> tuple[ir.Aggregate, list[int]] | None:
    """`agg` with its aggregates sorted by what each computes from the input read through its
    plain projections (function, DISTINCT, argument and filter), and for each new position the
    old one; None when `agg` has bare columns. Two aggregates of one input that compute the same
    aggregates in other orders, over other projections of it, list them alike."""
    pre = _over_own_input(agg)
    if pre is None:
        return None
    layout = list(pre.input.exprs)

    def read(x: ir.Expr | None) -> str:
        if x is None:
            return ""
        if isinstance(x, ir.Func) and x.name == FuncName.TUPLE:  # its parts in any order
            return repr(sorted(read(p) for p in x.args))
        return repr(ir.key(substitute(x, layout)))
    meaning = [repr((it.func, it.distinct, it.kind, read(it.arg), read(it.filter))) for it in pre.items]
    order = sorted(range(len(agg.items)), key=lambda m: meaning[m])
    nk = len(agg.keys)
    cols = agg.columns[:nk] + tuple(agg.columns[nk + m] for m in order)
    return replace(agg, columns=cols, items=tuple(agg.items[m] for m in order)), order


def _grouped_view(rel: ir.Rel) -> tuple[ir.Aggregate, tuple[ir.Col, ...]] | None:
    """An aggregate and, per column of `rel`, the aggregate's column it shows: `rel` is the
    aggregate, or a projection of its columns (renamed, repeated or left out). Else None."""
    if isinstance(rel, ir.Project) and isinstance(rel.input, ir.Aggregate) and \
            all(isinstance(e, ir.Col) for e in rel.exprs):
        return rel.input, rel.exprs  # type: ignore[return-value]
    if isinstance(rel, ir.Aggregate):
        return rel, tuple(ir.Col(i, c.kind, c.affinity) for i, c in enumerate(rel.columns))
    return None


def _narrowed(agg: ir.Aggregate) -> ir.Aggregate:
    """`agg` over a projection reading only the projected columns its keys and aggregates read
    (the flags and NULLs of other GROUPING SETS left out)."""
    proj = agg.input
    if not isinstance(proj, ir.Project):
        return agg
    used = sorted(columns_read(tuple(agg.keys) + tuple(it.arg for it in agg.items if it.arg is not None)))
    where = {c: n for n, c in enumerate(used)}
    narrow = ir.Project(tuple(proj.columns[c] for c in used), proj.input, tuple(proj.exprs[c] for c in used))
    moved_cols = (lambda c: ir.Col(where[c.index], c.kind, c.affinity))
    return replace(agg, input=narrow, keys=map_cols(agg.keys, moved_cols), items=map_cols(agg.items, moved_cols))


def union_branches(rel: ir.Rel) -> list[ir.Rel]:
    """The branches of the UNION ALL tree `rel` (itself alone when it is no UNION ALL)."""
    if isinstance(rel, ir.SetOp) and rel.op == "union" and rel.all:
        return union_branches(rel.left) + union_branches(rel.right)
    return [rel]


def _filter_keeps(cond: ir.Expr, branch: ir.Rel, every_row: bool) -> bool:
    """On every row of `branch` (a projection of constant flags), the FILTER `cond` is TRUE
    (`every_row`), or is never TRUE (not `every_row`)."""
    if not (isinstance(branch, ir.Project) and plain(branch.exprs)):
        return False
    value = substitute(cond, list(branch.exprs))
    return always_true(value) if every_row else never_true(value)


def _merged_aggregates(rel: ir.Aggregate, parts: list[tuple[list[int], ir.Aggregate]]) -> ir.Rel | None:
    """`rel`'s aggregates, computed by the aggregates `parts` (per branch: the positions of
    `rel`'s items it computes, and an aggregate over a projection of one input grouped by
    `rel`'s keys), as one aggregate over that input; None unless they all read the same input
    grouped by the same keys."""
    nk = len(rel.keys)
    first = parts[0][1]
    source, keys_layout = first.input.input, first.input.exprs[:nk]
    layout = list(keys_layout)
    items: dict[int, ir.Agg] = {}
    for mine, agg in parts:
        proj = agg.input
        if not (same_plan(proj.input, source) and deterministic(source)
                and ir.same(proj.exprs[:nk], keys_layout) and agg.grouped == first.grouped):
            return None
        offset = len(layout) - nk
        layout += proj.exprs[nk:]
        moved_cols = (lambda c: ir.Col(c.index + offset, c.kind, c.affinity) if c.index >= nk else c)
        for m, it in zip(mine, agg.items):
            items[m] = map_cols(it, moved_cols)
    cols = tuple(ir.OutCol(f"_c{i}", e.kind) for i, e in enumerate(layout))
    return ir.Aggregate(rel.columns, ir.Project(cols, source, tuple(layout)), first.keys,
                        tuple(items[m] for m in range(len(rel.items))), rel.bare_from, rel.grouped)


def sum_of_ones_as_count(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """`SUM(1)` adds 1 per row: it is `COUNT(*)`, NULL where it adds up no row.

    A group of a GROUP BY has rows, so there `SUM(1)` is `COUNT(*)`; an aggregate without GROUP
    BY, or a FILTER, may add up no row, where SUM is NULL and COUNT 0: `CASE WHEN COUNT(*) = 0
    THEN NULL ELSE COUNT(*) END`. Only the integer 1 (a SUM of 2 could overflow where the count
    does not). Calcite writes `COUNT(*)` of a join as `SUM` of products of counts, which
    `counted_rows_expanded` turns into `SUM(1)`.

        >>> from verify.rules import demo
        >>> print(demo("sum_of_ones_as_count", "SELECT SUM(1) AS n FROM t"))
        Project _agg0 AS n
          Project CASE WHEN _agg0 = 0 THEN NULL ELSE _agg0 END AS _agg0
            Aggregate: count(*) AS _agg0
              Scan t(a, b)
    """
    if not isinstance(rel, ir.Aggregate):
        return None
    ones = {m for m, it in enumerate(rel.items)
            if isinstance(it, ir.Agg) and it.func == "sum" and not it.distinct and it.kind == "int"
            and isinstance(it.arg, ir.Lit) and type(it.arg.value) is int and it.arg.value == 1}
    if not ones:
        return None
    items = tuple(ir.Agg("count_star", None, False, "int", it.filter) if m in ones else it
                  for m, it in enumerate(rel.items))
    agg = replace(rel, items=items)
    maybe_empty = {m for m in ones if not rel.grouped or rel.items[m].filter is not None}
    if not maybe_empty:
        return agg
    exprs = []
    for i, c in enumerate(rel.columns):
        col = ir.Col(i, c.kind, c.affinity)
        if i - len(rel.keys) in maybe_empty:
            col = ir.Case(((ir.Cmp("=", col, ir.Lit(0, "int"), "num"), ir.Lit(None, "int")),), col, "int")
        exprs.append(col)
    return ir.Project(rel.columns, agg, tuple(exprs))


def distinct_of_set_aggregate_dropped(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """`MIN`, `MAX`, `BOOL_AND`, `BOOL_OR`, `BIT_AND` or `BIT_OR` of DISTINCT values is the aggregate of all the values.

    These read only which values occur, not how often; dropping a duplicate changes nothing where
    equal values are identical (`IDENTICAL_WHEN_EQUAL`: not REAL, where 1 and 1.0 are equal and
    DISTINCT would keep either).

        >>> from verify.rules import demo
        >>> print(demo("distinct_of_set_aggregate_dropped", "SELECT MAX(DISTINCT g) FROM p"))
        Project _agg0 AS "MAX(DISTINCT g)"
          Aggregate: max(g) AS _agg0
            Scan p(id, name, g)
    """
    if not isinstance(rel, ir.Aggregate):
        return None
    items = tuple(replace(it, distinct=False) if isinstance(it, ir.Agg) and it.distinct and it.func in _SET_AGGREGATES
                  and it.arg is not None and it.arg.kind in IDENTICAL_WHEN_EQUAL else it for it in rel.items)
    return None if ir.same(items, rel.items) else replace(rel, items=items)


def constant_group_key(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A GROUP BY key that WHERE fixes to a constant, reads no column, or is computed from other keys is read as that value.

    Every row of a group then holds the same value there, so the groups are those of the other
    keys (one key at least is kept: without any key there is one group even over no row).

        >>> from verify.rules import demo
        >>> print(demo("constant_group_key", "SELECT a, b, SUM(b) AS s FROM t WHERE b = 10 GROUP BY a, b"))
        Project _key0 AS a, _key1 AS b, _agg0 AS s
          Project _key0, 10 AS _key1, _agg0
            Aggregate GROUP BY a: sum(b) AS _agg0
              Filter b = 10
                Scan t(a, b)
    """
    return _constant_keys(rel) if isinstance(rel, ir.Aggregate) else None


def key_filter_below_aggregate(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A HAVING condition that reads only GROUP BY keys filters the rows before they are grouped.

    Every row of a group holds the same key values, and identical ones where the keys' kind has
    no two different values that compare equal (integers, text, dates, booleans): a condition
    on the keys alone is then the same for the group and for each of its rows, so the group is
    kept exactly when all its rows are, and its aggregates do not change.

        >>> from verify.rules import demo
        >>> print(demo("key_filter_below_aggregate",
        ...            "SELECT a, COUNT(*) AS n FROM t GROUP BY a HAVING a > 2 AND COUNT(*) > 1"))
        Project _key0 AS a, _agg0 AS n
          Filter _agg0 > 1
            Aggregate GROUP BY a: count(*) AS _agg0
              Filter a > 2
                Scan t(a, b)
    """
    if not isinstance(rel, ir.Filter) or not isinstance(rel.input, ir.Aggregate):
        return None
    agg = rel.input
    if not agg.grouped or not agg.keys or not plain(agg.keys):
        return None
    nk = len(agg.keys)
    moved, kept = [], []
    for c in conjuncts(rel.cond):
        read = columns_read((c,))
        if read and plain((c,)) and all(i < nk and agg.keys[i].kind in IDENTICAL_WHEN_EQUAL for i in read):
            moved.append(substitute(c, list(agg.keys)))
        else:
            kept.append(c)
    if not moved:
        return None
    below = ir.Filter(agg.input.columns, agg.input, conjunction(moved))
    grouped = replace(agg, input=below)
    return grouped if not kept else ir.Filter(rel.columns, grouped, conjunction(kept))


def aggregates_of_no_row(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """An aggregate whose FILTER is never TRUE, or whose argument is NULL on every row, reads no row: it is its value on no row.

    Such an aggregate adds up no value in any group: COUNT is 0, TOTAL 0.0, every other one
    NULL, on every database, so it is that constant, computed above the aggregate (a FILTER that
    is always TRUE is no filter). An argument is asked of the solver only when it reads no
    column or has a NULL literal in it (`_may_be_always_null`). An aggregate without GROUP BY left with nothing to compute is
    its one row, which reads no table: `SELECT COUNT(NULL) FROM t` is `SELECT 0`.

        >>> from verify.rules import demo
        >>> print(demo("aggregates_of_no_row", "SELECT COUNT(a = NULL) AS n, MAX(b) FILTER (WHERE 1 = 0) AS m FROM t"))
        Project _agg0 AS n, _agg1 AS m
          Project 0 AS _agg0, NULL AS _agg1
            Values() ()
    """
    if not isinstance(rel, ir.Aggregate) or any(isinstance(i, ir.Bare) for i in rel.items):
        return None
    nk = len(rel.keys)
    kept: list[ir.Agg] = []
    exprs: list[ir.Expr] = [ir.Col(i, c.kind, c.affinity) for i, c in enumerate(rel.columns[:nk])]
    changed = False
    for item, col in zip(rel.items, rel.columns[nk:]):
        cond = item.filter
        if cond is not None and always_true(cond):
            item, changed = replace(item, filter=None), True
        no_row = (cond is not None and never_true(cond)) or \
            (item.arg is not None and _may_be_always_null(item.arg) and always_null(item.arg, rel.input.columns))
        if no_row:
            exprs.append(ir.Lit(_value_on_no_row(item), col.kind))
            changed = True
        else:
            exprs.append(ir.Col(nk + len(kept), col.kind, col.affinity))
            kept.append(item)
    if not changed:
        return None
    cols = rel.columns[:nk] + tuple(c for c, e in zip(rel.columns[nk:], exprs[nk:]) if isinstance(e, ir.Col))
    inner: ir.Rel = (ir.Values((), ((),)) if not kept and not rel.grouped
                     else replace(rel, columns=cols, items=tuple(kept)))
    return ir.Project(rel.columns, inner, tuple(exprs))


def _may_be_always_null(e: ir.Expr) -> bool:
    """Whether `e` is worth asking the solver if it is NULL on every row: it reads no column,
    or a NULL literal takes part in it (`a = NULL`, `x + NULL`). Other arguments, the common
    case, are not asked (one solver check per aggregate would cost every proof)."""
    return constant(e) or any(isinstance(n, ir.Lit) and n.value is None for n in ir.walk(e, into_subqueries=False))


def aggregate_of_nothing(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """An aggregate without GROUP BY over an input that is always empty is its one row of empty-input values.

    With no row, COUNT is 0, TOTAL is 0.0, and every other aggregate (SUM, AVG, MIN, MAX, ...)
    and a bare column is NULL, on every database, so the row is constant.

        >>> from verify.rules import demo
        >>> print(demo("aggregate_of_nothing", "SELECT COUNT(*) AS n, SUM(a) AS s FROM t WHERE 1 = 0"))
        Project _agg0 AS n, _agg1 AS s
          Values(_agg0, _agg1) (0, NULL)
    """
    if not isinstance(rel, ir.Aggregate) or rel.grouped or rel.keys or not always_empty(rel.input):
        return None
    return ir.Values(rel.columns, (tuple(ir.Lit(_value_on_no_row(item), col.kind)
                                         for item, col in zip(rel.items, rel.columns)),))


def _value_on_no_row(item: ir.Agg | ir.Bare) -> int | float | None:
    """An aggregate's value over no row: COUNT 0, TOTAL 0.0, any other (and a bare column) NULL."""
    func = item.func if isinstance(item, ir.Agg) else "bare"
    return {"count_star": 0, "count": 0, "total": 0.0}.get(func)


def unlimited_sort_dropped(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """An ORDER BY without LIMIT or OFFSET below a join, a UNION ALL or an order-blind aggregate is left out.

    Such an ORDER BY only orders rows; a join, a UNION ALL and an aggregate whose values do not
    depend on the order of its rows (no bare column, no ANY_VALUE) read their inputs as bags,
    so their result is the same bag either way. The ORDER BY may sit under filters and
    projections (which keep the rows' order for it to matter only there).

        >>> from verify.rules import demo
        >>> print(demo("unlimited_sort_dropped",
        ...            "SELECT t.a, p.name FROM (SELECT * FROM t ORDER BY b) AS t JOIN p ON t.a = p.id"))
        Project a, name
          Join inner ON a = id
            Project a, b
              Scan t(a, b)
            Scan p(id, name, g)
    """
    if isinstance(rel, ir.Join):
        fields: tuple[str, ...] = ("left", "right")
    elif isinstance(rel, ir.SetOp) and rel.op == "union" and rel.all:
        fields = ("left", "right")
    elif isinstance(rel, ir.Aggregate) and not any(
            isinstance(i, ir.Bare) or (isinstance(i, ir.Agg) and i.func == "any_value") for i in rel.items):
        fields = ("input",)
    else:
        return None
    changes = {}
    for name in fields:
        child = getattr(rel, name)
        unsorted = without_unlimited_sort(child)
        if unsorted is not child:
            changes[name] = unsorted
    return replace(rel, **changes) if changes else None


def without_unlimited_sort(rel: ir.Rel) -> ir.Rel:
    """`rel` with the ORDER BY (no LIMIT, no OFFSET) it ends in, under filters and projections
    without subqueries, removed; `rel` itself when there is none."""
    if isinstance(rel, ir.Sort) and rel.limit is None and not rel.offset:
        return rel.input
    if isinstance(rel, ir.Filter) and plain((rel.cond,)) or isinstance(rel, ir.Project) and plain(rel.exprs):
        inner = without_unlimited_sort(rel.input)
        return rel if inner is rel.input else replace(rel, input=inner)
    return rel


def one_row_joined_as_columns(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A join with a row that reads no table (a one-row VALUES, a SELECT without FROM) adds that row's values to each row.

    Each row of the other side pairs with the one row, so the join is that side with the row's
    values as further columns (Calcite joins `(VALUES (TRUE))` to mark rows, and a scalar subquery
    `(SELECT (SELECT ...) AS f)` left-joined ON TRUE). A LEFT join qualifies with the one row on its
    right only: every left row then has its one match. The join condition must be absent or TRUE,
    and the row's values must read no enclosing query and no row of their own (a subquery
    correlated with the VALUES row they are computed over), so that they are the same values
    wherever they are computed, and leave no choice to the engine.

        >>> from verify.rules import demo
        >>> print(demo("one_row_joined_as_columns",
        ...            "SELECT t.a, x.i FROM t, (VALUES (TRUE)) AS x (i)"))
        Project a, i
          Project a, b, 1 AS i
            Scan t(a, b)
    """
    if not (isinstance(rel, ir.Join) and rel.kind in ("inner", "cross", "left")):
        return None
    if not (rel.cond is None or always_true(rel.cond)):
        return None
    sides = ((rel.right, rel.left),) if rel.kind == "left" else ((rel.right, rel.left), (rel.left, rel.right))
    for side, other in sides:
        row = _lone_row(side)
        if row is None or free_depth(side) > 0 or not deterministic(side) or not reads_own_row_only(row):
            continue
        cols = tuple(ir.Col(i, c.kind, c.affinity) for i, c in enumerate(other.columns))
        exprs = cols + row if side is rel.right else row + cols
        return ir.Project(rel.columns, other, exprs)
    return None


def _lone_row(rel: ir.Rel) -> tuple[ir.Expr, ...] | None:
    """The values of the one row `rel` returns on every database, when it reads no table: a
    VALUES of one row, or projections of one (the SELECT list of a query without FROM)."""
    if isinstance(rel, ir.Values):
        return rel.rows[0] if len(rel.rows) == 1 else None
    if isinstance(rel, ir.Project):
        row = _lone_row(rel.input)
        return None if row is None else tuple(substitute(e, list(row)) for e in rel.exprs)
    return None


def projection_above_union_all(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """The same projection of both branches of a UNION ALL is computed above it.

    `SELECT e FROM X UNION ALL SELECT e FROM Y` holds the rows of e computed on each row of X
    and of Y, which is e computed on each row of `X UNION ALL Y`, when X and Y have columns of
    the same kinds (no kind unified, so no value converted).

        >>> from verify.rules import demo
        >>> print(demo("projection_above_union_all",
        ...            "SELECT a + 1 AS s FROM t UNION ALL SELECT a + 1 FROM t WHERE b > 2"))
        Project (a + 1) AS s
          Union all
            Scan t(a, b)
            Filter b > 2
              Scan t(a, b)
    """
    if not (isinstance(rel, ir.SetOp) and rel.op == "union" and rel.all):
        return None
    left, right = one_projection(rel.left), one_projection(rel.right)
    if not (isinstance(left, ir.Project) and isinstance(right, ir.Project) and ir.same(left.exprs, right.exprs)
            and plain(left.exprs) and deterministic(left)):
        return None
    kinds = [c.kind for c in left.input.columns]
    if [c.kind for c in right.input.columns] != kinds or [c.kind for c in rel.columns] != [e.kind for e in left.exprs]:
        return None
    union = ir.SetOp(left.input.columns, "union", True, left.input, right.input)
    return ir.Project(rel.columns, union, left.exprs)


def window_above_projection(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """Window functions over a projection read the projection's input, and the projection moves above them.

    A window function computes a value for each row from the rows of its partition; a
    projection computes each of its columns from one row, so the window functions may read
    those expressions on the projection's input instead, and the projection (passing the
    window functions' columns through) is applied after.

        >>> from verify.rules import demo
        >>> print(demo("window_above_projection",
        ...            "SELECT s, SUM(s) OVER (PARTITION BY a) AS w FROM (SELECT a, a + b AS s FROM t) AS x"))
        Project s, _win0 AS w
          Project a, (a + b) AS s, _win0
            Window sum((a + b)) OVER (PARTITION BY a all) AS _win0
              Scan t(a, b)
    """
    if not (isinstance(rel, ir.Window) and isinstance(rel.input, ir.Project) and plain(rel.input.exprs)
            and deterministic(rel.input)):
        return None
    proj = rel.input
    exprs = list(proj.exprs)
    on = (lambda e: None if e is None else substitute(e, exprs))  # noqa: E731
    funcs = tuple(replace(f, arg=on(f.arg), partition=tuple(on(p) for p in f.partition),
                          order=tuple(replace(k, expr=on(k.expr)) for k in f.order)) for f in rel.funcs)
    added = rel.columns[len(proj.columns):]
    window = ir.Window(proj.input.columns + added, proj.input, funcs)
    n = len(proj.input.columns)
    return ir.Project(rel.columns, window, proj.exprs + tuple(ir.Col(n + j, c.kind, c.affinity)
                                                              for j, c in enumerate(added)))


def window_of_fixed_columns(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """Window functions read a column their input fixes to one literal as that literal; constant partition and order keys are left out.

    Where every input row holds the same value in a column (`WHERE sal = 5000`), an argument
    reads that value, a partition key splits nothing, and an order key makes all rows of a
    partition peers: an aggregate's RANGE frame, up to the current row's peers, is then the
    whole partition, as without ORDER BY. ROW_NUMBER, RANK and ROWS frames are left as they are.

        >>> from verify.rules import demo
        >>> print(demo("window_of_fixed_columns", "SELECT SUM(b) OVER (PARTITION BY a, b ORDER BY b) AS w "
        ...            "FROM t WHERE b = 5"))
        Project _win0 AS w
          Window sum(5) OVER (PARTITION BY a all) AS _win0
            Filter b = 5
              Scan t(a, b)
    """
    if not isinstance(rel, ir.Window):
        return None
    facts = row_facts(rel.input)

    def fixed(e: ir.Expr) -> ir.Expr:
        return map_cols(e, lambda c: constant_of(facts.get(c.index, []), c) or c)
    funcs = []
    for f in rel.funcs:
        if f.func in ("row_number", "rank", "dense_rank") or f.frame == "rows":
            funcs.append(f)
            continue
        partition = tuple(p for p in map(fixed, f.partition) if not constant(p))
        order = tuple(k for k in (replace(k, expr=fixed(k.expr)) for k in f.order) if not constant(k.expr))
        funcs.append(replace(f, arg=None if f.arg is None else fixed(f.arg), partition=partition, order=order,
                             frame="all" if not order else f.frame))
    out = tuple(funcs)
    return None if ir.same(out, rel.funcs) else replace(rel, funcs=out)


def sort_key_as_first_equal_column(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A sort key that is a column the projection below computes as an earlier column too is that earlier column.

    The two columns hold the same value on every row (`SELECT d, d ... ORDER BY 2`), so the
    order is the same; each plan then names the first of them.

        >>> from verify.rules import demo
        >>> print(demo("sort_key_as_first_equal_column", "SELECT a, b, a AS c FROM t ORDER BY 3 LIMIT 2"))
        Sort a NULLS FIRST LIMIT 2
          Project a, b, a AS c
            Scan t(a, b)
    """
    if not (isinstance(rel, ir.Sort) and isinstance(rel.input, ir.Project) and deterministic(rel.input)):
        return None
    exprs = rel.input.exprs

    def first(k: ir.SortKey) -> ir.SortKey:
        if not isinstance(k.expr, ir.Col):
            return k
        same = next(j for j, e in enumerate(exprs) if ir.same(e, exprs[k.expr.index]))
        return k if same == k.expr.index else replace(k, expr=replace(k.expr, index=same))
    keys = tuple(first(k) for k in rel.keys)
    return None if all(a is b for a, b in zip(keys, rel.keys)) else replace(rel, keys=keys)


def sort_of_sorted_merged(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """An ORDER BY over rows an ORDER BY on the same keys sorted and sliced is one ORDER BY with both slices.

    The rows an inner `ORDER BY k LIMIT/OFFSET` keeps come in the order of `k`; row-local
    projections keep that order, sorting them again by the same keys (read through the
    projections) keeps it too, and a LIMIT/OFFSET over them takes a further slice of the same
    sorted list: one sort of the projected rows, with the two slices combined, keeps the same rows
    in the same order. Rows that tie under the keys: which of them are kept is the engine's choice
    in both, as for any ORDER BY ... LIMIT (the top-level comparison says how ties are decided).

        >>> from verify.rules import demo
        >>> print(demo("sort_of_sorted_merged",
        ...            "SELECT a FROM (SELECT * FROM t ORDER BY a LIMIT 5 OFFSET 1) AS x ORDER BY a LIMIT 2"))
        Sort a NULLS FIRST LIMIT 2 OFFSET 1
          Project a
            Project a, b
              Scan t(a, b)
    """
    if not isinstance(rel, ir.Sort) or not rel.keys:
        return None
    below, keys = _sort_keys_below(rel.keys, rel.input)
    if not (isinstance(below, ir.Sort) and _sorts_by(below, keys)):
        return None
    limit, offset = _slice_of_slice(below.limit, below.offset, rel.limit, rel.offset)
    return ir.Sort(rel.columns, _replaced_below(rel.input, below, below.input), rel.keys, limit, offset)


def top_k_of_union_branches_dropped(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """Under an ORDER BY ... LIMIT over UNION ALL, a branch's ORDER BY on the same keys with a LIMIT at least as large (and no OFFSET) is left out.

    With n = LIMIT + OFFSET of the outer sort, the first n rows of the union in the keys' order
    are among the first n rows of each branch in that order, so a branch that keeps at least its
    first n rows keeps every row the outer LIMIT can keep. Rows that tie under the keys: every
    choice one form can make the other can make too, and the engine decides it in both.

        >>> from verify.rules import demo
        >>> print(demo("top_k_of_union_branches_dropped",
        ...            "SELECT a FROM ((SELECT a FROM t ORDER BY a LIMIT 3) UNION ALL "
        ...            "(SELECT id FROM p ORDER BY id LIMIT 5)) AS u ORDER BY a LIMIT 3"))
        Sort a NULLS FIRST LIMIT 3
          Project a
            Union all
              Project a
                Scan t(a, b)
              Project id
                Scan p(id, name, g)
    """
    if not isinstance(rel, ir.Sort) or not rel.keys or rel.limit is None:
        return None
    union, keys = _sort_keys_below(rel.keys, rel.input)
    if not (isinstance(union, ir.SetOp) and union.op == "union" and union.all):
        return None
    unsorted = _branch_sorts_dropped(union, keys, rel.limit + rel.offset)
    if unsorted is union:
        return None
    return replace(rel, input=_replaced_below(rel.input, union, unsorted))


def _branch_sorts_dropped(rel: ir.Rel, keys: tuple[ir.SortKey, ...], n: int) -> ir.Rel:
    """The branches of the UNION ALL tree `rel` without the `ORDER BY keys LIMIT >= n` each ends
    in (under row-local projections); `rel` itself where none does."""
    if isinstance(rel, ir.SetOp) and rel.op == "union" and rel.all:
        left, right = _branch_sorts_dropped(rel.left, keys, n), _branch_sorts_dropped(rel.right, keys, n)
        return rel if (left, right) == (rel.left, rel.right) else replace(rel, left=left, right=right)
    sort, branch_keys = _sort_keys_below(keys, rel)
    if isinstance(sort, ir.Sort) and _sorts_by(sort, branch_keys) and sort.limit is not None \
            and sort.limit >= n and not sort.offset:
        return _replaced_below(rel, sort, sort.input)
    return rel


def _sort_keys_below(keys: tuple[ir.SortKey, ...], rel: ir.Rel) -> tuple[ir.Rel, tuple[ir.SortKey, ...]]:
    """The relation under the row-local projections (no subquery) `rel` starts with, and the sort
    `keys` over `rel`'s columns as expressions of that relation's columns."""
    while isinstance(rel, ir.Project) and plain(rel.exprs):
        keys = tuple(replace(k, expr=substitute(k.expr, list(rel.exprs))) for k in keys)
        rel = rel.input
    return rel, keys


def _sorts_by(sort: ir.Sort, keys: tuple[ir.SortKey, ...]) -> bool:
    """`sort` orders its rows by `keys` (over its columns): the same expressions in the same
    directions, also once both are read through a projection under the sort (where an ORDER BY
    on an expression computes it), a column's affinity (which only comparisons read) set aside."""
    def bare(k: ir.SortKey) -> ir.SortKey:
        return replace(k, expr=replace(k.expr, affinity=None)) if isinstance(k.expr, ir.Col) else k

    def alike(a: tuple[ir.SortKey, ...], b: tuple[ir.SortKey, ...]) -> bool:
        return len(a) == len(b) and ir.same(tuple(map(bare, a)), tuple(map(bare, b)))
    if not sort.keys or alike(keys, sort.keys):
        return bool(sort.keys)
    below, inner = _sort_keys_below(sort.keys, sort.input)
    if below is sort.input:
        return False
    # `keys` read columns the sort passes through: the same columns of its input
    return alike(_sort_keys_below(keys, sort.input)[1], inner)


def _replaced_below(top: ir.Rel, old: ir.Rel, new: ir.Rel) -> ir.Rel:
    """`top`, a chain of one-input operators down to `old`, with `old` replaced by `new`."""
    if top is old:
        return new
    return replace(top, input=_replaced_below(top.input, old, new))  # type: ignore[attr-defined]


def _slice_of_slice(inner_limit: int | None, inner_offset: int, limit: int | None,
                    offset: int) -> tuple[int | None, int]:
    """LIMIT and OFFSET of one slice equal to the slice (`limit`, `offset`) of the slice
    (`inner_limit`, `inner_offset`) of a list (None: no LIMIT).

        >>> _slice_of_slice(5, 1, 2, 0), _slice_of_slice(5, 1, 10, 4), _slice_of_slice(None, 2, None, 3)
        ((2, 1), (1, 5), (None, 5))
    """
    if inner_limit is None:
        return limit, inner_offset + offset
    left = max(0, inner_limit - offset)
    return (left if limit is None else min(limit, left)), inner_offset + offset


def projection_above_join(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A projection of a join's input is computed above the join, where the rows it pads would be NULL either way.

    Each joined row carries one row of each input, so a value computed from one input's row is
    the same computed before or after the join, and the join's condition reads it as the
    expression itself. On the side an outer join pads with NULLs the projection moves only when
    each of its expressions is NULL on an all-NULL row (as the padding is). Projections of
    projections move as one.

        >>> from verify.rules import demo
        >>> print(demo("projection_above_join",
        ...            "SELECT x.s, p.name FROM (SELECT a, a + b AS s FROM t) AS x LEFT JOIN p ON x.a = p.id"))
        Project s, name
          Project a, (a + b) AS s, id, name, g
            Join left ON a = id
              Scan t(a, b)
              Scan p(id, name, g)
    """
    if not isinstance(rel, ir.Join) or rel.kind not in ("inner", "cross", "left", "right", "full"):
        return None
    join: ir.Join = rel
    above: tuple[ir.Expr, ...] | None = None  # the projection over `join`, once one moved up
    for side in ("left", "right"):
        child = one_projection(getattr(join, side))
        if not isinstance(child, ir.Project) or not plain(child.exprs):
            continue
        padded = join.kind == "full" or join.kind == ("left" if side == "right" else "right")
        if padded and not all(null_on_nulls(e, child.input.columns) for e in child.exprs):
            continue
        lifted = _projection_lifted(join, side, child)
        above = lifted.exprs if above is None else tuple(substitute(e, list(lifted.exprs)) for e in above)
        join = lifted.input
    return None if above is None else ir.Project(rel.columns, join, above)


def padded_projection_into_condition(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A projection of a LEFT join's right side whose values above the join are NULL on padding is computed in the join.

    The projection maps each right row to one row, so the join pairs the same rows when its
    condition reads the projected values as the expressions themselves. Above the join, on a row
    the join pads, a projected value the projection over the join reads must be NULL as the
    padding is: that holds for an expression NULL on an all-NULL row; a value read only by the
    condition (Calcite's `LEFT JOIN (SELECT (SELECT ...) AS f) ON TRUE ... ON x.f < y.f`) may be
    anything, since the condition reads only rows that exist.

        >>> from verify.rules import demo
        >>> print(demo("padded_projection_into_condition",
        ...            "SELECT t.a FROM t LEFT JOIN (SELECT pid, 1 AS one FROM q) AS x ON x.pid = t.a AND x.one = t.b"))
        Project a
          Join left ON (pid = a AND 1 = b)
            Scan t(a, b)
            Scan q(qid, pid, v)
    """
    if not (isinstance(rel, ir.Project) and isinstance(rel.input, ir.Join) and rel.input.kind == "left"):
        return None
    join = rel.input
    right = join.right
    if not (isinstance(right, ir.Project) and reads_own_row_only(right.exprs) and reads_own_row_only(rel.exprs)):
        return None
    nl = len(join.left.columns)
    for i in columns_read(rel.exprs):
        if i >= nl and not null_on_nulls(right.exprs[i - nl], right.input.columns):
            return None
    row = [ir.Col(i, c.kind, c.affinity) for i, c in enumerate(join.left.columns)] + [shift(e, nl) for e in right.exprs]
    cond = None if join.cond is None else substitute(join.cond, row)
    joined = ir.Join(join.left.columns + right.input.columns, "left", join.left, right.input, cond)
    return ir.Project(rel.columns, joined, tuple(substitute(e, row) for e in rel.exprs))


def null_tested_marker_as_true(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A constant column of a left join's right side that is only tested for NULL holds TRUE.

    Such a marker (`LEFT JOIN (SELECT x, 1 AS i FROM ...) ... WHERE i IS NOT NULL`, also under
    the subquery's DISTINCT, where a constant column changes nothing) is NULL exactly on the rows
    the join pads, whatever non-NULL constant it holds, so every such marker is written as the
    dialect's TRUE. Done at a projection reading the join through filters
    only, when those and the projection read the marker nowhere but under IS NULL and the join's
    condition does not read it: nothing else sees its value.

        >>> from verify.rules import demo
        >>> print(demo("null_tested_marker_as_true", "SELECT t.a, x.i IS NULL AS u FROM t LEFT JOIN "
        ...            "(SELECT pid, 'yes' AS i FROM q) AS x ON t.a = x.pid"))
        Project a, i IS NULL AS u
          Join left ON a = pid
            Scan t(a, b)
            Project pid, 1 AS i
              Scan q(qid, pid, v)
    """
    if not isinstance(rel, ir.Project):
        return None
    chain: list[ir.Filter] = []
    below = rel.input
    while isinstance(below, ir.Filter):
        chain.append(below)
        below = below.input
    if not isinstance(below, ir.Join) or below.kind != "left":
        return None
    join = below
    right = join.right.input if isinstance(join.right, ir.Distinct) else join.right  # a constant changes no DISTINCT
    if not isinstance(right, ir.Project):
        return None
    readers = tuple(rel.exprs) + tuple(f.cond for f in chain) + ((join.cond,) if join.cond is not None else ())
    if not plain(readers):
        return None
    true = dialect_true(ctx.dialect)
    nl = len(join.left.columns)
    markers = {nl + j for j, e in enumerate(right.exprs)
               if isinstance(e, ir.Lit) and e.value is not None and not ir.same(e, true)
               and not _read_beyond_null_tests(readers, nl + j, join.cond)}
    if not markers:
        return None

    def retyped(e):
        return map_cols(e, lambda c: replace(c, kind=true.kind, affinity=None) if c.index in markers else c)

    exprs = tuple(true if nl + j in markers else e for j, e in enumerate(right.exprs))
    cols = tuple(replace(c, kind=true.kind, affinity=None) if nl + j in markers else c
                 for j, c in enumerate(right.columns))
    right = replace(right, columns=cols, exprs=exprs)
    if isinstance(join.right, ir.Distinct):
        right = ir.Distinct(cols, right)
    out: ir.Rel = replace(join, right=right, columns=join.columns[:nl] + cols)
    for f in reversed(chain):
        out = replace(f, input=out, columns=out.columns, cond=retyped(f.cond))
    return replace(rel, input=out, exprs=tuple(retyped(e) for e in rel.exprs))


def dialect_true(dialect: str) -> ir.Lit:
    """TRUE as the dialect writes it (SQLite has no booleans: 1)."""
    return ir.Lit(True, "bool") if dialect == "duckdb" else ir.Lit(1, "int")


def _read_beyond_null_tests(exprs, index: int, join_cond: ir.Expr | None) -> bool:
    """Column `index` is read in `exprs` other than as `IS NULL`'s operand, or by `join_cond`."""
    def outside(e) -> bool:
        if isinstance(e, ir.IsNull) and isinstance(e.arg, ir.Col) and e.arg.index == index:
            return False
        if isinstance(e, ir.Col):
            return e.index == index
        return any(outside(x) for x in ir.children(e, into_subqueries=False) if isinstance(x, ir.Expr))
    return (join_cond is not None and index in columns_read((join_cond,))) or any(outside(e) for e in exprs)


def one_projection(rel: ir.Rel) -> ir.Rel:
    """`rel` with the row-local projections (no subquery) it starts with merged into one."""
    if not (isinstance(rel, ir.Project) and isinstance(rel.input, ir.Project)
            and plain(rel.exprs) and plain(rel.input.exprs)):
        return rel
    return one_projection(projections_merged(rel, None))  # type: ignore[arg-type] - it reads no context


def _projection_lifted(j: ir.Join, side: str, child: ir.Project) -> ir.Project:
    """`j` with the projection `child` (its `side` input) applied above it (`projection_above_join`)."""
    inner = child.input
    nl = len(j.left.columns)
    if side == "left":
        width = len(inner.columns)
        exprs = list(child.exprs) + [ir.Col(width + i, c.kind, c.affinity) for i, c in enumerate(j.right.columns)]
        joined = ir.Join(inner.columns + j.right.columns, j.kind, inner, j.right, None)
    else:
        exprs = [ir.Col(i, c.kind, c.affinity) for i, c in enumerate(j.left.columns)] + [shift(e, nl)
                                                                                          for e in child.exprs]
        joined = ir.Join(j.left.columns + inner.columns, j.kind, j.left, inner, None)
    cond = None if j.cond is None else substitute(j.cond, exprs)
    return ir.Project(j.columns, replace(joined, cond=cond), tuple(exprs))


def grouping_without_aggregates_as_distinct(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A GROUP BY without aggregates is the DISTINCT rows of its keys.

    Both keep one row per group of rows whose keys are equal (NULLs together); where equal values
    of the keys' kinds are identical (integers, text, dates, booleans) which row stands for the
    group does not matter.

        >>> from verify.rules import demo
        >>> print(demo("grouping_without_aggregates_as_distinct", "SELECT a FROM t WHERE b > 1 GROUP BY a"))
        Project _key0 AS a
          Distinct
            Project a AS _key0
              Filter b > 1
                Scan t(a, b)
    """
    if not isinstance(rel, ir.Aggregate) or not rel.grouped or rel.items or not rel.keys:
        return None
    if not plain(rel.keys) or any(k.kind not in IDENTICAL_WHEN_EQUAL for k in rel.keys):
        return None
    keys = ir.Project(rel.columns, rel.input, rel.keys)
    return ir.Distinct(rel.columns, keys)


def constants_outside_distinct(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """Constant columns of DISTINCT rows are added after the DISTINCT; constants over DISTINCT constants are the DISTINCT constants.

    Rows that agree on the other columns agree on a constant one, so DISTINCT keeps the same
    rows with or without it. Rows made of constants only are one row when there is any row and
    none otherwise, so other constants computed from that row are the DISTINCT rows of those
    constants. (The first form keeps DISTINCT over the varying columns; the second keeps the
    constants inside: each plan has one form.) Projections of projections under the DISTINCT are
    read as one.

        >>> from verify.rules import demo
        >>> print(demo("constants_outside_distinct", "SELECT DISTINCT a, 1 AS one FROM t"))
        Project a, 1 AS one
          Distinct
            Project a
              Scan t(a, b)
    """
    inner = one_projection(rel.input) if isinstance(rel, ir.Distinct) else None  # projections of projections as one
    if isinstance(inner, ir.Project) and plain(inner.exprs):
        varying = [n for n, e in enumerate(inner.exprs) if not isinstance(e, ir.Lit)]
        if not varying or len(varying) == len(inner.exprs):
            return None
        cols = tuple(inner.columns[n] for n in varying)
        kept = ir.Distinct(cols, ir.Project(cols, inner.input, tuple(inner.exprs[n] for n in varying)))
        exprs = tuple(e if isinstance(e, ir.Lit) else ir.Col(varying.index(n), c.kind, c.affinity)
                      for n, (e, c) in enumerate(zip(inner.exprs, inner.columns)))
        return ir.Project(rel.columns, kept, exprs)
    if isinstance(rel, ir.Project) and all(isinstance(e, ir.Lit) for e in rel.exprs) \
            and isinstance(rel.input, ir.Distinct) and isinstance(rel.input.input, ir.Project) \
            and all(isinstance(e, ir.Lit) for e in rel.input.input.exprs):
        return ir.Distinct(rel.columns, ir.Project(rel.columns, rel.input.input.input, rel.exprs))
    return None


def union_as_distinct_union_all(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """`A UNION B` is the DISTINCT rows of `A UNION ALL B`.

    UNION keeps one row of each group of equal rows (NULLs together) of both inputs, as DISTINCT
    does of their concatenation; where equal values of the columns' kinds are identical
    (integers, text, dates, booleans) which row stands for a group does not matter.

        >>> from verify.rules import demo
        >>> print(demo("union_as_distinct_union_all", "SELECT a FROM t UNION SELECT id FROM p"))
        Distinct
          Union all
            Project a
              Scan t(a, b)
            Project id
              Scan p(id, name, g)
    """
    if not isinstance(rel, ir.SetOp) or rel.op != "union" or rel.all:
        return None
    if any(c.kind not in IDENTICAL_WHEN_EQUAL for c in rel.columns):
        return None
    return ir.Distinct(rel.columns, replace(rel, all=True))


def except_of_itself(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """`X EXCEPT [ALL] X`, or an EXCEPT of an always empty input, is empty.

        >>> from verify.rules import demo
        >>> print(demo("except_of_itself", "SELECT a FROM t EXCEPT SELECT a FROM t"))
        Values(a) no rows
    """
    if not (isinstance(rel, ir.SetOp) and rel.op == "except"):
        return None
    if always_empty(rel.left) or (same_plan(rel.left, rel.right) and deterministic(rel.left)):
        return ir.Values(rel.columns, ())
    return None


def except_or_intersect_of_filters(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """EXCEPT or INTERSECT of two filters of one input is one filter of it.

    A row of `R WHERE p` and a row of `R WHERE q` compare equal exactly when they hold the same
    values, and then `q`, which reads the row alone, is TRUE for both or for neither (every
    column's equal values are identical: an exact kind, no collation but BINARY). So `R WHERE p
    EXCEPT ALL R WHERE q` keeps every copy of a row where `p` is TRUE and `q` is not (the copies
    where `q` holds take all of them away, or none), INTERSECT ALL every copy where both are;
    without ALL, the same rows once. An input without WHERE is filtered by TRUE.

        >>> from verify.rules import demo
        >>> print(demo("except_or_intersect_of_filters", "SELECT * FROM t WHERE a > 0 EXCEPT SELECT * FROM t WHERE b < 5"))
        Distinct
          Filter (a > 0 AND CASE WHEN b < 5 THEN FALSE ELSE TRUE END)
            Scan t(a, b)
    """
    if not (isinstance(rel, ir.SetOp) and rel.op in ("except", "intersect")):
        return None
    (p, source), (q, other) = _filtered(rel.left), _filtered(rel.right)
    if not (same_plan(source, other) and deterministic(source) and plain((p, q))
            and all(c.kind in IDENTICAL_WHEN_EQUAL for c in source.columns)
            and not any(col.collation for n in ir.nodes(source) if isinstance(n, ir.Scan)
                        and ctx.schema.has_table(n.table) for col in ctx.schema.table(n.table).columns)):
        return None
    true, false = ir.Lit(True, "bool"), ir.Lit(False, "bool")
    second = q if rel.op == "intersect" else ir.Case(((q, false),), true, "bool")  # q is not TRUE
    kept = conjunction([c for c in (p, second) if not (isinstance(c, ir.Lit) and c.value is True)] or [true])
    out: ir.Rel = ir.Filter(rel.columns, source, kept)
    if not deterministic(out):
        return None
    return out if rel.all else ir.Distinct(rel.columns, out)


def _filtered(rel: ir.Rel) -> tuple[ir.Expr, ir.Rel]:
    """The condition and input of a filter (under projections passing its columns through), or
    TRUE and `rel` itself."""
    rel = unwrapped(rel)
    if isinstance(rel, ir.Filter):
        return rel.cond, unwrapped(rel.input)
    return ir.Lit(True, "bool"), rel


def duplicates_dropped_below_set_reader(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """Below an operator that reads only which rows its input holds, inner DISTINCTs are dropped.

        >>> from verify.rules import demo
        >>> print(demo("duplicates_dropped_below_set_reader",
        ...            "SELECT DISTINCT a FROM (SELECT DISTINCT a, b FROM t)"))
        Distinct
          Project a
            Project a, b
              Scan t(a, b)
    """
    return _set_reader(rel)


def unread_left_join_below_set_reader(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """Below an operator that reads only which rows its input holds, a left join whose right columns nothing reads is left out.

    `A LEFT JOIN B` holds each row of A at least once (matched, or padded with NULLs), so the
    rows it holds, read only on A's columns, are the rows of A (likewise `B RIGHT JOIN A`): how
    often each appears is all the join changes, and the reader above (a DISTINCT, an aggregate of DISTINCT values or MIN/MAX,
    a UNION or INTERSECT without ALL) does not see it. The right side's columns, which nothing
    reads, become NULLs. Walked through projections, filters, inner joins and UNION ALL, keeping
    track of the columns each reads.

        >>> from verify.rules import demo
        >>> print(demo("unread_left_join_below_set_reader",
        ...            "SELECT DISTINCT t.a FROM t LEFT JOIN q ON t.b = q.v"))
        Distinct
          Project a
            Project a, b, NULL AS qid, NULL AS pid, NULL AS v
              Scan t(a, b)
    """
    return _set_inputs_rewritten(rel, _unread_left_joins_dropped)


def _set_reader_inputs(rel: ir.Rel) -> list[tuple[str, set[int]]] | None:
    """The inputs of `rel` it reads as sets (only which rows they hold), each with the columns
    `rel` reads of it (of kinds whose equal values are identical: which of equal rows stands
    for them does not matter); None when `rel` reads no input so."""
    if isinstance(rel, ir.Aggregate):
        if any(not isinstance(it, ir.Agg) or not (it.distinct or it.func in _SET_AGGREGATES) for it in rel.items):
            return None
        reads = rel.keys + tuple(x for it in rel.items for x in (it.arg, getattr(it, "filter", None)) if x is not None)
        if not plain(reads):
            return None
        inputs = [("input", columns_read(reads))]
    elif isinstance(rel, ir.Distinct):
        inputs = [("input", set(range(len(rel.columns))))]
    elif isinstance(rel, ir.SetOp) and not rel.all:
        everything = set(range(len(rel.columns)))
        inputs = [("left", everything), ("right", set(everything))]
    else:
        return None
    return [(name, read) for name, read in inputs
            if all(c.kind in IDENTICAL_WHEN_EQUAL for c in getattr(rel, name).columns)]


def _unread_left_joins_dropped(rel: ir.Rel, read: set[int]) -> ir.Rel:
    """`rel`, read as a set on the columns `read` only, without the left joins whose right columns
    nothing reads (`unread_left_join_below_set_reader`)."""
    if isinstance(rel, ir.Project) and plain(rel.exprs):
        inner = _unread_left_joins_dropped(rel.input, columns_read(rel.exprs[i] for i in sorted(read)))
        return rel if inner is rel.input else replace(rel, input=inner)
    if isinstance(rel, ir.Filter) and plain((rel.cond,)):
        inner = _unread_left_joins_dropped(rel.input, read | columns_read((rel.cond,)))
        return rel if inner is rel.input else replace(rel, input=inner)
    if isinstance(rel, ir.SetOp) and rel.op == "union" and rel.all:
        left, right = _unread_left_joins_dropped(rel.left, read), _unread_left_joins_dropped(rel.right, read)
        return rel if (left, right) == (rel.left, rel.right) else replace(rel, left=left, right=right)
    if isinstance(rel, ir.Distinct):
        inner = _unread_left_joins_dropped(rel.input, read)
        return rel if inner is rel.input else replace(rel, input=inner)
    if not (isinstance(rel, ir.Join) and rel.kind in ("inner", "cross", "left", "right", "full")
            and plain(() if rel.cond is None else (rel.cond,))):
        return rel
    n = len(rel.left.columns)
    if rel.kind == "left" and all(i < n for i in read):
        left = _unread_left_joins_dropped(rel.left, read)
        return ir.Project(rel.columns, left, tuple(ir.Col(i, c.kind, c.affinity) for i, c in enumerate(left.columns))
                          + tuple(ir.Lit(None, c.kind) for c in rel.columns[n:]))
    if rel.kind == "right" and all(i >= n for i in read):
        right = _unread_left_joins_dropped(rel.right, {i - n for i in read})
        return ir.Project(rel.columns, right, tuple(ir.Lit(None, c.kind) for c in rel.columns[:n])
                          + tuple(ir.Col(i, c.kind, c.affinity) for i, c in enumerate(right.columns)))
    both = read | (set() if rel.cond is None else columns_read((rel.cond,)))
    left = _unread_left_joins_dropped(rel.left, {i for i in both if i < n})
    right = _unread_left_joins_dropped(rel.right, {i - n for i in both if i >= n})
    return rel if (left, right) == (rel.left, rel.right) else replace(rel, left=left, right=right)


def facts_across_join(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A fact of one side of an inner join filters the other side where the join equates the columns.

        >>> from verify.rules import demo
        >>> print(demo("facts_across_join",
        ...            "SELECT t.a FROM (SELECT a FROM t WHERE a > 7) AS x JOIN t ON x.a = t.b"))
        Project a#1 AS a
          Join inner ON a#0 = b
            Project a
              Filter a > 7
                Scan t(a, b)
            Filter b > 7
              Scan t(a, b)
    """
    return _facts_across(rel) if isinstance(rel, ir.Join) and rel.kind in ("inner", "cross") else None


def right_join_as_left(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """`A RIGHT JOIN B` is `B LEFT JOIN A` with its columns put back in order.

        >>> from verify.rules import demo
        >>> print(demo("right_join_as_left", "SELECT t.a, p.name FROM t RIGHT JOIN p ON t.a = p.id"))
        Project a, name
          Project a, b, id, name, g
            Join left ON a = id
              Scan p(id, name, g)
              Scan t(a, b)
    """
    return _swapped(rel) if isinstance(rel, ir.Join) and rel.kind == "right" else None


def left_join_above_inner_join(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """An inner join with a left join below it (under filters and projections) joins first, the left join after.

    `(A LEFT JOIN C ON p) JOIN B ON q` is `(A CROSS JOIN B) LEFT JOIN C ON p`, filtered by `q`:
    the LEFT JOIN's ON reads only A and C, so each row of A x B is matched with the same rows of
    C (or padded) as its A part alone; an inner join is a filter on the cross join, and where
    `q` reads only A and B it filters them before the left join (`A JOIN B ON q`). Filters and
    row-local projections between the inner join and the left join (an anti join's
    `_in IS NULL`, a column list) move above it, reading the same values. So a left join written
    inside one operand of an inner join meets the same left join written over both.

        >>> from verify.rules import demo
        >>> print(demo("left_join_above_inner_join", "SELECT x.a, p.name FROM (SELECT t.a, q.v FROM t LEFT JOIN q "
        ...            "ON t.a = q.pid WHERE q.v IS NULL) AS x JOIN p ON x.a = p.id"))
        Project a, name
          Project a, v, id, name, g
            Project a, v, id, name, g
              Filter v IS NULL
                Join left ON a = pid
                  Join inner ON a = id
                    Scan t(a, b)
                    Scan p(id, name, g)
                  Scan q(qid, pid, v)
    """
    if not (isinstance(rel, ir.Join) and rel.kind in ("inner", "cross")):
        return None
    for side in ("left", "right"):
        found = _left_join_under(getattr(rel, side))
        if found is not None:
            break
    else:
        return None
    chain, lj = found
    other = rel.right if side == "left" else rel.left
    na, nb = len(lj.left.columns), len(other.columns)
    first, second = (lj.left, other) if side == "left" else (other, lj.left)
    at = 0 if side == "left" else nb  # where A's columns start in A x B (or B x A)

    def col(i: int, c: ir.OutCol) -> ir.Col:
        return ir.Col(i, c.kind, c.affinity)

    # the left join's columns as columns of (A x B) LEFT JOIN C, and B's columns there
    base = [col(at + i if i < na else na + nb + i - na, c) for i, c in enumerate(lj.columns)]
    b_base = [col((0 if side == "right" else na) + k, c) for k, c in enumerate(other.columns)]
    # the inner join's condition as a condition on A x B, where it reads only those columns
    # through the filters and projections (then it joins A and B below the left join)
    here = base
    for op in reversed(chain):
        if isinstance(op, ir.Project):
            here = [substitute(e, here) for e in op.exprs]
    inner_cond = None
    if rel.cond is not None:
        q = substitute(rel.cond, here + b_base if side == "left" else b_base + here)
        if reads_only(q, range(na + nb)):
            inner_cond = q
    pair = ir.Join(first.columns + second.columns, "inner" if inner_cond is not None else "cross", first, second,
                   inner_cond)
    cond = map_cols(lj.cond, lambda c: ir.Col(c.index + (at if c.index < na else nb), c.kind, c.affinity)) \
        if lj.cond is not None else None
    top: ir.Rel = ir.Join(pair.columns + lj.right.columns, "left", pair, lj.right, cond)
    here, b_cols = base, b_base  # the rebuilt operator's columns, as columns of `top`
    for op in reversed(chain):
        if isinstance(op, ir.Filter):
            top = ir.Filter(top.columns, top, substitute(op.cond, here))
            continue
        top = ir.Project(op.columns + other.columns, top, tuple(substitute(e, here) for e in op.exprs) + tuple(b_cols))
        here = [col(i, c) for i, c in enumerate(op.columns)]
        b_cols = [col(len(op.columns) + k, c) for k, c in enumerate(other.columns)]
    # back in the inner join's column order; its condition as a filter unless it joined A and B
    top = ir.Project(rel.columns, top, tuple(b_cols + here) if side == "right" else tuple(here + b_cols))
    return top if rel.cond is None or inner_cond is not None else ir.Filter(rel.columns, top, rel.cond)


def _left_join_under(rel: ir.Rel) -> tuple[list[ir.Rel], ir.Join] | None:
    """(the filters and row-local projections above it, top first; the left join) when `rel`
    is a left join under such operators only, else None."""
    chain: list[ir.Rel] = []
    while isinstance(rel, (ir.Filter, ir.Project)) and plain(row_exprs(rel) or ()):
        chain.append(rel)
        rel = rel.input
    if isinstance(rel, ir.Join) and rel.kind == "left":
        return chain, rel
    return None


def outer_join_of_nothing_padded(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """An outer join whose other side never has a row pads every row of its preserved side with NULLs.

    No row of the preserved side (a LEFT join's left, a RIGHT join's right, either side of a
    FULL join) finds a match on a side that is always empty (`always_empty`: no VALUES row, a
    constantly false WHERE, ...), so each one is output once with NULLs for the other side's
    columns, and the empty side adds no row of its own.

        >>> from verify.rules import demo
        >>> print(demo("outer_join_of_nothing_padded", "SELECT * FROM t LEFT JOIN (SELECT * FROM q WHERE 1 = 0) AS x ON t.a = x.pid"))
        Project a, b, qid, pid, v
          Project a, b, NULL AS qid, NULL AS pid, NULL AS v
            Scan t(a, b)
    """
    if not (isinstance(rel, ir.Join) and rel.kind in ("left", "right", "full")):
        return None
    nl = len(rel.left.columns)
    if rel.kind in ("left", "full") and always_empty(rel.right):
        return ir.Project(rel.columns, rel.left, tuple(ir.Col(i, c.kind, c.affinity)
                                                       for i, c in enumerate(rel.left.columns))
                          + tuple(ir.Lit(None, c.kind) for c in rel.columns[nl:]))
    if rel.kind in ("right", "full") and always_empty(rel.left):
        return ir.Project(rel.columns, rel.right, tuple(ir.Lit(None, c.kind) for c in rel.columns[:nl])
                          + tuple(ir.Col(i, c.kind, c.affinity) for i, c in enumerate(rel.right.columns)))
    return None


def left_join_filter_into_on(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A filter on a left join's right side joins its ON condition (a row it drops matches nothing).

        >>> from verify.rules import demo
        >>> print(demo("left_join_filter_into_on",
        ...            "SELECT p.name, x.v FROM p LEFT JOIN (SELECT * FROM q WHERE v > 1) AS x ON p.id = x.pid"))
        Project name, v
          Join left ON (id = pid AND v > 1)
            Scan p(id, name, g)
            Scan q(qid, pid, v)
    """
    if not (isinstance(rel, ir.Join) and rel.kind == "left"):
        return None
    right = unwrapped(rel.right)
    if not (isinstance(right, ir.Filter) and plain((right.cond,))):
        return None
    cond = shift(right.cond, len(rel.left.columns))
    both = cond if rel.cond is None else ir.BoolOp("and", (rel.cond, cond))
    return replace(rel, right=right.input, cond=both)


def filters_merged(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A filter of a filter is one filter of both conditions.

    A row passes both exactly when both conditions are true on it (each reads the same row);
    one filter lets the rules that split a filter's conjuncts (`filter_before_left_join`, ...)
    see them all.

        >>> from verify.plan_text import show
        >>> a, b = ir.Col(0, "int"), ir.Col(1, "int")
        >>> t = ir.Scan((ir.OutCol("a", "int"), ir.OutCol("b", "int")), "t")
        >>> one = ir.Filter(t.columns, t, ir.Cmp(">", a, ir.Lit(1, "int"), "num"))
        >>> print(show(filters_merged(ir.Filter(t.columns, one, ir.Cmp("<", b, ir.Lit(2, "int"), "num")), None)))
        Filter (a > 1 AND b < 2)
          Scan t(a, b)
    """
    if not (isinstance(rel, ir.Filter) and isinstance(rel.input, ir.Filter)):
        return None
    inner = rel.input
    return ir.Filter(rel.columns, inner.input, conjunction(conjuncts(inner.cond) + conjuncts(rel.cond)))


def filter_below_project(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A filter over a projection filters the projection's input instead.

        >>> from verify.rules import demo
        >>> print(demo("filter_below_project", "SELECT * FROM (SELECT a + 1 AS c FROM t) WHERE c > 2"))
        Project c
          Project (a + 1) AS c
            Filter (a + 1) > 2
              Scan t(a, b)
    """
    if not (isinstance(rel, ir.Filter) and reads_own_row_only((rel.cond,))):
        return None
    inner = rel.input
    if not (isinstance(inner, ir.Project) and reads_own_row_only(inner.exprs)):
        return None
    below = ir.Filter(inner.input.columns, inner.input, substitute(rel.cond, list(inner.exprs)))
    return ir.Project(inner.columns, below, inner.exprs)


def filter_below_distinct(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A filter over DISTINCT rows filters the rows before the DISTINCT.

    The condition reads one row's values, the same on every copy of it, so it keeps or drops all
    copies together; where equal values are identical (`IDENTICAL_WHEN_EQUAL`, not 1 against 1.0)
    which copy DISTINCT keeps does not matter.

        >>> from verify.rules import demo
        >>> print(demo("filter_below_distinct", "SELECT * FROM (SELECT DISTINCT a, b FROM t) WHERE b > 2"))
        Project a, b
          Distinct
            Filter b > 2
              Project a, b
                Scan t(a, b)
    """
    if not (isinstance(rel, ir.Filter) and plain((rel.cond,)) and isinstance(rel.input, ir.Distinct)):
        return None
    inner = rel.input
    if any(c.kind not in IDENTICAL_WHEN_EQUAL for c in inner.columns):
        return None
    return ir.Distinct(inner.columns, ir.Filter(inner.input.columns, inner.input, rel.cond))


def filtered_full_join_as_right(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A filter rejecting the rows a FULL join pads on the right makes it a RIGHT (then LEFT) join.

        >>> from verify.rules import demo
        >>> print(demo("filtered_full_join_as_right",
        ...            "SELECT * FROM t FULL JOIN q ON t.a = q.pid WHERE q.v = 1"))
        Project a, b, qid, pid, v
          Filter v = 1
            Project a, b, qid, pid, v
              Join left ON a = pid
                Scan q(qid, pid, v)
                Scan t(a, b)
    """
    if _filtered_outer_join(rel) != "right":
        return None
    j = rel.input
    return ir.Filter(j.columns, _swapped(replace(j, kind="right")), rel.cond)


def filtered_outer_join_narrowed(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A filter rejecting the NULLs an outer join pads with narrows it to inner (or FULL to LEFT).

        >>> from verify.rules import demo
        >>> print(demo("filtered_outer_join_narrowed",
        ...            "SELECT * FROM t LEFT JOIN q ON t.a = q.pid WHERE q.v = 1"))
        Project a, b, qid, pid, v
          Filter v = 1
            Join inner ON a = pid
              Scan t(a, b)
              Scan q(qid, pid, v)
    """
    kind = _filtered_outer_join(rel)
    if kind is None or kind == "right" or kind == rel.input.kind:
        return None
    return ir.Filter(rel.input.columns, replace(rel.input, kind=kind), rel.cond)


def outer_join_narrowed_by_join_condition(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A join condition rejecting the NULLs a LEFT join below it pads with narrows that join to inner.

    Below the inner side of a join (either side of an inner join, the right side of a LEFT
    join), a row of `A LEFT JOIN B` that B padded with NULLs meets no row when the condition is
    never true on B's NULLs: it adds nothing, and the inner join, which leaves such rows out,
    gives the same rows (Calcite's outer-join simplification). Read through the projection
    between the two joins.

        >>> from verify.rules import demo
        >>> print(demo("outer_join_narrowed_by_join_condition", "SELECT p.id, x.v FROM p LEFT JOIN "
        ...            "(SELECT t.a, q.v FROM t LEFT JOIN q ON t.a = q.pid) AS x ON x.v = p.g"))
        Project id, v
          Join left ON v = g
            Scan p(id, name, g)
            Project a, v
              Join inner ON a = pid
                Scan t(a, b)
                Scan q(qid, pid, v)
    """
    if not (isinstance(rel, ir.Join) and rel.kind in ("inner", "cross", "left") and rel.cond is not None
            and plain((rel.cond,))):
        return None
    n = len(rel.left.columns)
    sides = (("right", n),) if rel.kind == "left" else (("left", 0), ("right", n))
    for side, offset in sides:
        narrowed = _narrowed_below(getattr(rel, side), rel.cond, offset, rel.columns)
        if narrowed is not None:
            return replace(rel, **{side: narrowed})
    return None


def _narrowed_below(child: ir.Rel, cond: ir.Expr, offset: int, columns) -> ir.Rel | None:
    """`child` (at `offset` among `columns`, the row `cond` reads) with the LEFT join it is, or
    that a projection of it reads, made inner when `cond` rejects that join's padding."""
    top = one_projection(child)
    inner = top.input if isinstance(top, ir.Project) else top
    if not (isinstance(inner, ir.Join) and inner.kind == "left") or \
            isinstance(top, ir.Project) and not (plain(top.exprs) and deterministic(top)):
        return None
    exprs = list(top.exprs) if isinstance(top, ir.Project) else \
        [ir.Col(i, c.kind, c.affinity) for i, c in enumerate(inner.columns)]
    width = len(columns)
    # the condition over the outer row's other columns (kept where they are), then the inner join's
    moved = map_cols(cond, lambda c: shift(exprs[c.index - offset], width)
                     if offset <= c.index < offset + len(child.columns) else c)
    row = tuple(columns) + tuple(inner.columns)
    padded = range(width + len(inner.left.columns), width + len(inner.columns))
    if not rejects_nulls(moved, row, padded):
        return None
    narrowed = replace(inner, kind="inner")
    return replace(top, input=narrowed) if isinstance(top, ir.Project) else narrowed


def filter_before_left_join(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """The conjuncts of a filter of a left join that read the preserved side only filter that side first.

    Each row of the join comes from one row of the preserved side (matched, or padded with
    NULLs), so a condition on that row's columns keeps or drops the same rows whether it is
    tested before or after the join; the other conjuncts stay above it.

        >>> from verify.rules import demo
        >>> print(demo("filter_before_left_join", "SELECT * FROM t LEFT JOIN q ON t.a = q.pid WHERE t.b = 1"))
        Project a, b, qid, pid, v
          Join left ON a = pid
            Filter b = 1
              Scan t(a, b)
            Scan q(qid, pid, v)
    """
    kind = _filtered_outer_join(rel)
    if kind != "left" or rel.input.kind != "left":
        return None
    j = rel.input
    left_only = range(len(j.left.columns))
    first = [c for c in conjuncts(rel.cond) if reads_only(c, left_only)]
    rest = [c for c in conjuncts(rel.cond) if not reads_only(c, left_only)]
    if not first:
        return None
    join = replace(j, left=ir.Filter(j.left.columns, j.left, conjunction(first)))
    return join if not rest else ir.Filter(rel.columns, join, conjunction(rest))


def projections_merged(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A projection of a projection is one projection.

        >>> from verify.rules import demo
        >>> print(demo("projections_merged", "SELECT x + 1 AS y FROM (SELECT a * 2 AS x FROM t)"))
        Project ((a * 2) + 1) AS y
          Scan t(a, b)
    """
    if not (isinstance(rel, ir.Project) and reads_own_row_only(rel.exprs)):
        return None
    inner = rel.input
    if not (isinstance(inner, ir.Project) and reads_own_row_only(inner.exprs)):
        return None
    return ir.Project(rel.columns, inner.input, tuple(substitute(e, list(inner.exprs)) for e in rel.exprs))


def reads_own_row_only(exprs, *, correlated: bool = False) -> bool:
    """Do `exprs` read nothing but their own row's columns and scalar or EXISTS subqueries that
    read no enclosing row and leave the engine no choice (no ORDER BY or LIMIT, whose tied rows
    two plans may choose differently, no bare column): subqueries whose values are the same
    wherever, and in whichever query, they are computed? (An IN subquery is left out: its
    comparison reads columns of its own, `ir.InSubquery`.) With `correlated`, the subqueries
    may also read the row the expressions are computed on (not one further out): their values
    are then the same on the same row (what the row-wise comparison of identical expressions
    needs, not a rule that moves them to another row)."""
    deepest = 1 if correlated else 0

    def ok(node) -> bool:
        if isinstance(node, (ir.ScalarSubquery, ir.Exists)) and (free_depth(node.query) > deepest
                                                                 or not deterministic(node.query)):
            return False
        if isinstance(node, (ir.Outer, ir.WinRef, ir.ExistsAt, ir.InSubquery)):
            return False
        return all(ok(c) for c in ir.children(node, into_subqueries=False))
    return all(ok(e) for e in exprs)


def _filtered_outer_join(rel: ir.Rel) -> str | None:
    """For a plain filter over a LEFT or FULL join, the join's kind given that the filter drops
    every row its condition is not true on: 'inner', 'left', 'right' or 'full'; else None."""
    if not (isinstance(rel, ir.Filter) and plain((rel.cond,))):
        return None
    j = rel.input
    if not (isinstance(j, ir.Join) and j.kind in ("left", "full")):
        return None
    na, width = len(j.left.columns), len(j.columns)
    # rows padded on the right (a left row with no match) / on the left (FULL: a right row with none)
    drops_right_padded = rejects_nulls(rel.cond, j.columns, range(na, width))
    drops_left_padded = j.kind == "left" or rejects_nulls(rel.cond, j.columns, range(na))
    return {(True, True): "inner", (False, True): "left", (True, False): "right",
            (False, False): "full"}[(drops_right_padded, drops_left_padded)]


def flatten(outer: ir.Aggregate) -> ir.Rel | None:
    """An aggregate over partial aggregates (one, or the branches of a UNION ALL), as one
    aggregate over the partials' inputs, when the outer one only coarsens the inner groups and
    combines partial results exactly:

        SELECT d, SUM(c) FROM (SELECT d, s, COUNT(*) AS c FROM t GROUP BY d, s) GROUP BY d
            = SELECT d, COUNT(*) FROM t GROUP BY d
        SELECT d, COUNT(s) FROM (SELECT d, s FROM t GROUP BY d, s) GROUP BY d
            = SELECT d, COUNT(DISTINCT s) FROM t GROUP BY d
        SELECT d, SUM(c) FROM (SELECT d, COUNT(x) AS c FROM t GROUP BY d UNION ALL
                               SELECT d, COUNT(x) FROM u GROUP BY d) GROUP BY d
            = SELECT d, COUNT(x) FROM (SELECT d, x FROM t UNION ALL SELECT d, x FROM u) GROUP BY d

    Where each outer group is one inner row (one partial aggregate, grouped by the outer keys),
    SUM, MIN or MAX of a partial result is that result. Otherwise
    SUM of partial SUMs is the SUM, MIN of MINs the MIN, MAX of MAXs the MAX, AND/OR of partial
    AND/ORs the AND/OR, SUM of partial COUNTs the COUNT (without GROUP BY: NULL instead of 0 on
    no row, so the result is then a projection of the aggregate; partials without GROUP BY, one
    row each even over no row, are read only by an aggregate without GROUP BY, where a SUM of
    their COUNTs is never NULL); an inner key aggregated once
    per inner group is DISTINCT key (COUNT, SUM, an AVG of integers) when the inner keys are the
    outer keys and it; MIN, MAX, BIT_AND, BIT_OR, BOOL_AND, BOOL_OR of an inner key read each
    value however often it appears. The result
    reads a UNION ALL of the partials' inputs projected to the keys and arguments (`preprojected`
    layout). None when the shape is not this one."""
    branches = _partials(outer.input)
    if not branches or not (branches[0][0].grouped or not outer.grouped):
        return None  # partials without GROUP BY (one row each, also over no row) only under one without

    def role(b: int, e: ir.Expr) -> tuple[str, object] | None:  # ('key', expr) or ('item', Agg)
        agg, renames = branches[b]
        if not isinstance(e, ir.Col):
            return None
        i = renames[e.index].index if renames is not None else e.index
        nk = len(agg.keys)
        return ("key", agg.keys[i]) if i < nk else ("item", agg.items[i - nk])

    n = len(branches)
    key_exprs: list[list[ir.Expr]] = []  # per outer key: its expression in each branch
    for k in outer.keys:
        roles = [role(b, k) for b in range(n)]
        if any(r is None or r[0] != "key" for r in roles):
            return None
        key_exprs.append([r[1] for r in roles])
    items: list[tuple[str, bool, list[ir.Expr | None], list[ir.Expr | None], str]] = []
    nullif_zero: list[int] = []  # outer item positions that are NULL instead of 0 on no row
    # each outer group is one inner row: one partial aggregate, grouped alike by the same keys
    once_per_group = n == 1 and branches[0][0].grouped == outer.grouped and \
        {ir.key(x) for x in branches[0][0].keys} == {ir.key(ke[0]) for ke in key_exprs}
    for m, it in enumerate(outer.items):
        if not isinstance(it, ir.Agg) or it.filter is not None or it.arg is None:
            return None
        parts = counted_parts(it)
        if parts is not None and n == 1:  # the inner groups, counted where no key of `parts` is NULL
            part_roles = [role(0, c) for c in parts]
            if all(r is not None and r[0] == "key" for r in part_roles):
                ks = [r[1] for r in part_roles]  # type: ignore[index]
                if {ir.key(x) for x in branches[0][0].keys} == \
                        {ir.key(ke[0]) for ke in key_exprs} | {ir.key(k) for k in ks}:
                    arg = ks[0] if len(ks) == 1 else ir.Func(FuncName.TUPLE, tuple(ks), "null")
                    items.append(("count", True, [arg], [None], it.kind))
                    continue
        roles = [role(b, it.arg) for b in range(n)]
        if any(r is None for r in roles) or len({r[0] for r in roles}) != 1:
            return None
        if roles[0][0] == "item":
            parts = [r[1] for r in roles]
            if once_per_group and it.func in ("sum", "min", "max") and it.kind == parts[0].kind:
                p = parts[0]  # the outer group's one inner row: its value
                items.append((p.func, p.distinct, [p.arg], [p.filter], it.kind))
                continue
            funcs = {p.func for p in parts}
            if len(funcs) != 1 or any(p.distinct for p in parts) or it.distinct:
                return None
            func = funcs.pop()
            if it.func == "sum" and func in ("count", "count_star"):
                if not outer.grouped and branches[0][0].grouped:  # no group: no partial row
                    nullif_zero.append(m)
            elif (it.func, func) not in (("sum", "sum"), ("min", "min"), ("max", "max"),
                                         ("bool_and", "bool_and"), ("bool_or", "bool_or")):
                return None
            items.append((func, False, [p.arg for p in parts], [p.filter for p in parts], it.kind))
        else:
            ks = [r[1] for r in roles]
            once_per_value = n == 1 and {ir.key(x) for x in branches[0][0].keys} == \
                {ir.key(ke[0]) for ke in key_exprs} | {ir.key(ks[0])}
            if it.func in _SET_AGGREGATES:  # duplicates change none of these
                items.append((it.func, False, ks, [None] * n, it.kind))
            elif (it.func in ("count", "sum") or it.func == "avg" and ks[0].kind == "int") \
                    and (it.distinct or once_per_value):  # an AVG of integers sums them exactly
                items.append((it.func, True, ks, [None] * n, it.kind))
            else:
                return None
    agg = _over_union([a.input for a, _ in branches], key_exprs, items, outer)
    if agg is None or not nullif_zero:
        return agg
    nk = len(outer.keys)
    exprs = []
    for i, c in enumerate(outer.columns):
        col = ir.Col(i, c.kind, c.affinity)
        if i - nk in nullif_zero:  # a sum of no partial count is NULL
            col = ir.Case(((ir.Cmp("=", col, ir.Lit(0, "int"), "num"), ir.Lit(None, "int")),), col, c.kind)
        exprs.append(col)
    return ir.Project(outer.columns, agg, tuple(exprs))


def _constant_keys(agg: ir.Aggregate) -> ir.Rel | None:
    """`agg` without the GROUP BY keys its input fixes to one value (or that read no column), read as
    that constant instead (one key at least is kept: no key at all would be one group even on no
    row), and without the keys computed from other (kept) column keys, computed from them instead:

        SELECT j, e, SUM(s) FROM t WHERE e = 10 GROUP BY j, e
            = SELECT j, 10, SUM(s) FROM t WHERE e = 10 GROUP BY j
        SELECT j, j + 1, SUM(s) FROM t GROUP BY j, j + 1
            = SELECT j, j + 1, SUM(s) FROM t GROUP BY j

    A computed key reads only keys whose equal values are identical (`IDENTICAL_WHEN_EQUAL`):
    rows of one group then give it the same value, so it splits no group.
    """
    if not agg.grouped or len(agg.keys) < 2:
        return None
    facts = row_facts(agg.input)
    fixed: dict[int, ir.Expr] = {
        n: lit for n, k in enumerate(agg.keys)
        for lit in [k if constant(k) else
                    constant_of(facts.get(k.index, []), k) if isinstance(k, ir.Col) else None] if lit is not None}
    if len(fixed) == len(agg.keys):
        del fixed[min(fixed)]
    nk = len(agg.keys)
    column_keys = {k.index: n for n, k in enumerate(agg.keys)
                   if isinstance(k, ir.Col) and n not in fixed and k.kind in IDENTICAL_WHEN_EQUAL}
    computed = [n for n, k in enumerate(agg.keys) if n not in fixed and not isinstance(k, ir.Col) and plain((k,))
                and columns_read((k,)) and columns_read((k,)) <= set(column_keys)]
    if not fixed and not computed:
        return None
    kept = [n for n in range(nk) if n not in fixed and n not in computed]
    inner = replace(agg, columns=tuple(agg.columns[n] for n in kept) + tuple(agg.columns[nk:]),
                    keys=tuple(agg.keys[n] for n in kept))
    where = {n: i for i, n in enumerate(kept)}
    for n in computed:
        fixed[n] = map_cols(agg.keys[n], lambda c: ir.Col(where[column_keys[c.index]], c.kind, c.affinity))
    exprs = [fixed[n] if n in fixed else ir.Col(where[n], c.kind, c.affinity) for n, c in enumerate(agg.columns[:nk])]
    exprs += [ir.Col(len(kept) + m, c.kind, c.affinity) for m, c in enumerate(agg.columns[nk:])]
    return ir.Project(agg.columns, inner, tuple(exprs))


# aggregates whose value depends on the set of their arguments, not on how often each occurs
_SET_AGGREGATES = ("min", "max", "bool_and", "bool_or", "bit_and", "bit_or")
# kinds whose equal values are identical, so that dropping a duplicate changes nothing visible
IDENTICAL_WHEN_EQUAL = EXACT_KINDS + ("bool",)


def _set_reader(rel: ir.Rel) -> ir.Rel | None:
    """`rel` with its inputs' duplicate removal dropped (`_set_input`) when `rel` reads only
    which rows its inputs hold (not how often); None when that changes nothing."""
    return _set_inputs_rewritten(rel, lambda child, _: _set_input(child))


def _set_inputs_rewritten(rel: ir.Rel, fn) -> ir.Rel | None:
    """`rel` with each input it reads as a set (`_set_reader_inputs`) replaced by `fn(input,
    columns read of it)`; None when that changes nothing."""
    changes = {}
    for name, read in _set_reader_inputs(rel) or []:
        child = getattr(rel, name)
        new = fn(child, read)
        if new is not child:
            changes[name] = new
    return replace(rel, **changes) if changes else None


def _set_input(rel: ir.Rel) -> ir.Rel:
    """`rel`, which its consumer reads as a set, without the DISTINCTs (and GROUP BYs without
    aggregates) under projections, filters, joins and UNION ALL: they only remove copies of
    rows, and a copy changes no set built above them; likewise a UNION ALL of the same rows
    twice (two branches computing the same plan) is those rows once.

        SELECT DISTINCT x.a FROM (SELECT DISTINCT a, b FROM t) AS x JOIN u ON x.b = u.b
            = SELECT DISTINCT t.a FROM t JOIN u ON t.b = u.b
        SELECT DISTINCT * FROM (SELECT a FROM t UNION ALL SELECT a FROM t) = SELECT DISTINCT a FROM t
    """
    identical = all(c.kind in IDENTICAL_WHEN_EQUAL for c in rel.columns)
    if isinstance(rel, ir.Distinct) and identical:
        return _set_input(rel.input)
    if isinstance(rel, ir.Aggregate) and rel.grouped and not rel.items and identical and plain(rel.keys):
        return ir.Project(rel.columns, _set_input(rel.input), rel.keys)
    if isinstance(rel, (ir.Project, ir.Filter)) and plain(rel.exprs if isinstance(rel, ir.Project) else (rel.cond,)):
        inner = _set_input(rel.input)
        return replace(rel, input=inner) if inner is not rel.input else rel
    joined = isinstance(rel, ir.Join) and rel.kind in ("inner", "cross", "left", "right", "full") and plain(
        () if rel.cond is None else (rel.cond,))
    if joined or isinstance(rel, ir.SetOp) and rel.op == "union" and rel.all:  # a set of the union: of each branch
        left, right = _set_input(rel.left), _set_input(rel.right)
        if not joined and same_plan(left, right) and deterministic(left):  # the same rows twice: once
            return ir.Project(rel.columns, left, tuple(ir.Col(i, c.kind, c.affinity) for i, c in enumerate(left.columns)))
        return replace(rel, left=left, right=right) if (left, right) != (rel.left, rel.right) else rel
    return rel


def _facts_across(j: ir.Join) -> ir.Join | None:
    """The inner join `j` with each side filtered by the facts of the other side's columns that
    its condition equates to its own (a row pair that passes has equal values there, and a fact
    is a test of the value alone); None when that adds nothing."""
    if j.cond is None or not plain((j.cond,)):
        return None
    n = len(j.left.columns)
    facts = (row_facts(j.left), row_facts(j.right))
    extra: tuple[list[ir.Expr], list[ir.Expr]] = ([], [])
    for pair in equated_columns(j.cond):
        a, b = sorted(pair)
        if not a < n <= b:
            continue
        for src, dst, frm, to in ((0, 1, a, b - n), (1, 0, b - n, a)):
            have = {ir.key(f) for f in facts[dst].get(to, []) + extra[dst]}
            extra[dst].extend(g for g in (moved(f, to) for f in facts[src].get(frm, [])) if ir.key(g) not in have)
    if not extra[0] and not extra[1]:
        return None
    sides = [ir.Filter(side.columns, side, ir.BoolOp("and", tuple(fs)) if len(fs) > 1 else fs[0]) if fs else side
             for side, fs in zip((j.left, j.right), extra)]
    return replace(j, left=sides[0], right=sides[1])


def _partials(rel: ir.Rel) -> list[tuple[ir.Aggregate, tuple[ir.Expr, ...] | None]] | None:
    """The aggregates under an outer aggregate: one, or each branch of a UNION ALL, with the
    column-renaming projection above it, if any; all grouped, or all without GROUP BY."""
    if isinstance(rel, ir.SetOp) and rel.op == "union" and rel.all:
        if [c.kind for c in rel.left.columns] != [c.kind for c in rel.right.columns]:
            return None
        left, right = _partials(rel.left), _partials(rel.right)
        if left is None or right is None or left[0][0].grouped != right[0][0].grouped:
            return None
        return left + right
    renames = None
    if isinstance(rel, ir.Project):
        if not all(isinstance(e, ir.Col) for e in rel.exprs):
            return None
        renames, rel = rel.exprs, rel.input
    if isinstance(rel, ir.Aggregate) and not any(isinstance(i, ir.Bare) for i in rel.items) \
            and plain(rel.keys) and plain(tuple(i.arg for i in rel.items if i.arg is not None)):
        return [(rel, renames)]
    return None


def counted_parts(it: ir.Agg) -> tuple[ir.Col, ...] | None:
    """The columns a COUNT of the rows where none of them is NULL reads, `COUNT(CASE WHEN a IS
    NOT NULL AND b IS NOT NULL THEN 1 END)` (how `verify.calcite` reads Calcite's `COUNT(a, b)`),
    else None."""
    if it.func != "count" or it.distinct or not isinstance(it.arg, ir.Case) or len(it.arg.whens) != 1:
        return None
    cond, then = it.arg.whens[0]
    if not (isinstance(then, ir.Lit) and then.value is not None
            and isinstance(it.arg.default, ir.Lit) and it.arg.default.value is None):
        return None
    cols: list[ir.Col] = []
    pending = [cond]
    while pending:
        c = pending.pop(0)
        if isinstance(c, ir.BoolOp) and c.op == "and":
            pending[:0] = c.args
        elif isinstance(c, ir.Not) and isinstance(c.arg, ir.IsNull) and isinstance(c.arg.arg, ir.Col):
            cols.append(c.arg.arg)
        else:
            return None
    return tuple(cols)


def _over_union(inputs: list[ir.Rel], key_exprs, items, outer: ir.Aggregate) -> ir.Aggregate | None:
    """The aggregate `outer` reads as keys and `items` (func, distinct, argument per input,
    filter per input, kind) over the UNION ALL of `inputs`, each projected to its keys,
    arguments and filters."""
    layouts: list[list[ir.Expr]] = [[] for _ in inputs]
    for per_input in key_exprs:
        for b, e in enumerate(per_input):
            layouts[b].append(e)
    new_items = []
    for func, distinct, args, filters, kind in items:
        arg: list[int] | None = None  # the layout positions of the argument (of each tuple part)
        filt = None
        if args[0] is not None:
            tuples = [a.args if isinstance(a, ir.Func) and a.name == FuncName.TUPLE else None for a in args]
            if any((t is None) != (tuples[0] is None) or t is not None and len(t) != len(tuples[0]) for t in tuples):
                return None
            arg = list(range(len(layouts[0]), len(layouts[0]) + (len(tuples[0]) if tuples[0] is not None else 1)))
            # a tuple's parts in one order (its distinct values are counted alike in any), so
            # that COUNT(DISTINCT a, b) and COUNT(DISTINCT b, a) read the same layout
            order = (sorted(range(len(tuples[0])), key=lambda i: repr(ir.key(tuples[0][i])))
                     if tuples[0] is not None else [])
            for b, a in enumerate(args):
                layouts[b].extend([tuples[b][i] for i in order] if tuples[b] is not None else [a])
        if any(f is not None for f in filters):
            filt = len(layouts[0])
            for b, f in enumerate(filters):
                layouts[b].append(f if f is not None else ir.Lit(True, "bool"))
        new_items.append((func, distinct, arg, filt, kind))
    kinds = [e.kind for e in layouts[0]]
    if any([e.kind for e in lay] != kinds for lay in layouts):
        return None  # a UNION that unifies kinds converts values
    cols = tuple(ir.OutCol(f"_c{i}", k) for i, k in enumerate(kinds))
    projected = [ir.Project(cols, rel, tuple(lay)) for rel, lay in zip(inputs, layouts)]
    src = projected[0]
    for nxt in projected[1:]:
        src = ir.SetOp(cols, "union", True, src, nxt)
    keys = tuple(ir.Col(i, kinds[i]) for i in range(len(key_exprs)))
    def argument(a: list[int] | None) -> ir.Expr | None:
        if a is None:
            return None
        cols = tuple(ir.Col(i, kinds[i]) for i in a)
        return cols[0] if len(cols) == 1 else ir.Func(FuncName.TUPLE, cols, "null")

    aggs = tuple(ir.Agg(func, argument(a), distinct, kind, None if f is None else ir.Col(f, "bool"))
                 for func, distinct, a, f, kind in new_items)
    return ir.Aggregate(outer.columns, src, keys, aggs, outer.bare_from, outer.grouped)


def preprojected(agg: ir.Aggregate) -> ir.Aggregate | None:
    """`agg` reading a projection of its input to its keys, arguments and filters (the layout
    `flatten` produces), so that aggregates written over different inputs compare by shape."""
    if any(isinstance(i, ir.Bare) for i in agg.items):
        return None
    items = [(i.func, i.distinct, [i.arg], [i.filter], i.kind) for i in agg.items]
    return _over_union([agg.input], [[k] for k in agg.keys], items, agg)


def unwrapped(rel: ir.Rel) -> ir.Rel:
    """`rel` without projections that pass every column through unchanged (`SELECT *`)."""
    while isinstance(rel, ir.Project) and len(rel.exprs) == len(rel.input.columns) and all(
            isinstance(e, ir.Col) and e.index == i and e.kind == c.kind
            for i, (e, c) in enumerate(zip(rel.exprs, rel.input.columns))):
        rel = rel.input
    return rel


def _swapped(j: ir.Join) -> ir.Rel:
    """`A RIGHT JOIN B ON c` as `B LEFT JOIN A ON c`, projected back to A's columns then B's."""
    na, nb = len(j.left.columns), len(j.right.columns)
    cols = tuple(j.right.columns) + tuple(j.left.columns)
    moved = lambda c: replace(c, index=c.index + nb if c.index < na else c.index - na)  # noqa: E731
    cond = None if j.cond is None else map_cols(j.cond, moved)
    left = ir.Join(cols, "left", j.right, j.left, cond)
    back = tuple(ir.Col(nb + i, c.kind, c.affinity) for i, c in enumerate(j.left.columns)) + \
        tuple(ir.Col(i, c.kind, c.affinity) for i, c in enumerate(j.right.columns))
    return ir.Project(j.columns, left, back)


def columns_read(exprs) -> set[int]:
    """The columns expressions `exprs` read (outside their subqueries)."""
    return {n.index for n in ir.walk(tuple(exprs), into_subqueries=False) if isinstance(n, ir.Col)}


def reads_only(cond: ir.Expr, allowed) -> bool:
    """`cond` reads no column outside `allowed`."""
    return columns_read((cond,)) <= set(allowed)
