"""`And`, `Or` and `Not` of Z3 Boolean terms, as `z3.And`, `z3.Or` and `z3.Not` make them, faster.

z3py coerces every argument of `And`/`Or`/`Not` (it computes each one's sort, looks for Python
values to convert and for probes) before it calls Z3's C API once; the encoder builds hundreds
of thousands of such terms over arguments that are Z3 Boolean terms already, and that checking
took a quarter of the time of an SMT search over ORDER BY ... LIMIT. These functions make the
same single C call for such arguments, so the terms are the same ones (Z3 shares equal terms:
the same term has the same id whichever function made it), and pass anything else (no
argument, Python values, several contexts) to z3py.

    >>> a, b = z3.Bools("a b")
    >>> And(a, b).get_id() == z3.And(a, b).get_id(), Or([a, b]).eq(z3.Or(a, b)), Not(a).eq(z3.Not(a))
    (True, True, True)
    >>> And(a, True).eq(z3.And(a, True))
    True
"""

from __future__ import annotations

import z3


def _terms(args: tuple) -> tuple:
    """`args`, or the items of its one list or tuple (z3py takes both)."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else args


def _plain(terms: tuple) -> bool:
    """Every term is a Boolean term (not a quantifier, a Python value, a probe) of one context."""
    return bool(terms) and all(type(t) is z3.BoolRef and t.ctx is terms[0].ctx for t in terms)


def _array(terms: tuple):
    arr = (z3.Ast * len(terms))()
    for i, t in enumerate(terms):
        arr[i] = t.as_ast()
    return arr


def _joined(mk, fallback, args: tuple) -> z3.BoolRef:
    """`mk` (Z3_mk_and or Z3_mk_or) over `args`, or z3py's `fallback` for anything else."""
    terms = _terms(args)
    if not _plain(terms):
        return fallback(*args)
    ctx = terms[0].ctx
    return z3.BoolRef(mk(ctx.ref(), len(terms), _array(terms)), ctx)


def And(*args) -> z3.BoolRef:  # noqa: N802 - the name z3py gives it
    return _joined(z3.Z3_mk_and, z3.And, args)


def Or(*args) -> z3.BoolRef:  # noqa: N802 - the name z3py gives it
    return _joined(z3.Z3_mk_or, z3.Or, args)


def Not(a) -> z3.BoolRef:  # noqa: N802 - the name z3py gives it
    if type(a) is not z3.BoolRef:
        return z3.Not(a)
    return z3.BoolRef(z3.Z3_mk_not(a.ctx.ref(), a.as_ast()), a.ctx)
