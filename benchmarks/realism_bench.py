"""`verify bench realism`: how realistic counterexamples are, with and without constraints.

Takes the (gold, prediction) pairs of one Spider prediction file that execution accuracy
accepts and whose texts differ (after normalization), and verifies each pair under several
constraint settings:

- `none` — the schema's declared keys and NOT NULL only;
- `mined` — plus the constraints `verify mine` finds in the pair's database (cached);
- `file` — plus the constraints of `--constraints FILE|DIR` (e.g. mined and LLM-validated
  files, one per database, as `verify mine --validate-with-llm` writes them).

For each setting it prints: pairs refuted, the median realism of their counterexamples (the
share of cells plausible for their column of the real database, `constraints.realism`), how
many refutations are realistic (realism ≥ 0.9), and seconds per pair. A last line checks the
aim of constraints: every pair refuted without constraints by a counterexample whose every cell
is plausible (realism 1) should stay refuted with them (constraints remove unrealistic
counterexamples, not real differences). A counterexample with one implausible cell may owe
its difference to that cell (e.g. a NULL in a column that never holds one): such a pair may
rightly stop being refuted.

Example:
    verify bench realism ../shared/data/predictions/spider_dev/DAILSQL.sql --limit 150
"""

from __future__ import annotations

import json
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from verify.verdict import VerdictKind

REALISTIC = 0.9
FULLY_REALISTIC = 1.0  # every cell plausible


class RealismRecord(BaseModel):
    question: int
    db_id: str
    setting: str
    verdict: str
    realism: float | None = None
    seconds: float
    reason: str = ""


def accepted_pairs(data_dir: Path, predictions: Path, limit: int | None, ex_timeout: float = 30.0) -> list[dict]:
    """The EX-accepted pairs with different normalized texts, in question order (first `limit`)."""
    from benchmarks.datasets import load_dataset
    from benchmarks.evaluate import metric_pair
    from benchmarks.exec_acc import execution_match
    from benchmarks.predictions import align, load_predictions
    from benchmarks.store import normalize_sql

    ds = load_dataset("spider", data_dir)
    preds = align(load_predictions(predictions, known_db_ids={q.db_id for q in ds.questions}), ds)
    out: list[dict] = []
    for q in ds.questions:
        if limit is not None and len(out) >= limit:
            break
        pred = preds[q.index]
        if q.db_path is None or normalize_sql(pred) == normalize_sql(q.gold_sql):
            continue
        r = execution_match(q.gold_sql, pred, q.db_path, flavour="spider", timeout=ex_timeout)
        if r.match:
            gold, pred = metric_pair(q.gold_sql, pred, "spider", column_permutation=r.column_permutation)
            out.append({"question": q.index, "db_id": q.db_id, "db_path": str(q.db_path), "gold": gold,
                        "pred": pred})
    return out


def _run(args: tuple[dict, str, str | None, int, float]) -> dict:
    pair, setting, constraints_path, bound, timeout = args
    from constraints.pair import add_realism, constrain_schema
    from verify.check import check_pair
    from verify.schema_io import schema_from_sqlite

    t0 = time.monotonic()
    try:
        schema = schema_from_sqlite(pair["db_path"])
        if setting == "mined":
            schema = constrain_schema(schema, mine=True, db=pair["db_path"])
        elif setting == "file":
            schema = constrain_schema(schema, constraints_file=constraints_path, db=pair["db_path"],
                                      db_id=pair["db_id"])
    except ValueError as e:
        return RealismRecord(question=pair["question"], db_id=pair["db_id"], setting=setting, verdict="error",
                             seconds=round(time.monotonic() - t0, 3), reason=str(e)).model_dump()
    v = check_pair(pair["gold"], pair["pred"], schema=schema, bound=bound, timeout=timeout)
    add_realism(v, pair["db_path"])
    realism = v.counterexample.realism if v.counterexample is not None else None
    return RealismRecord(question=pair["question"], db_id=pair["db_id"], setting=setting, verdict=v.verdict.value,
                         realism=realism, seconds=round(time.monotonic() - t0, 3), reason=v.reason).model_dump()


