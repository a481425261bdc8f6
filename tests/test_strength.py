"""How strong each "verified" is (`verify.verdict.Strength`): every verdict records it, the run
store keeps it (and a store written before it existed still opens), and every leaderboard table
(terminal, CSV, JSON, HTML data) counts the verified pairs by strength beside proved accuracy.

The below-bound stop is forced without timing: the SMT search is made to answer, above k = 1, as
it does when the only models left rest on ties the engine does not confirm (`tie_free_unsat`)."""

from __future__ import annotations

import csv
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from rich.console import Console
from typer.testing import CliRunner

import verify.check as check
from benchmarks.evaluate import Leaderboard, VerifyTask, print_leaderboard, run_evaluation, summarize, write_outputs
from benchmarks.executors import TaskOutcome
from benchmarks.report import render_html, report_data
from benchmarks.store import ResultKey, ResultRow, RunStore, VerificationRow
from sqlwitness_cli import app
from verify import check_pair
from verify.schema_io import schema_from_ddl
from verify.verdict import Strength, Verdict, VerdictKind

DDL = "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL);"


@pytest.fixture
def stop_above_1(monkeypatch) -> dict[str, bool]:
    """While `on`, the SMT search finds nothing above k = 1 only on databases without ties, which
    proves nothing there (what `_smt_at` answers when the models with ties are not confirmed)."""
    state = {"on": True}
    real = check._smt_at

    def smt_at(prep: Any, k: int, *args: Any, **kwargs: Any) -> Any:
        if not state["on"] or k <= 1:
            return real(prep, k, *args, **kwargs)
        return check._SmtResult("tie_free_unsat", assumptions=[],
                                reason=f"no difference at k={k} on databases without ties "
                                                         f"under ORDER BY ... LIMIT (forced by the test)")

    monkeypatch.setattr(check, "_smt_at", smt_at)
    return state


# --------------------------------------------------------------------------- the verdict


def test_every_verdict_records_its_strength(stop_above_1):
    schema = schema_from_ddl(DDL)

    def strength(gold: str, gen: str, bound: int = 2) -> Verdict:
        v = check_pair(gold, gen, schema=schema, bound=bound, timeout=20)
        assert v.requested_bound == bound
        assert json.loads(v.model_dump_json())["strength"] == v.strength.value  # in `--json` too
        return v

    stop_above_1["on"] = False
    assert strength("SELECT name FROM item WHERE price > 10",
                    "SELECT name FROM item WHERE NOT price <= 10").strength == Strength.EVERY_SIZE
    up = strength("SELECT count(*) FROM item", "SELECT count(DISTINCT id + 0) FROM item")
    assert (up.strength, up.bound) == (Strength.UP_TO_K, 2)
    assert strength("SELECT max(price) FROM item",
                    "SELECT price FROM item ORDER BY price DESC LIMIT 1").strength == Strength.REFUTED
    assert strength("SELECT name FROM item",
                    "SELECT printf('%s', name) FROM item").strength == Strength.UNDECIDED
    stop_above_1["on"] = True
    below = strength("SELECT count(*) FROM item", "SELECT count(DISTINCT id + 0) FROM item", bound=3)
    assert below.verdict == VerdictKind.EQUIVALENT and below.exit_code == 0
    assert (below.strength, below.bound, below.requested_bound) == (Strength.BELOW_K, 1, 3)
    assert "forced by the test" in below.proof.stopped and "forced by the test" in below.reason


def test_a_verdict_stored_before_strengths_loads():
    old = {"verdict": "equivalent", "bound": 3, "complete": False, "semantics": "bag", "dialect": "sqlite"}
    assert Verdict.model_validate(old).strength == Strength.UNKNOWN
    assert Verdict.model_validate({**old, "complete": True}).strength == Strength.EVERY_SIZE
    assert Verdict.model_validate({**old, "verdict": "unknown"}).strength == Strength.UNDECIDED
    # what `--json` writes (the computed strength included) loads again
    v = Verdict.model_validate({**old, "requested_bound": 4})
    again = Verdict.model_validate_json(v.model_dump_json())
    assert again.strength == Strength.BELOW_K and again == v


# --------------------------------------------------------------------------- `verify pair`'s first line


def _pair_first_line(tmp_path: Path, gold: str, gen: str, *extra: str) -> str:
    (tmp_path / "s.sql").write_text(DDL)
    (tmp_path / "g.sql").write_text(gold)
    (tmp_path / "p.sql").write_text(gen)
    r = CliRunner().invoke(app, ["pair", str(tmp_path / "g.sql"), str(tmp_path / "p.sql"), "--schema",
                                 str(tmp_path / "s.sql"), "--timeout", "20", *extra],
                           env={"NO_COLOR": "1", "COLUMNS": "200", "FORCE_COLOR": None, "TTY_COMPATIBLE": None})
    assert r.exit_code == 0, r.output
    return r.stdout.splitlines()[0]


