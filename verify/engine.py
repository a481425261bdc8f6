"""Running queries on the real engine: the ground truth that confirms a counterexample.

The verifier never claims two queries differ unless the engine itself returned different
results. This module builds a throwaway in-memory database from a `Schema` and a few rows
(`materialize`), runs a SELECT on it with a time limit (`run_query`), and compares two results
under bag, set or list semantics (`compare_results`).

Example:
    >>> from verify.schema import Column, Schema, Table, Affinity
    >>> s = Schema(tables=[Table(name="t", columns=[Column(name="a", affinity=Affinity.INTEGER)])])
    >>> gold, gen, cmp = run_both(s, {"t": [[1], [2]]}, "SELECT a FROM t WHERE a > 1",
    ...                           "SELECT a FROM t WHERE a >= 1", "sqlite", "bag")
    >>> cmp.differ, cmp.gold_only, cmp.gen_only
    (True, [], [(1,)])

Value comparison (`compare_results`): NULL equals NULL, 2 equals 2.0, floats are equal within a
relative tolerance of 1e-9, text is case-sensitive, and column names never matter.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import math
import sqlite3
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Union

import duckdb
import sqlglot

from verify.names import Dialect, Semantics
from verify.parse import dollar_identifier
from verify.schema import Schema, SchemaError, Table, quote_ident

# the semantics two results are compared under (`Semantics.AUTO` is resolved before)
SEMANTICS = (Semantics.BAG, Semantics.SET, Semantics.LIST)

Tables = dict[str, list[list[Any]]]
Connection = Union[sqlite3.Connection, duckdb.DuckDBPyConnection, "DuckDBDatabase"]


class EngineError(Exception):
    """A database or query the engine refused; the message carries the engine's own error."""


class EngineTimeout(EngineError):
    """A query that ran past its time limit."""


class EngineWorkLimit(EngineError):
    """A SQLite query that ran past `SQLITE_STEP_LIMIT` virtual-machine steps: the same on every
    machine, so it is the query's outcome on that database (like an error), not the clock's."""


# Virtual-machine steps one SQLite query may take on the verifier's databases, a few rows per
# table (SQLite's progress handler counts them): a count, so that a query stopped by it is
# stopped on every machine; about a second of work. No query of the benchmarks comes near it
# on such databases; a runaway one (a recursive CTE without an end) does.
SQLITE_STEP_LIMIT = 100_000_000
_STEPS_PER_CALL = 1000


class DatabaseRejected(EngineError):
    """Data the schema does not allow: a CHECK, key, NOT NULL, foreign key or functional
    dependency it breaks (the message names which)."""


class _Unparsed(EngineError):
    """Internal: the engine could not parse the query (or read an identifier as a parameter)."""


@dataclass
class Result:
    columns: list[str]
    rows: list[tuple]


@dataclass
class Comparison:
    """How two results differ.

    `gold_only` / `gen_only` hold rows (with multiplicity, except under set semantics) that only
    one side has. Under list semantics two results with the same rows in a different order
    differ with both lists empty. `reason` is a short human-readable summary ("" when equal).
    """

    differ: bool
    gold_only: list[tuple] = field(default_factory=list)
    gen_only: list[tuple] = field(default_factory=list)
    reason: str = ""


# --------------------------------------------------------------------------------------------
# Building a database


def materialize(schema: Schema, tables: Tables, dialect: Dialect | str = Dialect.SQLITE) -> Connection:
    """An open in-memory connection holding `schema`'s tables filled with `tables`' rows.

    `tables` maps table name (case-insensitive) to rows, each a list in the schema's column
    order; tables left out are empty. A database that breaks a declared constraint (key,
    UNIQUE, NOT NULL, foreign key, CHECK, functional dependency) raises DatabaseRejected, an
    EngineError. The caller closes the connection.
    """
    _check_dialect(dialect)
    rows_by_table = _rows_by_schema_table(schema, tables)
    if dialect == Dialect.SQLITE:
        return _materialize_sqlite(schema, rows_by_table)
    return _materialize_duckdb(schema, rows_by_table)


# The empty database of each schema, per thread: every pair's two queries run once on it
# (`verify.check`), and opening a DuckDB database costs more than those two runs.
EMPTY_DATABASES_KEPT = 8
_EMPTY_DATABASES = threading.local()


