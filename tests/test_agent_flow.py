"""The agent's flow, driven end to end by a scripted OpenAI-compatible model."""

from __future__ import annotations

import json
import sqlite3

import pytest

from agent.flow import AgentConfig, answer_question
from agent.llm import LLM, Budget, LLMConfig, ResponseCache
from agent.planning import Plan, parse_check
from agent.scripted import Fail, ScriptedModel, text, tool_calls
from agent.select import SelectConfig

OK = text('{"ok": true}')


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "music.sqlite"
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE singer (id INTEGER PRIMARY KEY, name TEXT, country TEXT, age INTEGER);
        INSERT INTO singer VALUES (1, 'Ann', 'France', 30), (2, 'Bob', 'France', 41), (3, 'Cyd', 'Spain', 52);
    """)
    con.close()
    return path


def plans(*items: tuple[str, str, str]) -> str:
    return json.dumps({"plans": [{"interpretation": i, "approach": a, "language": lang} for i, a, lang in items]})


def sql(q: str):
    return text(f"Final answer:\n```sql\n{q}\n```")


def py(code: str):
    return text(f"```python\n{code}\n```")


def run(fake, db, tmp_path=None, notify=None, **cfg):
    cache = ResponseCache(tmp_path / "cache") if tmp_path is not None else None
    llm = LLM(LLMConfig(model="m"), client=fake.client(), cache=cache, sleep=lambda s: None)
    config = AgentConfig(select=SelectConfig(verify_budget=5.0), **cfg)
    return answer_question("How many singers are from France?", db, llm, config, notify=notify)


def tool_messages(fake, stage):
    out = []
    for req, st in zip(fake.requests, fake.stages):
        if st == stage:
            out = [m["content"] for m in req["messages"] if m["role"] == "tool"]
    return out


def test_explore_plans_sql_and_python_candidates_and_vote(db):
    fake = ScriptedModel({
        "explore": [tool_calls(("list_tables", {}), ("search_values", {"text": "france"})),
                    tool_calls(("distinct_values", {"table": "singer", "column": "country"})),
                    text("singer.country holds 'France'")],
        "plan": [text(plans(("count singers from France", "COUNT(*) WHERE country = 'France'", "sql"),
                            ("Count singers from France.", "count(*) where country = 'France'", "sql"),  # duplicate
                            ("count them in pandas", "filter a DataFrame", "python"),
                            ("count distinct names of French singers", "COUNT(DISTINCT name)", "sql")))],
        "implement:p1": [tool_calls(("run_sql", {"sql": "SELECT COUNT(*) FROM singer WHERE country = 'France'"})),
                         sql("SELECT COUNT(*) FROM singer WHERE country = 'France'")],
        "implement:p2": [py("df = sql(\"SELECT * FROM singer\")\nresult = [[int((df.country == 'France').sum())]]")],
        "implement:p3": [sql("SELECT COUNT(DISTINCT name) FROM singer WHERE country = 'France'")],
    }, default=lambda r: OK)
    ans = run(fake, db)
    assert ans.status == "ok"
    assert [p.id for p in ans.plans] == ["p1", "p2", "p3"]  # the duplicate plan was dropped
    assert ans.plans[1].language == "python"
    assert "France" in ans.notes
    # exploration saw real tool output
    seen = tool_messages(fake, "explore")
    assert any("singer | country | France | exact" in s for s in seen)
    assert any("France | 2" in s for s in seen)
    # every plan produced a result; all three agree (2) and form one cluster
    assert [c.result.rows for c in ans.candidates] == [[[2]], [[2]], [[2]]]
    assert ans.selection.clusters[0].size == 3
    assert ans.sql in ("SELECT COUNT(*) FROM singer WHERE country = 'France'",
                       "SELECT COUNT(DISTINCT name) FROM singer WHERE country = 'France'")
    assert ans.plan.language == "sql"  # the final answer is always SQL
    assert fake.count("check:") == 3
    kinds = {e["kind"] for e in ans.trace}
    assert {"llm", "tool", "exec", "check", "plans", "selection", "answer"} <= kinds
    assert ans.usage.calls == len(fake.requests)


def test_code_repair_until_it_runs(db):
    fake = ScriptedModel({
        "explore": [text("notes")],
        "plan": [text(plans(("count", "", "sql")))],
        "implement:p1": [sql("SELECT COUNT(*) FROM singers WHERE country = 'France'"),  # no such table
                         text("I think it is fine."),  # no code block
                         sql("SELECT COUNT(*) FROM singer WHERE country = 'France'")],
    }, default=lambda r: OK)
    ans = run(fake, db)
    c = ans.candidates[0]
    assert c.status == "ok" and c.code_repairs == 2 and c.result.rows == [[2]]
    repair_prompts = [m["content"] for m in fake.requests[-2]["messages"] if m["role"] == "user"]
    assert any("no such table: singers" in p for p in repair_prompts)
    assert any("no code block found" in m["content"] for m in fake.requests[-2]["messages"] if m["role"] == "user")
    assert ans.sql == "SELECT COUNT(*) FROM singer WHERE country = 'France'"


def test_code_repair_gives_up_after_three(db):
    bad = sql("SELECT nope FROM singer")
    fake = ScriptedModel({"explore": [text("n")], "plan": [text(plans(("a", "", "sql")))],
                          "implement:p1": [bad, bad, bad, bad, sql("SELECT 1")]}, default=lambda r: OK)
    ans = run(fake, db)
    c = ans.candidates[0]
    assert c.status == "failed" and c.code_repairs == 3 and "no such column: nope" in c.error
    assert ans.sql is None and ans.status == "no_candidate"
    assert fake.count("implement:p1") == 4


def test_python_repair_tier(db):
    fake = ScriptedModel({"explore": [text("n")], "plan": [text(plans(("py", "", "python")))],
                          "implement:p1": [py("x = 1 / 0"), py("print('no result')"), py("result = [[2]]")]},
                         default=lambda r: OK)
    ans = run(fake, db)
    c = ans.candidates[0]
    assert c.language == "python" and c.code_repairs == 2 and c.result.rows == [[2]]
    # only a Python candidate: it votes but cannot be the (SQL) answer
    assert ans.sql is None and ans.status == "no_candidate"


def test_self_check_sends_the_plan_back_for_revision(db):
    revised = {"interpretation": "count French singers", "approach": "WHERE country = 'France'", "language": "sql"}
    fake = ScriptedModel({
        "explore": [text("n")],
        "plan": [text(plans(("count all singers", "COUNT(*)", "sql")))],
        "implement:p1": [sql("SELECT COUNT(*) FROM singer")],
        "check:p1": [text(json.dumps({"ok": False, "problem": "ignores France", "revised_plan": revised}))],
        "implement:p1r1": [sql("SELECT COUNT(*) FROM singer WHERE country = 'France'")],
        "check:p1r1": [OK],
    })
    ans = run(fake, db)
    c = ans.candidates[0]
    assert c.revisions == 1 and c.tried == ["p1", "p1r1"] and c.self_check == "ok"
    assert c.plan.interpretation == "count French singers" and c.plan.parent == "p1"
    assert ans.sql == "SELECT COUNT(*) FROM singer WHERE country = 'France'"
    assert c.check_problems == ["ignores France"]


def test_plan_revisions_are_bounded(db):
    no = text(json.dumps({"ok": False, "problem": "still wrong"}))
    fake = ScriptedModel({"explore": [text("n")], "plan": [text(plans(("a", "x", "sql")))],
                          "implement": [sql("SELECT 1")] * 5, "check": [no] * 5})
    ans = run(fake, db, max_plan_revisions=2)
    c = ans.candidates[0]
    assert c.revisions == 2 and c.self_check == "failed" and c.tried == ["p1", "p1r1", "p1r2"]
    assert "Fix: still wrong" in c.plan.approach
    assert ans.sql == "SELECT 1"  # a candidate that failed its self-check still votes
    assert fake.count("check") == 3


def test_selection_majority_and_tie_break_are_order_independent(db):
    def script(order):
        answers = {"a": "SELECT COUNT(*) FROM singer WHERE country = 'France'",
                   "b": "SELECT COUNT(*) FROM singer WHERE age > 35",
                   "c": "SELECT 3 - 1"}
        s = {"explore": [text("n")], "plan": [text(plans(*[(f"reading {k}", answers[k], "sql") for k in order]))]}
        for i, k in enumerate(order):
            s[f"implement:p{i + 1}"] = [sql(answers[k])]
        return ScriptedModel(s, default=lambda r: OK)

    results = {run(script(o), db).sql for o in (["a", "b", "c"], ["c", "b", "a"], ["b", "a", "c"])}
    assert len(results) == 1  # all three return 2: one cluster; the representative does not depend on order


def test_malformed_tool_arguments_and_tool_errors_go_back_to_the_model(db):
    fake = ScriptedModel({
        "explore": [tool_calls(("run_sql", "{not json"), ("describe_table", {"table": "nosuch"}),
                               ("no_such_tool", {}), ("run_sql", {"sql": "DROP TABLE singer"})),
                    text("recovered")],
        "plan": [text(plans(("a", "", "sql")))],
        "implement:p1": [sql("SELECT COUNT(*) FROM singer")],
    }, default=lambda r: OK)
    ans = run(fake, db)
    msgs = tool_messages(fake, "explore")
    assert msgs[0].startswith("error: invalid arguments for run_sql")
    assert msgs[1].startswith("error: no table 'nosuch'")
    assert msgs[2].startswith("error: unknown tool 'no_such_tool'")
    assert msgs[3].startswith("error: not allowed")
    assert ans.notes == "recovered" and ans.sql == "SELECT COUNT(*) FROM singer"


def test_unreadable_plans_fall_back_to_one_plan(db):
    fake = ScriptedModel({"explore": [text("n")], "plan": [text("I would count them."), text("still prose")],
                          "implement:p1": [sql("SELECT 2")]}, default=lambda r: OK)
    ans = run(fake, db)
    assert len(ans.plans) == 1 and ans.plans[0].interpretation.startswith("the direct reading")
    assert ans.sql == "SELECT 2" and fake.count("plan") == 2


def test_budget_exhaustion_ends_the_question_cleanly(db):
    fake = ScriptedModel({"explore": [tool_calls(("list_tables", {}))] * 10}, default=lambda r: OK)
    ans = run(fake, db, budget=Budget(max_turns=4))
    assert ans.status == "budget_exhausted" and "turn budget" in ans.error
    assert len(fake.requests) == 4 and ans.sql is None and ans.usage.calls == 4


def test_budget_keeps_the_candidates_already_made(db):
    fake = ScriptedModel({"explore": [text("n")], "plan": [text(plans(("a", "", "sql")))],
                          "implement:p1": [sql("SELECT 2")],
                          "check:p1": [text('{"ok": false, "problem": "p"}')],
                          "implement:p1r1": [tool_calls(("list_tables", {}))] * 5})
    ans = run(fake, db, budget=Budget(max_turns=6))
    assert ans.status == "budget_exhausted"
    assert ans.sql == "SELECT 2" and ans.candidates[0].stopped


def test_llm_errors_retries_and_failure(db):
    fake = ScriptedModel({"explore": [Fail(status=503), text("n")],
                          "plan": [Fail(status=429), text(plans(("a", "", "sql")))],
                          "implement:p1": [sql("SELECT 2")]}, default=lambda r: OK)
    ans = run(fake, db)
    assert ans.status == "ok" and ans.sql == "SELECT 2" and ans.usage.retries == 2

    fake = ScriptedModel({"explore": [text("n")], "plan": [Fail(status=401, message="bad key")]})
    ans = run(fake, db)
    assert ans.status == "llm_error" and "HTTP 401" in ans.error and ans.sql is None


def test_rerun_from_cache_is_free_and_identical(db, tmp_path):
    def script():
        return ScriptedModel({
            "explore": [tool_calls(("list_tables", {})), text("n")],
            "plan": [text(plans(("a", "x", "sql"), ("b", "y", "python")))],
            "implement:p1": [sql("SELECT COUNT(*) FROM singer WHERE country = 'France'")],
            "implement:p2": [py("result = [[2]]")],
        }, default=lambda r: OK)

    first = run(script(), db, tmp_path)
    again = script()
    second = run(again, db, tmp_path)
    assert len(again.requests) == 0  # every call came from the cache
    assert second.sql == first.sql and second.usage.cached_calls == second.usage.calls == first.usage.calls
    assert second.usage.total_tokens == first.usage.total_tokens and second.usage.cost_usd == 0.0


def test_unreadable_database_is_reported(tmp_path):
    fake = ScriptedModel()
    ans = run(fake, tmp_path / "missing.sqlite")
    assert ans.status == "no_candidate" and "cannot read the database" in ans.error
    assert fake.requests == []


# --------------------------------------------------------------------------------------------
# without the Python tool's sandbox (bubblewrap missing): SQL tools only, never Python unisolated


def offered_tools(fake):
    return {t["function"]["name"] for req in fake.requests for t in req.get("tools") or []}


def test_without_the_sandbox_the_agent_answers_with_its_sql_tools(db, no_bwrap):
    fake = ScriptedModel({
        "explore": [tool_calls(("list_tables", {})), text("singer.country")],
        "plan": [text(plans(("count singers from France", "COUNT(*) WHERE country = 'France'", "sql"),
                            ("count them in pandas", "filter a DataFrame", "python")))],
        "implement:p1": [tool_calls(("run_sql", {"sql": "SELECT COUNT(*) FROM singer WHERE country = 'France'"})),
                         sql("SELECT COUNT(*) FROM singer WHERE country = 'France'")],
        "implement:p2": [sql("SELECT COUNT(*) FROM singer WHERE country LIKE 'france'")],
    }, default=lambda r: OK)
    notices = []
    ans = run(fake, db, notify=notices.append)
    assert ans.status == "ok" and ans.sql == "SELECT COUNT(*) FROM singer WHERE country = 'France'"
    assert [c.result.rows for c in ans.candidates] == [[[2]], [[2]]]
    # the reason is given once: to the caller, in the answer, in the trace
    assert notices == [no_bwrap] and ans.python_disabled == no_bwrap
    assert [e["message"] for e in ans.trace if e["kind"] == "python_disabled"] == [no_bwrap]
    # plans are SQL plans, and the prompts say why
    assert [p.language for p in ans.plans] == ["sql", "sql"]
    prompts = {st: req["messages"][0]["content"] for req, st in zip(fake.requests, fake.stages)}
    assert "Python is not available here" in prompts["plan"]
    assert "Python is not available here" in prompts["implement:p1"] and "```python" not in prompts["implement:p1"]
    assert "run_sql" in offered_tools(fake) and "run_python" not in offered_tools(fake)


def test_a_python_answer_without_the_sandbox_is_given_up_at_once(db, tmp_path, no_bwrap):
    marker = tmp_path / "ran-unisolated"
    fake = ScriptedModel({
        "explore": [text("n")],
        "plan": [text(plans(("count in pandas", "filter a DataFrame", "python"), ("count", "COUNT(*)", "sql")))],
        "implement:p1": [py(f"open({str(marker)!r}, 'w').write('x')\nresult = [[2]]")] + [py("result = [[2]]")] * 3,
        "implement:p2": [sql("SELECT COUNT(*) FROM singer WHERE country = 'France'")],
    }, default=lambda r: OK)
    ans = run(fake, db)
    c = ans.candidates[0]
    assert c.language == "python" and c.status == "failed" and c.error == no_bwrap
    assert c.code_repairs == 0 and fake.count("implement:p1") == 1  # no repair round for it
    assert not marker.exists()
    assert ans.status == "ok" and ans.sql == "SELECT COUNT(*) FROM singer WHERE country = 'France'"


def test_a_revised_plan_is_sql_without_the_python_tool():
    reply = json.dumps({"ok": False, "problem": "p", "revised_plan": {"interpretation": "i", "language": "python"}})
    plan = Plan(id="p1", interpretation="x")
    assert parse_check(reply, plan).revised_plan.language == "python"
    assert parse_check(reply, plan, python=False).revised_plan.language == "sql"
