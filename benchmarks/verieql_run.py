"""`verify bench verieql`: run the Literature and Calcite equivalence benchmarks and compare
with VeriEQL's recorded results.

The benchmark's SQL is Calcite output: identifiers such as `$f0` or `$cor0` are quoted before
parsing (`adapt_sql`), and Literature's schemas type every column INT even where the queries
compare it with a string, so such columns are re-typed VARCHAR (`adapt_schema`). Both
adaptations are input repairs; neither changes what a pair means.

`--recheck N` re-runs every every-size proof on N random databases larger than the bound
(`benchmarks.rechecks`): a difference there would be a wrong proof. `--calcite` reads the
queries as Calcite prints SQL (`verify.calcite`: SINGLE_VALUE, COUNT of several arguments, a
number in GROUP BY, VALUES columns EXPR$0), which DuckDB otherwise rejects or reads otherwise.

Example:
    verify bench verieql --suite literature --effort 1 --timeout 300
    verify bench verieql --suite calcite --recheck 30 --out runs/verieql_calcite.jsonl
"""

from __future__ import annotations

import re
import statistics
import time
from pathlib import Path

import sqlglot
from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table as RichTable
from sqlglot import exp

from benchmarks.evaluate import warm_up_verification
from benchmarks.executors import LocalExecutor
from benchmarks.rechecks import Rechecked, recheck_proof, summary_rows as recheck_rows
from benchmarks.verieql import VeriEQLPair, load_pairs, load_recorded
from verify.budget import DEFAULT
from verify.calcite import read_calcite_pair, refused_verdict
from verify.check import check_pair
from verify.errors import QueryError, Unsupported
from verify.schema import Affinity, Column, Schema
from verify.verdict import Verdict, VerdictKind

SUITES = ("literature", "calcite")
_DOLLAR = re.compile(r"(?<![\w\"'$])([A-Za-z_]*\$[A-Za-z0-9_$]*)")


class PairOutcome(Rechecked):
    """One pair's result, as written to `--out`; with --recheck, the re-check of an every-size
    proof (`benchmarks.rechecks`)."""

    suite: str
    index: int
    verdict: str
    bound: int | None
    complete: bool
    reason: str
    seconds: float
    unconfirmed_models: int
    verieql_refuted: bool
    verieql_k: int
    verieql_error: str | None
    verieql_cex_confirmed: bool | None = None  # VeriEQL's counterexample re-run on DuckDB
    engine_rejects: str | None = None  # DuckDB itself cannot run one of the queries (malformed pair)


def confirm_verieql_counterexample(script: str | None, gold: str, gen: str) -> bool | None:
    """Re-run VeriEQL's recorded counterexample (its CREATE/INSERT script) on DuckDB: do the two
    queries really return different bags there? None when the script or a query cannot run."""
    if not script:
        return None
    import duckdb
    from collections import Counter

    con = duckdb.connect()
    try:
        for stmt in sqlglot.transpile(script, read="mysql", write="duckdb"):
            if not stmt.lstrip().upper().startswith(("SELECT", "WITH")):
                con.execute(stmt)
        a = Counter(map(repr, con.execute(gold).fetchall()))
        b = Counter(map(repr, con.execute(gen).fetchall()))
    except Exception:  # noqa: BLE001 - any failure means "could not be confirmed"
        return None
    finally:
        con.close()
    return a != b


def engine_rejection(pair: VeriEQLPair, calcite: bool = False) -> str | None:
    """Why DuckDB refuses to run one of the pair's queries on an empty database of its schema
    (Calcite's printer emits some pairs no engine accepts: `WHERE * = x`, columns of an
    undefined `$cor0`, and without the Calcite reading `SINGLE_VALUE`), or None when both run."""
    import duckdb

    if pair.schema is None:
        return f"schema: {pair.schema_error}"
    try:
        gold, gen = pair_texts(pair, calcite)
    except (QueryError, Unsupported) as e:
        return f"Calcite reading: {e}"
    con = duckdb.connect()
    try:
        con.execute(adapt_schema(pair.schema, [gold, gen]).ddl("duckdb"))
        for which, sql in (("gold", gold), ("generated", gen)):
            try:
                con.execute(sql).fetchall()
            except duckdb.Error as e:
                return f"{which}: {str(e).splitlines()[0]}"
    finally:
        con.close()
    return None


