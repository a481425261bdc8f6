"""`recheck`: a randomized differential test of an "equivalent" verdict on databases larger than
the bound it was proved for.

An every-size proof (`Verdict.complete`) claims the two queries agree on every database. This
module tries the claim on the real engine: `databases` random databases (fixed seed) with
`min_rows`..`max_rows` rows per table drawn from the same value pools the random pass uses
(the queries' literals and their neighbours, so that filters and joins select rows), each
satisfying the schema's constraints. A difference there is a wrong proof unless another order
of the same rows makes the results agree (a choice SQLite leaves open: ties under ORDER BY ...
LIMIT and the like), which is counted apart. Benchmarks report both counts; a wrong proof is a
bug in a rule (see `verify.rules`).

Example:
    >>> from verify.schema_io import schema_from_ddl
    >>> s = schema_from_ddl("CREATE TABLE t (a INTEGER, b INTEGER);")
    >>> r = recheck("SELECT a FROM t WHERE a > 1", "SELECT a FROM t WHERE NOT a <= 1", s, databases=20)
    >>> r.databases, r.differences
    (20, 0)
    >>> recheck("SELECT a FROM t", "SELECT DISTINCT a FROM t", s, databases=50).differences > 0
    True
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from verify import engine, ir
from verify.errors import QueryError, Unsupported
from verify.lower import lower_query
from verify.names import Dialect, Semantics
from verify.parse import parse_query
from verify.pools import value_pools
from verify.randomdb import draw_database, reorderings, table_plans
from verify.schema import Schema

REORDERINGS = 4  # other row orders tried before a difference counts as a wrong proof


@dataclass
class Recheck:
    """What the differential test saw: databases run (each had a table with more than
    `min_rows - 1` rows), differences no row order removes, differences another row order
    removes, databases the engine refused to run a query on, and the first real difference."""

    databases: int = 0
    differences: int = 0
    order_dependent: int = 0
    errors: int = 0
    largest: int = 0  # the most rows any table had in a database run
    first_difference: dict[str, list[list[Any]]] | None = field(default=None)


@dataclass
class _Trees:
    """What `verify.pools.value_pools` reads of a prepared pair."""

    gold_tree: exp.Expression
    gen_tree: exp.Expression
    gold: ir.Query | None  # None when the verifier does not model a query
    gen: ir.Query | None
    schema: Schema
    data_schema: Schema


def recheck(gold: str, gen: str, schema: Schema, *, dialect: Dialect | str = Dialect.SQLITE,
            semantics: Semantics | str = Semantics.BAG, databases: int = 100, min_rows: int = 5,
            max_rows: int = 10, seed: int = 0, timeout: float = 5.0) -> Recheck:
    """Run `gold` and `gen` on `databases` random databases of `schema` in which some table read
    has at least `min_rows` rows (up to `max_rows` per table), and count the differences.

    Draws that come out smaller (keys and foreign keys can drop rows) are redrawn, up to ten
    times the number asked for; so `databases` may come back lower on a schema whose
    constraints admit few rows."""
    if not 1 <= min_rows <= max_rows:
        raise ValueError(f"need 1 <= min_rows <= max_rows, got {min_rows} and {max_rows}")
    trees = [parse_query(gold, dialect), parse_query(gen, dialect)]
    read = {t.name.lower() for tree in trees for t in tree.find_all(exp.Table)} & {
        t.name.lower() for t in schema.tables}
    data_schema = schema.restricted_to(read)
    lowered = [_lowered(tree, schema, dialect) for tree in trees]
    # each value once: weighted to the compared literals as in the random pass, a key compared
    # with a literal left too few distinct values for tables this large (the draws came out
    # smaller than `min_rows`, and a proof was re-checked on no database at all)
    pools = value_pools(_Trees(trees[0], trees[1], lowered[0] if None not in lowered else None,
                               lowered[1] if None not in lowered else None, schema, data_schema), weighted=False)
    plans = table_plans(data_schema, _room_for_keys(data_schema, pools, max_rows))
    rng = random.Random(seed)
    out = Recheck()
    seen: set[str] = set()
    for _ in range(10 * databases):
        if out.databases >= databases:
            break
        tables = draw_database(data_schema, rng.randint(min_rows, max_rows), pools, rng, null_rate=0.1,
                               plans=plans)
        largest = max((len(rows) for name, rows in tables.items() if name.lower() in read), default=0)
        fingerprint = repr(tables)
        if largest < min_rows or fingerprint in seen:
            continue
        seen.add(fingerprint)
        try:
            _, _, cmp = engine.run_both(data_schema, tables, gold, gen, dialect, semantics, timeout=timeout)
        except engine.DatabaseRejected:
            continue
        except engine.EngineError:
            out.databases += 1
            out.errors += 1
            continue
        out.databases += 1
        out.largest = max(out.largest, largest)
        if not cmp.differ:
            continue
        if _agrees_in_another_order(data_schema, tables, gold, gen, dialect, semantics, rng, timeout):
            out.order_dependent += 1
        else:
            out.differences += 1
            out.first_difference = out.first_difference or tables
    return out


def _room_for_keys(schema: Schema, pools: dict[tuple[str, str], list[Any]], rows: int) -> dict[tuple[str, str], list[Any]]:
    """`pools` where each integer or text column of a primary key or UNIQUE set has at least
    `rows` values (fresh ones appended after the pool's own), so that a table can hold `rows`
    rows with distinct keys: the random pass's pools, made for a few rows, may have only four.

        >>> from verify.schema_io import schema_from_ddl
        >>> s = schema_from_ddl("CREATE TABLE t (id INTEGER PRIMARY KEY, b TEXT);")
        >>> _room_for_keys(s, {("t", "id"): [0, 1], ("t", "b"): ["a"]}, 4)
        {('t', 'id'): [0, 1, 1000, 1001], ('t', 'b'): ['a']}
    """
    out = dict(pools)
    for t in schema.tables:
        keyed = {c.lower() for key in [t.primary_key, *t.unique] for c in key}
        for c in t.columns:
            pool_key = (t.name.lower(), c.name.lower())
            pool = list(out.get(pool_key) or [])
            if c.name.lower() not in keyed or c.kind not in ("int", "text") or len(pool) >= rows:
                continue
            fresh = (1000 + i if c.kind == "int" else f"k{i}" for i in range(10 * rows))
            pool += [v for v in fresh if v not in pool][:rows - len(pool)]
            out[pool_key] = pool
    return out


def _lowered(tree: exp.Expression, schema: Schema, dialect: Dialect | str) -> ir.Query | None:
    try:
        return lower_query(tree, schema, dialect)
    except (QueryError, Unsupported):
        return None


def _agrees_in_another_order(schema: Schema, tables: dict[str, list[list[Any]]], gold: str, gen: str,
                             dialect: Dialect | str, semantics: Semantics | str, rng: random.Random,
                             timeout: float) -> bool:
    """Do the results agree once the rows are stored in another order (reversed, then shuffled)?"""
    for shuffled in reorderings(tables, rng, REORDERINGS):
        try:
            _, _, cmp = engine.run_both(schema, shuffled, gold, gen, dialect, semantics, timeout=timeout)
        except engine.EngineError:
            continue
        if not cmp.differ:
            return True
    return False
