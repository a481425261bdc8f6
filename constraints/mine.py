"""Mining constraints that hold on every row of a SQLite database.

`mine_database(path)` returns a `ConstraintSet` with the schema's declared constraints
(origin `declared`) and the mined ones (origin `mined`), each with its evidence. Per table:

1. one aggregate query over all rows gives, per column, the non-NULL count, distinct count,
   storage types, numeric min/max and text length range;
2. candidates come from those statistics and, for dependencies between columns, from a sample
   of the rows (every row up to `sample_rows`, else an even spread by rowid);
3. every candidate is re-checked with SQL on *all* rows (`SELECT COUNT(*) FROM t WHERE NOT
   (<the CHECK expression the verifier gets>)`, a GROUP BY for FDs and uniqueness) and dropped
   unless it holds on 100% of them.

What is mined (thresholds in `MineSettings`, all flags of `verify mine`):

- `not_null`: a column with no NULL in a table of at least `min_rows` rows (declared NOT NULL
  columns are not repeated);
- `categorical`: at most `max_categories` distinct values, each seen `min_category_rows`
  times on average; not on key or foreign-key columns;
- `range` (numbers): the observed range widened by its own width on each side and rounded
  outward to that width's order of magnitude, never below 0 when no value is negative
  (ages 20..60 give 0..100, years 1990..2020 give 1960..2050): a rule about plausible values,
  not a copy of the sample; `exact_ranges=True` keeps the observed bounds;
- `format` (text): a date/time pattern (`YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS`, `HH:MM:SS`),
  else a length range (exact for fixed-length codes; else 1 or 0 up to twice the longest,
  rounded up to a multiple of 10) and the characters used (classes 0-9, A-Z, a-z plus the
  punctuation seen; not when a value holds a non-ASCII character);
- `unique`: a non-key column without repeats in at least `min_unique_rows` rows;
- `fd` A → B (A of 1..`max_lhs` columns, none of them holding REAL values), in tables of at
  least `min_fd_rows` rows: holds on all rows, at least `min_support` distinct A values occur on two or more rows and those cover at
  least `min_fd_repeat_share` of the rows (else A is nearly a key and the FD a coincidence),
  B is not constant, and no smaller A determines B; trivial ones (A a key, B part of A) are
  skipped;
- `ordering` A ≤ B between two numeric columns whose observed ranges overlap (else the ranges
  already imply it) or two date-like text columns of the same pattern, where A < B on at
  least `min_support` rows, and, for numbers, the medians are within `max_order_ratio` of
  each other (life expectancy <= population holds, but is a coincidence of scales);
- `values`: the `value_hints` most frequent values of a non-categorical column (a hint).

Output is deterministic: tables and columns in schema order, kinds in a fixed order.

Example:
    >>> import sqlite3, tempfile, os
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "t.sqlite")
    >>> con = sqlite3.connect(p)
    >>> _ = con.execute("CREATE TABLE p (id INTEGER PRIMARY KEY, age INT, sex TEXT)")
    >>> _ = con.executemany("INSERT INTO p (age, sex) VALUES (?, ?)",
    ...                     [(20 + i, "FM"[i % 2]) for i in range(40)])
    >>> con.commit(); con.close()
    >>> cs = mine_database(p)
    >>> [c.describe() for c in cs.of_kind("range", "categorical")]
    ['p.age is a number between 0 and 100', "p.sex is one of 'F', 'M'"]
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import sqlite3
import time
from collections import Counter
from itertools import combinations
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from constraints.apply import check_expressions, glob_class
from constraints.models import (
    DATE_PATTERNS,
    Categorical,
    ConstraintSet,
    Evidence,
    ForeignKey,
    Format,
    FunctionalDependency,
    NotNull,
    Ordering,
    Origin,
    PrimaryKey,
    Range,
    SourceInfo,
    Unique,
    Validation,
    ValidationStatus,
    ValueSource,
)
from verify.schema import Schema, SchemaError, Table, quote_ident
from verify.schema_io import schema_from_sqlite

__all__ = [
    "MineSettings",
    "mine_database",
    "file_sha256",
    "holds",
    "DATE_REGEXES",
    "ColumnStats",
    "connect_readonly",
    "column_stats",
    "sample_table",
]

# The text each named date/time pattern of `DATE_PATTERNS` matches (also used by `constraints.realism`).
DATE_REGEXES = {
    "date": re.compile(r"\d{4}-[01]\d-[0-3]\d"),
    "datetime": re.compile(r"\d{4}-[01]\d-[0-3]\d [0-2]\d:[0-5]\d:[0-5]\d"),
    "time": re.compile(r"[0-2]\d:[0-5]\d:[0-5]\d"),
}


class MineSettings(BaseModel):
    """Thresholds of the miner (see the module docstring)."""

    min_rows: int = Field(5, ge=1, description="tables with fewer rows yield no mined constraint")
    min_support: int = Field(3, ge=1, description="FD: repeated left-hand values; ordering: rows with A < B")
    max_categories: int = Field(12, ge=1, description="most distinct values of a categorical column")
    min_category_rows: float = Field(2.0, ge=1.0, description="non-NULL rows per category, on average")
    min_unique_rows: int = Field(50, ge=2, description="rows needed to call a non-key column unique")
    max_lhs: int = Field(2, ge=0, le=3, description="most columns on an FD's left-hand side (0: no FDs)")
    min_fd_rows: int = Field(20, ge=2, description="tables with fewer rows yield no FD")
    max_fd_columns: int = Field(16, ge=2, description="multi-column FD left sides only among this many columns")
    min_fd_repeat_share: float = Field(
        0.5, ge=0.0, le=1.0,
        description="FD: share of rows whose left-hand value occurs on two or more rows")
    max_order_ratio: float = Field(
        20.0, ge=1.0, description="ordering of numbers: medians within this factor of each other")
    sample_rows: int = Field(20000, ge=100, description="rows sampled for FD/ordering candidates")
    value_hints: int = Field(10, ge=0, description="observed values kept per column as hints (0: none)")
    exact_ranges: bool = Field(False, description="ranges are the observed min..max, not widened")
    kinds: list[str] | None = Field(None, description="mine only these kinds (None: all)")


def file_sha256(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def nice_range(lo: float, hi: float, integral: bool) -> tuple[int | float, int | float]:
    """The observed range [lo, hi] widened by its width on each side and rounded outward to
    the width's order of magnitude; not below 0 when lo >= 0.

    >>> nice_range(20, 60, True), nice_range(1990, 2020, True), nice_range(0.5, 9.5, False)
    ((0, 100), (1960, 2050), (0, 19))
    """
    width = hi - lo
    if width <= 0:
        width = max(1.0, abs(hi))
    step = 10 ** math.floor(math.log10(width))
    a = math.floor((lo - width) / step) * step
    b = math.ceil((hi + width) / step) * step
    if lo >= 0:
        a = max(a, 0)
    if hi <= 0:
        b = min(b, 0)
    if integral or (float(a).is_integer() and float(b).is_integer()):
        return int(a), int(b)
    return float(a), float(b)


class ColumnStats(BaseModel):
    """One column's statistics over all rows of its table (see `column_stats`)."""

    name: str
    nonnull: int
    distinct: int
    n_int: int
    n_real: int
    n_text: int
    n_blob: int
    min: Any = None
    max: Any = None
    min_len: int | None = None
    max_len: int | None = None

    @property
    def numeric(self) -> bool:
        return self.nonnull > 0 and self.n_int + self.n_real == self.nonnull

    @property
    def text(self) -> bool:
        return self.nonnull > 0 and self.n_text == self.nonnull


