"""Decorrelation rules of the every-size proof (listed in `verify.rules.RULES`).

A subquery correlated with its enclosing row only through equalities `inner = outer column`
asks whether some row of an uncorrelated relation carries the outer values: it is an IN
subquery with those columns added. Once uncorrelated, `in_subquery_as_join` (next in the rule
list) reads it as a join, which the row-wise comparison handles.
"""

from __future__ import annotations

from dataclasses import replace

from verify import ir
from verify.blocks import plain
from verify.facts import conjuncts
from verify.rewrite import Context


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
    if not isinstance(query, ir.Filter) or reads_outer(query.input) or reads_outer(projected):
        return None
    kept: list[ir.Expr] = []
    pairs: list[tuple[ir.Expr, ir.Outer, bool]] = []  # (inner side, outer column, inner side written first)
    for c in conjuncts(query.cond):
        if not reads_outer(c):
            kept.append(c)
            continue
        if not (isinstance(c, ir.Cmp) and c.op == "="):
            return None
        for inner, outer, first in ((c.left, c.right, True), (c.right, c.left, False)):
            if isinstance(outer, ir.Outer) and outer.depth == 1 and plain((inner,)):
                pairs.append((inner, outer, first))
                break
        else:
            return None
    if not pairs:
        return None
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
    cmps = [c for c in conjuncts(query.cond) if reads_outer(c)]
    for i, ((inner, outer, first), cmp) in enumerate(zip(pairs, cmps)):
        mine = ir.Col(n_new + len(projected) + i, inner.kind, getattr(inner, "affinity", None))
        theirs = ir.Col(n_old + i, outer.kind, outer.affinity)
        probes.append(replace(cmp, left=mine, right=theirs) if first else replace(cmp, left=theirs, right=mine))
    probe = probes[0] if len(probes) == 1 else ir.BoolOp("and", tuple(probes))
    return ir.InSubquery(lhs + (probe,), ir.Project(columns, source, exprs))


def reads_outer(x) -> bool:
    """Does `x` (a node or a tuple of them) read a column of an enclosing query anywhere?"""
    return any(isinstance(n, ir.Outer) for n in ir.nodes(x))
