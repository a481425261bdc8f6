"""Tests for the `verify` command line (verify/cli.py, assembled by sqlwitness_cli.py) and its
rendering (verify/render.py)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from sqlwitness_cli import app
from verify.cli import PairConstraints, make_app
from verify.render import format_value, render_verdict
from verify.schema import Schema
from verify.schema_io import schema_from_ddl
from verify.verdict import Counterexample, TableData, Verdict, VerdictKind

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

DDL = """
CREATE TABLE dept (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE emp (
    id INTEGER PRIMARY KEY,
    name TEXT,
    salary INTEGER,
    dept_id INTEGER REFERENCES dept(id)
);
"""

# keep rich from emitting colour codes or wrapping at the test runner's terminal width
ENV = {"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "NO_COLOR": "1", "COLUMNS": "120"}


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input, env=ENV)


@pytest.fixture
def files(tmp_path: Path):
    """Write queries (and the schema) to files; returns a function name -> path."""
    (tmp_path / "schema.sql").write_text(DDL)

    def write(name: str, text: str) -> str:
        p = tmp_path / name
        p.write_text(text)
        return str(p)

    write.schema = str(tmp_path / "schema.sql")  # type: ignore[attr-defined]
    write.dir = tmp_path  # type: ignore[attr-defined]
    return write


def pair(files, gold: str, gen: str, *extra: str, input: str | None = None):
    g = gold if gold == "-" else files("gold.sql", gold)
    n = gen if gen == "-" else files("gen.sql", gen)
    return run("pair", g, n, "--schema", files.schema, "--timeout", "10", *extra, input=input)


def assert_clean_error(result, *words: str) -> None:
    assert result.exit_code == 3, result.output
    out = result.output
    assert "Traceback" not in out
    for w in words:
        assert w.lower() in out.lower(), out


# --------------------------------------------------------------------------- verdicts


def test_not_equivalent_renders_counterexample(files):
    r = pair(
        files,
        "SELECT name FROM emp WHERE salary > 10",
        "SELECT name FROM emp WHERE salary >= 10",
    )
    assert r.exit_code == 1, r.output
    out = r.stdout
    assert "not equivalent" in out
    assert "Counterexample database" in out
    assert "emp" in out and "salary" in out  # the table, rendered
    assert "Gold result" in out and "Generated result" in out
    assert "only in generated" in out
    assert "confirmed by running both queries on SQLite" in out


def test_a_counterexample_that_reads_the_clock_shows_the_instant(files):
    r = pair(files, "SELECT name FROM emp WHERE CURRENT_DATE > '2000-01-01'", "SELECT name FROM emp", "--json")
    assert r.exit_code == 1, r.output
    v = json.loads(r.stdout)
    now = v["counterexample"]["now"]
    assert now is not None and now[:10] <= "2000-01-01"  # only an instant before 2000 tells them apart
    human = pair(files, "SELECT name FROM emp WHERE CURRENT_DATE > '2000-01-01'", "SELECT name FROM emp")
    assert f"Current time: {now}" in human.stdout


def test_equivalent_exit_0(files):
    r = pair(
        files,
        "SELECT COUNT(*) FROM dept",
        "SELECT COUNT(DISTINCT id + 0) FROM dept",  # needs the primary key: a bounded proof
        "-k",
        "2",
    )
    assert r.exit_code == 0, r.output
    assert "equivalent" in r.stdout and "not equivalent" not in r.stdout
    assert r.stdout.splitlines()[0] == "✔ equivalent up to 2 rows per table"


def test_equivalent_for_every_size(files):
    r = pair(files, "SELECT name FROM emp WHERE salary > 10", "SELECT name FROM emp WHERE NOT salary <= 10")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0] == "✔ equivalent for every database"


def test_json_output_is_a_verdict(files):
    r = pair(files, "SELECT COUNT(*) FROM emp", "SELECT COUNT(salary) FROM emp", "--json")
    assert r.exit_code == 1, r.output
    v = Verdict.model_validate_json(r.stdout)
    assert v.verdict == VerdictKind.NOT_EQUIVALENT
    assert v.confirmed and v.counterexample is not None
    assert r.stderr == ""


def test_json_equivalent(files):
    r = pair(files, "SELECT id FROM dept", "SELECT dept.id FROM dept", "--json", "-k", "2")
    assert r.exit_code == 0, r.output
    assert Verdict.model_validate_json(r.stdout).verdict == VerdictKind.EQUIVALENT


def test_stdin(files):
    r = pair(files, "-", "SELECT name FROM emp WHERE salary >= 10", input="SELECT name FROM emp WHERE salary > 10")
    assert r.exit_code == 1, r.output
    r = pair(files, "SELECT name FROM dept", "-", "--json", input="SELECT name FROM dept")
    assert r.exit_code == 0, r.output


def test_unsupported_exit_2(files):
    recursive = "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < 3) SELECT x FROM r"
    r = pair(files, recursive, recursive + " WHERE 1 = 1")
    assert r.exit_code == 2, r.output
    assert "unsupported" in r.stdout and "RECURSIVE" in r.stdout
    assert "Traceback" not in r.output
    r = pair(files, "SELECT printf('%5.2f', salary) FROM emp", "SELECT printf('%5.2f', salary) FROM emp e", "--json")
    assert r.exit_code == 2, r.output
    assert Verdict.model_validate_json(r.stdout).verdict == VerdictKind.UNSUPPORTED
    assert "Traceback" not in r.output


def test_db_file(files, tmp_path):
    db = tmp_path / "x.db"
    con = sqlite3.connect(db)
    con.executescript(DDL + "INSERT INTO dept VALUES (1, 'Sales');")
    con.close()
    g = files("g.sql", "SELECT name FROM dept WHERE id = 1")
    n = files("n.sql", "SELECT name FROM dept WHERE name = 'Sales'")
    r = run("pair", g, n, "--db", str(db), "--timeout", "10", "--json")
    assert r.exit_code == 1, r.output


def test_inferred_schema_warning(files):
    g = files("g.sql", "SELECT a FROM t")
    n = files("n.sql", "SELECT a FROM t WHERE a > 1")
    r = run("pair", g, n, "--timeout", "10")
    assert r.exit_code == 1, r.output
    assert "schema inferred from the queries" in r.stdout


def test_examples_pair():
    r = run(
        "pair",
        str(EXAMPLES / "gold.sql"),
        str(EXAMPLES / "gen.sql"),
        "--schema",
        str(EXAMPLES / "concert.sql"),
        "--timeout",
        "10",
    )
    assert r.exit_code == 1, r.output
    assert "confirmed by running both queries on SQLite" in r.stdout


def test_examples_agree_on_example_database():
    con = sqlite3.connect(":memory:")
    con.executescript((EXAMPLES / "concert.sql").read_text())
    gold = con.execute((EXAMPLES / "gold.sql").read_text()).fetchall()
    gen = con.execute((EXAMPLES / "gen.sql").read_text()).fetchall()
    assert gold and sorted(gold) == sorted(gen)


def test_version():
    r = run("version")
    assert r.exit_code == 0 and r.stdout.startswith("sqlwitness ")


# --------------------------------------------------------------------------- assembly


def test_every_package_contributes_its_commands():
    group = typer.main.get_command(app)
    assert list(group.commands) == ["pair", "rules", "assumptions", "version", "eval", "leaderboard", "mine", "bench", "agent", "constraints"]
    assert list(group.commands["bench"].commands) == ["verieql", "sqlsolver", "recheck", "coverage", "realism"]
    assert list(group.commands["agent"].commands) == ["select", "ask", "bench", "show"]
    assert list(group.commands["constraints"].commands) == ["import", "export", "show"]


def test_eval_and_leaderboard_hand_every_shared_option_to_the_run():
    """`verify eval` and `verify leaderboard` pass their shared options (`_COMMON`) as one
    `_RunOptions`: each option is a field of it, and each command has a parameter for each."""
    from dataclasses import fields

    from benchmarks.eval_cli import _COMMON, _RunOptions

    names = {f.name for f in fields(_RunOptions)}
    assert names == set(_COMMON)
    group = typer.main.get_command(app)
    for command in ("eval", "leaderboard"):
        assert names <= {p.name for p in group.commands[command].params}


def test_an_option_of_eval_reaches_the_run(tmp_path, monkeypatch):
    import benchmarks.eval_cli as eval_cli

    seen = {}
    monkeypatch.setattr(eval_cli, "_run", lambda paths, system, opts: seen.update(paths=paths, system=system, opts=opts))
    preds = tmp_path / "p.sql"
    preds.write_text("SELECT 1\n")
    r = run("eval", str(preds), "--benchmark", "bird", "--bound", "2", "--memory-limit", "512", "--assume",
            "ties_alike", "--no-html", "--system", "s")
    assert r.exit_code == 0, r.stdout
    opts = seen["opts"]
    assert seen["paths"] == [preds] and seen["system"] == "s"
    assert (opts.benchmark, opts.bound, opts.memory_limit, opts.assume, opts.html, opts.workers) == \
        ("bird", 2, 512, ["ties_alike"], False, 2)


def test_runs_as_a_module():
    def module(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "sqlwitness_cli", *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=120)

    r = module("version")
    assert r.returncode == 0 and r.stdout.startswith("sqlwitness "), r.stderr
    r = module("frobnicate")
    assert r.returncode == 3 and "frobnicate" in r.stderr


CHECKED_DDL = "CREATE TABLE emp (id INTEGER PRIMARY KEY, name TEXT, salary INTEGER NOT NULL CHECK (salary > 0));"


class FakeConstraints:
    """A `PairConstraints` that records its calls: `constrain` returns a schema with a CHECK."""

    def __init__(self) -> None:
        self.constrained: list[dict[str, object]] = []
        self.scored: list[str] = []

    def constrain(self, schema: Schema | None, *, constraints_file: str | None, mine: bool, db: str | None,
                  db_id: str | None) -> Schema | None:
        self.constrained.append(dict(constraints_file=constraints_file, mine=mine, db=db, db_id=db_id))
        if constraints_file is not None and Path(constraints_file).name == "bad.json":
            raise ValueError("constraints file 'bad.json' is not JSON")
        return schema_from_ddl(CHECKED_DDL)

    def add_realism(self, verdict: Verdict, db: str) -> Verdict:
        self.scored.append(db)
        assert verdict.counterexample is not None
        verdict.counterexample.realism = 0.25
        return verdict

    def hooks(self) -> PairConstraints:
        return PairConstraints(constrain=self.constrain, add_realism=self.add_realism)


@pytest.fixture
def emp_db(tmp_path: Path) -> str:
    db = tmp_path / "emp.db"
    con = sqlite3.connect(db)
    con.executescript(DDL + "INSERT INTO emp VALUES (1, 'Ann', 10, NULL);")
    con.close()
    return str(db)


def test_pair_applies_constraints_through_the_hook(files, emp_db):
    fake = FakeConstraints()
    g = files("g.sql", "SELECT name FROM emp WHERE salary > 0")
    n = files("n.sql", "SELECT name FROM emp")
    args = ["pair", g, n, "--db", emp_db, "--timeout", "10", "--json"]
    r = CliRunner().invoke(make_app(fake.hooks()), args, env=ENV)
    assert r.exit_code == 1, r.output  # no constraint asked for: refuted, the counterexample scored
    assert Verdict.model_validate_json(r.stdout).counterexample.realism == 0.25
    assert fake.constrained == [] and fake.scored == [emp_db]
    r = CliRunner().invoke(make_app(fake.hooks()), [*args, "--mine", "--db-id", "hr"], env=ENV)
    assert r.exit_code == 0, r.output  # the hook's schema (salary NOT NULL, > 0) was checked against
    assert fake.constrained == [dict(constraints_file=None, mine=True, db=emp_db, db_id="hr")]
    r = CliRunner().invoke(make_app(fake.hooks()), ["pair", g, n, "--schema", files.schema, "--constraints",
                                                    files("bad.json", "{")], env=ENV)
    assert_clean_error(r, "bad.json", "not JSON")


def test_pair_without_the_constraints_layer(files, emp_db):
    bare = make_app()
    g = files("g.sql", "SELECT name FROM emp WHERE salary > 0")
    n = files("n.sql", "SELECT name FROM emp")
    for option in (["--mine"], ["--constraints", files.schema]):
        r = CliRunner().invoke(bare, ["pair", g, n, "--db", emp_db, *option], env=ENV)
        assert_clean_error(r, "--constraints and --mine are not available", "constraints package")
    r = CliRunner().invoke(bare, ["pair", g, n, "--db", emp_db, "--mine", "--json"], env=ENV)
    assert r.exit_code == 3 and "not available" in Verdict.model_validate_json(r.stdout).reason
    r = CliRunner().invoke(bare, ["pair", g, n, "--db", emp_db, "--timeout", "10", "--json"], env=ENV)
    assert r.exit_code == 1, r.output  # the verifier itself works; the counterexample has no realism score
    assert Verdict.model_validate_json(r.stdout).counterexample.realism is None
    assert list(typer.main.get_command(bare).commands) == ["pair", "rules", "assumptions", "version"]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "gold, words",
    [
        ("SELEC name FROM emp", ["gold", "syntax"]),
        ("SELECT nosuch FROM emp", ["gold", "nosuch"]),
        ("DELETE FROM emp", ["gold", "DELETE"]),
        ("SELECT 1; SELECT 2", ["gold", "statement"]),
        ("SELECT * FROM nosuch_table", ["gold", "nosuch_table"]),
    ],
)
def test_bad_queries(files, gold, words):
    r = pair(files, gold, "SELECT name FROM emp")
    assert_clean_error(r, *words)
    r = pair(files, gold, "SELECT name FROM emp", "--json")
    assert r.exit_code == 3
    v = Verdict.model_validate_json(r.stdout)
    assert v.verdict == VerdictKind.ERROR and "gold" in v.reason


def test_bad_generated_query_named(files):
    assert_clean_error(pair(files, "SELECT name FROM emp", "SELECT nosuch FROM emp"), "generated", "nosuch")


def test_empty_file(files):
    assert_clean_error(pair(files, "  \n", "SELECT name FROM emp"), "gold", "empty")


def test_missing_file(files):
    r = run("pair", str(files.dir / "nope.sql"), files("n.sql", "SELECT 1"), "--schema", files.schema)
    assert_clean_error(r, "nope.sql", "not found")


def test_directory_as_query(files):
    r = run("pair", str(files.dir), files("n.sql", "SELECT 1"))
    assert_clean_error(r, "directory")


def test_both_stdin(files):
    assert_clean_error(run("pair", "-", "-", input="SELECT 1"), "stdin")


def test_empty_stdin(files):
    assert_clean_error(run("pair", "-", files("n.sql", "SELECT 1"), input=""), "stdin", "empty")


@pytest.mark.parametrize(
    "args, words",
    [
        (["--dialect", "postgres"], ["--dialect", "postgres"]),
        (["--semantics", "multiset"], ["--semantics"]),
        (["--bound", "many"], ["--bound"]),
        (["--bound", "0"], ["--bound"]),
        (["--timeout", "-1"], ["--timeout"]),
        (["--frobnicate"], ["--frobnicate"]),
    ],
)
def test_bad_options(files, args, words):
    r = pair(files, "SELECT name FROM emp", "SELECT name FROM emp", *args)
    assert_clean_error(r, *words)
    r = pair(files, "SELECT name FROM emp", "SELECT name FROM emp", *args, "--json")
    assert r.exit_code == 3
    assert Verdict.model_validate_json(r.stdout).verdict == VerdictKind.ERROR


def test_missing_argument():
    assert_clean_error(run("pair"), "missing argument")


def test_unknown_command():
    assert_clean_error(run("frobnicate"), "frobnicate")


def test_missing_schema_file(files):
    g = files("g.sql", "SELECT 1")
    r = run("pair", g, g, "--schema", str(files.dir / "none.sql"))
    assert_clean_error(r, "--schema", "not found")


def test_bad_schema(files):
    g = files("g.sql", "SELECT a FROM t")
    bad = files("bad.sql", "CREATE TABLE t (a INTEGER REFERENCES;")
    assert_clean_error(run("pair", g, g, "--schema", bad), "schema")


def test_unreadable_db(files):
    g = files("g.sql", "SELECT a FROM t")
    junk = files("junk.db", "this is not a database, just some text " * 20)
    assert_clean_error(run("pair", g, g, "--db", junk), "junk.db")
    assert_clean_error(run("pair", g, g, "--db", str(files.dir / "missing.db")), "missing.db", "not found")
    r = run("pair", g, g, "--db", junk, "--json")
    assert r.exit_code == 3 and Verdict.model_validate_json(r.stdout).verdict == VerdictKind.ERROR


def test_conflicting_schema_options(files):
    g = files("g.sql", "SELECT a FROM t")
    assert_clean_error(run("pair", g, g, "--tables", files.schema), "--db-id")
    assert_clean_error(run("pair", g, g, "--schema", files.schema, "--db", files.schema), "--schema")


def test_internal_error_is_wrapped(files, monkeypatch):
    import verify.check

    def boom(*a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(verify.check, "check_pair", boom)
    r = pair(files, "SELECT name FROM emp", "SELECT name FROM emp")
    assert_clean_error(r, "internal error", "kaboom")
    r = pair(files, "SELECT name FROM emp", "SELECT name FROM emp", "--json")
    assert r.exit_code == 3 and "kaboom" in Verdict.model_validate_json(r.stdout).reason
    r = pair(files, "SELECT name FROM emp", "SELECT name FROM emp", "--debug")
    assert isinstance(r.exception, RuntimeError)


# --------------------------------------------------------------------------- rendering


def render(v: Verdict) -> str:
    console = Console(width=120, record=True, force_terminal=False, color_system=None)
    render_verdict(v, console)
    return console.export_text()


def test_format_value_is_unambiguous():
    assert format_value(None).plain == "NULL" and format_value(None).style == "dim"
    assert format_value("NULL").plain == "'NULL'"
    assert format_value("").plain == "''"
    assert format_value(" a").plain == "' a'"
    assert format_value("it's").plain == "'it''s'"
    assert format_value("a\nb").plain == "'a\\nb'"
    assert format_value(3).plain == "3" and format_value(2.5).plain == "2.5"


def test_render_marks_rows_with_multiplicity():
    cex = Counterexample(
        tables={"t": TableData(columns=["a", "b"], rows=[[1, None], [1, ""], [2, " a"]])},
        gold_result=TableData(columns=["a"], rows=[[1], [1], [2]]),
        gen_result=TableData(columns=["a"], rows=[[1], [2]]),
        gold_only=[[1]],
        found_by="smt",
    )
    v = Verdict(verdict=VerdictKind.NOT_EQUIVALENT, bound=3, counterexample=cex, confirmed=True,
                dialect="duckdb", assumptions=["text values are printable ASCII"])
    out = render(v)
    assert out.count("only in gold") == 1
    assert "only in generated" not in out
    assert "NULL" in out and "''" in out and "' a'" in out
    assert "confirmed by running both queries on DuckDB" in out
    assert "Assuming:" in out and "printable ASCII" in out
    assert "found by the SMT solver" in out


def test_render_equivalent_complete_and_stats():
    v = Verdict(verdict=VerdictKind.EQUIVALENT, complete=True, bound=0, reason="identical")
    v.stats.smt_calls = 7
    v.stats.random_databases = 12
    out = render(v)
    assert out.splitlines()[0] == "✔ equivalent for every database"
    assert "7 SMT calls" in out and "12 random databases" in out and "0 unconfirmed models" in out
    assert "Reason: identical" in out


def test_render_list_order_difference():
    cex = Counterexample(
        tables={"t": TableData(columns=["a"], rows=[[1], [2]])},
        gold_result=TableData(columns=["a"], rows=[[1], [2]]),
        gen_result=TableData(columns=["a"], rows=[[2], [1]]),
        found_by="random",
    )
    v = Verdict(verdict=VerdictKind.NOT_EQUIVALENT, semantics="list", counterexample=cex, confirmed=True)
    assert "different order" in render(v)


def test_json_has_nothing_else(files):
    r = pair(files, "SELECT name FROM emp", "SELECT name FROM emp", "--json")
    assert r.exit_code == 0, r.output
    json.loads(r.stdout)
