"""The tools the agent's model may call, over one SQLite database, with one output policy.

Tools: `list_tables`, `describe_table`, `distinct_values`, `search_values`, `run_sql`,
`run_python`, `check_queries`. Arguments are pydantic models (their JSON schemas are what the
model sees); malformed or invalid arguments, unknown tools and failures all come back as a
`ToolResult` with `ok=False` and a one-line message for the model, never as an exception.

Safety: the database is opened read-only (`mode=ro`) and every statement the model writes
goes through an authorizer that allows only reads (no writes, no ATTACH, no PRAGMA other than
a few read-only ones; a refusal names the statement refused) and a progress handler that stops
it at its time limit; no string or blob may grow past `MAX_CELL_BYTES` and a result keeps rows
only up to `MAX_KEEP_BYTES`. Python runs in an operating-system sandbox (`agent.sandbox`); where
that sandbox cannot start, `run_python` is not offered and `python_disabled` says why.

Output policy (`OutputPolicy`): at most `max_rows` rows and `max_chars` characters per tool
reply, each cell cut to `max_cell_chars`; whatever is cut is announced ("[truncated 120 rows:
showing 30 of 150]", "[truncated 812 characters]").

Example:
    >>> import sqlite3, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "d.sqlite")
    >>> con = sqlite3.connect(path); con.execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)")
    <sqlite3.Cursor object at ...>
    >>> con.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"v{i}") for i in range(5)]); con.commit()
    <sqlite3.Cursor object at ...>
    >>> box = ToolBox(path, policy=OutputPolicy(max_rows=2))
    >>> print(box.call("run_sql", '{"sql": "SELECT a FROM t ORDER BY a"}').text)
    result r1: 5 rows
    a
    0
    1
    [truncated 3 rows: showing 2 of 5]
    >>> box.call("run_sql", '{"sql": "DELETE FROM t"}').text
    'error: not allowed: DELETE (the database is read-only; only SELECT queries may run)'
"""

from __future__ import annotations

import difflib
import json
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, Field, ValidationError

from agent.results import ResultTable
from agent.sandbox import PythonOutcome, python_unavailable, run_python

# --------------------------------------------------------------------------------------------
# Output policy


class OutputPolicy(BaseModel):
    max_rows: int = 30
    max_chars: int = 4000
    max_cell_chars: int = 120


def _cell(v: Any, limit: int) -> str:
    if v is None:
        s = "NULL"
    elif isinstance(v, bytes):
        s = f"<{len(v)} bytes>"
    else:
        s = str(v)
    s = s.replace("\n", "\\n")
    return s if len(s) <= limit else s[: limit - 1] + "…"


def format_table(columns: list[str], rows: list[tuple] | list[list], policy: OutputPolicy,
                 total: int | None = None) -> str:
    """Rows as ` | `-separated text, at most `policy.max_rows` of them, with a truncation
    marker naming how many were left out. `total` is the full row count when `rows` is
    already a prefix of the result."""
    total = len(rows) if total is None else total
    shown = rows[: policy.max_rows]
    lines = [" | ".join(columns)]
    lines += [" | ".join(_cell(v, policy.max_cell_chars) for v in r) for r in shown]
    if total > len(shown):
        lines.append(f"[truncated {total - len(shown)} rows: showing {len(shown)} of {total}]")
    return "\n".join(lines)


def cap_chars(text: str, policy: OutputPolicy) -> str:
    if len(text) <= policy.max_chars:
        return text
    cut = len(text) - policy.max_chars
    return text[: policy.max_chars] + f"\n[truncated {cut} characters]"


# --------------------------------------------------------------------------------------------
# Tool arguments


class ListTablesArgs(BaseModel):
    """List the tables of the database with their row counts and columns."""


class DescribeTableArgs(BaseModel):
    """Describe one table: columns, types, primary key, foreign keys (both ways), sample values."""

    table: str


class DistinctValuesArgs(BaseModel):
    """The distinct values of one column with how often each occurs, most frequent first."""

    table: str
    column: str
    limit: int = Field(default=20, ge=1, le=200)


class SearchValuesArgs(BaseModel):
    """Find stored text values like `text` (case-insensitive substring, and fuzzy matches for
    misspellings) across text columns; optionally only in one table or column."""

    text: str = Field(min_length=1)
    table: str | None = None
    column: str | None = None
    fuzzy: bool = True
    limit: int = Field(default=20, ge=1, le=200)


