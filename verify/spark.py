"""Read SQL as Apache Spark means it: the DuckDB query that means the same.

Optimizer-rewrite suites printed by Spark (SQLSolver's Spark suite, its TPC-H and TPC-C rewrites)
are Spark SQL, which differs from DuckDB's in syntax and in a few meanings. `read_spark(sql)`
returns the DuckDB text with Spark's meaning, written by sqlglot's Spark reader and DuckDB
writer, and a note per difference:

- **NULL order**: Spark sorts NULL as the smallest value (first ascending, last descending);
  DuckDB puts NULLs last: ascending keys get NULLS FIRST;
- **`a <=> b`** is `a IS NOT DISTINCT FROM b`; **`IF(c, a, b)`** is a CASE;
- **`CONCAT(a, b)`** is NULL when an argument is (DuckDB's CONCAT skips NULLs): `a || b`;
- **`"text"`** is a string in Spark, not a name;
- **casts and division**: a CAST that fails is NULL in Spark (not an error): `TRY_CAST`; `x / 0`
  is NULL: `x / NULLIF(0, 0)`; `a DIV b` is the integer quotient `a // b`;
- **`POSITIVE(x)`**, Spark's unary plus, is `x`;
- **dates**: a text literal cast to DATE (`date('1995-03-21 +08')`) is the day Spark reads in it
  (text after a space or 'T' is ignored; NULL if there is none); a cast of other text to DATE
  is `Unsupported` (Spark and DuckDB accept different texts), of a column declared DATE or
  TIMESTAMP left as it is;
- **an ORDER BY key that is a constant other than a number** (`ORDER BY 'a'`) orders nothing in
  Spark (DuckDB rejects it): it is left out, and so is an ORDER BY of nothing else.

Everything else is DuckDB's reading of the text sqlglot writes; integer overflow (Spark's
32-bit and 64-bit integers wrap, DuckDB's raise an error) is not modelled. The verifier then
checks the DuckDB text, and confirms every counterexample by running it on DuckDB.

    >>> sql, notes = read_spark("SELECT CONCAT(name, 'x') FROM t WHERE a <=> b ORDER BY a")
    >>> sql
    "SELECT name || 'x' FROM t WHERE a IS NOT DISTINCT FROM b ORDER BY a NULLS FIRST"
"""

from __future__ import annotations

import datetime
import re

from sqlglot import exp
from sqlglot.errors import SqlglotError

from verify.calcite import constant_order_keys_dropped, read_pair
from verify.errors import QueryError, Unsupported
from verify.limits import paren_depth, too_deep
from verify.parse import parse_query
from verify.schema import Schema

__all__ = ["read_spark", "read_spark_pair"]


def read_spark(sql: str, schema: Schema | None = None) -> tuple[str, list[str]]:
    """`sql`, as Spark reads it (over `schema`, for the declared types of columns cast to DATE),
    written as DuckDB SQL; and one note per translation made. Raises `QueryError` for text that
    does not parse, `Unsupported` for a Spark form with no DuckDB reading here."""
    try:
        return _read(sql, schema)
    except RecursionError:  # sqlglot's parser recurses once per level of nesting
        raise QueryError(too_deep(paren_depth(sql))) from None


