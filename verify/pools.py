"""Value pools: the values the random pass draws cells from and the minimizer prefers —
the queries' literals, their numeric neighbours and case variants, date-shaped text near the
years they write, real values sampled from the database — and the instants at which queries
that read the clock are tried.
"""

from __future__ import annotations

import datetime
import re
import sqlite3
from typing import Any

import sqlglot
from sqlglot import exp

from verify import ir
from verify.engine import sqlite_value
from verify.names import FuncName
from verify.randomdb import default_pool
from verify.schema import Schema, Table, is_date_type, quote_ident


def value_pools(prep, weighted: bool = True) -> dict[tuple[str, str], list[Any]]:
    """Values for the random pass and the minimizer: literals of the queries, their numeric
    neighbours and case variants, and real values sampled from the database, each once; when
    `weighted`, the literals a query compares a column with are drawn about half the time
    (`weighted_to_compared`)."""
    lits: list[Any] = []
    for tree in (prep.gold_tree, prep.gen_tree):
        for lit in tree.find_all(exp.Literal):
            if lit.is_string:
                s = lit.this
                if s.lower() == "now":  # a cell holding 'now' would make SQLite read its own clock
                    continue
                lits += [s, s.lower(), s.upper(), s.capitalize()] + date_neighbours(s)
            else:
                v = _number(lit.this)
                if isinstance(v, int):
                    lits += [v - 1, v, v + 1]
                elif isinstance(v, float):
                    lits += [v, v - 0.5, v + 0.5]
    nums = [v for v in lits if isinstance(v, (int, float))]
    texts = [v for v in lits if isinstance(v, str)]
    if _uses_dates(prep):  # time values at and around the queries' years, and a few generic ones
        years = sorted({int(t[:4]) for t in texts if t[:4].isascii() and t[:4].isdigit()} | {int(v) for v in nums
                       if isinstance(v, int) and 1000 <= v <= 9999})
        # each year's first and last instants; for a year a query compares in a range, also the
        # last one before it and the first after it (`strftime('%Y', d) < '1986'` needs a day of
        # 1985; for `= '2019'` they would only thin out the days of 2019)
        ranged = _years_in_ranges(prep)
        texts += [f"{yy}-{md}" for y in years for yy, md in ((y - 1, "12-31 23:59:59"), (y, "01-01"),
                                                              (y, "12-31 23:59:59"), (y + 1, "01-01"))
                  if (yy == y or y in ranged) and 1000 <= yy <= 9999]
        texts += ["2000-02-29", "1990-06-15 12:30:00", "2024-11-05"]
        texts += other_date_formats(texts)  # for text columns: the date functions see NULL
    pools: dict[tuple[str, str], list[Any]] = {}
    for t in prep.schema.tables:
        for c in t.columns:
            sample = prep.schema.sample_values(t.name, c.name)[:8]
            if c.kind == "int":
                lits, generic = [int(v) for v in nums if float(v).is_integer()], [0, 1, 2]
            elif c.kind in ("real", "num"):
                lits, generic = nums, [0, 1, 2]
            elif c.kind == "text" and is_date_type(c.type):  # holds dates (the verifier assumes so)
                lits, generic = [v for v in texts if is_time_value(v)], ["2000-01-01", "2000-01-02 12:00:00"]
                sample = [v for v in sample if isinstance(v, str) and is_time_value(v)]
            elif c.kind == "text":
                lits, generic = texts, ["a", "b"]
            else:
                continue
            # most natural first: the queries' own literals, then real values, then generic ones
            pools[(t.name.lower(), c.name.lower())] = dedupe(lits + list(sample) + generic)
    pools = fit_to_checks(prep.data_schema, pools)
    return weighted_to_compared(pools, compared_literals(prep)) if weighted else pools


_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In, exp.Like, exp.ILike, exp.Glob,
                exp.Between)


def compared_literals(prep) -> dict[str, list[Any]]:
    """Per column name (lower case), the literals the queries compare the column itself with: a
    comparison, IN, LIKE, GLOB or BETWEEN whose operands are that column and literals (`name =
    'x'`, `g IN (1, 2)`). Not through a function: for `strftime('%Y', d) <= '2008'` or
    `SUBSTR(d, 1, 7) = '2009-04'` the literal is no value of d. By name: a literal compared with
    `t.name` counts for every table's `name` column."""
    out: dict[str, list[Any]] = {}
    for tree in (prep.gold_tree, prep.gen_tree):
        for node in tree.find_all(*_COMPARISONS):
            operands = list(node.iter_expressions())
            columns = [o for o in operands if isinstance(o, exp.Column)]
            if len(columns) != 1 or any(not isinstance(o, (exp.Column, exp.Literal)) for o in operands):
                continue
            for lit in operands:
                if not isinstance(lit, exp.Literal):
                    continue
                value = lit.this if lit.is_string else _number(lit.this)
                if value is not None:
                    out.setdefault(columns[0].name.lower(), []).append(value)
    return out


