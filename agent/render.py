"""Printing answers, traces and run records with rich.

Example:
    >>> import os
    >>> from rich.console import Console
    >>> c = Console(record=True, width=100, file=open(os.devnull, "w"))
    >>> render_trace([{"seq": 0, "t": 0.0, "kind": "tool", "stage": "explore", "tool": "list_tables",
    ...                "arguments": "{}", "ok": True, "output": "table | rows"}], c)
    >>> "list_tables" in c.export_text()
    True
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent.tools import OutputPolicy, format_table


def _short(s: Any, n: int = 90) -> str:
    s = " ".join(str(s).split())
    return s if len(s) <= n else s[: n - 1] + "…"


def trace_line(e: dict[str, Any]) -> str:
    kind = e.get("kind")
    where = f"{e.get('stage', '')}" + (f" [{e['plan']}]" if e.get("plan") else "")
    if kind == "llm":
        rec = e.get("record") or {}
        reply = e.get("reply") or {}
        calls = [c["name"] for c in reply.get("tool_calls", [])]
        what = f"calls {', '.join(calls)}" if calls else _short(reply.get("content") or rec.get("error") or "")
        tag = " (cache)" if rec.get("cached") else ""
        return (f"LLM {where}: {rec.get('prompt_tokens', 0)}+{rec.get('completion_tokens', 0)} tokens"
                f"{tag} → {what}")
    if kind == "tool":
        ok = "" if e.get("ok") else " ERROR"
        return f"tool {where}: {e.get('tool')}({_short(e.get('arguments'), 60)}){ok} → {_short(e.get('output'), 70)}"
    if kind == "exec":
        status = f"{e.get('rows')} rows" if e.get("ok") else f"error: {_short(e.get('error'), 70)}"
        return f"run {where}: {e.get('language')} → {status}"
    if kind == "check":
        return f"self-check {where}: {'ok' if e.get('ok') else 'revise: ' + _short(e.get('problem'), 70)}"
    if kind == "revise":
        return f"revised plan {where}: {_short(e.get('interpretation'), 80)}"
    if kind == "plans":
        ps = e.get("plans") or []
        return f"plans: {len(ps)}" + (f" (error: {e['error']})" if e.get("error") else "") + \
            "".join(f"\n    {p.get('id')}: {_short(p.get('interpretation'), 80)}" for p in ps)
    if kind == "selection":
        cl = e.get("clusters") or []
        return f"selection: {len(cl)} clusters " + ", ".join(
            f"{{{', '.join(c['members'])}}}" for c in cl) + f" → {e.get('answer')}"
    if kind == "answer":
        return f"answer: {e.get('status')} ({e.get('plan')})"
    if kind == "question":
        return f"question: {_short(e.get('question'), 90)}"
    return f"{kind} {where}: {_short({k: v for k, v in e.items() if k not in ('seq', 't', 'kind')}, 90)}"


def render_trace(events: list[dict[str, Any]], console: Console) -> None:
    for e in events:
        console.print(f"[dim]{e.get('t', 0):7.2f}s[/dim] {escape(trace_line(e))}", markup=True,
                      highlight=False, soft_wrap=True)


def render_answer(ans: Any, console: Console) -> None:
    if ans.sql:
        console.print("[bold]answer[/bold]")
        console.print(ans.sql, markup=False)
    else:
        console.print(f"[bold red]no answer[/bold red] ({ans.status}{': ' + ans.error if ans.error else ''})")
    if ans.plan:
        console.print(f"[bold]plan {escape(ans.plan.id)}[/bold]: {escape(ans.plan.interpretation)}", markup=True)
        if ans.plan.approach:
            console.print(f"  approach: {ans.plan.approach}", markup=False)
    chosen = next((c for c in ans.candidates if ans.plan and c.plan.id == ans.plan.id), None)
    if chosen and chosen.result:
        console.print(format_table(chosen.result.columns, chosen.result.rows, OutputPolicy(max_rows=10),
                                   total=chosen.result.total_rows), markup=False)
    t = Table(title="candidates")
    for col in ("plan", "lang", "status", "self-check", "repairs", "revisions", "rows", "cluster size"):
        t.add_column(col)
    size = {}
    if ans.selection:
        for cl in ans.selection.clusters:
            for m in cl.members:
                size[m] = cl.size
    for c in ans.candidates:
        t.add_row(c.plan.id, c.language or "-", c.status, c.self_check, str(c.code_repairs), str(c.revisions),
                  str(c.result.total_rows) if c.result else "-", str(size.get(c.plan.id, "-")))
    console.print(t)
    console.print("[bold]trace[/bold]")
    render_trace(ans.trace, console)
    u = ans.usage
    console.print(f"{u.calls} LLM calls ({u.cached_calls} cached, {u.retries} retries), "
                  f"{u.prompt_tokens}+{u.completion_tokens} tokens, ${u.cost_usd:.4f}, {ans.seconds:.1f} s; "
                  f"status {ans.status}", markup=False)


def render_records(records: list[Any], console: Console) -> None:
    t = Table(title=f"{len(records)} questions")
    for col in ("q", "db", "status", "EX", "verified", "s", "calls", "tokens", "answer"):
        t.add_column(col)
    for r in records:
        t.add_row(str(r.index), r.db_id, r.status, str(r.ex), str(r.verified), f"{r.seconds:.1f}", str(r.calls),
                  str(r.prompt_tokens + r.completion_tokens), _short(r.answer_sql or "-", 60))
    console.print(t)
