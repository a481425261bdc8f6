"""`verify bench ...`: command-line runners for the benchmark suites.

`bench_app` is the `bench` group; the top-level `sqlwitness_cli` module adds it to `verify`.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

bench_app = typer.Typer(
    name="bench",
    help="Run the verifier over benchmark suites (see `benchmarks/`).",
    no_args_is_help=True,
)

DEFAULT_DATA = Path("../shared/data")


def _check(*, bound: int, timeout: float, workers: int, limit: int | None) -> None:
    """`typer.BadParameter` for a bound, timeout, worker count or limit out of range (`verify.limits`)."""
    from verify.limits import check_options, check_run_options

    problem = check_options(bound=bound, timeout=timeout) or check_run_options(workers=workers, limit=limit,
                                                                               seconds={})
    if problem is not None:
        raise typer.BadParameter(problem)


def _check_recheck(recheck: int) -> None:
    """`typer.BadParameter` for a --recheck count out of range."""
    if recheck < 0 or recheck > 100_000:
        raise typer.BadParameter(f"--recheck must be between 0 and 100000, not {recheck}")


@bench_app.command("verieql")
def verieql(
    suite: list[str] = typer.Option(["literature", "calcite"], "--suite", help="literature and/or calcite"),
    data: Path = typer.Option(DEFAULT_DATA / "verieql", help="folder with the VeriEQL JSON-lines files"),
    bound: str = typer.Option("auto", "--bound", "-k",
                              help="largest k to prove: a number, or 'auto' = the k VeriEQL recorded "
                                   "for the pair (4 where it recorded none)"),
    timeout: float = typer.Option(300.0, help="safety time limit per pair (seconds); the work budget decides"),
    effort: float = typer.Option(1.0, help="work budget per pair, a multiple of verify.budget.DEFAULT"),
    workers: int = typer.Option(2, help="pairs verified in parallel"),
    limit: int | None = typer.Option(None, help="only the first N pairs of each suite"),
    recheck: int = typer.Option(0, "--recheck", help="re-run every every-size proof on N random databases "
                                                      "larger than the bound (0: no re-check)"),
    out: Path | None = typer.Option(None, help="write one JSON record per pair here"),
    calcite: bool = typer.Option(False, "--calcite", help="read the queries as Calcite prints SQL (verify.calcite)"),
) -> None:
    """Run VeriEQL's Literature and Calcite benchmarks (DuckDB dialect, bag semantics) and
    compare with VeriEQL's recorded results."""
    from benchmarks.verieql_run import SUITES, run

    if bound != "auto" and not bound.isdigit():
        raise typer.BadParameter(f"--bound must be a positive number or 'auto', not {bound!r}")
    _check(bound=1 if bound == "auto" else int(bound), timeout=timeout, workers=workers, limit=limit)
    from verify.limits import effort_problem

    problem = effort_problem(effort)
    if problem is not None:
        raise typer.BadParameter(problem)
    for s in suite:
        if s not in SUITES:
            raise typer.BadParameter(f"unknown suite {s!r}; choose from {', '.join(SUITES)}")
    if not data.is_dir():
        raise typer.BadParameter(f"no such folder: {data}")
    _check_recheck(recheck)
    run(data, suite, None if bound == "auto" else int(bound), timeout, workers, limit, out, Console(), effort,
        recheck_n=recheck, calcite=calcite)


@bench_app.command("sqlsolver")
def sqlsolver(
    suite: list[str] = typer.Option(["calcite", "tpch"], "--suite", help="calcite and/or tpch"),
    data: Path = typer.Option(DEFAULT_DATA / "sqlsolver", help="folder with SQLSolver's JSON-lines files and schemas"),
    bound: int = typer.Option(4, "--bound", "-k", help="rows per table for the bounded search"),
    timeout: float = typer.Option(60.0, help="seconds per pair"),
    workers: int = typer.Option(2, help="pairs verified in parallel"),
    limit: int | None = typer.Option(None, help="only the first N pairs of each suite"),
    recheck: int = typer.Option(0, "--recheck", help="re-run every every-size proof on N random databases "
                                                      "larger than the bound (0: no re-check)"),
    out: Path | None = typer.Option(None, help="write one JSON record per pair here"),
    assume: list[str] = typer.Option([], "--assume", help="let a named assumption narrow the search (see 'verify "
                                                          "assumptions'); ties_alike is SQLSolver's reading of LIMIT"),
    calcite: bool = typer.Option(False, "--calcite", help="read the calcite suite's queries as Calcite prints SQL "
                                                          "(verify.calcite), not as DuckDB's"),
) -> None:
    """Run SQLSolver's Calcite and TPC-H suites (DuckDB dialect): per pair the verdict, whether
    the proof covers every database size, and what blocks the pairs that are not proved so."""
    from benchmarks.sqlsolver import SUITES, run

    _check(bound=bound, timeout=timeout, workers=workers, limit=limit)
    for s in suite:
        if s not in SUITES:
            raise typer.BadParameter(f"unknown suite {s!r}; choose from {', '.join(SUITES)}")
    _check_recheck(recheck)
    if not data.is_dir():
        raise typer.BadParameter(f"no such folder: {data}")
    try:
        run(data, suite, bound=bound, timeout=timeout, workers=workers, limit=limit, recheck_n=recheck, out=out,
            console=Console(), assume=tuple(assume), calcite=calcite)
    except (FileNotFoundError, ValueError) as e:
        raise typer.BadParameter(str(e)) from None


