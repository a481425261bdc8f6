"""`_same_top_k`: the same ORDER BY ... LIMIT over inputs proved to hold the same rows on every
database leaves only ties to tell two queries apart, and the SMT search then encodes the gold
plan twice, each sort with a tie order of its own (`verify.rowwise.the_same_top_k`,
`verify.ir.with_new_top`)."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_property_soundness import KEYED, keyed_databases, run_keyed
from test_property_soundness import SCHEMA as P_SCHEMA
from test_property_soundness import run as _run

import verify.check as check
from verify import ir
from verify.assumptions import TIES_NOTE
from verify.budget import Budget
from verify.rowwise import prove_for_every_size, the_same_top_k
from verify.schema_io import schema_from_ddl
from verify.verdict import VerdictKind

DDL = ("CREATE TABLE stadium (Stadium_ID INTEGER PRIMARY KEY, Name TEXT); "
       "CREATE TABLE concert (concert_ID INTEGER PRIMARY KEY, Stadium_ID INTEGER REFERENCES stadium(Stadium_ID), "
       "Year INTEGER);")
SCHEMA = schema_from_ddl(DDL)
BUSIEST = ("SELECT s.Name FROM {} WHERE s.Stadium_ID = c.Stadium_ID AND c.Year >= 2014 "
           "GROUP BY s.Stadium_ID ORDER BY count(*) DESC LIMIT 1")
NO_RANDOM = Budget(random_first=0, random_reserve=0)


def _plans(gold: str, gen: str) -> tuple[ir.Rel, ir.Rel]:
    prep = check._prepare(gold, gen, SCHEMA, "list", "sqlite")
    return prep.gold.rel, prep.gen.rel


def under_the_same_top_k(r1: ir.Rel, r2: ir.Rel) -> tuple[ir.Rel, ir.Rel] | None:
    """The inputs of the two sorts `the_same_top_k` finds, else None."""
    sorts = the_same_top_k(r1, r2)
    return None if sorts is None else (sorts[0].input, sorts[1].input)


@pytest.mark.parametrize("gen", [
    BUSIEST.format("concert AS c CROSS JOIN stadium AS s"),          # the join the other way round
    BUSIEST.format("stadium AS s, concert AS c").replace(">= 2014", "> 2013"),
])
def test_the_inputs_of_the_same_top_k_are_found_and_proved_equal(gen):
    inputs = under_the_same_top_k(*_plans(BUSIEST.format("stadium AS s CROSS JOIN concert AS c"), gen))
    assert inputs is not None
    assert prove_for_every_size(*inputs, SCHEMA, "sqlite")[0]


@pytest.mark.parametrize("gold, gen", [
    # near misses: another LIMIT, OFFSET, sort key, direction or projection; no LIMIT
    ("SELECT Name FROM stadium ORDER BY Stadium_ID LIMIT 1", "SELECT Name FROM stadium ORDER BY Stadium_ID LIMIT 2"),
    ("SELECT Name FROM stadium ORDER BY Stadium_ID LIMIT 1", "SELECT Name FROM stadium ORDER BY Stadium_ID LIMIT 1 OFFSET 1"),
    ("SELECT Name FROM stadium ORDER BY Stadium_ID LIMIT 1", "SELECT Name FROM stadium ORDER BY Name LIMIT 1"),
    ("SELECT Name FROM stadium ORDER BY Stadium_ID LIMIT 1", "SELECT Name FROM stadium ORDER BY Stadium_ID DESC LIMIT 1"),
    ("SELECT Name FROM stadium ORDER BY Stadium_ID LIMIT 1", "SELECT Name || '' FROM stadium ORDER BY Stadium_ID LIMIT 1"),
    ("SELECT Name FROM stadium ORDER BY Stadium_ID", "SELECT Name FROM stadium ORDER BY Stadium_ID"),
    ("SELECT Name FROM stadium LIMIT 1", "SELECT Name FROM stadium LIMIT 1"),
])
def test_other_orders_limits_or_projections_are_not_the_same_top_k(gold, gen):
    assert under_the_same_top_k(*_plans(gold, gen)) is None


def _spy(monkeypatch) -> list[int]:
    """Count the tie twins `_same_top_k` builds."""
    built: list[int] = []
    real = ir.with_new_top

    def counting(rel, below):
        built.append(1)
        return real(rel, below)

    monkeypatch.setattr(check.ir, "with_new_top", counting)
    return built


def test_ties_that_the_two_plans_break_differently_are_still_refuted(monkeypatch):
    """Scanning stadiums first groups them in key order; scanning concerts first groups them in
    a temporary B-tree: SQLite keeps a different one of two tied stadiums for each. Only ties can
    differ (the inputs are proved equal), and the solver, searching the gold plan against itself
    with two tie orders, finds the tie that SQLite confirms, in every row order."""
    built = _spy(monkeypatch)
    v = check.check_pair(BUSIEST.format("stadium AS s CROSS JOIN concert AS c"),
                         BUSIEST.format("concert AS c CROSS JOIN stadium AS s"), schema=SCHEMA, bound=3,
                         budget=NO_RANDOM)
    assert built, "the tie twin was not used"
    assert v.verdict == VerdictKind.NOT_EQUIVALENT and v.counterexample.found_by == "smt", v.reason
    assert not v.counterexample.order_dependent
    assert v.counterexample.gold_result.rows != v.counterexample.gen_result.rows


def test_ties_no_plan_tells_apart_stop_the_search_as_before(monkeypatch):
    """The same grouping and join order written with other aliases and an equivalent filter:
    SQLite breaks ties alike, so no model is confirmed; the verdict is the one the full search
    reaches without the shortcut (the bounds proved, a stop that names the ties)."""
    built = _spy(monkeypatch)
    gold = BUSIEST.format("stadium AS s CROSS JOIN concert AS c")
    gen = gold.replace(">= 2014", "> 2013")
    fast = check.check_pair(gold, gen, schema=SCHEMA, bound=3, budget=NO_RANDOM)
    assert built, "the tie twin was not used"
    full = check.check_pair(gold, gen, schema=SCHEMA, bound=3, budget=NO_RANDOM, shortcuts=False)
    assert fast.verdict == full.verdict == VerdictKind.EQUIVALENT, (fast.reason, full.reason)
    assert fast.strength == full.strength == "below_k" and fast.proof.bounds == full.proof.bounds
    assert "ties" in fast.reason and "proved for every size" in fast.reason
    assert any("ORDER BY ... LIMIT hold the same rows" in t for t in fast.proof.tried)
    assert fast.proof.only_ties_left and not full.proof.only_ties_left  # no shortcuts: not examined


# ------------------------------------------------------------------ property: larger databases
# Where `_same_top_k` holds, the two queries return the same list on every database whose sort
# input has no two rows tied under the sort keys, however large.
top_k_shapes = st.sampled_from([
    ("SELECT a, b FROM t WHERE b {op} {v} ORDER BY b DESC LIMIT 2",
     "SELECT a, b FROM (SELECT * FROM t WHERE b {op} {v}) ORDER BY b DESC LIMIT 2", 1),
    ("SELECT a, COUNT(*) FROM t WHERE b {op} {v} GROUP BY a ORDER BY COUNT(*) DESC LIMIT 1",
     "SELECT a, COUNT(*) FROM (SELECT * FROM t WHERE b {op} {v}) GROUP BY a ORDER BY 2 DESC LIMIT 1", 1),
    ("SELECT t.a, t.b FROM t JOIN u ON t.a = u.a WHERE u.c {op} {v} ORDER BY t.b LIMIT 1",
     "SELECT t.a, t.b FROM u JOIN t ON u.a = t.a WHERE u.c {op} {v} ORDER BY t.b LIMIT 1", 1),
    ("SELECT a, b FROM t WHERE b {op} {v} ORDER BY b LIMIT 1 OFFSET 1",   # another filter: not proved equal
     "SELECT a, b FROM t WHERE b {op} {v} OR a = 0 ORDER BY b LIMIT 1 OFFSET 1", 1),
])
top_k_pairs = st.builds(lambda shape, op, v: (shape[0].format(op=op, v=v), shape[1].format(op=op, v=v), shape[2]),
                        top_k_shapes, st.sampled_from(["=", "<", ">="]), st.sampled_from(["0", "1"]))
small = st.sampled_from([None, -1, 0, 1, 2, 3])
big_databases = st.fixed_dictionaries({
    "t": st.lists(st.tuples(small, small), max_size=8),
    "u": st.lists(st.tuples(small, small), max_size=4),
})


def _without_ties(db: dict, sql: str, key: int) -> bool:
    """No two rows of the query's sort input tie under its key (the query without LIMIT/OFFSET)."""
    keys = [row[key] for row in _run(db, sql.split(" LIMIT ")[0])]
    return len(keys) == len(set(keys))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=top_k_pairs, dbs=st.lists(big_databases, min_size=25, max_size=25))