def connect_readonly(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open a SQLite database read-only, undecodable text replaced; `SchemaError` if it is missing."""
    p = Path(path)
    if not p.is_file():
        raise SchemaError(f"cannot read SQLite database {str(path)!r}: no such file")
    con = sqlite3.connect(p.resolve().as_uri() + "?mode=ro", uri=True)
    con.text_factory = lambda b: b.decode("utf-8", errors="replace")
    return con


def column_stats(con: sqlite3.Connection, t: Table) -> tuple[int, list[ColumnStats]]:
    """The row count of `t` and its columns' statistics, from one aggregate query over all rows."""
    q = quote_ident(t.name)
    parts = ["COUNT(*)"]
    for c in t.columns:
        x = quote_ident(c.name)
        parts += [
            f"COUNT({x})", f"COUNT(DISTINCT {x})",
            f"SUM(typeof({x}) = 'integer')", f"SUM(typeof({x}) = 'real')",
            f"SUM(typeof({x}) = 'text')", f"SUM(typeof({x}) = 'blob')",
            f"MIN({x})", f"MAX({x})",
            f"MIN(CASE WHEN typeof({x}) = 'text' THEN length({x}) END)",
            f"MAX(CASE WHEN typeof({x}) = 'text' THEN length({x}) END)",
        ]
    row = con.execute(f"SELECT {', '.join(parts)} FROM {q}").fetchone()
    n = row[0]
    stats = []
    for i, c in enumerate(t.columns):
        v = row[1 + 10 * i: 11 + 10 * i]
        stats.append(ColumnStats(
            name=c.name, nonnull=v[0], distinct=v[1], n_int=v[2] or 0, n_real=v[3] or 0,
            n_text=v[4] or 0, n_blob=v[5] or 0, min=v[6], max=v[7], min_len=v[8], max_len=v[9],
        ))
    return n, stats


def sample_table(con: sqlite3.Connection, t: Table, n: int, limit: int) -> list[tuple]:
    """All rows of `t` (which has `n`) if at most `limit`, else about `limit` spread by rowid."""
    cols = ", ".join(quote_ident(c.name) for c in t.columns)
    q = quote_ident(t.name)
    if n <= limit:
        return con.execute(f"SELECT {cols} FROM {q}").fetchall()
    step = math.ceil(n / limit)
    try:
        return con.execute(f"SELECT {cols} FROM {q} WHERE rowid % {step} = 0").fetchall()
    except sqlite3.Error:  # WITHOUT ROWID
        return con.execute(f"SELECT {cols} FROM {q} LIMIT {limit}").fetchall()


def holds(con: sqlite3.Connection, t: Table, c: Any) -> bool:
    """Does constraint `c` hold on every row of table `t` (SQL over all rows)?"""
    q = quote_ident(t.name)
    if isinstance(c, (Range, Categorical, Ordering, Format)):
        for e in check_expressions(c, t):
            if con.execute(f"SELECT EXISTS (SELECT 1 FROM {q} WHERE NOT ({e}))").fetchone()[0]:
                return False
        return True
    if isinstance(c, NotNull):
        x = quote_ident(c.column)
        return not con.execute(f"SELECT EXISTS (SELECT 1 FROM {q} WHERE {x} IS NULL)").fetchone()[0]
    if isinstance(c, Unique):
        cols = [quote_ident(x) for x in c.columns()]
        nn = " AND ".join(f"{x} IS NOT NULL" for x in cols)
        return not con.execute(
            f"SELECT EXISTS (SELECT 1 FROM {q} WHERE {nn} GROUP BY {', '.join(cols)} "
            f"HAVING COUNT(*) > 1)").fetchone()[0]
    if isinstance(c, FunctionalDependency):
        return _fd_violations(con, t, c.lhs, c.rhs) == 0
    return True


def _fd_violations(con: sqlite3.Connection, t: Table, lhs: list[str], rhs: list[str]) -> int:
    q = quote_ident(t.name)
    a = [quote_ident(x) for x in lhs]
    nn = " AND ".join(f"{x} IS NOT NULL" for x in a)
    bad = " OR ".join(
        f"COUNT(DISTINCT {quote_ident(b)}) > 1 OR (COUNT({quote_ident(b)}) > 0 "
        f"AND COUNT({quote_ident(b)}) < COUNT(*))" for b in rhs)
    return con.execute(
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {q} WHERE {nn} GROUP BY {', '.join(a)} HAVING {bad})"
    ).fetchone()[0]


