"""The current time: both queries read one instant, which the search chooses like any other
unknown, and every counterexample is confirmed by running the queries with that instant written
into them (`verify.clock.pin_now`)."""

from __future__ import annotations

import sqlite3

import duckdb
import pytest

from verify.check import check_pair
from verify.clock import pin_now, reads_clock
from verify.schema_io import schema_from_ddl
from verify.verdict import VerdictKind

SCHEMA = schema_from_ddl("CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT, birthday TEXT);")
AT = "2031-05-06 07:08:09"


@pytest.mark.parametrize("sql, pinned", [
    ("SELECT CURRENT_TIMESTAMP, current_date, Current_Time",
     f"SELECT '{AT}', '2031-05-06', '07:08:09'"),
    ("SELECT julianday('NOW') - julianday(birthday) FROM p",
     f"SELECT julianday('{AT}') - julianday(birthday) FROM p"),
    ("SELECT strftime('%Y', 'now'), date(), time( ), strftime('now', birthday) FROM p",   # a format is not a time
     f"SELECT strftime('%Y', '{AT}'), date('{AT}'), time('{AT}' ), strftime('now', birthday) FROM p"),
    ("SELECT date(lower('now')), 'now', name = 'now' FROM p", None),  # 'now' as plain text stays
    ("SELECT \"now\" FROM p", None),  # an identifier
])
def test_pin_now_rewrites_only_readings_of_the_clock(sql, pinned):
    assert pin_now(sql, AT) == (pinned if pinned is not None else sql)
    assert reads_clock(sql) == (pinned is not None)


def test_pinned_queries_compute_what_sqlite_computes_at_that_instant():
    """SQLite's own clock cannot be set, but its value at this moment can be read and pinned."""
    con = sqlite3.connect(":memory:")
    sql = "SELECT CURRENT_TIMESTAMP, date('now'), strftime('%Y-%m', 'now'), datetime()"
    now = con.execute("SELECT CURRENT_TIMESTAMP").fetchone()[0]
    assert con.execute(pin_now(sql, now)).fetchone() == con.execute(sql).fetchone() or \
        con.execute("SELECT CURRENT_TIMESTAMP").fetchone()[0] != now  # the second ticked meanwhile


def _run(script: str, sql: str, now: str):
    con = sqlite3.connect(":memory:")
    con.executescript(script)
    return sorted(con.execute(pin_now(sql, now)).fetchall(), key=repr)


@pytest.mark.parametrize("gold, gen", [
    ("SELECT id FROM p WHERE strftime('%Y', CURRENT_TIMESTAMP) - strftime('%Y', birthday) > 50",
     "SELECT id FROM p WHERE strftime('%Y', 'now') - strftime('%Y', birthday) > 50"),
    ("SELECT CURRENT_DATE", "SELECT date('now')"),
    ("SELECT id FROM p WHERE birthday < date()", "SELECT id FROM p WHERE birthday < CURRENT_DATE"),
])
def test_readings_of_the_same_instant_are_equivalent(gold, gen):
    v = check_pair(gold, gen, schema=SCHEMA, bound=3, timeout=30)
    assert v.verdict == VerdictKind.EQUIVALENT, (v.reason, v.counterexample)


@pytest.mark.parametrize("gold, gen", [
    ("SELECT id FROM p WHERE birthday < date('now')", "SELECT id FROM p WHERE birthday <= CURRENT_DATE"),
    ("SELECT CURRENT_DATE", "SELECT CURRENT_TIMESTAMP"),
    ("SELECT name FROM p WHERE strftime('%Y', 'now') - strftime('%Y', birthday) >= 18",
     "SELECT name FROM p WHERE strftime('%Y', birthday) <= '2008'"),   # right only in 2026
])
def test_a_counterexample_names_the_instant_and_holds_there(gold, gen):
    v = check_pair(gold, gen, schema=SCHEMA, bound=3, timeout=30)
    assert v.verdict == VerdictKind.NOT_EQUIVALENT, v.reason
    cex = v.counterexample
    assert cex.now is not None and len(cex.now) == 19
    assert f"'{cex.now}'" in cex.inserts
    assert _run(cex.inserts, gold, cex.now) != _run(cex.inserts, gen, cex.now)
    assert v.stats.unconfirmed_models == 0


