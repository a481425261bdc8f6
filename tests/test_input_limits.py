"""Every input limit of `verify pair` and the benchmark commands holds: bad or absurd input is an
`error` naming the problem at once, never a traceback, a hang, a run past `--timeout` or a wrong
answer (verify/limits.py, verify/check.py, verify/cli.py, benchmarks/eval_cli.py, benchmarks/cli.py,
benchmarks/executors.py, constraints/pair.py, verify/schema_io.py)."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

import verify.check
from benchmarks.executors import _READY, _Slot
from sqlwitness_cli import app
from verify.check import check_pair
from verify.limits import MAX_QUERY_CHARS, MAX_QUERY_DEPTH, MAX_QUERY_NODES
from verify.schema import SchemaError
from verify.schema_io import schema_from_ddl
from verify.verdict import Verdict, VerdictKind

DDL = "CREATE TABLE t (a INT, b TEXT);"
SCHEMA = schema_from_ddl(DDL)
ENV = {"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "NO_COLOR": "1", "COLUMNS": "200"}


def cli(*args: str):
    return CliRunner().invoke(app, list(args), env=ENV)


def error_of(result) -> str:
    """The one-line error of a run that failed cleanly (exit status 3, no traceback)."""
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    return result.output


@pytest.fixture
def files(tmp_path: Path):
    (tmp_path / "s.sql").write_text(DDL)
    (tmp_path / "q.sql").write_text("SELECT a FROM t")

    def write(name: str, text: str) -> str:
        (tmp_path / name).write_text(text)
        return str(tmp_path / name)

    write.dir = tmp_path  # type: ignore[attr-defined]
    return write


# --------------------------------------------------------------------------- options


@pytest.mark.parametrize("option, value, message", [
    ("--timeout", "inf", "--timeout must be a finite number of seconds, at most 86400, not inf"),
    ("--timeout", "1e300", "--timeout must be a finite number of seconds, at most 86400, not 1e+300"),
    ("--timeout", "nan", "--timeout must be a finite number of seconds, at most 86400, not nan"),
    ("--bound", "1000000000", "--bound must be a whole number from 1 to 1000, not 1000000000"),
])
def test_absurd_timeout_and_bound_are_rejected(files, option, value, message):
    q = str(files.dir / "q.sql")
    r = cli("pair", q, files("g.sql", "SELECT a FROM t WHERE a > 0"), "--schema", str(files.dir / "s.sql"),
            option, value)
    assert error_of(r).strip() == f"error: {message}"


def test_check_pair_rejects_them_too():
    for kw, word in ((dict(timeout=float("inf")), "--timeout"), (dict(bound=10**9), "--bound")):
        v = check_pair("SELECT a FROM t", "SELECT b FROM t", SCHEMA, **kw)
        assert v.verdict == VerdictKind.ERROR and v.reason.startswith(word)


@pytest.mark.parametrize("command", ["eval", "leaderboard"])
@pytest.mark.parametrize("limit", ["0", "-2"])
def test_eval_and_leaderboard_reject_a_limit_below_one(tmp_path, command, limit):
    preds = tmp_path / "p.sql"
    preds.write_text("SELECT 1\tdb\n")
    r = cli(command, str(preds), "--benchmark", "spider", "--data", str(tmp_path), "--limit", limit)
    assert f"--limit must be at least 1 (leave it out for every question), not {limit}" in error_of(r)
    assert not (tmp_path / "sqlwitness-runs.duckdb").exists()


@pytest.mark.parametrize("args", [
    ["eval", "p.sql", "--benchmark", "spider", "--timeout", "inf"],
    ["eval", "p.sql", "--benchmark", "spider", "--ex-timeout", "nan"],
    ["bench", "coverage", "--benchmark", "spider", "--limit", "0"],
    ["bench", "verieql", "--timeout", "inf"],
])
def test_benchmark_commands_reject_absurd_values(args):
    assert "must be" in error_of(cli(*args))


# --------------------------------------------------------------------------- paths


@pytest.mark.parametrize("where", ["gold", "generated", "--schema", "--constraints"])
@pytest.mark.parametrize("kind", ["device", "fifo", "directory"])
def test_paths_that_are_not_regular_files_are_refused_at_once(files, where, kind):
    """Reading /dev/zero or a FIFO never ends (the old code hung); a folder is no query file."""
    path = {"device": "/dev/zero", "fifo": str(files.dir / "fifo"), "directory": str(files.dir / "folder")}[kind]
    os.mkfifo(files.dir / "fifo")
    (files.dir / "folder").mkdir()
    q, s = str(files.dir / "q.sql"), str(files.dir / "s.sql")
    args = {"gold": [path, q, "--schema", s], "generated": [q, path, "--schema", s],
            "--schema": [q, q, "--schema", path], "--constraints": [q, q, "--schema", s, "--constraints", path]}[where]
    out = error_of(cli("pair", *args))
    if kind == "directory" and where == "--constraints":  # a folder of <db_id>.json is allowed there
        assert "needs a db_id" in out
    elif kind == "directory":
        assert f"{path!r} is a directory, not a file" in out
    else:
        assert f"{path!r} is not a regular file (a device, FIFO or socket cannot be read as one)" in out


def test_a_query_file_too_long_is_refused_unread(files):
    big = files("big.sql", "SELECT a FROM t WHERE a IN (" + ",".join("1" for _ in range(4 * MAX_QUERY_CHARS)) + ")")
    out = error_of(cli("pair", big, str(files.dir / "q.sql"), "--schema", str(files.dir / "s.sql")))
    assert f"gold query file {big!r} is longer than {MAX_QUERY_CHARS:,} characters, the most the verifier reads" in out


def test_a_db_file_without_tables_says_so(files):
    empty = files("empty.db", "")
    out = error_of(cli("pair", str(files.dir / "q.sql"), str(files.dir / "q.sql"), "--db", empty))
    assert f"--db file {empty!r} has no tables (the file is empty)" in out
    no_tables = str(files.dir / "none.db")
    sqlite3.connect(no_tables).execute("PRAGMA user_version = 1").connection.close()
    out = error_of(cli("pair", str(files.dir / "q.sql"), str(files.dir / "q.sql"), "--db", no_tables))
    assert f"--db file {no_tables!r} has no tables: give the database" in out


def test_constraints_for_another_database_with_schema_are_rejected(files):
    spotit = files("spot.json", json.dumps({"california_schools": [[{"primary": [{"value": "FRPM__CDSCODE"}]}]]}))
    ours = files("ours.json", json.dumps({"format": "sqlwitness-constraints", "db_id": "hr", "constraints": [
        {"kind": "not_null", "table": "emp", "column": "name"}]}))
    q, s = str(files.dir / "q.sql"), str(files.dir / "s.sql")
    out = error_of(cli("pair", q, q, "--schema", s, "--constraints", spotit))
    assert (f"constraints file {spotit!r} is for database 'california_schools': none of its tables (FRPM) is in "
            f"the schema, which has t") in out
    out = error_of(cli("pair", q, q, "--schema", s, "--constraints", ours))
    assert "none of its tables (emp) is in the schema" in out


# --------------------------------------------------------------------------- queries


def test_a_huge_in_list_is_refused_naming_the_limit():
    """A 1 MB query ran for minutes past `--timeout 5`; one over the node limit is refused at once."""
    huge = "SELECT a FROM t WHERE a IN (" + ",".join(map(str, range(150_000))) + ")"
    v = check_pair(huge, "SELECT a FROM t", SCHEMA, timeout=0.5)
    assert v.verdict == VerdictKind.ERROR
    assert v.reason == (f"gold query: the query is {len(huge):,} characters long; the verifier reads queries of "
                        f"at most {MAX_QUERY_CHARS:,} characters")
    large = "SELECT a FROM t WHERE a IN (" + ",".join(map(str, range(MAX_QUERY_NODES))) + ")"
    v = check_pair("SELECT a FROM t", large, SCHEMA, timeout=0.5)
    assert v.verdict == VerdictKind.ERROR and v.reason.startswith("generated query: the query has ")
    assert v.reason.endswith(f"expression nodes (an IN list has one per value); the verifier handles at most "
                             f"{MAX_QUERY_NODES:,}")


def test_a_large_in_list_within_the_limit_stops_on_the_time_limit():
    """Within the limits the verdict is reached, or the reason says the time limit stopped the
    search (how far it got depends on the machine, so either may come; an `equivalent` verdict
    only when the search ended before the time limit)."""
    values = ",".join(map(str, range(MAX_QUERY_NODES - 100)))
    v = check_pair(f"SELECT b FROM t WHERE a IN ({values}) AND a > (SELECT MIN(a) FROM t)",
                   f"SELECT b FROM t WHERE a IN ({values}) AND a <> (SELECT MIN(a) FROM t)", SCHEMA, timeout=0.5)
    assert v.verdict in (VerdictKind.UNKNOWN, VerdictKind.EQUIVALENT), v.reason
    if v.verdict == VerdictKind.UNKNOWN:
        assert v.reason.startswith("time limit") or "budget exhausted" in v.reason, v.reason


@pytest.mark.parametrize("depth", [MAX_QUERY_DEPTH + 5, 3000])
def test_nesting_deeper_than_the_verifier_handles_is_an_error_naming_the_depth(depth):
    v = check_pair("SELECT " + "(" * depth + "a" + ")" * depth + " FROM t", "SELECT a FROM t", SCHEMA, timeout=2)
    assert v.verdict == VerdictKind.ERROR
    assert "RecursionError" not in v.reason and "internal error" not in v.reason
    assert v.reason.startswith("gold query: the query nests ") and str(MAX_QUERY_DEPTH) in v.reason
    if depth == 3000:  # too deep to parse: the depth of its parentheses
        assert v.reason == "gold query: the query nests 3000 levels deep; the verifier handles at most 40 levels " \
                           "of nesting"


def test_a_recursion_error_inside_a_pass_names_the_depth(monkeypatch):
    def too_deep(*args, **kw):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(verify.check, "prove_for_every_size", too_deep)
    v = check_pair("SELECT a FROM t WHERE abs(abs(a)) > 1", "SELECT a FROM t WHERE abs(a) > 1", SCHEMA, timeout=2)
    assert v.verdict == VerdictKind.ERROR
    assert v.reason.startswith("the query nests ") and "levels deep" in v.reason
    assert v.reason.endswith("(Python's recursion limit stopped the verifier)")


@pytest.mark.parametrize("gold, message", [
    ("SELECT", "gold query: the sqlite engine cannot run it: sqlite: incomplete input"),
    ("SELECT a FROM t WHERE a > " + "(SELECT " * 18 + "1" + ")" * 18,
     "gold query: the sqlite engine cannot run it: sqlite: parser stack overflow"),
])
def test_a_query_the_engine_cannot_run_is_an_error_with_its_message(gold, message):
    v = check_pair(gold, "SELECT a FROM t", SCHEMA, timeout=5)
    assert v.verdict == VerdictKind.ERROR and v.reason == message


def test_duckdb_engine_errors_too():
    v = check_pair("SELECT a FROM t", "SELECT", SCHEMA, dialect="duckdb", timeout=5)
    assert v.verdict == VerdictKind.ERROR
    assert v.reason.startswith("generated query: the duckdb engine cannot run it: duckdb: Parser Error")


@pytest.mark.parametrize("gold, dialect, name", [
    ("SELECT value FROM json_each('[1, 2]')", "sqlite", "JSON_EACH('[1, 2]')"),
    ("SELECT * FROM range(3)", "duckdb", "RANGE(0, 3)"),
])
def test_a_table_function_is_unsupported_not_an_unknown_table(gold, dialect, name):
    v = check_pair(gold, "SELECT a FROM t", SCHEMA, dialect=dialect, timeout=5)
    assert "unknown table ''" not in (v.reason or "")
    assert f"table-valued function {name} in FROM" in v.reason
    assert v.verdict in (VerdictKind.UNSUPPORTED, VerdictKind.NOT_EQUIVALENT)  # the random pass may refute it


# --------------------------------------------------------------------------- DDL


def test_backticked_ddl_is_read_under_duckdb():
    s = schema_from_ddl("CREATE TABLE `t` (`a` INT, `b` TEXT DEFAULT '`x`');", dialect="duckdb")
    assert [t.name for t in s.tables] == ["t"] and [c.name for c in s.tables[0].columns] == ["a", "b"]
    v = check_pair("SELECT a FROM t", "SELECT a FROM t WHERE a > 0", s, dialect="duckdb", timeout=5)
    assert v.verdict == VerdictKind.NOT_EQUIVALENT


def test_a_create_table_that_does_not_parse_is_named_never_dropped():
    with pytest.raises(SchemaError, match=r"DDL statement could not be parsed \(duckdb\): 'CREATE TABLE `u`"):
        schema_from_ddl("CREATE TABLE t (a INT); CREATE TABLE `u` (`x` INT) ENGINE = InnoDB PARTITION BY "
                        "HASH(x) (PARTITION p0 ...);", dialect="duckdb")


def test_backticked_ddl_through_the_command_line(files):
    ddl = files("bt.sql", "CREATE TABLE `t` (`a` INT, `b` TEXT);")
    r = cli("pair", str(files.dir / "q.sql"), files("g.sql", "SELECT a FROM t WHERE a > 0"), "--schema", ddl,
            "--dialect", "duckdb", "--json")
    assert Verdict.model_validate_json(r.stdout).verdict == VerdictKind.NOT_EQUIVALENT, r.output


# --------------------------------------------------------------------------- Ctrl-C


def test_a_worker_ignores_ctrl_c_from_its_very_start():
    """Ctrl-C reaches the whole process group; a worker still importing when it comes used to die
    with a KeyboardInterrupt traceback (the interrupted-run test failed under CPU load). Workers
    now start with SIGINT ignored, so one signalled at once still starts and runs its task."""
    slot = _Slot(mp.get_context("spawn"), abs)
    try:
        os.kill(slot.proc.pid, signal.SIGINT)  # while the new interpreter is still starting
        assert slot.conn.poll(120), "the worker did not start"
        assert slot.conn.recv() == _READY
        slot.conn.send(("t", -3))
        assert slot.conn.poll(60) and slot.conn.recv() == ("t", 3, None)
    finally:
        slot.kill()


def test_a_long_chain_of_one_operator_is_one_level_of_nesting():
    """`a = 0 OR a = 1 OR ... OR a = 99` parses into a tree 100 levels deep, but it is one chain:
    the verifier handles it (as it did before the nesting limit), so the limit must not refuse it."""
    chain = " OR ".join(f"a = {i}" for i in range(100))
    v = check_pair(f"SELECT a FROM t WHERE {chain}", f"SELECT a FROM t WHERE {chain} OR a = 100", schema=SCHEMA,
                   timeout=20)
    assert v.verdict == VerdictKind.NOT_EQUIVALENT, v.reason
    nested = "(" * 60 + "a" + ")" * 60
    v = check_pair(f"SELECT {nested} FROM t", "SELECT a FROM t", schema=SCHEMA)
    assert v.verdict == VerdictKind.ERROR and v.reason.startswith("gold query: the query nests 6")
