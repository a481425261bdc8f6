"""Dataset and prediction loaders on small fixtures built here, plus the real shared files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from benchmarks.datasets import DatasetError, load_bird, load_spider, spider_hardness
from benchmarks.predictions import PredictionError, align, discover, load_predictions

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

EMPTY_SQL = {"select": [False, [[0, [0, [0, 1, False], None]]]], "from": {"table_units": [["table_unit", 0]], "conds": []},
             "where": [], "groupBy": [], "having": [], "orderBy": [], "limit": None,
             "intersect": None, "union": None, "except": None}


def _spider_fixture(tmp: Path) -> Path:
    d = tmp / "spider"
    (d / "database" / "shop").mkdir(parents=True)
    con = sqlite3.connect(d / "database" / "shop" / "shop.sqlite")
    con.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL)")
    con.commit()
    con.close()
    hard = json.loads(json.dumps(EMPTY_SQL))
    hard["where"] = [[False, 2, [0, [0, 1, False], None], 1.0, None], "or", [False, 9, [0, [0, 2, False], None], "'a%'", None]]
    hard["orderBy"] = ["asc", [[0, [0, 1, False], None]]]
    hard["limit"] = 1
    rows = [
        {"db_id": "shop", "query": "SELECT name FROM item", "question": "names?", "sql": EMPTY_SQL},
        {"db_id": "gone", "query": "SELECT 1", "question": "lost?", "sql": hard},
    ]
    (d / "dev.json").write_text(json.dumps(rows))
    (d / "tables.json").write_text(json.dumps([
        {"db_id": "gone", "table_names_original": ["t"], "table_names": ["t"],
         "column_names_original": [[-1, "*"], [0, "a"]], "column_names": [[-1, "*"], [0, "a"]],
         "column_types": ["text", "number"], "primary_keys": [1], "foreign_keys": []}]))
    return d


def test_spider_loader_marks_missing_database(tmp_path):
    ds = load_spider(_spider_fixture(tmp_path))
    assert [q.status for q in ds.questions] == ["ok", "database missing"]
    assert ds.questions[0].db_path is not None and ds.questions[1].db_path is None
    assert ds.missing_databases() == ["gone"]
    # hardness: one clause → easy; WHERE + OR + LIKE + ORDER BY + LIMIT → beyond medium
    assert ds.questions[0].difficulty == "easy"
    assert ds.questions[1].difficulty in ("hard", "extra")
    # schema from the SQLite file when present, else from tables.json
    s = ds.schema("shop")
    assert s.table("item").column("name").not_null
    assert ds.schema("gone").table("t").primary_key == ["a"]


def test_bird_loader_evidence_difficulty_without_databases(tmp_path):
    d = tmp_path / "bird"
    d.mkdir()
    (d / "dev.json").write_text(json.dumps([{"question_id": 7, "db_id": "x", "question": "q", "evidence": "e",
                                             "SQL": "SELECT 1", "difficulty": "moderate"}]))
    (d / "dev_tables.json").write_text("[]")
    ds = load_bird(d)
    q = ds.questions[0]
    assert (q.question_id, q.evidence, q.difficulty, q.status) == (7, "e", "moderate", "database missing")
    with pytest.raises(DatasetError, match="mini_dev.json: no such file"):
        load_bird(d, "mini_dev")


def test_hardness_matches_official_labels():
    if not (SHARED / "spider" / "dev.json").is_file():
        pytest.skip("shared Spider data absent")
    ds = load_spider(SHARED / "spider")
    labels = json.loads((SHARED / "predictions" / "spider_dev" / "labeled_bridge.json").read_text())
    assert [q.difficulty for q in ds.questions] == [x["hardness"] for x in labels]
    assert spider_hardness(EMPTY_SQL) == "easy"


def test_text_predictions_with_and_without_db_ids(tmp_path):
    ds = load_spider(_spider_fixture(tmp_path))
    p = tmp_path / "a.sql"
    p.write_text("SELECT name FROM item;\tshop\nSELECT a\tFROM t\tgone\n")
    preds = load_predictions(p, known_db_ids={"shop", "gone"})
    assert align(preds, ds) == ["SELECT name FROM item;", "SELECT a\tFROM t"]  # inner tab kept
    p.write_text("SELECT 1\tgone\nSELECT 2\tshop\n")
    with pytest.raises(PredictionError, match=r"line 1 is for database 'gone'.*question 0.*'shop'"):
        align(load_predictions(p, known_db_ids={"shop", "gone"}), ds)
    p.write_text("SELECT 1\n")
    with pytest.raises(PredictionError, match=r"1 predictions for 2 questions .*missing 1"):
        align(load_predictions(p), ds)


def test_bird_json_and_json_list_and_jsonl(tmp_path):
    ds = load_spider(_spider_fixture(tmp_path))
    bj = tmp_path / "predict_dev.json"
    bj.write_text(json.dumps({"1": "SELECT 2\t----- bird -----\tgone", "0": "SELECT 1\t----- bird -----\tshop"}))
    assert align(load_predictions(bj), ds) == ["SELECT 1", "SELECT 2"]
    bj.write_text(json.dumps({"0": "SELECT 1\t----- bird -----\tshop", "2": "x"}))
    with pytest.raises(PredictionError, match=r"missing \[1\]"):
        load_predictions(bj)
    lab = tmp_path / "labeled_sys.json"
    lab.write_text(json.dumps([{"predictSQL": "SELECT name FROM item", "goldSQL": "SELECT  name FROM item"},
                               {"predictSQL": "SELECT 1", "goldSQL": "SELECT 2"}]))
    pr = load_predictions(lab)
    assert pr.system == "sys"
    with pytest.raises(PredictionError, match="item 1 carries gold query"):
        align(pr, ds)
    jl = tmp_path / "p.jsonl"
    jl.write_text('{"sql": "SELECT 1", "db_id": "shop"}\n\n{"sql": "SELECT 2"}\n')
    assert align(load_predictions(jl), ds) == ["SELECT 1", "SELECT 2"]
    jl.write_text('{"sql": "SELECT 1"}\n{oops\n')
    with pytest.raises(PredictionError, match="line 2 is not JSON"):
        load_predictions(jl)
    with pytest.raises(PredictionError, match="no such prediction file"):
        load_predictions(tmp_path / "nope.sql")
    assert [x.name for x in discover([tmp_path])] == ["labeled_sys.json", "p.jsonl", "predict_dev.json"]


def test_every_shared_prediction_file_aligns():
    if not (SHARED / "predictions").is_dir():
        pytest.skip("shared predictions absent")
    for bench, ds in (("spider_dev", load_spider(SHARED / "spider")), ("bird_dev", load_bird(SHARED / "bird"))):
        known = {q.db_id for q in ds.questions}
        for f in discover([SHARED / "predictions" / bench]):
            sqls = align(load_predictions(f, known_db_ids=known), ds)
            assert len(sqls) == len(ds.questions)
            assert all("\t" not in s or "SELECT" in s.upper() for s in sqls)


def test_cli_reports_a_misaligned_file_in_one_line(tmp_path):
    from typer.testing import CliRunner

    from sqlwitness_cli import app

    data = _spider_fixture(tmp_path)
    p = tmp_path / "short.sql"
    p.write_text("SELECT name FROM item\n")
    r = CliRunner().invoke(app, ["eval", str(p), "--benchmark", "spider", "--data", str(data),
                                 "--store", str(tmp_path / "s.duckdb")])
    assert r.exit_code == 3
    assert "1 predictions for 2 questions" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(app, ["leaderboard", str(tmp_path / "none"), "--benchmark", "spider", "--data", str(data)])
    assert r.exit_code == 3 and "no such file or folder" in r.output
