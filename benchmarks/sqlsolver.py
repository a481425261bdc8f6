"""`verify bench sqlsolver`: SQLSolver's Calcite (232 pairs) and TPC-H (22 pairs) suites.

The suites' authors list every pair as equivalent (SQLSolver, SIGMOD'24, proves all 232
Calcite pairs for every database). Each line of `{calcite,tpch}.jsonl` holds `id`, `suite`,
`schema` (a DDL file beside it) and the two queries `q1`, `q2`. The queries are Calcite's or
TPC-H's SQL, run here in the DuckDB dialect (result order compared only where the outer query
has an ORDER BY). Some pairs are not equivalent under DuckDB's semantics (Calcite prints its
own dialect, e.g. `GROUP BY 4` meaning the constant): those must come out refuted with a
counterexample the engine confirmed, or unsupported/error with the reason, never proved.

Per pair the run records the verdict, whether the proof covers every database size, the time,
and for every pair not proved for every size what blocks it (`blocker`): the unsupported
feature or the error, the refutation in one line, or the SQL features of a pair that only the
bounded search decided. TPC-H's date constants are written in Spark's forms (`date('1995-03-21
+08')`, `date_sub('1998-12-01', 61)`), which DuckDB rejects: the loader reads those with literal
arguments as Spark does (`benchmarks.spark_dates`) and records each in `read_as`; everything else
is verified as DuckDB runs it. `--recheck N` re-runs every every-size proof on N random databases
larger than the bound (`verify.recheck`): a difference there would be a wrong proof.

`--calcite` reads the Calcite suite's queries as Calcite prints SQL (`verify.calcite`: a number in
GROUP BY is a constant, VALUES columns are EXPR$0, ..., SINGLE_VALUE is a scalar subquery, COUNT of
several arguments counts rows without NULLs), each translation recorded in `read_as`; without it
they are DuckDB's SQL as written, under which `GROUP BY 4` names a fourth column.

`--assume NAME` lets a named assumption narrow the search (`verify assumptions`), as `verify pair
--assume` does; the summary counts the every-size proofs that used one apart. SQLSolver reads
`ORDER BY ... LIMIT` as keeping tied rows alike in both queries: that is `--assume ties_alike`,
which no declaration backs, so it is off unless asked for.

Example:
    verify bench sqlsolver --suite tpch --recheck 50 --out runs/sqlsolver_tpch.jsonl
    verify bench sqlsolver --suite tpch --assume ties_alike
    verify bench sqlsolver --suite calcite --calcite
"""

from __future__ import annotations

import functools
import json
import statistics
import time
from collections import Counter
from pathlib import Path

from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable
from sqlglot import exp

from benchmarks.evaluate import warm_up_verification
from benchmarks.executors import LocalExecutor
from benchmarks.rechecks import Rechecked, recheck_proof, summary_rows as recheck_rows
from benchmarks.spark_dates import read_spark_dates
from verify.assumptions import by_name, names_used
from verify.calcite import read_calcite_pair, refused_verdict
from verify.check import check_pair
from verify.errors import QueryError, Unsupported
from verify.parse import parse_query
from verify.schema import Schema, SchemaError
from verify.schema_io import schema_from_ddl
from verify.verdict import Verdict, VerdictKind

SUITES = ("calcite", "tpch")
DIALECT = "duckdb"


class SQLSolverPair(BaseModel):
    suite: str
    id: int
    schema_file: str
    q1: str
    q2: str
    read_as: list[str] = []  # Spark date constants replaced by their DATE (`benchmarks.spark_dates`)


class PairOutcome(Rechecked):
    """One pair's result, as written to `--out` (one JSON object per line); with --recheck, the
    re-check of an every-size proof (`benchmarks.rechecks`)."""

    suite: str
    id: int
    verdict: str
    every_size: bool  # an equivalence proof for databases of every size
    bound: int | None
    reason: str
    seconds: float
    blocker: str | None = None  # why the pair is not proved for every size (None when it is)
    read_as: list[str] = []  # Spark date constants the loader replaced by their DATE
    assumptions: list[str] = []  # the named assumptions an equivalence verdict used (`verify assumptions`)


