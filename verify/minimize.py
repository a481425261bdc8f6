"""Shrinking a confirmed counterexample so a person can read it at a glance.

`minimize` takes a database on which the two queries differ and a callback `still_differs`
(normally: run both queries on the engine and compare) and greedily

1. deletes rows, one at a time from any table, as long as the queries still differ and the
   database still satisfies the schema's constraints, until no single row can go (rows that
   point at a parent row are tried first, so the rows kept need fewer parents); then
2. replaces each non-NULL value by a simpler one (0, 1, small numbers, short lowercase text,
   or a preferred value for the column such as a real sample value), keeping a replacement
   only if the constraints hold and the queries still differ. NULLs are kept as they are.

Every database it keeps has been checked with `still_differs`, so the result still differs.

Example:
    >>> from verify.schema import Affinity, Column, Schema, Table
    >>> s = Schema(tables=[Table(name="t", columns=[Column(name="x", affinity=Affinity.INTEGER)])])
    >>> has_null = lambda db: any(r[0] is None for r in db["t"])  # e.g. COUNT(*) vs COUNT(x)
    >>> minimize(s, {"t": [[7], [None], [3], [None]]}, has_null)
    {'t': [[None]]}
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import Any

from verify.pools import is_time_value
from verify.randomdb import DATE_TEXTS
from verify.schema import Schema, Table, is_date_type

Tables = dict[str, list[list[Any]]]

_SMALL_INTS: list[Any] = [0, 1, 2, -1, 3]
_SMALL_FLOATS: list[Any] = [0.0, 1.0, 0.5, 2.0, -1.0]
_SHORT_TEXTS: list[Any] = ["a", "b", "c", "d", "x", "y", "z"]


# --------------------------------------------------------------------------------------------
# Constraints, checked in Python


def satisfies_constraints(schema: Schema, tables: Tables) -> bool:
    """Whether `tables` fits the schema: known tables, rows of the right width, no NULL in
    NOT NULL or primary-key columns, unique primary keys and UNIQUE sets (a set holding a
    NULL never clashes), and every foreign key all-NULL-somewhere or matching a parent row."""
    return constraint_violation(schema, tables) is None


def constraint_violation(schema: Schema, tables: Tables) -> str | None:
    """The first broken constraint, in words, or None when the database satisfies them all."""
    by_lower = {name.lower(): rows for name, rows in tables.items()}
    for name in by_lower:
        if not schema.has_table(name):
            return f"unknown table {name!r}"

    def rows_of(t: Table) -> list[list[Any]]:
        return by_lower.get(t.name.lower(), [])

    for t in schema.tables:
        rows = rows_of(t)
        for row in rows:
            if len(row) != len(t.columns):
                return f"{t.name}: row {row!r} has {len(row)} values, expected {len(t.columns)}"
        for i, c in enumerate(t.columns):
            in_pk = any(c.name.lower() == p.lower() for p in t.primary_key)
            if (c.not_null or in_pk) and any(row[i] is None for row in rows):
                return f"{t.name}.{c.name}: NULL in a NOT NULL column"
        for cols in ([t.primary_key] if t.primary_key else []) + t.unique:
            idx = [t.index(col) for col in cols]
            seen: set[tuple] = set()
            for row in rows:
                key = tuple(_key(row[i]) for i in idx)
                if None in key:
                    continue
                if key in seen:
                    return f"{t.name}({', '.join(cols)}): duplicate key {key!r}"
                seen.add(key)
        for fk in t.foreign_keys:
            parent = schema.table(fk.ref_table)
            pidx = [parent.index(col) for col in fk.ref_columns]
            parent_keys = {tuple(_key(prow[i]) for i in pidx) for prow in rows_of(parent)}
            idx = [t.index(col) for col in fk.columns]
            for row in rows:
                key = tuple(_key(row[i]) for i in idx)
                if None not in key and key not in parent_keys:
                    return (
                        f"{t.name}({', '.join(fk.columns)}) = {key!r} has no parent row in "
                        f"{parent.name}({', '.join(fk.ref_columns)})"
                    )
    return None


def _key(v: Any) -> Any:
    """Compare key values the way the engine would (dates equal their ISO text)."""
    return v.isoformat() if isinstance(v, datetime.date) else v


# --------------------------------------------------------------------------------------------
# Shrinking


def minimize(
    schema: Schema,
    tables: Tables,
    still_differs: Callable[[Tables], bool],
    preferred_values: dict[tuple[str, str], list[Any]] | None = None,
    max_runs: int = 2000,
    deadline: float | None = None,
) -> Tables:
    """A smaller, simpler database on which `still_differs` holds (see the module docstring).

    `preferred_values[(table_lower, column_lower)]` lists values to try first for text and
    last for numbers (after 0, 1, ...); when a column has none, the schema's sample values
    are used. `still_differs` receives a fresh copy on each call. If
    `still_differs(tables)` is false the input is returned unchanged. Stops after `max_runs`
    calls of `still_differs` (each one or a few runs of the queries on the engine: a count, so
    the result is the same on every machine), returning the best database found so far;
    `deadline` (a `time.monotonic()` value) is only a safety stop that ends it early too.
    """
    if not still_differs(_copy(tables)):
        return tables
    runs = 1
    current = _copy(tables)

    def spent() -> bool:
        """No run left, or past the safety stop."""
        return runs >= max_runs or (deadline is not None and time.monotonic() > deadline)

    def accept(candidate: Tables) -> bool:
        nonlocal runs
        if not satisfies_constraints(schema, candidate):
            return False
        runs += 1
        return still_differs(_copy(candidate))

    # 1. Delete rows to a fixpoint (deleting a child row can free its parent for deletion).
    changed = True
    while changed:
        changed = False
        for name in list(current):
            t = schema.table(name)
            for i in _deletion_order(t, current[name]):
                if spent():
                    return current
                candidate = _copy(current)
                del candidate[name][i]
                if accept(candidate):
                    current, changed = candidate, True
                    break  # indexes moved; the outer loop comes back to this table

    # 2. Simplify values cell by cell; candidates are in order of preference, and a value
    # already in the list is only replaced by one that comes before it.
    for name, rows in current.items():
        t = schema.table(name)
        for r in range(len(rows)):
            for c, column in enumerate(t.columns):
                value = current[name][r][c]
                if value is None:
                    continue
                preferred = _preferred(schema, t, column.name, preferred_values)
                dates = column.kind == "text" and is_date_type(column.type)  # modelled as holding dates
                for simpler in _candidates(value, preferred, dates):
                    if _same(simpler, value):
                        break
                    if spent():
                        return current
                    candidate = _copy(current)
                    candidate[name][r][c] = simpler
                    if accept(candidate):
                        current = candidate
                        break
    return current


def _deletion_order(t: Table, rows: list[list[Any]]) -> list[int]:
    """Row indexes to try deleting, rows that point at parent rows first: keeping a row whose
    foreign keys are NULL rather than one that needs a parent gives a smaller database."""

    def references(i: int) -> int:
        return sum(
            all(rows[i][t.index(col)] is not None for col in fk.columns) for fk in t.foreign_keys
        )

    return sorted(range(len(rows)), key=lambda i: (-references(i), i))


def _preferred(
    schema: Schema, t: Table, column: str, preferred_values: dict[tuple[str, str], list[Any]] | None
) -> list[Any]:
    given = (preferred_values or {}).get((t.name.lower(), column.lower()))
    return list(given) if given else list(schema.sample_values(t.name, column))


def _candidates(value: Any, preferred: list[Any], dates: bool = False) -> list[Any]:
    """Replacements for `value`, simplest first, of the same kind (number, text, date); for a
    column declared as a date (`dates`), only date text (`verify.pools.is_time_value`)."""
    if isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        numbers = [v for v in preferred if _is_number(v)]
        return _dedupe((_SMALL_INTS if isinstance(value, int) else _SMALL_FLOATS) + numbers)
    if isinstance(value, str) and dates:
        return _dedupe([v for v in preferred + DATE_TEXTS if is_time_value(v)])
    if isinstance(value, str):
        return _dedupe([v for v in preferred if isinstance(v, str) and v != ""] + _SHORT_TEXTS)
    return _dedupe([v for v in preferred if type(v) is type(value)])


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same kind (2 and 2.0 are the same; 1 and True, or 1 and '1', not)."""
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _dedupe(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if not any(_same(v, o) for o in out):
            out.append(v)
    return out


def _copy(tables: Tables) -> Tables:
    return {name: [list(row) for row in rows] for name, rows in tables.items()}
