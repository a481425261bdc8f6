"""How realistic is a counterexample? A profile of the source database and a score.

`profile_database(path)` records, per column of a real SQLite database: whether it holds
NULLs, its observed values (the most frequent `max_values`), and depending on what it holds

- numbers: the plausible range (the observed range widened as for mined ranges, see
  `constraints.mine.nice_range`) and whether all are integers;
- few distinct values (a categorical column): the categories;
- text: a date/time pattern, or a length range and the characters used (as mined formats).

`realism(tables, profile)` is the share of a counterexample's cells whose value is plausible
for its column: observed verbatim, or inside the observed categories (a categorical column
accepts nothing else), or inside the plausible range (integers where the column only held
integers), or matching the observed text format. NULL is plausible only in a column that holds
NULLs. Cells of tables or columns the profile does not know, or of columns that were empty in
the source, are not counted; with no counted cell the score is 1.0.

Example:
    >>> import sqlite3, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "t.sqlite"); con = sqlite3.connect(p)
    >>> _ = con.execute("CREATE TABLE p (age INT, sex TEXT)")
    >>> _ = con.executemany("INSERT INTO p VALUES (?, ?)", [(20 + i, "FM"[i % 2]) for i in range(40)])
    >>> con.commit(); con.close()
    >>> prof = profile_database(p)
    >>> from verify.verdict import TableData
    >>> realism({"p": TableData(columns=["age", "sex"], rows=[[30, "F"], [-4, "xq"]])}, prof)
    0.5
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

from pydantic import BaseModel, Field

from constraints.mine import (
    DATE_REGEXES,
    column_stats,
    connect_readonly,
    file_sha256,
    nice_range,
    observed_charset,
    sample_table,
)
from verify.schema import Schema, quote_ident
from verify.schema_io import schema_from_sqlite

__all__ = ["ColumnProfile", "Profile", "profile_database", "realism", "implausible_cells"]


class ColumnProfile(BaseModel):
    rows: int = 0
    nulls: bool = False
    values: list[Any] = Field(default_factory=list, description="most frequent observed values")
    numeric: bool = False
    integral: bool = False
    min: float | None = None
    max: float | None = None
    categories: list[Any] | None = None
    text: bool = False
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    charset: str | None = Field(None, description="GLOB class body of the allowed characters")

    @property
    def empty(self) -> bool:
        return self.rows == 0 or (not self.values and not self.nulls)


class Profile(BaseModel):
    source: str = ""
    sha256: str = ""
    tables: dict[str, dict[str, ColumnProfile]] = Field(
        default_factory=dict, description="lower-case table -> lower-case column -> profile")

    def column(self, table: str, column: str) -> ColumnProfile | None:
        return self.tables.get(table.lower(), {}).get(column.lower())


def profile_database(
    path: str | os.PathLike[str],
    *,
    max_values: int = 1000,
    max_categories: int = 12,
    sample_rows: int = 20000,
    schema: Schema | None = None,
) -> Profile:
    """Profile every column of the SQLite database at `path` (read-only)."""
    schema = schema or schema_from_sqlite(path, sample_size=0)
    prof = Profile(source=str(path), sha256=file_sha256(path))
    con = connect_readonly(path)
    try:
        for t in schema.tables:
            n, stats = column_stats(con, t)
            rows = sample_table(con, t, n, sample_rows) if n else []
            cols: dict[str, ColumnProfile] = {}
            for i, st in enumerate(stats):
                cp = ColumnProfile(rows=n, nulls=st.nonnull < n)
                if st.nonnull:
                    x, q = quote_ident(st.name), quote_ident(t.name)
                    cp.values = [r[0] for r in con.execute(
                        f"SELECT {x} FROM {q} WHERE {x} IS NOT NULL AND typeof({x}) <> 'blob' "
                        f"GROUP BY {x} ORDER BY COUNT(*) DESC, {x} LIMIT ?", (max_values,))]
                if st.numeric:
                    cp.numeric, cp.integral = True, st.n_real == 0
                    cp.min, cp.max = nice_range(st.min, st.max, cp.integral)
                if (st.nonnull and st.distinct <= max_categories and st.n_real == 0
                        and st.nonnull >= 2 * st.distinct):
                    cp.categories = list(cp.values)
                if st.text:
                    cp.text = True
                    vals = [r[i] for r in rows if isinstance(r[i], str)]
                    for name, rx in DATE_REGEXES.items():
                        if vals and all(rx.fullmatch(v) for v in vals):
                            cp.pattern = name
                            break
                    if cp.pattern is None and st.min_len is not None and st.max_len is not None:
                        if st.min_len == st.max_len and st.max_len >= 2:
                            cp.min_length = cp.max_length = st.min_len
                        else:
                            cp.min_length = 1 if st.min_len >= 1 else 0
                            cp.max_length = max(10, math.ceil(2 * st.max_len / 10) * 10)
                        cp.charset = _charset(vals)
                cols[st.name.lower()] = cp
            prof.tables[t.name.lower()] = cols
    finally:
        con.close()
    return prof


def _charset(vals: list[str]) -> str | None:
    return observed_charset(set("".join(vals)))


def _class_regex(body: str) -> re.Pattern[str]:
    """A regex matching strings made only of the characters of a GLOB class body."""
    out, i = [], 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            out.append(re.escape(body[i]) + "-" + re.escape(body[i + 2]))
            i += 3
        else:
            out.append(re.escape(body[i]))
            i += 1
    return re.compile("[" + "".join(out) + "]*")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return float(a) == float(b)
    return type(a) is type(b) and a == b


def plausible(v: Any, cp: ColumnProfile) -> tuple[bool, str]:
    """Is `v` plausible for the column, and if not, why."""
    if v is None:
        return (True, "") if cp.nulls else (False, "NULL, never NULL in the source")
    if any(_same(v, o) for o in cp.values):
        return True, ""
    if cp.categories is not None:
        return False, f"not one of the observed categories ({len(cp.categories)})"
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if not cp.numeric:
            return False, "a number in a column of text"
        if cp.integral and not float(v).is_integer():
            return False, "not an integer"
        assert cp.min is not None and cp.max is not None
        if not (cp.min <= v <= cp.max):
            return False, f"outside {cp.min:g}..{cp.max:g}"
        return True, ""
    if isinstance(v, str):
        if cp.numeric:
            return False, "text in a column of numbers"
        if not cp.text:
            return True, ""  # mixed column: no format to hold it to
        if cp.pattern:
            ok = bool(DATE_REGEXES[cp.pattern].fullmatch(v))
            return ok, "" if ok else f"not a {cp.pattern} like the source's"
        if cp.min_length is not None and cp.max_length is not None and not (
                cp.min_length <= len(v) <= cp.max_length):
            return False, f"length {len(v)} outside {cp.min_length}..{cp.max_length}"
        if cp.charset and not _class_regex(cp.charset).fullmatch(v):
            return False, f"characters outside [{cp.charset}]"
        return True, ""
    return False, f"unexpected value type {type(v).__name__}"


def implausible_cells(tables: dict[str, Any], profile: Profile) -> tuple[int, list[str]]:
    """(number of counted cells, descriptions of the implausible ones)."""
    counted, bad = 0, []
    for tname, data in tables.items():
        cols = [profile.column(tname, c) for c in data.columns]
        for row in data.rows:
            for cname, cp, v in zip(data.columns, cols, row):
                if cp is None or cp.empty:
                    continue
                counted += 1
                ok, why = plausible(v, cp)
                if not ok:
                    bad.append(f"{tname}.{cname} = {v!r}: {why}")
    return counted, bad


def realism(tables: dict[str, Any], profile: Profile) -> float:
    """Share of the cells of `tables` (name -> `verify.verdict.TableData`) whose values are
    plausible for their column; 1.0 when no cell is counted."""
    counted, bad = implausible_cells(tables, profile)
    return 1.0 if counted == 0 else round((counted - len(bad)) / counted, 4)