def test_the_same_top_k_over_proved_equal_inputs_agrees_on_larger_databases_without_ties(pair, dbs):
    gold, gen, key = pair
    prep = check._prepare(gold, gen, P_SCHEMA, "list", "sqlite")
    inputs = under_the_same_top_k(prep.gold.rel, prep.gen.rel)
    proved = inputs is not None and prove_for_every_size(*inputs, P_SCHEMA, "sqlite")[0]
    assert proved == ("OR a = 0" not in gen), (gold, gen)  # the near miss must not be proved
    if proved:
        for db in dbs:
            if _without_ties(db, gold, key):
                assert _run(db, gold) == _run(db, gen), (gold, gen, db)


# ------------------------------------------------------- the same ORDER BY under the same projection
def test_the_same_order_by_under_the_same_projection_is_proved_for_every_size():
    """Spider question 663: the sort key is left out of the result, and the join is written the
    other way round: the inputs of the same ORDER BY, under the same projection, hold the same
    rows (ties in one fixed order, the assumption such verdicts state)."""
    gold = "SELECT s.Name FROM stadium AS s JOIN concert AS c ON s.Stadium_ID = c.Stadium_ID ORDER BY c.Year"
    gen = "SELECT s.Name FROM concert AS c JOIN stadium AS s ON c.Stadium_ID = s.Stadium_ID ORDER BY c.Year"
    v = check.check_pair(gold, gen, schema=SCHEMA, bound=2, budget=NO_RANDOM)
    assert v.verdict == VerdictKind.EQUIVALENT and v.strength == "every_size", v.reason
    assert any("fixed order" in a for a in v.assumptions)
    other = check.check_pair(gold, gen.replace("ORDER BY c.Year", "ORDER BY c.concert_ID"), schema=SCHEMA, bound=2,
                             budget=NO_RANDOM)
    assert other.strength != "every_size", other.reason


