"""Runs: `verify agent ask` over HTTP to a local stub server, `bench` with resume, the store."""

from __future__ import annotations

import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx2
import pytest
from typer.testing import CliRunner

from agent.flow import AgentConfig
from agent.llm import LLMConfig
from agent.runs import ModelSpec, bench
from agent.scripted import ScriptedModel, text, tool_calls
from agent.store import AgentRunStore, QuestionRecord, StoreError
from sqlwitness_cli import app

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
HAVE_SPIDER = (DATA / "spider" / "dev.json").is_file()


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "m.sqlite"
    con = sqlite3.connect(path)
    con.executescript("CREATE TABLE singer (id INTEGER PRIMARY KEY, name TEXT, country TEXT);"
                      "INSERT INTO singer VALUES (1, 'Ann', 'France'), (2, 'Bob', 'Spain');")
    con.close()
    return path


@pytest.fixture
def server():
    """A local OpenAI-compatible stub server on 127.0.0.1 answering from a ScriptedModel."""
    fake = ScriptedModel({
        "explore": [tool_calls(("list_tables", {})), text("singer.country")],
        "plan": [text(json.dumps({"plans": [{"interpretation": "count French singers", "approach": "filter"}]}))],
        "implement:p1": [text("```sql\nSELECT COUNT(*) FROM singer WHERE country = 'France'\n```")],
    }, default=lambda r: text('{"ok": true}'))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            resp = fake.handler(httpx2.Request("POST", f"http://stub{self.path}", content=body))
            self.send_response(resp.status_code)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(resp.content)

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield fake, f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()
    srv.server_close()