class RunSqlArgs(BaseModel):
    """Run one read-only SQLite SELECT on the database. The result is kept as r1, r2, ... and
    can be loaded in run_python as results['r1']."""

    sql: str = Field(min_length=1)


class RunPythonArgs(BaseModel):
    """Run Python 3 in a sandbox (time/memory limits, no network; /tmp is the only writable
    folder). Available: `results` (dict of
    earlier query results as pandas DataFrames, or lists of dicts without pandas), `sql(query)`
    (runs a read-only query, returns a DataFrame), `DB_PATH`. Print what you want to see; assign
    a DataFrame or list of rows to `result` to return a result table."""

    code: str = Field(min_length=1)


class CheckQueriesArgs(BaseModel):
    """Ask the verifier whether two SELECT queries return the same result on every small
    database of this schema: equivalent, or a concrete counterexample database."""

    sql_a: str = Field(min_length=1)
    sql_b: str = Field(min_length=1)


TOOLS: dict[str, type[BaseModel]] = {
    "list_tables": ListTablesArgs,
    "describe_table": DescribeTableArgs,
    "distinct_values": DistinctValuesArgs,
    "search_values": SearchValuesArgs,
    "run_sql": RunSqlArgs,
    "run_python": RunPythonArgs,
    "check_queries": CheckQueriesArgs,
}


def tool_specs(names: list[str] | None = None) -> list[dict[str, Any]]:
    """OpenAI `tools` entries for the named tools (all by default)."""
    specs = []
    for name, model in TOOLS.items():
        if names is not None and name not in names:
            continue
        schema = model.model_json_schema()
        schema.pop("title", None)
        schema.pop("description", None)
        for p in schema.get("properties", {}).values():
            p.pop("title", None)
        schema.setdefault("properties", {})
        specs.append({"type": "function", "function": {
            "name": name, "description": (model.__doc__ or "").strip().replace("\n    ", " "),
            "parameters": schema}})
    return specs


# --------------------------------------------------------------------------------------------
# Results


class ToolResult(BaseModel):
    ok: bool
    text: str
    result_id: str | None = None
    seconds: float = 0.0


class ToolError(Exception):
    """A tool failure to report to the model as `error: <message>`."""


# --------------------------------------------------------------------------------------------
# Read-only SQLite

READ_ONLY_PRAGMAS = {"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo",
                     "foreign_key_list", "table_list", "collation_list", "function_list"}

# The authorizer's action codes by name ("DROP TABLE"); result codes share their numbers.
_ACTION_NAMES = {getattr(sqlite3, f"SQLITE_{n}"): n.replace("_", " ") for n in (
    "CREATE_INDEX", "CREATE_TABLE", "CREATE_TEMP_INDEX", "CREATE_TEMP_TABLE", "CREATE_TEMP_TRIGGER",
    "CREATE_TEMP_VIEW", "CREATE_TRIGGER", "CREATE_VIEW", "DELETE", "DROP_INDEX", "DROP_TABLE",
    "DROP_TEMP_INDEX", "DROP_TEMP_TABLE", "DROP_TEMP_TRIGGER", "DROP_TEMP_VIEW", "DROP_TRIGGER",
    "DROP_VIEW", "INSERT", "PRAGMA", "READ", "SELECT", "TRANSACTION", "UPDATE", "ATTACH", "DETACH",
    "ALTER_TABLE", "REINDEX", "ANALYZE", "CREATE_VTABLE", "DROP_VTABLE", "FUNCTION", "SAVEPOINT")
    if hasattr(sqlite3, f"SQLITE_{n}")}
_SCHEMA_TABLES = {"sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_temp_schema"}
_LEADING = re.compile(r"^(?:\s+|--[^\n]*\n?|/\*.*?\*/)*(\w+)(?:\s+(TEMP|TEMPORARY|UNIQUE|VIRTUAL))?"
                      r"(?:\s+(TABLE|INDEX|VIEW|TRIGGER))?", re.IGNORECASE | re.DOTALL)

# Bytes, not only rows: no string or blob (zeroblob, printf, group_concat, ...) may grow past
# MAX_CELL_BYTES (SQLite refuses it with "string or blob too big"), and a result keeps rows only
# while they total at most MAX_KEEP_BYTES.
MAX_CELL_BYTES = 8 * 2**20
MAX_KEEP_BYTES = 64 * 2**20
MAX_SQL_BYTES = 1 * 2**20


