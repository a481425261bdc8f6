"""LLM validation against a scripted OpenAI-compatible endpoint (httpx MockTransport): accept,
reject, malformed reply, timeout, HTTP error, missing verdict, and the on-disk cache."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import openai
import pytest

try:  # the openai client of this project's pin is built on httpx2
    import httpx2 as httpx
except ImportError:  # pragma: no cover - older openai releases use httpx
    import httpx

from constraints.mine import mine_database
from constraints.models import ConstraintSet, FunctionalDependency, NotNull, Origin, Range
from constraints.validate_llm import validate_constraints
from verify.schema_io import schema_from_sqlite


class Endpoint:
    """A scripted chat-completions endpoint: `script(request_json)` returns the reply text,
    an httpx.Response, or raises."""

    def __init__(self, script):
        self.script = script
        self.requests: list[dict] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        out = self.script(body)
        if isinstance(out, httpx.Response):
            return out
        msg = {"role": "assistant", "content": out}
        return httpx.Response(200, json={
            "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "message": msg, "finish_reason": "stop"}]})

    def client(self) -> openai.OpenAI:
        return openai.OpenAI(api_key="test", base_url="http://llm.invalid/v1", max_retries=0, timeout=5,
                             http_client=httpx.Client(transport=httpx.MockTransport(self)))


def ids_in(body: dict) -> list[str]:
    text = body["messages"][-1]["content"]
    return [line.split("]")[0][1:] for line in text.splitlines() if line.startswith("[c")]


def constraints() -> ConstraintSet:
    return ConstraintSet(db_id="people", constraints=[
        Range(table="p", column="age", min=0, max=120),
        Range(table="p", column="height", min=150, max=151),
        FunctionalDependency(table="p", lhs=["city"], rhs=["zip"]),
        NotNull(table="p", column="name", origin=Origin.DECLARED),
    ])


def test_accept_and_reject_with_reasons(tmp_path):
    def script(body):
        vs = [{"id": i, "verdict": "reject" if i == "c2" else "accept", "reason": f"because {i}"}
              for i in ids_in(body)]
        return json.dumps({"verdicts": vs})

    ep = Endpoint(script)
    cs = constraints()
    rep = validate_constraints(cs, client=ep.client(), model="judge-1", cache_dir=tmp_path)
    age, height, fd, nn = cs.constraints
    assert (age.validation.status.value, age.validation.reason, age.validation.model) == ("accepted", "because c1", "judge-1")
    assert height.validation.status.value == "rejected"
    assert fd.validation.status.value == "accepted"
    assert nn.validation.status.value == "unvalidated"  # declared: not sent
    assert (rep.accepted, rep.rejected, rep.unvalidated, rep.requests) == (2, 1, 0, 1)
    assert ep.requests[0]["response_format"] == {"type": "json_object"}


def test_batches_keep_cost_down(tmp_path):
    ep = Endpoint(lambda body: json.dumps({"verdicts": [{"id": i, "verdict": "accept"} for i in ids_in(body)]}))
    cs = ConstraintSet(constraints=[Range(table="p", column=f"c{i}", min=0, max=i) for i in range(7)])
    rep = validate_constraints(cs, client=ep.client(), model="m", cache_dir=tmp_path, batch_size=3)
    assert rep.requests == 3 and rep.accepted == 7
    assert [len(ids_in(b)) for b in ep.requests] == [3, 3, 1]


@pytest.mark.parametrize("reply, why", [
    ("I think they are all fine.", "malformed LLM reply: no JSON object"),
    ('{"verdicts": [{"id": "c1", "verdict": "maybe"}]}', "malformed LLM reply: verdicts.0.verdict"),
    ('{"answer": 1}', "malformed LLM reply: verdicts: Field required"),
])
def test_malformed_reply_leaves_constraints_unvalidated(tmp_path, reply, why):
    ep = Endpoint(lambda body: reply)
    cs = constraints()
    rep = validate_constraints(cs, client=ep.client(), model="m", cache_dir=tmp_path)
    for c in cs.constraints[:3]:
        assert c.validation.status.value == "unvalidated"
        assert c.validation.reason.startswith(why)
    assert rep.unvalidated == 3 and rep.errors
    # a malformed reply is not cached: the next run asks again
    validate_constraints(cs, client=ep.client(), model="m", cache_dir=tmp_path)
    assert len(ep.requests) == 2


def test_timeout_and_http_error(tmp_path):
    def timeout(body):
        raise httpx.ReadTimeout("slow")

    cs = constraints()
    validate_constraints(cs, client=Endpoint(timeout).client(), model="m", cache_dir=tmp_path)
    assert {c.validation.reason for c in cs.constraints[:3]} == {"LLM request failed: timeout"}
    assert all(c.validation.status.value == "unvalidated" for c in cs.constraints)

    cs = constraints()
    validate_constraints(cs, client=Endpoint(lambda b: httpx.Response(503, json={"error": "busy"})).client(),
                         model="m", cache_dir=tmp_path)
    assert {c.validation.reason for c in cs.constraints[:3]} == {"LLM request failed: HTTP 503"}


def test_missing_verdict_is_unvalidated(tmp_path):
    ep = Endpoint(lambda body: '```json\n{"verdicts": [{"id": "c1", "verdict": "accept", "reason": "ok"}]}\n```')
    cs = constraints()
    validate_constraints(cs, client=ep.client(), model="m", cache_dir=tmp_path)
    assert cs.constraints[0].validation.status.value == "accepted"  # fenced JSON is read
    assert cs.constraints[1].validation.status.value == "unvalidated"
    assert cs.constraints[1].validation.reason == "no verdict for this constraint in the LLM reply"


def test_cache_hit_sends_no_second_request(tmp_path):
    ep = Endpoint(lambda body: json.dumps({"verdicts": [{"id": i, "verdict": "reject", "reason": "r"} for i in ids_in(body)]}))
    first = constraints()
    validate_constraints(first, client=ep.client(), model="m", cache_dir=tmp_path)
    second = constraints()
    rep = validate_constraints(second, client=ep.client(), model="m", cache_dir=tmp_path)
    assert len(ep.requests) == 1 and rep.cache_hits == 1 and rep.requests == 0
    assert [c.validation for c in second.constraints] == [c.validation for c in first.constraints]
    # another model is another request
    validate_constraints(constraints(), client=ep.client(), model="other", cache_dir=tmp_path)
    assert len(ep.requests) == 2


def test_prompt_carries_schema_descriptions_statistics_and_samples(tmp_path):
    db = tmp_path / "p.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE p (id INTEGER PRIMARY KEY, age INT, sex TEXT)")
    con.executemany("INSERT INTO p (age, sex) VALUES (?, ?)", [(20 + i, "FM"[i % 2]) for i in range(30)])
    con.commit()
    con.close()
    cs = mine_database(db)
    ep = Endpoint(lambda body: json.dumps({"verdicts": []}))
    validate_constraints(cs, client=ep.client(), model="m", db=db, schema=schema_from_sqlite(db),
                         descriptions={"p": {"age": "age in years"}}, cache_dir=tmp_path)
    prompt = ep.requests[0]["messages"][-1]["content"]
    assert 'CREATE TABLE "p"' in prompt
    assert "meaning: age in years" in prompt
    assert "30 rows, 0 NULL, 30 distinct, min 20, max 49" in prompt
    assert "frequent values: 'F', 'M'" in prompt
    assert re.search(r"\[c\d\] p\.age is a number between 0 and \d+ \(held on all 30 rows; support 30; "
                     r"observed 20\.\.49\)", prompt)
    assert "value" not in [c.kind for c in cs.constraints if c.validation.reason]  # hints are not judged
