"""Solver checks of single conditions, for the plan rewrites (`verify.rules`): whether a
condition can be true at all, or on a row whose padded columns are NULL. These are the only
checks of the rewrites that need the Z3 encoder; the plan structure (`verify.blocks`) and the
row facts (`verify.facts`) stay free of it.

    >>> a = ir.Col(0, "int")
    >>> rejects_nulls(ir.Cmp("=", a, ir.Lit(1, "int"), "num"), (ir.OutCol("a", "int"),), [0])
    True
"""

from __future__ import annotations

import z3

from verify import ir
from verify.encode import Encoder
from verify.schema import Schema
from verify.values import check_with_deadline, fresh, is_true, null_of


def never_true(cond: ir.Expr) -> bool:
    """`cond`, which reads no column, is FALSE or NULL (`1 = 0`, `NULL > 1`).

        >>> never_true(ir.Cmp("=", ir.Lit(1, "int"), ir.Lit(0, "int"), "num"))
        True
    """
    enc = Encoder(Schema(tables=[]), 0)
    return z3.is_false(z3.simplify(is_true(enc.expr(cond, [], ()))))


def rejects_nulls(cond: ir.Expr, columns, padded) -> bool:
    """`cond` is never true on a row whose `padded` columns are all NULL (whatever the rest)."""
    enc = Encoder(Schema(tables=[]), 0)
    padded = set(padded)
    row = [null_of(c.kind) if i in padded else fresh(enc.fresh_name(f"c{i}"), solver_kind(c.kind))
           for i, c in enumerate(columns)]
    try:
        s = z3.Solver()
        s.add(*enc.side, is_true(enc.expr(cond, row, ())))
        return check_with_deadline(s, 1.0) == z3.unsat
    except Exception:  # noqa: BLE001 - an expression this check cannot encode: no rewrite
        return False


def solver_kind(kind: str) -> str:
    """The kind the solver gives a value of `kind` (the NULL literal's kind is an integer's)."""
    return "int" if kind == "null" else kind
