"""Compiling constraints into the schema the verifier reads.

`apply_constraints(schema, cs)` returns a copy of `schema` whose tables carry the constraints:

| kind | becomes |
|------|---------|
| `range` | check `"c" BETWEEN lo AND hi` |
| `categorical` | check `"c" IN (v1, v2, ...)` |
| `ordering` | check `"a" <= "b"` |
| `format` | checks `length("c") BETWEEN a AND b`, `"c" NOT GLOB '*[^0-9A-Z]*'`, `"c" GLOB '<date>'` |
| `not_null` | `Column.not_null = True` |
| `unique` / `primary_key` | `Table.unique` / `Table.primary_key` (a primary key only where none is declared) |
| `foreign_key` | `Table.foreign_keys` (only onto the parent's key, as SQLite requires) |
| `fd` | `Table.functional_dependencies` |
| `values` | prepended to `Schema.samples` (a hint for readable counterexamples) |

Checks have SQLite CHECK semantics: a row is allowed unless the expression is *false*, so a
NULL passes every check (not-null is its own constraint). The same expressions are used by the
miner to re-check each constraint on every row (`SELECT COUNT(*) FROM t WHERE NOT (check)`).

Rejected constraints (`validation.status == "rejected"`) are never applied; unvalidated ones
are applied unless `include_unvalidated=False`. Names are matched case-insensitively and
written with the schema's spelling; a constraint naming a table or column the schema lacks is
skipped, and so is a row constraint about values of another type than the verifier models the
column with (text vs numbers; see `apply_report` for the reasons).

Example:
    >>> from verify.schema_io import schema_from_ddl
    >>> from constraints.models import ConstraintSet, Range, Categorical
    >>> s = schema_from_ddl("CREATE TABLE p (age INT, sex TEXT);")
    >>> cs = ConstraintSet(constraints=[Range(table="P", column="AGE", min=0, max=120),
    ...                                 Categorical(table="p", column="sex", values=["F", "M"])])
    >>> apply_constraints(s, cs).table("p").checks
    ['"age" BETWEEN 0 AND 120', '"sex" IN (\\'F\\', \\'M\\')']
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, Field

from constraints.models import (
    DATE_PATTERNS,
    Categorical,
    ConstraintSet,
    ForeignKey,
    Format,
    FunctionalDependency,
    NotNull,
    Ordering,
    PrimaryKey,
    Range,
    Unique,
    ValidationStatus,
    ValueSource,
)
from verify.schema import FunctionalDependency as SchemaFD
from verify.schema import ForeignKey as SchemaFK
from verify.schema import Schema, Table, quote_ident

__all__ = ["apply_constraints", "apply_report", "check_expressions", "sql_literal", "ApplyReport"]


class ApplyReport(BaseModel):
    applied: dict[str, int] = Field(default_factory=dict, description="constraints applied per kind")
    skipped: list[str] = Field(default_factory=list, description="'<key>: <reason>' per skipped constraint")


def sql_literal(v: Any) -> str:
    """A SQLite literal for a number or a string.

    >>> sql_literal(3), sql_literal(2.5), sql_literal("it's")
    ('3', '2.5', "'it''s'")
    """
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"not a finite number: {v!r}")
        return repr(v)
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    raise ValueError(f"unsupported literal {v!r}")


def glob_class(chars: str) -> str:
    """The body of a GLOB character class that matches exactly `chars` (ranges written as
    `0-9`, `A-Z`, `a-z` when complete). `]` goes first, `-` last, `^` never first.

    >>> glob_class("0123456789-. ")
    '0-9 .-'
    """
    s = set(chars)
    parts = []
    for lo, hi in (("0", "9"), ("A", "Z"), ("a", "z")):
        full = {chr(c) for c in range(ord(lo), ord(hi) + 1)}
        if full <= s:
            parts.append(f"{lo}-{hi}")
            s -= full
    first = "]" if "]" in s else ""
    last = "-" if "-" in s else ""
    s -= {"]", "-"}
    rest = "".join(sorted(s))
    partial = "".join(sorted(c for c in rest if c.isalnum()))
    other = "".join(c for c in rest if not c.isalnum())
    body = first + "".join(parts) + partial + other + last
    if body.startswith("^"):
        body = body[1:] + "^" if len(body) > 1 else "^"
    return body


def check_expressions(c: Any, table: Table) -> list[str]:
    """The CHECK expressions for a row-level constraint (range, categorical, ordering, format)
    over `table` (names in the table's spelling); [] for other kinds. Raises KeyError-free
    `verify.schema.SchemaError` when a column is missing."""
    if isinstance(c, Range):
        col = quote_ident(table.column(c.column).name)
        return [f"{col} BETWEEN {sql_literal(c.min)} AND {sql_literal(c.max)}"]
    if isinstance(c, Categorical):
        col = quote_ident(table.column(c.column).name)
        return [f"{col} IN ({', '.join(sql_literal(v) for v in c.values)})"]
    if isinstance(c, Ordering):
        a = quote_ident(table.column(c.left).name)
        b = quote_ident(table.column(c.right).name)
        return [f"{a} <= {b}"]
    if isinstance(c, Format):
        col = quote_ident(table.column(c.column).name)
        out = []
        if c.min_length is not None and c.max_length is not None:
            if c.min_length == c.max_length:
                out.append(f"length({col}) = {c.min_length}")
            else:
                out.append(f"length({col}) BETWEEN {c.min_length} AND {c.max_length}")
        elif c.min_length is not None:
            out.append(f"length({col}) >= {c.min_length}")
        elif c.max_length is not None:
            out.append(f"length({col}) <= {c.max_length}")
        if c.charset:
            out.append(f"{col} NOT GLOB {sql_literal('*[^' + c.charset + ']*')}")
        if c.pattern:
            out.append(f"{col} GLOB {sql_literal(DATE_PATTERNS[c.pattern][0])}")
        return out
    return []


def apply_constraints(schema: Schema, cs: ConstraintSet, *, include_unvalidated: bool = True) -> Schema:
    """A copy of `schema` carrying the constraints of `cs` (see the module docstring)."""
    return apply_report(schema, cs, include_unvalidated=include_unvalidated)[0]


def apply_report(
    schema: Schema, cs: ConstraintSet, *, include_unvalidated: bool = True
) -> tuple[Schema, ApplyReport]:
    """`apply_constraints` plus what was applied and what was skipped, and why."""
    out = schema.model_copy(deep=True)
    report = ApplyReport()
    hints: dict[tuple[str, str], list[Any]] = {}
    for c in cs.constraints:
        status = c.validation.status
        if status == ValidationStatus.REJECTED:
            report.skipped.append(f"{c.key}: rejected ({c.validation.reason or 'no reason'})")
            continue
        if status == ValidationStatus.UNVALIDATED and not include_unvalidated and c.origin.value != "declared":
            report.skipped.append(f"{c.key}: not validated")
            continue
        if not out.has_table(c.table):
            report.skipped.append(f"{c.key}: no table {c.table!r} in the schema")
            continue
        t = out.table(c.table)
        try:
            reason = _apply_one(out, t, c, hints)
        except Exception as e:  # noqa: BLE001 - a bad name is a skip with its reason
            reason = str(e)
        if reason:
            report.skipped.append(f"{c.key}: {reason}")
        else:
            report.applied[c.kind] = report.applied.get(c.kind, 0) + 1
    for (tname, cname), vals in hints.items():
        per_table = out.samples.setdefault(tname, {})
        old = per_table.get(cname, [])
        per_table[cname] = vals + [v for v in old if v not in vals]
    return out, report


def _is_text(table: Table, column: str) -> bool:
    return table.column(column).kind == "text"


def _kind_mismatch(c: Any, t: Table) -> str:
    """Why a row constraint cannot hold on the values the verifier models the column as
    holding ('' when it can). A NUMERIC column of real data may hold text (Spider's
    `singer.Is_male`: 'F'/'T'); the verifier models it as numbers, and `IN ('F', 'T')` with
    NOT NULL would then allow no row at all, making every pair vacuously equivalent."""
    if isinstance(c, Range) and _is_text(t, c.column):
        return f"numeric range on {c.column!r}, which the verifier models as text"
    if isinstance(c, Format) and not _is_text(t, c.column):
        return f"text format on {c.column!r}, which the verifier models as {t.column(c.column).kind}"
    if isinstance(c, Categorical):
        text = _is_text(t, c.column)
        if any(isinstance(v, str) != text for v in c.values):
            kind = "text" if text else "numbers"
            return f"values of another type than {c.column!r} is modelled with ({kind})"
    if isinstance(c, Ordering) and _is_text(t, c.left) != _is_text(t, c.right):
        return "ordering between a text and a numeric column"
    return ""


def _apply_one(schema: Schema, t: Table, c: Any, hints: dict[tuple[str, str], list[Any]]) -> str:
    """Apply `c` to table `t` of `schema`; return '' or why it was skipped."""
    if isinstance(c, (Range, Categorical, Ordering, Format)):
        why = _kind_mismatch(c, t)
        if why:
            return why
        exprs = check_expressions(c, t)
        if not exprs:
            return "nothing to check"
        for e in exprs:
            if e not in t.checks:
                t.checks.append(e)
        return ""
    if isinstance(c, NotNull):
        t.column(c.column).not_null = True
        return ""
    if isinstance(c, (Unique, PrimaryKey)):
        cols = [t.column(x).name for x in c.columns()]
        if not cols:
            return "no columns"
        same = lambda a, b: {x.lower() for x in a} == {x.lower() for x in b}  # noqa: E731
        if isinstance(c, PrimaryKey):
            if t.primary_key:
                return "" if same(t.primary_key, cols) else (
                    f"the table already has primary key ({', '.join(t.primary_key)})")
            t.primary_key = cols
            t.unique = [u for u in t.unique if not same(u, cols)]
            return ""
        if same(t.primary_key, cols) or any(same(u, cols) for u in t.unique):
            return ""
        t.unique.append(cols)
        return ""
    if isinstance(c, ForeignKey):
        cols = [t.column(x).name for x in c.columns()]
        if not schema.has_table(c.ref_table):
            return f"no table {c.ref_table!r} in the schema"
        parent = schema.table(c.ref_table)
        refs = [parent.column(x).name for x in c.ref_columns]
        if len(refs) != len(cols):
            return "column counts differ"
        keys = [parent.primary_key, *parent.unique]
        if not any({x.lower() for x in refs} == {x.lower() for x in k} for k in keys if k):
            return "referenced columns are not the parent's primary key or UNIQUE"
        fk = SchemaFK(columns=cols, ref_table=parent.name, ref_columns=refs)
        if fk not in t.foreign_keys:
            t.foreign_keys.append(fk)
        return ""
    if isinstance(c, FunctionalDependency):
        lhs = [t.column(x).name for x in c.lhs]
        rhs = [t.column(x).name for x in c.rhs]
        if not lhs or not rhs:
            return "empty side"
        fd = SchemaFD(lhs=lhs, rhs=rhs)
        if fd not in t.functional_dependencies:
            t.functional_dependencies.append(fd)
        return ""
    if isinstance(c, ValueSource):
        col = t.column(c.column).name
        vals = [v for v in c.values if v is not None]
        if vals:
            hints[(t.name, col)] = vals
        return ""
    return f"unknown kind {getattr(c, 'kind', '?')!r}"