def load_suite(data_dir: Path, suite: str) -> tuple[list[SQLSolverPair], dict[str, Schema]]:
    """The suite's pairs and the schemas they name (read from the DDL files beside them)."""
    path = data_dir / f"{suite}.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    pairs, schemas = [], {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            (q1, notes1), (q2, notes2) = read_spark_dates(row["q1"]), read_spark_dates(row["q2"])
            pair = SQLSolverPair(suite=suite, id=row["id"], schema_file=row["schema"], q1=q1, q2=q2,
                                 read_as=[f"q1: {n}" for n in notes1] + [f"q2: {n}" for n in notes2])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{path}:{n}: not a pair record ({e})") from None
        if pair.schema_file not in schemas:
            ddl = data_dir / pair.schema_file
            if not ddl.is_file():
                raise FileNotFoundError(f"{path}:{n}: schema file {ddl} not found")
            try:
                schemas[pair.schema_file] = schema_from_ddl(ddl.read_text(), DIALECT)
            except SchemaError as e:
                raise ValueError(f"{ddl}: {e}") from None
        pairs.append(pair)
    return pairs, schemas


def pair_features(q1: str, q2: str) -> list[str]:
    """The SQL features the two queries use, most telling first (what a pair that only the
    bounded search decided needs from the every-size rules)."""
    found: set[str] = set()
    for sql in (q1, q2):
        try:
            tree = parse_query(sql, DIALECT)
        except QueryError:
            return ["unparsable"]
        for node in tree.walk():
            if isinstance(node, exp.Window):
                found.add("window")
            elif isinstance(node, exp.Join) and node.side in ("LEFT", "RIGHT", "FULL"):
                found.add("outer join")
            elif isinstance(node, (exp.Exists, exp.In)) and node.find(exp.Select):
                found.add("EXISTS/IN subquery")
            elif isinstance(node, exp.Subquery) and isinstance(node.parent, (exp.Select, exp.Binary, exp.Where)) \
                    and not isinstance(node.parent, exp.From):
                found.add("scalar subquery")
            elif isinstance(node, (exp.Union, exp.Except, exp.Intersect)):
                found.add("set operation")
            elif isinstance(node, exp.AggFunc):
                found.add("aggregate")
            elif isinstance(node, (exp.Limit, exp.Offset)):
                found.add("LIMIT/OFFSET")
            elif isinstance(node, exp.Case):
                found.add("CASE")
            elif isinstance(node, exp.Distinct):
                found.add("DISTINCT")
            elif isinstance(node, exp.Join):
                found.add("join")
    order = ("window", "outer join", "EXISTS/IN subquery", "scalar subquery", "set operation", "aggregate",
             "LIMIT/OFFSET", "DISTINCT", "CASE", "join")
    return [f for f in order if f in found] or ["select-project"]


def blocker(v: Verdict, q1: str, q2: str) -> str | None:
    """Why `v` is not an every-size proof, in one line (None when it is one)."""
    if v.verdict == VerdictKind.EQUIVALENT and v.complete:
        return None
    if v.verdict in (VerdictKind.UNSUPPORTED, VerdictKind.ERROR):
        return v.reason.splitlines()[0] if v.reason else v.verdict.value
    if v.verdict == VerdictKind.NONDETERMINISTIC:
        return ("nondeterministic: only a choice the engine leaves open tells them apart (which rows tied under "
                "ORDER BY ... LIMIT it keeps, in what order)")
    if v.verdict == VerdictKind.NOT_EQUIVALENT:
        cex = v.counterexample
        shown = ""
        if cex is not None and (cex.gold_only or cex.gen_only):
            shown = f": q1 only {cex.gold_only[:2]}, q2 only {cex.gen_only[:2]}"
        elif cex is not None:
            shown = ": the same rows in another order"
        return f"{v.verdict.value}{shown}"[:160]
    if v.proof is not None and v.proof.only_ties_left:
        return ("ORDER BY ... LIMIT over rows that may tie: the inputs are proved to hold the same rows for every "
                "size, but which tied rows DuckDB keeps is its plan's choice")
    return "bounded only: " + " + ".join(pair_features(q1, q2)[:3])


