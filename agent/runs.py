"""Runs of the agent: one question (`ask`) or a benchmark (`bench`), with a run store.

`bench` answers every question of Spider or BIRD dev that has a database, scores the answer
exactly as `verify leaderboard` scores a published system (`benchmarks.evaluate.judge_pair`: EX
with the official flavour; verified = EX accepted and not refuted by the verifier), and records
per question the tokens, cost, LLM calls, time and the full trace in an `AgentRunStore`. A re-run with the
same `--out` resumes. Questions run inline (one at a time, traces streamed as they happen) or,
with `workers > 1` or Ray, through `benchmarks.executors` (a task's trace is stored when it
finishes). Where the Python tool is disabled (its sandbox cannot start), each record says why
(`QuestionRecord.python_disabled`), so does the summary, and `bench`'s `notify` receives each
distinct reason once.

The model is either an OpenAI-compatible endpoint (`ModelSpec(kind="endpoint")`) or the
scripted model (`kind="scripted"`): per question it explores (list_tables, describe_table),
proposes one plan per given candidate query (e.g. published systems' predictions), grounds each
with run_sql, answers with it, and approves every self-check. Its token counts are the
request and reply sizes / 4, so accounting is exercised realistically.

Example:
    >>> ModelSpec(kind="scripted", config=LLMConfig(model="scripted")).kind
    'scripted'
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.flow import AgentConfig, Answer, answer_question
from agent.llm import LLM, LLMConfig, PriceTable, ResponseCache
from agent.scripted import Reply, ScriptedModel
from agent.store import AgentRunStore, QuestionRecord


class ModelSpec(BaseModel):
    """How to build the LLM inside a worker (picklable)."""

    kind: Literal["endpoint", "scripted"] = "endpoint"
    config: LLMConfig
    cache_dir: str | None = None
    prices: PriceTable = Field(default_factory=PriceTable)


def _sized(content: str | None, calls: list[tuple[str, str]], request: dict[str, Any]) -> Reply:
    size = len(json.dumps(request.get("messages", [])))
    out = len(content or "") + sum(len(a) for _, a in calls)
    return Reply(content=content, tool_calls=calls, prompt_tokens=max(1, size // 4),
                 completion_tokens=max(1, out // 4))


_FROM = re.compile(r"\b(?:from|join)\s+[\"`\[]?(\w+)", re.IGNORECASE)
_APPROACH = re.compile(r"- approach: (.*)", re.DOTALL)


def scripted_model(candidates: list[str]) -> ScriptedModel:
    """The scripted model of a benchmark question whose plans are `candidates` (see module doc)."""
    tables = [m.group(1) for c in candidates for m in _FROM.finditer(c)]

    def explore(req: dict[str, Any]) -> Reply:
        msgs = req["messages"]
        n_tools = sum(1 for m in msgs if m.get("role") == "tool")
        if n_tools == 0:
            return _sized(None, [("list_tables", "{}")], req)
        if n_tools == 1 and tables:
            return _sized(None, [("describe_table", json.dumps({"table": tables[0]}))], req)
        return _sized("Notes: the tables named in the schema; see describe_table output.", [], req)

    def plan(req: dict[str, Any]) -> Reply:
        plans = [{"interpretation": f"reading {i + 1} of the question", "approach": c, "language": "sql"}
                 for i, c in enumerate(candidates)]
        return _sized(json.dumps({"plans": plans}), [], req)

    def implement(req: dict[str, Any]) -> Reply:
        msgs = req["messages"]
        user = msgs[1]["content"]
        found = _APPROACH.search(user)
        sql = found.group(1).strip() if found else "SELECT 1"
        if msgs[-1].get("role") == "user" and not msgs[-1]["content"].startswith("That failed"):
            return _sized(None, [("run_sql", json.dumps({"sql": sql}))], req)
        return _sized(f"```sql\n{sql}\n```", [], req)

    def check(req: dict[str, Any]) -> Reply:
        return _sized('{"ok": true}', [], req)

    routes = {"explore": explore, "plan": plan, "implement": implement, "check": check}

    def default(req: dict[str, Any]) -> Reply:
        from agent.scripted import stage_of

        return routes.get(stage_of(req).split(":")[0], check)(req)

    return ScriptedModel(default=default)


def build_llm(spec: ModelSpec, candidates: list[str] | None = None) -> LLM:
    cache = ResponseCache(spec.cache_dir) if spec.cache_dir else None
    client = scripted_model(candidates or []).client() if spec.kind == "scripted" else None
    return LLM(spec.config, client=client, cache=cache, prices=spec.prices)


# --------------------------------------------------------------------------------------------
# scoring and records


def score(answer_sql: str | None, gold_sql: str, db_path: str | Path, db_id: str, flavour: str,
          verify_timeout: float, verify_bound: int, ex_timeout: float) -> dict[str, Any]:
    """EX and verified accuracy of an answer, judged exactly as `verify leaderboard` judges a
    published system's prediction (`benchmarks.evaluate.judge_pair`): verified = EX accepted
    and not refuted by a confirmed counterexample. `verify_timeout=0` scores EX only."""
    from benchmarks.exec_acc import execution_match
    from benchmarks.evaluate import judge_pair

    if not answer_sql:
        return {"ex": False, "ex_error": "no answer", "verdict": None, "verified": False, "outcome": "error"}
    if verify_timeout <= 0:
        r = execution_match(gold_sql, answer_sql, db_path, flavour=flavour, timeout=ex_timeout)
        outcome = {True: "accepted", False: "refuted_by_database", None: "gold_failed"}[r.match]
        return {"ex": r.match, "ex_error": r.error, "verdict": None, "verified": None, "outcome": outcome}
    try:
        j = judge_pair(gold_sql, answer_sql, db_path=db_path, db_id=db_id, flavour=flavour, bound=verify_bound,
                       timeout=verify_timeout, ex_timeout=ex_timeout)
    except Exception as e:  # noqa: BLE001 - recorded, the run goes on
        return {"ex": None, "ex_error": f"scoring failed: {type(e).__name__}: {e}", "verdict": None,
                "verified": None, "outcome": "error"}
    return {"ex": j["ex"], "ex_error": j["ex_error"], "verdict": j["verdict"], "reason": j["reason"],
            "counterexample": j["counterexample"], "outcome": j["outcome"],
            "verified": bool(j["ex"]) and j["verified"], "strength": j.get("strength"),
            "proved_bound": j.get("proved_bound")}


def record_of(index: int, db_id: str, question: str, gold: str, difficulty: str, ans: Answer,
              scored: dict[str, Any]) -> QuestionRecord:
    u = ans.usage
    return QuestionRecord(
        index=index, db_id=db_id, question=question, gold_sql=gold, difficulty=difficulty,
        answer_sql=ans.sql, plan=ans.plan.id if ans.plan else None, status=ans.status, error=ans.error,
        plans=len(ans.plans), candidates=sum(1 for c in ans.candidates if c.result is not None),
        clusters=len(ans.selection.clusters) if ans.selection else 0,
        code_repairs=sum(c.code_repairs for c in ans.candidates), revisions=sum(c.revisions for c in ans.candidates),
        calls=u.calls, cached_calls=u.cached_calls, failed_calls=u.failed_calls, prompt_tokens=u.prompt_tokens,
        completion_tokens=u.completion_tokens, cost_usd=u.cost_usd, llm_seconds=round(u.llm_seconds, 3),
        seconds=ans.seconds, tool_calls=sum(1 for e in ans.trace if e.get("kind") == "tool"),
        python_disabled=ans.python_disabled, **scored,
    )


class BenchTask(BaseModel):
    index: int
    db_id: str
    question: str
    evidence: str = ""
    gold_sql: str
    difficulty: str = ""
    db_path: str
    flavour: str
    candidates: list[str] = Field(default_factory=list)
    spec: ModelSpec
    agent: AgentConfig
    verify_timeout: float = 10.0
    verify_bound: int = 3
    ex_timeout: float = 30.0


def run_task(task: BenchTask, sink: Any = None,
             notify: Callable[[str], None] | None = None) -> tuple[QuestionRecord, list[dict[str, Any]]]:
    """Answer and score one benchmark question (top level: runs in executor workers too)."""
    llm = build_llm(task.spec, task.candidates)
    ans = answer_question(task.question, task.db_path, llm, task.agent, evidence=task.evidence, trace_sink=sink,
                          notify=notify)
    scored = score(ans.sql, task.gold_sql, task.db_path, task.db_id, task.flavour, task.verify_timeout,
                   task.verify_bound, task.ex_timeout)
    rec = record_of(task.index, task.db_id, task.question, task.gold_sql, task.difficulty, ans, scored)
    return rec, ans.trace


def _run_task_payload(task: BenchTask) -> dict[str, Any]:
    rec, trace = run_task(task)
    return {"record": rec.model_dump(), "trace": trace}


class BenchSummary(BaseModel):
    questions: int
    newly_done: int
    skipped_missing_db: int
    ex: float
    verified: float
    mean_seconds: float
    mean_calls: float
    mean_tokens: float
    total_cost_usd: float
    cached_calls: int
    statuses: dict[str, int]
    wall_seconds: float
    python_disabled: list[str] = Field(default_factory=list, description="why the Python tool was disabled "
                                       "(each distinct reason; empty: it was available for every question)")


def bench(benchmark: str, data_dir: Path, out: Path, spec: ModelSpec, agent: AgentConfig, *,
          limit: int | None = None, start: int = 0, scripted_from: list[Path] | None = None,
          scripted_systems: list[str] | None = None, workers: int = 1, executor: str = "local",
          ray_address: str | None = None, verify_timeout: float = 10.0, verify_bound: int = 3,
          ex_timeout: float = 30.0, task_timeout: float = 1800.0, progress: Any = None,
          notify: Callable[[str], None] | None = None) -> BenchSummary:
    """Run (or resume) the agent over a benchmark; see the module doc. `notify` receives each
    distinct notice for the user (the reason the Python tool is disabled) once."""
    from benchmarks.datasets import load_dataset

    t0 = time.monotonic()
    ds = load_dataset(benchmark, data_dir)
    selected, skipped = [], 0
    for q in ds.questions[start:]:
        if limit is not None and len(selected) >= limit:
            break
        if q.db_path is None:
            skipped += 1
        else:
            selected.append(q)
    if not selected:
        raise ValueError(f"no question of {benchmark} {ds.split} from {start} on has a database under {data_dir} "
                         f"({skipped} skipped: database missing)")
    cand_by_system: dict[str, list[str]] = {}
    if spec.kind == "scripted":
        if not scripted_from:
            raise ValueError("the scripted model needs --scripted-from (prediction files whose queries it proposes)")
        from benchmarks.predictions import align, discover, load_predictions

        known = {q.db_id for q in ds.questions}
        for p in discover(scripted_from):
            preds = load_predictions(p, known_db_ids=known)
            cand_by_system[preds.system] = align(preds, ds)
        if scripted_systems:
            missing = [s for s in scripted_systems if s not in cand_by_system]
            if missing:
                raise ValueError(f"no prediction file for system(s) {', '.join(missing)}; have "
                                 f"{', '.join(sorted(cand_by_system))}")
            cand_by_system = {s: cand_by_system[s] for s in scripted_systems}
    meta = {"benchmark": benchmark, "model": spec.config.model, "base_url": spec.config.base_url,
            "kind": spec.kind, "agent": agent.model_dump(mode="json"), "systems": sorted(cand_by_system),
            "verify_bound": verify_bound}
    store = AgentRunStore(out)
    store.open_run(meta)
    if spec.cache_dir is None:
        spec = spec.model_copy(update={"cache_dir": str(store.cache_dir)})
    done = store.finished()
    flavour = "bird" if benchmark == "bird" else "spider"
    todo = [q for q in selected if q.index not in done]
    tasks = [BenchTask(index=q.index, db_id=q.db_id, question=q.question, evidence=q.evidence, gold_sql=q.gold_sql,
                       difficulty=q.difficulty, db_path=str(q.db_path), flavour=flavour,
                       candidates=[c[q.index] for c in cand_by_system.values()], spec=spec, agent=agent,
                       verify_timeout=verify_timeout, verify_bound=verify_bound, ex_timeout=ex_timeout)
             for q in todo]
    noticed: set[str] = set()

    def notice(message: str) -> None:
        if notify is not None and message not in noticed:
            noticed.add(message)
            notify(message)

    n_done = 0
    if workers <= 1 and executor == "local":
        for t in tasks:
            store.begin(t.index)
            rec, _ = run_task(t, sink=lambda ev, i=t.index: store.event(i, ev), notify=notice)
            store.finish(rec)
            n_done += 1
            if progress:
                progress(n_done, len(tasks), rec)
    else:
        from benchmarks.executors import make_executor  # local process pool or Ray

        ex = make_executor(executor, workers=workers, ray_address=ray_address)
        for o in ex.map(_run_task_payload, [(str(t.index), t) for t in tasks], timeout=task_timeout):
            if o.error is not None:
                t = next(t for t in tasks if str(t.index) == o.task_id)
                rec = QuestionRecord(index=t.index, db_id=t.db_id, question=t.question, gold_sql=t.gold_sql,
                                     status="task_failed", error=o.error, seconds=o.seconds)
                store.finish(rec, [{"kind": "error", "error": o.error}])
            else:
                rec = QuestionRecord.model_validate(o.value["record"])
                store.finish(rec, o.value["trace"])
                if rec.python_disabled:
                    notice(rec.python_disabled)
            n_done += 1
            if progress:
                progress(n_done, len(tasks), rec)
    wanted = {q.index for q in selected}
    recs = [r for r in store.records() if r.index in wanted]
    _sync_run_store(out / "runs.duckdb", ds, recs, meta, verify_timeout=verify_timeout, ex_timeout=ex_timeout)
    n = len(recs) or 1
    statuses: dict[str, int] = {}
    for r in recs:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    return BenchSummary(
        questions=len(recs), newly_done=n_done, skipped_missing_db=skipped,
        ex=sum(bool(r.ex) for r in recs) / n, verified=sum(bool(r.verified) for r in recs) / n,
        mean_seconds=sum(r.seconds for r in recs) / n, mean_calls=sum(r.calls for r in recs) / n,
        mean_tokens=sum(r.prompt_tokens + r.completion_tokens for r in recs) / n,
        total_cost_usd=sum(r.cost_usd for r in recs), cached_calls=sum(r.cached_calls for r in recs),
        statuses=statuses, wall_seconds=round(time.monotonic() - t0, 1),
        python_disabled=sorted({r.python_disabled for r in recs if r.python_disabled}),
    )


def agent_system_name(model: str) -> str:
    return f"agent:{model}"


def _sync_run_store(path: Path, ds: Any, recs: list[QuestionRecord], meta: dict[str, Any], *,
                    verify_timeout: float, ex_timeout: float) -> None:
    """Put every scored question into the benchmarks' DuckDB run store (`OUT/runs.duckdb`),
    as system `agent:<model>`, so the agent's results can be queried, and compared with the
    published systems', with the same SQL as a leaderboard run's. Rows already there are kept;
    a run killed between the two stores is completed by the next run."""
    from benchmarks.evaluate import tool_version
    from benchmarks.store import ResultKey, ResultRow, RunStore, sql_hash, text_hash

    bench_name = f"{ds.benchmark}_{ds.split}"
    system = agent_system_name(meta["model"])
    settings = f"agent;t={verify_timeout:g};ext={ex_timeout:g};cfg={text_hash(meta)}"
    semantics = "set" if ds.benchmark == "bird" else "auto"
    with RunStore(path) as rs:
        done = rs.finished_keys(bench_name)
        for r in recs:
            key = ResultKey(benchmark=bench_name, question=r.index, system=system, gold_hash=sql_hash(r.gold_sql),
                            pred_hash=sql_hash(r.answer_sql or ""), semantics=semantics, bound=meta["verify_bound"],
                            constraints_hash="none", tool_version=tool_version(), settings=settings)
            if key.tuple() in done:
                continue
            rs.stage_result(ResultRow(**key.model_dump(), db_id=r.db_id, difficulty=r.difficulty, status=r.status,
                                      gold_sql=r.gold_sql, pred_sql=r.answer_sql or "", ex=r.ex,
                                      ex_error=r.ex_error or r.error, verdict=r.verdict, reason=r.reason,
                                      counterexample=r.counterexample, outcome=r.outcome or "error",
                                      seconds=r.seconds, strength=r.strength, proved_bound=r.proved_bound))
