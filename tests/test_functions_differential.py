"""Differential tests: each modelled scalar expression is evaluated by the Z3 encoding and by
sqlite3 on the same one-row table, over many inputs (NULL, '', non-ASCII, numeric-looking
text, invalid dates, negative numbers...). Inputs that break one of the encoding's stated
assumptions are skipped (the verdict lists those assumptions); the test checks that not too
many are.

The encoding's answer must be SQLite's and the *only* one its constraints allow, so that a proof
can never rest on a value SQLite would not compute.
"""

from __future__ import annotations

import sqlite3
from fractions import Fraction

import pytest
import z3

from verify.encode import Encoder
from verify.lower import lower_query
from verify.parse import parse_query
from verify.schema_io import schema_from_ddl
from verify.values import V, as_real, const, null_of

DDL = "CREATE TABLE t (a TEXT, b TEXT, n INTEGER, r REAL, d DATE);"
SCHEMA = schema_from_ddl(DDL)

TEXTS = [None, "", "a", "Abc", "aBc%", "héllo", "  pad  ", "x_y", "12", "12abc", "007", "-3",
         "1.5", "abc abc", "A", "%", "2021-03-04", "2020-02-29 13:45:06", "2021-12-31T23:59",
         "1999-01-01 00:00:00.250", "2021-13-01", "2021-02-30", "2021-3-4", "not a date", "99"]
INTS = [None, -7, -1, 0, 1, 2, 3, 10, 123]


def encode_row(values: dict) -> tuple[Encoder, list[V]]:
    enc = Encoder(SCHEMA, 1, "sqlite", tables={"t"})
    row = []
    for c in SCHEMA.table("t").columns:
        v = values.get(c.name)
        row.append(null_of(c.kind) if v is None else const(v, c.kind))
    return enc, row


def agrees(expr_sql: str, values: dict, expected) -> bool | str:
    """Does the encoding give exactly SQLite's value `expected`? 'skip' if an assumption fails.

    Checked as: the constraints are satisfiable, and no value other than `expected` (within
    1e-9 for numbers) satisfies them."""
    q = lower_query(parse_query(f"SELECT {expr_sql} FROM t"), SCHEMA)
    enc, row = encode_row(values)
    result = enc.expr(q.rel.exprs[0], row, ())
    s = z3.Solver()
    s.add(*enc.side)
    s.add(*enc.assumptions, *enc.search_only)  # outside the exactly modelled inputs: skipped
    if s.check() == z3.unsat:
        return "skip"
    s.add(_differs(result, expected))
    return s.check() == z3.unsat


def _differs(v: V, x) -> z3.BoolRef:
    if x is None:
        return z3.Not(v.null)
    if isinstance(x, str):
        return z3.Or(v.null, v.v != z3.StringVal(x)) if v.kind == "text" else z3.BoolVal(True)
    if v.kind not in ("int", "real", "num", "bool"):
        return z3.BoolVal(True)
    tol = z3.RealVal(abs(x) * 1e-9 + 1e-9)
    gap = as_real(v) - z3.RealVal(Fraction(x))
    return z3.Or(v.null, gap > tol, gap < -tol)


def sqlite_value(expr_sql: str, values: dict):
    con = sqlite3.connect(":memory:")
    con.executescript(DDL)
    cols = [c.name for c in SCHEMA.table("t").columns]
    con.execute(f"INSERT INTO t VALUES ({', '.join('?' * len(cols))})", [values.get(c) for c in cols])
    return con.execute(f"SELECT {expr_sql} FROM t").fetchone()[0]


def check(expr_sql: str, inputs: list[dict], max_skipped: float = 0.5) -> None:
    skipped = 0
    for values in inputs:
        want = sqlite_value(expr_sql, values)
        ok = agrees(expr_sql, values, want)
        if ok == "skip":
            skipped += 1
            continue
        assert ok, f"{expr_sql} on {values}: the encoding allows a value other than sqlite's {want!r}"
    assert skipped <= max_skipped * len(inputs), f"{expr_sql}: {skipped} of {len(inputs)} inputs skipped"


TEXT_INPUTS = [{"a": a} for a in TEXTS]
PAIR_INPUTS = [{"a": a, "b": b} for a in TEXTS[:12] for b in [None, "", "a", "b", "c", "Abc", "x"]]