def empty_database(schema: Schema, dialect: Dialect | str = Dialect.SQLITE) -> Connection:
    """An open connection to `schema`'s tables without rows, shared by this thread's calls for
    the same tables (the same DDL; the last `EMPTY_DATABASES_KEPT` schemas stay open). Only for
    `run_query`, which runs a single SELECT on DuckDB, on a SQLite database that is query-only: no
    query changes it. The caller does not close it. Raises as `materialize` does.

        >>> from verify.schema import Column, Schema, Table, Affinity
        >>> s = Schema(tables=[Table(name="t", columns=[Column(name="a", affinity=Affinity.INTEGER)])])
        >>> empty_database(s, "duckdb") is empty_database(s, "duckdb"), run_query(empty_database(s), "SELECT a FROM t", "sqlite").rows
        (True, [])
    """
    _check_dialect(dialect)
    kept: OrderedDict[tuple[str, str], Connection] | None = getattr(_EMPTY_DATABASES, "kept", None)
    if kept is None:
        kept = _EMPTY_DATABASES.kept = OrderedDict()
    key = (str(dialect), schema.ddl(dialect))
    conn = kept.pop(key, None)
    if conn is None:
        conn = materialize(schema, {}, dialect)
        while len(kept) >= EMPTY_DATABASES_KEPT:
            kept.popitem(last=False)[1].close()
    kept[key] = conn  # the most recently used last
    return conn


def _rows_by_schema_table(schema: Schema, tables: Tables) -> list[tuple[Table, list[list[Any]]]]:
    given = {name.lower(): rows for name, rows in tables.items()}
    unknown = set(given) - {t.name.lower() for t in schema.tables}
    if unknown:
        raise SchemaError(f"rows given for unknown table(s): {sorted(unknown)}")
    out = []
    for t in schema.tables:
        rows = given.get(t.name.lower(), [])
        for row in rows:
            if len(row) != len(t.columns):
                raise SchemaError(
                    f"row {row!r} of table {t.name!r} has {len(row)} values, "
                    f"expected {len(t.columns)}"
                )
        out.append((t, rows))
    return out


def _insert_sql(t: Table) -> str:
    cols = ", ".join(quote_ident(c.name) for c in t.columns)
    marks = ", ".join("?" for _ in t.columns)
    return f"INSERT INTO {quote_ident(t.name)} ({cols}) VALUES ({marks})"


