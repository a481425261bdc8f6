"""The current time, as the verifier models it: one instant that both queries read.

SQLite reads the clock in `CURRENT_TIMESTAMP`, `CURRENT_DATE`, `CURRENT_TIME`, the time value
`'now'` (`date('now')`, `strftime('%Y', 'now')`, ...) and the date functions called without a
time value (`datetime()`). The encoder treats that instant as one more unknown of the search (a
whole second, 'YYYY-MM-DD HH:MM:SS'), so a counterexample names a database *and* an instant.
The engine cannot be told what time it is, so to confirm a counterexample both queries are run
with the instant written into them as a literal (`pin_now`), which is what SQLite would have
computed at that instant:

    >>> pin_now("SELECT strftime('%Y', 'now') - strftime('%Y', birthday) FROM p", "2026-12-03 10:00:00")
    "SELECT strftime('%Y', '2026-12-03 10:00:00') - strftime('%Y', birthday) FROM p"
    >>> pin_now("SELECT CURRENT_DATE, datetime()", "2026-12-03 10:00:00")
    "SELECT '2026-12-03', datetime('2026-12-03 10:00:00')"
    >>> pin_now("SELECT 'now' FROM t", "2026-12-03 10:00:00")   # not a time value: kept
    "SELECT 'now' FROM t"

The rewrite works on sqlglot's tokens and splices the original text, so nothing else in the
query changes (quoting, double-quoted strings, spacing).
"""

from __future__ import annotations

import datetime
import random

import sqlglot
from sqlglot.tokens import TokenType

from verify.names import Dialect

# functions whose time value may be 'now' (or absent, meaning now); strftime's first argument
# is its format, so there 'now' counts from the second argument on
TIME_FUNCTIONS = {"date": 0, "time": 0, "datetime": 0, "julianday": 0, "unixepoch": 0, "strftime": 1,
                  "timediff": 0}
_KEYWORDS = {TokenType.CURRENT_TIMESTAMP: slice(0, 19), TokenType.CURRENT_DATE: slice(0, 10),
             TokenType.CURRENT_TIME: slice(11, 19)}
NOTE = ("both queries read the same current time (CURRENT_TIMESTAMP, 'now', ...), an instant "
        "between 1970 and 2099 (SQLite: to the second; DuckDB: to the microsecond, time zone UTC)")
DAY_MICROS = 86_400_000_000
END_MICROS = 47482 * DAY_MICROS  # 2100-01-01


def pin_now(sql: str, instant: str, dialect: Dialect | str = Dialect.SQLITE) -> str:
    """`sql` with every reading of the clock replaced by `instant` ('YYYY-MM-DD HH:MM:SS', with
    '.ffffff' for DuckDB if wanted). Text that does not tokenize is returned unchanged (the engine
    reports its error). DuckDB: CURRENT_TIMESTAMP becomes a TIMESTAMPTZ (UTC) literal and
    CURRENT_DATE a DATE literal:

        >>> pin_now("SELECT CURRENT_TIMESTAMP, CURRENT_DATE", "2026-12-03 00:00:00", "duckdb")
        "SELECT TIMESTAMPTZ '2026-12-03 00:00:00+00', DATE '2026-12-03'"
    """
    try:
        tokens = sqlglot.tokenize(sql, read=dialect)
    except Exception:  # noqa: BLE001 - a query the tokenizer rejects is the engine's to report
        return sql
    if dialect == Dialect.DUCKDB:
        typed = {TokenType.CURRENT_TIMESTAMP: f"TIMESTAMPTZ '{instant}+00'", TokenType.CURRENT_DATE: f"DATE '{instant[:10]}'"}
        for tok in reversed(tokens):
            if tok.token_type in typed:
                sql = sql[:tok.start] + typed[tok.token_type] + sql[tok.end + 1:]
        return sql
    edits: list[tuple[int, int, str]] = []  # (start, end inclusive, replacement)
    calls: list[tuple[str | None, int]] = []  # open parentheses: (function name, argument index)
    for i, tok in enumerate(tokens):
        kind = tok.token_type
        if kind in _KEYWORDS and not (i + 1 < len(tokens) and tokens[i + 1].token_type == TokenType.L_PAREN):
            edits.append((tok.start, tok.end, _quote(instant[_KEYWORDS[kind]])))
        elif kind == TokenType.L_PAREN:
            name = tokens[i - 1].text.lower() if i and tokens[i - 1].token_type not in (
                TokenType.STRING, TokenType.L_PAREN, TokenType.R_PAREN, TokenType.COMMA) else None
            calls.append((name, 0))
            if name in TIME_FUNCTIONS and TIME_FUNCTIONS[name] == 0 and i + 1 < len(tokens) \
                    and tokens[i + 1].token_type == TokenType.R_PAREN:
                edits.append((tok.end + 1, tok.end, _quote(instant)))  # datetime() -> datetime('...')
        elif kind == TokenType.R_PAREN and calls:
            calls.pop()
        elif kind == TokenType.COMMA and calls:
            name, arg = calls[-1]
            calls[-1] = (name, arg + 1)
        elif kind == TokenType.STRING and tok.text.lower() == "now" and calls:
            name, arg = calls[-1]
            if name in TIME_FUNCTIONS and arg >= TIME_FUNCTIONS[name]:
                edits.append((tok.start, tok.end, _quote(instant)))
    for start, end, text in sorted(edits, reverse=True):
        sql = sql[:start] + text + sql[end + 1:]
    return sql


def reads_clock(sql: str, dialect: Dialect | str = Dialect.SQLITE) -> bool:
    """Does the query read the current time (in a way `pin_now` can pin)?"""
    return pin_now(sql, "2000-01-01 00:00:00", dialect) != sql


def natural_instant() -> str:
    """The real current time (UTC, as SQLite's clock), to the second: the instant a
    counterexample is shown at whenever it works there."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def random_instant(rng: random.Random) -> str:
    """An instant between 1990 and 2040, for the random search's later passes."""
    start = datetime.datetime(1990, 1, 1)
    return (start + datetime.timedelta(seconds=rng.randrange(50 * 365 * 86400))).strftime("%Y-%m-%d %H:%M:%S")


def _quote(text: str) -> str:
    return "'" + text + "'"
