"""The cheap randomized pass that runs before the SMT encoding.

Most wrong queries are wrong on some tiny database built from the right values: the constants
the queries mention, a few real sample values, NULL, 0 and 1. `draw_database` draws such a
database (at most `k` rows per table, respecting primary keys, UNIQUE, NOT NULL and foreign
keys) from per-column value pools, and `random_search` runs both queries on many of them with
the real engine until the results differ.

Example:
    >>> import random
    >>> from verify.schema import Affinity, Column, Schema, Table
    >>> s = Schema(tables=[Table(name="t", columns=[Column(name="a", affinity=Affinity.INTEGER)])])
    >>> out = random_search(s, "SELECT a FROM t WHERE a > 1", "SELECT a FROM t WHERE a >= 1",
    ...                     dialect="sqlite", semantics="bag", pools={("t", "a"): [1, 2]},
    ...                     k_max=2, max_databases=50, rng=random.Random(0))
    >>> out.hit.comparison.gold_only, (1,) in out.hit.comparison.gen_only
    ([], True)
"""

from __future__ import annotations

import datetime
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from verify.engine import Comparison, DatabaseRejected, EngineError, EngineTimeout, Result, run_both
from verify.schema import Affinity, Schema, Table, is_date_type

Tables = dict[str, list[list[Any]]]
Pools = dict[tuple[str, str], list[Any]]
Links = dict[tuple[str, str], list[tuple[str, str]]]  # (table, column) -> columns it is joined with

DEFAULT_POOLS: dict[Affinity, list[Any]] = {
    Affinity.INTEGER: [-1, 0, 1, 2, 3, 10],
    Affinity.REAL: [0.0, 0.5, 1.5, -2.5],
    Affinity.TEXT: ["a", "b", "A", "", "ab", "10"],
    Affinity.NUMERIC: [-1, 0, 1, 2, 0.5, 1.5, 10],
    Affinity.BLOB: [0, 1, "a", "b"],
    Affinity.DATE: [
        datetime.date(2020, 1, 1),
        datetime.date(2020, 1, 2),
        datetime.date(2020, 2, 29),
        datetime.date(2021, 12, 31),
        datetime.date(1999, 12, 31),
    ],
    Affinity.BOOLEAN: [True, False],
}

DATE_TEXTS = ["2000-01-01", "2000-01-02", "2020-02-29", "1999-12-31 23:59:59"]


def default_pool(c) -> list[Any]:
    """Values for a column no pool covers: by affinity, except that a SQLite column declared as
    a date (NUMERIC affinity) holds date text, as the verifier models it."""
    if c.kind == "text" and is_date_type(c.type):
        return DATE_TEXTS
    return DEFAULT_POOLS[Affinity.TEXT if c.kind == "text" else c.affinity]


LINK_RATE = 0.5  # how often a linked column copies a value of a column it is joined with
_ATTEMPTS_PER_ROW = 10  # draws per wanted row before giving up on it (key clashes, no parent)
_ALL_ERRORS_STOP = 20  # stop early when this many databases in a row, from the start, all fail


@dataclass
class RandomHit:
    """A database on which the engine returned different results for the two queries."""

    tables: Tables
    gold: Result
    gen: Result
    comparison: Comparison
    k: int  # the row bound the database was drawn with
    databases_tried: int  # including this one


@dataclass
class RandomOutcome:
    """What `random_search` did: the hit (None if nothing differed), how many distinct
    databases it ran both queries on, how many of those raised EngineError (skipped), and the
    last such error message (useful when every database failed: the query itself is broken)."""

    hit: RandomHit | None
    tried: int
    errors: int
    last_error: str | None = None
    rejected: int = 0  # databases drawn that the schema's constraints do not allow (not run)
    timed_out: bool = False  # the wall-clock safety stop ended the search before its count


# --------------------------------------------------------------------------------------------
# Drawing one database