def pair_texts(pair: VeriEQLPair, calcite: bool = False) -> tuple[str, str]:
    """The pair's two queries as verified: `$` names quoted (`adapt_sql`) and, with `calcite`,
    read as Calcite prints SQL (`verify.calcite`; a QueryError or Unsupported says why not)."""
    gold, gen = adapt_sql(pair.gold), adapt_sql(pair.gen)
    if calcite:
        gold, gen, _ = read_calcite_pair(gold, gen, pair.schema)
    return gold, gen


def adapt_sql(sql: str) -> str:
    """Quote Calcite identifiers containing `$` (outside string literals)."""
    parts = re.split(r"('(?:[^']|'')*')", sql)
    return "".join(p if i % 2 else _DOLLAR.sub(lambda m: f'"{m.group(1)}"', p) for i, p in enumerate(parts))


def adapt_schema(schema: Schema, queries: list[str]) -> Schema:
    """Re-type INTEGER columns that the queries compare with a string literal as VARCHAR."""
    texty: set[str] = set()
    links: list[tuple[str, str]] = []  # columns compared with each other share a type
    for q in queries:
        try:
            tree = sqlglot.parse_one(q, read="duckdb")
        except Exception:  # noqa: BLE001 - the verifier reports the syntax error itself
            continue
        for cmp in tree.find_all(exp.EQ, exp.NEQ, exp.LT, exp.GT, exp.LTE, exp.GTE):
            sides = [cmp.this, cmp.expression]
            cols = [s.name.lower() for s in sides if isinstance(s, exp.Column)]
            if any(isinstance(s, exp.Literal) and s.is_string for s in sides):
                texty.update(cols)
            if len(cols) == 2:
                links.append((cols[0], cols[1]))
    changed = bool(texty)
    while changed:
        changed = False
        for a, b in links:
            if (a in texty) != (b in texty):
                texty.update((a, b))
                changed = True
    if not texty:
        return schema
    tables = []
    for t in schema.tables:
        cols = [
            Column(name=c.name, type="VARCHAR", affinity=Affinity.TEXT, not_null=c.not_null)
            if c.name.lower() in texty and c.affinity == Affinity.INTEGER else c
            for c in t.columns
        ]
        tables.append(t.model_copy(update={"columns": cols}))
    fixed = schema.model_copy(update={"tables": tables})
    for t in fixed.tables:  # keep foreign keys whose two sides still agree
        t.foreign_keys = [
            fk for fk in t.foreign_keys
            if all(t.column(a).affinity == fixed.table(fk.ref_table).column(b).affinity
                   for a, b in zip(fk.columns, fk.ref_columns))
        ]
    return fixed


def _run_job(job: tuple[VeriEQLPair, str, int, float, float, int, bool]) -> tuple[VeriEQLPair, Verdict, Rechecked]:
    """`_run_one` on one executor job."""
    return _run_one(*job)


def _run_one(pair: VeriEQLPair, suite: str, bound: int, timeout: float, effort: float = 1.0,
             recheck_n: int = 0, calcite: bool = False) -> tuple[VeriEQLPair, Verdict, Rechecked]:
    """Verify one pair (DuckDB dialect, bag semantics, as VeriEQL does) within the default work
    budget scaled by `effort`; `timeout` is the safety stop. With `recheck_n`, an every-size
    proof is re-run on that many random databases larger than the bound; with `calcite`, the
    queries are read as Calcite prints SQL (`verify.calcite`)."""
    try:
        gold, gen = pair_texts(pair, calcite)
    except (QueryError, Unsupported) as e:
        return pair, refused_verdict(e), Rechecked()
    schema = adapt_schema(pair.schema, [gold, gen]) if pair.schema is not None else None
    v = check_pair(gold, gen, schema=schema, bound=bound, dialect="duckdb", semantics="bag",
                   timeout=timeout, budget=DEFAULT.scaled(effort), minimize_result=False)
    rechecked = Rechecked()
    if recheck_n > 0 and schema is not None and v.verdict == VerdictKind.EQUIVALENT and v.complete:
        rechecked = recheck_proof(gold, gen, schema, dialect="duckdb", semantics="bag", databases=recheck_n,
                                  bound=bound)
    return pair, v, rechecked


