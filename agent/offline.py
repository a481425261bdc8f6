"""Selection without an LLM: `verify agent select` over published systems' predictions.

Each question's candidate pool is one prediction per system (prediction files aligned with the
dev set by `benchmarks.predictions`). For every question the pool goes through
`agent.select.select`; the chosen query, the plain execution-result majority vote
(`agent.select.majority_vote`, ties by system order) and every single system are scored with
`benchmarks.exec_acc.execution_match` (EX, the official flavour). With `verified=True` a second
pass scores the selected, majority and best-single answers' verified accuracy exactly as
`verify leaderboard` does (`benchmarks.evaluate.judge_pair`: EX accepted and not refuted by a
confirmed counterexample).

Questions whose database is missing are skipped and counted.

Example (shape only; see tests for a run):
    >>> OfflineReport(benchmark="spider", systems={}, questions=0).selected_ex
    0.0
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agent.select import Candidate, SelectConfig, majority_vote, normalize_sql, select


class QuestionOutcome(BaseModel):
    index: int
    db_id: str
    selected: str | None = None
    majority: str | None = None
    ex: dict[str, bool] = Field(default_factory=dict, description="system -> EX match")
    selected_ex: bool = False
    majority_ex: bool = False
    clusters: int = 0
    verifier_calls: int = 0
    seconds: float = 0.0
    verified: dict[str, bool] = Field(default_factory=dict, description="'selected'/'majority'/'best' -> proved")
    gold_error: str | None = None


class OfflineReport(BaseModel):
    benchmark: str
    systems: dict[str, float] = Field(description="system -> EX")
    questions: int
    skipped_missing_db: int = 0
    best_system: str | None = None
    best_ex: float = 0.0
    selected_ex: float = 0.0
    majority_ex: float = 0.0
    oracle_ex: float = Field(0.0, description="some system is right (upper bound of any selection)")
    verified: dict[str, float] = Field(default_factory=dict)
    verified_questions: int = 0
    seconds: float = 0.0
    verifier_calls: int = 0


def _one(args: tuple) -> QuestionOutcome:
    index, db_id, gold, db_path, pool, flavour, config, with_schema = args
    from benchmarks.exec_acc import execution_match

    t0 = time.monotonic()
    cands = [Candidate(id=system, sql=sql) for system, sql in pool]
    schema = None
    if with_schema and config.verify:
        from benchmarks.datasets import load_schema_cached

        try:
            schema = load_schema_cached(str(db_path), "", db_id)
        except Exception:  # noqa: BLE001 - selection then runs on execution results only
            schema = None
    sel = select([c.model_copy() for c in cands], db_path, schema=schema, config=config)
    maj = majority_vote([c.model_copy() for c in cands], db_path, config)
    ex_by_text: dict[str, bool] = {}
    gold_error = None
    out = QuestionOutcome(index=index, db_id=db_id, selected=sel.answer_id, majority=maj,
                          clusters=len(sel.clusters), verifier_calls=sel.verifier_calls)
    for c in cands:
        key = normalize_sql(c.sql or "")
        if key not in ex_by_text:
            r = execution_match(gold, c.sql or "", db_path, flavour=flavour, timeout=config.sql_timeout)
            ex_by_text[key] = bool(r.match)
            if r.match is None:
                gold_error = r.error
        out.ex[c.id] = ex_by_text[key]
    out.selected_ex = bool(sel.answer_id and out.ex[sel.answer_id])
    out.majority_ex = bool(maj and out.ex[maj])
    out.gold_error = gold_error
    out.seconds = round(time.monotonic() - t0, 3)
    return out


def _verify_one(args: tuple) -> dict[str, bool]:
    """Verified accuracy of each named answer, judged as `verify leaderboard` judges a system."""
    gold, answers, db_path, db_id, flavour, timeout, bound = args
    from benchmarks.evaluate import judge_pair

    memo: dict[str, bool] = {}
    out = {}
    for name, sql in answers.items():
        if not sql:
            out[name] = False
            continue
        key = normalize_sql(sql)
        if key not in memo:
            j = judge_pair(gold, sql, db_path=db_path, db_id=db_id, flavour=flavour, bound=bound, timeout=timeout,
                           minimize=False)
            memo[key] = bool(j["ex"]) and j["verified"]
        out[name] = memo[key]
    return out


def evaluate(benchmark: str, data_dir: Path, prediction_paths: list[Path], *, limit: int | None = None,
             workers: int = 2, config: SelectConfig | None = None, verified: bool = False,
             verify_timeout: float = 10.0, verify_bound: int = 3, progress: Any = None,
             outcomes_out: Path | None = None) -> tuple[OfflineReport, list[QuestionOutcome]]:
    """Run selection over the prediction files and score it (see the module doc)."""
    from benchmarks.datasets import load_dataset
    from benchmarks.predictions import align, discover, load_predictions

    t0 = time.monotonic()
    config = config or SelectConfig()
    ds = load_dataset(benchmark, data_dir)
    known = {q.db_id for q in ds.questions}
    systems: dict[str, list[str]] = {}
    for p in discover(prediction_paths):
        preds = load_predictions(p, known_db_ids=known)
        if preds.system in systems:
            raise ValueError(f"two prediction files for system {preds.system!r} ({p})")
        systems[preds.system] = align(preds, ds)
    names = sorted(systems)
    flavour = "bird" if benchmark == "bird" else "spider"
    todo, skipped = [], 0
    for q in ds.questions:
        if limit is not None and len(todo) >= limit:
            break
        if q.db_path is None:
            skipped += 1
            continue
        pool = [(s, systems[s][q.index]) for s in names]
        todo.append((q.index, q.db_id, q.gold_sql, q.db_path, pool, flavour, config, True))
    outcomes: list[QuestionOutcome] = []
    with ProcessPoolExecutor(max_workers=max(1, workers)) as ex:
        for o in ex.map(_one, todo, chunksize=4):
            outcomes.append(o)
            if progress:
                progress(len(outcomes), len(todo))
    n = len(outcomes)
    sys_ex = {s: sum(o.ex.get(s, False) for o in outcomes) / n if n else 0.0 for s in names}
    best = max(names, key=lambda s: (sys_ex[s], s)) if names else None
    report = OfflineReport(
        benchmark=benchmark, systems=sys_ex, questions=n, skipped_missing_db=skipped, best_system=best,
        best_ex=sys_ex.get(best, 0.0) if best else 0.0,
        selected_ex=sum(o.selected_ex for o in outcomes) / n if n else 0.0,
        majority_ex=sum(o.majority_ex for o in outcomes) / n if n else 0.0,
        oracle_ex=sum(any(o.ex.values()) for o in outcomes) / n if n else 0.0,
        verifier_calls=sum(o.verifier_calls for o in outcomes),
    )
    if verified and outcomes:
        by_index = {q.index: q for q in ds.questions}
        jobs = []
        for o in outcomes:
            q = by_index[o.index]
            answers = {"selected": systems[o.selected][q.index] if o.selected else None,
                       "majority": systems[o.majority][q.index] if o.majority else None,
                       "best": systems[best][q.index] if best else None}
            jobs.append((q.gold_sql, answers, q.db_path, q.db_id, flavour, verify_timeout, verify_bound))
        with ProcessPoolExecutor(max_workers=max(1, workers)) as ex:
            for i, (o, v) in enumerate(zip(outcomes, ex.map(_verify_one, jobs, chunksize=2))):
                o.verified = v
                if progress:
                    progress(i + 1, len(jobs))
        report.verified = {k: sum(o.verified.get(k, False) for o in outcomes) / n
                           for k in ("selected", "majority", "best")}
        report.verified_questions = n
    report.seconds = round(time.monotonic() - t0, 1)
    if outcomes_out is not None:
        outcomes_out.parent.mkdir(parents=True, exist_ok=True)
        outcomes_out.write_text("".join(o.model_dump_json() + "\n" for o in outcomes))
    return report, outcomes
