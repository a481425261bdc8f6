"""The shared pieces of a question's run: its context, its trace, and the tool-calling loop.

`tool_loop` sends the conversation, runs every tool call the model makes (each result goes
back as a `tool` message, errors included), and repeats until the model answers without tool
calls or the stage's tool rounds are used up; then it asks once more without tools.

`Tracer` records every LLM call (request and reply) and tool call with the stage and plan it
belongs to; a sink (e.g. the run store) receives each event as it happens.

Example:
    >>> t = Tracer(); t.emit({"kind": "note", "stage": "x"}); [e["kind"] for e in t.events]
    ['note']
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.llm import LLM, Meter
from agent.tools import ToolBox


class Tracer:
    def __init__(self, sink: Callable[[dict[str, Any]], None] | None = None):
        self.events: list[dict[str, Any]] = []
        self.sink = sink
        self._lock = threading.Lock()
        self._t0 = time.monotonic()

    def emit(self, event: dict[str, Any]) -> None:
        event = {"seq": 0, "t": round(time.monotonic() - self._t0, 4), **event}
        with self._lock:
            event["seq"] = len(self.events)
            self.events.append(event)
            if self.sink is not None:
                self.sink(event)


@dataclass
class Context:
    """Everything the stages of one question share (thread-safe parts only)."""

    llm: LLM
    meter: Meter
    tools: ToolBox
    tracer: Tracer
    question: str
    evidence: str = ""
    notes: str = ""
    schema_summary: str = ""
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def python(self) -> bool:
        """Whether the Python tool can run (False where its sandbox cannot start)."""
        return self.tools.python_disabled is None

    def chat(self, messages: list[dict[str, Any]], stage: str, plan: str | None = None,
             tools: bool = False):
        def trace(ev: dict[str, Any]) -> None:
            self.tracer.emit({**ev, "plan": plan})

        return self.llm.chat(messages, tools=self.tools.specs() if tools else None, meter=self.meter,
                             stage=stage, trace=trace)


def tool_loop(ctx: Context, messages: list[dict[str, Any]], stage: str, max_rounds: int,
              plan: str | None = None) -> str:
    """Run the conversation to a final text reply (see the module doc); `messages` is extended
    in place. Raises `BudgetExhausted` / `LLMError` from the LLM client."""
    rounds = 0
    while True:
        allow = rounds < max_rounds
        reply = ctx.chat(messages, stage, plan, tools=allow)
        messages.append(reply.as_message())
        if not reply.tool_calls:
            return reply.content or ""
        if not allow:  # tools were not offered; the model called some anyway
            return reply.content or ""
        for call in reply.tool_calls:
            res = ctx.tools.call(call.name, call.arguments)
            ctx.tracer.emit({"kind": "tool", "stage": stage, "plan": plan, "tool": call.name,
                             "arguments": call.arguments, "ok": res.ok, "output": res.text,
                             "result_id": res.result_id, "seconds": round(res.seconds, 4)})
            messages.append({"role": "tool", "tool_call_id": call.id, "content": res.text})
        rounds += 1
        if rounds >= max_rounds:
            messages.append({"role": "user", "content": "The tool budget of this step is used up. "
                             "Reply now, without tool calls, as instructed."})