def _run_one(task: tuple[SQLSolverPair, Schema, int, float, int, tuple[str, ...], bool]) -> PairOutcome:
    pair, schema, bound, timeout, recheck_n, assume, calcite = task
    v: Verdict | None = None
    if calcite:
        try:
            q1, q2, notes = read_calcite_pair(pair.q1, pair.q2, schema)
        except (QueryError, Unsupported) as e:
            v = refused_verdict(e)
        else:
            pair = pair.model_copy(update={"q1": q1, "q2": q2, "read_as": pair.read_as + notes})
    if v is None:
        v = check_pair(pair.q1, pair.q2, schema=schema, bound=bound, dialect=DIALECT, timeout=timeout,
                       minimize_result=True, assume=assume)
    every = v.verdict == VerdictKind.EQUIVALENT and v.complete
    out = PairOutcome(suite=pair.suite, id=pair.id, verdict=v.verdict.value, every_size=every, bound=v.bound,
                      reason=v.reason, seconds=v.stats.seconds, blocker=blocker(v, pair.q1, pair.q2),
                      read_as=pair.read_as,
                      assumptions=names_used(v.assumptions) if v.verdict == VerdictKind.EQUIVALENT else [])
    if every and recheck_n > 0:
        r = recheck_proof(pair.q1, pair.q2, schema, dialect=DIALECT, semantics=v.semantics, databases=recheck_n,
                          bound=bound)
        out = out.model_copy(update=r.model_dump())
    return out


