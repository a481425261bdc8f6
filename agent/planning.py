"""Prompts, plans and the parsing of the model's structured replies.

Every system prompt starts with a stage tag (`[stage: explore]`, `[stage: plan]`,
`[stage: implement:p2]`, `[stage: check:p2r1]`): it tells the model what is asked and lets a
scripted endpoint (`agent.scripted`) route replies per stage.

Plans come back as JSON (`{"plans": [{"interpretation", "approach", "language"}]}`); the
parser is tolerant (code fences, text around the JSON, a bare list) and `dedupe_plans` drops
plans whose interpretation and approach read the same as an earlier one.

Where the Python tool is disabled (no sandbox: `agent.sandbox.python_unavailable`), the prompts
ask for SQL only (`plan_prompt`, `implement_prompt` with `python=False`) and the parsers make
every plan an SQL plan, whatever the model replies.

Example:
    >>> ps = parse_plans('```json\\n{"plans": [{"interpretation": "count all singers", "approach": "COUNT(*)"},'
    ...                  ' {"interpretation": "Count all singers.", "approach": "count(*)"}]}\\n```')
    >>> [p.interpretation for p in dedupe_plans(ps, 3)]
    ['count all singers']
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError


class Plan(BaseModel):
    id: str = ""
    interpretation: str = Field(description="how the question is read")
    approach: str = Field(default="", description="tables, joins, filters, aggregation")
    language: Literal["sql", "python"] = "sql"
    revision: int = 0
    parent: str | None = None


class CheckVerdict(BaseModel):
    ok: bool = True
    problem: str = ""
    revised_plan: Plan | None = None
    parsed: bool = True


def stage_tag(stage: str) -> str:
    return f"[stage: {stage}]"


EXPLORE_SYSTEM = """{tag}
You are a careful data analyst. You will answer a question over a SQLite database, but first
explore it with the tools: find the tables and columns that matter, how the question's names
and constants are actually stored (search_values, distinct_values), and how tables join.
When you know enough, reply WITHOUT tool calls with short notes: relevant tables and columns,
join paths, exact stored values, and any ambiguity in the question. Do not write the final
query yet."""

PLAN_SYSTEM = """{tag}
Propose up to {n} different plans for answering the question. Plans must differ in how they
read the question (e.g. which entity is meant, whether duplicates count, ties, how NULL or
missing data is treated), not only in wording. {languages}
Reply with JSON only, no prose:
{{"plans": [{{"interpretation": "...", "approach": "tables, joins, filters, aggregation", "language": "sql"}}]}}"""

PLAN_LANGUAGES = 'Use "python" only when SQL is awkward.'
PLAN_SQL_ONLY = 'Python is not available here: every plan\'s language is "sql".'

IMPLEMENT_SYSTEM = """{tag}
Implement one plan for a question over a SQLite database. Use the tools to ground the plan:
check the stored values you filter on and try the query or parts of it with run_sql.
{answer}
Return exactly the columns the question asks for, in the order it asks for them."""

ANSWER_SQL_OR_PYTHON = """Finish WITHOUT tool calls, with the final answer in one fenced code block: either
```sql
<one SQLite SELECT statement>
```
or, if the plan's language is python,
```python
<code that assigns the answer table to `result` (a DataFrame or a list of rows)>
```"""

ANSWER_SQL_ONLY = """Python is not available here: the answer is SQL. Finish WITHOUT tool calls, with the
final answer in one fenced code block:
```sql
<one SQLite SELECT statement>
```"""

CHECK_SYSTEM = """{tag}
You review a candidate answer to a question over a SQLite database. Decide whether the result
answers the question as the plan reads it (right entities, filters, columns, aggregation,
order). Reply with JSON only:
{{"ok": true}}
or
{{"ok": false, "problem": "what is wrong", "revised_plan": {{"interpretation": "...", "approach": "...", "language": "sql"}}}}"""


def plan_prompt(n: int, python: bool) -> str:
    """The plan stage's system prompt: up to `n` plans, SQL only unless `python`."""
    return PLAN_SYSTEM.format(tag=stage_tag("plan"), n=n, languages=PLAN_LANGUAGES if python else PLAN_SQL_ONLY)


def implement_prompt(stage: str, python: bool) -> str:
    """The implementation stage's system prompt: an SQL or Python answer, SQL only unless `python`."""
    return IMPLEMENT_SYSTEM.format(tag=stage_tag(stage), answer=ANSWER_SQL_OR_PYTHON if python else ANSWER_SQL_ONLY)


def question_block(question: str, evidence: str = "") -> str:
    out = f"Question: {question}"
    if evidence.strip():
        out += f"\nHint: {evidence.strip()}"
    return out


