"""Named assumptions (`verify.assumptions`): an assumption narrows the search only where the
policy allows it, the guarded encodings are exact where they claim to be, and `--strict` /
`--assume NAME` reach the verdict.

The central case is the issue's pair: on a column declared `text`, `SUBSTR(d, 6, 2) = '05'`
and `STRFTIME('%m', d) = '05'` differ on texts such as '2020/05/05' (strftime gives NULL), so
the pair is refuted by default; declared `DATE` (or with `--assume date_text`) it is proved.
"""

from __future__ import annotations

import sqlite3

import pytest
import z3
from typer.testing import CliRunner

from sqlwitness_cli import app
from verify.assumptions import DATE_NOTE, PRINTABLE_NOTE, REGISTRY, AssumptionPolicy, UnknownAssumption
from verify.budget import DEFAULT as DEFAULT_BUDGET
from verify.check import check_pair
from verify.encode import Encoder
from verify.lower import lower_query
from verify.parse import parse_query
from verify.pools import is_time_value
from verify.schema_io import schema_from_ddl
from verify.strings import TIME_VALUE, date_parseable
from verify.verdict import VerdictKind

TEXT_SCHEMA = schema_from_ddl("CREATE TABLE t (id INTEGER PRIMARY KEY, d TEXT);")
DATE_SCHEMA = schema_from_ddl("CREATE TABLE t (id INTEGER PRIMARY KEY, d DATE);")
SUBSTR_MONTH = "SELECT id FROM t WHERE SUBSTR(d, 6, 2) = '05'"
STRFTIME_MONTH = "SELECT id FROM t WHERE STRFTIME('%m', d) = '05'"


def _rows(inserts: str, sql: str) -> list:
    con = sqlite3.connect(":memory:")
    con.executescript(inserts)  # with its CREATE TABLE
    return sorted(con.execute(sql).fetchall())


def test_issue_pair_is_refuted_on_a_text_column():
    v = check_pair(SUBSTR_MONTH, STRFTIME_MONTH, schema=TEXT_SCHEMA, bound=2, timeout=60)
    assert v.verdict == VerdictKind.NOT_EQUIVALENT, v.reason
    assert v.confirmed
    assert _rows(v.counterexample.inserts, SUBSTR_MONTH) != _rows(v.counterexample.inserts, STRFTIME_MONTH)
    assert DATE_NOTE not in v.assumptions


def test_issue_pair_is_proved_on_a_declared_date_column():
    v = check_pair(SUBSTR_MONTH, STRFTIME_MONTH, schema=DATE_SCHEMA, bound=2, timeout=60)
    assert v.verdict == VerdictKind.EQUIVALENT, v.reason
    assert DATE_NOTE in v.assumptions


def test_issue_pair_is_proved_with_assume_date_text():
    v = check_pair(SUBSTR_MONTH, STRFTIME_MONTH, schema=TEXT_SCHEMA, bound=2, timeout=60, assume=["date_text"])
    assert v.verdict == VerdictKind.EQUIVALENT, v.reason
    assert DATE_NOTE in v.assumptions


def test_a_proof_that_needs_an_unbacked_assumption_says_which():
    # equal on every text SQLite reads as a date? not decided: on texts such as '2021-02-30'
    # the two functions are uninterpreted, and the search narrowed to exact texts proves nothing
    gold = "SELECT id FROM t WHERE strftime('%Y', d) = '2021'"
    gen = "SELECT id FROM t WHERE substr(date(d), 1, 4) = '2021'"
    v = check_pair(gold, gen, schema=TEXT_SCHEMA, bound=1, timeout=30)
    assert v.verdict == VerdictKind.UNKNOWN, v.reason
    assert "--assume date_text" in v.reason
    v = check_pair(gold, gen, schema=TEXT_SCHEMA, bound=1, timeout=30, assume=["date_text"])
    assert v.verdict == VerdictKind.EQUIVALENT, v.reason