def draw_database(
    schema: Schema,
    k: int,
    pools: Pools,
    rng: random.Random,
    null_rate: float = 0.2,
    plans: dict[str, _TablePlan] | None = None,
) -> Tables:
    """A random database with at most `k` rows per table that satisfies the schema's
    constraints, keyed by the schema's table names (rows in the schema's column order).

    Cell values come from `pools[(table_lower, column_lower)]` when present and non-empty,
    else from `DEFAULT_POOLS` for the column's affinity; a nullable column is NULL with
    probability `null_rate`. A foreign key's columns are all NULL or copy an existing parent
    row (parents are drawn first; self-references copy an earlier row of the same table).
    A column the queries join with another table's (`table_plans`' links; see
    `verify.pools.joined_columns`) copies a value of that column's rows drawn so far with
    probability `LINK_RATE`. A row whose functional-dependency left side matches an earlier row's
    takes that row's right side. Rows that cannot be made to fit (key clash, no parent for a NOT NULL foreign
    key) are dropped, so a table can come out smaller than drawn. CHECKs are met as far as the
    pools are (`verify.pools.fit_to_checks`). Deterministic given `rng`'s state. `plans` (from
    `table_plans(schema, pools)`) saves working out the same lookups for every database.
    """
    plans = plans or table_plans(schema, pools)
    db: Tables = {t.name: [] for t in schema.tables}
    for t in _topological_order(schema):
        plan = plans[t.name]
        wanted = _draw_size(k, rng)
        rows = db[t.name]
        seen: list[set[tuple]] = [set() for _ in plan.keys]
        attempts = 0
        while len(rows) < wanted and attempts < wanted * _ATTEMPTS_PER_ROW:
            attempts += 1
            row = _draw_row(plan, db, rng, null_rate)
            if row is None:
                continue
            follow_dependencies(plan.fds, rows, row)
            row_keys = [tuple(_key_value(row[i]) for i in idx) for idx in plan.keys]
            # NULL never clashes under UNIQUE (and key columns are never NULL here).
            if any(None not in rk and rk in s for rk, s in zip(row_keys, seen)):
                continue
            for rk, s in zip(row_keys, seen):
                if None not in rk:
                    s.add(rk)
            rows.append(row)
    return db


@dataclass
class _ForeignKeyPlan:
    columns: list[int]  # indexes in the child row
    parent: str  # the parent table's name as the schema spells it
    parent_columns: list[int]  # indexes in the parent's rows
    nullable: list[bool]  # per child column
    all_nullable: bool


@dataclass
class _TablePlan:
    """What drawing a row of one table needs, looked up once."""

    cells: list[tuple[bool, list[Any]]]  # per column: nullable?, the values to draw from
    foreign_keys: list[_ForeignKeyPlan]
    keys: list[list[int]]  # column indexes of the primary key and of each UNIQUE set
    fds: list[tuple[list[int], list[int]]]  # functional dependencies as column indexes
    # per column the queries equate with columns of other tables (`verify.pools.joined_columns`):
    # its index, and those columns as (the table's name as the schema spells it, column index)
    links: list[tuple[int, list[tuple[str, int]]]] = field(default_factory=list)


def table_plans(schema: Schema, pools: Pools, links: Links | None = None) -> dict[str, _TablePlan]:
    """Per table (by the schema's name): each column's values and nullability, and its keys,
    foreign keys, functional dependencies and `links` (see `draw_database`) as column indexes."""
    plans = {}
    for t in schema.tables:
        cells = []
        for c in t.columns:
            nullable = _nullable(t, c.name)
            pool = pools.get((t.name.lower(), c.name.lower())) or default_pool(c)
            if not nullable:
                pool = [v for v in pool if v is not None] or default_pool(c)
            cells.append((nullable, pool))
        fks = []
        for fk in t.foreign_keys:
            parent = schema.table(fk.ref_table)
            nullable = [_nullable(t, col) for col in fk.columns]
            fks.append(_ForeignKeyPlan([t.index(col) for col in fk.columns], parent.name,
                                       [parent.index(rc) for rc in fk.ref_columns], nullable, all(nullable)))
        fds = [([t.index(c) for c in fd.lhs], [t.index(c) for c in fd.rhs]) for fd in t.functional_dependencies]
        plans[t.name] = _TablePlan(cells, fks, _key_indexes(t), fds, _link_plan(schema, t, links or {}))
    return plans


