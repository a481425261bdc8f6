"""Property tests of every-size proofs of DuckDB-only SQL (JOIN LATERAL, row values), on DuckDB
itself: each pair proved for every size returns the same rows on random databases larger than
any bound the solver tries, and each shape is proved exactly when it should be, beside near
misses that must not be (the same harness as `test_property_soundness`, whose pairs SQLite runs)."""

from __future__ import annotations

from collections import Counter
from functools import cache

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_property_soundness import provable, shape_pairs

from verify.check import check_pair
from verify.schema_io import schema_from_ddl
from verify.verdict import Verdict, VerdictKind

DDL = "CREATE TABLE p (id INTEGER PRIMARY KEY, name VARCHAR, g INTEGER); CREATE TABLE q (pid INTEGER, v INTEGER);"
SCHEMA = schema_from_ddl(DDL, "duckdb")
K = 2
values = st.sampled_from([None, -1, 0, 1, 2])
databases = st.fixed_dictionaries({
    "p": st.lists(st.tuples(st.integers(0, 4), st.sampled_from([None, "x", "y"]), values), max_size=5,
                  unique_by=lambda r: r[0]),
    "q": st.lists(st.tuples(values, values), max_size=6),
})

# JOIN LATERAL (`uncorrelated_lateral_as_join`, `lateral_filter_as_join`,
# `one_row_lateral_as_subqueries`); a count of row values without a NULL (Calcite's COUNT(DISTINCT
# a, b) as verify.calcite writes it, `partial_aggregates_merged`). The third element: provable
# for every size (True/False), or None where only the verdict's claims must hold.
shapes = [
    ("SELECT p.id, x.v FROM p JOIN LATERAL (SELECT v FROM q WHERE v {op} {v}) AS x ON TRUE",
     "SELECT p.id, q.v FROM p CROSS JOIN q WHERE q.v {op} {v}", True),
    ("SELECT p.id, x.v FROM p LEFT JOIN LATERAL (SELECT v FROM q WHERE v {op} {v}) AS x ON p.g = x.v",
     "SELECT p.id, y.v FROM p LEFT JOIN (SELECT v FROM q WHERE v {op} {v}) AS y ON p.g = y.v", True),
    ("SELECT p.id, x.v FROM p JOIN LATERAL (SELECT v FROM q WHERE q.pid = p.id AND v {op} {v}) AS x ON TRUE",
     "SELECT p.id, q.v FROM p JOIN q ON q.pid = p.id WHERE q.v {op} {v}", True),
    ("SELECT p.id, x.v FROM p LEFT JOIN LATERAL (SELECT v FROM q WHERE q.pid = p.id) AS x ON x.v {op} {v}",
     "SELECT p.id, q.v FROM p LEFT JOIN q ON q.pid = p.id AND q.v {op} {v}", True),
    ("SELECT p.id, x.v FROM p LEFT JOIN LATERAL (SELECT v FROM q WHERE q.pid = p.id) AS x ON x.v {op} {v}",
     "SELECT p.id, q.v FROM p LEFT JOIN q ON q.pid = p.id WHERE q.v {op} {v}", False),   # ON, not WHERE
    ("SELECT p.id, x.w FROM p LEFT JOIN LATERAL (SELECT v, v {op} {v} AS w FROM q WHERE q.pid = p.id) AS x ON TRUE",
     "SELECT p.id, q.v {op} {v} FROM p LEFT JOIN q ON q.pid = p.id", None),   # computed: NULL when padded
    ("SELECT p.id, x.w FROM p LEFT JOIN LATERAL (SELECT v, 1 AS w FROM q WHERE q.pid = p.id) AS x ON TRUE",
     "SELECT p.id, 1 FROM p LEFT JOIN q ON q.pid = p.id", False),   # 1 where padded, against NULL
    ("SELECT p.id, x.m FROM p LEFT JOIN LATERAL (SELECT MAX(v) AS m FROM q WHERE q.pid = p.id AND v {op} {v}) AS x "
     "ON TRUE", "SELECT p.id, (SELECT MAX(v) FROM q WHERE q.pid = p.id AND v {op} {v}) FROM p", True),
    ("SELECT p.id, x.n FROM p JOIN LATERAL (SELECT COUNT(*) AS n FROM q WHERE q.pid = p.g) AS x ON x.n {op} {v}",
     "SELECT id, n FROM (SELECT p.id, (SELECT COUNT(*) FROM q WHERE q.pid = p.g) AS n FROM p) AS y WHERE n {op} {v}",
     None),
    ("SELECT p.id, x.m FROM p LEFT JOIN LATERAL (SELECT MAX(v) AS m FROM q WHERE q.pid = p.id) AS x ON x.m {op} {v}",
     "SELECT p.id, (SELECT MAX(v) FROM q WHERE q.pid = p.id) FROM p", False),   # padded where ON fails
    ("SELECT * FROM q WHERE v {op} {v} EXCEPT ALL SELECT * FROM q WHERE pid = v",   # each copy, or none
     "SELECT * FROM q WHERE v {op} {v} AND (pid <> v OR pid IS NULL OR v IS NULL)", True),
    ("SELECT * FROM q INTERSECT ALL SELECT * FROM q WHERE v {op} {v}", "SELECT * FROM q WHERE v {op} {v}", True),
    ("SELECT * FROM q WHERE v {op} {v} EXCEPT ALL SELECT * FROM q WHERE pid = v",
     "SELECT DISTINCT * FROM q WHERE v {op} {v} AND (pid <> v OR pid IS NULL OR v IS NULL)", False),   # copies
    ("SELECT COUNT(DISTINCT CASE WHEN pid IS NULL THEN NULL WHEN v IS NULL THEN NULL ELSE (pid, v) END) "
     "FROM q WHERE v {op} {v}",
     "SELECT COUNT(CASE WHEN v IS NOT NULL AND pid IS NOT NULL THEN 1 END) "
     "FROM (SELECT v, pid FROM q WHERE v {op} {v} GROUP BY v, pid) AS t", True),
    ("SELECT COUNT(DISTINCT CASE WHEN pid IS NULL THEN NULL WHEN v IS NULL THEN NULL ELSE (pid, v) END) "
     "FROM q WHERE v {op} {v}",
     "SELECT COUNT(*) FROM (SELECT v, pid FROM q WHERE v {op} {v} GROUP BY v, pid) AS t", False),   # NULL parts
]


