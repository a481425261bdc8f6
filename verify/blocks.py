"""Select-project-join blocks: the unit of row-wise reasoning (`verify.rowwise`).

A block reads the cross product of its tables and, per tuple of that product, decides whether
the tuple passes (`cond`) and what row it outputs (`exprs`). `blocks` writes a relation as a bag
union of blocks when it is one (scans, filters, projections, inner joins, UNION ALL, constant
VALUES), and the helpers here rewrite IR expressions over a block's concatenated columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, is_dataclass, replace

import z3

from verify import ir
from verify.encode import Encoder, constant
from verify.schema import Schema
from verify.values import is_true


@dataclass
class SPJ:
    """A select-project-join block: the tuples of `tables`' cross product that satisfy `cond`,
    each producing the row `exprs` (all over the concatenated columns of `tables`)."""

    tables: list[ir.Scan]
    cond: ir.Expr
    exprs: list[ir.Expr]
    not_null: frozenset[int] = frozenset()  # positions of columns known never to be NULL


# ----------------------------------------------------------------------------- structure
DERIVED = "<derived>"  # the source of a row-local operator: the rows of its (bag-equal) input


def blocks(rel: ir.Rel) -> list[SPJ] | None:
    """`rel` as a bag union of SPJ blocks (UNION ALL of blocks; filters, projections and inner
    joins distribute over UNION ALL), [] when it is always empty, None when it is neither.

        >>> t = ir.Scan((ir.OutCol("a", "int"),), "t")
        >>> len(blocks(ir.Project(t.columns, ir.SetOp(t.columns, "union", True, t, t), (ir.Col(0, "int"),))))
        2
    """
    if always_empty(rel):
        return []
    if isinstance(rel, ir.Scan):
        return [SPJ([rel], ir.Lit(True, "bool"), [ir.Col(i, c.kind, c.affinity) for i, c in enumerate(rel.columns)])]
    if isinstance(rel, ir.Values) and all(isinstance(e, ir.Lit) and e.kind == c.kind
                                          for row in rel.rows for e, c in zip(row, rel.columns)):
        return [SPJ([], ir.Lit(True, "bool"), list(row)) for row in rel.rows]  # one tuple each, no table
    if isinstance(rel, ir.SetOp) and rel.op == "union" and rel.all:
        left, right = blocks(rel.left), blocks(rel.right)
        if left is None or right is None or [c.kind for c in rel.left.columns] != [c.kind for c in rel.right.columns]:
            return None  # a UNION that unifies kinds converts values
        return left + right
    if isinstance(rel, ir.Filter) and plain((rel.cond,)):
        inner = blocks(rel.input)
        return None if inner is None else [
            SPJ(b.tables, ir.BoolOp("and", (b.cond, substitute(rel.cond, b.exprs))), b.exprs) for b in inner]
    if isinstance(rel, ir.Project) and plain(rel.exprs):
        inner = blocks(rel.input)
        return None if inner is None else [
            SPJ(b.tables, b.cond, [substitute(e, b.exprs) for e in rel.exprs]) for b in inner]
    if isinstance(rel, ir.Join) and rel.kind in ("inner", "cross") and (rel.cond is None or plain((rel.cond,))):
        lefts, rights = blocks(rel.left), blocks(rel.right)
        if lefts is None or rights is None:
            return None
        return [_join(left, right, rel.cond) for left in lefts for right in rights]
    return None


def same_plan(r1: ir.Rel, r2: ir.Rel) -> bool:
    """The two queries compute the same plan once names are resolved: they differ only in
    aliases, qualification, output names, the order of `=`/`<>` operands, `a > b` written
    `b < a`, or the order of AND/OR operands. The engine then runs the same computation, so the
    results are the same on every database (ties under LIMIT included).

        >>> t = ir.Scan((ir.OutCol("a", "int"),), "t")
        >>> eq = lambda x, y: ir.Filter(t.columns, t, ir.Cmp("=", x, y, "num"))
        >>> a, one = ir.Col(0, "int"), ir.Lit(1, "int")
        >>> same_plan(eq(a, one), eq(one, a)), same_plan(eq(a, one), eq(a, ir.Lit(2, "int")))
        (True, False)
    """
    return _plan_key(r1) == _plan_key(r2)


def _plan_key(rel: ir.Rel) -> str:
    return re.sub(r"OutCol\(name=('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"), ", "OutCol(", repr(_canonical(rel)))


def _canonical(x):
    """`x` (a relation, an expression or a tuple of them) with commutative operands in one order."""
    if isinstance(x, tuple):
        return tuple(_canonical(e) for e in x)
    if not is_dataclass(x) or isinstance(x, type):
        return x
    changes = {f.name: _canonical(getattr(x, f.name)) for f in fields(x)
               if isinstance(getattr(x, f.name), (ir.Expr, ir.Rel, ir.Agg, tuple))}
    x = replace(x, **changes) if changes else x
    if isinstance(x, ir.Cmp):
        if x.op in (">", ">="):
            x = replace(x, op={">": "<", ">=": "<="}[x.op], left=x.right, right=x.left)
        elif x.op in ("=", "<>") and repr(x.right) < repr(x.left):
            x = replace(x, left=x.right, right=x.left)
    if isinstance(x, ir.BoolOp):
        x = replace(x, args=tuple(sorted(x.args, key=repr)))
    return x


def deterministic(rel: ir.Rel) -> bool:
    """Identical trees return identical results unless a choice is left to the engine: the row a
    bare column or ANY_VALUE comes from, or which tied rows a LIMIT keeps."""
    return not ir.open_choices(rel) & {"bare", "sort", "any_value"}


def spj(rel: ir.Rel) -> SPJ | None:
    """The SPJ form of `rel`, or None if it is not a single select-project-join block."""
    bs = blocks(rel)
    return bs[0] if bs is not None and len(bs) == 1 else None


def _join(left: SPJ, right: SPJ, cond: ir.Expr | None) -> SPJ:
    width = sum(len(t.columns) for t in left.tables)
    rcond = shift(right.cond, width)
    rexprs = [shift(e, width) for e in right.exprs]
    exprs = left.exprs + rexprs
    conds = [left.cond, rcond]
    if cond is not None:
        conds.append(substitute(cond, exprs))
    return SPJ(left.tables + right.tables, ir.BoolOp("and", tuple(conds)), exprs)


def always_empty(rel: ir.Rel) -> bool:
    """`rel` returns no row on any database: a LIMIT 0, a WHERE that is constantly false or
    NULL, or an operator that is empty whenever its input is.

        >>> t = ir.Scan((ir.OutCol("a", "int"),), "t")
        >>> always_empty(ir.Filter(t.columns, t, ir.Cmp("=", ir.Lit(1, "int"), ir.Lit(0, "int"), "num")))
        True
        >>> always_empty(ir.Aggregate(t.columns, ir.Sort(t.columns, t, (), 0), (), (), grouped=False))
        False
    """
    if isinstance(rel, ir.Values):
        return not rel.rows
    if isinstance(rel, ir.Filter):
        return always_empty(rel.input) or (constant(rel.cond) and never_true(rel.cond))
    if isinstance(rel, ir.Sort):
        return rel.limit == 0 or always_empty(rel.input)
    if isinstance(rel, (ir.Project, ir.Distinct, ir.Window)):
        return always_empty(rel.input)
    if isinstance(rel, ir.Aggregate):
        return rel.grouped and always_empty(rel.input)
    if isinstance(rel, ir.Join):
        left, right = always_empty(rel.left), always_empty(rel.right)
        return {"left": left, "lateral_left": left, "right": right, "full": left and right}.get(rel.kind, left or right)
    if isinstance(rel, ir.SetOp):
        left, right = always_empty(rel.left), always_empty(rel.right)
        return {"union": left and right, "intersect": left or right}.get(rel.op, left)
    return False


def never_true(cond: ir.Expr) -> bool:
    enc = Encoder(Schema(tables=[]), 0)
    return z3.is_false(z3.simplify(is_true(enc.expr(cond, [], ()))))


def plain(exprs) -> bool:
    """No subquery (which would read other rows) and no correlation."""
    return not any(_has_query(e) for e in exprs)


def _has_query(e) -> bool:
    if isinstance(e, (ir.InSubquery, ir.Exists, ir.ScalarSubquery, ir.Outer, ir.WinRef)):
        return True
    if isinstance(e, tuple):
        return any(_has_query(x) for x in e)
    if is_dataclass(e) and isinstance(e, ir.Expr):
        return any(_has_query(getattr(e, f.name)) for f in fields(e))
    return False


def map_cols(e, fn):
    """Rebuild expression `e` bottom-up, replacing each column reference through `fn`."""
    if isinstance(e, ir.Col):
        return fn(e)
    if isinstance(e, tuple):
        return tuple(map_cols(x, fn) for x in e)
    if is_dataclass(e) and isinstance(e, ir.Expr):
        changes = {f.name: map_cols(getattr(e, f.name), fn) for f in fields(e)
                   if isinstance(getattr(e, f.name), (ir.Expr, tuple))}
        return replace(e, **changes) if changes else e
    return e


def substitute(e: ir.Expr, cols: list[ir.Expr]) -> ir.Expr:
    return map_cols(e, lambda c: cols[c.index])


def shift(e: ir.Expr, by: int) -> ir.Expr:
    return map_cols(e, lambda c: ir.Col(c.index + by, c.kind, c.affinity))


def solver_kind(kind: str) -> str:
    return "int" if kind == "null" else kind
