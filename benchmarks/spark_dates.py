"""Spark's constant date forms, read as Spark reads them, for suites written in Spark SQL.

SQLSolver's TPC-H suite writes its date constants the way Spark SQL does: `date('1995-03-21
+08')` (a text cast to DATE: Spark keeps the date and ignores what follows a space or a 'T') and
`date_sub('1998-12-01', 61)` (Spark's `date_sub(start, days)`). DuckDB rejects both (it cannot
read '1995-03-21 +08' as a date; its `date_sub` takes a part and two dates), so the pairs would
end as errors. `read_spark_dates` replaces each such form whose arguments are literals by the
DATE literal Spark computes for it; the rest of the query is left as it is and verified, and
confirmed, under DuckDB's semantics. A form with a column argument, or a text Spark would not
read as a date, is left alone: DuckDB then reports the error, as before.

Example:
    >>> read_spark_dates("SELECT * FROM t WHERE d < date('1995-03-21 +08')")
    ("SELECT * FROM t WHERE d < CAST('1995-03-21' AS DATE)", ["DATE('1995-03-21 +08') read as DATE '1995-03-21'"])
"""

from __future__ import annotations

import datetime
import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

# Spark's text-to-date cast (DateTimeUtils.stringToDate), for the forms it accepts with a
# four-digit year: 'yyyy', 'yyyy-[m]m', 'yyyy-[m]m-[d]d', and the last followed by ' ' or 'T'
# and anything; surrounding white space is trimmed.
_SPARK_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2})(?:[ T].*)?)?)?", re.DOTALL)


def spark_text_to_date(text: str) -> datetime.date | None:
    """The date Spark reads `text` as, or None where it reads none (a NULL in Spark, which this
    module does not model: the form is then left to DuckDB).

    >>> spark_text_to_date('1995-03-21 +08'), spark_text_to_date('1994-9'), spark_text_to_date('03/21/1995')
    (datetime.date(1995, 3, 21), datetime.date(1994, 9, 1), None)
    """
    m = _SPARK_DATE.fullmatch(text.strip())
    if m is None:
        return None
    try:
        return datetime.date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    except ValueError:  # '1995-02-30'
        return None


def _day_count(node: exp.Expression | None) -> int | None:
    if isinstance(node, exp.Neg):
        inner = _day_count(node.this)
        return None if inner is None else -inner
    if isinstance(node, exp.Literal) and not node.is_string and re.fullmatch(r"\d+", node.this):
        return int(node.this)
    return None


def _text_date(node: exp.Expression | None) -> datetime.date | None:
    if isinstance(node, exp.Literal) and node.is_string:
        return spark_text_to_date(node.this)
    return None


def _spark_constant(node: exp.Expression) -> datetime.date | None:
    """The date of a Spark date form with literal arguments, or None for any other node."""
    if isinstance(node, exp.Date) and not node.expressions and node.args.get("zone") is None:
        return _text_date(node.this)
    if isinstance(node, exp.Anonymous) and node.name.lower() in ("date_sub", "date_add") \
            and len(node.expressions) == 2:
        start, days = _text_date(node.expressions[0]), _day_count(node.expressions[1])
        sign = -1 if node.name.lower() == "date_sub" else 1
    elif isinstance(node, (exp.DateAdd, exp.DateSub)) and node.args.get("unit") is None:
        start, days = _text_date(node.this), _day_count(node.expression)
        sign = -1 if isinstance(node, exp.DateSub) else 1
    else:
        return None
    if start is None or days is None:
        return None
    try:
        return start + datetime.timedelta(days=sign * days)
    except OverflowError:
        return None


def read_spark_dates(sql: str, dialect: str = "duckdb") -> tuple[str, list[str]]:
    """`sql` with each Spark date form on literals replaced by its DATE, and one line per form
    replaced (`... read as DATE '...'`). Without such a form, `sql` comes back unchanged, byte
    for byte; a text that does not parse also comes back unchanged (the verifier reports it)."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except ParseError:
        return sql, []
    notes: list[str] = []

    def replace(node: exp.Expression) -> exp.Expression:
        day = _spark_constant(node)
        if day is None:
            return node
        notes.append(f"{node.sql(dialect='spark')} read as DATE '{day.isoformat()}'")
        return exp.cast(exp.Literal.string(day.isoformat()), exp.DataType.build("DATE"))

    new = tree.transform(replace)
    if not notes:
        return sql, []
    return new.sql(dialect=dialect), notes


__all__ = ["read_spark_dates", "spark_text_to_date"]