def sqlite_value(v: Any) -> Any:
    """Values sqlite3 cannot bind itself, written the way SQLite stores them."""
    if isinstance(v, datetime.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    return v


# the empty database of each schema's DDL, as SQLite serializes it: loading those pages is several
# times faster than running the DDL again for each of the many small databases a search builds
_EMPTY_SQLITE: dict[str, bytes] = {}


def _empty_sqlite(conn: sqlite3.Connection, ddl: str) -> None:
    """Create `ddl`'s tables in the empty database `conn`: from the serialized pages of an
    earlier run of the same DDL when there are (Python's `deserialize`), else by running it.
    A DDL that creates nothing leaves a database of no pages, which SQLite does not serialize:
    it is run each time (b"" in the cache)."""
    if not hasattr(conn, "deserialize"):  # a SQLite built without serialization
        conn.executescript(ddl)
        return
    pages = _EMPTY_SQLITE.get(ddl)
    if pages is None:
        template = sqlite3.connect(":memory:")
        try:
            template.executescript(ddl)
            try:
                pages = template.serialize()
            except sqlite3.OperationalError:
                pages = b""
        finally:
            template.close()
        if len(_EMPTY_SQLITE) >= 64:
            _EMPTY_SQLITE.clear()
        _EMPTY_SQLITE[ddl] = pages
    if pages:
        conn.deserialize(pages)
    else:
        conn.executescript(ddl)


def _materialize_sqlite(schema: Schema, rows_by_table) -> sqlite3.Connection:
    # Autocommit mode: we issue BEGIN/COMMIT ourselves.
    conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    try:
        _empty_sqlite(conn, schema.ddl("sqlite"))
        conn.execute("PRAGMA foreign_keys=ON")
        # Foreign keys are checked at COMMIT, so the insertion order of tables (and of rows of
        # a self-referencing table) does not matter.
        conn.execute("BEGIN")
        conn.execute("PRAGMA defer_foreign_keys=ON")
        for t, rows in rows_by_table:
            if rows:
                conn.executemany(_insert_sql(t), [[sqlite_value(v) for v in r] for r in rows])
        conn.execute("COMMIT")
        conn.execute("PRAGMA query_only=ON")  # a stray write in a "query" cannot alter the data
        _check_row_constraints(conn, rows_by_table, "sqlite")
    except sqlite3.IntegrityError as e:
        conn.close()
        raise DatabaseRejected(f"sqlite: {e}") from e
    except sqlite3.Error as e:
        conn.close()
        raise EngineError(f"sqlite: {e}") from e
    except EngineError:
        conn.close()
        raise
    return conn


def _check_row_constraints(conn: Connection, rows_by_table, dialect: str) -> None:
    """Functional dependencies hold, or DatabaseRejected (the DDL enforces the CHECKs). A table
    of fewer than two rows cannot break one; a table's dependencies are checked in one query,
    and only when that finds a violation one by one, to name it."""
    for t, rows in rows_by_table:
        if len(rows) < 2 or not t.functional_dependencies:
            continue
        fds = [(what, query) for what, query in t.violation_queries(dialect) if not what.startswith("CHECK")]
        if conn.execute(" UNION ALL ".join(f"SELECT * FROM ({q} LIMIT 1)" for _, q in fds)).fetchone() is None:
            continue
        for what, query in fds:
            if conn.execute(query).fetchone() is not None:
                raise DatabaseRejected(f"the database breaks the {what}")


# DuckDB executes on one thread: the verifier's databases have a few rows, and more threads only
# compete for the cores that parallel verifications use. Nor does it start threads for
# asynchronous I/O (it reads no files here): a process holding the verifier's DuckDB databases
# runs no other thread, so a process forked from it (`benchmarks.executors`) gets them whole.
_DUCKDB_CONFIG = {"threads": 1, "async_threads": 0}


class _DuckDBHome(threading.local):
    """This thread's DuckDB instance (`con`, opened on first use) and how many databases it has
    held (`made`, which names the next one)."""

    con: duckdb.DuckDBPyConnection | None = None
    made: int = 0


_HOME = _DuckDBHome()


def _duckdb_home() -> duckdb.DuckDBPyConnection:
    """This thread's DuckDB instance, in UTC (how the verifier reads dates and CURRENT_TIMESTAMP):
    it folds constants (`duckdb_constant`) and holds the databases (`DuckDBDatabase`)."""
    if _HOME.con is None:
        con = duckdb.connect(":memory:", config=_DUCKDB_CONFIG)
        con.execute("SET GLOBAL TimeZone = 'UTC'")
        _HOME.con = con
    return _HOME.con


class DuckDBDatabase:
    """An empty in-memory DuckDB database of its own, attached to this thread's DuckDB instance:
    a connection (as DuckDB's own, whose methods it passes on) whose default database it is, so
    that the tables a query names are its tables. Opening one costs an ATTACH, a millisecond,
    where a DuckDB instance of its own costs 12 ms (its catalog of functions); `close` detaches
    it, which frees it. A query that names DuckDB's own default database (`memory.t`) reads the
    instance's database instead, which holds no tables.

        >>> db, other = DuckDBDatabase(), DuckDBDatabase()
        >>> _ = db.execute("CREATE TABLE t (a INT)").execute("INSERT INTO t VALUES (1)")
        >>> db.execute("SELECT a FROM t").fetchall()
        [(1,)]
        >>> try:
        ...     other.execute("SELECT a FROM t")
        ... except duckdb.CatalogException:
        ...     print("no table t there")
        no table t there
        >>> db.close(), other.close()
        (None, None)
    """

    def __init__(self) -> None:
        home = _duckdb_home()
        _HOME.made += 1
        self.name = f"db{_HOME.made}"
        self._con: duckdb.DuckDBPyConnection | None = home.cursor()
        self._con.execute(f"ATTACH ':memory:' AS {self.name}")
        self._con.execute(f"USE {self.name}")

    def __getattr__(self, attr: str) -> Any:
        if self._con is None:
            raise EngineError(f"duckdb: the database {self.name} is closed")
        return getattr(self._con, attr)

    def close(self) -> None:
        """Detach the database (its rows are freed) and close the connection; again does nothing."""
        con, self._con = self._con, None
        if con is None:
            return
        try:
            with contextlib.suppress(duckdb.Error):  # a transaction a failed statement left open
                con.execute("ROLLBACK")
            con.execute("USE memory")
            con.execute(f"DETACH DATABASE IF EXISTS {self.name}")
        finally:
            con.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


def _materialize_duckdb(schema: Schema, rows_by_table) -> DuckDBDatabase:
    conn = DuckDBDatabase()
    try:
        conn.execute(schema.ddl("duckdb"))
        conn.execute("BEGIN TRANSACTION")
        for t, rows in rows_by_table:
            if rows:
                conn.executemany(_insert_sql(t), [list(r) for r in rows])
        conn.execute("COMMIT")
        # The DuckDB DDL carries no FOREIGN KEY clauses (DuckDB's are restrictive), so they
        # are checked here with a query per foreign key (NULL in any FK column passes); the
        # empty database (the verifier's first run of each query) has nothing to check.
        for t, rows in rows_by_table:
            for fk in t.foreign_keys if rows else ():
                if _duckdb_fk_violations(conn, t, fk):
                    raise DatabaseRejected(
                        f"duckdb: FOREIGN KEY constraint failed: {t.name}({', '.join(fk.columns)})"
                        f" -> {fk.ref_table}({', '.join(fk.ref_columns)})"
                    )
        _check_row_constraints(conn, rows_by_table, "duckdb")
    except duckdb.ConstraintException as e:
        conn.close()
        raise DatabaseRejected(f"duckdb: {e}") from e
    except duckdb.Error as e:
        conn.close()
        raise EngineError(f"duckdb: {e}") from e
    except EngineError:
        conn.close()
        raise
    return conn


def _duckdb_fk_violations(conn: duckdb.DuckDBPyConnection, t: Table, fk) -> int:
    not_null = " AND ".join(f"c.{quote_ident(col)} IS NOT NULL" for col in fk.columns)
    match = " AND ".join(
        f"p.{quote_ident(rc)} = c.{quote_ident(col)}" for col, rc in zip(fk.columns, fk.ref_columns)
    )
    sql = (
        f"SELECT count(*) FROM {quote_ident(t.name)} AS c WHERE {not_null} AND NOT EXISTS "
        f"(SELECT 1 FROM {quote_ident(fk.ref_table)} AS p WHERE {match})"
    )
    return conn.execute(sql).fetchone()[0]


# --------------------------------------------------------------------------------------------
# Running a query


def run_query(conn: Connection, sql: str, dialect: str, timeout: float = 10.0) -> Result:
    """Run one SELECT and fetch all of its rows, giving up after `timeout` seconds.

    Identifiers such as `$f0` (which both engines read as a bind parameter) are quoted and
    the query retried once if it fails to parse as written.
    """
    _check_dialect(dialect)
    run = _run_sqlite if dialect == Dialect.SQLITE else _run_duckdb
    try:
        return run(conn, sql, timeout)
    except _Unparsed as first:
        quoted = _quote_dollar_identifiers(sql, dialect)
        if quoted is None or quoted == sql:
            raise EngineError(str(first)) from first
        try:
            return run(conn, quoted, timeout)
        except EngineTimeout:
            raise
        except EngineError as second:
            raise EngineError(str(first)) from second


def _run_sqlite(conn: sqlite3.Connection, sql: str, timeout: float) -> Result:
    deadline = time.monotonic() + timeout
    calls = 0

    def stop() -> int:
        nonlocal calls
        calls += 1
        return int(calls * _STEPS_PER_CALL > SQLITE_STEP_LIMIT or time.monotonic() > deadline)

    conn.set_progress_handler(stop, _STEPS_PER_CALL)
    try:
        cur = conn.execute(sql)
        if cur.description is None:
            raise EngineError("sqlite: not a query (returns no result set)")
        columns = [d[0] for d in cur.description]
        rows = [tuple(r) for r in cur.fetchall()]
    except sqlite3.Error as e:
        if "interrupt" in str(e) and calls * _STEPS_PER_CALL > SQLITE_STEP_LIMIT:
            raise EngineWorkLimit(f"sqlite: query ran past {SQLITE_STEP_LIMIT:,} virtual-machine steps") from e
        if time.monotonic() > deadline and "interrupt" in str(e):
            raise EngineTimeout(f"sqlite: query ran past {timeout:g} s") from e
        msg = str(e)
        unparsed = "syntax error" in msg or "bindings" in msg or "unrecognized token" in msg
        raise (_Unparsed if unparsed else EngineError)(f"sqlite: {msg}") from e
    finally:
        conn.set_progress_handler(None, 0)
    return Result(columns, rows)


def _run_duckdb(conn: duckdb.DuckDBPyConnection, sql: str, timeout: float) -> Result:
    try:
        statements = conn.extract_statements(sql)
    except duckdb.Error as e:
        raise (_Unparsed if isinstance(e, duckdb.ParserException) else EngineError)(
            f"duckdb: {e}"
        ) from e
    if len(statements) != 1:
        raise EngineError(f"duckdb: expected one statement, got {len(statements)}")
    if statements[0].type != duckdb.StatementType.SELECT:
        raise EngineError(f"duckdb: not a SELECT ({statements[0].type.name})")
    timer = threading.Timer(timeout, conn.interrupt)
    timer.start()
    try:
        cur = conn.execute(sql)
        columns = [d[0] for d in cur.description]
        rows = [tuple(r) for r in cur.fetchall()]
    except duckdb.InterruptException as e:
        raise EngineTimeout(f"duckdb: query ran past {timeout:g} s") from e
    except duckdb.Error as e:
        unparsed = isinstance(e, duckdb.ParserException) or "parameters" in str(e)
        raise (_Unparsed if unparsed else EngineError)(f"duckdb: {e}") from e
    finally:
        timer.cancel()
        timer.join()  # its thread ends now: a process forked next holds no other thread
    return Result(columns, rows)


def duckdb_date(text: str) -> datetime.date:
    """`CAST(text AS DATE)` as DuckDB computes it (the lowering folds date literals with it, so
    that what DuckDB accepts, and how it reads it, is DuckDB's own rule). Raises EngineError with
    DuckDB's message for a text DuckDB cannot convert, and for 'infinity'-like dates Python has no
    value for."""
    value = duckdb_constant("CAST(" + "'" + text.replace("'", "''") + "' AS DATE)")
    if not isinstance(value, datetime.date):
        raise EngineError(f"the date {text!r} has no calendar value ({value!r})")
    return value


@functools.lru_cache(maxsize=4096)
def duckdb_constant(sql: str) -> Any:
    """The value of a constant expression as DuckDB computes it (`SELECT <sql>`): DuckDB's own
    date and interval arithmetic. Raises EngineError with DuckDB's message. For expressions
    without a clock (the lowering's date and interval constants), whose value is kept per text:
    the gold and the generated query often fold the same constants."""
    try:
        return _duckdb_home().execute(f"SELECT {sql}").fetchone()[0]
    except duckdb.Error as e:
        raise EngineError(str(e).splitlines()[0]) from None


def _quote_dollar_identifiers(sql: str, dialect: str) -> str | None:
    """`sql` re-rendered with every identifier quoted and `$name` placeholders turned into the
    quoted identifier "$name" (VeriEQL's Calcite-generated queries use `$f0`, `EXPR$0`)."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.SqlglotError:
        return None
    try:
        return tree.transform(dollar_identifier).sql(dialect=dialect, identify=True)
    except sqlglot.errors.SqlglotError:
        return None


# --------------------------------------------------------------------------------------------
# Comparing results

_SIGNIFICANT_DIGITS = 10
_REL_TOL = 1e-9
_ABS_TOL = 1e-12
_NAN = ("float", "nan")  # NaN != NaN in Python; one shared key makes it equal to itself


def canonical(v: Any) -> Any:
    """A hashable key for a result value: NULL → None, numbers → int when integral else a
    float rounded to 10 significant digits (so 2 and 2.0 share a key), other values as is."""
    if v is None:
        return None
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, Decimal):
        if v.is_nan():
            return _NAN
        if v.is_finite() and v == v.to_integral_value():
            return int(v)
        v = float(v)
    if isinstance(v, float):
        if math.isnan(v):
            return _NAN
        if math.isinf(v):
            return v
        r = float(f"{v:.{_SIGNIFICANT_DIGITS}g}")
        return int(r) if r.is_integer() else r
    if isinstance(v, (bytearray, memoryview)):
        return bytes(v)
    try:
        hash(v)
    except TypeError:
        return repr(v)
    return v


def _row_key(row: tuple) -> tuple:
    return tuple(canonical(v) for v in row)


def _close(a: Any, b: Any) -> bool:
    """Equal within tolerance, on canonical keys."""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=_REL_TOL, abs_tol=_ABS_TOL)
    return a == b


def _rows_close(a: tuple, b: tuple) -> bool:
    return all(_close(x, y) for x, y in zip(_row_key(a), _row_key(b)))


def _bag_difference(gold: list[tuple], gen: list[tuple]) -> tuple[list[tuple], list[tuple]]:
    """Rows (with multiplicity) only in gold / only in gen, in their original order."""
    excess = Counter(map(_row_key, gold))
    excess.subtract(map(_row_key, gen))
    gold_only, gen_only = [], []
    for row in gold:
        key = _row_key(row)
        if excess[key] > 0:
            excess[key] -= 1
            gold_only.append(row)
    for row in gen:
        key = _row_key(row)
        if excess[key] < 0:
            excess[key] += 1
            gen_only.append(row)
    return _pair_off_close(gold_only, gen_only)


def _pair_off_close(gold_only: list[tuple], gen_only: list[tuple]):
    """Drop pairs of leftover rows that are equal within tolerance (the rounding behind
    `canonical` can put two nearly equal floats on either side of a rounding boundary)."""
    if not gold_only or not gen_only or len(gold_only) * len(gen_only) > 1_000_000:
        return gold_only, gen_only
    remaining = list(gen_only)
    kept_gold = []
    for row in gold_only:
        for i, other in enumerate(remaining):
            if _rows_close(row, other):
                del remaining[i]
                break
        else:
            kept_gold.append(row)
    return kept_gold, remaining


def _distinct(rows: list[tuple]) -> list[tuple]:
    seen, out = set(), []
    for row in rows:
        key = _row_key(row)
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


def compare_results(gold: Result, gen: Result, semantics: str) -> Comparison:
    """Whether two results differ under "bag", "set" or "list" semantics (see `Comparison`).

    Column order matters, column names do not; results with different numbers of columns
    always differ (then every row of each side is reported as only on that side).
    """
    if semantics not in SEMANTICS:
        raise ValueError(f"unknown semantics {semantics!r}; expected one of {SEMANTICS}")
    if len(gold.columns) != len(gen.columns):
        return Comparison(
            True, list(gold.rows), list(gen.rows),
            f"column count differs: {len(gold.columns)} vs {len(gen.columns)}",
        )
    if semantics == "set":
        gold_only, gen_only = _bag_difference(_distinct(gold.rows), _distinct(gen.rows))
    else:
        gold_only, gen_only = _bag_difference(gold.rows, gen.rows)
    if gold_only or gen_only:
        return Comparison(
            True, gold_only, gen_only,
            f"{len(gold_only)} row(s) only in gold, {len(gen_only)} only in generated",
        )
    if semantics == "list" and not all(map(_rows_close, gold.rows, gen.rows)):
        return Comparison(True, [], [], "same rows in a different order")
    return Comparison(False)


def run_both(
    schema: Schema,
    tables: Tables,
    gold_sql: str,
    gen_sql: str,
    dialect: Dialect | str = Dialect.SQLITE,
    semantics: str = "bag",
    timeout: float = 10.0,
) -> tuple[Result, Result, Comparison]:
    """Materialize `tables`, run both queries on the same database, and compare the results."""
    conn = materialize(schema, tables, dialect)
    try:
        gold = run_query(conn, gold_sql, dialect, timeout)
        gen = run_query(conn, gen_sql, dialect, timeout)
    finally:
        conn.close()
    return gold, gen, compare_results(gold, gen, semantics)


def _check_dialect(dialect: str) -> None:
    if dialect not in tuple(Dialect):
        raise ValueError(f"unknown dialect {dialect!r}; expected one of {tuple(Dialect)}")