def plan_block(plan: Plan) -> str:
    return (f"Plan {plan.id} ({plan.language}):\n- interpretation: {plan.interpretation}\n"
            f"- approach: {plan.approach}")


# --------------------------------------------------------------------------------------------
# parsing


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


def extract_json(text: str | None) -> Any:
    """The first JSON value in `text` (inside a code fence, or the outermost braces/brackets);
    raises ValueError naming the problem."""
    if not text or not text.strip():
        raise ValueError("the reply is empty")
    tries = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    for t in tries:
        t = t.strip()
        try:
            return json.loads(t)
        except json.JSONDecodeError:
            pass
        for open_, close in (("{", "}"), ("[", "]")):
            i, j = t.find(open_), t.rfind(close)
            if 0 <= i < j:
                try:
                    return json.loads(t[i:j + 1])
                except json.JSONDecodeError:
                    continue
    raise ValueError(f"no JSON found in the reply: {text.strip()[:120]!r}")


def parse_plans(text: str | None, *, python: bool = True) -> list[Plan]:
    """Plans from the model's reply; raises ValueError when there are none. Without `python`
    every plan's language is SQL."""
    data = extract_json(text)
    items = data.get("plans") if isinstance(data, dict) else data
    if isinstance(data, dict) and items is None and "interpretation" in data:
        items = [data]
    if not isinstance(items, list):
        raise ValueError('expected {"plans": [...]}')
    plans = []
    for it in items:
        if isinstance(it, str):
            it = {"interpretation": it}
        if not isinstance(it, dict):
            continue
        it = dict(it)
        lang = str(it.get("language", "sql")).lower()
        it["language"] = "python" if python and lang.startswith("py") else "sql"
        it.pop("id", None)
        try:
            plans.append(Plan.model_validate(it))
        except ValidationError:
            continue
    if not plans:
        raise ValueError("the reply lists no usable plan (each needs an 'interpretation')")
    return plans


def _norm(p: Plan) -> str:
    text = f"{p.interpretation} {p.approach}".lower()
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def dedupe_plans(plans: list[Plan], n: int, threshold: float = 0.9) -> list[Plan]:
    """At most `n` plans, dropping any whose normalized text is ≥ `threshold` similar to a kept
    one; ids p1, p2, ... in order."""
    kept: list[Plan] = []
    for p in plans:
        t = _norm(p)
        if any(difflib.SequenceMatcher(None, t, _norm(k)).ratio() >= threshold for k in kept):
            continue
        kept.append(p)
        if len(kept) == n:
            break
    return [p.model_copy(update={"id": f"p{i + 1}"}) for i, p in enumerate(kept)]


def parse_check(text: str | None, plan: Plan, *, python: bool = True) -> CheckVerdict:
    """The self-check's verdict; an unreadable reply counts as ok (parsed=False) so that a
    confused reviewer cannot loop a plan. Without `python` a revised plan is an SQL plan."""
    try:
        data = extract_json(text)
    except ValueError:
        return CheckVerdict(ok=True, parsed=False, problem="unreadable self-check reply")
    if not isinstance(data, dict):
        return CheckVerdict(ok=True, parsed=False, problem="unreadable self-check reply")
    ok = data.get("ok", True)
    if isinstance(ok, str):
        ok = ok.strip().lower() in ("true", "yes", "ok")
    revised = None
    rp = data.get("revised_plan")
    if isinstance(rp, (dict, str)) and not ok:
        try:
            revised = parse_plans(json.dumps({"plans": [rp]}), python=python)[0]
        except ValueError:
            revised = None
    return CheckVerdict(ok=bool(ok), problem=str(data.get("problem", "") or ""), revised_plan=revised)


_CODE = re.compile(r"```[ \t]*(sql|sqlite|python|py)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)


def extract_code(text: str | None, expected: str) -> tuple[str, str] | None:
    """(language, code) of the last fenced block (or a bare SELECT); None if there is none.

    >>> extract_code("Here:\\n```sql\\nSELECT 1;\\n```", "sql")
    ('sql', 'SELECT 1')
    >>> extract_code("SELECT name FROM t", "sql")
    ('sql', 'SELECT name FROM t')
    """
    if not text:
        return None
    blocks = _CODE.findall(text)
    if blocks:
        tag, code = blocks[-1]
        code = code.strip()
        tag = (tag or "").lower()
        if tag.startswith("py"):
            lang = "python"
        elif tag in ("sql", "sqlite"):
            lang = "sql"
        else:
            lang = "sql" if re.match(r"(?is)\s*(select|with)\b", code) else expected
        if lang == "sql":
            code = code.strip().rstrip(";").strip()
        return (lang, code) if code else None
    t = text.strip()
    if re.match(r"(?is)(select|with)\b", t):
        return "sql", t.rstrip(";").strip()
    return None