# ------------------------------------------------------------------ keys no two rows share
EMP = schema_from_ddl("CREATE TABLE dept (deptno INTEGER PRIMARY KEY, name TEXT); "
                      "CREATE TABLE emp (empno INTEGER PRIMARY KEY, deptno INTEGER NOT NULL REFERENCES dept(deptno), "
                      "sal INTEGER, badge INTEGER UNIQUE);")
TOP3 = "SELECT e.empno, d.name FROM {} ORDER BY {} LIMIT 3"


@pytest.mark.parametrize("key, every_size", [
    ("e.empno", True),          # a primary key: nothing ties, the lists are equal
    ("e.empno DESC, e.sal", True),
    ("e.sal", False),           # salaries may tie: which tied rows are kept is the engine's choice
    ("e.badge", False),         # UNIQUE but nullable: NULLs tie
    ("d.deptno", False),        # a department has many employees
])
def test_the_same_top_k_on_keys_no_two_rows_share_is_proved_for_every_size(key, every_size):
    gold = TOP3.format("emp AS e JOIN dept AS d ON e.deptno = d.deptno", key)
    gen = TOP3.format("dept AS d JOIN emp AS e ON d.deptno = e.deptno", key)
    v = check.check_pair(gold, gen, schema=EMP, bound=2, budget=NO_RANDOM)
    assert v.verdict == VerdictKind.EQUIVALENT, v.reason
    assert (v.strength == "every_size") == every_size, v.reason
    assert v.proof.only_ties_left == (not every_size)


@pytest.mark.parametrize("key, every_size", [("e.sal", True), ("e.badge", True), ("e.empno", True)])
def test_assume_ties_alike_proves_the_same_top_k_where_rows_may_tie(key, every_size):
    """`--assume ties_alike` (SQLSolver's reading of LIMIT, off by default: nothing backs it) turns
    "only ties can differ" into a proof, which lists the assumption; where nothing ties the proof
    needs no assumption and lists none."""
    gold = TOP3.format("emp AS e JOIN dept AS d ON e.deptno = d.deptno", key)
    gen = TOP3.format("dept AS d JOIN emp AS e ON d.deptno = e.deptno", key)
    v = check.check_pair(gold, gen, schema=EMP, bound=2, budget=NO_RANDOM, assume=["ties_alike"])
    assert v.verdict == VerdictKind.EQUIVALENT and v.strength == "every_size", v.reason
    assert (TIES_NOTE in v.assumptions) == (key != "e.empno"), v.assumptions


def test_assume_ties_alike_proves_nothing_where_the_inputs_differ():
    """Near misses: other rows under the same ORDER BY ... LIMIT (a filter one side lacks), or
    another LIMIT, are not proved by the assumption; the first is refuted on the engine."""
    gold = TOP3.format("emp AS e JOIN dept AS d ON e.deptno = d.deptno", "e.sal")
    for gen in (gold.replace("ORDER BY", "WHERE e.sal > 0 ORDER BY"), gold.replace("LIMIT 3", "LIMIT 1")):
        v = check.check_pair(gold, gen, schema=EMP, bound=2, assume=["ties_alike"])
        assert v.verdict == VerdictKind.NOT_EQUIVALENT, (gen, v.reason)


