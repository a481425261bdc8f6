"""A scripted OpenAI-compatible model: replies from queues, served through `httpx2.MockTransport`.

Used by the tests and by `verify agent bench --scripted ...` to drive the whole agent without a
network or a model. Every system prompt of the agent starts with a stage tag such as
`[stage: implement:p2]`; the script holds one queue of replies per stage (the full tag, then its
part before the first `:` as a fallback), so concurrent plans each consume their own queue and
the run is deterministic. When a stage's queue is empty, `default(request)` answers; without a
default the fake answers HTTP 400 "script exhausted", which the agent sees as a failed call.

Example:
    >>> fake = ScriptedModel({"explore": [tool_calls(("list_tables", {})), text("notes")]})
    >>> c = fake.client()
    >>> r = c.chat.completions.create(model="m", messages=[
    ...     {"role": "system", "content": "[stage: explore]"}, {"role": "user", "content": "q"}])
    >>> r.choices[0].message.tool_calls[0].function.name
    'list_tables'
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable
from typing import Any

import httpx2
import openai
from pydantic import BaseModel, Field

STAGE_TAG = re.compile(r"\[stage: ([^\]]+)\]")


class Reply(BaseModel):
    """One scripted completion: text and/or tool calls."""

    content: str | None = None
    tool_calls: list[tuple[str, str]] = Field(default_factory=list, description="(name, JSON arguments)")
    prompt_tokens: int = 10
    completion_tokens: int = 5


class Fail(BaseModel):
    """An HTTP error (`status`) or, with `timeout=True`, a read timeout."""

    status: int = 500
    message: str = "scripted failure"
    retry_after: float | None = None
    timeout: bool = False


Spec = Reply | Fail | Callable[[dict[str, Any]], "Reply | Fail"]


def text(content: str, prompt_tokens: int = 10, completion_tokens: int = 5) -> Reply:
    return Reply(content=content, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)


def tool_calls(*calls: tuple[str, dict[str, Any] | str], content: str | None = None) -> Reply:
    """Tool calls; arguments given as a dict are JSON-encoded, a string is sent as is (so
    malformed arguments can be scripted)."""
    return Reply(content=content,
                 tool_calls=[(n, a if isinstance(a, str) else json.dumps(a)) for n, a in calls])


def stage_of(request: dict[str, Any]) -> str:
    for m in request.get("messages", []):
        if m.get("role") == "system":
            found = STAGE_TAG.search(m.get("content") or "")
            if found:
                return found.group(1).strip()
    return ""


class ScriptedModel:
    def __init__(self, script: dict[str, list[Spec]] | None = None,
                 default: Callable[[dict[str, Any]], Reply | Fail] | None = None):
        self.queues: dict[str, list[Spec]] = {k: list(v) for k, v in (script or {}).items()}
        self.default = default
        self.requests: list[dict[str, Any]] = []
        self.stages: list[str] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def add(self, stage: str, *specs: Spec) -> None:
        with self._lock:
            self.queues.setdefault(stage, []).extend(specs)

    def _next(self, stage: str, request: dict[str, Any]) -> Reply | Fail | None:
        with self._lock:
            for key in (stage, stage.split(":")[0]):
                q = self.queues.get(key)
                if q:
                    spec = q.pop(0)
                    break
            else:
                spec = self.default
        if spec is None:
            return None
        return spec(request) if callable(spec) else spec

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        stage = stage_of(body)
        with self._lock:
            self.requests.append(body)
            self.stages.append(stage)
        spec = self._next(stage, body)
        if spec is None:
            return httpx2.Response(400, json={"error": {"message": f"script exhausted for stage {stage!r}",
                                                        "type": "invalid_request_error"}})
        if isinstance(spec, Fail):
            if spec.timeout:
                raise httpx2.ReadTimeout("scripted timeout", request=request)
            headers = {"retry-after": str(spec.retry_after)} if spec.retry_after is not None else {}
            return httpx2.Response(spec.status, headers=headers,
                                   json={"error": {"message": spec.message, "type": "scripted"}})
        n = next(self._ids)
        message: dict[str, Any] = {"role": "assistant", "content": spec.content}
        if spec.tool_calls:
            message["tool_calls"] = [
                {"id": f"call_{n}_{i}", "type": "function", "function": {"name": name, "arguments": args}}
                for i, (name, args) in enumerate(spec.tool_calls)
            ]
        return httpx2.Response(200, json={
            "id": f"scripted-{n}", "object": "chat.completion", "created": 0, "model": body.get("model", ""),
            "choices": [{"index": 0, "message": message,
                         "finish_reason": "tool_calls" if spec.tool_calls else "stop"}],
            "usage": {"prompt_tokens": spec.prompt_tokens, "completion_tokens": spec.completion_tokens,
                      "total_tokens": spec.prompt_tokens + spec.completion_tokens},
        })

    def client(self) -> openai.OpenAI:
        return openai.OpenAI(api_key="scripted", base_url="http://scripted.invalid/v1", max_retries=0,
                             http_client=httpx2.Client(transport=httpx2.MockTransport(self.handler)))

    def count(self, stage_prefix: str) -> int:
        with self._lock:
            return sum(1 for s in self.stages if s.startswith(stage_prefix))
