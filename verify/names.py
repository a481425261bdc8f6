"""The closed sets of names the verifier passes around, each defined once as a `StrEnum`.

A member is a `str` equal to its text, hashes like it and prints as it, so code that still
writes the plain strings keeps working:

    >>> Dialect.SQLITE == "sqlite", CmpMode("num") is CmpMode.NUM, f"{JoinKind.LEFT}"
    (True, True, 'left')
    >>> [str(s) for s in Semantics]
    ['auto', 'bag', 'set', 'list']

Its `repr()` is the text's too, so IR nodes print (and compare by `repr()`) as they did when
they held plain strings:

    >>> repr(FuncName.COALESCE)
    "'coalesce'"
"""

from __future__ import annotations

from enum import StrEnum


class Name(StrEnum):
    """A `StrEnum` whose `repr()` is its text's (see the module docstring)."""

    def __repr__(self) -> str:
        return repr(self.value)


class Dialect(Name):
    """The SQL engine whose rules a query follows."""

    SQLITE = "sqlite"
    DUCKDB = "duckdb"


ENGINE_NAMES = {Dialect.SQLITE.value: "SQLite", Dialect.DUCKDB.value: "DuckDB"}  # as people write them


class Semantics(Name):
    """How two results are compared: as multisets (`BAG`), as sets (`SET`), as sequences
    (`LIST`), or `AUTO` (`LIST` when the gold query's outermost operator is an ORDER BY, else
    `BAG`)."""

    AUTO = "auto"
    BAG = "bag"
    SET = "set"
    LIST = "list"


class CmpMode(Name):
    """How an `ir.Cmp` compares its operands, decided statically by the front end."""

    NUM = "num"  # both numeric
    TEXT = "text"  # both text
    DATE = "date"
    TIMESTAMP = "timestamp"
    BOOL = "bool"
    NULL = "null"  # a NULL against a non-numeric value: the result is NULL
    MIXED = "mixed"  # a number against a text, no conversion: every number sorts before every text
    AFFNUM = "affnum"  # a numeric column against a text column read as a number (`ir.TextToNum`)


class JoinKind(Name):
    """The kind of an `ir.Join`. `LATERAL` and `LATERAL_LEFT` are JOIN LATERAL (inner or cross,
    and left): the right side is evaluated once per left row."""

    INNER = "inner"
    LEFT = "left"
    RIGHT = "right"
    FULL = "full"
    CROSS = "cross"
    LATERAL = "lateral"
    LATERAL_LEFT = "lateral_left"


class SetOpName(Name):
    """The operator of an `ir.SetOp`."""

    UNION = "union"
    INTERSECT = "intersect"
    EXCEPT = "except"


class FuncName(Name):
    """The name of an `ir.Func`: a scalar function with NULL rules of its own, or a conversion
    the front end inserts."""

    # NULL handling and comparison
    COALESCE = "coalesce"
    NULLIF = "nullif"  # (a, b, a = b)
    SAME = "same"  # IS NOT DISTINCT FROM
    GREATEST = "greatest"  # SQLite's scalar max(a, b, ...)
    LEAST = "least"  # SQLite's scalar min(a, b, ...)
    TUPLE = "tuple"  # the arguments of COUNT(DISTINCT a, b), counted together
    # numbers and conversions
    ABS = "abs"
    ROUND = "round"
    TOINT = "toint"
    TOREAL = "toreal"
    TONUMERIC = "tonumeric"  # CAST(... AS NUMERIC)
    BOOL2INT = "bool2int"  # SQLite shows a truth value as 0/1
    INT2TEXT = "int2text"
    TEXT2NUM = "text2num"  # SQLite reads a text's numeric prefix
    DUCK_TEXT2INT = "duck_text2int"  # DuckDB's cast of a text to an integer
    # strings
    CONCAT = "concat"
    LENGTH = "length"
    SUBSTR = "substr"
    INSTR = "instr"
    TRIM = "trim"
    UPPER = "upper"
    LOWER = "lower"
    REPLACE = "replace"
    LIKE = "like"  # ASCII case folded (SQLite's LIKE, DuckDB's ILIKE)
    LIKE_CS = "like_cs"  # case-sensitive (DuckDB's LIKE)
    GLOB = "glob"
    # the normal forms of string predicates (verify.strpred): case-sensitive, NULL on NULL
    CONTAINS = "contains"  # (x, c): c occurs in x
    STARTS_WITH = "starts_with"  # (x, c): x begins with c
    ENDS_WITH = "ends_with"  # (x, c): x ends with c
    # dates and times
    NOW = "now"
    DATE = "date"
    DATETIME = "datetime"
    TIME = "time"
    JULIANDAY = "julianday"
    STRFTIME = "strftime"
    STRFTIME_NUM = "strftime_num"  # a strftime of digits only, read as its number
    DATE2TS = "date2ts"  # DuckDB: a date as the timestamp of its midnight
    DATE_YEAR = "date_year"
    DATE_MONTH = "date_month"
    DATE_DAY = "date_day"
