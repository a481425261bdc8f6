"""The agent's LLM client: retries, accounting, cache and budget, against a scripted endpoint."""

from __future__ import annotations

import pytest

from agent.llm import (LLM, Budget, BudgetExhausted, LLMConfig, LLMError, Meter, Price, PriceTable,
                       ResponseCache, request_hash)
from agent.scripted import Fail, ScriptedModel, text, tool_calls

MSG = [{"role": "system", "content": "[stage: s]"}, {"role": "user", "content": "hi"}]


def make(fake: ScriptedModel, **kw) -> tuple[LLM, list[float]]:
    sleeps: list[float] = []
    cfg = LLMConfig(model="gpt-x", **kw.pop("config", {}))
    return LLM(cfg, client=fake.client(), sleep=sleeps.append, **kw), sleeps


def test_reply_with_tool_calls_and_accounting():
    fake = ScriptedModel({"s": [tool_calls(("run_sql", {"sql": "SELECT 1"}), ("list_tables", "{bad"))]})
    prices = PriceTable(prices={"gpt-x": Price(input_per_mtok=1e6, output_per_mtok=2e6)})
    llm, _ = make(fake, prices=prices)
    meter = Meter()
    r = llm.chat(MSG, tools=[{"type": "function", "function": {"name": "run_sql", "parameters": {}}}],
                 meter=meter, stage="s")
    assert [c.name for c in r.tool_calls] == ["run_sql", "list_tables"]
    assert r.tool_calls[1].arguments == "{bad"  # malformed arguments are passed through untouched
    rec = meter.records[0]
    assert (rec.prompt_tokens, rec.completion_tokens, rec.total_tokens) == (10, 5, 15)
    assert rec.cost_usd == pytest.approx(10 * 1 + 5 * 2)
    assert rec.latency_s >= 0 and rec.attempts == 1 and not rec.cached
    assert fake.requests[0]["tools"][0]["function"]["name"] == "run_sql"
    assert r.as_message()["tool_calls"][0]["function"]["arguments"] == '{"sql": "SELECT 1"}'


def test_unknown_model_costs_nothing():
    assert PriceTable().cost("local", 10**6, 10**6) == 0.0


@pytest.mark.parametrize("failure", [Fail(status=429), Fail(status=503), Fail(status=500), Fail(timeout=True)])
def test_transient_errors_are_retried_with_backoff(failure):
    fake = ScriptedModel({"s": [failure, failure, text("done")]})
    llm, sleeps = make(fake, config={"backoff_base": 1.0, "backoff_max": 8.0})
    meter = Meter()
    assert llm.chat(MSG, meter=meter).content == "done"
    assert len(fake.requests) == 3
    assert len(sleeps) == 2 and sleeps[1] > sleeps[0] * 0.9  # exponential (with jitter in [0.5, 1])
    assert meter.records[0].attempts == 3
    assert meter.totals().retries == 2


def test_retry_after_header_is_honoured():
    fake = ScriptedModel({"s": [Fail(status=429, retry_after=5), text("ok")]})
    llm, sleeps = make(fake, config={"backoff_base": 0.1, "backoff_max": 30})
    llm.chat(MSG)
    assert sleeps == [5.0]


def test_retries_give_up_and_name_the_error():
    fake = ScriptedModel({"s": [Fail(status=502, message="bad gateway")] * 5})
    llm, sleeps = make(fake, config={"max_retries": 2})
    meter = Meter()
    with pytest.raises(LLMError, match=r"HTTP 502.*gave up after 3 attempts"):
        llm.chat(MSG, meter=meter)
    assert len(fake.requests) == 3 and len(sleeps) == 2
    assert meter.totals().failed_calls == 1 and meter.totals().calls == 0


def test_non_transient_errors_fail_at_once():
    fake = ScriptedModel({"s": [Fail(status=400, message="bad request"), text("never")]})
    llm, sleeps = make(fake)
    with pytest.raises(LLMError, match="HTTP 400"):
        llm.chat(MSG)
    assert len(fake.requests) == 1 and sleeps == []