def test_pair_first_line_states_the_strength(tmp_path, stop_above_1):
    stop_above_1["on"] = False
    assert _pair_first_line(tmp_path, "SELECT name FROM item WHERE price > 10",
                            "SELECT name FROM item WHERE NOT price <= 10") == "✔ equivalent for every database"
    assert _pair_first_line(tmp_path, "SELECT count(*) FROM item", "SELECT count(DISTINCT id + 0) FROM item",
                            "-k", "3") == "✔ equivalent up to 3 rows per table"
    stop_above_1["on"] = True
    assert _pair_first_line(tmp_path, "SELECT count(*) FROM item", "SELECT count(DISTINCT id + 0) FROM item", "-k", "3") == (
        "✔ no difference found up to 1 row per table; undecided above (3 requested)")


# --------------------------------------------------------------------------- the run store and the leaderboard

EASY = {"select": [False, [[0, [0, [0, 1, False], None]]]], "from": {"table_units": [["table_unit", 0]], "conds": []},
        "where": [], "groupBy": [], "having": [], "orderBy": [], "limit": None,
        "intersect": None, "union": None, "except": None}

# (gold, prediction, outcome, strength, proved bound) on item(id, name, price) = (1 pen 5) (2 ink 20) (3 cup 30)
PAIRS = [
    ("SELECT name FROM item WHERE price > 10", "SELECT name FROM item WHERE NOT price <= 10",
     "verified", "every_size", None),
    ("SELECT count(*) FROM item", "SELECT count(DISTINCT id + 0) FROM item",
     "verified", "up_to_k", 2),
    ("SELECT count(*) FROM item WHERE price > 10",  # stopped above 1
     "SELECT count(DISTINCT id + 0) FROM item WHERE price > 10",
     "verified", "below_k", 1),
    ("SELECT name FROM item WHERE price < 10", "SELECT printf('%s', name) FROM item WHERE price < 10",
     "unsupported", "undecided", None),
    ("SELECT max(price) FROM item", "SELECT price FROM item ORDER BY price DESC LIMIT 1", "refuted", "refuted", None),
    ("SELECT name FROM item ORDER BY price", "SELECT name FROM item ORDER BY price DESC",
     "refuted_by_database", "n/a", None),
    ("SELECT name FROM item WHERE price > 20", "SELECT name FROM item WHERE price > 25",  # the executor kills it
     "timeout", "undecided", None),
]


class _InProcess:
    """Runs the tasks here (so the test's patch of the SMT search holds), forcing the stop above
    k = 1 for the below-bound pair and reporting the pair with `> 25` killed for its time."""

    name = "in-process"

    def __init__(self, stop: dict[str, bool]):
        self.stop = stop

    def map(self, fn: Any, items: list[tuple[str, Any]], timeout: float, isolate: bool = False,
            warm_up: Any = None) -> Iterator[TaskOutcome]:
        for task_id, arg in items:
            if isinstance(arg, VerifyTask) and "25" in arg.pred:
                yield TaskOutcome(task_id=task_id, error="timeout", seconds=timeout)
                continue
            self.stop["on"] = isinstance(arg, VerifyTask) and "where price > 10" in arg.gold.lower() \
                and "count" in arg.gold.lower()
            t0 = time.monotonic()
            yield TaskOutcome(task_id=task_id, value=fn(arg), seconds=time.monotonic() - t0)


@pytest.fixture
def leaderboard(tmp_path, monkeypatch, stop_above_1) -> tuple[Path, Leaderboard]:
    d = tmp_path / "spider"
    (d / "database" / "shop").mkdir(parents=True)
    con = sqlite3.connect(d / "database" / "shop" / "shop.sqlite")
    con.executescript(DDL + "INSERT INTO item VALUES (1, 'pen', 5), (2, 'ink', 20), (3, 'cup', 30);")
    con.commit()
    con.close()
    (d / "dev.json").write_text(json.dumps([{"db_id": "shop", "query": g, "question": f"q{i}", "sql": EASY}
                                            for i, (g, *_) in enumerate(PAIRS)]))
    (d / "tables.json").write_text("[]")
    preds = tmp_path / "sys.sql"
    preds.write_text("".join(f"{p}\tshop\n" for _, p, *_ in PAIRS))
    monkeypatch.setattr("benchmarks.executors.make_executor", lambda *a, **k: _InProcess(stop_above_1))
    cfg = __import__("benchmarks.evaluate", fromlist=["EvalConfig"]).EvalConfig(
        benchmark="spider", data_dir=d, bound=2, timeout=20, workers=1)
    with RunStore(tmp_path / "runs.duckdb") as st:
        lb = run_evaluation(cfg, [(None, preds)], store=st)
    return tmp_path, lb


