"""Turn a Z3 model of the symbolic database into concrete rows the engine can load.

Example: a model with `t[0].present = True, t[0].a = 3, t[0].a_null = False` and
`t[1].present = False` decodes to `{"t": [[3]]}`.
"""

from __future__ import annotations

import datetime
import re
from fractions import Fraction
from typing import Any

import z3

from verify.encode import Encoder
from verify.values import EPOCH, V

Tables = dict[str, list[list[Any]]]


def decode(model: z3.ModelRef, enc: Encoder) -> Tables:
    out: Tables = {}
    for t in enc.schema.tables:
        slots = enc.db.get(t.name.lower())
        if slots is None:
            out[t.name] = []
            continue
        rows = []
        for r in slots:
            if not z3.is_true(model.eval(r.present, model_completion=True)):
                continue
            rows.append([value(model, v) for v in r.vals])
        out[t.name] = rows
    return out


def value(model: z3.ModelRef, v: V) -> Any:
    if z3.is_true(model.eval(v.null, model_completion=True)):
        return None
    x = model.eval(v.v, model_completion=True)
    if v.kind == "int":
        return x.as_long()
    if v.kind == "date":
        return EPOCH + datetime.timedelta(days=x.as_long())
    if v.kind == "timestamp":
        return datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(microseconds=x.as_long())
    if v.kind == "bool":
        return z3.is_true(x)
    if v.kind == "text":
        return _z3_string(x)
    fr = Fraction(x.numerator_as_long(), x.denominator_as_long()) if z3.is_rational_value(x) else Fraction(str(x))
    if v.kind == "num" and fr.denominator == 1:
        return int(fr)
    return float(fr)


_ESCAPE = re.compile(r"\\u\{([0-9a-fA-F]+)\}")


def _z3_string(x: z3.ExprRef) -> str:
    s = x.as_string()
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), s)


def blocking_clause(model: z3.ModelRef, enc: Encoder) -> z3.BoolRef:
    """A constraint that excludes this database (same rows, same values) from later models."""
    same = []
    for slots in enc.db.values():
        for r in slots:
            p = model.eval(r.present, model_completion=True)
            same.append(r.present == p)
            if z3.is_true(p):
                for v in r.vals:
                    same.append(v.null == model.eval(v.null, model_completion=True))
                    same.append(v.v == model.eval(v.v, model_completion=True))
    if enc.now is not None:  # the same database at another instant is another model
        same.append(enc.now.v == model.eval(enc.now.v, model_completion=True))
    return z3.Not(z3.And(same)) if same else z3.BoolVal(False)


def instant(model: z3.ModelRef, enc: Encoder) -> str | None:
    """The current time the model picked ('YYYY-MM-DD HH:MM:SS[.ffffff]'), or None when neither
    query reads it."""
    if enc.now is None:
        return None
    now = value(model, enc.now)
    return now if isinstance(now, str) else now.strftime("%Y-%m-%d %H:%M:%S.%f")
