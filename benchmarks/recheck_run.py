"""`verify bench recheck RUN`: every every-size proof of a leaderboard run, re-checked on random
databases larger than any bound.

A leaderboard table counts a pair "proved for every size" on the strength of the rules in
`verify.rules`. This command takes such a run (its `records.jsonl`), rebuilds for each distinct
pair with strength `every_size` the pair the metric compared (`benchmarks.evaluate.metric_pair`:
Spider's pre-processing and the prediction's columns in the order EX matched them, which EX is
run again to learn), and runs both queries on `databases` random databases of 5 to 10 rows per
table (`verify.recheck`, fixed seed) under the semantics the verdict used (Spider: a list under
the gold query's outer ORDER BY, else a bag; BIRD: a set). A difference no row order removes is
a wrong proof: the command lists it and exits 1.

    verify bench recheck runs/spider --benchmark spider --databases 30
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.datasets import load_dataset


@dataclass(frozen=True)
class ProofToRecheck:
    """One distinct pair a run proved for every size: the texts as the run stored them."""

    gold: str
    pred: str
    db_id: str
    db_path: str | None
    tables_json: str
    flavour: str
    reason: str


@dataclass
class RecheckReport:
    """What the re-check of a run saw, over all its every-size proofs."""

    pairs: int = 0
    databases: int = 0
    differences: list[dict[str, Any]] = field(default_factory=list)  # wrong proofs, one per pair
    order_dependent: int = 0  # databases where only another row order made the results agree
    errors: int = 0  # databases a query failed on (neither result compared)
    skipped: Counter = field(default_factory=Counter)  # pairs not re-checked, by why
    by_reason: Counter = field(default_factory=Counter)  # pairs re-checked, by the proof's reason


def proofs_of_run(records: Path, benchmark: str, data_dir: Path) -> list[ProofToRecheck]:
    """The distinct pairs `records` (a leaderboard's records.jsonl) marks `every_size`."""
    ds = load_dataset(benchmark, data_dir)
    where = {q.db_id: str(q.db_path) if q.db_path else None for q in ds.questions}
    seen: dict[tuple[str, str, str], ProofToRecheck] = {}
    with records.open() as f:
        for line_no, line in enumerate(f, 1):
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{records}:{line_no}: not a JSON record ({e.msg})") from None
            # a proof needs no database: BIRD's verification-only records say "database missing"
            # (Spider's proofs are re-checked only where EX still accepts them, `recheck_one`)
            if r.get("strength") != "every_size" or r.get("status", "ok") not in ("ok", "database missing"):
                continue
            key = (r["gold_sql"], r["pred_sql"], r["db_id"])
            if key not in seen:
                seen[key] = ProofToRecheck(gold=r["gold_sql"], pred=r["pred_sql"], db_id=r["db_id"],
                                           db_path=where.get(r["db_id"]), tables_json=str(ds.tables_json),
                                           flavour=benchmark, reason=r.get("reason") or "")
    return list(seen.values())


def recheck_one(proof: ProofToRecheck, databases: int) -> dict[str, Any]:
    """Re-check one proof (run in a worker process); the outcome as a plain dict."""
    from benchmarks.evaluate import metric_pair
    from benchmarks.exec_acc import execution_match
    from benchmarks.datasets import load_schema_cached
    from verify.lower import outer_order
    from verify.parse import parse_query
    from verify.recheck import recheck

    perm = None
    if proof.flavour == "spider":
        if proof.db_path is None or not Path(proof.db_path).is_file():
            return {"skipped": "database missing"}
        ex = execution_match(proof.gold, proof.pred, proof.db_path, flavour="spider")
        if not ex.match:
            return {"skipped": "EX no longer accepts the pair"}
        perm = ex.column_permutation
    gold, pred = metric_pair(proof.gold, proof.pred, proof.flavour, False, perm)
    try:
        schema = load_schema_cached(proof.db_path, proof.tables_json, proof.db_id)
        semantics = "set" if proof.flavour == "bird" else (
            "list" if outer_order(parse_query(gold, "sqlite")) else "bag")
        r = recheck(gold, pred, schema, semantics=semantics, databases=databases)
    except Exception as e:  # noqa: BLE001 - reported per pair, never a traceback
        return {"skipped": f"{type(e).__name__}: {e}"[:120]}
    return {"databases": r.databases, "differences": r.differences, "order_dependent": r.order_dependent,
            "errors": r.errors, "first_difference": r.first_difference, "gold": gold, "pred": pred}


def _recheck_star(args: tuple[ProofToRecheck, int]) -> dict[str, Any]:
    return recheck_one(*args)


def run(records: Path, benchmark: str, data_dir: Path, *, databases: int = 30, workers: int = 2,
        limit: int | None = None, console: Console | None = None) -> RecheckReport:
    """Re-check every every-size proof of the run whose records are `records`; print a summary."""
    console = console or Console()
    proofs = proofs_of_run(records, benchmark, data_dir)[:limit]
    if not proofs:
        console.print(f"[yellow]{records} holds no every-size proof of a {benchmark} pair to re-check[/yellow]")
    report = RecheckReport()
    jobs = [(p, databases) for p in proofs]
    with ProcessPoolExecutor(workers) if workers > 1 else contextlib.nullcontext() as pool:
        outcomes = pool.map(_recheck_star, jobs, chunksize=8) if pool else map(_recheck_star, jobs)
        for proof, o in zip(proofs, outcomes):
            _count(report, proof, o)
    _print(report, console, databases)
    return report


def _count(report: RecheckReport, proof: ProofToRecheck, o: dict[str, Any]) -> None:
    """Add one pair's re-check to `report`."""
    if "skipped" not in o and o["databases"] == 0:
        o = {"skipped": "no database of 5 or more rows fits the schema"}
    if "skipped" in o:
        report.skipped[o["skipped"]] += 1
        return
    report.pairs += 1
    report.by_reason[proof.reason or "(no reason)"] += 1
    report.databases += o["databases"]
    report.order_dependent += o["order_dependent"]
    report.errors += o["errors"]
    if o["differences"]:
        report.differences.append({"db_id": proof.db_id, "gold": o["gold"], "pred": o["pred"],
                                   "databases": o["differences"], "example": o["first_difference"]})


def _print(report: RecheckReport, console: Console, databases: int) -> None:
    t = Table(title=f"every-size proofs re-checked on {databases} random databases each (5-10 rows per table)")
    for c in ("pairs", "databases", "wrong proofs", "order-dependent databases", "query errors"):
        t.add_column(c, justify="right")
    t.add_row(str(report.pairs), str(report.databases), str(len(report.differences)), str(report.order_dependent),
              str(report.errors))
    console.print(t)
    for reason, n in report.by_reason.most_common():
        console.print(f"  {n:6} proved by: {reason}")
    for why, n in report.skipped.most_common():
        console.print(f"  {n:6} not re-checked: {why}")
    for d in report.differences:
        console.print(f"[red]WRONG PROOF[/red] ({d['db_id']}, {d['databases']} databases): {d['gold']}  |  {d['pred']}")