def _terminal_row(lb: Leaderboard) -> tuple[list[str], dict[str, str]]:
    """The terminal table's header and its one system's cells by header."""
    console = Console(width=300, record=True, color_system=None)
    print_leaderboard(lb, console)
    text = console.export_text().splitlines()
    head = [c.strip() for c in next(ln for ln in text if "┃" in ln).strip("┃ ").split("┃")]
    row = [c.strip() for c in next(ln for ln in text if "│ sys" in ln).strip("│ ").split("│")]
    return head, dict(zip(head, row))


def _expected_summary(s: Any) -> None:
    assert (s.questions, s.ex, s.refuted, s.refuted_by_database, s.verified) == (7, 6, 1, 1, 5)
    assert (s.every_size, s.up_to_k, s.below_k, s.undecided, s.strength_unknown) == (1, 1, 1, 2, 0)
    assert s.proved == 2 and s.proved_acc == pytest.approx(200 / 7) and s.verified_acc == pytest.approx(500 / 7)


def test_each_strength_lands_in_the_store_and_in_its_column(leaderboard):
    tmp, lb = leaderboard
    with RunStore(tmp / "runs.duckdb") as st:
        rows = {r.question: r for r in st.results("spider_dev")}
        got = {q: (r.outcome, r.strength, r.proved_bound) for q, r in rows.items()}
        assert got == {i: (o, s, b) for i, (_, _, o, s, b) in enumerate(PAIRS)}
        assert "forced by the test" in rows[2].reason
        stored = st.con.execute("SELECT question, strength FROM results ORDER BY question").fetchall()
        assert [s for _, s in stored] == [s for _, _, _, s, _ in PAIRS]
        assert {v.strength for v in st.verifications(
            [r[0] for r in st.con.execute("SELECT vkey FROM verifications").fetchall()]).values()} == {
            "every_size", "up_to_k", "below_k", "undecided", "refuted"}
    (s,) = lb.systems
    _expected_summary(s)

    # terminal: the header's columns and the system's row, cell by cell
    head, cells = _terminal_row(lb)
    assert head[:5] == ["system", "n", "EX %", "verified %", "proved %"] and "strength unknown" not in head
    assert {k: cells[k] for k in ("EX %", "verified %", "proved %", "every size", "up to k", "below k", "undecided",
                                  "refuted")} == {"EX %": "85.7", "verified %": "71.4", "proved %": "28.6",
                                                  "every size": "1", "up to k": "1", "below k": "1",
                                                  "undecided": "2", "refuted": "1"}

    # CSV, JSON, records.jsonl
    paths = write_outputs(lb, tmp / "out")
    (c,) = list(csv.DictReader(paths["csv"].open()))
    assert {k: c[k] for k in ("every_size", "up_to_k", "below_k", "undecided", "strength_unknown", "proved",
                              "verified", "proved_easy")} == {
        "every_size": "1", "up_to_k": "1", "below_k": "1", "undecided": "2", "strength_unknown": "0", "proved": "2",
        "verified": "5", "proved_easy": "2"}
    assert float(c["proved_acc"]) == pytest.approx(200 / 7)
    j = json.loads(paths["json"].read_text())["systems"][0]
    assert (j["every_size"], j["up_to_k"], j["below_k"], j["undecided"], j["proved"]) == (1, 1, 1, 2, 2)
    recs = [json.loads(line) for line in paths["records"].read_text().splitlines()]
    assert [(r["strength"], r["proved_bound"]) for r in recs] == [(s, b) for *_, s, b in PAIRS]

    # HTML: the data the page is drawn from, and the stacked bars' segments
    data = report_data(lb)["systems"][0]
    assert (data["every_size"], data["up_to_k"], data["below_k"], data["undecided"]) == (1, 1, 1, 2)
    page = render_html(lb)
    assert "bar-seg bar-${k}" in page and "['below_k', 'below k'" in page and "proved_acc" in page


def test_a_verification_only_run_counts_strengths_without_ex(leaderboard):
    _, lb = leaderboard
    rows = [r.model_copy(update={"ex": None}) for r in lb.records if r.outcome != "refuted_by_database"]
    (s,) = summarize(rows, ["sys"], ex_available=False)
    assert (s.ex, s.verified, s.refuted) == (None, None, 1)
    assert (s.every_size, s.up_to_k, s.below_k, s.undecided, s.proved) == (1, 1, 1, 2, 2)
    assert s.proved_acc == pytest.approx(200 / 6)
    noex = lb.model_copy(update={"ex_available": False, "systems": [s], "records": rows})
    _, cells = _terminal_row(noex)
    assert "EX %" not in cells and "verified %" not in cells
    assert (cells["proved %"], cells["every size"], cells["up to k"], cells["below k"], cells["undecided"],
            cells["refuted"]) == ("33.3", "1", "1", "1", "2", "1")