def joined_columns(prep) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Per column (table, column, lower case), the columns of other tables the queries equate it
    with and no declared foreign key links it to: `a.x = b.y`, `x = (SELECT y FROM ...)`, `x IN
    (SELECT y FROM ...)`. The random pass draws such a column's value from the other's values
    about half the time (`verify.randomdb.draw_database`), as it does for a foreign key always,
    so that rows meet as the queries join them: a `match` row of the league named in the WHERE,
    say, where no foreign key says matches have leagues. Columns are resolved by the tables and
    aliases the queries name (an unqualified one by the only table read that has it); a column
    that does not resolve is left out. Only which values are drawn how often changes.

        >>> from types import SimpleNamespace
        >>> from verify.schema_io import schema_from_ddl
        >>> s = schema_from_ddl("CREATE TABLE a (id INT PRIMARY KEY); CREATE TABLE b (aid INT, n TEXT);")
        >>> t = sqlglot.parse_one("SELECT n FROM b WHERE aid IN (SELECT id FROM a)")
        >>> joined_columns(SimpleNamespace(gold_tree=t, gen_tree=t, schema=s))
        {('b', 'aid'): [('a', 'id')], ('a', 'id'): [('b', 'aid')]}
    """
    schema: Schema = prep.schema
    linked: set[tuple[tuple[str, str], tuple[str, str]]] = set()
    for t in schema.tables:
        for fk in t.foreign_keys:
            for c, rc in zip(fk.columns, fk.ref_columns):
                linked.add(((t.name.lower(), c.lower()), (fk.ref_table.lower(), rc.lower())))
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for tree in (prep.gold_tree, prep.gen_tree):
        resolve = _column_resolver(tree, schema)
        for node in tree.find_all(exp.EQ, exp.In):
            pair = [resolve(o) for o in _equated(node)]
            if len(pair) != 2 or None in pair or pair[0][0] == pair[1][0]:
                continue
            a, b = pair
            if (a, b) in linked or (b, a) in linked:
                continue
            for x, y in ((a, b), (b, a)):
                if y not in out.setdefault(x, []):
                    out[x].append(y)
    return out


def _equated(node: exp.Expression) -> list[exp.Expression]:
    """The two column operands of `x = y`, `x = (SELECT y ...)` or `x IN (SELECT y ...)`, else
    fewer."""
    def column(e: exp.Expression | None) -> exp.Expression | None:
        if isinstance(e, exp.Subquery):
            e = e.this
        if isinstance(e, exp.Select) and len(e.expressions) == 1:
            e = e.expressions[0]
        return e if isinstance(e, exp.Column) else None

    if isinstance(node, exp.In):
        operands = [node.this, node.args.get("query")] if node.args.get("query") is not None else []
    else:
        operands = [node.this, node.expression]
    found = [column(o) for o in operands]
    return [c for c in found if c is not None]


def _column_resolver(tree: exp.Expression, schema: Schema):
    """A function from a column node of `tree` to its (table, column), lower case, or None."""
    aliases: dict[str, str] = {}
    for t in tree.find_all(exp.Table):
        aliases.setdefault(t.alias_or_name.lower(), t.name.lower())
    known = {t.name.lower(): {c.name.lower() for c in t.columns} for t in schema.tables}
    read = [name for name in dict.fromkeys(aliases.values()) if name in known]

    def resolve(c: exp.Expression) -> tuple[str, str] | None:
        name = c.name.lower()
        if c.table:
            table = aliases.get(c.table.lower())
            return (table, name) if table in known and name in known[table] else None
        having = [t for t in read if name in known[t]]
        return (having[0], name) if len(having) == 1 else None

    return resolve


def _number(text: str) -> int | float | None:
    """A numeric literal's value (an integer where it is one), None for anything else."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return None


