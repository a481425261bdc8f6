"""The assumptions behind a leaderboard's proofs: each verification records the assumptions its
verdict used (by name, `verify assumptions`), the run store keeps them, the summary counts them
per system, and `--strict` / `--assume NAME` reach the verifier (and key the cache apart)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from benchmarks.evaluate import EvalConfig, VerifyTask, print_leaderboard, run_evaluation, run_task, summarize
from benchmarks.store import ResultRow, RunStore
from sqlwitness_cli import app

DDL = "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT, price INTEGER);"
# a proof up to k over text: by default it rests on "text values are printable ASCII" (the
# correlated COUNT, which no every-size rule decorrelates, keeps row-wise reasoning, which needs
# no assumption here, out of it)
GOLD = "SELECT count(*) FROM item WHERE name LIKE 'p%'"
PRED = ("SELECT count(*) FROM item AS a WHERE (SELECT count(*) FROM item AS b WHERE b.id = a.id "
        "AND (substr(b.name, 1, 1) = 'p' OR substr(b.name, 1, 1) = 'P')) > 0")


def _task(db: Path, **policy) -> VerifyTask:
    return VerifyTask(gold=GOLD, pred=PRED, db_id="shop", db_path=str(db), tables_json="", semantics="auto",
                      bound=2, timeout=60, minimize=True, flavour="spider", **policy)


@pytest.fixture
def shop(tmp_path) -> Path:
    db = tmp_path / "shop.sqlite"
    con = sqlite3.connect(db)
    con.executescript(DDL + "INSERT INTO item VALUES (1, 'pen', 5), (2, 'Pad', 20);")
    con.close()
    return db


def test_a_verification_names_the_assumptions_its_proof_used(shop):
    default = run_task(_task(shop))
    strict = run_task(_task(shop, strict=True))
    assert default["verdict"] == strict["verdict"] == "equivalent"
    assert default["assumptions"] == "printable_text"
    assert strict["assumptions"] == "text_representation"  # the one kept in strict mode
    assert run_task(_task(shop, assume=["date_text"]))["assumptions"] == "printable_text"  # not needed here


def _row(system: str, question: int, assumptions: str | None, outcome: str = "verified") -> ResultRow:
    return ResultRow(benchmark="spider_dev", question=question, system=system, gold_hash="g", pred_hash=str(question),
                     semantics="auto", bound=2, constraints_hash="none", tool_version="t", settings="s", db_id="shop",
                     ex=True, outcome=outcome, verdict="equivalent" if outcome == "verified" else "not_equivalent",
                     strength="up_to_k" if outcome == "verified" else "refuted", assumptions=assumptions)


def test_the_summary_counts_each_assumption_per_system_over_verified_pairs():
    rows = [_row("a", 0, "printable_text"), _row("a", 1, "printable_text,date_text"), _row("a", 2, None),
            _row("a", 3, "printable_text", outcome="refuted"), _row("b", 0, "clock")]
    by = {s.system: s for s in summarize(rows, ["a", "b"], ex_available=True)}
    assert by["a"].assumptions_used == {"printable_text": 2, "date_text": 1}
    assert by["b"].assumptions_used == {"clock": 1}
    console = Console(width=200, record=True, color_system=None)
    from benchmarks.evaluate import Leaderboard

    print_leaderboard(Leaderboard(benchmark="spider_dev", config={}, ex_available=True, records=rows,
                                  systems=list(by.values()), excluded_questions=0), console)
    text = console.export_text()
    assert "printable_text" in text and "date_text" in text and "clock" in text


def test_strict_runs_are_stored_apart_and_change_the_assumptions(tmp_path, shop):
    d = tmp_path / "spider"
    (d / "database" / "shop").mkdir(parents=True)
    shop.rename(d / "database" / "shop" / "shop.sqlite")
    easy = {"select": [False, [[0, [0, [0, 1, False], None]]]], "from": {"table_units": [["table_unit", 0]],
            "conds": []}, "where": [], "groupBy": [], "having": [], "orderBy": [], "limit": None,
            "intersect": None, "union": None, "except": None}
    (d / "dev.json").write_text(json.dumps([{"db_id": "shop", "query": GOLD, "question": "q", "sql": easy}]))
    (d / "tables.json").write_text("[]")
    preds = tmp_path / "sys.sql"
    preds.write_text(f"{PRED}\tshop\n")
    with RunStore(tmp_path / "runs.duckdb") as st:
        plain = run_evaluation(EvalConfig(benchmark="spider", data_dir=d, bound=2, workers=1), [(None, preds)],
                               store=st)
        strict = run_evaluation(EvalConfig(benchmark="spider", data_dir=d, bound=2, workers=1, strict=True),
                                [(None, preds)], store=st)
    assert plain.systems[0].assumptions_used == {"printable_text": 1}
    assert strict.systems[0].assumptions_used == {"text_representation": 1}
    assert strict.new_verifications == 1  # not the default run's cached verdict
    stored = {r[0] for r in __import__("duckdb").connect(str(tmp_path / "runs.duckdb"), read_only=True).execute(
        "SELECT assumptions FROM results").fetchall()}
    assert stored == {"printable_text", "text_representation"}


def test_an_unknown_assumption_is_refused_by_name():
    r = CliRunner().invoke(app, ["leaderboard", "x.sql", "--benchmark", "spider", "--assume", "nosuch"])
    assert r.exit_code != 0 and "unknown assumption 'nosuch'" in r.output