def run(db: dict, sql: str) -> Counter:
    con = duckdb.connect()
    con.execute(DDL)
    if db["p"]:
        con.executemany("INSERT INTO p VALUES (?, ?, ?)", db["p"])
    if db["q"]:
        con.executemany("INSERT INTO q VALUES (?, ?)", db["q"])
    return Counter(con.execute(sql).fetchall())


@cache
def verdict(gold: str, gen: str) -> Verdict:
    return check_pair(gold, gen, schema=SCHEMA, bound=K, semantics="bag", dialect="duckdb", timeout=20)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=shape_pairs(shapes), dbs=st.lists(databases, min_size=25, max_size=25))
def test_duckdb_proofs_for_every_size_hold_on_larger_databases(pair, dbs):
    gold, gen, _ = pair
    v = verdict(gold, gen)
    if v.verdict == VerdictKind.EQUIVALENT and v.complete:
        for db in dbs:
            assert run(db, gold) == run(db, gen), (gold, gen, db)
    elif v.verdict == VerdictKind.NOT_EQUIVALENT:
        assert v.confirmed, v.reason


def test_every_duckdb_shape_is_proved_exactly_when_it_should_be():
    for shape in shapes:
        for op in ("=", "<", ">="):
            expected = provable(shape, op)
            if expected is None:
                continue
            gold, gen = shape[0].format(op=op, v=1), shape[1].format(op=op, v=1)
            v = verdict(gold, gen)
            assert (v.verdict == VerdictKind.EQUIVALENT and v.complete) == expected, (gold, gen, v.verdict, v.reason)