def _fd_support(con: sqlite3.Connection, t: Table, lhs: list[str]) -> int:
    q = quote_ident(t.name)
    a = [quote_ident(x) for x in lhs]
    nn = " AND ".join(f"{x} IS NOT NULL" for x in a)
    return con.execute(
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {q} WHERE {nn} GROUP BY {', '.join(a)} "
        f"HAVING COUNT(*) > 1)").fetchone()[0]


def mine_database(
    path: str | os.PathLike[str],
    settings: MineSettings | None = None,
    *,
    db_id: str | None = None,
    schema: Schema | None = None,
) -> ConstraintSet:
    """Mine the constraints of the SQLite database at `path` (opened read-only)."""
    settings = settings or MineSettings()
    schema = schema or schema_from_sqlite(path, sample_size=0)
    sha = file_sha256(path)
    src = str(path)
    con = connect_readonly(path)
    started = time.monotonic()
    out = ConstraintSet(
        db_id=db_id or Path(path).stem,
        source=SourceInfo(path=src, sha256=sha),
        settings=settings.model_dump(),
    )
    try:
        for t in schema.tables:
            out.constraints.extend(_declared(t))
            try:
                n, stats = column_stats(con, t)
            except sqlite3.Error as e:
                raise SchemaError(f"cannot read table {t.name!r} of {src!r}: {e}") from e
            out.source.tables[t.name] = n
            if n < settings.min_rows:
                continue
            miner = _TableMiner(con, t, n, stats, settings, src, sha)
            for c in miner.run():
                if not holds(con, t, c):  # belt and braces: nothing unverified is written
                    raise AssertionError(f"mined constraint does not hold: {c.describe()}")
                out.constraints.append(c)
    finally:
        con.close()
    out.settings["seconds"] = round(time.monotonic() - started, 3)
    return out