def _link_plan(schema: Schema, t: Table, links: Links) -> list[tuple[int, list[tuple[str, int]]]]:
    out = []
    for c in t.columns:
        targets = []
        for table, column in links.get((t.name.lower(), c.name.lower()), []):
            if schema.has_table(table) and schema.table(table).has_column(column):
                targets.append((schema.table(table).name, schema.table(table).index(column)))
        if targets:
            out.append((t.index(c.name), targets))
    return out


def _draw_size(k: int, rng: random.Random) -> int:
    """0..k rows, mostly k, sometimes empty or a single row."""
    if k <= 0:
        return 0
    r = rng.random()
    if r < 0.1:
        return 0
    if r < 0.2:
        return 1
    if r < 0.4:
        return rng.randint(0, k)
    return k


def _draw_row(plan: _TablePlan, db: Tables, rng: random.Random, null_rate: float) -> list[Any] | None:
    row = [None if nullable and rng.random() < null_rate else rng.choice(pool) for nullable, pool in plan.cells]
    fixed: dict[int, Any] = {}  # columns set by an earlier foreign key of this row
    for fk in plan.foreign_keys:
        parent_rows = db[fk.parent]
        if parent_rows and not (fk.all_nullable and rng.random() < null_rate):
            prow = rng.choice(parent_rows)
            values = [prow[i] for i in fk.parent_columns]
        elif fk.all_nullable:
            values = [None] * len(fk.columns)
        else:
            return None  # a NOT NULL foreign key with no parent row to point at
        for i, v, nullable in zip(fk.columns, values, fk.nullable):
            if v is None and not nullable:
                return None
            if i in fixed and fixed[i] != v:
                return None  # two overlapping foreign keys disagree
            fixed[i] = v
            row[i] = v
    for i, targets in plan.links:
        if i in fixed or rng.random() >= LINK_RATE:
            continue
        values = [r[j] for name, j in targets for r in db[name] if r[j] is not None]
        if values:
            row[i] = rng.choice(values)
    return row


def follow_dependencies(fds: list[tuple[list[int], list[int]]], rows: list[list[Any]], row: list[Any]) -> None:
    """Make `row` agree with the earlier rows on each functional dependency X -> Y (column
    indexes): where an earlier row has the same non-NULL X, copy its Y (repeated, as one copy
    can make another dependency apply). A copy may break a key; such a row is dropped like any
    key clash, and anything still broken is caught when the database is materialized."""
    for _ in range(len(fds)):
        changed = False
        for lhs, rhs in fds:
            if any(row[i] is None for i in lhs):
                continue
            same = next((r for r in rows if all(_key_value(r[i]) == _key_value(row[i]) for i in lhs)), None)
            if same is not None and any(row[i] != same[i] for i in rhs):
                for i in rhs:
                    row[i] = same[i]
                changed = True
        if not changed:
            return


def _nullable(t: Table, column: str) -> bool:
    in_pk = any(column.lower() == p.lower() for p in t.primary_key)
    return not in_pk and not t.column(column).not_null


def _key_indexes(t: Table) -> list[list[int]]:
    """Column indexes of the primary key and of each UNIQUE set."""
    sets = ([t.primary_key] if t.primary_key else []) + t.unique
    return [[t.index(col) for col in cols] for cols in sets]


def _key_value(v: Any) -> Any:
    """Compare key values the way the engine would (dates equal their ISO text)."""
    return v.isoformat() if isinstance(v, datetime.date) else v