def test_ties_alike_is_what_sqlite_breaks_for_the_busiest_stadium():
    """The pair SQLite refutes by breaking a tie differently in each plan
    (`test_ties_that_the_two_plans_break_differently_are_still_refuted`) is proved under the
    assumption: why it is off by default and listed in the verdict."""
    v = check.check_pair(BUSIEST.format("stadium AS s CROSS JOIN concert AS c"),
                         BUSIEST.format("concert AS c CROSS JOIN stadium AS s"), schema=SCHEMA, bound=3,
                         budget=NO_RANDOM, assume=["ties_alike"])
    assert v.verdict == VerdictKind.EQUIVALENT and v.complete and TIES_NOTE in v.assumptions


keyed_top_k = st.sampled_from([
    ("SELECT id, name FROM p WHERE g {op} {v} ORDER BY id DESC LIMIT 2",
     "SELECT id, name FROM (SELECT * FROM p WHERE g {op} {v}) ORDER BY id DESC LIMIT 2", True),
    ("SELECT p.id, p.name, q.v FROM p JOIN q ON p.id = q.pid WHERE q.v {op} {v} ORDER BY p.id LIMIT 2",  # p.id repeats
     "SELECT p.id, p.name, q.v FROM q JOIN p ON q.pid = p.id WHERE q.v {op} {v} ORDER BY p.id LIMIT 2", False),
    ("SELECT id, name FROM p WHERE g {op} {v} ORDER BY name LIMIT 1",   # names may tie
     "SELECT id, name FROM (SELECT * FROM p WHERE g {op} {v}) ORDER BY name LIMIT 1", False),
])
keyed_top_k_pairs = st.builds(lambda shape, op, v: (shape[0].format(op=op, v=v), shape[1].format(op=op, v=v), shape[2]),
                              keyed_top_k, st.sampled_from(["=", "<", ">="]), st.sampled_from(["0", "1"]))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=keyed_top_k_pairs, dbs=st.lists(keyed_databases, min_size=25, max_size=25))
def test_the_same_top_k_on_a_key_holds_as_lists_on_larger_databases(pair, dbs):
    gold, gen, expected = pair
    v = check.check_pair(gold, gen, schema=KEYED, bound=2, semantics="list", timeout=20)
    assert (v.verdict == VerdictKind.EQUIVALENT and v.complete) == expected, (gold, gen, v.verdict, v.reason)
    if expected:
        for db in dbs:
            assert run_keyed(db, gold) == run_keyed(db, gen), (gold, gen, db)


# ------------------------------------------------------------------ a key completed by WHERE
# `keyed.never_tie`: the columns a WHERE fixes to one value complete a composite key, so the
# other key columns alone tie no two rows (an order's lines by number, the order fixed)
LINES_DDL = "CREATE TABLE line (o INTEGER NOT NULL, n INTEGER NOT NULL, v INTEGER, PRIMARY KEY (o, n));"
LINES = schema_from_ddl(LINES_DDL)
line_tables = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3), st.sampled_from([None, 0, 1])),
                       max_size=8, unique_by=lambda r: r[:2])


def _run_lines(rows: list[tuple], sql: str) -> list[tuple]:
    con = sqlite3.connect(":memory:")
    con.executescript(LINES_DDL)
    con.executemany("INSERT INTO line VALUES (?, ?, ?)", rows)
    return con.execute(sql).fetchall()


@pytest.mark.parametrize("where, every_size", [
    ("o = 1", True),
    ("o = 1 AND v > 0", True),
    ("o > 1", False),           # several orders: their lines' numbers tie
    ("o = 1 OR o = 2", False),
    ("v = 1", False),           # v is no key column
])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(tables=st.lists(line_tables, min_size=20, max_size=20))
def test_a_key_the_where_completes_ties_no_rows(where, every_size, tables):
    gold = f"SELECT n, v FROM line WHERE {where} ORDER BY n DESC LIMIT 2"
    gen = f"SELECT n, v FROM (SELECT * FROM line WHERE {where}) AS x ORDER BY n DESC LIMIT 2"
    v = check.check_pair(gold, gen, schema=LINES, bound=2, budget=NO_RANDOM)
    assert (v.verdict == VerdictKind.EQUIVALENT and v.complete) == every_size, (where, v.reason)
    if every_size:
        for rows in tables:
            assert _run_lines(rows, gold) == _run_lines(rows, gen), (where, rows)