def _read(sql: str, schema: Schema | None) -> tuple[str, list[str]]:
    tree = parse_query(sql, "spark")
    notes: list[str] = _dates(tree, schema)
    for node in list(tree.walk()):
        if isinstance(node, exp.NullSafeEQ):
            notes.append("a <=> b: a IS NOT DISTINCT FROM b")
        elif isinstance(node, exp.If):
            notes.append("IF(c, a, b): CASE WHEN c THEN a ELSE b END")
        elif isinstance(node, exp.Concat):
            notes.append("CONCAT: NULL where an argument is (Spark), a || b")
        elif isinstance(node, exp.Cast) and not node.meta.get("spark_date"):  # TryCast too: sqlglot reads Spark's CAST as one
            notes.append("CAST: NULL where it fails (Spark), TRY_CAST")
        elif isinstance(node, exp.Div):
            notes.append("x / y: NULL where y is 0 (Spark), x / NULLIF(y, 0)")
        elif isinstance(node, exp.IntDiv):
            notes.append("a DIV b: the integer quotient, a // b")
        elif isinstance(node, exp.Anonymous) and node.name.upper() == "POSITIVE" and len(node.expressions) == 1:
            node.replace(exp.Paren(this=node.expressions[0].copy()))
            notes.append("POSITIVE(x): x")
    notes += constant_order_keys_dropped(tree, "Spark")
    if any(not o.args.get("desc") and o.args.get("nulls_first") for o in tree.find_all(exp.Ordered)):
        notes.append("ORDER BY ... ASC: NULLs first (Spark sorts NULL lowest)")
    try:
        text = tree.sql(dialect="duckdb")
    except SqlglotError as e:
        raise QueryError(f"cannot write it as DuckDB SQL: {e}") from None
    return text, list(dict.fromkeys(notes))


# Spark's text-to-DATE cast (`stringToDate`): a year of four digits, then optionally -month, then
# optionally -day followed by nothing, or by a space or 'T' and anything; surrounding blanks trimmed
_SPARK_DATE = re.compile(r"\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2})(?:[ T].*)?)?)?\s*", re.DOTALL)
_DATE_TYPES = ("DATE", "TIMESTAMP", "DATETIME")


def _dates(tree: exp.Expression, schema: Schema | None) -> list[str]:
    """Casts to DATE (`date(x)`, `to_date(x)`, `CAST(x AS DATE)`) rewritten in place as Spark
    computes them: of a text literal, the DATE Spark reads in it (`date('1995-03-21 +08')` is
    1995-03-21: text after a space is ignored), or NULL; of a column declared DATE or TIMESTAMP,
    left as they are. Spark accepts texts DuckDB rejects and the other way round, so a cast of
    any other text is `Unsupported`. The notes."""
    notes = []
    for node in list(tree.walk()):
        if isinstance(node, exp.TsOrDsToDate) and not node.args.get("format"):
            operand = node.this
        elif isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.DATE:
            operand = node.this
        else:
            continue
        if isinstance(operand, exp.Literal) and operand.is_string:
            day = _spark_date(operand.this)
            value = exp.Null() if day is None else exp.cast(exp.Literal.string(day.isoformat()), "DATE")
            value.meta["spark_date"] = True  # a DATE literal, not a cast that may fail
            node.replace(value)
            notes.append(f"DATE of '{operand.this}': {'NULL' if day is None else day.isoformat()} (Spark reads it so)")
        elif not (isinstance(operand, exp.Column) and _declared_date(operand, schema)):
            raise Unsupported(f"{node.sql('spark')}: a cast of text to DATE (Spark and DuckDB accept different texts)")
    return notes


def _spark_date(text: str) -> datetime.date | None:
    m = _SPARK_DATE.fullmatch(text)
    if m is None:
        return None
    try:
        return datetime.date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    except ValueError:  # no such day
        return None


def _declared_date(column: exp.Column, schema: Schema | None) -> bool:
    """Some table of `schema` declares a column of this name DATE or TIMESTAMP (and none of
    another type: the name alone does not tell which table it reads)."""
    if schema is None:
        return False
    types = {c.type.upper().split("(")[0].strip() for t in schema.tables for c in t.columns
             if c.name.lower() == column.name.lower()}
    return bool(types) and all(t in _DATE_TYPES for t in types)


def read_spark_pair(gold: str, gen: str, schema: Schema | None = None) -> tuple[str, str, list[str]]:
    """Both queries read as Spark's (`read_spark`), and the notes, each naming its query."""
    return read_pair(gold, gen, read_spark, schema)