def test_strict_drops_printable_ascii():
    gold = "SELECT id FROM t WHERE SUBSTR(d, 1, 1) > '~'"  # no printable ASCII character is
    gen = "SELECT id FROM t WHERE 1 = 0"
    v = check_pair(gold, gen, schema=TEXT_SCHEMA, bound=1, timeout=30)
    assert v.verdict == VerdictKind.EQUIVALENT, v.reason
    assert PRINTABLE_NOTE in v.assumptions
    v = check_pair(gold, gen, schema=TEXT_SCHEMA, bound=1, timeout=30, strict=True)
    assert v.verdict == VerdictKind.NOT_EQUIVALENT, v.reason
    assert PRINTABLE_NOTE not in v.assumptions
    assert _rows(v.counterexample.inserts, gold) != _rows(v.counterexample.inserts, gen)


def test_unknown_assumption_names_are_an_error():
    with pytest.raises(UnknownAssumption, match="unknown assumption 'bogus'"):
        AssumptionPolicy.make(assume=["bogus"])
    v = check_pair(SUBSTR_MONTH, STRFTIME_MONTH, schema=TEXT_SCHEMA, assume=["bogus"])
    assert v.verdict == VerdictKind.ERROR and "bogus" in v.reason


def test_cli_options_and_listing(tmp_path):
    (tmp_path / "s.sql").write_text("CREATE TABLE t (id INTEGER PRIMARY KEY, d TEXT);")
    (tmp_path / "a.sql").write_text(SUBSTR_MONTH)
    (tmp_path / "b.sql").write_text(STRFTIME_MONTH)
    runner = CliRunner()
    r = runner.invoke(app, ["pair", str(tmp_path / "a.sql"), str(tmp_path / "b.sql"), "--schema",
                            str(tmp_path / "s.sql"), "--assume", "nonsense"])
    assert r.exit_code == 3 and "unknown assumption 'nonsense'" in r.output
    r = runner.invoke(app, ["pair", str(tmp_path / "a.sql"), str(tmp_path / "b.sql"), "--schema",
                            str(tmp_path / "s.sql"), "--assume", "date_text", "--bound", "1"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["assumptions"])
    assert r.exit_code == 0
    for a in REGISTRY:
        assert a.name in r.output
    r = runner.invoke(app, ["pair", "--help"])
    assert "--strict" in r.output and "--assume" in r.output


def test_policy():
    assert AssumptionPolicy().allows("printable_text")
    assert not AssumptionPolicy(strict=True).allows("printable_text")
    assert AssumptionPolicy(strict=True).allows("date_text", evidence=True)  # a declaration
    assert not AssumptionPolicy().allows("date_text")
    assert AssumptionPolicy(strict=True).allows("text_representation")
    assert AssumptionPolicy.make(strict=True, assume=["printable_text"]).allows("printable_text")


def test_affinity_comparison_lists_its_assumption_only_when_asked():
    schema = schema_from_ddl("CREATE TABLE n (a INTEGER); CREATE TABLE s (x TEXT);")
    q = lower_query(parse_query("SELECT n.a FROM n JOIN s ON n.a < s.x"), schema)
    for policy, listed in ((AssumptionPolicy(), False), (AssumptionPolicy.make(assume=["affinity_int_text"]), True)):
        enc = Encoder(schema, 1, tables={"n", "s"}, assumptions=policy)
        enc.rel(q.rel)
        assert any("decimal digits" in n for n in enc.assumption_notes) == listed


# ----------------------------------------------------------------------------- differential
# texts SQLite's date functions read as NULL (the encoding says so exactly) and texts it may
# read as a time (uninterpreted or modelled)
ODD_TEXTS = [
    "", " ", "a", "abc", "05/05/2020", "2020/05/05", "5 May 2020", "May 5, 2020", "20200505", "2020.05.05",
    "now", "NOW", " now ", "nowhere", "today", "2020-05-05", "2020-5-5", "2020-05-05 12:00", "2020-05-05T12:00:00",
    "2020-05-05 12:00:00.5", "2020-05-05Z", "2020-05-05 12:00:00+02:00", " 2020-05-05", "2020-05-05 ", "12:30",
    "12:30:45", "T12:30", "2451545", "2451545.5", " 2451545 ", "-1", "+5", "1e3", "1.5e6", ".5", "5.", "0",
    "-2020-05-05", "2020-02-30", "2021-02-29", "2020-13-01", "9999-12-31", "0000-01-01", "x2020-05-05", "1:2",
    "12-30", "2020-05", "2020", "05-05-2020", "12.30", "١٢:٣٠", "2020–05–05", "e", "-", ".", "+", "- 5",
    "abc 12:30", "2020-05-05xyz", "  12:30  ", "12:3", "1 2:30", "9", "0x10", "Infinity", "NaN", "1,5",
]
DATE_EXPRS = ["date(d)", "time(d)", "datetime(d)", "julianday(d)", "strftime('%Y', d)", "strftime('%m', d)",
              "strftime('%H:%M', d)", "strftime('%s', d)", "unixepoch(d)"]


def _sqlite(expr: str, text: str):
    con = sqlite3.connect(":memory:")
    try:
        return con.execute(f"SELECT {expr} FROM (SELECT ? AS d)", [text]).fetchone()[0]
    except sqlite3.OperationalError:  # a function this SQLite lacks (unixepoch before 3.38)
        return None


def _holds(formula: z3.BoolRef) -> bool:
    return z3.is_true(z3.simplify(formula))


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_texts_classified_exact_null_are_null_in_sqlite(text):
    s = z3.StringVal(text)
    if _holds(date_parseable(s)):
        return  # uninterpreted or modelled: nothing to check here
    for expr in DATE_EXPRS:
        assert _sqlite(expr, text) is None, f"{expr} of {text!r} is not NULL in SQLite"


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_modelled_texts_are_accepted_by_sqlite(text):
    if _holds(z3.InRe(z3.StringVal(text), TIME_VALUE)):
        assert _sqlite("date(d)", text) is not None
        assert _holds(date_parseable(z3.StringVal(text)))


def test_the_exact_null_class_is_not_trivial():
    exact_null = [t for t in ODD_TEXTS if not _holds(date_parseable(z3.StringVal(t)))]
    assert "05/05/2020" in exact_null and "2020/05/05" in exact_null and "abc" in exact_null
    assert len(exact_null) >= 15


@pytest.mark.parametrize("expr", ["date(d)", "strftime('%m', d)", "julianday(d)", "datetime(d)"])
@pytest.mark.parametrize("text", ["05/05/2020", "2020/05/05", "abc", "", "nowhere"])
def test_encoding_gives_null_exactly_outside_the_parseable_texts(expr, text):
    """The encoder's value of a date function on such a text is NULL and nothing else, without
    any assumption asserted."""
    q = lower_query(parse_query(f"SELECT {expr} FROM t"), TEXT_SCHEMA)
    enc = Encoder(TEXT_SCHEMA, 1, tables={"t"})
    row = enc.db["t"][0].vals
    v = enc.expr(q.rel.exprs[0], row, ())
    s = z3.Solver()
    s.add(*enc.side, *enc.assumptions, row[1].v == z3.StringVal(text), z3.Not(row[1].null), z3.Not(v.null))
    assert s.check() == z3.unsat
    assert DATE_NOTE not in enc.assumption_notes


def test_a_literal_that_is_no_valid_date_is_not_assumed_one():
    """'00:00' is no `YYYY-MM-DD` text: assuming it were (as `date_text` did for every argument)
    contradicts itself, and any pair was then "proved" (BIRD dev question 942)."""
    schema = schema_from_ddl("CREATE TABLE u (id INTEGER PRIMARY KEY, d DATE);")
    gold = "SELECT id FROM u WHERE strftime('%s', d) - strftime('%s', '00:00') > 5"
    v = check_pair(gold, "SELECT id FROM u WHERE 0", schema=schema, bound=2, timeout=30)
    assert v.verdict == VerdictKind.NOT_EQUIVALENT, v.reason
    v = check_pair(gold, "SELECT id FROM u WHERE 0", schema=schema, bound=2, timeout=30, assume=["date_text"])
    assert v.verdict == VerdictKind.NOT_EQUIVALENT, v.reason


def test_the_empty_table_warning_follows_the_policy():
    """A CHECK that only control characters satisfy admits no row when text is assumed
    printable (the default), but does in strict mode: the warning that every database has the
    table empty is given under the default only."""
    schema = schema_from_ddl("CREATE TABLE t (a INT, b TEXT NOT NULL CHECK (length(b) = 1 AND b < ' '));")
    pair = ("SELECT a FROM t", "SELECT a FROM t WHERE a > 0 OR a <= 0 OR a IS NULL")
    warnings = {}
    for strict in (False, True):
        v = check_pair(*pair, schema=schema, strict=strict, bound=2, shortcuts=False)
        assert v.verdict == VerdictKind.EQUIVALENT
        warnings[strict] = [a for a in v.assumptions if "admit no row in table t" in a]
    assert len(warnings[False]) == 1 and warnings[True] == []


def test_the_search_probes_where_unbacked_assumptions_hold_first():
    """A date function of a TEXT column: the whole formula (any text, uninterpreted values for
    the texts SQLite's parser may read but the encoding does not model) is slow for Z3, so the
    SMT search first probes where `date_text` holds. Its difference is confirmed like any and
    holds a valid date; the verdict lists no assumption it did not use."""
    schema = schema_from_ddl("CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT); "
                             "CREATE TABLE a (id INTEGER PRIMARY KEY, pid INTEGER, d TEXT, r INTEGER);")
    gold = "SELECT a.r FROM p JOIN a ON p.id = a.pid WHERE p.name = 'x' AND strftime('%Y', a.d) = '2011'"
    gen = "SELECT r FROM a WHERE pid IN (SELECT id FROM p WHERE name = 'x') AND strftime('%Y', d) >= '2011'"
    v = check_pair(gold, gen, schema=schema, bound=2, timeout=120, budget=DEFAULT_BUDGET.without_random())
    assert v.verdict == VerdictKind.NOT_EQUIVALENT, v.reason
    assert v.confirmed and v.counterexample.found_by == "smt"
    assert all(is_time_value(row[2]) for row in v.counterexample.tables["a"].rows)
    assert DATE_NOTE not in v.assumptions
    assert _rows(v.counterexample.inserts, gold) != _rows(v.counterexample.inserts, gen)


def test_a_difference_only_outside_the_probe_is_still_found():
    """The probe finds nothing where the texts are valid dates ('2020/05/05' is no date to
    strftime but is to SUBSTR); the search then goes on over the whole formula and, once its
    model is not confirmed, where the encoding is exact (which includes the texts SQLite's
    date functions give NULL for)."""
    v = check_pair(SUBSTR_MONTH, STRFTIME_MONTH, schema=TEXT_SCHEMA, bound=2, timeout=60,
                   budget=DEFAULT_BUDGET.without_random())
    assert v.verdict == VerdictKind.NOT_EQUIVALENT, v.reason
    assert any(not is_time_value(row[1]) for row in v.counterexample.tables["t"].rows if row[1] is not None)
    assert "SMT probe at k=1 where date_text holds (a counterexample search only): no difference" in v.proof.tried


def test_narrowed_encoders_know_their_region():
    enc = Encoder(TEXT_SCHEMA, 1, narrow_unbacked="assumed")
    c = z3.Bool("c")
    assert enc.assume_named("date_text", c, search=z3.Bool("region")) is True
    assert len(enc.search_only) == 1 and enc.search_only[0].eq(c) and DATE_NOTE not in enc.assumption_notes
    exact = Encoder(TEXT_SCHEMA, 1, narrow_unbacked="exact")
    assert exact.assume_named("date_text", c, search=z3.Bool("region")) is True
    assert exact.search_only[0].eq(z3.Bool("region"))
    assert Encoder(TEXT_SCHEMA, 1).assume_named("date_text", c) is False
    with pytest.raises(ValueError, match="narrow_unbacked"):
        Encoder(TEXT_SCHEMA, 1, narrow_unbacked="yes")
