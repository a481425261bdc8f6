"""Databases given as hints, repaired to fit the schema's constraints.

A caller often holds a database on which the two queries differ that the current schema does
not allow: typically the counterexample found without mined constraints, which the
constraints run must re-check. Most such databases break a constraint only in cells that do
not matter (a NULL where the constraints say NOT NULL, a 0 outside a mined range), so before
any search the checker tries the hint as given and then repaired: every cell its column's
CHECKs reject, and every NULL in a NOT NULL column, replaced by a value the column's pool holds
(`verify.pools.fit_to_checks`), first the pool's first value, then random ones; rows then
follow the functional dependencies. Each variant is only a candidate: the engine decides
whether the schema allows it and whether the queries differ on it.

    >>> import random
    >>> from verify.schema import Affinity, Column, Schema, Table
    >>> s = Schema(tables=[Table(name="t", columns=[Column(name="a", type="INT", affinity=Affinity.INTEGER,
    ...                                                    not_null=True)], checks=['"a" BETWEEN 5 AND 7'])])
    >>> [v["t"] for v in repairs(s, {"t": [[0], [6], [None]]}, {("t", "a"): [6, 5, 7]}, random.Random(0), 2)]
    [[[0], [6], [None]], [[6], [6], [6]], [[5], [6], [5]]]
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from verify.pools import allowed_values, single_column_checks
from verify.randomdb import Pools, Tables, follow_dependencies, table_plans
from verify.schema import Schema


def repairs(schema: Schema, tables: Tables, pools: Pools, rng: random.Random, count: int) -> Iterator[Tables]:
    """`tables` as given (keyed by the schema's table names; others are dropped), then up to
    `count` variants with the cells that break a one-column CHECK or NOT NULL replaced (see the
    module docstring). Nothing but the first when no cell breaks one."""
    given = {t.name: [list(r) for r in _rows_of(tables, t.name)] for t in schema.tables}
    given = {name: rows for name, rows in given.items() if rows}
    yield given
    plans = table_plans(schema, pools)
    bad: list[tuple[str, int, int, list[Any]]] = []  # table, row, column, replacement values
    for t in schema.tables:
        rows = given.get(t.name, [])
        if not rows:
            continue
        checks = single_column_checks(t)
        for j, c in enumerate(t.columns):
            nullable, pool = plans[t.name].cells[j]
            values = [r[j] for r in rows]
            fine = allowed_values(t, c.name, checks[c.name.lower()], values) if c.name.lower() in checks else values
            for i, v in enumerate(values):
                broken = (v is None and not nullable) or not any(v is w for w in fine)
                choices = [w for w in pool if w is not None]
                if broken and choices:
                    bad.append((t.name, i, j, choices))
    if not bad:
        return
    for attempt in range(count):
        variant = {name: [list(r) for r in rows] for name, rows in given.items()}
        for name, i, j, choices in bad:
            variant[name][i][j] = choices[0] if attempt == 0 else rng.choice(choices)
        for name, rows in variant.items():
            fds = plans[name].fds
            for i in range(1, len(rows)):
                follow_dependencies(fds, rows[:i], rows[i])
        yield variant


def _rows_of(tables: Tables, name: str) -> list[list[Any]]:
    for key, rows in tables.items():
        if key.lower() == name.lower():
            return rows
    return []
