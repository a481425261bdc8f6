"""`verify bench realism` on the shared Spider dev data: pairs, settings, summary."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from benchmarks.realism_bench import RealismRecord, accepted_pairs, realism_main, summarize
from benchmarks.store import normalize_sql

SPIDER = Path(__file__).resolve().parents[2] / "shared" / "data" / "spider"
PREDS = SPIDER.parent / "predictions" / "spider_dev" / "DAILSQL.sql"
pytestmark = pytest.mark.skipif(not PREDS.is_file(), reason="shared Spider data absent")


def test_only_accepted_pairs_with_different_texts_are_taken():
    pairs = accepted_pairs(SPIDER, PREDS, limit=3)
    assert len(pairs) == 3 and [p["question"] for p in pairs] == sorted(p["question"] for p in pairs)
    for p in pairs:
        assert normalize_sql(p["gold"]) != normalize_sql(p["pred"]) and Path(p["db_path"]).is_file()


def test_summary_counts_realistic_refutations_that_constraints_lose():
    recs = [RealismRecord(question=1, db_id="d", setting="none", verdict="not_equivalent", realism=1.0, seconds=1),
            RealismRecord(question=1, db_id="d", setting="mined", verdict="equivalent", seconds=1),
            RealismRecord(question=2, db_id="d", setting="none", verdict="not_equivalent", realism=0.95, seconds=3),
            RealismRecord(question=2, db_id="d", setting="mined", verdict="nondeterministic", seconds=2),
            RealismRecord(question=3, db_id="d", setting="none", verdict="unknown", seconds=2),
            RealismRecord(question=3, db_id="d", setting="mined", verdict="not_equivalent", realism=0.9, seconds=3)]
    summary, kept = summarize(recs, ["none", "mined"])
    none, mined = summary
    assert (none.refuted, none.realistic, none.median_realism, none.other) == (2, 2, 0.975, {"unknown": 1})
    assert (mined.refuted, mined.realistic, mined.median_realism) == (1, 1, 0.9)
    # only question 1's counterexample had every cell plausible: losing question 2 is no loss
    assert kept == {"realistic_without_constraints": 1, "lost": {"mined": [1]}}


def test_command_runs_every_setting(tmp_path):
    out = tmp_path / "r.jsonl"
    console = Console(record=True, width=200)
    realism_main(PREDS, SPIDER, 2, None, 2, 10.0, 1, out, console)
    recs = [RealismRecord.model_validate_json(line) for line in out.read_text().splitlines()]
    assert sorted((r.question, r.setting) for r in recs) == sorted(
        (q, s) for q in {r.question for r in recs} for s in ("none", "mined"))
    assert all(r.verdict in ("equivalent", "not_equivalent", "nondeterministic", "unknown") for r in recs)
    assert all((r.realism is not None) == (r.verdict == "not_equivalent") for r in recs)
    assert "median realism" in console.export_text()