def run_suite(data_dir: Path, suite: str, *, bound: int | None, timeout: float, workers: int,
              limit: int | None = None, console: Console | None = None,
              progress_file: Path | None = None, effort: float = 1.0, recheck_n: int = 0,
              calcite: bool = False) -> list[PairOutcome]:
    """Verify every pair of `suite` (with `calcite`, read as Calcite prints SQL); each finished
    pair is also appended to `progress_file`."""
    pairs = load_pairs(data_dir / f"{suite}.jsonl")
    recorded = load_recorded(data_dir / f"{suite}.verieql_results.jsonl")
    if limit:
        pairs = pairs[:limit]
    out: list[PairOutcome] = []
    console = console or Console(stderr=True)
    with Progress(TextColumn(f"[bold]{suite}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True) as prog:
        task = prog.add_task(suite, total=len(pairs))
        jobs = [(str(p.index), (p, suite, bound or _auto_bound(recorded.get(p.index)), timeout, effort, recheck_n,
                                calcite)) for p in pairs]
        by_id = {str(p.index): p for p in pairs}
        # each pair in a process of its own (reproducible verdicts); the executor's limit only
        # catches a pair that overruns its verdict's timeout badly
        for o in LocalExecutor(workers=workers).map(_run_job, jobs, timeout=3 * timeout + 60, isolate=True,
                                                     warm_up=warm_up_verification):
            if o.error is not None:
                pair, rechecked = by_id[o.task_id], Rechecked()
                v = Verdict(verdict=VerdictKind.ERROR, reason=f"benchmark task failed: {o.error.splitlines()[0]}")
            else:
                pair, v, rechecked = o.value
            rec = recorded.get(pair.index)
            confirmed = None
            if rec is not None and rec.refuted:
                try:
                    confirmed = confirm_verieql_counterexample(rec.counterexample, *pair_texts(pair, calcite))
                except (QueryError, Unsupported):
                    confirmed = None
            out.append(PairOutcome(
                suite=suite, index=pair.index, verdict=v.verdict.value, bound=v.bound,
                complete=v.complete, reason=v.reason, seconds=v.stats.seconds,
                unconfirmed_models=v.stats.unconfirmed_models,
                verieql_refuted=bool(rec and rec.refuted), verieql_k=rec.verified_k if rec else 0,
                verieql_error=rec.error_kind if rec else None,
                verieql_cex_confirmed=confirmed,
                engine_rejects=engine_rejection(pair, calcite)
                if v.verdict.value in (VerdictKind.UNSUPPORTED, VerdictKind.ERROR) else None,
                **rechecked.model_dump(),
            ))
            if progress_file is not None:
                with progress_file.open("a") as fh:
                    fh.write(out[-1].model_dump_json() + "\n")
            prog.advance(task)
    return sorted(out, key=lambda o: o.index)


def _auto_bound(rec) -> int:
    """The largest k VeriEQL reached for this pair (proved, or refuted at), at least 4."""
    if rec is None:
        return 4
    reached = rec.verified_k + (1 if rec.refuted else 0)
    return max(reached, 4)


def summary_rows(outcomes: list[PairOutcome]) -> dict[str, object]:
    n = len(outcomes)
    refuted = [o for o in outcomes if o.verdict == VerdictKind.NOT_EQUIVALENT]
    verified = [o for o in outcomes if o.verdict == VerdictKind.EQUIVALENT]
    unsupported = [o for o in outcomes if o.verdict == VerdictKind.UNSUPPORTED]
    errors = [o for o in outcomes if o.verdict == VerdictKind.ERROR]
    unknown = [o for o in outcomes if o.verdict == VerdictKind.UNKNOWN]
    v_refuted = [o for o in outcomes if o.verieql_refuted]
    both = [o for o in outcomes if o.verdict == VerdictKind.EQUIVALENT and o.verieql_k > 0 and not o.verieql_refuted]
    reached = [o for o in both if o.complete or (o.bound or 0) >= o.verieql_k]
    secs = sorted(o.seconds for o in outcomes)
    malformed = sum(1 for o in outcomes if o.engine_rejects)
    modelled = n - len(unsupported) - len(errors)
    return {
        "pairs": n,
        "modelled": f"{modelled} ({100 * modelled / max(n, 1):.1f}%)",
        "malformed (DuckDB rejects a query)": malformed,
        "modelled of the well-formed": f"{modelled}/{n - malformed} ({100 * modelled / max(n - malformed, 1):.1f}%)",
        "refuted": len(refuted),
        "refuted (VeriEQL)": len(v_refuted),
        "  of which DuckDB confirms VeriEQL's counterexample": sum(1 for o in v_refuted if o.verieql_cex_confirmed),
        "VeriEQL-refuted we refute": sum(1 for o in v_refuted if o.verdict == VerdictKind.NOT_EQUIVALENT),
        "VeriEQL-refuted (confirmed) we call equivalent": sum(
            1 for o in v_refuted if o.verdict == VerdictKind.EQUIVALENT and o.verieql_cex_confirmed),
        "VeriEQL-refuted (spurious) we prove equivalent": sum(
            1 for o in v_refuted if o.verdict == VerdictKind.EQUIVALENT and o.verieql_cex_confirmed is False),
        "verified (all sizes)": sum(1 for o in verified if o.complete),
        "verified up to k": len(verified) - sum(1 for o in verified if o.complete),
        "verified by VeriEQL (k>=1)": sum(1 for o in outcomes if o.verieql_k > 0 and not o.verieql_refuted),
        "both verify: we reach VeriEQL's k": f"{len(reached)}/{len(both)}",
        "unknown": len(unknown),
        "unsupported": len(unsupported),
        "error": len(errors),
        "unconfirmed models": sum(o.unconfirmed_models for o in outcomes),
        "median s": round(statistics.median(secs), 3) if secs else 0,
        "p90 s": round(secs[int(0.9 * (len(secs) - 1))], 3) if secs else 0,
    } | recheck_rows(outcomes)


def print_report(results: dict[str, list[PairOutcome]], console: Console) -> None:
    table = RichTable(title="VeriEQL benchmarks (sqlwitness vs VeriEQL's recorded results)")
    table.add_column("measure")
    for suite in results:
        table.add_column(suite, justify="right")
    rows = {suite: summary_rows(o) for suite, o in results.items()}
    for key in dict.fromkeys(k for r in rows.values() for k in r):
        table.add_row(key, *[str(rows[s].get(key, "-")) for s in results])
    console.print(table)
    for suite, outs in results.items():
        for o in outs:
            if o.recheck_differences:
                console.print(f"[red]{suite} #{o.index}: every-size proof differs on {o.recheck_differences} random "
                              f"database(s) larger than the bound")
        feats: dict[str, int] = {}
        for o in outs:
            if o.verdict in (VerdictKind.UNSUPPORTED, VerdictKind.ERROR):
                key = f"malformed: {o.engine_rejects[:60]}" if o.engine_rejects else o.reason
                feats[key] = feats.get(key, 0) + 1
        if feats:
            t = RichTable(title=f"{suite}: unsupported and errors")
            t.add_column("count", justify="right")
            t.add_column("reason")
            for reason, c in sorted(feats.items(), key=lambda x: -x[1])[:25]:
                t.add_row(str(c), reason[:110])
            console.print(t)


def run(data_dir: Path, suites: list[str], bound: int | None, timeout: float, workers: int,
        limit: int | None, out_json: Path | None, console: Console, effort: float = 1.0,
        recheck_n: int = 0, calcite: bool = False) -> dict[str, list[PairOutcome]]:
    results = {}
    t0 = time.monotonic()
    if out_json is not None:
        out_json.write_text("")
    for s in suites:
        results[s] = run_suite(data_dir, s, bound=bound, timeout=timeout, workers=workers, limit=limit,
                               progress_file=out_json, effort=effort, recheck_n=recheck_n, calcite=calcite)
    print_report(results, console)
    console.print(f"wall time {time.monotonic() - t0:.1f} s, {workers} worker(s), "
                  f"bound {bound or 'auto'}, effort {effort:g}, safety timeout {timeout:g} s per pair"
                  + (f", re-check {recheck_n} databases per every-size proof" if recheck_n else "")
                  + (", read as Calcite's SQL (--calcite)" if calcite else ""))
    return results