@pytest.mark.parametrize("expr", [
    "a LIKE 'a%'", "a LIKE '%b%'", "a LIKE '_b_'", "a NOT LIKE 'A%'", "a LIKE 'x!_y' ESCAPE '!'",
    "a LIKE '%'", "a GLOB 'a*'", "a GLOB '[a-c]*'", "a GLOB '?'", "a GLOB '*[^0-9]*'",
])
def test_like_and_glob(expr):
    check(expr, TEXT_INPUTS)


@pytest.mark.parametrize("expr", [
    "substr(a, 1, 2)", "substr(a, 2)", "substr(a, 0, 2)", "substr(a, -2)", "substr(a, -3, 2)",
    "substr(a, 2, -1)", "substr(a, 5, 10)", "substring(a, 3, 1)", "substr(a, n)", "substr(a, 1, n)",
])
def test_substr(expr):
    check(expr, [{"a": a, "n": n} for a in TEXTS[:14] for n in (None, -2, 0, 1, 3)] if "n" in expr else TEXT_INPUTS)


@pytest.mark.parametrize("expr", ["instr(a, 'b')", "instr(a, '')", "instr(a, b)", "length(a)", "a || b",
                                  "a || n", "n || 'x'", "CAST(n AS TEXT) || a", "trim(a)", "ltrim(a)", "rtrim(a)", "trim(a, 'a ')"])
def test_text_functions(expr):
    if "b" in expr:
        inputs = PAIR_INPUTS
    elif "n" in expr:
        inputs = [{"a": a, "n": n} for a in TEXTS[:14] for n in (None, -7, 0, 12)]
    else:  # trim's side constraints make long strings slow to check for uniqueness
        inputs = [{"a": a} for a in TEXTS[:16] + [" ", "a a ", "aaa"]]
    check(expr, inputs)


@pytest.mark.parametrize("expr", ["upper(a)", "lower(a)", "replace(a, 'a', 'xy')", "replace(a, 'b', '')",
                                  "max(n, 2)", "min(n, 2, 1)", "max(a, 'b')"])
def test_case_replace_and_scalar_extremes(expr):
    check(expr, [{"a": a, "n": n} for a in TEXTS[:16] for n in (None, -7, 3)])


NUMBER_TEXTS = ["20.5", "-.5", "5.", ".", "+7", "7 cars", "-", "0.125abc", "-12.75", "3.", "1.2.3", "--5",
                "12345678901", "1e3", " 12"]  # the last two break the conversion's assumption


@pytest.mark.parametrize("expr", ["a + 1", "CAST(a AS INTEGER)", "a * 2", "CASE WHEN a THEN 1 ELSE 0 END",
                                  "CAST(a AS REAL)", "CAST(a AS NUMERIC)", "a / 2"])
def test_text_to_number(expr):
    check(expr, TEXT_INPUTS + [{"a": a} for a in NUMBER_TEXTS], max_skipped=0.1)


DATES = [None, "2021-03-04", "2020-02-29 13:45:06", "2021-12-31T23:59", "1999-01-01 00:00:00.250",
         "1970-01-01", "1969-12-31 23:59:59", "2000-02-29", "1900-03-01 12:00", "0001-01-01", "2024-07-15 08:05:09",
         "2021-02-30", "not a date"]  # the last two break the stated date assumption: skipped


@pytest.mark.parametrize("expr", [
    "strftime('%Y', a)", "strftime('%m/%d', a)", "strftime('%H:%M:%S', a)", "strftime('%j', a)",
    "strftime('%w', a)", "strftime('%s', a)", "date(a)", "datetime(a)", "time(a)", "julianday(a)",
    "strftime('%Y', d)", "strftime('%Y', a) - 2000",
    # one all-digit field read as a number (encoded without a text-to-number conversion)
    "strftime('%m', a) + 0", "strftime('%d', a) * 2", "strftime('%H', a) - 1", "strftime('%M', a) + 0",
    "strftime('%S', a) + 0", "strftime('%j', a) + 0", "strftime('%w', a) + 0",
])
def test_dates(expr):
    check(expr, [{"a": a, "d": a} for a in DATES], max_skipped=0.25)


@pytest.mark.parametrize("expr", ["n / 2", "n % 3", "-n / 2", "n / 0", "abs(n)", "round(r, 1)", "round(r)",
                                  "CAST(r AS INTEGER)", "n * 1.0 / 4"])
def test_arithmetic(expr):
    check(expr, [{"n": n, "r": r} for n in INTS for r in (None, -2.25, 0.5, 3.75)])