def _topological_order(schema: Schema) -> list[Table]:
    """Tables with referenced (parent) tables first; self-references are ignored and cycles
    broken in schema order (the first table drawn in a cycle gets NULL foreign keys)."""
    order: list[Table] = []
    state: dict[str, str] = {}  # lower name -> "visiting" | "done"

    def visit(t: Table) -> None:
        name = t.name.lower()
        if state.get(name):
            return
        state[name] = "visiting"
        for fk in t.foreign_keys:
            if fk.ref_table.lower() != name and schema.has_table(fk.ref_table):
                visit(schema.table(fk.ref_table))
        state[name] = "done"
        order.append(t)

    for t in schema.tables:
        visit(t)
    return order


# --------------------------------------------------------------------------------------------
# The search

QUERY_TIMEOUT = 10.0  # seconds one run of a query may take on a random database


def reorderings(tables: Tables, rng: random.Random, tries: int):
    """`tries` other orders of the same rows: reversed first, then shuffled with `rng` (where an
    engine leaves an order open, such as the scan order, another order may change a result).

        >>> [t["t"] for t in reorderings({"t": [[1], [2], [3]]}, random.Random(0), 2)][0]
        [[3], [2], [1]]
    """
    for attempt in range(tries):
        shuffled = {}
        for name, rows in tables.items():
            rows = list(rows)
            if attempt == 0:
                rows.reverse()
            else:
                rng.shuffle(rows)
            shuffled[name] = rows
        yield shuffled