def test_cache_hit_is_free_and_identical(tmp_path):
    fake = ScriptedModel({"s": [text("first", prompt_tokens=100, completion_tokens=7), text("second")]})
    cache = ResponseCache(tmp_path / "cache")
    llm, _ = make(fake, cache=cache, prices=PriceTable(prices={"gpt-x": Price(input_per_mtok=1, output_per_mtok=1)}))
    m1, m2 = Meter(), Meter()
    a = llm.chat(MSG, meter=m1)
    b = llm.chat(MSG, meter=m2)
    assert a.content == b.content == "first" and b.cached
    assert len(fake.requests) == 1
    assert m2.records[0].cached and m2.records[0].cost_usd == 0.0
    assert m2.totals().total_tokens == 107  # counted against the budget like the live call
    # a different request is a miss
    assert llm.chat(MSG + [{"role": "user", "content": "more"}]).content == "second"
    # a fresh client over the same folder replays too (re-runs are free)
    llm2, _ = make(ScriptedModel(), cache=ResponseCache(tmp_path / "cache"))
    assert llm2.chat(MSG).content == "first"


def test_cache_key_covers_the_whole_request():
    base = {"model": "m", "messages": MSG, "temperature": 0}
    assert request_hash(base) == request_hash(dict(reversed(list(base.items()))))
    assert request_hash(base) != request_hash({**base, "temperature": 0.5})
    assert request_hash(base) != request_hash({**base, "tools": []})


def test_budget_turns_tokens_seconds():
    fake = ScriptedModel(default=lambda r: text("x", prompt_tokens=40, completion_tokens=10))
    llm, _ = make(fake)
    m = Meter(Budget(max_turns=2))
    llm.chat(MSG, meter=m)
    llm.chat(MSG, meter=m)
    with pytest.raises(BudgetExhausted, match="turn budget"):
        llm.chat(MSG, meter=m)
    assert len(fake.requests) == 2 and "turn budget" in m.exhausted

    m = Meter(Budget(max_tokens=100))
    llm.chat(MSG, meter=m)
    llm.chat(MSG, meter=m)
    with pytest.raises(BudgetExhausted, match="token budget"):
        llm.chat(MSG, meter=m)

    now = [0.0]
    m = Meter(Budget(max_seconds=10), clock=lambda: now[0])
    llm.chat(MSG, meter=m)
    now[0] = 11.0
    with pytest.raises(BudgetExhausted, match="time budget"):
        llm.chat(MSG, meter=m)


def test_no_retry_when_the_time_budget_cannot_cover_the_wait():
    fake = ScriptedModel({"s": [Fail(status=429, retry_after=30), text("late")]})
    llm, sleeps = make(fake, config={"backoff_max": 60})
    with pytest.raises(LLMError, match="no time left"):
        llm.chat(MSG, meter=Meter(Budget(max_seconds=5)))
    assert sleeps == []


def test_missing_key_is_a_clear_error(monkeypatch):
    from agent.llm import make_client

    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    with pytest.raises(LLMError, match="NO_SUCH_KEY_VAR"):
        make_client(LLMConfig(model="m", api_key_env="NO_SUCH_KEY_VAR"))
    # a local server needs none
    assert make_client(LLMConfig(model="m", base_url="http://127.0.0.1:9/v1", api_key_env="NO_SUCH_KEY_VAR"))


def test_price_table_file(tmp_path):
    p = tmp_path / "prices.json"
    p.write_text('{"m": {"input_per_mtok": 2, "output_per_mtok": 4}}')
    assert PriceTable.load(p).cost("m", 500_000, 250_000) == pytest.approx(2.0)
    p.write_text("[1]")
    with pytest.raises(ValueError, match="JSON object"):
        PriceTable.load(p)