@bench_app.command("recheck")
def recheck_cmd(
    run_dir: Path = typer.Argument(..., help="a leaderboard's --out folder (its records.jsonl is read)"),
    benchmark: str = typer.Option(..., "--benchmark", help="spider or bird: the run's benchmark"),
    data: Path = typer.Option(DEFAULT_DATA, help="the shared data folder (spider/, bird/)"),
    databases: int = typer.Option(30, "--databases", help="random databases per proof (5 to 10 rows per table)"),
    workers: int = typer.Option(2, help="pairs re-checked in parallel"),
    limit: int | None = typer.Option(None, help="only the first N proofs"),
) -> None:
    """Re-check every every-size proof of a leaderboard run on random databases larger than any
    bound; exit 1 when one differs (a wrong proof)."""
    from benchmarks.recheck_run import run

    _check(bound=1, timeout=1.0, workers=workers, limit=limit)
    if benchmark not in ("spider", "bird"):
        raise typer.BadParameter(f"unknown benchmark {benchmark!r}; choose spider or bird")
    if not 1 <= databases <= 100_000:
        raise typer.BadParameter(f"--databases must be between 1 and 100000, not {databases}")
    records = run_dir / "records.jsonl"
    if not records.is_file():
        raise typer.BadParameter(f"no records.jsonl in {run_dir} (give a leaderboard's --out folder)")
    try:
        report = run(records, benchmark, data / benchmark, databases=databases, workers=workers, limit=limit,
                     console=Console())
    except (OSError, ValueError, KeyError) as e:
        raise typer.BadParameter(str(e)) from None
    raise typer.Exit(1 if report.differences else 0)


@bench_app.command("coverage")
def coverage(
    benchmark: str = typer.Option(..., "--benchmark", help="spider or bird"),
    data: Path = typer.Option(DEFAULT_DATA, help="the shared data folder (spider/, bird/)"),
    bound: int = typer.Option(3, "--bound", "-k", help="rows per table"),
    timeout: float = typer.Option(120.0, help="safety time limit per query (seconds); the work budget decides"),
    workers: int = typer.Option(2, help="queries verified in parallel"),
    limit: int | None = typer.Option(None, help="only the first N questions"),
    out: Path | None = typer.Option(None, help="write one JSON record per query here"),
) -> None:
    """Verify every gold query of Spider dev or BIRD dev against itself (shortcuts off) and
    report what is modelled, what is unsupported (by feature) and every other verdict."""
    from benchmarks.coverage import BENCHMARKS, coverage_main

    if benchmark not in BENCHMARKS:
        raise typer.BadParameter(f"unknown benchmark {benchmark!r}; choose from {', '.join(BENCHMARKS)}")
    _check(bound=bound, timeout=timeout, workers=workers, limit=limit)
    if not data.is_dir():
        raise typer.BadParameter(f"no such folder: {data}")
    coverage_main(benchmark, data, bound, timeout, workers, limit, out, Console())


@bench_app.command("realism")
def realism(
    predictions: Path = typer.Argument(..., help="one Spider dev prediction file"),
    data: Path = typer.Option(DEFAULT_DATA / "spider", help="the Spider dev folder"),
    limit: int | None = typer.Option(150, help="the first N EX-accepted pairs with different texts"),
    constraints: Path | None = typer.Option(None, help="also verify with this constraints file or folder"),
    bound: int = typer.Option(3, "--bound", "-k", help="rows per table"),
    timeout: float = typer.Option(10.0, help="verifier seconds per pair"),
    workers: int = typer.Option(2, help="pairs verified in parallel"),
    out: Path | None = typer.Option(None, help="write one JSON record per pair and setting here"),
) -> None:
    """Refuted pairs and the realism of their counterexamples, without constraints, with
    mined constraints, and with --constraints."""
    from benchmarks.realism_bench import realism_main

    _check(bound=bound, timeout=timeout, workers=workers, limit=limit)
    if not predictions.is_file():
        raise typer.BadParameter(f"no such prediction file: {predictions}")
    if not (data / "dev.json").is_file():
        raise typer.BadParameter(f"no Spider dev set in {data} (dev.json missing)")
    if constraints is not None and not constraints.exists():
        raise typer.BadParameter(f"no such constraints file or folder: {constraints}")
    realism_main(predictions, data, limit, constraints, bound, timeout, workers, out, Console())
