"""Loading a `Schema` from a SQLite file, DDL text, Spider/BIRD `tables.json`, or VeriEQL JSON.

Entry points:

- `schema_from_sqlite(path)`: read a SQLite database file (read-only) with its declared
  constraints and a few real values per column (`Schema.samples`).
- `schema_from_ddl(text, dialect)`: CREATE TABLE statements. For `dialect="sqlite"` the
  CREATE TABLE / CREATE INDEX / ALTER TABLE / DROP statements are executed in an in-memory
  SQLite database and read back exactly like a database file, so SQLite's own rules decide
  types, keys and constraints (other statements such as INSERT are only syntax-checked). For
  any other dialect (e.g. `"duckdb"`) the text is parsed with sqlglot and CREATE TABLE /
  CREATE UNIQUE INDEX are read (ALTER TABLE is not applied there).
- `schema_from_spider_tables(tables_json, db_id)`: the Spider / BIRD `tables.json` format.
- `schema_from_verieql(schema, constraints)`: the VeriEQL benchmark format.
- `load_schema(...)`: the CLI's dispatcher over the above.

Example:
    >>> s = schema_from_ddl('''
    ...     CREATE TABLE dept (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    ...     CREATE TABLE emp (id INT, dept INT REFERENCES dept(id), PRIMARY KEY (id, dept));
    ...     INSERT INTO dept VALUES (1, 'x');
    ... ''')
    >>> [t.name for t in s.tables], s.table("emp").primary_key, s.table("dept").unique
    (['dept', 'emp'], ['id', 'dept'], [['name']])
    >>> s.table("emp").foreign_keys[0].ref_table, s.table("dept").column("name").not_null
    ('dept', True)

Policy for foreign keys (all loaders). A foreign key is kept only when

1. its table and columns resolve (names are matched case-insensitively and rewritten to
   the spelling of the declaration),
2. child and parent have the same number of columns, and
3. the referenced columns are exactly the parent's PRIMARY KEY or one of its UNIQUE column
   sets. SQLite (and DuckDB) reject any other foreign key with "foreign key mismatch" once
   foreign keys are enforced, so such a key could not be materialized.

Real data breaks these rules: Spider's `voter_1` references a non-key column, `tables.json`
files list references to non-key columns (62 in Spider, 32 in BIRD dev) and list every
column of a multi-column reference as its own pair. `schema_from_sqlite`,
`schema_from_ddl` and `schema_from_spider_tables` drop such keys silently (each drop is
logged at DEBUG level on this module's logger); `schema_from_verieql`, whose constraints
are explicit benchmark input, raises `SchemaError` instead. Type mismatches between child
and parent column (Spider declares e.g. `singer_in_concert.Singer_ID text` referencing
`singer.Singer_ID int`) are kept: SQLite compares them after applying the parent's affinity.

Other SQLite rules followed by `schema_from_sqlite` / `schema_from_ddl`:

- PRIMARY KEY does not imply NOT NULL in SQLite, so `not_null` is only the declared one,
  except for a rowid alias (a single-column key declared exactly `INTEGER`), whose stored
  value is never NULL, and WITHOUT ROWID tables (SQLite reports those as NOT NULL itself).
- `unique` lists UNIQUE constraints and non-partial unique indexes on plain columns (not
  on expressions); a UNIQUE set equal to the primary key is not repeated.
- Views and virtual tables are not read.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from verify.errors import snippet
from verify.names import Dialect
from verify.schema import (
    Column,
    ForeignKey,
    Schema,
    SchemaError,
    Table,
    affinity_of,
    quote_ident,
)

__all__ = [
    "schema_from_sqlite",
    "schema_from_ddl",
    "schema_from_spider_tables",
    "schema_from_verieql",
    "load_schema",
]

_log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# shared: resolving and filtering foreign keys


def _finish_foreign_keys(
    tables: list[Table], raw: list[tuple[str, ForeignKey]], *, strict: bool
) -> None:
    """Attach the foreign keys in `raw` ((child table name, key) pairs) to `tables`, keeping
    only those that satisfy the module's foreign-key policy. With `strict`, a key that
    breaks the policy raises SchemaError instead of being dropped."""
    by_name = {t.name.lower(): t for t in tables}
    for child_name, fk in raw:
        child = by_name.get(child_name.lower())
        problem, resolved = _resolve_fk(child, fk, by_name)
        if problem:
            msg = (
                f"foreign key {child_name}({', '.join(fk.columns)}) -> "
                f"{fk.ref_table}({', '.join(fk.ref_columns)}): {problem}"
            )
            if strict:
                raise SchemaError(msg)
            _log.debug("dropped %s", msg)
            continue
        assert child is not None and resolved is not None
        if resolved not in child.foreign_keys:
            child.foreign_keys.append(resolved)


def _resolve_fk(
    child: Table | None, fk: ForeignKey, by_name: dict[str, Table]
) -> tuple[str | None, ForeignKey | None]:
    if child is None:
        return "unknown table", None
    parent = by_name.get(fk.ref_table.lower())
    if parent is None:
        return f"unknown table {fk.ref_table!r}", None
    ref_columns = fk.ref_columns or parent.primary_key
    if not ref_columns:
        return "parent has no primary key to reference", None
    if len(ref_columns) != len(fk.columns) or not fk.columns:
        return "column counts differ", None
    for col in fk.columns:
        if not child.has_column(col):
            return f"no column {col!r} in {child.name!r}", None
    for col in ref_columns:
        if not parent.has_column(col):
            return f"no column {col!r} in {parent.name!r}", None
    cols = [child.column(c).name for c in fk.columns]
    refs = [parent.column(c).name for c in ref_columns]
    keys = [parent.primary_key, *parent.unique]
    if not any(_same_set(refs, k) for k in keys if k):
        return "referenced columns are not a primary key or UNIQUE", None
    return None, ForeignKey(columns=cols, ref_table=parent.name, ref_columns=refs)


def _same_set(a: list[str], b: list[str]) -> bool:
    return len(a) == len(b) and {x.lower() for x in a} == {x.lower() for x in b}


# ---------------------------------------------------------------------------------------------
# SQLite files


def schema_from_sqlite(path: str | os.PathLike[str], sample_size: int = 20) -> Schema:
    """Read the tables, declared constraints and sample values of a SQLite database file.

    The file is opened read-only. `samples` holds, per column, up to `sample_size` distinct
    non-NULL, non-BLOB values, most frequent first (ties by SQLite's ordering of the value);
    `sample_size=0` skips sampling.
    """
    p = Path(path)
    if not p.is_file():
        raise SchemaError(f"cannot read SQLite database {str(path)!r}: no such file")
    try:
        con = sqlite3.connect(p.resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error as e:
        raise SchemaError(f"cannot open SQLite database {str(path)!r}: {e}") from e
    try:
        return _read_sqlite(con, sample_size=sample_size, source=f"sqlite:{path}")
    except sqlite3.Error as e:
        raise SchemaError(f"cannot read SQLite database {str(path)!r}: {e}") from e
    finally:
        con.close()


def _read_sqlite(con: sqlite3.Connection, *, sample_size: int, source: str) -> Schema:
    rows = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid"
    ).fetchall()
    tables: list[Table] = []
    raw_fks: list[tuple[str, ForeignKey]] = []
    for name, sql in rows:
        if sql and re.match(r"\s*CREATE\s+VIRTUAL\b", sql, re.IGNORECASE):
            continue
        table, fks = _read_sqlite_table(con, name)
        _mark_collations(table, sql or "")
        table.checks = _checks_in_create(name, sql or "")
        tables.append(table)
        raw_fks.extend((name, fk) for fk in fks)
    _finish_foreign_keys(tables, raw_fks, strict=False)

    samples: dict[str, dict[str, list[Any]]] = {}
    if sample_size > 0:
        for t in tables:
            per_col = {}
            for c in t.columns:
                vals = _sample_column(con, t.name, c.name, sample_size)
                if vals:
                    per_col[c.name] = vals
            if per_col:
                samples[t.name] = per_col
    return Schema(tables=tables, samples=samples, source=source)


def _read_sqlite_table(con: sqlite3.Connection, name: str) -> tuple[Table, list[ForeignKey]]:
    q = quote_ident(name)
    info = con.execute(f"PRAGMA table_info({q})").fetchall()  # cid, name, type, notnull, dflt, pk
    pk = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
    rowid_alias = len(pk) == 1 and any(
        r[1] == pk[0] and (r[2] or "").strip().upper() == "INTEGER" for r in info
    )
    columns = [
        Column(
            name=r[1],
            type=r[2] or "",
            affinity=affinity_of(r[2], "sqlite"),
            not_null=bool(r[3]) or (rowid_alias and r[1] == pk[0]),
        )
        for r in info
    ]

    unique: list[list[str]] = []
    # index_list lists the most recently created index first: reverse for declaration order
    for _seq, iname, is_unique, origin, *rest in reversed(
        con.execute(f"PRAGMA index_list({q})").fetchall()
    ):
        partial = rest[0] if rest else 0
        if not is_unique or origin not in ("u", "c") or partial:
            continue
        cols = [r[2] for r in con.execute(f"PRAGMA index_info({quote_ident(iname)})")]
        if not cols or any(c is None for c in cols):  # an index on an expression
            continue
        if _same_set(cols, pk) or any(_same_set(cols, u) for u in unique):
            continue
        unique.append(cols)

    # foreign_key_list: id, seq, table, from, to, on_update, on_delete, match; the last
    # declared key has id 0
    grouped: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for r in con.execute(f"PRAGMA foreign_key_list({q})"):
        grouped[r[0]].append(r)
    fks = []
    for fid in sorted(grouped, reverse=True):
        parts = sorted(grouped[fid], key=lambda r: r[1])
        to = [r[4] for r in parts]
        fks.append(
            ForeignKey(
                columns=[r[3] for r in parts],
                ref_table=parts[0][2],
                ref_columns=[] if all(t is None for t in to) else [t or "" for t in to],
            )
        )
    return Table(name=name, columns=columns, primary_key=pk, unique=unique), fks


def _mark_collations(table: Table, create_sql: str) -> None:
    """Record the columns of `table` declared with a collation other than BINARY (SQLite's
    PRAGMAs do not report it, so the CREATE TABLE text is read). When that text cannot be parsed
    but mentions COLLATE, every column is marked: the verifier then declines the table rather
    than compare its text the wrong way."""
    if not re.search(r"\bCOLLATE\b", create_sql, re.IGNORECASE):
        return
    try:
        node = sqlglot.parse_one(create_sql, read="sqlite")
        found = {_ident(cd.this).lower(): _collation_of(cd) for cd in node.find_all(exp.ColumnDef)}
    except Exception:  # noqa: BLE001 - unparsable DDL: mark every column (see above)
        found = {c.name.lower(): "unknown" for c in table.columns}
    for c in table.columns:
        c.collation = found.get(c.name.lower()) or c.collation


def _checks_in_create(name: str, create_sql: str) -> list[str]:
    """The CHECK constraints of a CREATE TABLE statement as SQLite stores it (its PRAGMAs do
    not report them). Text that mentions CHECK but cannot be parsed is an error: ignoring a
    CHECK would let counterexamples break it."""
    if not re.search(r"\bCHECK\b", create_sql, re.IGNORECASE):
        return []
    try:
        node = sqlglot.parse_one(create_sql, read="sqlite")
    except Exception as e:  # noqa: BLE001 - any parser failure
        raise SchemaError(f"cannot read the CHECK constraints of table {name!r}: {snippet(str(e))}") from None
    return _checks_of(node.this if isinstance(node.this, exp.Schema) else node, "sqlite")


def _checks_of(node: exp.Expression, dialect: str) -> list[str]:
    """CHECK constraints of a CREATE TABLE's column list, column and table ones, as SQL text."""
    return [c.this.sql(dialect) for c in node.find_all(exp.CheckColumnConstraint)]


def _collation_of(cd: exp.ColumnDef) -> str | None:
    for cc in cd.args.get("constraints") or []:
        k = cc.args.get("kind")
        if isinstance(k, exp.CollateColumnConstraint):
            name = k.this.name if isinstance(k.this, (exp.Column, exp.Identifier)) else k.this.sql()
            return None if name.strip("'\"").upper() == "BINARY" else name.upper()
    return None


def _sample_column(con: sqlite3.Connection, table: str, column: str, n: int) -> list[Any]:
    c = quote_ident(column)
    rows = con.execute(
        f"SELECT {c} FROM {quote_ident(table)} WHERE {c} IS NOT NULL AND typeof({c}) <> 'blob' "
        f"GROUP BY {c} ORDER BY COUNT(*) DESC, {c} LIMIT ?",
        (n,),
    ).fetchall()
    return [r[0] for r in rows]


# ---------------------------------------------------------------------------------------------
# DDL text

# statements executed (SQLite path) / everything else that is recognized and skipped
_EXEC_RE = re.compile(
    r"(CREATE\s+(TEMP\s+|TEMPORARY\s+)?TABLE|CREATE\s+(UNIQUE\s+)?INDEX|ALTER\s+TABLE"
    r"|DROP\s+(TABLE|INDEX))\b",
    re.IGNORECASE,
)
_SKIP_RE = re.compile(
    r"(INSERT|REPLACE|UPDATE|DELETE|SELECT|WITH|VALUES|PRAGMA|BEGIN|COMMIT|END|ROLLBACK"
    r"|SAVEPOINT|RELEASE|ANALYZE|VACUUM|REINDEX|ATTACH|DETACH|EXPLAIN"
    r"|CREATE\s+(TEMP\s+|TEMPORARY\s+)?(VIEW|TRIGGER)|CREATE\s+VIRTUAL\s+TABLE"
    r"|DROP\s+(VIEW|TRIGGER))\b",
    re.IGNORECASE,
)
_DML_RE = re.compile(r"(INSERT|REPLACE|UPDATE|DELETE|SELECT|WITH|VALUES)\b", re.IGNORECASE)
_SYNTAX_ERRORS = ("syntax error", "incomplete input", "unrecognized token")
_LEADING_COMMENTS_RE = re.compile(r"\A(\s+|--[^\n]*(\n|\Z)|/\*.*?\*/)*", re.DOTALL)


def schema_from_ddl(text: str, dialect: Dialect | str = Dialect.SQLITE) -> Schema:
    """A schema from CREATE TABLE statements (other statements, e.g. INSERT, are skipped).

    `dialect="sqlite"`: the DDL statements are executed in an in-memory SQLite database and
    read back like a database file (SQLite's exact rules); rows the script INSERTs become
    sample values. Any other dialect is
    parsed with sqlglot; there PRIMARY KEY columns are NOT NULL, as in DuckDB and standard
    SQL. A statement that cannot be parsed or executed raises SchemaError naming it.
    """
    if dialect not in tuple(Dialect):
        raise SchemaError(f"unknown dialect {dialect!r} (expected one of {', '.join(Dialect)})")
    if dialect == Dialect.SQLITE:
        return _ddl_via_sqlite(text)
    return _ddl_via_sqlglot(text, dialect)


def _split_sqlite_statements(text: str) -> list[str]:
    """Split on semicolons that end a statement (not those inside strings, comments or
    trigger bodies), using SQLite's own `complete_statement`."""
    stmts, cur = [], ""
    pieces = text.split(";")
    for i, piece in enumerate(pieces):
        cur += piece
        if i < len(pieces) - 1:
            cur += ";"
            if sqlite3.complete_statement(cur):
                stmts.append(cur)
                cur = ""
    if _LEADING_COMMENTS_RE.sub("", cur).strip():
        stmts.append(cur)
    return stmts


def _ddl_via_sqlite(text: str) -> Schema:
    con = sqlite3.connect(":memory:")
    skipped: list[str] = []
    try:
        for stmt in _split_sqlite_statements(text):
            body = _LEADING_COMMENTS_RE.sub("", stmt).strip()
            if not body or body == ";":
                continue
            if _EXEC_RE.match(body):
                try:
                    con.execute(body)
                except sqlite3.Error as e:
                    raise SchemaError(f"DDL error: {e} in {snippet(body)!r}") from e
            elif _SKIP_RE.match(body):
                skipped.append(body)
            else:
                raise SchemaError(f"DDL error: unrecognized statement {snippet(body)!r}")
        for body in skipped:
            # syntax check only: EXPLAIN compiles without running; errors other than syntax
            # errors (a view or trigger that was not created, ...) are not this loader's
            # business
            if not _DML_RE.match(body):
                continue
            try:
                con.execute("EXPLAIN " + body)
            except sqlite3.Error as e:
                msg = str(e)
                if any(m in msg for m in _SYNTAX_ERRORS):
                    raise SchemaError(f"DDL error: {msg} in {snippet(body)!r}") from e
        # rows inserted by the script become the schema's sample values (best effort: an
        # INSERT that fails only loses its samples)
        inserted = False
        for body in skipped:
            if re.match(r"(INSERT|REPLACE)\b", body, re.IGNORECASE):
                try:
                    con.execute(body)
                    inserted = True
                except sqlite3.Error:
                    pass
        schema = _read_sqlite(con, sample_size=20 if inserted else 0, source="ddl")
    finally:
        con.close()
    if not schema.tables:
        raise SchemaError("DDL defines no tables (no CREATE TABLE statement)")
    return schema


def _ident(node: exp.Expression | None) -> str:
    if isinstance(node, exp.Identifier):
        return node.this
    if isinstance(node, (exp.Column, exp.Ordered)):
        return _ident(node.this)
    if isinstance(node, exp.Table):
        return node.name
    raise SchemaError(f"unsupported name in DDL: {node.sql() if node else node!r}")


_CREATE_TABLE_RE = re.compile(r"\s*(TEMP(ORARY)?\s+)?TABLE\b", re.IGNORECASE)


def _reparsed_create_table(stmt: exp.Command, dialect: str) -> exp.Expression:
    """A CREATE TABLE sqlglot could only keep as text (a `Command`), parsed again with MySQL's
    backtick-quoted identifiers (`name`) read as standard quoted ones ("name"); a SchemaError
    naming the statement when it still does not parse, so that no table is dropped silently."""
    text = stmt.sql(dialect)
    try:
        create = sqlglot.parse_one(_backticks_to_double_quotes(text), read=dialect)
    except sqlglot.errors.SqlglotError:
        create = None
    if not isinstance(create, exp.Create):
        raise SchemaError(f"DDL statement could not be parsed ({dialect}): {snippet(text)!r}")
    return create


def _backticks_to_double_quotes(text: str) -> str:
    """`text` with each backtick-quoted identifier double-quoted instead (string literals kept)."""
    out: list[str] = []
    in_string = in_ident = False
    for ch in text:
        if ch == "'" and not in_ident:
            in_string = not in_string
        elif ch == "`" and not in_string:
            in_ident = not in_ident
            ch = '"'
        elif ch == '"' and in_ident:
            ch = '""'
        out.append(ch)
    return "".join(out)


def _ddl_via_sqlglot(text: str, dialect: str) -> Schema:
    try:
        statements = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
    except sqlglot.errors.ParseError as e:
        first = e.errors[0] if e.errors else {}
        where = f" at line {first.get('line')}, column {first.get('col')}" if first else ""
        desc = first.get("description") or str(e)
        raise SchemaError(f"DDL parse error ({dialect}){where}: {desc}") from e
    except sqlglot.errors.SqlglotError as e:
        raise SchemaError(f"DDL parse error ({dialect}): {e}") from e
    tables: list[Table] = []
    raw_fks: list[tuple[str, ForeignKey]] = []
    unique_indexes: list[tuple[str, list[str]]] = []
    for stmt in statements:
        if isinstance(stmt, exp.Command) and _CREATE_TABLE_RE.match(str(stmt.expression or "")):
            stmt = _reparsed_create_table(stmt, dialect)
        if not isinstance(stmt, exp.Create):
            continue
        kind = (stmt.args.get("kind") or "").upper()
        if kind == "INDEX" and stmt.args.get("unique"):
            index = stmt.this
            params = index.args.get("params")
            cols = params.args.get("columns") if params else None
            try:
                names = [_ident(c) for c in cols or []]
            except SchemaError:
                continue  # an index on an expression
            unique_indexes.append((index.args["table"].name, names))
            continue
        if kind != "TABLE":
            continue
        if not isinstance(stmt.this, exp.Schema):
            raise SchemaError(
                f"unsupported CREATE TABLE (no column list): {snippet(stmt.sql())!r}"
            )
        table, fks = _table_from_create(stmt.this, dialect)
        if any(t.name.lower() == table.name.lower() for t in tables):
            raise SchemaError(f"table {table.name!r} is defined twice")
        tables.append(table)
        raw_fks.extend((table.name, fk) for fk in fks)
    by_name = {t.name.lower(): t for t in tables}
    for tname, cols in unique_indexes:
        t = by_name.get(tname.lower())
        if t is None:
            raise SchemaError(f"unique index on unknown table {tname!r}")
        cols = [t.column(c).name for c in cols]
        if not _same_set(cols, t.primary_key) and not any(_same_set(cols, u) for u in t.unique):
            t.unique.append(cols)
    if not tables:
        raise SchemaError("DDL defines no tables (no CREATE TABLE statement)")
    _finish_foreign_keys(tables, raw_fks, strict=False)
    schema = Schema(tables=tables, source="ddl")
    schema.validate_keys()
    return schema


def _table_from_create(node: exp.Schema, dialect: str) -> tuple[Table, list[ForeignKey]]:
    name = node.this.name
    columns: list[Column] = []
    pk: list[str] = []
    unique: list[list[str]] = []
    fks: list[ForeignKey] = []

    def add_pk(cols: list[str]) -> None:
        if pk and not _same_set(pk, cols):
            raise SchemaError(f"table {name!r} has more than one primary key")
        pk[:] = cols

    def reference(ref: exp.Reference) -> tuple[str, list[str]]:
        target = ref.this
        if isinstance(target, exp.Schema):
            return target.this.name, [_ident(e) for e in target.expressions]
        return target.name, []

    items: list[exp.Expression] = []
    for e in node.expressions:
        items.extend(e.expressions if isinstance(e, exp.Constraint) else [e])
    for e in items:
        if isinstance(e, exp.ColumnDef):
            col = e.name
            dtype = e.args.get("kind")
            declared = dtype.sql(dialect) if dtype is not None else ""
            not_null = False
            for cc in e.args.get("constraints") or []:
                k = cc.args.get("kind")
                if isinstance(k, exp.NotNullColumnConstraint) and not k.args.get("allow_null"):
                    not_null = True
                elif isinstance(k, exp.PrimaryKeyColumnConstraint):
                    add_pk([col])
                elif isinstance(k, exp.UniqueColumnConstraint):
                    unique.append([col])
                elif isinstance(k, exp.Reference):
                    rt, rc = reference(k)
                    fks.append(ForeignKey(columns=[col], ref_table=rt, ref_columns=rc))
            columns.append(
                Column(
                    name=col,
                    type=declared,
                    affinity=affinity_of(declared, dialect),
                    not_null=not_null,
                    collation=_collation_of(e),
                )
            )
        elif isinstance(e, exp.PrimaryKey):
            add_pk([_ident(x) for x in e.expressions])
        elif isinstance(e, exp.UniqueColumnConstraint):
            target = e.this
            cols = [_ident(x) for x in (target.expressions if target is not None else [])]
            if cols:
                unique.append(cols)
        elif isinstance(e, exp.ForeignKey):
            ref = e.args.get("reference")
            if ref is None:
                raise SchemaError(f"FOREIGN KEY without REFERENCES in table {name!r}")
            rt, rc = reference(ref)
            fks.append(
                ForeignKey(columns=[_ident(x) for x in e.expressions], ref_table=rt, ref_columns=rc)
            )
    table = Table(name=name, columns=columns, checks=_checks_of(node, dialect))
    for col in pk:
        table.column(col)  # raises for an unknown column
    table.primary_key = [table.column(c).name for c in pk]
    for c in table.columns:  # PRIMARY KEY implies NOT NULL outside SQLite
        if any(c.name == p for p in table.primary_key):
            c.not_null = True
    for u in unique:
        cols = [table.column(c).name for c in u]
        if not _same_set(cols, table.primary_key) and not any(
            _same_set(cols, v) for v in table.unique
        ):
            table.unique.append(cols)
    return table, fks


# ---------------------------------------------------------------------------------------------
# Spider / BIRD tables.json

# Spider's coarse types, then BIRD's (BIRD lists the declared type of the real database)
_SPIDER_TYPES = {
    "text": "text",
    "number": "number",  # NUMERIC affinity; most are `int` in the real databases
    "time": "text",
    "boolean": "bool",
    "others": "numeric",
    "integer": "integer",
    "real": "real",
    "date": "date",  # NUMERIC affinity, as SQLite gives the real column
    "datetime": "datetime",
}


@lru_cache(maxsize=8)
def _load_tables_json(path: str, _mtime: float) -> dict[str, dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, list):
        raise SchemaError(f"{path!r} is not a tables.json file (expected a JSON list)")
    return {d["db_id"]: d for d in data if isinstance(d, dict) and "db_id" in d}


def schema_from_spider_tables(tables_json_path: str | os.PathLike[str], db_id: str) -> Schema:
    """The schema of `db_id` in a Spider or BIRD `tables.json` file.

    Types: Spider's `text` → "text", `number` → "number" (NUMERIC affinity), `time` → "text",
    `boolean` → "bool", `others` → "numeric"; BIRD's declared types (`integer`, `real`,
    `text`, `date`, `datetime`) are kept as declared. Several primary-key entries of one
    table form a composite key (Spider lists each column; BIRD may give a list). Every
    foreign-key pair is a single-column key, subject to the module's foreign-key policy.
    No NOT NULL, UNIQUE or samples: tables.json does not record them.
    """
    path = str(tables_json_path)
    try:
        dbs = _load_tables_json(path, os.path.getmtime(path))
    except OSError as e:
        raise SchemaError(f"cannot read tables.json {path!r}: {e}") from e
    except (ValueError, KeyError, TypeError) as e:
        raise SchemaError(f"cannot parse tables.json {path!r}: {e}") from e
    d = dbs.get(db_id)
    if d is None:
        lower = {k.lower(): k for k in dbs}
        if db_id.lower() in lower:
            d = dbs[lower[db_id.lower()]]
        else:
            import difflib

            close = difflib.get_close_matches(db_id, list(dbs), n=5, cutoff=0.5)
            some = close or sorted(dbs)[:5]
            raise SchemaError(
                f"unknown db_id {db_id!r} in {path!r} ({len(dbs)} databases; "
                f"e.g. {', '.join(some)})"
            )
    try:
        return _spider_schema(d, source=f"tables.json:{db_id}")
    except (KeyError, IndexError, TypeError, ValueError) as e:
        if isinstance(e, SchemaError):
            raise
        raise SchemaError(f"malformed entry for {db_id!r} in {path!r}: {e!r}") from e


def _spider_schema(d: dict[str, Any], *, source: str) -> Schema:
    names = d["table_names_original"]
    cols = d["column_names_original"]
    types = d["column_types"]
    tables = [Table(name=n, columns=[]) for n in names]
    col_ref: dict[int, tuple[Table, str]] = {}
    for i, ((ti, cname), ctype) in enumerate(zip(cols, types)):
        if ti < 0:
            continue
        declared = _SPIDER_TYPES.get(str(ctype).lower(), str(ctype))
        t = tables[ti]
        if t.has_column(cname):
            raise SchemaError(f"table {t.name!r} lists column {cname!r} twice")
        t.columns.append(Column(name=cname, type=declared, affinity=affinity_of(declared)))
        col_ref[i] = (t, cname)

    pk_cols: dict[str, list[str]] = defaultdict(list)
    composite: list[tuple[Table, list[str]]] = []
    for entry in d.get("primary_keys") or []:
        if isinstance(entry, list):
            refs = [col_ref[i] for i in entry]
            if len({id(t) for t, _ in refs}) != 1:
                raise SchemaError(f"primary key {entry} spans several tables")
            composite.append((refs[0][0], [c for _, c in refs]))
        else:
            t, c = col_ref[entry]
            if c not in pk_cols[t.name]:
                pk_cols[t.name].append(c)
    for t in tables:
        if pk_cols.get(t.name):
            t.primary_key = pk_cols[t.name]
    for t, key in composite:
        if t.primary_key and not _same_set(t.primary_key, key):
            raise SchemaError(f"table {t.name!r} has more than one primary key")
        t.primary_key = key

    raw: list[tuple[str, ForeignKey]] = []
    for a, b in d.get("foreign_keys") or []:
        if a not in col_ref or b not in col_ref:
            continue  # dropped: a side does not resolve
        (ct, cc), (pt, pc) = col_ref[a], col_ref[b]
        raw.append((ct.name, ForeignKey(columns=[cc], ref_table=pt.name, ref_columns=[pc])))
    _finish_foreign_keys(tables, raw, strict=False)
    return Schema(tables=tables, source=source)


# ---------------------------------------------------------------------------------------------
# VeriEQL JSON

_VERIEQL_TYPES = {
    "INT": "INTEGER",
    "INTEGER": "INTEGER",
    "VARCHAR": "VARCHAR",
    "DATE": "DATE",
    "BOOLEAN": "BOOLEAN",
    "BOOL": "BOOLEAN",
}


def schema_from_verieql(
    schema: dict[str, dict[str, str | None]],
    constraints: list[dict[str, Any]] | None,
    dialect: Dialect | str = Dialect.DUCKDB,
) -> Schema:
    """A schema from VeriEQL's benchmark JSON.

    `schema` is `{TABLE: {COLUMN: TYPE}}` with TYPE one of INT/int, VARCHAR, DATE, BOOLEAN or
    null (→ INTEGER; any other string is kept as the declared type). `constraints` is a list
    of one-key objects whose columns are written `{"value": "TABLE__COLUMN"}`:

    - `{"primary": [c1, c2, ...]}`: the primary key (several columns: composite key);
    - `{"foreign": [child, parent]}`: a single-column foreign key;
    - `{"not_null": c}` (also accepted: a list of columns).

    Any other constraint kind raises SchemaError naming it; so does a column or table that
    does not exist, or a foreign key whose parent columns are not a key. With a dialect
    other than sqlite, PRIMARY KEY columns are NOT NULL.
    """
    if dialect not in tuple(Dialect):
        raise SchemaError(f"unknown dialect {dialect!r} (expected one of {', '.join(Dialect)})")
    if not isinstance(schema, dict) or not schema:
        raise SchemaError("VeriEQL schema is empty or not an object")
    tables: list[Table] = []
    for tname, cols in schema.items():
        if not isinstance(cols, dict):
            raise SchemaError(f"VeriEQL table {tname!r}: columns must be an object")
        if any(t.name.lower() == tname.lower() for t in tables):
            raise SchemaError(f"VeriEQL table {tname!r} is defined twice")
        columns: list[Column] = []
        for cname, ctype in cols.items():
            if ctype is not None and not isinstance(ctype, str):
                raise SchemaError(f"VeriEQL column {tname}.{cname}: bad type {ctype!r}")
            declared = _VERIEQL_TYPES.get((ctype or "INT").upper(), (ctype or "").upper())
            if any(c.name.lower() == cname.lower() for c in columns):
                raise SchemaError(f"VeriEQL column {tname}.{cname} is defined twice")
            columns.append(
                Column(name=cname, type=declared, affinity=affinity_of(declared, dialect))
            )
        tables.append(Table(name=tname, columns=columns))

    def ref(item: Any) -> tuple[Table, Column]:
        value = item.get("value") if isinstance(item, dict) else item
        if not isinstance(value, str):
            raise SchemaError(f"VeriEQL constraint: bad column reference {item!r}")
        # TABLE__COLUMN; table names may themselves contain "__", so try every split
        for m in re.finditer("__", value):
            tn, cn = value[: m.start()], value[m.end() :]
            for t in tables:
                if t.name.lower() == tn.lower() and t.has_column(cn):
                    return t, t.column(cn)
        raise SchemaError(f"VeriEQL constraint: unknown column {value!r}")

    def refs(arg: Any) -> list[tuple[Table, Column]]:
        return [ref(x) for x in (arg if isinstance(arg, list) else [arg])]

    raw_fks: list[tuple[str, ForeignKey]] = []
    for item in constraints or []:
        if not isinstance(item, dict):
            raise SchemaError(f"VeriEQL constraint must be an object, got {item!r}")
        for kind, arg in item.items():
            if kind == "primary":
                cols = refs(arg)
                owners = {t.name for t, _ in cols}
                if len(owners) != 1:
                    raise SchemaError(f"VeriEQL primary key spans tables {sorted(owners)}")
                t = cols[0][0]
                key = [c.name for _, c in cols]
                if t.primary_key and not _same_set(t.primary_key, key):
                    raise SchemaError(f"VeriEQL table {t.name!r} has more than one primary key")
                t.primary_key = key
            elif kind == "foreign":
                cols = refs(arg)
                if len(cols) != 2:
                    raise SchemaError(
                        f"VeriEQL foreign key needs [child, parent], got {len(cols)} columns"
                    )
                (ct, cc), (pt, pc) = cols
                key = ForeignKey(columns=[cc.name], ref_table=pt.name, ref_columns=[pc.name])
                raw_fks.append((ct.name, key))
            elif kind == "not_null":
                for _, c in refs(arg):
                    c.not_null = True
            else:
                raise SchemaError(f"unsupported VeriEQL constraint kind {kind!r}")
    if dialect != Dialect.SQLITE:
        for t in tables:
            for c in t.columns:
                if any(c.name == p for p in t.primary_key):
                    c.not_null = True
    _finish_foreign_keys(tables, raw_fks, strict=True)
    return Schema(tables=tables, source="verieql")


# ---------------------------------------------------------------------------------------------
# dispatcher


def load_schema(
    *,
    db: str | None = None,
    schema_sql: str | None = None,
    tables_json: str | None = None,
    db_id: str | None = None,
    dialect: Dialect | str = Dialect.SQLITE,
) -> Schema | None:
    """The schema the CLI's options describe, or None when none is given.

    - `db`: a SQLite database file (read with samples; `dialect` does not apply);
    - `schema_sql`: a file of CREATE TABLE statements, or the DDL text itself (anything that
      is not an existing file and contains CREATE), parsed for `dialect`;
    - `tables_json` + `db_id`: a Spider / BIRD tables.json entry.

    `db` wins over `tables_json` when both are given. `tables_json` and `db_id` must come
    together; `schema_sql` cannot be combined with `db` or `tables_json`.
    """
    if dialect not in tuple(Dialect):
        raise SchemaError(f"unknown dialect {dialect!r} (expected one of {', '.join(Dialect)})")
    if tables_json is not None and db_id is None:
        raise SchemaError("tables_json needs db_id (which database of the file to use)")
    if db_id is not None and tables_json is None and db is None:
        raise SchemaError("db_id needs tables_json (the file that lists the database)")
    if schema_sql is not None and (db is not None or tables_json is not None):
        raise SchemaError("give either schema_sql or db / tables_json, not both")
    if db is not None:
        return schema_from_sqlite(db)
    if schema_sql is not None:
        if os.path.isfile(schema_sql):
            try:
                text = Path(schema_sql).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                raise SchemaError(f"cannot read schema file {schema_sql!r}: {e}") from e
            schema = schema_from_ddl(text, dialect)
            return schema.model_copy(update={"source": f"ddl:{schema_sql}"})
        if re.search(r"\bCREATE\b", schema_sql, re.IGNORECASE):
            return schema_from_ddl(schema_sql, dialect)
        raise SchemaError(f"schema file {schema_sql!r} not found")
    if tables_json is not None:
        assert db_id is not None
        return schema_from_spider_tables(tables_json, db_id)
    return None