@pytest.mark.parametrize("fmt", ["%Y", "%m", "%d", "%j", "%w", "%Y-%m-%d", "%d/%m/%Y %%"])
def test_the_date_fields_of_today_are_those_of_now(fmt):
    """`strftime(f, date('now'))` is `strftime(f, 'now')` when f reads only the date: lowered
    alike, so BIRD's two ways of writing an age (question 1260) are proved for every size, not
    up to k. Pinned at instants around days, months and years as SQLite computes them."""
    gold = f"SELECT id FROM p WHERE strftime('{fmt}', date('now')) > strftime('{fmt}', birthday)"
    gen = f"SELECT id FROM p WHERE strftime('{fmt}', 'now') > strftime('{fmt}', birthday)"
    v = check_pair(gold, gen, schema=SCHEMA, bound=3, timeout=30)
    assert v.verdict == VerdictKind.EQUIVALENT and v.strength == "every_size", v.reason
    con = sqlite3.connect(":memory:")
    for now in ("2026-12-06 13:45:07", "2024-02-29 23:59:59", "2023-12-31 00:00:00", "2000-01-01 12:00:00"):
        today, clock = con.execute(pin_now(f"SELECT strftime('{fmt}', date('now')), strftime('{fmt}', 'now')",
                                           now)).fetchone()
        assert today == clock is not None, (now, today, clock)


def test_the_time_fields_of_today_are_not_those_of_now():
    """Near miss: `date('now')` is midnight, so its hour is '00' where the clock's need not be;
    and for a column, date() and strftime() read some texts differently ('2020-05-05 24:00' is
    May 5th to date() but a Wednesday to strftime('%w', ...)), so only the clock's date is unwrapped."""
    v = check_pair("SELECT strftime('%H', date('now')) FROM p", "SELECT strftime('%H', 'now') FROM p",
                   schema=SCHEMA, bound=2, timeout=30)
    assert v.verdict == VerdictKind.NOT_EQUIVALENT, v.reason
    v = check_pair("SELECT strftime('%w', date(birthday)) FROM p", "SELECT strftime('%w', birthday) FROM p",
                   schema=SCHEMA, bound=2, timeout=30)
    assert v.strength != "every_size", v.reason
    con = sqlite3.connect(":memory:")
    assert con.execute("SELECT strftime('%w', date('2020-05-05 24:00')), strftime('%w', '2020-05-05 24:00')") \
        .fetchone() == ("2", "3")


def test_the_assumption_about_the_clock_is_listed():
    v = check_pair("SELECT id FROM p WHERE birthday < date('now')",
                   "SELECT id FROM p WHERE NOT birthday >= date('now')", schema=SCHEMA, bound=2, timeout=30)
    assert v.verdict == VerdictKind.EQUIVALENT
    assert any("same current time" in a for a in v.assumptions)


def test_duckdb_reads_its_clock_as_a_utc_timestamp():
    """DuckDB's CURRENT_TIMESTAMP is a TIMESTAMP WITH TIME ZONE; a date compares as its midnight."""
    s = schema_from_ddl("CREATE TABLE e (d DATE);", dialect="duckdb")
    same = check_pair("SELECT d FROM e WHERE d = CURRENT_TIMESTAMP", "SELECT d FROM e WHERE CURRENT_TIMESTAMP = d",
                      schema=s, dialect="duckdb", bound=2, timeout=20)
    assert same.verdict == VerdictKind.EQUIVALENT
    gold, gen = "SELECT d FROM e WHERE d <= CURRENT_TIMESTAMP", "SELECT d FROM e WHERE d < CURRENT_TIMESTAMP"
    v = check_pair(gold, gen, schema=s, dialect="duckdb", bound=2, timeout=20)
    assert v.verdict == VerdictKind.NOT_EQUIVALENT, v.reason
    now = v.counterexample.now
    assert now is not None and now.endswith("00:00:00.000000")  # only a midnight separates them
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE TABLE e (d DATE)")
    con.executemany("INSERT INTO e VALUES (?)", v.counterexample.tables["e"].rows)
    assert con.execute(pin_now(gold, now, "duckdb")).fetchall() != con.execute(pin_now(gen, now, "duckdb")).fetchall()