def weighted_to_compared(pools: dict[tuple[str, str], list[Any]],
                         compared: dict[str, list[Any]]) -> dict[tuple[str, str], list[Any]]:
    """Each pool with the values the queries compare its column with (`compared_literals`, those
    the pool holds) repeated until they make up about half of it, so that a random database meets
    the queries' conditions often: a row with `name = 'Belgium Jupiler League'` and one with `date =
    '2009-04'` together, say. Only how often a value is drawn changes, not which values can be.

        >>> weighted_to_compared({("t", "a"): [1, 2, 3, 4]}, {"a": [2, 9]})
        {('t', 'a'): [1, 2, 3, 4, 2, 2, 2, 2]}
    """
    out = {}
    for (table, column), pool in pools.items():
        hot = [v for v in dedupe(compared.get(column, [])) if any(v == p and type(v) is type(p) for p in pool)]
        out[(table, column)] = pool + hot * (len(pool) // len(hot)) if hot else pool
    return out


def fit_to_checks(schema: Schema, pools: dict[tuple[str, str], list[Any]]) -> dict[tuple[str, str], list[Any]]:
    """Each column's pool without the values its own CHECKs reject, and with the values they
    name (an IN list's members, a BETWEEN's ends and their neighbours) after the pool's own.

    Only checks that read one column are used; SQLite judges each value in a table of the
    column's declared type, so affinity applies as it will in the database. Without this the
    random pass, drawing from all values, would rarely build a database that mined constraints
    (dozens of checks per table) allow. A column no value fits keeps an empty pool (NULL, or
    the default values, which the database then rejects).

        >>> from verify.schema import Affinity, Column, Table
        >>> s = Schema(tables=[Table(name="t", columns=[Column(name="a", type="INT", affinity=Affinity.INTEGER)],
        ...                          checks=['"a" BETWEEN 5 AND 7'])])
        >>> fit_to_checks(s, {("t", "a"): [0, 1, 6, 9]})[("t", "a")]
        [6, 5, 7]
    """
    out = dict(pools)
    for t in schema.tables:
        for name, checks in single_column_checks(t).items():
            c = t.column(name)
            key = (t.name.lower(), c.name.lower())
            named = [v for check in checks for v in _check_values(check) if _fits_kind(c, v)]
            out[key] = allowed_values(t, c.name, checks, dedupe(list(out.get(key) or default_pool(c)) + named))
    return out


def single_column_checks(t: Table) -> dict[str, list[str]]:
    """The table's CHECKs that read one column, by the column's lower-cased name."""
    out: dict[str, list[str]] = {}
    for check in t.checks:
        tree = _parse_check(check)
        names = {c.name.lower() for c in tree.find_all(exp.Column)} if tree is not None else set()
        if len(names) == 1 and t.has_column(next(iter(names))):
            out.setdefault(next(iter(names)), []).append(check)
    return out


def allowed_values(t: Table, column: str, checks: list[str], values: list[Any]) -> list[Any]:
    """The values (NULL included) that no check in `checks`, each reading only `column`, finds
    false, judged by SQLite in a table of `t`'s declared types, so affinity applies as in the
    database. If SQLite cannot evaluate a check, every value is returned (the database judges)."""
    bare = Table(name=t.name, columns=[c.model_copy(update={"not_null": False}) for c in t.columns])
    table, col = quote_ident(t.name), quote_ident(t.column(column).name)
    probe = sqlite3.connect(":memory:")
    try:
        probe.executescript(Schema(tables=[bare]).ddl("sqlite"))
        probe.executemany(f"INSERT INTO {table} (rowid, {col}) VALUES (?, ?)",
                          [(i, sqlite_value(v)) for i, v in enumerate(values)])
        bad: set[int] = set()
        for check in checks:
            bad |= {r[0] for r in probe.execute(f"SELECT rowid FROM {table} WHERE NOT ({check})")}
    except sqlite3.Error:
        return list(values)
    finally:
        probe.close()
    return [v for i, v in enumerate(values) if i not in bad]


def _parse_check(check: str) -> exp.Expression | None:
    """The check's syntax tree, or None if sqlglot cannot read it (the check is then left to
    the database to enforce)."""
    try:
        return sqlglot.parse_one(check, read="sqlite")
    except sqlglot.errors.SqlglotError:
        return None


def _check_values(check: str) -> list[Any]:
    """The literals a check names, numbers with their neighbours (v - 1, v + 1)."""
    out: list[Any] = []
    tree = _parse_check(check)
    for lit in tree.find_all(exp.Literal) if tree is not None else []:
        if lit.is_string:
            out.append(lit.this)
            continue
        sign = -1 if isinstance(lit.parent, exp.Neg) else 1
        try:
            v = sign * int(lit.this)
            out += [v, v - 1, v + 1]
        except ValueError:
            try:
                f = sign * float(lit.this)
                out += [f, f - 1, f + 1]
            except ValueError:
                pass
    return out


def _fits_kind(c, v: Any) -> bool:
    """Would `value_pools` put `v` into column `c`'s pool (numbers into numeric columns, date
    text into date columns, other text into text columns)?"""
    if c.kind == "int":
        return isinstance(v, (int, float)) and float(v).is_integer()
    if c.kind in ("real", "num"):
        return isinstance(v, (int, float))
    if c.kind == "text":
        return isinstance(v, str) and (is_time_value(v) or not is_date_type(c.type))
    return False


_TIME_VALUE = re.compile(r"(\d{4})-(\d{2})-(\d{2})([ T]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?)?")


def is_time_value(v: Any) -> bool:
    """A text the verifier's date assumption allows ('YYYY-MM-DD[ HH:MM[:SS[.SSS]]]', a day that
    exists; `verify.strings.DATE_NOTE`): the random pass puts only such values in a column
    declared as a date, so that what it finds lies where the proofs look."""
    m = _TIME_VALUE.fullmatch(v) if isinstance(v, str) else None
    if m is None:
        return False
    try:
        datetime.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return False
    return True


def date_neighbours(text: str) -> list[str]:
    """Date-shaped text around a date the query writes, as numbers get v - 1 and v + 1: that
    day at midnight and at noon, and the days before and after ('2014-09-01' gives
    '2014-09-01 00:00:00', '2014-09-01 12:00:00', '2014-08-31', '2014-09-02')."""
    try:
        day = datetime.date.fromisoformat(text[:10]) if len(text) >= 10 and text[4:5] == "-" else None
    except ValueError:
        day = None
    if day is None or not 1 < day.year < 9999:
        return []
    out = [f"{day} 00:00:00", f"{day} 12:00:00"]
    for other in (day - datetime.timedelta(days=1), day + datetime.timedelta(days=1)):
        out.append(str(other) + text[10:])  # the same shape: with the time of day, if it had one
    return [t for t in out if t != text]


def other_date_formats(texts: list[str]) -> list[str]:
    """The dates of `texts` written as SQLite's date functions cannot read them, as text
    columns of real databases often hold them ('2014-09-01' gives '2014/09/01' and '09/01/2014'):
    where a query reads a column declared `text` with a date function, such a value is NULL
    to the function but not to, say, SUBSTR (a column declared as a date is assumed to hold
    valid dates, and its pool keeps only those).

        >>> other_date_formats(["2014-09-01 12:00:00", "abc"])
        ['2014/09/01', '09/01/2014']
    """
    out = []
    for t in texts:
        if is_time_value(t):
            y, m, d = t[:4], t[5:7], t[8:10]
            out += [f"{y}/{m}/{d}", f"{m}/{d}/{y}"]
    return dedupe(out)


def instants_near_literals(prep) -> list[str]:
    """Instants at and just before the dates and years the queries write ('2000-01-01',
    '1999'), where a comparison with the current time changes its answer."""
    out: list[str] = []
    for tree in (prep.gold_tree, prep.gen_tree):
        for lit in tree.find_all(exp.Literal):
            text = lit.this if lit.is_string else ""
            try:
                day = datetime.date.fromisoformat(text[:10]) if len(text) >= 10 else (
                    datetime.date(int(text), 1, 1) if len(text) == 4 and text.isascii() and text.isdigit() else None)
            except ValueError:
                day = None
            if day is not None and 1970 < day.year < 2099:
                out += [f"{day} 00:00:00", f"{day - datetime.timedelta(days=1)} 23:59:59"]
    return out


def _years_in_ranges(prep) -> set[int]:
    """The years (a literal's first four digits) of the literals the queries compare with <,
    <=, >, >= or BETWEEN, directly or through a function (`strftime('%Y', d) < '1986'`)."""
    out: set[int] = set()
    for tree in (prep.gold_tree, prep.gen_tree):
        for node in tree.find_all(exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between):
            for lit in node.iter_expressions():
                text = lit.this if isinstance(lit, exp.Literal) else ""
                if text[:4].isascii() and text[:4].isdigit():
                    out.add(int(text[:4]))
    return out


def _uses_dates(prep) -> bool:
    """Does a query call a SQLite date function (so date-shaped text matters)?"""
    if prep.gold is None:
        return False
    names = (FuncName.STRFTIME, FuncName.STRFTIME_NUM, FuncName.DATE, FuncName.DATETIME, FuncName.JULIANDAY,
             FuncName.TIME)
    return any(isinstance(n, ir.Func) and n.name in names for n in ir.walk((prep.gold.rel, prep.gen.rel)))


def dedupe(vals: list[Any]) -> list[Any]:
    seen, out = set(), []
    for v in vals:
        key = (type(v).__name__, v)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out
