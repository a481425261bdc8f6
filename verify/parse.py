"""Parse SQL text into one sqlglot SELECT tree, or fail with a `QueryError` that says why.

Example:
    >>> parse_query("SELECT name FROM singer;").sql()
    'SELECT name FROM singer'
    >>> parse_query("DROP TABLE singer")
    Traceback (most recent call last):
    ...
    verify.errors.QueryError: not a query: the statement is a DROP (only SELECT can be verified)
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from verify.errors import QueryError, snippet
from verify.names import Dialect

_QUERY_TYPES = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery)
# dialects only read, to be written as DuckDB's SQL (`verify.spark`): no engine runs them
READ_ONLY_DIALECTS = ("spark",)


def parse_query(sql: str, dialect: Dialect | str = Dialect.SQLITE) -> exp.Expression:
    if dialect not in tuple(Dialect) and dialect not in READ_ONLY_DIALECTS:
        raise QueryError(f"unknown dialect {dialect!r}; choose one of {', '.join(Dialect)}")
    text = (sql or "").strip()
    if not text.strip(";").strip():
        raise QueryError("empty query")
    try:
        trees = [t for t in sqlglot.parse(text, read=dialect) if t is not None]
    except (ParseError, TokenError) as e:
        raise QueryError(f"syntax error: {_first_line(e)}") from None
    if not trees:
        raise QueryError("empty query")
    if len(trees) > 1:
        raise QueryError(f"expected one statement, found {len(trees)}")
    tree = trees[0]
    for ident in tree.find_all(exp.Identifier):  # which quote it was written with (SQLite reads a
        if ident.quoted and "start" in ident.meta:  # "name" that names no column as a string)
            ident.meta["quote"] = text[ident.meta["start"]]
    if any(True for _ in tree.find_all(exp.Placeholder)):
        tree = tree.transform(dollar_identifier)
    if not isinstance(tree, _QUERY_TYPES):
        if isinstance(tree, (exp.Alias, exp.Condition, exp.Identifier)):
            # text such as `sql placeholder` reads as an expression (a column aliased placeholder)
            raise QueryError(f"not a SQL statement: {snippet(text, 60)!r} (only SELECT can be verified)")
        kind = tree.key.upper() if hasattr(tree, "key") else type(tree).__name__
        article = "an" if kind[:1] in "AEIOU" else "a"
        raise QueryError(f"not a query: the statement is {article} {kind} (only SELECT can be verified)")
    return tree


def dollar_identifier(node: exp.Expression) -> exp.Expression:
    """`$name` is a bind parameter to sqlglot and both engines; in VeriEQL's Calcite-generated
    queries (`$f0`, `EXPR$0`) it names a column: the quoted identifier "$name" it stands for."""
    if isinstance(node, exp.Placeholder) and isinstance(node.this, str) and node.this:
        ident = exp.Identifier(this="$" + node.this, quoted=True)
        if isinstance(node.parent, (exp.Alias, exp.Column, exp.TableAlias, exp.Table)):
            return ident
        return exp.Column(this=ident)
    return node


def _first_line(e: Exception) -> str:
    msg = str(e).strip().splitlines()
    return msg[0] if msg else type(e).__name__