def test_ask_against_a_local_server(db, server, tmp_path, monkeypatch):
    fake, url = server
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    args = ["agent", "ask", "How many singers are from France?", "--db", str(db), "--base-url", url,
            "--model", "stub", "--cache-dir", str(tmp_path / "cache"), "--verify-budget", "0"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "SELECT COUNT(*) FROM singer WHERE country = 'France'" in r.output
    assert "plan p1" in r.output and "count French singers" in r.output
    assert "tool explore: list_tables" in r.output and "selection: 1 clusters" in r.output
    n = len(fake.requests)
    # the same question again: answered from the cache, the server is not asked
    r2 = CliRunner().invoke(app, args + ["--json"])
    assert r2.exit_code == 0 and len(fake.requests) == n
    ans = json.loads(r2.stdout)
    assert ans["usage"]["cached_calls"] == ans["usage"]["calls"] == n


def test_ask_errors_are_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    r = CliRunner().invoke(app, ["agent", "ask", "q", "--db", str(tmp_path / "none.sqlite")])
    assert r.exit_code == 3 and "no such database file" in r.output
    db = tmp_path / "x.sqlite"
    sqlite3.connect(db).close()
    r = CliRunner().invoke(app, ["agent", "ask", "q", "--db", str(db)])
    assert r.exit_code == 3 and "OPENAI_API_KEY" in r.output


def test_store_resume_ignores_torn_lines_and_checks_settings(tmp_path):
    s = AgentRunStore(tmp_path / "run")
    s.open_run({"model": "a"})
    s.begin(1)
    s.event(1, {"kind": "llm"})
    s.finish(QuestionRecord(index=1, db_id="d", question="q"))
    with open(tmp_path / "run" / "questions.jsonl", "a") as f:
        f.write('{"index": 2, "db_id": "d", "quest')  # a kill in the middle of a line
    assert s.finished() == {1} and s.trace(1) == [{"kind": "llm"}]
    s.open_run({"model": "a"})  # same settings: resumes
    with pytest.raises(StoreError, match="model: 'a' there, 'b' now"):
        AgentRunStore(tmp_path / "run").open_run({"model": "b"})


@pytest.mark.skipif(not HAVE_SPIDER, reason="shared Spider data absent")
def test_bench_scripted_resumes_and_stores_every_message(tmp_path):
    preds = DATA / "predictions" / "spider_dev"
    spec = ModelSpec(kind="scripted", config=LLMConfig(model="scripted"))
    agent = AgentConfig(n_plans=3)
    out = tmp_path / "run"
    kw = dict(scripted_from=[preds / "DAILSQL_SC.sql", preds / "Llama2-7B.sql"], verify_timeout=5)
    s1 = bench("spider", DATA / "spider", out, spec, agent, limit=2, **kw)
    assert s1.questions == 2 and s1.newly_done == 2 and s1.mean_calls > 0 and s1.mean_tokens > 0
    recs = AgentRunStore(out).records()
    assert [r.index for r in recs] == [0, 1] and all(r.ex is not None for r in recs)
    trace = AgentRunStore(out).trace(0)
    llm_events = [e for e in trace if e["kind"] == "llm"]
    assert len(llm_events) == recs[0].calls and all(e["request"]["messages"] for e in llm_events)
    assert any(e["kind"] == "tool" and e["tool"] == "run_sql" for e in trace)
    # resume: the two finished questions are skipped, one more is run
    s2 = bench("spider", DATA / "spider", out, spec, agent, limit=3, **kw)
    assert s2.newly_done == 1 and s2.questions == 3
    # an interrupted question (its record lost) is redone from the cache, at no new LLM cost
    lines = (out / "questions.jsonl").read_text().splitlines()
    (out / "questions.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    s3 = bench("spider", DATA / "spider", out, spec, agent, limit=3, **kw)
    redone = AgentRunStore(out).records()[-1]
    assert s3.newly_done == 1 and redone.cached_calls == redone.calls > 0
    # every scored question is also a row of the benchmarks' DuckDB run store, as a leaderboard's
    import duckdb

    rows = duckdb.connect(str(out / "runs.duckdb"), read_only=True).execute(
        "SELECT question, system, ex, outcome, strength FROM results ORDER BY question").fetchall()
    by_index = {r.index: r for r in AgentRunStore(out).records()}
    assert [q for q, *_ in rows] == [0, 1, 2]
    assert all(system == "agent:scripted" and ex == by_index[q].ex and outcome == by_index[q].outcome
               and strength == by_index[q].strength is not None for q, system, ex, outcome, strength in rows)
    # different settings on the same folder are refused
    with pytest.raises(StoreError):
        bench("spider", DATA / "spider", out, spec, AgentConfig(n_plans=2), limit=3, **kw)


@pytest.mark.skipif(not HAVE_SPIDER, reason="shared Spider data absent")
def test_bench_and_show_commands(tmp_path):
    preds = DATA / "predictions" / "spider_dev"
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["agent", "bench", "--benchmark", "spider", "--data", str(DATA), "--out", str(out),
                                 "--limit", "1", "--scripted-from", str(preds / "RESDSQL_3B.sql"),
                                 "--verify-timeout", "5"])
    assert r.exit_code == 0, r.output
    assert "1 questions" in r.output and "LLM calls" in r.output
    assert json.loads((out / "summary.json").read_text())["questions"] == 1
    shown = CliRunner().invoke(app, ["agent", "show", str(out), "-q", "0"])
    assert shown.exit_code == 0 and "LLM explore" in shown.output and "answer: ok" in shown.output
    missing = CliRunner().invoke(app, ["agent", "show", str(tmp_path)])
    assert missing.exit_code == 3 and "not a run folder" in missing.output
    nokey = CliRunner().invoke(app, ["agent", "bench", "--benchmark", "nope", "--out", str(tmp_path / "x")])
    assert nokey.exit_code == 3 and "unknown benchmark" in nokey.output


@pytest.mark.skipif(not (DATA / "bird" / "dev.json").is_file(), reason="shared BIRD data absent")
def test_bench_without_databases_says_so_and_leaves_nothing(tmp_path):
    spec = ModelSpec(kind="endpoint", config=LLMConfig(model="m", base_url="http://127.0.0.1:9/v1"))
    with pytest.raises(ValueError, match=r"no question of bird dev .* has a database .*1534 skipped"):
        bench("bird", DATA / "bird", tmp_path / "run", spec, AgentConfig())
    assert not (tmp_path / "run").exists()


def test_answers_are_scored_as_the_leaderboard_scores_systems(tmp_path):
    """verified = EX accepted and not refuted: an answer that matches on the real database only
    by coincidence is EX-correct but not verified; an equivalent rewrite is both."""
    from agent.runs import score

    path = tmp_path / "s.sqlite"
    con = sqlite3.connect(path)
    con.executescript("CREATE TABLE singer (id INTEGER PRIMARY KEY, name TEXT, age INTEGER);"
                      "INSERT INTO singer VALUES (1, 'Ann', 30), (2, 'Bob', 40);")
    con.close()
    gold = "SELECT name FROM singer WHERE age > 35"
    args = dict(gold_sql=gold, db_path=path, db_id="s", flavour="spider", verify_timeout=10, verify_bound=3,
                ex_timeout=10)
    same = score("SELECT name FROM singer WHERE NOT age <= 35", **args)
    assert (same["ex"], same["verdict"], same["outcome"], same["verified"]) == (True, "equivalent", "verified", True)
    assert same["strength"] == "every_size"
    lucky = score("SELECT name FROM singer WHERE name = 'Bob'", **args)
    assert (lucky["ex"], lucky["verdict"], lucky["outcome"], lucky["verified"]) == (
        True, "not_equivalent", "refuted", False)
    assert lucky["counterexample"]["gold_result"] != lucky["counterexample"]["gen_result"]
    wrong = score("SELECT name FROM singer", **args)
    assert wrong["ex"] is False and wrong["verified"] is False and wrong["verdict"] is None
    assert wrong["strength"] == "n/a" and lucky["strength"] == "refuted"
    assert score(None, **args)["verified"] is False


# --------------------------------------------------------------------------------------------
# without the Python tool's sandbox (bubblewrap missing)


@pytest.fixture
def tiny_spider(tmp_path):
    """A Spider-shaped dev set of two questions on one database, and a prediction file for it."""
    root = tmp_path / "data"
    (root / "spider" / "database" / "music").mkdir(parents=True)
    con = sqlite3.connect(root / "spider" / "database" / "music" / "music.sqlite")
    con.executescript("CREATE TABLE singer (id INTEGER PRIMARY KEY, name TEXT, country TEXT);"
                      "INSERT INTO singer VALUES (1, 'Ann', 'France'), (2, 'Bob', 'Spain');")
    con.close()
    golds = ["SELECT COUNT(*) FROM singer WHERE country = 'France'", "SELECT name FROM singer WHERE country = 'Spain'"]
    (root / "spider" / "dev.json").write_text(json.dumps(
        [{"db_id": "music", "query": g, "question": f"question {i}"} for i, g in enumerate(golds)]))
    (root / "spider" / "tables.json").write_text("[]")
    preds = tmp_path / "system.sql"
    preds.write_text("".join(f"{g}\tmusic\n" for g in golds))
    return root, preds


def test_ask_without_the_sandbox_says_so_once_and_answers(db, server, tmp_path, no_bwrap):
    fake, url = server
    r = CliRunner().invoke(app, ["agent", "ask", "How many singers are from France?", "--db", str(db),
                                 "--base-url", url, "--model", "stub", "--no-cache", "--verify-budget", "0", "--json"])
    assert r.exit_code == 0, r.output
    assert r.stderr.count(no_bwrap) == 1 and r.stderr.startswith("warning: the Python tool is disabled")
    ans = json.loads(r.stdout)
    assert ans["python_disabled"] == no_bwrap
    assert ans["sql"] == "SELECT COUNT(*) FROM singer WHERE country = 'France'"
    assert all(t["function"]["name"] != "run_python" for req in fake.requests for t in req.get("tools") or [])


def test_bench_without_the_sandbox_says_so_once_and_records_it(tmp_path, tiny_spider, no_bwrap):
    data, preds = tiny_spider
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["agent", "bench", "--benchmark", "spider", "--data", str(data), "--out", str(out),
                                 "--scripted-from", str(preds), "--plans", "1", "--verify-timeout", "0",
                                 "--verify-budget", "0"])
    assert r.exit_code == 0, r.output
    assert "2 questions" in r.stdout and "EX 100.0%" in r.stdout
    assert r.stderr.count(no_bwrap) == 1
    store = AgentRunStore(out)
    assert [(rec.status, rec.python_disabled) for rec in store.records()] == [("ok", no_bwrap)] * 2
    assert all([e["message"] for e in store.trace(i) if e["kind"] == "python_disabled"] == [no_bwrap]
               for i in (0, 1))
    assert json.loads((out / "summary.json").read_text())["python_disabled"] == [no_bwrap]


def test_bench_in_worker_processes_gives_the_reason_once(tmp_path, tiny_spider, no_bwrap):
    data, preds = tiny_spider
    spec = ModelSpec(kind="scripted", config=LLMConfig(model="scripted"))
    notices = []
    s = bench("spider", data / "spider", tmp_path / "run", spec, AgentConfig(n_plans=1), scripted_from=[preds],
              workers=2, verify_timeout=0, notify=notices.append)
    assert s.questions == 2 and notices == [no_bwrap] and s.python_disabled == [no_bwrap]