def _declared(t: Table) -> list[Any]:
    ok = Validation(status=ValidationStatus.ACCEPTED, reason="declared in the schema")
    out: list[Any] = []
    if t.primary_key:
        out.append(PrimaryKey(table=t.name, columns=t.primary_key, validation=ok))
    for u in t.unique:
        out.append(Unique(table=t.name, columns=u, origin=Origin.DECLARED, validation=ok))
    for c in t.columns:
        if c.not_null:
            out.append(NotNull(table=t.name, column=c.name, origin=Origin.DECLARED, validation=ok))
    for fk in t.foreign_keys:
        out.append(ForeignKey(table=t.name, columns=fk.columns, ref_table=fk.ref_table,
                              ref_columns=fk.ref_columns, validation=ok))
    return out


class _TableMiner:
    def __init__(self, con: sqlite3.Connection, t: Table, n: int, stats: list[ColumnStats],
                 settings: MineSettings, src: str, sha: str) -> None:
        self.con, self.t, self.n, self.stats, self.s = con, t, n, stats, settings
        self.src, self.sha = src, sha
        self.by_name = {st.name: st for st in stats}
        keyish = set(t.primary_key)
        for fk in t.foreign_keys:
            keyish |= set(fk.columns)
        self.keyish = {k.lower() for k in keyish}
        self.keys = [t.primary_key, *t.unique]
        self.categorical: set[str] = set()
        self.patterns: dict[str, str] = {}
        self._rows: list[tuple] | None = None

    def want(self, kind: str) -> bool:
        return self.s.kinds is None or kind in self.s.kinds

    def ev(self, support: int, observed: str = "") -> Evidence:
        return Evidence(rows_checked=self.n, support=support, observed=observed,
                        source=self.src, source_sha256=self.sha)

    @property
    def rows(self) -> list[tuple]:
        if self._rows is None:
            self._rows = sample_table(self.con, self.t, self.n, self.s.sample_rows)
        return self._rows

    def run(self) -> list[Any]:
        out: list[Any] = []
        out += self.not_null()
        out += self.categorical_and_ranges()
        out += self.formats()
        out += self.unique()
        if self.want("fd") and self.s.max_lhs >= 1 and self.n >= self.s.min_fd_rows:
            out += self.fds()
        if self.want("ordering"):
            out += self.orderings()
        if self.want("values") and self.s.value_hints > 0:
            out += self.value_hints()
        return out

    # ---------------------------------------------------------------- single columns

    def not_null(self) -> list[Any]:
        if not self.want("not_null"):
            return []
        return [NotNull(table=self.t.name, column=c.name, evidence=self.ev(self.n))
                for c, st in zip(self.t.columns, self.stats)
                if st.nonnull == self.n and not c.not_null]

    def categorical_and_ranges(self) -> list[Any]:
        out: list[Any] = []
        for st in self.stats:
            if st.nonnull < self.s.min_rows or st.n_blob:
                continue
            key = st.name.lower() in self.keyish
            if (not key and st.distinct <= self.s.max_categories and st.n_real == 0
                    and st.nonnull >= self.s.min_category_rows * st.distinct):
                self.categorical.add(st.name)
                if self.want("categorical"):
                    q, x = quote_ident(self.t.name), quote_ident(st.name)
                    vals = [r[0] for r in self.con.execute(
                        f"SELECT DISTINCT {x} FROM {q} WHERE {x} IS NOT NULL ORDER BY {x}")]
                    out.append(Categorical(table=self.t.name, column=st.name, values=vals,
                                           evidence=self.ev(st.nonnull, f"{len(vals)} values")))
                continue
            if st.numeric and not key and self.want("range"):
                integral = st.n_real == 0
                lo, hi = (st.min, st.max) if self.s.exact_ranges else nice_range(st.min, st.max, integral)
                out.append(Range(table=self.t.name, column=st.name, min=lo, max=hi,
                                 evidence=self.ev(st.nonnull, f"{st.min}..{st.max}")))
        return out

    def formats(self) -> list[Any]:
        out: list[Any] = []
        q = quote_ident(self.t.name)
        for st in self.stats:
            if not st.text or st.nonnull < self.s.min_rows or st.name in self.categorical:
                continue
            x = quote_ident(st.name)
            pattern = None
            for name, (glob, _human) in DATE_PATTERNS.items():
                if st.min_len == st.max_len == len(_human) and not self.con.execute(
                        f"SELECT EXISTS (SELECT 1 FROM {q} WHERE NOT ({x} GLOB ?))", (glob,)).fetchone()[0]:
                    pattern = name
                    break
            if pattern:
                self.patterns[st.name] = pattern
                if self.want("format"):
                    out.append(Format(table=self.t.name, column=st.name, pattern=pattern,
                                      evidence=self.ev(st.nonnull, DATE_PATTERNS[pattern][1])))
                continue
            if not self.want("format"):
                continue
            assert st.min_len is not None and st.max_len is not None
            charset = self._charset(st)
            if st.name.lower() in self.keyish and charset == "0-9":
                continue  # numeric identifiers stored as text: their length says nothing
            if st.min_len == st.max_len and st.max_len >= 2:
                lo, hi = st.min_len, st.max_len
            else:
                lo = 1 if st.min_len >= 1 else 0
                hi = max(10, math.ceil(2 * st.max_len / 10) * 10)
            out.append(Format(table=self.t.name, column=st.name, min_length=lo, max_length=hi,
                              charset=charset,
                              evidence=self.ev(st.nonnull, f"lengths {st.min_len}..{st.max_len}")))
        return out

    def _charset(self, st: ColumnStats) -> str | None:
        i = self.t.index(st.name)
        seen: set[str] = set()
        for r in self.rows:
            v = r[i]
            if isinstance(v, str):
                seen.update(v)
        body = observed_charset(seen)
        if body is None:
            return None
        probe = Format(table=self.t.name, column=st.name, charset=body)
        return body if holds(self.con, self.t, probe) else None

    def unique(self) -> list[Any]:
        if not self.want("unique"):
            return []
        out = []
        for st in self.stats:
            if (st.nonnull >= self.s.min_unique_rows and st.distinct == st.nonnull and st.n_real == 0
                    and not st.n_blob and not any(len(k) == 1 and k[0].lower() == st.name.lower()
                                                  for k in self.keys if k)):
                c = Unique(table=self.t.name, columns=[st.name], evidence=self.ev(st.nonnull))
                if holds(self.con, self.t, c):
                    out.append(c)
        return out

    def value_hints(self) -> list[Any]:
        out = []
        q = quote_ident(self.t.name)
        for st in self.stats:
            if st.name in self.categorical or st.nonnull == 0 or st.n_blob:
                continue
            if st.distinct == st.nonnull and st.name.lower() in self.keyish:
                continue  # identifiers: any value reads naturally
            x = quote_ident(st.name)
            vals = [r[0] for r in self.con.execute(
                f"SELECT {x} FROM {q} WHERE {x} IS NOT NULL GROUP BY {x} "
                f"ORDER BY COUNT(*) DESC, {x} LIMIT ?", (self.s.value_hints,))]
            out.append(ValueSource(table=self.t.name, column=st.name, values=vals,
                                   evidence=self.ev(st.nonnull, f"{st.distinct} distinct")))
        return out

    # ---------------------------------------------------------------- dependencies

    def fds(self) -> list[Any]:
        rows = self.rows
        ncol = len(self.t.columns)
        # value codes per column (NULL is its own code), computed once
        codes: list[list[int]] = []
        for i in range(ncol):
            m: dict[Any, int] = {}
            codes.append([m.setdefault(_norm(r[i]), len(m)) for r in rows])
        null_code = [{k for k, r in zip(codes[i], rows) if r[i] is None} for i in range(ncol)]
        stats = self.stats
        keys = [{x.lower() for x in k} for k in self.keys if k]

        def is_key(cols: list[int]) -> bool:
            names = {self.t.columns[i].name.lower() for i in cols}
            return any(k <= names for k in keys)

        lhs_ok = [st.distinct >= 2 and st.distinct < st.nonnull and not st.n_blob
                  and st.n_real == 0 for st in stats]
        rhs_ok = [not st.n_blob and (st.distinct >= 2 or 0 < st.nonnull < self.n) for st in stats]
        found: list[Any] = []
        determined: dict[int, list[tuple[int, ...]]] = {b: [] for b in range(ncol)}
        max_lhs = min(self.s.max_lhs, 3)
        for size in range(1, max_lhs + 1):
            pool = [i for i in range(ncol) if lhs_ok[i]]
            if size > 1:
                pool = pool[: self.s.max_fd_columns]
            for lhs in combinations(pool, size):
                if is_key(list(lhs)):
                    continue
                keep = [j for j, r in enumerate(rows) if all(codes[i][j] not in null_code[i] for i in lhs)]
                if size == 1:
                    gid = [codes[lhs[0]][j] for j in keep]
                else:
                    gid = [tuple(codes[i][j] for i in lhs) for j in keep]
                groups = Counter(gid)
                repeated = [v for v in groups.values() if v > 1]
                if len(repeated) < self.s.min_support or sum(repeated) < self.s.min_fd_repeat_share * len(gid):
                    continue
                ng = len(groups)
                for b in range(ncol):
                    if b in lhs or not rhs_ok[b]:
                        continue
                    if any(set(d) <= set(lhs) for d in determined[b]):
                        continue  # a smaller left side already determines b
                    if len(set(zip(gid, (codes[b][j] for j in keep)))) != ng:
                        continue
                    names = [self.t.columns[i].name for i in lhs]
                    rname = self.t.columns[b].name
                    if _fd_violations(self.con, self.t, names, [rname]):
                        continue
                    support = _fd_support(self.con, self.t, names)
                    if support < self.s.min_support:
                        continue
                    determined[b].append(lhs)
                    found.append(FunctionalDependency(
                        table=self.t.name, lhs=names, rhs=[rname],
                        evidence=self.ev(support, f"{support} repeated left-hand values")))
        # deterministic order: by left-hand side size, then schema order
        return found

    def orderings(self) -> list[Any]:
        cands = []
        for st in self.stats:
            if st.name.lower() in self.keyish or st.nonnull < self.s.min_rows:
                continue
            if st.numeric:
                cands.append((st, "num"))
            elif st.name in self.patterns:
                cands.append((st, self.patterns[st.name]))
        out = []
        rows = self.rows
        for (a, fa), (b, fb) in combinations(cands, 2):
            if fa != fb:
                continue
            ia, ib = self.t.index(a.name), self.t.index(b.name)
            for (x, ix), (y, iy) in (((a, ia), (b, ib)), ((b, ib), (a, ia))):
                # x <= y; for numbers, skip when the (mined) ranges already imply it
                if fa == "num" and not (x.max > y.min):
                    continue
                both = [(r[ix], r[iy]) for r in rows if r[ix] is not None and r[iy] is not None]
                if not both or any(u > v for u, v in both):
                    continue
                strict = sum(1 for u, v in both if u < v)
                if strict < self.s.min_support:
                    continue
                if fa == "num" and not _same_magnitude([u for u, _ in both], [v for _, v in both],
                                                       self.s.max_order_ratio):
                    continue
                c = Ordering(table=self.t.name, left=x.name, right=y.name, text=fa != "num",
                             evidence=self.ev(0))
                if not holds(self.con, self.t, c):
                    continue
                q = quote_ident(self.t.name)
                support = self.con.execute(
                    f"SELECT COUNT(*) FROM {q} WHERE {quote_ident(x.name)} IS NOT NULL "
                    f"AND {quote_ident(y.name)} IS NOT NULL").fetchone()[0]
                c.evidence = self.ev(support, f"{strict} of {len(both)} sampled rows strictly less")
                out.append(c)
        return out


