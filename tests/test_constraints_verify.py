"""The verifier under mined constraints: pairs refuted only by unrealistic data become
equivalent, unrealistic counterexamples give way to realistic ones, realistic differences are
still refuted; the realism score; `verify pair --constraints / --mine` and `verify mine`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from constraints.apply import apply_constraints
from constraints.mine import mine_database
from constraints.realism import implausible_cells, profile_database, realism
from sqlwitness_cli import app
from verify import check_pair
from verify.schema_io import schema_from_sqlite
from verify.verdict import TableData

ENV = {"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "NO_COLOR": "1", "COLUMNS": "120"}


@pytest.fixture(scope="module")
def people(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("db") / "people.sqlite"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT, age INT, sex TEXT)")
    con.executemany("INSERT INTO p (name, age, sex) VALUES (?, ?, ?)",
                    [(f"Name{i}", 18 + i % 60, "FM"[i % 2]) for i in range(100)])
    con.commit()
    con.close()
    return p


@pytest.fixture(scope="module")
def schemas(people):
    plain = schema_from_sqlite(people)
    return plain, apply_constraints(plain, mine_database(people)), profile_database(people)


def check(gold, gen, schema):
    return check_pair(gold, gen, schema=schema, timeout=20)


@pytest.mark.parametrize("gold, gen", [
    ("SELECT * FROM p WHERE age > 200", "SELECT * FROM p WHERE 0 = 1"),
    ("SELECT name FROM p WHERE sex = 'F'", "SELECT name FROM p WHERE sex <> 'M'"),
])
def test_refuted_only_by_unrealistic_data_becomes_equivalent(schemas, gold, gen):
    plain, constrained, prof = schemas
    before = check(gold, gen, plain)
    assert before.verdict.value == "not_equivalent"
    assert realism(before.counterexample.tables, prof) < 1.0
    after = check(gold, gen, constrained)
    assert after.verdict.value == "equivalent", after.reason


def test_unrealistic_counterexample_gives_way_to_a_realistic_one(schemas, tmp_path):
    plain, constrained, prof = schemas
    gold = "SELECT name FROM p WHERE sex = 'F' OR age > 60"
    gen = "SELECT name FROM p WHERE sex <> 'M' OR age > 70"
    before = check(gold, gen, plain)
    after = check(gold, gen, constrained)
    assert before.verdict.value == after.verdict.value == "not_equivalent"
    r_before = realism(before.counterexample.tables, prof)
    r_after = realism(after.counterexample.tables, prof)
    assert r_after == 1.0 and r_after > r_before, implausible_cells(before.counterexample.tables, prof)
    # and SQLite itself accepts the counterexample under the constraints as CHECKs
    assert "CHECK (\"sex\" IN ('F', 'M'))" in after.counterexample.inserts
    sqlite3.connect(tmp_path / "cex.sqlite").executescript(after.counterexample.inserts)


def test_realistic_difference_still_refuted(schemas):
    plain, constrained, prof = schemas
    v = check("SELECT COUNT(*) FROM p WHERE age > 30", "SELECT COUNT(*) FROM p WHERE age >= 30", constrained)
    assert v.verdict.value == "not_equivalent"
    assert realism(v.counterexample.tables, prof) == 1.0


def test_realism_score(schemas):
    _, _, prof = schemas
    cells = {"p": TableData(columns=["id", "name", "age", "sex"],
                            rows=[[1, "Name3", 40, "F"], [2, None, -3, "xq"]])}
    counted, bad = implausible_cells(cells, prof)
    assert counted == 8 and len(bad) == 3
    assert realism(cells, prof) == 0.625
    assert realism({"unknown_table": TableData(columns=["x"], rows=[[1]])}, prof) == 1.0


# --------------------------------------------------------------------------- command line


def run(*args: str):
    return CliRunner().invoke(app, list(args), env=ENV)


@pytest.fixture
def queries(tmp_path, monkeypatch):
    monkeypatch.setenv("SQLWITNESS_CACHE", str(tmp_path / "cache"))
    (tmp_path / "gold.sql").write_text("SELECT * FROM p WHERE age > 200")
    (tmp_path / "gen.sql").write_text("SELECT * FROM p WHERE 0 = 1")
    return str(tmp_path / "gold.sql"), str(tmp_path / "gen.sql")


def test_cli_mine_flag_and_realism(people, queries, tmp_path):
    gold, gen = queries
    plain = run("pair", gold, gen, "--db", str(people), "--json")
    assert plain.exit_code == 1
    assert 0 <= json.loads(plain.stdout)["counterexample"]["realism"] < 1
    assert "realism" in run("pair", gold, gen, "--db", str(people)).stdout
    mined = run("pair", gold, gen, "--db", str(people), "--mine", "--json")
    assert mined.exit_code == 0, mined.stdout
    assert json.loads(mined.stdout)["verdict"] == "equivalent"
    assert len(list((tmp_path / "cache" / "constraints").glob("*.json"))) == 1  # cached by content


def test_cli_mine_command_and_constraints_file(people, queries, tmp_path):
    gold, gen = queries
    out = tmp_path / "c.json"
    r = run("mine", str(people), "-o", str(out))
    assert r.exit_code == 0 and json.loads(out.read_text())["format"] == "sqlwitness-constraints"
    v = run("pair", gold, gen, "--db", str(people), "--constraints", str(out), "--json")
    assert v.exit_code == 0 and json.loads(v.stdout)["verdict"] == "equivalent"
    show = run("constraints", "show", str(out))
    assert show.exit_code == 0 and "is one of 'F', 'M'" in show.stdout


def test_cli_bad_inputs(people, queries, tmp_path):
    gold, gen = queries
    r = run("pair", gold, gen, "--mine")
    assert r.exit_code == 3 and "--mine needs --db" in r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r = run("pair", gold, gen, "--db", str(people), "--constraints", str(bad), "--json")
    assert r.exit_code == 3
    v = json.loads(r.stdout)
    assert v["verdict"] == "error" and "is not JSON" in v["reason"] and "\n" not in v["reason"]
    r = run("mine", str(tmp_path / "missing.sqlite"))
    assert r.exit_code == 3 and r.stderr.strip() == f"error: database '{tmp_path / 'missing.sqlite'}' not found"
    r = run("mine", str(people), "--kinds", "range,bogus")
    assert r.exit_code == 3 and "unknown kind(s) bogus" in r.stderr
    r = run("mine", str(people), "--validate-with-llm")
    assert r.exit_code == 3 and "needs --base-url and --model" in r.stderr
