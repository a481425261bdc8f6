"""`verify bench coverage`: how much of a benchmark's gold SQL the verifier models.

Every gold query is verified against itself at a small bound with the shortcuts off (no
"identical queries" or row-wise proof), so that each one really goes through lowering, the Z3
encoding and the solver. A modelled query must come out `equivalent`; any other verdict for a
query against itself is a bug.

Schemas: Spider from its SQLite files (from `tables.json` where a database is missing); BIRD
from `dev_tables.json` (its databases are not available offline).

Example:
    verify bench coverage --benchmark spider --bound 3
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from pathlib import Path

from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table as RichTable

from benchmarks.evaluate import warm_up_verification
from benchmarks.executors import LocalExecutor
from verify.budget import DEFAULT
from verify.check import check_pair
from verify.schema import Schema, SchemaError
from verify.schema_io import schema_from_spider_tables, schema_from_sqlite
from verify.verdict import VerdictKind

BENCHMARKS = ("spider", "bird")


class CoverageRecord(BaseModel):
    benchmark: str
    index: int
    db_id: str
    verdict: str
    reason: str
    seconds: float
    unconfirmed_models: int


def load_gold(benchmark: str, data_dir: Path) -> list[tuple[int, str, str]]:
    """(index, db_id, gold SQL) for every question of the dev set."""
    if benchmark == "spider":
        rows = json.loads((data_dir / "spider" / "dev.json").read_text())
        return [(i, r["db_id"], r["query"]) for i, r in enumerate(rows)]
    if benchmark == "bird":
        rows = json.loads((data_dir / "bird" / "dev.json").read_text())
        return [(i, r["db_id"], r["SQL"]) for i, r in enumerate(rows)]
    raise ValueError(f"unknown benchmark {benchmark!r}; choose from {', '.join(BENCHMARKS)}")


def load_schema_for(benchmark: str, data_dir: Path, db_id: str) -> Schema:
    if benchmark == "spider":
        path = data_dir / "spider" / "database" / db_id / f"{db_id}.sqlite"
        if path.exists():
            return schema_from_sqlite(path)
        return schema_from_spider_tables(data_dir / "spider" / "tables.json", db_id)
    return schema_from_spider_tables(data_dir / "bird" / "dev_tables.json", db_id)


def _check_job(job: tuple[str, Path, int, str, str, int, float]) -> CoverageRecord:
    """`_check_one` on one executor job."""
    return _check_one(*job)


def _check_one(benchmark: str, data_dir: Path, index: int, db_id: str, sql: str,
               bound: int, timeout: float) -> CoverageRecord:
    try:
        schema = load_schema_for(benchmark, data_dir, db_id)
    except SchemaError as e:
        return CoverageRecord(benchmark=benchmark, index=index, db_id=db_id, verdict="error",
                              reason=f"schema: {e}", seconds=0.0, unconfirmed_models=0)
    v = check_pair(sql, sql, schema=schema, bound=bound, timeout=timeout, budget=DEFAULT.without_random(),
                   minimize_result=False, shortcuts=False)
    return CoverageRecord(benchmark=benchmark, index=index, db_id=db_id, verdict=v.verdict.value,
                          reason=v.reason, seconds=v.stats.seconds,
                          unconfirmed_models=v.stats.unconfirmed_models)


def run_coverage(benchmark: str, data_dir: Path, *, bound: int, timeout: float, workers: int,
                 limit: int | None = None, console: Console | None = None,
                 progress_file: Path | None = None) -> list[CoverageRecord]:
    """Check every gold query; each finished record is also appended to `progress_file`."""
    gold = load_gold(benchmark, data_dir)[: limit or None]
    console = console or Console(stderr=True)
    out: list[CoverageRecord] = []
    with Progress(TextColumn(f"[bold]{benchmark}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True) as prog:
        task = prog.add_task(benchmark, total=len(gold))
        jobs = [(str(i), (benchmark, data_dir, i, db, sql, bound, timeout)) for i, db, sql in gold]
        db_of = {str(i): db for i, db, _ in gold}
        # each query in a process of its own (reproducible verdicts); the executor's limit only
        # catches a check that overruns its timeout badly
        for o in LocalExecutor(workers=workers).map(_check_job, jobs, timeout=3 * timeout + 60, isolate=True,
                                                     warm_up=warm_up_verification):
            if o.error is not None:
                o.value = CoverageRecord(benchmark=benchmark, index=int(o.task_id), db_id=db_of[o.task_id],
                                         verdict="error", reason=f"benchmark task failed: {o.error.splitlines()[0]}",
                                         seconds=o.seconds, unconfirmed_models=0)
            out.append(o.value)
            if progress_file is not None:
                with progress_file.open("a") as fh:
                    fh.write(out[-1].model_dump_json() + "\n")
            prog.advance(task)
    return sorted(out, key=lambda r: r.index)


def _bucket(reason: str) -> str:
    """Group reasons: 'unsupported: function HEX' stays, long error texts are cut at the colon."""
    return reason if len(reason) < 90 else reason[:87] + "..."


def print_coverage(records: list[CoverageRecord], console: Console, wall: float) -> None:
    n = len(records)
    by = Counter(r.verdict for r in records)
    modelled = n - by["unsupported"] - by["error"]
    secs = sorted(r.seconds for r in records if r.verdict not in (VerdictKind.UNSUPPORTED, VerdictKind.ERROR))
    t = RichTable(title=f"{records[0].benchmark if records else ''} gold queries verified against themselves")
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_row("gold queries", str(n))
    t.add_row("modelled", f"{modelled} ({100 * modelled / max(n, 1):.1f}%)")
    t.add_row("equivalent (as they must be)", str(by["equivalent"]))
    t.add_row("other verdicts on modelled queries (bugs)", str(modelled - by["equivalent"]))
    t.add_row("unsupported", str(by["unsupported"]))
    t.add_row("error", str(by["error"]))
    t.add_row("unconfirmed models", str(sum(r.unconfirmed_models for r in records)))
    if secs:
        t.add_row("median s (modelled)", f"{statistics.median(secs):.3f}")
        t.add_row("p90 s (modelled)", f"{secs[int(0.9 * (len(secs) - 1))]:.3f}")
    t.add_row("wall time s", f"{wall:.1f}")
    console.print(t)
    for title, kinds in (("unsupported, by feature", ("unsupported",)), ("errors, by cause", ("error",)),
                         ("not equivalent to themselves", ("not_equivalent", "unknown"))):
        counts = Counter(_bucket(r.reason) for r in records if r.verdict in kinds)
        if not counts:
            continue
        tt = RichTable(title=title)
        tt.add_column("count", justify="right")
        tt.add_column("reason")
        tt.add_column("example (index)")
        for reason, c in counts.most_common(30):
            first = next(r for r in records if r.verdict in kinds and _bucket(r.reason) == reason)
            tt.add_row(str(c), reason, f"{first.db_id} #{first.index}")
        console.print(tt)


def coverage_main(benchmark: str, data_dir: Path, bound: int, timeout: float, workers: int,
                  limit: int | None, out: Path | None, console: Console) -> list[CoverageRecord]:
    if not data_dir.is_dir():
        raise FileNotFoundError(f"no such folder: {data_dir}")
    t0 = time.monotonic()
    if out is not None:
        out.write_text("")
    records = run_coverage(benchmark, data_dir, bound=bound, timeout=timeout, workers=workers, limit=limit,
                           progress_file=out)
    print_coverage(records, console, time.monotonic() - t0)
    return records


__all__ = ["coverage_main", "run_coverage", "print_coverage", "load_gold", "CoverageRecord"]