class SettingSummary(BaseModel):
    setting: str
    pairs: int
    refuted: int
    realistic: int
    median_realism: float | None
    mean_seconds: float
    other: dict[str, int]


def summarize(records: list[RealismRecord], settings: list[str]) -> tuple[list[SettingSummary], dict[str, Any]]:
    out = []
    for s in settings:
        rs = [r for r in records if r.setting == s]
        refuted = [r for r in rs if r.verdict == VerdictKind.NOT_EQUIVALENT]
        scores = [r.realism for r in refuted if r.realism is not None]
        other: dict[str, int] = {}
        for r in rs:
            if r.verdict not in (VerdictKind.EQUIVALENT, VerdictKind.NOT_EQUIVALENT):
                other[r.verdict] = other.get(r.verdict, 0) + 1
        out.append(SettingSummary(setting=s, pairs=len(rs), refuted=len(refuted),
                                  realistic=sum(x >= REALISTIC for x in scores),
                                  median_realism=statistics.median(scores) if scores else None,
                                  mean_seconds=statistics.fmean(r.seconds for r in rs) if rs else 0.0,
                                  other=other))
    # fully realistic refutations without constraints that a constrained setting no longer refutes
    by = {(r.question, r.setting): r for r in records}
    realistic_plain = [q for (q, s), r in by.items()
                       if s == "none" and r.verdict == VerdictKind.NOT_EQUIVALENT and (r.realism or 0) >= FULLY_REALISTIC]
    lost = {s: sorted(q for q in realistic_plain if by.get((q, s)) and by[(q, s)].verdict != VerdictKind.NOT_EQUIVALENT)
            for s in settings if s != "none"}
    return out, {"realistic_without_constraints": len(realistic_plain), "lost": lost}


def realism_main(predictions: Path, data_dir: Path, limit: int | None, constraints: Path | None, bound: int,
                 timeout: float, workers: int, out: Path | None, console: Console) -> None:
    t0 = time.monotonic()
    pairs = accepted_pairs(data_dir, predictions, limit)
    if not pairs:
        console.print(f"no EX-accepted pair with different texts in {predictions}")
        return
    settings = ["none", "mined"] + (["file"] if constraints else [])
    jobs = [(p, s, str(constraints) if constraints else None, bound, timeout) for s in settings for p in pairs]
    records: list[RealismRecord] = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as prog, ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        bar = prog.add_task(f"{len(pairs)} pairs x {len(settings)} settings", total=len(jobs))
        for d in pool.map(_run, jobs, chunksize=1):
            records.append(RealismRecord.model_validate(d))
            prog.advance(bar)
    if out is not None:
        out.write_text("".join(json.dumps(r.model_dump()) + "\n" for r in records))
    summary, kept = summarize(records, settings)
    t = RichTable(title=f"{predictions.name}: {len(pairs)} EX-accepted pairs with different texts, k = {bound}")
    for col in ("constraints", "refuted", f"realistic (≥ {REALISTIC})", "median realism", "s/pair", "other"):
        t.add_column(col, justify="left" if col in ("constraints", "other") else "right")
    for s in summary:
        label = {"file": f"file {constraints}"}.get(s.setting, s.setting)
        t.add_row(label, str(s.refuted), str(s.realistic),
                  "-" if s.median_realism is None else f"{s.median_realism:.3f}", f"{s.mean_seconds:.2f}",
                  ", ".join(f"{k} {v}" for k, v in sorted(s.other.items())))
    console.print(t)
    n = kept["realistic_without_constraints"]
    for s, lost in kept["lost"].items():
        console.print(f"{s}: {n - len(lost)} of the {n} refutations without constraints whose every cell is "
                      f"plausible still refuted"
                      + (f" (not: questions {', '.join(map(str, lost))})" if lost else ""))
    console.print(f"wall time {time.monotonic() - t0:.0f} s")