# --------------------------------------------------------------------------- a store written before strengths

_OLD_SCHEMA = """
CREATE TABLE results (
    benchmark VARCHAR, question INTEGER, system VARCHAR, gold_hash VARCHAR, pred_hash VARCHAR,
    semantics VARCHAR, bound INTEGER, constraints_hash VARCHAR, tool_version VARCHAR, settings VARCHAR,
    db_id VARCHAR, difficulty VARCHAR, status VARCHAR, gold_sql VARCHAR, pred_sql VARCHAR,
    ex BOOLEAN, ex_error VARCHAR, verdict VARCHAR, reason VARCHAR, counterexample JSON,
    outcome VARCHAR, seconds DOUBLE, finished_at TIMESTAMPTZ,
    PRIMARY KEY (benchmark, question, system, gold_hash, pred_hash, semantics, bound, constraints_hash,
                 tool_version, settings));
CREATE TABLE verifications (
    vkey VARCHAR PRIMARY KEY, verdict VARCHAR, reason VARCHAR, counterexample JSON, seconds DOUBLE,
    finished_at TIMESTAMPTZ);
CREATE TABLE executions (
    ekey VARCHAR PRIMARY KEY, ex BOOLEAN, ex_error VARCHAR, seconds DOUBLE, column_permutation JSON,
    finished_at TIMESTAMPTZ);
"""


def test_a_store_written_before_strengths_opens_with_strength_unknown(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(_OLD_SCHEMA)
    old = [(0, "equivalent", "verified"), (1, "not_equivalent", "refuted"), (2, None, "refuted_by_database"),
           (3, "unknown", "unknown")]
    for q, verdict, outcome in old:
        con.execute("INSERT INTO results VALUES ('spider_dev', ?, 's', 'g', ?, 'auto', 3, 'none', '0.3.0', 'x', "
                    "'d', 'easy', 'ok', 'SELECT 1', 'SELECT 1', ?, NULL, ?, '', NULL, ?, 1.0, now())",
                    [q, f"p{q}", outcome != "refuted_by_database", verdict, outcome])
    con.execute("INSERT INTO verifications VALUES ('v0', 'equivalent', '', NULL, 1.0, now())")
    con.close()

    with RunStore(path) as st:
        rows = st.results("spider_dev")
        assert [(r.outcome, r.strength, r.proved_bound) for r in rows] == [
            ("verified", "unknown", None), ("refuted", "refuted", None), ("refuted_by_database", "n/a", None),
            ("unknown", "undecided", None)]
        assert st.verifications(["v0"])["v0"].strength is None
        (s,) = summarize(rows, ["s"], ex_available=True)
        assert (s.verified, s.strength_unknown, s.undecided, s.proved, s.proved_acc) == (2, 1, 1, 0, 0.0)
        # new rows go into the old file beside the old ones
        key = ResultKey(benchmark="spider_dev", question=9, system="s", gold_hash="g", pred_hash="p9",
                        semantics="auto", bound=3, constraints_hash="none", tool_version="0.4.0", settings="x")
        st.stage_result(ResultRow(**key.model_dump(), db_id="d", ex=True, verdict="equivalent", outcome="verified",
                                  strength="below_k", proved_bound=2))
        st.stage_verification(VerificationRow(vkey="v9", verdict="equivalent", strength="up_to_k", proved_bound=3))
        st.flush()
        assert [(r.strength, r.proved_bound) for r in st.results("spider_dev", question=9)] == [("below_k", 2)]
        assert st.verifications(["v9"])["v9"].strength == "up_to_k"
    with RunStore(path) as st:  # opened again: the columns are there once
        assert len(st.results("spider_dev")) == 5


def test_a_cached_proof_without_strength_is_verified_again(leaderboard, monkeypatch, stop_above_1):
    """A proof the store cached before strengths were recorded says nothing of how far it reached:
    a re-run verifies it again; refutations and undecided verdicts are reused."""
    tmp, lb = leaderboard
    with RunStore(tmp / "runs.duckdb") as st:
        st.con.execute("DELETE FROM results")
        st.con.execute("UPDATE verifications SET strength = NULL, proved_bound = NULL")
    cfg = __import__("benchmarks.evaluate", fromlist=["EvalConfig"]).EvalConfig(
        benchmark="spider", data_dir=tmp / "spider", bound=2, timeout=20, workers=1)
    with RunStore(tmp / "runs.duckdb") as st:
        again = run_evaluation(cfg, [(None, tmp / "sys.sql")], store=st)
    assert again.new_verifications == 3  # every size, up to k, below k
    assert [r.strength for r in again.records] == [s for *_, s, _ in PAIRS]
    _expected_summary(again.systems[0])
