"""Decorrelation rules of the every-size proof (listed in `verify.rules.RULES`).

A subquery correlated with its enclosing row only through equalities `inner = outer column`
asks whether some row of an uncorrelated relation carries the outer values: it is an IN
subquery with those columns added. Once uncorrelated, `in_subquery_as_join` (next in the rule
list) reads it as a join, which the row-wise comparison handles.
"""

from __future__ import annotations

from dataclasses import replace

from verify import ir
from verify.blocks import one_row_always, over_join, plain, row_exprs, with_columns_of
from verify.facts import EXACT_KINDS, conjunction, conjuncts
from verify.encode import expr_depth, free_depth
from verify.implication import always_true, null_on_nulls
from verify.names import JoinKind
from verify.rewrite import Context

IDENTICAL_KEYS = EXACT_KINDS  # kinds whose equal values are the same value: one group per value


def correlation_as_in_columns(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A WHERE's EXISTS or IN subquery correlated only by equalities is an uncorrelated IN on more columns.

    `EXISTS (SELECT ... FROM r WHERE c AND r.x = t.a)` is TRUE exactly when some row of
    `SELECT r.x FROM r WHERE c` equals `t.a` (the same comparison, on the same values), i.e. when
    `(t.a) IN (SELECT r.x FROM r WHERE c)` is TRUE; `t.b IN (SELECT r.y FROM r WHERE c AND r.x =
    t.a)` likewise is `(t.b, t.a) IN (SELECT r.y, r.x FROM r WHERE c)`. Where no row matches the
    rewritten IN may be NULL instead of FALSE, so this is done only in a WHERE, under AND/OR
    (both drop the row); the subquery's own relation `r` and the condition `c` must not read
    the enclosing row. Every such subquery of the WHERE is rewritten at once.

        >>> from verify.rules import demo
        >>> print(demo("correlation_as_in_columns",
        ...            "SELECT name FROM p WHERE EXISTS (SELECT 1 FROM q WHERE q.pid = p.id AND q.v > 2)"))
        Project name
          Filter (id) IN $1
            $1:
              Project pid AS _c0
                Filter v > 2
                  Scan q(qid, pid, v)
            Scan p(id, name, g)
    """
    if not isinstance(rel, ir.Filter):
        return None
    done = {id(node): new for node in _positive_subqueries(rel.cond, True)
            if (new := uncorrelated_in(node)) is not None}
    if not done:
        return None
    return replace(rel, cond=ir.transform(rel.cond, lambda n: done.get(id(n), n), into_subqueries=False))


def _positive_subqueries(e: ir.Expr, positive: bool):
    """The EXISTS and IN subqueries of condition `e` that stand under AND/OR only (not inside
    other subqueries)."""
    if isinstance(e, (ir.Exists, ir.InSubquery)):
        if positive:
            yield e
        return
    if isinstance(e, ir.ScalarSubquery):
        return
    inner = positive and isinstance(e, ir.BoolOp)
    for x in ir.children(e):
        if isinstance(x, ir.Expr):
            yield from _positive_subqueries(x, inner)


def uncorrelated_in(node: ir.Exists | ir.InSubquery) -> ir.InSubquery | None:
    """`node` as an uncorrelated IN subquery (see `correlation_as_in_columns`), or None."""
    query = node.query
    projected: tuple[ir.Expr, ...] = ()
    if isinstance(node, ir.InSubquery):
        if not isinstance(query, ir.Project):
            return None
        projected, query = query.exprs, query.input
    # an EXISTS subquery comes lowered without its SELECT list and DISTINCT (`verify.lower`)
    if not isinstance(query, ir.Filter) or correlated(query.input) or reads_outer(projected):
        return None
    split = correlation_split(query.cond)
    if split is None or not split[1]:
        return None
    kept, equalities = split
    pairs = [(inner, outer, first) for _, inner, outer, first in equalities]
    source = query.input if not kept else ir.Filter(query.input.columns, query.input,
                                                     kept[0] if len(kept) == 1 else ir.BoolOp("and", tuple(kept)))
    exprs = tuple(projected) + tuple(inner for inner, _, _ in pairs)
    columns = tuple(ir.OutCol(f"_c{i}", x.kind, getattr(x, "affinity", None)) for i, x in enumerate(exprs))
    old_lhs: tuple[ir.Expr, ...] = node.arg[:-1] if isinstance(node, ir.InSubquery) else ()
    n_old, n_new = len(old_lhs), len(old_lhs) + len(pairs)
    lhs = old_lhs + tuple(ir.Col(o.index, o.kind, o.affinity) for _, o, _ in pairs)
    probes: list[ir.Expr] = []
    if isinstance(node, ir.InSubquery):  # the old probe, its subquery columns moved past the new probe values
        probes.append(ir.transform(node.arg[-1], lambda n: replace(n, index=n.index + len(pairs))
                                   if isinstance(n, ir.Col) and n.index >= n_old else n, into_subqueries=False))
    for i, (cmp, inner, outer, first) in enumerate(equalities):
        mine = ir.Col(n_new + len(projected) + i, inner.kind, getattr(inner, "affinity", None))
        theirs = ir.Col(n_old + i, outer.kind, outer.affinity)
        probes.append(replace(cmp, left=mine, right=theirs) if first else replace(cmp, left=theirs, right=mine))
    probe = probes[0] if len(probes) == 1 else ir.BoolOp("and", tuple(probes))
    return ir.InSubquery(lhs + (probe,), ir.Project(columns, source, exprs))


def correlation_split(cond: ir.Expr) -> tuple[list[ir.Expr], list[tuple[ir.Cmp, ir.Expr, ir.Outer, bool]]] | None:
    """A subquery's WHERE `cond` split into the conjuncts that do not read the enclosing row and
    its correlation: equalities `inner = outer column` (each with its inner side, the enclosing
    row's column, and whether the inner side is written first); None when another conjunct reads
    the enclosing row."""
    kept: list[ir.Expr] = []
    equalities: list[tuple[ir.Cmp, ir.Expr, ir.Outer, bool]] = []
    for c in conjuncts(cond):
        if expr_depth(c) == 0:  # its own subqueries may read the subquery's rows
            kept.append(c)
            continue
        if not (isinstance(c, ir.Cmp) and c.op == "="):
            return None
        for inner, outer, first in ((c.left, c.right, True), (c.right, c.left, False)):
            if isinstance(outer, ir.Outer) and outer.depth == 1 and plain((inner,)):
                equalities.append((c, inner, outer, first))
                break
        else:
            return None
    return kept, equalities


def correlated(query: ir.Rel) -> bool:
    """Does the subquery `query` read a column of the row enclosing it, directly or from a
    subquery of its own? (Its own subqueries reading its rows do not make it correlated.)"""
    return free_depth(query) > 0


def reads_outer(x) -> bool:
    """Does `x` (a node or a tuple of them) read a column of an enclosing query anywhere?"""
    return any(isinstance(n, ir.Outer) for n in ir.nodes(x))


def null_aware_anti_join_as_not_in(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A WHERE's NOT EXISTS correlated by `inner = outer OR (inner = outer) IS NULL` is a NOT IN.

    `NOT EXISTS (SELECT ... FROM r WHERE c AND (r.x = t.a OR (r.x = t.a) IS NULL))` is TRUE exactly
    when no row of `SELECT r.x FROM r WHERE c` compares TRUE or NULL with `t.a`, which is when
    `t.a IN (SELECT r.x FROM r WHERE c)` is FALSE (SQL's NULL-aware anti join, the form Spark and
    Calcite print `t.a NOT IN (...)` in). The NOT IN may be NULL where the NOT EXISTS is FALSE, so
    this is done only to a conjunct of a WHERE (both drop the row); `r` and `c` must not read the
    enclosing row. The NOT IN then goes on as any other (`never_null_in_as_marked_join`, ...).

        >>> from verify.rules import demo
        >>> print(demo("null_aware_anti_join_as_not_in", "SELECT name FROM p WHERE "
        ...            "NOT EXISTS (SELECT 1 FROM q WHERE q.v > 2 AND (q.pid = p.g OR (q.pid = p.g) IS NULL))"))
        Project name
          Filter NOT (g) IN $1
            $1:
              Project pid AS _c0
                Filter v > 2
                  Scan q(qid, pid, v)
            Scan p(id, name, g)
    """
    if not isinstance(rel, ir.Filter):
        return None
    parts = conjuncts(rel.cond)
    new = [_not_in_of(c) for c in parts]
    if all(n is None for n in new):
        return None
    return replace(rel, cond=conjunction([n if n is not None else c for c, n in zip(parts, new)]))


def _not_in_of(conjunct: ir.Expr) -> ir.Not | None:
    """The NOT IN a `NOT EXISTS` conjunct is (see `null_aware_anti_join_as_not_in`), or None."""
    if not (isinstance(conjunct, ir.Not) and isinstance(conjunct.arg, ir.Exists)):
        return None
    query = conjunct.arg.query  # lowered without its SELECT list (`verify.lower`)
    if not isinstance(query, ir.Filter) or correlated(query.input):
        return None
    kept: list[ir.Expr] = []
    correlating: list[ir.Expr] = []
    for c in conjuncts(query.cond):
        (correlating if reads_outer(c) else kept).append(c)
    if len(correlating) != 1:
        return None
    probe = _null_aware_equality(correlating[0])
    if probe is None:
        return None
    cmp, inner, outer, first = probe
    source = query.input if not kept else ir.Filter(query.input.columns, query.input, conjunction(kept))
    # the IN's test reads [probe value, subquery row] (`verify.lower`)
    mine = ir.Col(1, inner.kind, getattr(inner, "affinity", None))
    theirs = ir.Col(0, outer.kind, outer.affinity)
    test = replace(cmp, left=mine, right=theirs) if first else replace(cmp, left=theirs, right=mine)
    column = ir.OutCol("_c0", inner.kind, getattr(inner, "affinity", None))
    lhs = ir.Col(outer.index, outer.kind, outer.affinity)  # the enclosing row's column
    return ir.Not(ir.InSubquery((lhs, test), ir.Project((column,), source, (inner,))))


def _null_aware_equality(e: ir.Expr) -> tuple[ir.Cmp, ir.Expr, ir.Outer, bool] | None:
    """`inner = outer OR (inner = outer) IS NULL` (either order, the same comparison twice, the
    outer side a column of the enclosing row): (the comparison, its inner side, its outer
    column, whether the inner side is written first); else None."""
    if not (isinstance(e, ir.BoolOp) and e.op == "or" and len(e.args) == 2):
        return None
    for cmp, null_test in (e.args, e.args[::-1]):
        if isinstance(cmp, ir.Cmp) and cmp.op == "=" and isinstance(null_test, ir.IsNull) \
                and ir.same(null_test.arg, cmp):
            split = correlation_split(cmp)
            if split is not None and not split[0] and len(split[1]) == 1:
                _, inner, outer, first = split[1][0]
                if not reads_outer(inner):
                    return cmp, inner, outer, first
    return None


_LATERAL = (JoinKind.LATERAL, JoinKind.LATERAL_LEFT)


def uncorrelated_lateral_as_join(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A JOIN LATERAL whose right side reads no enclosing row is an ordinary join.

    LATERAL only lets the right side read the left row; where it reads none (nor a row of a
    query further out), it is the same relation for every left row, and the join is the join
    of the two: inner (cross without ON), or left.

        >>> from verify.rules import demo
        >>> print(demo("uncorrelated_lateral_as_join", "SELECT * FROM t LEFT JOIN LATERAL (SELECT v FROM q) AS x ON TRUE"))
        Project a, b, v
          Join left ON 1 <> 0
            Scan t(a, b)
            Project v
              Scan q(qid, pid, v)
    """
    if not (isinstance(rel, ir.Join) and rel.kind in _LATERAL) or free_depth(rel.right) > 0:
        return None
    kind = JoinKind.LEFT if rel.kind == JoinKind.LATERAL_LEFT else \
        JoinKind.CROSS if rel.cond is None else JoinKind.INNER
    return replace(rel, kind=kind)


def lateral_filter_as_join(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A JOIN LATERAL of the rows of an uncorrelated relation that a condition on the left row keeps is a join on that condition.

    `t JOIN LATERAL (SELECT * FROM r WHERE c) ON d`, where only `c` reads the left row, pairs
    each row of `t` with the rows of `r` that `c` (and then `d`) makes true: the inner join of
    `t` and `r` on `c AND d`. A LEFT JOIN LATERAL pads a left row where none does: the left join
    on `c AND d`. A projection of the filtered rows is computed above the join (for a left
    join, only one that picks columns of `r`: a computed value would not be NULL on padding).
    The condition and projection must read no subquery, and `r` no enclosing row.

        >>> from verify.rules import demo
        >>> print(demo("lateral_filter_as_join",
        ...            "SELECT * FROM t JOIN LATERAL (SELECT v, t.a + v AS w FROM q WHERE q.pid = t.a) AS x ON x.v > t.b"))
        Project a, b, v, w
          Project a, b, v, (a + v) AS w
            Join inner ON (pid = a AND v > b)
              Scan t(a, b)
              Scan q(qid, pid, v)
    """
    if not (isinstance(rel, ir.Join) and rel.kind in _LATERAL):
        return None
    right, proj = rel.right, None
    if isinstance(right, ir.Project):
        proj, right = right, right.input
    if not isinstance(right, ir.Filter) or free_depth(right.input) > 0:
        return None
    width = len(rel.left.columns)
    source = right.input
    cond = _left_row_as_columns(right.cond, width)
    exprs = (tuple(ir.Col(width + i, c.kind, c.affinity) for i, c in enumerate(source.columns)) if proj is None
             else tuple(_left_row_as_columns(e, width) for e in proj.exprs))
    if cond is None or any(e is None for e in exprs):
        return None
    left_join = rel.kind == JoinKind.LATERAL_LEFT
    if left_join and not all(isinstance(e, ir.Col) and e.index >= width for e in exprs):
        return None
    conds = conjuncts(cond)
    if rel.cond is not None:
        # the ON condition reads the lateral's columns: they are the projected values
        on = ir.transform(rel.cond, lambda n: exprs[n.index - width] if isinstance(n, ir.Col) and n.index >= width
                          else n, into_subqueries=False)
        conds += [c for c in conjuncts(on) if not always_true(c)]
    join = ir.Join(rel.left.columns + source.columns, JoinKind.LEFT if left_join else JoinKind.INNER,
                   rel.left, source, conjunction(conds))
    kept = tuple(ir.Col(i, c.kind, c.affinity) for i, c in enumerate(rel.left.columns))
    return ir.Project(rel.columns, join, kept + exprs)  # type: ignore[arg-type]


def _left_row_as_columns(e: ir.Expr, width: int) -> ir.Expr | None:
    """`e`, an expression over the right side of a lateral join (its own columns, and the left
    row's as `Outer(1, ...)`), over the join's columns: the left row's first, its own `width`
    further. None where it reads a subquery or a row further out."""
    def moved(n):
        if isinstance(n, ir.Outer) and n.depth == 1:
            return ir.Col(n.index, n.kind, n.affinity)
        if isinstance(n, ir.Col):
            return ir.Col(n.index + width, n.kind, n.affinity)
        return n
    if not plain((e,), params=True):
        return None
    return ir.transform(e, moved, into_subqueries=False)


def one_row_lateral_as_subqueries(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A JOIN LATERAL of a relation of exactly one row is that row's values as scalar subqueries.

    An aggregate without GROUP BY returns one row on every database, also where it reads the
    left row (`LEFT JOIN LATERAL (SELECT MAX(v) AS m FROM q WHERE q.pid = t.a) ON TRUE`): each
    left row meets exactly that row, so the join is the left row with the row's values, each the
    scalar subquery of its column (which `correlated_aggregate_as_left_join` may decorrelate).
    A condition of an inner join filters the result; a LEFT join only ON TRUE (a row the
    condition rejects would be padded).

        >>> from verify.rules import demo
        >>> print(demo("one_row_lateral_as_subqueries",
        ...            "SELECT * FROM t LEFT JOIN LATERAL (SELECT MAX(v) AS m FROM q WHERE q.pid = t.a) AS x ON TRUE"))
        Project a, b, m
          Project a, b, $1 AS m
            $1:
              Project m
                Project _agg0 AS m
                  Aggregate: max(v) AS _agg0
                    Filter pid = outer1.#0
                      Scan q(qid, pid, v)
            Scan t(a, b)
    """
    if not (isinstance(rel, ir.Join) and rel.kind in _LATERAL and one_row_always(rel.right)):
        return None
    cond = None if rel.cond is None or always_true(rel.cond) else rel.cond
    if cond is not None and rel.kind == JoinKind.LATERAL_LEFT:
        return None
    right = rel.right
    values = tuple(ir.ScalarSubquery(ir.Project((c,), right, (ir.Col(i, c.kind, c.affinity),)), c.kind)
                   for i, c in enumerate(right.columns))
    kept = tuple(ir.Col(i, c.kind, c.affinity) for i, c in enumerate(rel.left.columns))
    out: ir.Rel = ir.Project(rel.columns, rel.left, kept + values)
    if cond is not None:
        out = ir.Filter(rel.columns, out, cond)
    return out


def one_row_subquery_as_cross_join(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """An uncorrelated scalar subquery over an aggregate without GROUP BY, or a SELECT without FROM, is a cross join with its one row.

    An aggregate without GROUP BY returns exactly one row on every database (its aggregates
    NULL, or 0 for a count, on no input row), as a SELECT without FROM does, so each row of a filter or projection that reads
    `(SELECT MAX(v) FROM q)` reads the value of that row: the input cross-joined with it keeps
    its rows, one each, and the condition or projection reads the joined column instead (a
    filter's result projects it away again). Every such subquery of the operator, outside other
    subqueries, is joined at once; a subquery that reads the enclosing row is left as it is.

        >>> from verify.rules import demo
        >>> print(demo("one_row_subquery_as_cross_join", "SELECT name FROM p WHERE g > (SELECT AVG(v) FROM q)"))
        Project name
          Project id, name, g
            Filter g > "AVG(v)"
              Join cross
                Scan p(id, name, g)
                Project _agg0 AS "AVG(v)"
                  Aggregate: avg(v) AS _agg0
                    Scan q(qid, pid, v)
    """
    exprs = row_exprs(rel)
    if exprs is None:
        return None
    width = len(rel.input.columns)
    joined: list[ir.Rel] = []

    def as_column(node):
        if not (isinstance(node, ir.ScalarSubquery) and _one_row(node.query) and not correlated(node.query)
                and node.query.columns[0].kind == node.kind):
            return node
        joined.append(node.query)
        col = node.query.columns[0]
        return ir.Col(width + len(joined) - 1, node.kind, col.affinity)

    new = ir.transform(exprs, as_column, into_subqueries=False)
    if not joined:
        return None
    source = rel.input
    for sub in joined:
        source = ir.Join(source.columns + sub.columns, "cross", source, sub, None)
    return with_columns_of(rel, over_join(rel, source, new))


def _one_row(query: ir.Rel) -> bool:
    """Does `query` return exactly one row of one column on every database: an aggregate without
    GROUP BY or a single row of VALUES (a SELECT without FROM), under row-local projections?"""
    if len(query.columns) != 1:
        return False
    while isinstance(query, ir.Project) and plain(query.exprs):
        query = query.input
    return isinstance(query, ir.Aggregate) and not query.grouped or isinstance(query, ir.Values) and len(query.rows) == 1


def correlated_aggregate_as_left_join(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A scalar subquery aggregating the rows equal to the enclosing row's columns is a left join with its groups.

    `(SELECT 0.2 * AVG(q.v) FROM q WHERE c AND q.pid = p.id)` aggregates the rows of `SELECT * FROM
    q WHERE c` whose `pid` equals the row's `id`: the group of that value in `SELECT pid, 0.2 *
    AVG(v) FROM q WHERE c GROUP BY pid`. Left-joined on the same comparison, a row meets that
    group, the only one with an equal key (the keys' equal values are identical values), or,
    where no row matches (a NULL `id` included), no group: the padding NULL, which is the
    subquery's value on no row too, since each aggregate is SUM, AVG, MIN or MAX (NULL on no
    row, unlike COUNT) and what the subquery computes from them is NULL when they are. Rows
    with a NULL key pass no correlation, so they are left out of the groups. The
    condition or projection reads the joined value; the row's own columns are kept. One such
    subquery per operator, outside other subqueries; its FROM and the rest of its WHERE must not
    read the enclosing row.

        >>> from verify.rules import demo
        >>> print(demo("correlated_aggregate_as_left_join",
        ...            "SELECT name FROM p WHERE g > (SELECT AVG(v) FROM q WHERE q.pid = p.id AND v > 0)"))
        Project name
          Project id, name, g
            Filter g > _c1
              Join left ON _c0 = id
                Scan p(id, name, g)
                Project _k0 AS _c0, _agg0 AS _c1
                  Aggregate GROUP BY pid: avg(v) AS _agg0
                    Filter (v > 0 AND NOT pid IS NULL)
                      Scan q(qid, pid, v)
    """
    exprs = row_exprs(rel)
    if exprs is None:
        return None
    width = len(rel.input.columns)
    for node in ir.walk(exprs, into_subqueries=False):
        if isinstance(node, ir.ScalarSubquery) and (grouped := _grouped_form(node, width)) is not None:
            break
    else:
        return None
    groups, on = grouped
    value = ir.Col(width + len(groups.columns) - 1, node.kind, None)
    new = ir.transform(exprs, lambda n: value if n is node else n, into_subqueries=False)
    join = ir.Join(rel.input.columns + groups.columns, "left", rel.input, groups, on)
    return with_columns_of(rel, over_join(rel, join, new))


_NULL_ON_NO_ROW = ("sum", "avg", "min", "max")


def _grouped_form(sub: ir.ScalarSubquery, width: int) -> tuple[ir.Rel, ir.Expr] | None:
    """The groups `correlated_aggregate_as_left_join` joins for `sub` (the correlation keys, then
    the subquery's value) and the join condition (the row's `width` columns first), or None."""
    top: ir.Expr = ir.Col(0, sub.kind)
    query = sub.query
    while isinstance(query, ir.Project) and plain(query.exprs) and len(query.exprs) == 1:
        top = ir.transform(top, lambda n, q=query: q.exprs[n.index] if isinstance(n, ir.Col) else n,
                           into_subqueries=False)
        query = query.input
    if not (isinstance(query, ir.Aggregate) and not query.grouped and isinstance(query.input, ir.Filter)
            and all(isinstance(i, ir.Agg) and i.func in _NULL_ON_NO_ROW for i in query.items)
            and top.kind == sub.kind):
        return None
    agg, source = query, query.input
    if correlated(source.input) or reads_outer(agg.items) or reads_outer(top):
        return None
    split = correlation_split(source.cond)
    if split is None or not split[1]:
        return None
    kept, equalities = split
    if any(reads_outer(inner) or inner.kind != outer.kind or inner.kind not in IDENTICAL_KEYS
           for _, inner, outer, _ in equalities):
        return None
    keys = [inner for _, inner, _, _ in equalities]
    if not null_on_nulls(top, agg.columns):
        return None
    # a NULL key equals nothing: its rows pass no correlation, so they are left out of the groups
    kept += [ir.Not(ir.IsNull(k)) for k in keys]
    filtered = ir.Filter(source.input.columns, source.input, conjunction(kept))
    nk = len(keys)
    key_cols = tuple(ir.OutCol(f"_k{i}", k.kind, getattr(k, "affinity", None)) for i, k in enumerate(keys))
    groups = ir.Aggregate(key_cols + agg.columns, filtered, tuple(keys), agg.items, agg.bare_from, True)
    value = ir.transform(top, lambda n: ir.Col(n.index + nk, n.kind, n.affinity) if isinstance(n, ir.Col) else n,
                         into_subqueries=False)
    exprs = tuple(ir.Col(i, k.kind, getattr(k, "affinity", None)) for i, k in enumerate(keys)) + (value,)
    names = tuple(ir.OutCol(f"_c{i}", e.kind, getattr(e, "affinity", None)) for i, e in enumerate(exprs))
    projected = ir.Project(names, groups, exprs)
    on = conjunction([replace(c, **{("left" if first else "right"): ir.Col(width + j, inner.kind,
                                                                          getattr(inner, "affinity", None)),
                                    ("right" if first else "left"): ir.Col(outer.index, outer.kind, outer.affinity)})
                      for j, (c, inner, outer, first) in enumerate(equalities)])
    return projected, on


def null_key_groups_unjoined(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """Groups whose key is NULL are left out of an aggregate that a join meets only on that key being equal.

    An inner join, or a left join on its right side, whose condition requires `key = x` for a
    GROUP BY key of the aggregate it reads (directly, or through a projection naming the key)
    never meets a group whose key is NULL (NULL equals nothing): filtering the aggregate's input
    to `key IS NOT NULL` drops just those groups (rows with a NULL key form groups of their own),
    so the join keeps the same rows. The form a decorrelated scalar subquery takes
    (`correlated_aggregate_as_left_join`) and a join written by hand then group the same rows.

        >>> from verify.rules import demo
        >>> print(demo("null_key_groups_unjoined",
        ...            "SELECT p.name, y.s FROM p JOIN (SELECT pid, SUM(v) AS s FROM q GROUP BY pid) AS y ON y.pid = p.id"))
        Project name, s
          Join inner ON pid = id
            Scan p(id, name, g)
            Project _key0 AS pid, _agg0 AS s
              Aggregate GROUP BY pid: sum(v) AS _agg0
                Filter NOT pid IS NULL
                  Scan q(qid, pid, v)
    """
    if not (isinstance(rel, ir.Join) and rel.kind in ("inner", "left") and rel.cond is not None):
        return None
    nl = len(rel.left.columns)
    sides = ("left", "right") if rel.kind == "inner" else ("right",)
    for side in sides:
        child = getattr(rel, side)
        start = 0 if side == "left" else nl
        found = _aggregate_below(child)
        if found is None:
            continue
        agg, key_at = found  # the aggregate, and which key each column of `child` names
        keys = {key_at[c.index - start] for c in _equated_columns(rel.cond)
                if start <= c.index < start + len(child.columns) and key_at.get(c.index - start) is not None}
        tests = [ir.Not(ir.IsNull(agg.keys[k])) for k in sorted(keys)]
        source = agg.input
        have = conjuncts(source.cond) if isinstance(source, ir.Filter) else []
        tests = [t for t in tests if not any(ir.same(t, h) for h in have)]
        if not tests:
            continue
        new_agg = replace(agg, input=ir.Filter(source.columns, source, conjunction(tests)))
        new_child = new_agg if child is agg else replace(child, input=new_agg)
        return replace(rel, **{side: new_child})
    return None


def _aggregate_below(rel: ir.Rel) -> tuple[ir.Aggregate, dict[int, int | None]] | None:
    """A grouped aggregate `rel` is, or reads through one projection, and for each column of
    `rel` the index of the GROUP BY key it is (None when it is none)."""
    if isinstance(rel, ir.Aggregate) and rel.grouped and rel.keys:
        return rel, {i: (i if i < len(rel.keys) else None) for i in range(len(rel.columns))}
    if isinstance(rel, ir.Project) and isinstance(rel.input, ir.Aggregate) and rel.input.grouped and rel.input.keys:
        nk = len(rel.input.keys)
        return rel.input, {i: (e.index if isinstance(e, ir.Col) and e.index < nk else None)
                           for i, e in enumerate(rel.exprs)}
    return None


def _equated_columns(cond: ir.Expr) -> list[ir.Col]:
    """The columns a conjunct `a = b` of `cond` compares (each side a column): a row the join keeps
    has them non-NULL."""
    cols: list[ir.Col] = []
    for c in conjuncts(cond):
        if isinstance(c, ir.Cmp) and c.op == "=":
            cols += [x for x in (c.left, c.right) if isinstance(x, ir.Col)]
    return cols