def _same_magnitude(xs: list[Any], ys: list[Any], ratio: float) -> bool:
    """Medians of two positive samples within `ratio` of each other (an ordering between
    quantities of different scales, e.g. life expectancy <= population, is a coincidence)."""
    mx, my = sorted(xs)[len(xs) // 2], sorted(ys)[len(ys) // 2]
    if mx <= 0 or my <= 0:
        return mx == my or (mx <= 0 and my <= 0) or max(abs(mx), abs(my)) <= ratio
    return max(mx, my) / min(mx, my) <= ratio


def _norm(v: Any) -> Any:
    """Group key of a value as SQLite's `=` sees it (1 = 1.0)."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def observed_charset(seen: set[str]) -> str | None:
    """A GLOB character class covering the characters seen, widened to whole classes (any
    digit, any upper-case or lower-case ASCII letter; other characters as they are), or None
    when nothing was seen or a character is not printable ASCII.

        >>> observed_charset({"a", "B", "7", "-"}) == glob_class("".join(
        ...     [chr(c) for c in range(97, 123)] + [chr(c) for c in range(65, 91)] + list("0123456789-")))
        True
    """
    if not seen or any(not (32 <= ord(ch) < 127) for ch in seen):
        return None
    chars: set[str] = set()
    for ch in seen:
        if ch.isdigit():
            chars.update("0123456789")
        elif ch.isupper():
            chars.update(chr(c) for c in range(65, 91))
        elif ch.islower():
            chars.update(chr(c) for c in range(97, 123))
        else:
            chars.add(ch)
    return glob_class("".join(chars))
