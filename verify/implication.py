"""Solver checks for the plan rewrites (`verify.rules`) and row-wise reasoning
(`verify.rowwise`): whether a condition can be true at all (`never_true`), or on a row whose
padded columns are NULL (`rejects_nulls`), and whether a relation can hold a row at all
(`always_empty`). They are the only checks there that need the Z3 encoder: the plan structure
(`verify.blocks`) and the row facts (`verify.facts`) stay free of it.

    >>> a = ir.Col(0, "int")
    >>> rejects_nulls(ir.Cmp("=", a, ir.Lit(1, "int"), "num"), (ir.OutCol("a", "int"),), [0])
    True
"""

from __future__ import annotations

from collections.abc import Callable

import z3

from verify import ir
from verify.blocks import map_cols, plain
from verify.encode import Encoder, constant
from verify.facts import conjuncts, constant_of, row_facts
from verify.schema import Schema
from verify.values import check_within, current_meter, fresh, is_true, null_of


def never_true(cond: ir.Expr) -> bool:
    """`cond` reads no column (nor a query: `encode.constant`) and is FALSE or NULL (`1 = 0`,
    `NULL > 1`); False for a condition that reads one.

        >>> never_true(ir.Cmp("=", ir.Lit(1, "int"), ir.Lit(0, "int"), "num"))
        True
    """
    if not constant(cond):
        return False
    enc = Encoder(Schema(tables=[]), 0)
    return z3.is_false(z3.simplify(is_true(enc.expr(cond, [], ()))))


def always_true(cond: ir.Expr) -> bool:
    """`cond` reads no column (nor a query: `encode.constant`) and is TRUE (`1 = 1`, SQLite's
    `1 <> 0` for TRUE); False for a condition that reads one.

        >>> always_true(ir.Cmp("=", ir.Lit(2, "int"), ir.Lit(2, "int"), "num"))
        True
        >>> always_true(ir.Cmp("=", ir.Col(0, "int"), ir.Col(0, "int"), "num"))
        False
    """
    if not constant(cond):
        return False
    enc = Encoder(Schema(tables=[]), 0)
    return z3.is_true(z3.simplify(is_true(enc.expr(cond, [], ()))))


def always_empty(rel: ir.Rel) -> bool:
    """`rel` returns no row on any database: no VALUES row, a LIMIT 0, a WHERE that is
    constantly false or NULL (also on each row of a VALUES list of literals) or testing a COUNT
    for NULL, an INTERSECT of inputs fixing a column to different literals, or an operator that
    is empty whenever its input is.

        >>> t = ir.Scan((ir.OutCol("a", "int"),), "t")
        >>> always_empty(ir.Filter(t.columns, t, ir.Cmp("=", ir.Lit(1, "int"), ir.Lit(0, "int"), "num")))
        True
        >>> always_empty(ir.Aggregate(t.columns, ir.Sort(t.columns, t, (), 0), (), (), grouped=False))
        False
    """
    if isinstance(rel, ir.Values):
        return not rel.rows
    if isinstance(rel, ir.Filter):
        if always_empty(rel.input) or never_true(rel.cond):
            return True
        if any(isinstance(c, ir.IsNull) and isinstance(c.arg, ir.Col) and _a_count(rel.input, c.arg.index)
               for c in conjuncts(rel.cond)):
            return True  # `WHERE n IS NULL` of a count, never NULL
        rows = _literal_rows(rel.input)  # a WHERE over constant rows: tested on each
        return rows is not None and all(never_true(map_cols(rel.cond, lambda c, r=row: r[c.index])) for row in rows)
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
        if rel.op == "intersect":
            return left or right or _disjoint(rel.left, rel.right)
        return left and right if rel.op == "union" else left
    return False


def _a_count(rel: ir.Rel, col: int) -> bool:
    """Column `col` of `rel` is a COUNT (or a ranking) an aggregate or a window computes, never NULL."""
    while isinstance(rel, (ir.Project, ir.Filter, ir.Sort, ir.Distinct)):
        if isinstance(rel, ir.Project):
            e = rel.exprs[col]
            if not isinstance(e, ir.Col):
                return False
            col = e.index
        rel = rel.input
    counts = ("count", "count_star", "row_number", "rank", "dense_rank")
    if isinstance(rel, ir.Window) and col >= len(rel.input.columns):
        return rel.funcs[col - len(rel.input.columns)].func in counts
    if isinstance(rel, ir.Aggregate) and col >= len(rel.keys):
        item = rel.items[col - len(rel.keys)]
        return isinstance(item, ir.Agg) and item.func in counts[:2]
    return False