def statement_kind(sql: str) -> str:
    """The statement's leading keywords, e.g. "DROP TABLE", "CREATE INDEX", "ANALYZE"."""
    m = _LEADING.match(sql)
    return " ".join(w.upper() for w in (m.groups() if m else ()) if w) or "this statement"


class _Authorizer:
    """Allows SELECT, reads, functions and read-only PRAGMAs; records the first denial, named
    by what the statement does (a DROP TABLE first asks to DELETE from sqlite_master: it is
    reported as DROP TABLE)."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.denied: str | None = None

    def __call__(self, action: int, arg1: Any, arg2: Any, dbname: Any, source: Any) -> int:
        if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                      getattr(sqlite3, "SQLITE_RECURSIVE", -1)):
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_PRAGMA and str(arg1).lower() in READ_ONLY_PRAGMAS:
            return sqlite3.SQLITE_OK
        if self.denied is None:
            if action == sqlite3.SQLITE_PRAGMA:
                self.denied = f"PRAGMA {arg1}"
            elif str(arg1).lower() in _SCHEMA_TABLES or str(arg1).lower().startswith("sqlite_stat"):
                self.denied = statement_kind(self.sql)
                pragma = re.search(r"\bpragma_(\w+)", self.sql, re.IGNORECASE)
                if self.denied in ("SELECT", "WITH", "VALUES") and pragma:  # a pragma function's first use
                    self.denied = f"PRAGMA {pragma.group(1)}"
            else:
                self.denied = _ACTION_NAMES.get(action, f"action {action}")
        return sqlite3.SQLITE_DENY


def connect_read_only(path: str | Path) -> sqlite3.Connection:
    """A connection that cannot change the file (`mode=ro` URI), with no string or blob longer
    than MAX_CELL_BYTES and no ATTACH; raises ToolError if absent."""
    p = Path(path)
    if not p.is_file():
        raise ToolError(f"no such database file: {p}")
    uri = f"file:{quote(str(p.resolve()))}?mode=ro"
    con = sqlite3.connect(uri, uri=True, check_same_thread=False)
    con.text_factory = lambda b: b.decode("utf-8", errors="replace")
    con.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_CELL_BYTES)
    con.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, MAX_SQL_BYTES)
    con.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    # A read-only pragma's table-valued function (pragma_table_info) asks, the first time a
    # connection uses it, to write the schema table; using each once here, before the
    # authorizer, lets the model's queries use them.
    for name in READ_ONLY_PRAGMAS:
        try:
            con.execute(f"SELECT * FROM pragma_{name} LIMIT 0").fetchall()
        except sqlite3.OperationalError:  # a pragma this SQLite build lacks
            pass
    return con


def _size(v: Any) -> int:
    """A cell's bytes as kept in memory, near enough for the MAX_KEEP_BYTES cap."""
    return len(v) if isinstance(v, (str, bytes)) else 16


def run_select(path: str | Path, sql: str, timeout: float, keep_rows: int) -> ResultTable:
    """Run one statement under the read-only authorizer and time limit. Raises ToolError."""
    con = connect_read_only(path)
    auth = _Authorizer(sql)
    con.set_authorizer(auth)
    deadline = time.monotonic() + timeout
    con.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
    try:
        cur = con.execute(sql)
        if cur.description is None:
            raise ToolError("not a query: the statement returns no rows (only SELECT may run)")
        columns = [d[0] for d in cur.description]
        rows: list[list[Any]] = []
        total = kept_bytes = 0
        keeping = True
        for row in cur:
            total += 1
            if keeping:
                kept_bytes += sum(_size(v) for v in row)
                keeping = len(rows) < keep_rows and kept_bytes <= MAX_KEEP_BYTES
                if keeping:
                    rows.append(list(row))
        return ResultTable(columns=columns, rows=rows, total_rows=total)
    except sqlite3.DataError as e:  # string or blob too big
        raise ToolError(f"sqlite: {e} (no value may exceed {MAX_CELL_BYTES // 2**20} MB)") from None
    except sqlite3.Error as e:
        if auth.denied:
            raise ToolError(f"not allowed: {auth.denied} (the database is read-only; only SELECT "
                            "queries may run)") from None
        if time.monotonic() > deadline and "interrupt" in str(e).lower():
            raise ToolError(f"query stopped at its time limit of {timeout:g} s") from None
        raise ToolError(f"sqlite: {e}") from None
    except sqlite3.Warning as e:  # e.g. several statements
        raise ToolError(f"sqlite: {e}") from None
    finally:
        con.close()