def run_suite(data_dir: Path, suite: str, *, bound: int, timeout: float, workers: int, limit: int | None,
              recheck_n: int, console: Console, out_file: Path | None = None,
              assume: tuple[str, ...] = (), calcite: bool = False) -> list[PairOutcome]:
    """Verify every pair of `suite` (with the named assumptions `assume` allowed, names `run`
    checks; with `calcite`, each query read as Calcite prints SQL, `verify.calcite`); each
    finished pair is appended to `out_file` too."""
    pairs, schemas = load_suite(data_dir, suite)
    pairs = pairs[: limit or None]
    tasks = [(f"{suite}-{p.id}", (p, schemas[p.schema_file], bound, timeout, recheck_n, assume, calcite))
             for p in pairs]
    by_id = {f"{suite}-{p.id}": p for p in pairs}
    # every task forks from a worker that has the suite's empty databases open
    warm_up = functools.partial(warm_up_verification, schemas=tuple(schemas.values()), dialect=DIALECT)
    results: list[PairOutcome] = []
    with Progress(TextColumn(f"[bold]{suite}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True) as prog:
        bar = prog.add_task(suite, total=len(tasks))
        # the executor's own limit only catches a pair that overruns its verdict's timeout badly
        for o in LocalExecutor(workers=workers).map(_run_one, tasks, timeout=3 * timeout + 60,
                                                      isolate=True, warm_up=warm_up):
            if o.error is not None:
                p = by_id[o.task_id]
                res = PairOutcome(suite=suite, id=p.id, verdict=VerdictKind.ERROR.value, every_size=False,
                                  bound=None, reason=f"benchmark task failed: {o.error}", seconds=o.seconds,
                                  blocker=f"task failed: {o.error}", read_as=p.read_as)
            else:
                res = o.value
            results.append(res)
            if out_file is not None:
                with out_file.open("a") as fh:
                    fh.write(res.model_dump_json() + "\n")
            prog.advance(bar)
    return sorted(results, key=lambda r: r.id)


def summary(outcomes: list[PairOutcome], assume: tuple[str, ...] = ()) -> dict[str, object]:
    """The suite's figures, by outcome; with `assume`, how many every-size proofs used each of
    those assumptions."""
    n = len(outcomes)
    kinds = Counter(o.verdict for o in outcomes)
    every = [o for o in outcomes if o.every_size]
    proved_secs = sorted(o.seconds for o in every)
    row: dict[str, object] = {
        "pairs": n,
        "proved for every size": f"{len(every)} ({100 * len(every) / max(n, 1):.1f}%)",
        **{f"  of which using --assume {a}": sum(a in o.assumptions for o in every) for a in assume},
        "equivalent up to k only": kinds[VerdictKind.EQUIVALENT.value] - len(every),
        "refuted (confirmed)": kinds[VerdictKind.NOT_EQUIVALENT.value],
        "nondeterministic": kinds[VerdictKind.NONDETERMINISTIC.value],
        "unknown": kinds[VerdictKind.UNKNOWN.value],
        "unsupported": kinds[VerdictKind.UNSUPPORTED.value],
        "error": kinds[VerdictKind.ERROR.value],
        "median s per every-size proof": round(statistics.median(proved_secs), 3) if proved_secs else "-",
        "median s per pair": round(statistics.median(o.seconds for o in outcomes), 3) if outcomes else "-",
    }
    return row | recheck_rows(every)


def blocker_counts(outcomes: list[PairOutcome]) -> Counter[str]:
    """How many pairs each blocker keeps from an every-size proof."""
    return Counter(o.blocker for o in outcomes if o.blocker is not None)


def print_report(results: dict[str, list[PairOutcome]], console: Console, assume: tuple[str, ...] = ()) -> None:
    table = RichTable(title="SQLSolver's suites (its authors: every pair equivalent)")
    table.add_column("measure")
    rows = {suite: summary(outs, assume) for suite, outs in results.items()}
    for suite in results:
        table.add_column(suite, justify="right")
    keys: list[str] = []
    for r in rows.values():
        keys += [k for k in r if k not in keys]
    for key in keys:
        table.add_row(key, *[str(rows[s].get(key, "-")) for s in results])
    console.print(table)
    for suite, outs in results.items():
        counts = blocker_counts(outs)
        if not counts:
            continue
        t = RichTable(title=f"{suite}: what blocks an every-size proof")
        t.add_column("pairs", justify="right")
        t.add_column("blocker")
        for reason, c in counts.most_common(30):
            t.add_row(str(c), reason[:120])
        console.print(t)
        wrong = [o for o in outs if o.recheck_differences]
        for o in wrong:
            console.print(f"[red]{suite} #{o.id}: every-size proof differs on {o.recheck_differences} random "
                          f"database(s) larger than the bound")


def run(data_dir: Path, suites: list[str], *, bound: int, timeout: float, workers: int, limit: int | None,
        recheck_n: int, out: Path | None, console: Console, assume: tuple[str, ...] = (),
        calcite: bool = False) -> dict[str, list[PairOutcome]]:
    """Run `suites` and print the report; an unknown `assume` name is an `UnknownAssumption`
    (a ValueError) before anything runs or `out` is emptied. With `calcite`, the Calcite suite's
    queries are read as Calcite prints SQL (`verify.calcite`; TPC-H's are not Calcite's)."""
    for name in assume:
        by_name(name)
    if out is not None:
        out.write_text("")
    t0 = time.monotonic()
    results = {s: run_suite(data_dir, s, bound=bound, timeout=timeout, workers=workers, limit=limit,
                            recheck_n=recheck_n, console=console, out_file=out, assume=assume,
                            calcite=calcite and s == "calcite") for s in suites}
    print_report(results, console, assume)
    console.print(f"wall time {time.monotonic() - t0:.1f} s, {workers} worker(s), bound {bound}, "
                  f"timeout {timeout:g} s per pair" + (f", re-check {recheck_n} databases per proof"
                                                         if recheck_n else "")
                  + "".join(f", --assume {a}" for a in assume)
                  + (", the calcite suite read as Calcite's SQL (--calcite)" if calcite else ""))
    return results


__all__ = ["SUITES", "PairOutcome", "SQLSolverPair", "blocker", "load_suite", "pair_features", "run", "summary"]
