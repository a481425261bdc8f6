"""End to end on a small Spider-style fixture: EX, deduplicated verification, leaderboard, resume,
the Ray executor (same results), outputs, and the HTML report rendered by headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from benchmarks.evaluate import EvalConfig, EvalError, permute_columns, run_evaluation, write_outputs
from benchmarks.executors import LocalExecutor
from benchmarks.report import write_report
from benchmarks.store import RunStore

EASY = {"select": [False, [[0, [0, [0, 1, False], None]]]], "from": {"table_units": [["table_unit", 0]], "conds": []},
        "where": [], "groupBy": [], "having": [], "orderBy": [], "limit": None,
        "intersect": None, "union": None, "except": None}

GOLD = [
    ("shop", "SELECT count(*) FROM item"),
    ("shop", "SELECT name FROM item WHERE price > 10"),
    ("shop", "SELECT name FROM item ORDER BY price"),
    ("shop", "SELECT max(price) FROM item"),
    ("gone", "SELECT a FROM t"),
]
SYS_A = ["SELECT COUNT(id) FROM item", "select name  from ITEM where price > 10;", "SELECT name FROM item ORDER BY price",
         "SELECT MAX(price) FROM item", "SELECT a FROM t"]
# B: count(price) and price > 11 agree with the gold query on the database but not on every one;
# ORDER BY ... DESC is wrong on the database itself
SYS_B = ["SELECT count(price) FROM item", "SELECT name FROM item WHERE price > 11", "SELECT name FROM item ORDER BY price DESC",
         "select max( price ) from item;", "SELECT a FROM t"]


def _fixture(tmp: Path) -> tuple[Path, list[Path]]:
    d = tmp / "spider"
    (d / "database" / "shop").mkdir(parents=True)
    con = sqlite3.connect(d / "database" / "shop" / "shop.sqlite")
    con.executescript("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL);"
                      "INSERT INTO item VALUES (1, 'pen', 5), (2, 'ink', 20), (3, 'cup', 30);")
    con.commit()
    con.close()
    (d / "dev.json").write_text(json.dumps([{"db_id": db, "query": g, "question": f"q{i}", "sql": EASY}
                                            for i, (db, g) in enumerate(GOLD)]))
    (d / "tables.json").write_text(json.dumps([
        {"db_id": "gone", "table_names_original": ["t"], "table_names": ["t"],
         "column_names_original": [[-1, "*"], [0, "a"]], "column_names": [[-1, "*"], [0, "a"]],
         "column_types": ["text", "number"], "primary_keys": [], "foreign_keys": []}]))
    files = []
    for name, sqls in (("sys_a", SYS_A), ("sys_b", SYS_B)):
        p = tmp / f"{name}.sql"
        p.write_text("".join(f"{s}\t{db}\n" for s, (db, _) in zip(sqls, GOLD)))
        files.append(p)
    return d, files


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ev")
    data, files = _fixture(tmp)
    cfg = EvalConfig(benchmark="spider", data_dir=data, bound=2, timeout=20, effort=0.5, workers=2)
    with RunStore(tmp / "runs.duckdb") as st:
        lb = run_evaluation(cfg, [(None, f) for f in files], store=st)
    return tmp, data, files, cfg, lb


def test_leaderboard_numbers(run):
    check_numbers(run[4])


def check_numbers(lb):
    a, b = {s.system: s for s in lb.systems}["sys_a"], {s.system: s for s in lb.systems}["sys_b"]
    assert lb.excluded_questions == 1 and a.questions == b.questions == 4
    assert (a.ex, a.verified, a.refuted, a.proved) == (4, 4, 0, 4)
    assert (b.ex, b.refuted_by_database, b.refuted, b.verified) == (3, 1, 2, 1)
    assert b.ex_acc == 75.0 and b.verified_acc == 25.0 and b.drop == 50.0
    assert (a.rank_ex, a.rank_verified, b.rank_ex, b.rank_verified) == (1, 1, 2, 2)
    refuted = [r for r in lb.records if r.outcome == "refuted"]
    assert {r.question for r in refuted} == {0, 1}
    for r in refuted:  # a real counterexample, with both results
        c = r.counterexample
        assert c["tables"]["item"]["rows"] and c["gold_result"]["rows"] != c["gen_result"]["rows"]
    # question 3: both systems' predictions normalize to one text: executed once, verified once
    assert lb.new_ex_tasks == 7 and lb.new_verifications == 6
    assert {r.outcome for r in lb.records if r.question == 4} == {"database_missing"}


def test_rerun_resumes_and_gives_the_same_table(run):
    tmp, _, files, cfg, lb = run
    with RunStore(tmp / "runs.duckdb") as st:
        again = run_evaluation(cfg, [(None, f) for f in files], store=st)
    assert again.new_ex_tasks == 0 and again.new_verifications == 0
    assert [s.model_dump() for s in again.systems] == [s.model_dump() for s in lb.systems]
    # a new system reuses the verifications of identical pairs
    c = tmp / "sys_c.sql"
    c.write_text(files[1].read_text())
    with RunStore(tmp / "runs.duckdb") as st:
        third = run_evaluation(cfg, [(None, c)], store=st)
    assert third.new_verifications == 0 and third.systems[0].refuted == 2


def test_outputs_and_report_in_a_headless_browser(run):
    tmp, _, _, _, lb = run
    out = tmp / "out"
    paths = write_outputs(lb, out)
    assert json.loads(paths["json"].read_text())["systems"][0]["system"] == "sys_a"
    assert paths["csv"].read_text().splitlines()[0].startswith("system,questions,ex,verified")
    assert len(paths["records"].read_text().splitlines()) == 10
    html = write_report(lb, out / "report.html")
    text = html.read_text()
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text
    browser = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
    if browser is None:
        pytest.skip("no headless Chromium here (apt-get install chromium); .ci/run installs it")
    proc = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
                           "--dump-dom", html.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    dom = proc.stdout
    assert 'data-rendered="yes"' in dom, proc.stderr[-2000:]
    table = dom[dom.index('id="leaderboard"'):]
    table = table[: table.index("</table>")]
    assert re.findall(r'<tr data-system="([^"]+)"', table) == ["sys_a", "sys_b"]
    assert "75.0" in table and "25.0" in table
    slope = dom[dom.index('id="slope-chart"'):]
    slope = slope[: slope.index("</svg>")]
    assert len(re.findall(r'<g class="slope"', slope)) == 2 and len(re.findall(r"<line ", slope)) == 2
    bars = dom[dom.index('id="bars-chart"'):]
    bars = bars[: bars.index("</svg>")]
    assert re.findall(r'<g class="bar" data-system="([^"]+)"', bars) == ["sys_a", "sys_b"]
    assert "bar-seg bar-every_size" in bars and "bar-seg bar-refuted" in bars
    assert 'id="pair"' in dom and "counterexample database" in dom and "predicted result" in dom
    shot = out / "shot.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1000,1400",
                    f"--screenshot={shot}", html.resolve().as_uri()], capture_output=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 10_000


def test_local_executor_kills_a_hanging_task():
    t0 = time.monotonic()
    outs = {o.task_id: o for o in LocalExecutor(2).map(time.sleep, [("a", 0.1), ("h", 60), ("b", 0.2), ("c", 0)],
                                                        timeout=2)}
    assert outs["h"].error == "timeout" and [outs[k].error for k in "abc"] == [None, None, None]
    assert time.monotonic() - t0 < 30


def test_permute_columns_and_missing_constraints_package(tmp_path):
    assert permute_columns("SELECT a, b FROM t UNION SELECT c, d FROM u", [1, 0]) == \
        "SELECT b, a FROM t UNION SELECT d, c FROM u"
    assert permute_columns("SELECT * FROM t", [1, 0]) is None
    assert permute_columns("SELECT a, b FROM t ORDER BY 1", [1, 0]) is None
    cfg = EvalConfig(benchmark="spider", data_dir=tmp_path, constraints=tmp_path / "nope.json")
    with pytest.raises((EvalError, FileNotFoundError)):
        with RunStore(tmp_path / "s.duckdb") as st:
            run_evaluation(cfg, [], store=st)


def test_constraints_run_builds_on_the_verdicts_without_constraints(tmp_path):
    """Constraints only remove databases: a run with them reuses the plain run's proofs and the
    plain counterexamples that satisfy them, re-verifies the rest, and judges every pair as a
    constraints run on a fresh store does."""
    from constraints.io import save_constraints
    from constraints.models import ConstraintSet, NotNull

    data, files = _fixture(tmp_path)
    cpath = tmp_path / "shop.json"
    save_constraints(ConstraintSet(constraints=[NotNull(table="item", column="price")]), cpath)
    plain = EvalConfig(benchmark="spider", data_dir=data, bound=2, timeout=20, effort=0.5, workers=1)
    constrained = plain.model_copy(update={"constraints": cpath})
    with RunStore(tmp_path / "shared.duckdb") as st:
        run_evaluation(plain, [(None, f) for f in files], store=st)
        lb = run_evaluation(constrained, [(None, f) for f in files], store=st)
    with RunStore(tmp_path / "fresh.duckdb") as st:
        fresh = run_evaluation(constrained, [(None, f) for f in files], store=st)
        # the fresh run stored the plain verdicts it computed on the way: a plain run reuses them all
        again = run_evaluation(plain, [(None, f) for f in files], store=st)
    assert again.new_verifications == 0

    def judged(board):
        return {(r.system, r.question): (r.outcome, r.verdict) for r in board.records}

    assert judged(lb) == judged(fresh)
    by_pred = {r.pred_sql: r for r in lb.records}
    assert by_pred["SELECT COUNT(id) FROM item"].reason.startswith("proved without the constraints")
    kept = by_pred["SELECT name FROM item WHERE price > 11"]  # its counterexample has a price: NOT NULL holds
    assert kept.outcome == "refuted" and kept.reason.startswith("the counterexample found without the constraints")
    prices = [row[2] for row in kept.counterexample["tables"]["item"]["rows"]]
    assert prices and None not in prices
    assert by_pred["SELECT count(price) FROM item"].reason.startswith("refuted only by unrealistic data")


def test_pairs_refuted_only_by_unrealistic_data_are_reported(tmp_path):
    from constraints.io import save_constraints
    from constraints.models import ConstraintSet, NotNull

    data, files = _fixture(tmp_path)
    cpath = tmp_path / "shop.json"
    save_constraints(ConstraintSet(constraints=[NotNull(table="item", column="price")]), cpath)
    cfg = EvalConfig(benchmark="spider", data_dir=data, bound=2, timeout=20, effort=0.5, workers=1,
                     constraints=cpath)
    with RunStore(tmp_path / "runs.duckdb") as st:
        lb = run_evaluation(cfg, [(None, files[1])], store=st)
    b = lb.systems[0]
    # count(price) = count(*) once price is never NULL; price > 11 vs > 10 still differs (price 10.5)
    assert b.unrealistic_only == 1 and b.refuted == 1
    rec = next(r for r in lb.records if r.pred_sql.startswith("SELECT count(price)"))
    assert rec.outcome == "verified" and rec.reason.startswith("refuted only by unrealistic data")
    assert rec.counterexample is not None


def test_a_pair_undecided_under_the_constraints_is_not_called_refuted_only_by_unrealistic_data(monkeypatch):
    """Refuted without the constraints, and the constrained search runs out of time: nothing shows
    that every difference needs unrealistic data, so the pair is unknown, with no such claim."""
    import benchmarks.evaluate as evaluate
    from benchmarks.evaluate import UNREALISTIC, VerifyTask, _verify_with_constraints, summarize
    from benchmarks.store import ResultKey, ResultRow

    cex = {"tables": {"item": {"columns": ["id", "name", "price"], "rows": [[1, "pen", None]]}}}
    plain = {"verdict": "not_equivalent", "reason": "", "counterexample": cex, "seconds": 1.0}
    monkeypatch.setattr(evaluate, "_satisfies_constraints", lambda task, c: False)
    monkeypatch.setattr(evaluate, "_verify_once",
                        lambda task, hints=None: {"verdict": "unknown", "reason": "time ran out at k=2",
                                                  "counterexample": None, "seconds": 10.0})
    task = VerifyTask(gold="SELECT count(*) FROM item", pred="SELECT count(price) FROM item", db_id="shop",
                      db_path=None, tables_json="", constraints="constraints.json", semantics="bag", bound=3,
                      timeout=10.0, effort=1.0, minimize=True, flavour="spider", plain=plain)
    out = _verify_with_constraints(task)
    assert out["verdict"] == "unknown" and out["counterexample"] is None
    assert not out["reason"].startswith(UNREALISTIC)
    assert "refuted without the constraints" in out["reason"] and "time ran out at k=2" in out["reason"]
    monkeypatch.setattr(evaluate, "_verify_once",
                        lambda task, hints=None: {"verdict": "equivalent", "reason": "", "seconds": 3.0})
    out = _verify_with_constraints(task)
    assert out["reason"].startswith(UNREALISTIC) and out["counterexample"] == cex

    # stores written by early 0.2.0 runs gave undecided pairs the unrealistic reason: not counted
    key = dict(benchmark="spider_dev", question=0, system="s", gold_hash="g", pred_hash="p", semantics="bag",
               bound=3, constraints_hash="c", tool_version="0.2.0", settings="")
    rows = [ResultRow(**key, db_id="shop", outcome=o, verdict=v, reason=f"{UNREALISTIC}: ...")
            for o, v in (("unknown", "unknown"), ("verified", "equivalent"))]
    assert summarize(rows, ["s"], ex_available=True)[0].unrealistic_only == 1


def test_schema_only_pair_of_different_widths_is_refuted_with_rows(tmp_path):
    """BIRD without databases: a prediction with an extra column is refuted by a database on
    which the metric itself rejects it (the gold result has a row), not by the empty database,
    on which `set(pred) == set(gold)` holds."""
    from benchmarks.evaluate import judge_pair

    data, _ = _fixture(tmp_path)
    out = judge_pair("SELECT a FROM t", "SELECT a, a FROM t", db_path=None, db_id="gone", flavour="bird",
                     tables_json=data / "tables.json", bound=2, timeout=10)
    assert out["verdict"] == "not_equivalent" and out["outcome"] == "refuted"
    assert out["counterexample"]["gold_result"]["rows"]


def _as_a_shell_starts_it() -> None:
    """In the child before exec: SIGINT with its default action and not blocked, as a shell starts
    a command, whatever the test process (threads, libraries) has set for itself."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) process `pid` has used so far, 0 when it is gone (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> set[int]:
    """Processes whose parent is `pid` (Linux /proc)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


@pytest.mark.parametrize("how", ["ctrl-c", "kill"])
def test_interrupted_run_stops_cleanly_and_resumes(tmp_path, how):
    """Ctrl-C (SIGINT to the whole process group) or `kill` (SIGTERM to the parent) in the middle of
    a run: the command ends at once with exit code 130 and a one-line message instead of tracebacks
    from its workers, leaves no worker behind, and the store opens again with the finished pairs."""
    import os
    import signal
    import sys

    data, _ = _fixture(tmp_path)
    slow = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) "
            "SELECT count(*) FROM c")  # about a minute in SQLite: the run is busy when the signal comes
    dev = json.loads((data / "dev.json").read_text())
    dev[0]["query"] = slow
    (data / "dev.json").write_text(json.dumps(dev))
    preds = tmp_path / "p.sql"
    preds.write_text("".join(f"{q['query']}\t{q['db_id']}\n" for q in dev))
    cmd = [sys.executable, "-m", "sqlwitness_cli", "eval", str(preds), "--benchmark", "spider", "--data", str(data),
           "--store", str(tmp_path / "runs.duckdb"), "--workers", "2", "--ex-timeout", "120"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=_as_a_shell_starts_it)
    deadline = time.monotonic() + 60
    while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    # the signal comes once a worker is running the slow query: by then the parent has started
    # its workers (it starts them all before sending the first task) and waits on their results
    deadline = time.monotonic() + 120
    while max((_cpu_seconds(w) for w in _children(proc.pid)), default=0.0) < 5.0 and time.monotonic() < deadline:
        time.sleep(0.2)
    workers = _children(proc.pid)
    assert len(workers) >= 2 and proc.poll() is None
    t0 = time.monotonic()
    if how == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - t0 < 15  # did not wait for the slow query
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "Error" not in err, err
    assert "interrupted" in err and "run the same command again" in err
    time.sleep(0.5)
    assert not any(Path(f"/proc/{w}").exists() and "zombie" not in Path(f"/proc/{w}/status").read_text().lower()
                   for w in workers)
    with RunStore(tmp_path / "runs.duckdb") as st:  # not locked, not corrupt
        assert len(st.results("spider")) < len(dev)


def test_ctrl_c_while_the_outputs_are_written_says_so_and_the_rerun_writes_them(tmp_path, monkeypatch):
    """Ctrl-C after the last pair, while leaderboard.json/report.html are written: exit 130 and one
    line (no traceback); every result is in the store, so the same command writes the outputs
    without verifying anything again."""
    import benchmarks.evaluate as evaluate
    from typer.testing import CliRunner

    from sqlwitness_cli import app

    data, files = _fixture(tmp_path)
    real = evaluate.write_outputs

    def interrupted(*args, **kw):
        raise KeyboardInterrupt

    args = ["eval", str(files[0]), "--benchmark", "spider", "--data", str(data), "--out", str(tmp_path / "out"),
            "--workers", "1", "--timeout", "20", "--no-html"]
    monkeypatch.setattr(evaluate, "write_outputs", interrupted)
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 130 and "Traceback" not in r.output
    assert "interrupted while writing the outputs" in r.output and "nothing is recomputed" in r.output
    monkeypatch.setattr(evaluate, "write_outputs", real)
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "5 of 5 pairs already in" in r.output, r.output
    assert json.loads((tmp_path / "out" / "leaderboard.json").read_text())["systems"][0]["system"] == "sys_a"


def test_progress_in_a_log_file_is_a_line_now_and_then():
    """Run in the background (`nohup ... > log`), a live bar would show nothing until the end."""
    import io

    from rich.console import Console

    from benchmarks.evaluate import LogProgress, _progress

    buf = io.StringIO()
    with _progress(Console(file=buf, width=200)) as prog:
        assert isinstance(prog, LogProgress)
        prog.every = 3600.0  # no line but the first and the last
        task = prog.add_task("verify (5 pairs)", total=5)
        for _ in range(5):
            prog.advance(task)
    lines = buf.getvalue().splitlines()
    assert lines[0] == "verify (5 pairs): 5 to do"
    assert len(lines) == 2 and lines[1].startswith("verify (5 pairs): 5/5 (100%), ") and lines[1].endswith("0s left")


def test_a_prediction_of_several_statements_is_verified_on_the_statement_ex_judged(tmp_path):
    """EX judges the first statement (as the official scripts did); verification checks the same
    statement rather than failing on the text as a whole."""
    from benchmarks.evaluate import judge_pair

    data, _ = _fixture(tmp_path)
    db = data / "database" / "shop" / "shop.sqlite"
    out = judge_pair("SELECT name FROM item WHERE price > 10", "SELECT name FROM item WHERE price > 10; DROP TABLE item",
                     db_path=db, db_id="shop", flavour="spider", bound=2, timeout=10)
    assert out["ex"] is True and out["verdict"] == "equivalent", out
    out = judge_pair("SELECT name FROM item WHERE price > 10", "SELECT name FROM item WHERE price >= 20; SELECT 1",
                     db_path=db, db_id="shop", flavour="spider", bound=2, timeout=10)
    assert out["ex"] is True and out["verdict"] == "not_equivalent", out