def _qi(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------------------------
# The toolbox


class ToolBox:
    """The tools over one database for one question. Thread-safe: plans of a question share it
    (query results are numbered r1, r2, ... across them)."""

    def __init__(self, db_path: str | Path, *, policy: OutputPolicy | None = None,
                 sql_timeout: float = 10.0, python_timeout: float = 20.0, python_memory_mb: int = 2048,
                 verify_timeout: float = 5.0, verify_bound: int = 3, keep_rows: int = 10_000,
                 allowed: list[str] | None = None):
        self.db_path = Path(db_path)
        self.policy = policy or OutputPolicy()
        self.sql_timeout = sql_timeout
        self.python_timeout = python_timeout
        self.python_memory_mb = python_memory_mb
        self.verify_timeout = verify_timeout
        self.verify_bound = verify_bound
        self.keep_rows = keep_rows
        self.allowed = list(allowed or TOOLS)
        # Fail closed: without the OS sandbox the model is not offered run_python at all.
        self.python_disabled = python_unavailable() if "run_python" in self.allowed else None
        if self.python_disabled:
            self.allowed.remove("run_python")
        self.results: dict[str, ResultTable] = {}
        self._lock = threading.Lock()
        self._schema = None
        self._tables: list[str] | None = None

    # -- dispatch ---------------------------------------------------------------------------

    def specs(self) -> list[dict[str, Any]]:
        return tool_specs(self.allowed)

    def call(self, name: str, arguments: str | dict[str, Any]) -> ToolResult:
        """Validate `arguments` (JSON text or a dict) and run tool `name`; never raises."""
        t0 = time.monotonic()
        if name == "run_python" and self.python_disabled:
            return ToolResult(ok=False, text=f"error: {self.python_disabled}")
        if name not in TOOLS or name not in self.allowed:
            return ToolResult(ok=False, text=f"error: unknown tool {name!r}; available: "
                              f"{', '.join(self.allowed)}")
        try:
            raw = arguments if isinstance(arguments, dict) else json.loads(arguments or "{}")
            if not isinstance(raw, dict):
                raise ValueError("arguments must be a JSON object")
            args = TOOLS[name].model_validate(raw)
        except (ValueError, ValidationError) as e:
            return ToolResult(ok=False, text=f"error: invalid arguments for {name}: {_one_line(e)}")
        try:
            text, rid = getattr(self, f"_{name}")(args)
        except ToolError as e:
            return ToolResult(ok=False, text=cap_chars(f"error: {e}", self.policy),
                              seconds=time.monotonic() - t0)
        except Exception as e:  # noqa: BLE001 - a tool bug must not kill the agent; it is reported
            return ToolResult(ok=False, text=f"error: internal tool failure: {type(e).__name__}: {e}",
                              seconds=time.monotonic() - t0)
        return ToolResult(ok=True, text=cap_chars(text, self.policy), result_id=rid,
                          seconds=time.monotonic() - t0)

    # -- helpers ----------------------------------------------------------------------------

    def _meta(self, sql: str, params: tuple = ()) -> list[tuple]:
        con = connect_read_only(self.db_path)
        try:
            deadline = time.monotonic() + self.sql_timeout
            con.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
            return con.execute(sql, params).fetchall()
        except sqlite3.Error as e:
            raise ToolError(f"sqlite: {e}") from None
        finally:
            con.close()

    def table_names(self) -> list[str]:
        if self._tables is None:
            self._tables = [r[0] for r in self._meta(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "ORDER BY name")]
        return self._tables

    def _table(self, name: str) -> str:
        for t in self.table_names():
            if t.lower() == name.lower():
                return t
        close = difflib.get_close_matches(name, self.table_names(), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; tables: {', '.join(self.table_names())}"
        raise ToolError(f"no table {name!r}{hint}")

    def _columns(self, table: str) -> list[tuple]:
        return self._meta(f"PRAGMA table_info({_qi(table)})")

    def _column(self, table: str, name: str) -> str:
        cols = [c[1] for c in self._columns(table)]
        for c in cols:
            if c.lower() == name.lower():
                return c
        raise ToolError(f"no column {name!r} in {table}; columns: {', '.join(cols)}")

    def store(self, result: ResultTable) -> str:
        with self._lock:
            rid = f"r{len(self.results) + 1}"
            self.results[rid] = result
        return rid

    def schema(self):
        """The verifier's schema of this database (read once)."""
        if self._schema is None:
            from verify.schema_io import schema_from_sqlite

            self._schema = schema_from_sqlite(self.db_path)
        return self._schema

    def schema_summary(self) -> str:
        """One line per table, `name(col type, ...)` with keys marked: the prompt's overview."""
        lines = []
        for t in self.table_names():
            cols = self._columns(t)
            parts = [f"{c[1]} {c[2] or ''}".strip() + (" PK" if c[5] else "") for c in cols]
            fks = self._meta(f"PRAGMA foreign_key_list({_qi(t)})")
            fk = [f"{r[3]}->{r[2]}.{r[4] or '?'}" for r in fks]
            lines.append(f"{t}({', '.join(parts)})" + (f" FK {'; '.join(fk)}" if fk else ""))
        return "\n".join(lines)

    # -- tools ------------------------------------------------------------------------------

    def _list_tables(self, args: ListTablesArgs) -> tuple[str, None]:
        rows = []
        for t in self.table_names():
            n = self._meta(f"SELECT COUNT(*) FROM {_qi(t)}")[0][0]
            cols = ", ".join(c[1] for c in self._columns(t))
            rows.append((t, n, cols))
        return format_table(["table", "rows", "columns"], rows, self.policy), None

    def _describe_table(self, args: DescribeTableArgs) -> tuple[str, None]:
        t = self._table(args.table)
        n = self._meta(f"SELECT COUNT(*) FROM {_qi(t)}")[0][0]
        rows = []
        for cid, name, typ, notnull, _dflt, pk in self._columns(t):
            sample = self._meta(f"SELECT DISTINCT {_qi(name)} FROM {_qi(t)} WHERE {_qi(name)} IS NOT NULL "
                                f"LIMIT 3")
            rows.append((name, typ or "", f"PK{pk}" if pk else "", "NOT NULL" if notnull else "",
                         ", ".join(_cell(s[0], 40) for s in sample)))
        out = [f"table {t}: {n} rows", format_table(["column", "type", "key", "null", "sample values"],
                                                   rows, self.policy)]
        fks = self._meta(f"PRAGMA foreign_key_list({_qi(t)})")
        if fks:
            out.append("foreign keys: " + "; ".join(f"{r[3]} -> {r[2]}.{r[4] or '(primary key)'}" for r in fks))
        incoming = []
        for other in self.table_names():
            for r in self._meta(f"PRAGMA foreign_key_list({_qi(other)})"):
                if str(r[2]).lower() == t.lower():
                    incoming.append(f"{other}.{r[3]} -> {r[4] or '(primary key)'}")
        if incoming:
            out.append("referenced by: " + "; ".join(incoming))
        return "\n".join(out), None

    def _distinct_values(self, args: DistinctValuesArgs) -> tuple[str, None]:
        t = self._table(args.table)
        c = self._column(t, args.column)
        total = self._meta(f"SELECT COUNT(DISTINCT {_qi(c)}) + MAX(COUNT(*) - COUNT({_qi(c)}) > 0, 0) "
                           f"FROM {_qi(t)}")[0][0]
        rows = self._meta(f"SELECT {_qi(c)}, COUNT(*) AS n FROM {_qi(t)} GROUP BY {_qi(c)} "
                          f"ORDER BY n DESC, {_qi(c)} LIMIT ?", (args.limit,))
        policy = self.policy.model_copy(update={"max_rows": min(self.policy.max_rows, args.limit)})
        head = f"{t}.{c}: {total} distinct values"
        return head + "\n" + format_table([c, "count"], rows, policy, total=max(total, len(rows))), None

    def _text_columns(self, only_table: str | None, only_column: str | None) -> list[tuple[str, str]]:
        tables = [self._table(only_table)] if only_table else self.table_names()
        out = []
        for t in tables:
            for c in self._columns(t):
                name, typ = c[1], (c[2] or "").upper()
                if only_column and name.lower() != only_column.lower():
                    continue
                if only_column or any(k in typ for k in ("CHAR", "TEXT", "CLOB")) or typ == "":
                    out.append((t, name))
        if only_column and not out:
            raise ToolError(f"no column {only_column!r} in {', '.join(tables)}")
        return out

    def _search_values(self, args: SearchValuesArgs) -> tuple[str, None]:
        needle = args.text.lower()
        found: dict[tuple[str, str, str], tuple[str, float]] = {}
        for t, c in self._text_columns(args.table, args.column):
            for (v,) in self._meta(f"SELECT DISTINCT {_qi(c)} FROM {_qi(t)} WHERE {_qi(c)} LIKE ? "
                                   f"ESCAPE '\\' LIMIT 50", ("%" + _like_escape(args.text) + "%",)):
                kind = "exact" if str(v).lower() == needle else "contains"
                found[(t, c, str(v))] = (kind, 1.0 if kind == "exact" else 0.9)
            if args.fuzzy:
                values = [str(r[0]) for r in self._meta(
                    f"SELECT DISTINCT {_qi(c)} FROM {_qi(t)} WHERE typeof({_qi(c)}) = 'text' LIMIT 5000")]
                lowered = {v.lower(): v for v in values}
                for m in difflib.get_close_matches(needle, list(lowered), n=5, cutoff=0.75):
                    key = (t, c, lowered[m])
                    if key not in found:
                        score = difflib.SequenceMatcher(None, needle, m).ratio()
                        found[key] = ("fuzzy", round(score, 2))
        rank = {"exact": 0, "contains": 1, "fuzzy": 2}
        rows = sorted(((t, c, v, k, s) for (t, c, v), (k, s) in found.items()),
                      key=lambda r: (rank[r[3]], -r[4], r[0], r[1], r[2]))
        if not rows:
            return f"no stored value matches {args.text!r}", None
        policy = self.policy.model_copy(update={"max_rows": min(self.policy.max_rows, args.limit)})
        return format_table(["table", "column", "value", "match", "score"], rows, policy), None

    def execute(self, sql: str) -> ResultTable:
        """Run a query as the run_sql tool does, returning the full (kept) result."""
        return run_select(self.db_path, sql, self.sql_timeout, self.keep_rows)

    def _run_sql(self, args: RunSqlArgs) -> tuple[str, str]:
        res = self.execute(args.sql)
        rid = self.store(res)
        head = f"result {rid}: {res.total_rows} rows"
        return head + "\n" + format_table(res.columns, res.rows, self.policy, total=res.total_rows), rid

    def run_python_code(self, code: str) -> PythonOutcome:
        """Run `code` as the run_python tool does (fails closed: see `agent.sandbox`)."""
        with self._lock:
            results = dict(self.results)
        return run_python(code, db_path=self.db_path, results=results, timeout=self.python_timeout,
                          memory_mb=self.python_memory_mb)

    def _run_python(self, args: RunPythonArgs) -> tuple[str, str | None]:
        out = self.run_python_code(args.code)
        if out.error:
            raise ToolError(out.error + (f"\n{out.stdout}" if out.stdout else ""))
        parts = []
        if out.stdout:
            parts.append("stdout:\n" + out.stdout)
        rid = None
        if out.result is not None:
            rid = self.store(out.result)
            parts.append(f"result {rid}: {out.result.total_rows} rows\n"
                         + format_table(out.result.columns, out.result.rows, self.policy,
                                        total=out.result.total_rows))
        return ("\n".join(parts) or "(no output; print something or assign `result`)"), rid

    def _check_queries(self, args: CheckQueriesArgs) -> tuple[str, None]:
        from verify import check_pair

        v = check_pair(args.sql_a, args.sql_b, schema=self.schema(), bound=self.verify_bound,
                       timeout=self.verify_timeout)
        lines = [f"verdict: {v.verdict.value}" + (f" (bound {v.bound})" if v.bound is not None else "")]
        if v.reason:
            lines.append(f"reason: {v.reason}")
        ce = v.counterexample
        if ce is not None:
            lines.append("counterexample database:")
            for name, td in ce.tables.items():
                lines.append(f"table {name}:\n" + format_table(td.columns, td.rows, self.policy))
            lines.append("sql_a returns:\n" + format_table(ce.gold_result.columns, ce.gold_result.rows, self.policy))
            lines.append("sql_b returns:\n" + format_table(ce.gen_result.columns, ce.gen_result.rows, self.policy))
        return "\n".join(lines), None


def _like_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _one_line(e: Exception) -> str:
    if isinstance(e, ValidationError):
        errs = e.errors()
        return "; ".join(f"{'.'.join(str(x) for x in err['loc']) or 'arguments'}: {err['msg']}"
                         for err in errs[:5])
    return re.sub(r"\s+", " ", str(e))[:300]


