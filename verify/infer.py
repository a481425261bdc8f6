"""Guess a schema from the queries alone, for `verify pair` without `--db`/`--schema`/`--tables`.

Every table named in a FROM clause becomes a table; every column the queries mention becomes a
nullable column of that table, typed from usage: compared with (or combined with) a string
literal → TEXT, with a non-integral number → REAL, otherwise INTEGER. No keys are assumed.
The verdict says the schema was inferred.

Example:
    >>> import sqlglot
    >>> s = infer_schema([sqlglot.parse_one("SELECT name FROM t WHERE age > 3 AND city = 'x'")])
    >>> [(c.name, c.type) for c in s.table("t").columns]
    [('name', 'INTEGER'), ('age', 'INTEGER'), ('city', 'TEXT')]
"""

from __future__ import annotations

from sqlglot import exp

from verify.errors import QueryError
from verify.names import Dialect
from verify.schema import Column, Schema, Table, affinity_of


def infer_schema(trees: list[exp.Expression], dialect: Dialect | str = Dialect.SQLITE) -> Schema:
    cte_names = {c.alias.lower() for t in trees for c in t.find_all(exp.CTE)}
    tables: dict[str, dict[str, str]] = {}
    names: dict[str, str] = {}
    for tree in trees:
        for t in tree.find_all(exp.Table):
            if t.name and t.name.lower() not in cte_names:
                tables.setdefault(t.name.lower(), {})
                names.setdefault(t.name.lower(), t.name)
    if not tables:
        for tree in trees:
            _check_no_columns(tree)
    for tree in trees:
        for sel in tree.find_all(exp.Select):
            scope_tables = _from_tables(sel, cte_names)
            for col in sel.find_all(exp.Column):
                if isinstance(col.this, exp.Star) or col.find_ancestor(exp.Select) is not sel:
                    continue
                target = _owner(col, scope_tables)
                if target is None:
                    continue
                cols = tables.setdefault(target, {})
                typ = _usage_type(col)
                prev = cols.get(col.name.lower())
                if prev is None or prev == "INTEGER" and typ != "INTEGER":
                    cols[col.name.lower()] = typ
                names.setdefault(f"{target}.{col.name.lower()}", col.name)
    out = []
    for tname, cols in tables.items():
        if not cols:
            cols = {"id": "INTEGER"}
        out.append(Table(
            name=names[tname],
            columns=[Column(name=names.get(f"{tname}.{c}", c), type=typ, affinity=affinity_of(typ, dialect))
                     for c, typ in cols.items()],
        ))
    return Schema(tables=out, inferred=True, source="inferred from the queries")


def _check_no_columns(tree: exp.Expression) -> None:
    for col in tree.find_all(exp.Column):
        if not isinstance(col.this, exp.Star):
            raise QueryError(f"column {col.sql()!r} but no table in FROM and no schema given")


def _from_tables(sel: exp.Select, cte_names: set[str]) -> dict[str, str]:
    """alias → table name (lower case) for the base tables of this SELECT's FROM."""
    out: dict[str, str] = {}
    sources = []
    frm = sel.args.get("from_") or sel.args.get("from")
    if frm is not None:
        sources.append(frm.this)
    sources += [j.this for j in sel.args.get("joins") or []]
    for s in sources:
        if isinstance(s, exp.Table) and s.name.lower() not in cte_names:
            out[(s.alias_or_name).lower()] = s.name.lower()
    return out


def _owner(col: exp.Column, scope_tables: dict[str, str]) -> str | None:
    if col.table:
        return scope_tables.get(col.table.lower())
    if scope_tables:
        return next(iter(scope_tables.values()))
    return None


def _usage_type(col: exp.Column) -> str:
    parent = col.parent
    while isinstance(parent, exp.Paren):
        parent = parent.parent
    if isinstance(parent, (exp.Binary, exp.In, exp.Between)):
        for other in parent.find_all(exp.Literal):
            if other.is_string:
                return "TEXT"
            if "." in other.this:
                return "REAL"
    if isinstance(parent, (exp.Like, exp.ILike)):
        return "TEXT"
    return "INTEGER"