def _integer_of(v: Any) -> int | None:
    """`v` as an integer when it is one, or the canonical decimal text of one ('9', not '09')."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    digits = v.lstrip("-") if isinstance(v, str) else ""
    if digits.isascii() and digits.isdigit() and str(int(v)) == v:  # '₆'.isdigit() too, but int() rejects it
        return int(v)
    return None


def renumberings(tables: Tables, keep: frozenset[int] = frozenset(), columns: set[tuple[str, int]] | None = None):
    """Copies of `tables` whose integers are renamed in orders other than their own, for rows that
    tie under an ORDER BY with LIMIT: an engine keeps tied groups in the order of their group key
    (and SQLite compares a TEXT key as text, so '10' comes before '9'), which a database whose
    keys are 1 and 2 does not show.

    A copy renames integer values consistently, as numbers and as decimal text alike, so equal
    values stay equal. Only the cells of `columns` ((table, column index) pairs; every column
    when None) are renamed, together with every column that shares a value with them (a join
    partner), so joins, keys and foreign keys hold as before while other columns, and the
    queries' comparisons with them, stay as they are; so do the values in `keep` (the queries'
    literals). Three orders: 9, 89, 889, ... (ascending as numbers, descending as text),
    the values reversed, and the two together.

        >>> [t["t"] for t in renumberings({"t": [[1, "2"], [2, None]]})]
        [[[9, '89'], [89, None]], [[2, '1'], [1, None]], [[89, '9'], [9, None]]]
        >>> [t["t"] for t in renumberings({"t": [[1, 7], [2, 8]]}, columns={("t", 0)})][0]
        [[9, 7], [89, 8]]
    """
    cells: dict[tuple[str, int], set[int]] = {}
    for name, rows in tables.items():
        for row in rows:
            for i, v in enumerate(row):
                n = _integer_of(v)
                if n is not None and n not in keep:
                    cells.setdefault((name, i), set()).add(n)
    chosen = set(cells) if columns is None else set(columns) & set(cells)
    values = set().union(*(cells[c] for c in chosen)) if chosen else set()
    grown = True
    while grown:  # join partners: columns that share a value with the chosen ones
        partners = {c for c, vs in cells.items() if c not in chosen and vs & values}
        grown = bool(partners)
        chosen |= partners
        values = values.union(*(cells[c] for c in partners))
    if not values:
        return
    ordered = sorted(values)
    # 9, 89, 889, ...: ascending as numbers, descending as text ('889' < '89' < '9')
    crossing = [int("8" * i + "9") for i in range(len(ordered))]
    orders = [ordered[::-1]]
    if len(crossing) <= 19 and not keep & set(crossing):  # 19 digits: still a 64-bit integer
        orders = [crossing, ordered[::-1], crossing[::-1]]
    for targets in orders:
        rename = dict(zip(ordered, targets))
        if all(a == b for a, b in rename.items()):
            continue

        def renamed(name: str, i: int, v: Any) -> Any:
            n = _integer_of(v)
            if (name, i) not in chosen or n is None or n not in rename:
                return v
            return rename[n] if isinstance(v, int) else str(rename[n])

        yield {name: [[renamed(name, i, v) for i, v in enumerate(row)] for row in rows]
               for name, rows in tables.items()}


def random_search(
    schema: Schema,
    gold_sql: str,
    gen_sql: str,
    *,
    dialect: str,
    semantics: str,
    pools: Pools,
    k_max: int,
    rng: random.Random,
    max_databases: int = 2000,
    deadline: float | None = None,
    accept: Callable[[RandomHit], bool] | None = None,
    links: Links | None = None,
) -> RandomOutcome:
    """Run both queries on random databases (`draw_database`, its columns joined as `links`
    says) until the engine's results differ.

    Databases are drawn with k = 1, 2, ..., k_max rows per table, then again from 1, until
    one differs or `max_databases` distinct databases were tried (or 5 × `max_databases` draws
    were made): a count, so that with the same `rng` seed the search is the same on every
    machine. A database already tried is skipped without counting, and so is one the schema's
    constraints reject (`rejected`). A database on which a query raises EngineError counts as
    tried and as an error; if the first 20 all fail the search stops (the query fails regardless
    of the data).

    `accept`, when given, decides whether a database on which the results differ ends the
    search: one it turns down counts as tried and the search goes on (the caller keeps what it
    wants of it), so a difference that only an order the engine leaves open shows does not stop
    the search for one that no order removes.

    `deadline` (a `time.monotonic()` value) is only a safety stop: past it the search ends early
    and says so (`timed_out`); so does a query that runs past `QUERY_TIMEOUT` (or the deadline)
    on one database.
    """
    k_max = max(1, k_max)
    seen: set[str] = set()
    tried = errors = draws = rejected = 0
    plans = table_plans(schema, pools, links)
    last_error: str | None = None
    while tried < max_databases and draws < 5 * max_databases:
        remaining = QUERY_TIMEOUT if deadline is None else min(QUERY_TIMEOUT, deadline - time.monotonic())
        if remaining <= 0:
            return RandomOutcome(None, tried, errors, last_error, rejected, timed_out=True)
        k = 1 + draws % k_max
        draws += 1
        tables = draw_database(schema, k, pools, rng, plans=plans)
        fingerprint = repr(tables)
        if fingerprint in seen:
            continue
        seen.add(fingerprint)
        try:
            gold, gen, comparison = run_both(
                schema, tables, gold_sql, gen_sql, dialect, semantics, timeout=remaining
            )
        except DatabaseRejected:
            rejected += 1
            continue
        except EngineTimeout:  # the clock decided: reported as such, never counted as an error
            return RandomOutcome(None, tried, errors, last_error, rejected, timed_out=True)
        except EngineError as e:
            tried += 1
            errors += 1
            last_error = str(e)
            if errors == tried >= _ALL_ERRORS_STOP:
                break
            continue
        tried += 1
        if comparison.differ:
            hit = RandomHit(tables, gold, gen, comparison, k, tried)
            if accept is None or accept(hit):
                return RandomOutcome(hit, tried, errors, last_error, rejected)
    return RandomOutcome(None, tried, errors, last_error, rejected)
