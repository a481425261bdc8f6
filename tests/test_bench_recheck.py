"""`verify bench recheck RUN`: the every-size proofs of a leaderboard run re-checked on larger
random databases; a wrong proof is listed and the command exits 1."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from sqlwitness_cli import app

EASY = {"select": [False, [[0, [0, [0, 1, False], None]]]], "from": {"table_units": [["table_unit", 0]], "conds": []},
        "where": [], "groupBy": [], "having": [], "orderBy": [], "limit": None,
        "intersect": None, "union": None, "except": None}
DDL = "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price INTEGER);"


def _run(tmp_path: Path, pairs: list[tuple[str, str, str]], status: str = "ok") -> tuple[Path, Path]:
    """A Spider-shaped data folder with one database, and a run folder whose records mark each
    (gold, prediction, strength) as the leaderboard would."""
    data = tmp_path / "data"
    db = data / "spider" / "database" / "shop" / "shop.sqlite"
    db.parent.mkdir(parents=True)
    con = sqlite3.connect(db)
    con.executescript(DDL + "INSERT INTO item VALUES (1, 'pen', 5), (2, 'ink', 20), (3, 'cup', 30);")
    con.close()
    (data / "spider" / "dev.json").write_text(json.dumps(
        [{"db_id": "shop", "query": g, "question": "q", "sql": EASY} for g, _, _ in pairs]))
    (data / "spider" / "tables.json").write_text("[]")
    run = tmp_path / "run"
    run.mkdir()
    with (run / "records.jsonl").open("w") as f:
        for i, (g, p, strength) in enumerate(pairs):
            f.write(json.dumps({"question": i, "system": "s", "db_id": "shop", "status": status, "gold_sql": g,
                                "pred_sql": p, "strength": strength, "reason": "row-wise"}) + "\n")
    return data, run


def test_true_proofs_pass_and_a_wrong_one_is_named(tmp_path):
    data, run = _run(tmp_path, [
        ("SELECT name FROM item WHERE price > 10", "SELECT name FROM item WHERE NOT price <= 10", "every_size"),
        ("SELECT count(*) FROM item", "SELECT count(id) FROM item", "every_size"),
        # agrees on the shipped database (no price is 5 < p <= 6), differs on larger random ones
        ("SELECT name FROM item WHERE price > 5", "SELECT name FROM item WHERE price > 6", "every_size"),
        ("SELECT name FROM item WHERE price > 5", "SELECT name FROM item WHERE price > 7", "up_to_k"),  # not a proof
    ])
    r = CliRunner().invoke(app, ["bench", "recheck", str(run), "--benchmark", "spider", "--data", str(data),
                                 "--databases", "40", "--workers", "1"])
    assert r.exit_code == 1, r.output
    assert "WRONG PROOF" in r.output and "price > 6" in r.output and "price > 7" not in r.output
    head = next(line for line in r.output.splitlines() if line.strip().startswith("│"))
    assert [c.strip() for c in head.strip("│ ").split("│")][:3] == ["3", "120", "1"]  # pairs, databases, wrong


def test_a_run_of_true_proofs_exits_0_and_pairs_ex_rejects_are_skipped(tmp_path):
    data, run = _run(tmp_path, [
        ("SELECT count(*) FROM item", "SELECT count(id) FROM item", "every_size"),
        ("SELECT name FROM item", "SELECT name FROM item WHERE price > 10", "every_size"),  # EX tells them apart
    ])
    r = CliRunner().invoke(app, ["bench", "recheck", str(run), "--benchmark", "spider", "--data", str(data),
                                 "--databases", "10", "--workers", "2"])  # the process pool's path
    assert r.exit_code == 0, r.output
    assert "1 not re-checked: EX no longer accepts the pair" in " ".join(r.output.split())


def test_bad_input_is_named(tmp_path):
    r = CliRunner().invoke(app, ["bench", "recheck", str(tmp_path), "--benchmark", "spider"])
    assert r.exit_code != 0 and "no records.jsonl" in r.output
    r = CliRunner().invoke(app, ["bench", "recheck", str(tmp_path), "--benchmark", "sql"])
    assert r.exit_code != 0 and "unknown benchmark" in r.output


def test_proofs_of_a_run_without_databases_are_rechecked(tmp_path):
    """BIRD's records say "database missing" (verification only): its proofs still count. A run
    with no proof says so."""
    from benchmarks.recheck_run import proofs_of_run

    data, run = _run(tmp_path, [("SELECT count(*) FROM item", "SELECT count(id) FROM item", "every_size"),
                                ("SELECT name FROM item", "SELECT name FROM item", "up_to_k")],
                     status="database missing")
    proofs = proofs_of_run(run / "records.jsonl", "spider", data / "spider")
    assert [(p.gold, p.pred) for p in proofs] == [("SELECT count(*) FROM item", "SELECT count(id) FROM item")]
    data, run = _run(tmp_path / "none", [("SELECT name FROM item", "SELECT name FROM item", "up_to_k")])
    r = CliRunner().invoke(app, ["bench", "recheck", str(run), "--benchmark", "spider", "--data", str(data),
                                 "--workers", "1"])
    assert r.exit_code == 0 and "holds no every-size proof" in " ".join(r.output.split())
