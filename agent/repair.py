"""One plan, from implementation to candidate: two levels of repair.

1. **Code level** (≤ `max_code_repairs`): the plan's code (SQL or Python) is run; a failure
   (no code block, SQL error or time-out, Python exception or no `result`) goes back to the
   model in the same conversation, which may use tools again and answers with corrected code.
   Python code where the Python tool is disabled (its sandbox cannot start) ends the plan at
   once: nothing runs, and no repair could change that.
2. **Plan level** (≤ `max_plan_revisions`): a self-check conversation reviews the result
   against the question and the plan; a "not ok" verdict sends a revised plan (the reviewer's,
   or the same plan with the problem appended) back to implementation.

A plan whose code still fails after the repairs yields a failed candidate (excluded from the
vote); one that still fails its self-check after the revisions stays a candidate, marked
`self_check="failed"`. Budget exhaustion and LLM failures end the plan with what it has.

Example (the record a plan produces):
    >>> CandidateRecord(plan=Plan(id="p1", interpretation="x")).status
    'failed'
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.converse import Context, tool_loop
from agent.llm import BudgetExhausted, LLMError
from agent.planning import (CHECK_SYSTEM, Plan, extract_code, implement_prompt, parse_check, plan_block,
                            question_block, stage_tag)
from agent.results import ResultTable
from agent.tools import ToolError, format_table


class CandidateRecord(BaseModel):
    plan: Plan = Field(description="the plan as finally implemented (after revisions)")
    tried: list[str] = Field(default_factory=list, description="plan ids implemented, in order")
    language: Literal["sql", "python"] | None = None
    code: str | None = None
    result: ResultTable | None = None
    result_id: str | None = None
    error: str | None = None
    code_repairs: int = 0
    revisions: int = 0
    self_check: Literal["ok", "failed", "skipped", "unparsed"] = "skipped"
    check_problems: list[str] = Field(default_factory=list)
    status: Literal["ok", "failed", "budget", "llm_error"] = "failed"
    stopped: str | None = Field(None, description="why the plan ended early (budget, LLM failure)")

    @property
    def sql(self) -> str | None:
        return self.code if self.language == "sql" else None


class _Attempt(BaseModel):
    language: Literal["sql", "python"] | None = None
    code: str | None = None
    result: ResultTable | None = None
    result_id: str | None = None
    error: str | None = None
    repairs: int = 0
    disabled: bool = Field(False, description="Python code where the Python tool is disabled: nothing ran")


def _execute(ctx: Context, language: str, code: str) -> tuple[ResultTable | None, str | None, str | None, bool]:
    """(result, result id, error, disabled) of running the candidate's code; `disabled`: it is
    Python and the Python tool is disabled, so nothing ran."""
    if language == "sql":
        try:
            res = ctx.tools.execute(code)
        except ToolError as e:
            return None, None, str(e), False
        return res, ctx.tools.store(res), None, False
    out = ctx.tools.run_python_code(code)
    if out.disabled:
        return None, None, out.error, True
    if out.error:
        return None, None, out.error + (f"\nstdout:\n{out.stdout[-1500:]}" if out.stdout else ""), False
    if out.result is None:
        return None, None, "the code did not assign a table to `result`", False
    return out.result, ctx.tools.store(out.result), None, False


def implement(ctx: Context, plan: Plan, cfg: Any) -> _Attempt:
    """Implement `plan` with code-level repair (raises BudgetExhausted / LLMError)."""
    stage = f"implement:{plan.id}"
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": implement_prompt(stage, ctx.python)},
        {"role": "user", "content": f"{question_block(ctx.question, ctx.evidence)}\n\nSchema:\n"
                                    f"{ctx.schema_summary}\n\nExploration notes:\n{ctx.notes or '(none)'}\n\n"
                                    f"{plan_block(plan)}"},
    ]
    content = tool_loop(ctx, messages, stage, cfg.max_ground_rounds, plan.id)
    att = _Attempt()
    blocks = "```sql``` or ```python```" if ctx.python else "```sql```"
    while True:
        found = extract_code(content, plan.language)
        if found is None:
            att.error = f"no code block found: reply with the final answer in one {blocks} block"
        else:
            att.language, att.code = found  # type: ignore[assignment]
            att.result, att.result_id, att.error, att.disabled = _execute(ctx, att.language, att.code)
        ctx.tracer.emit({"kind": "exec", "stage": stage, "plan": plan.id, "language": att.language,
                         "code": att.code, "ok": att.error is None, "error": att.error,
                         "rows": att.result.total_rows if att.result else None})
        if att.error is None or att.disabled or att.repairs >= cfg.max_code_repairs:
            return att
        att.repairs += 1
        messages.append({"role": "user", "content": f"That failed: {att.error}\nFix it (use the tools if it "
                                                    "helps) and reply with the corrected code block."})
        content = tool_loop(ctx, messages, stage, cfg.max_repair_rounds, plan.id)


def self_check(ctx: Context, plan: Plan, att: _Attempt):
    stage = f"check:{plan.id}"
    preview = format_table(att.result.columns, att.result.rows, ctx.tools.policy, total=att.result.total_rows) \
        if att.result else "(no result)"
    messages = [
        {"role": "system", "content": CHECK_SYSTEM.format(tag=stage_tag(stage))},
        {"role": "user", "content": f"{question_block(ctx.question, ctx.evidence)}\n\n{plan_block(plan)}\n\n"
                                    f"Code ({att.language}):\n{att.code}\n\nResult ({att.result.total_rows if att.result else 0} "
                                    f"rows):\n{preview}"},
    ]
    reply = ctx.chat(messages, stage, plan.id)
    verdict = parse_check(reply.content, plan, python=ctx.python)
    ctx.tracer.emit({"kind": "check", "stage": stage, "plan": plan.id, "ok": verdict.ok,
                     "parsed": verdict.parsed, "problem": verdict.problem})
    return verdict


def run_plan(ctx: Context, plan: Plan, cfg: Any) -> CandidateRecord:
    """Implement, repair, self-check and revise one plan (see the module doc); never raises."""
    rec = CandidateRecord(plan=plan)
    current = plan
    try:
        while True:
            rec.tried.append(current.id)
            att = implement(ctx, current, cfg)
            rec.plan, rec.code_repairs = current, rec.code_repairs + att.repairs
            rec.language, rec.code, rec.result, rec.result_id, rec.error = (
                att.language, att.code, att.result, att.result_id, att.error)
            if att.error is not None:
                rec.status = "failed"
                return rec
            rec.status = "ok"
            if not cfg.self_check:
                rec.self_check = "skipped"
                return rec
            verdict = self_check(ctx, current, att)
            if verdict.ok:
                rec.self_check = "ok" if verdict.parsed else "unparsed"
                return rec
            rec.check_problems.append(verdict.problem)
            if rec.revisions >= cfg.max_plan_revisions:
                rec.self_check = "failed"
                return rec
            rec.revisions += 1
            base = verdict.revised_plan or current.model_copy(
                update={"approach": f"{current.approach}\nFix: {verdict.problem}"})
            current = base.model_copy(update={"id": f"{plan.id}r{rec.revisions}", "revision": rec.revisions,
                                              "parent": current.id})
            ctx.tracer.emit({"kind": "revise", "stage": f"check:{rec.tried[-1]}", "plan": current.id,
                             "interpretation": current.interpretation, "approach": current.approach})
    except BudgetExhausted as e:
        # an earlier attempt's result (before a revision) stays a candidate
        rec.stopped = str(e)
        rec.status = "ok" if rec.result is not None and rec.error is None else "budget"
        return rec
    except LLMError as e:
        rec.stopped = str(e)
        rec.status = "ok" if rec.result is not None and rec.error is None else "llm_error"
        return rec
