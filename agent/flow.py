"""The agent's flow for one question.

explore (tool loop) → N diverse plans (de-duplicated) → per plan, concurrently: ground with
tools, implement in SQL or Python, code-level repair, self-check with plan revision
(`agent.repair`) → candidate pool → selection (`agent.select`) → one SQL answer.

The question ends cleanly when its budget (`agent.llm.Budget`) is used up: whatever candidates
exist by then are voted on, and `Answer.status` says `budget_exhausted`. Every LLM call, tool
call, execution and check is in `Answer.trace` (and streamed to `trace_sink`).

Where the Python tool's sandbox cannot start, the question is answered with the SQL tools
alone: plans are SQL plans, `Answer.python_disabled` holds the one-line reason (also a
`python_disabled` trace event), and `notify` receives it as soon as the tools are set up.

Example (with a scripted model; see tests/test_agent_flow.py for every path):
    >>> from agent.scripted import ScriptedModel, text
    >>> AgentConfig().n_plans
    3
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.converse import Context, Tracer, tool_loop
from agent.llm import LLM, Budget, BudgetExhausted, LLMError, Meter, UsageTotals
from agent.planning import EXPLORE_SYSTEM, Plan, dedupe_plans, parse_plans, plan_prompt, question_block, stage_tag
from agent.repair import CandidateRecord, run_plan
from agent.select import Candidate, SelectConfig, Selection, select
from agent.tools import OutputPolicy, ToolBox


class AgentConfig(BaseModel):
    n_plans: int = Field(3, ge=1, le=10)
    max_explore_rounds: int = 6
    max_ground_rounds: int = 6
    max_repair_rounds: int = 3
    max_code_repairs: int = Field(3, ge=0)
    max_plan_revisions: int = Field(2, ge=0)
    self_check: bool = True
    plan_workers: int = Field(4, ge=1)
    explore: bool = True
    budget: Budget = Field(default_factory=Budget)
    policy: OutputPolicy = Field(default_factory=OutputPolicy)
    sql_timeout: float = 10.0
    python_timeout: float = 20.0
    python_memory_mb: int = 2048
    select: SelectConfig = Field(default_factory=SelectConfig)


class Answer(BaseModel):
    question: str
    db_path: str
    sql: str | None = None
    plan: Plan | None = None
    status: Literal["ok", "no_candidate", "budget_exhausted", "llm_error"] = "ok"
    error: str | None = None
    notes: str = ""
    plans: list[Plan] = Field(default_factory=list)
    candidates: list[CandidateRecord] = Field(default_factory=list)
    selection: Selection | None = None
    usage: UsageTotals = Field(default_factory=UsageTotals)
    seconds: float = 0.0
    python_disabled: str | None = Field(None, description="why the Python tool was disabled (None: it was available)")
    trace: list[dict[str, Any]] = Field(default_factory=list)


def _explore(ctx: Context, cfg: AgentConfig) -> str:
    messages = [
        {"role": "system", "content": EXPLORE_SYSTEM.format(tag=stage_tag("explore"))},
        {"role": "user", "content": f"{question_block(ctx.question, ctx.evidence)}\n\nSchema:\n{ctx.schema_summary}"},
    ]
    return tool_loop(ctx, messages, "explore", cfg.max_explore_rounds)


def _plans(ctx: Context, cfg: AgentConfig) -> list[Plan]:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": plan_prompt(cfg.n_plans, ctx.python)},
        {"role": "user", "content": f"{question_block(ctx.question, ctx.evidence)}\n\nSchema:\n"
                                    f"{ctx.schema_summary}\n\nExploration notes:\n{ctx.notes or '(none)'}"},
    ]
    for attempt in range(2):
        reply = ctx.chat(messages, "plan")
        try:
            plans = dedupe_plans(parse_plans(reply.content, python=ctx.python), cfg.n_plans)
            ctx.tracer.emit({"kind": "plans", "stage": "plan", "plans": [p.model_dump() for p in plans]})
            return plans
        except ValueError as e:
            ctx.tracer.emit({"kind": "plans", "stage": "plan", "error": str(e)})
            messages += [reply.as_message(),
                         {"role": "user", "content": f"I could not read that: {e}. Reply with the JSON only."}]
    fallback = Plan(id="p1", interpretation="the direct reading of the question",
                    approach="answer the question as literally stated")
    ctx.tracer.emit({"kind": "plans", "stage": "plan", "fallback": True, "plans": [fallback.model_dump()]})
    return [fallback]


def answer_question(
    question: str,
    db_path: str | Path,
    llm: LLM,
    config: AgentConfig | None = None,
    *,
    evidence: str = "",
    trace_sink: Callable[[dict[str, Any]], None] | None = None,
    notify: Callable[[str], None] | None = None,
) -> Answer:
    """Run the whole flow for one question; never raises for model or tool failures. `notify`
    receives notices for the user: the reason the Python tool is disabled, when it is."""
    cfg = config or AgentConfig()
    t0 = time.monotonic()
    meter = Meter(cfg.budget)
    tracer = Tracer(trace_sink)
    tools = ToolBox(db_path, policy=cfg.policy, sql_timeout=cfg.sql_timeout, python_timeout=cfg.python_timeout,
                    python_memory_mb=cfg.python_memory_mb)
    ans = Answer(question=question, db_path=str(db_path), python_disabled=tools.python_disabled)
    if tools.python_disabled and notify is not None:
        notify(tools.python_disabled)
    try:
        summary = tools.schema_summary()
    except Exception as e:  # noqa: BLE001 - an unreadable database is reported, not raised
        ans.status, ans.error = "no_candidate", f"cannot read the database {db_path}: {e}"
        return ans
    ctx = Context(llm=llm, meter=meter, tools=tools, tracer=tracer, question=question, evidence=evidence,
                  schema_summary=summary)
    tracer.emit({"kind": "question", "stage": "start", "question": question, "evidence": evidence,
                 "db_path": str(db_path)})
    if tools.python_disabled:
        tracer.emit({"kind": "python_disabled", "stage": "start", "message": tools.python_disabled})
    try:
        if cfg.explore:
            try:
                ctx.notes = _explore(ctx, cfg)
            except LLMError as e:
                tracer.emit({"kind": "error", "stage": "explore", "error": str(e)})
        ans.notes = ctx.notes
        ans.plans = _plans(ctx, cfg)
    except BudgetExhausted as e:
        ans.status, ans.error = "budget_exhausted", str(e)
    except LLMError as e:
        ans.status, ans.error = "llm_error", str(e)
    if ans.plans:
        with ThreadPoolExecutor(max_workers=min(cfg.plan_workers, len(ans.plans))) as pool:
            ans.candidates = list(pool.map(lambda p: run_plan(ctx, p, cfg), ans.plans))
    _choose(ans, ctx, cfg)
    if meter.exhausted and ans.status == "ok":
        ans.status, ans.error = "budget_exhausted", meter.exhausted
    elif ans.status == "ok" and ans.sql is None:
        ans.status = "no_candidate"
        if ans.candidates and all(c.status == "llm_error" for c in ans.candidates):
            ans.status, ans.error = "llm_error", ans.candidates[0].stopped
    ans.usage = meter.totals()
    ans.seconds = round(time.monotonic() - t0, 3)
    tracer.emit({"kind": "answer", "stage": "select", "sql": ans.sql, "status": ans.status,
                 "plan": ans.plan.id if ans.plan else None})
    ans.trace = tracer.events
    return ans


def _choose(ans: Answer, ctx: Context, cfg: AgentConfig) -> None:
    pool = []
    for rec in ans.candidates:
        if rec.result is None or rec.code is None:
            continue
        pool.append(Candidate(id=rec.plan.id, sql=rec.code if rec.language == "sql" else None,
                              language=rec.language or "sql", result=rec.result,
                              ordered=None if rec.language == "sql" else False))
    if not pool:
        return
    try:
        schema = ctx.tools.schema() if cfg.select.verify else None
    except Exception:  # noqa: BLE001 - the vote then uses execution results only
        schema = None
    sel = select(pool, ctx.tools.db_path, schema=schema, config=cfg.select)
    ans.selection = sel
    if sel.answer_id is not None:
        rec = next(r for r in ans.candidates if r.plan.id == sel.answer_id)
        ans.sql, ans.plan = rec.code, rec.plan
    ctx.tracer.emit({"kind": "selection", "stage": "select", "answer": sel.answer_id,
                     "clusters": [c.model_dump() for c in sel.clusters], "excluded": sel.excluded})