def _disjoint(a: ir.Rel, b: ir.Rel) -> bool:
    """No row of `a` is a row of `b`: a column holds one literal on every row of `a` and
    another on every row of `b` (`WHERE d = 10 INTERSECT ... WHERE d = 20`)."""
    fa, fb = row_facts(a), row_facts(b)
    for i, col in enumerate(a.columns):
        x = ir.Col(i, col.kind)
        ca, cb = constant_of(fa.get(i, []), x), constant_of(fb.get(i, []), x)
        if ca is not None and cb is not None and ca.value != cb.value:
            return True
    return False


def _literal_rows(rel: ir.Rel) -> list[tuple[ir.Expr, ...]] | None:
    """The rows of a VALUES list of literals, or None."""
    if isinstance(rel, ir.Values) and all(isinstance(e, ir.Lit) for row in rel.rows for e in row):
        return [tuple(row) for row in rel.rows]
    return None


def rejects_nulls(cond: ir.Expr, columns, padded) -> bool:
    """`cond` is never true on a row whose `padded` columns are all NULL (whatever the rest)."""
    padded = set(padded)
    cells = tuple((c.kind, i in padded) for i, c in enumerate(columns))

    def formula(enc: Encoder) -> z3.BoolRef:
        row = [null_of(kind) if is_padded else fresh(enc.fresh_name(f"c{i}"), solver_kind(kind))
               for i, (kind, is_padded) in enumerate(cells)]
        return is_true(enc.expr(cond, row, ()))
    return _never(("rejects_nulls", ir.key(cond), cells), formula)


def null_on_nulls(e: ir.Expr, columns) -> bool:
    """`e` is NULL on the row whose `columns` are all NULL (an outer join's padding)."""
    kinds = tuple(c.kind for c in columns)
    return _never(("null_on_nulls", ir.key(e), kinds),
                  lambda enc: z3.Not(enc.expr(e, [null_of(k) for k in kinds], ()).null))


def always_null(e: ir.Expr, columns) -> bool:
    """`e` is NULL on every row of `columns` (`NULL`, `a = NULL`, `a + NULL`): it reads no
    subquery, and no values of the columns make it non-NULL."""
    if not plain((e,)):
        return False
    kinds = tuple(c.kind for c in columns)
    return _never(("always_null", ir.key(e), kinds),
                  lambda enc: z3.Not(enc.expr(e, [fresh(enc.fresh_name(f"c{i}"), solver_kind(k))
                                                  for i, k in enumerate(kinds)], ()).null))


def _never(question: tuple, formula: Callable[[Encoder], z3.BoolRef]) -> bool:
    """The `formula` an encoder builds (with its side conditions) holds on no values: Z3's
    simplifier rewrites it to FALSE (most rows of NULLs do: `NULL > 1` is NULL), else the solver
    finds it unsatisfiable; False where it cannot be encoded. Both depend on the formula alone.
    The answer is kept for the rest of the `check_pair` call (`Meter.answers`, under the key
    `question`), unless the solver gave none."""
    answers = current_meter().answers
    if question in answers:
        return answers[question]
    enc = Encoder(Schema(tables=[]), 0)
    try:
        holds = formula(enc)
    except Exception:  # noqa: BLE001 - an expression this check cannot encode: no rewrite
        return False
    both = z3.And(*enc.side, holds) if enc.side else holds
    if z3.is_false(z3.simplify(both)):
        answers[question] = True
        return True
    s = z3.Solver()
    s.add(both)
    status = check_within(s).status
    if status != z3.unknown:
        answers[question] = status == z3.unsat
    return status == z3.unsat


def solver_kind(kind: str) -> str:
    """The kind the solver gives a value of `kind` (the NULL literal's kind is an integer's)."""
    return "int" if kind == "null" else kind
