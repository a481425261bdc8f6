"""`verify eval` (one system) and `verify leaderboard` (many): EX, then verification of every pair
EX accepts, with results in a DuckDB run store (resumable) and JSON/CSV/HTML outputs.

    verify eval ../shared/data/predictions/spider_dev/C3_SQL.sql --benchmark spider --out /tmp/c3
    verify leaderboard ../shared/data/predictions/spider_dev --benchmark spider --out /tmp/lb

`commands` holds the two; the top-level `sqlwitness_cli` module adds them to `verify`.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, fields
from pathlib import Path

import typer
from rich.console import Console

from verify.memory import MEMORY_LIMIT_MIB

commands = typer.Typer()

DATA = Path("../shared/data")


@dataclass(frozen=True)
class _RunOptions:
    """The options `verify eval` and `verify leaderboard` share (`_COMMON`), as given."""

    benchmark: str
    data: Path | None
    split: str
    out: Path | None
    store: Path | None
    bound: int
    timeout: float
    memory_limit: int
    effort: float
    ex_timeout: float
    keep_distinct: bool
    constraints: Path | None
    workers: int
    executor: str
    ray_address: str | None
    limit: int | None
    no_minimize: bool
    html: bool
    strict: bool
    assume: list[str] | None

    @classmethod
    def given(cls, values: dict[str, object]) -> _RunOptions:
        """The options among a command's parameters (its `locals()`)."""
        return cls(**{f.name: values[f.name] for f in fields(cls)})  # type: ignore[arg-type]


def _run(paths: list[Path], system: str | None, opts: _RunOptions) -> None:
    """Check the options, evaluate the prediction files `paths` (`system`: the name of a single
    one), print the leaderboard and write the outputs."""
    from benchmarks.datasets import DatasetError
    from benchmarks.evaluate import EvalConfig, EvalError, print_leaderboard, run_evaluation, write_outputs
    from benchmarks.predictions import PredictionError, discover
    from benchmarks.store import RunStore, StoreError
    from verify.assumptions import UnknownAssumption, by_name
    from verify.limits import check_options, check_run_options, effort_problem
    from verify.memory import memory_limit_problem

    console = Console() if Console().is_terminal else Console(width=200)  # a file or pipe gets full rows
    err = Console(stderr=True)
    if opts.benchmark not in ("spider", "bird"):
        raise typer.BadParameter(f"unknown benchmark {opts.benchmark!r}; choose spider or bird")
    if opts.executor not in ("local", "ray"):
        raise typer.BadParameter(f"unknown executor {opts.executor!r}; choose local or ray")
    problem = (check_options(bound=opts.bound, timeout=opts.timeout)
               or check_run_options(workers=opts.workers, limit=opts.limit,
                                    seconds={"--ex-timeout": opts.ex_timeout})
               or effort_problem(opts.effort) or memory_limit_problem(opts.memory_limit))
    if problem is None and not opts.ex_timeout > 0:
        problem = f"--ex-timeout must be a positive number of seconds, not {opts.ex_timeout}"
    if problem is not None:
        raise typer.BadParameter(problem)
    for name in opts.assume or []:
        try:
            by_name(name)
        except UnknownAssumption as e:
            raise typer.BadParameter(str(e)) from None
    data = opts.data or DATA / opts.benchmark
    store_path = opts.store or ((opts.out / "runs.duckdb") if opts.out else Path("sqlwitness-runs.duckdb"))
    try:
        files = discover(paths)
        cfg = EvalConfig(benchmark=opts.benchmark, data_dir=data, split=opts.split, bound=opts.bound,
                         timeout=opts.timeout, effort=opts.effort, ex_timeout=opts.ex_timeout,
                         keep_distinct=opts.keep_distinct, minimize=not opts.no_minimize,
                         constraints=opts.constraints, workers=opts.workers, executor=opts.executor,
                         ray_address=opts.ray_address, limit=opts.limit, strict=opts.strict,
                         assume=list(opts.assume or []), memory_limit=opts.memory_limit)
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            with RunStore(store_path) as st:
                lb = run_evaluation(cfg, [(system if len(files) == 1 else None, f) for f in files], store=st,
                                    console=err)
        finally:
            signal.signal(signal.SIGTERM, previous)
    except (DatasetError, PredictionError, EvalError, StoreError, RuntimeError) as e:
        err.print(f"[red]error:[/] {e}", highlight=False, soft_wrap=True)
        raise typer.Exit(3) from None
    except KeyboardInterrupt:
        err.print(f"interrupted: the pairs finished so far are stored in {store_path}; "
                  "run the same command again to go on from there", highlight=False, soft_wrap=True)
        raise typer.Exit(130) from None
    try:
        print_leaderboard(lb, console)
        if opts.out:
            written = write_outputs(lb, opts.out)
            if opts.html:
                from benchmarks.report import write_report

                written["html"] = write_report(lb, opts.out / "report.html")
            console.print("wrote " + ", ".join(str(p) for p in written.values()) + f"; run store {store_path}")
        else:
            console.print(f"run store {store_path}")
    except KeyboardInterrupt:
        err.print(f"interrupted while writing the outputs: every result is stored in {store_path}; "
                  "run the same command again to write them (nothing is recomputed)", highlight=False,
                  soft_wrap=True)
        raise typer.Exit(130) from None


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM (`kill`) stops a run the way Ctrl-C does: workers killed, store closed."""
    raise KeyboardInterrupt


_COMMON = dict(
    benchmark=typer.Option(..., "--benchmark", "-b", help="spider or bird"),
    data=typer.Option(None, help="the dev set's folder (default ../shared/data/<benchmark>)"),
    split=typer.Option("dev", help="dev, or mini_dev for BIRD mini-dev"),
    out=typer.Option(None, help="folder for leaderboard.json/.csv, records.jsonl, report.html"),
    store=typer.Option(None, help="DuckDB run store (default OUT/runs.duckdb, else ./sqlwitness-runs.duckdb)"),
    bound=typer.Option(3, "--bound", "-k", help="rows per table the verifier proves up to"),
    timeout=typer.Option(300.0, help="the verifier's safety time limit per pair (seconds): a verdict it decides "
                                    "is unknown, 'time limit ...'"),
    memory_limit=typer.Option(MEMORY_LIMIT_MIB, "--memory-limit", metavar="MIB",
                              help="the verifier's safety memory limit per pair (MiB it may grow a process by): a "
                                   "verdict it decides is unknown, 'memory limit ...'"),
    effort=typer.Option(1.0, help="the verifier's work budget per pair (random databases, solver resource units, "
                                  "minimizer runs) as a multiple of verify.budget.DEFAULT: deterministic"),
    ex_timeout=typer.Option(30.0, help="seconds per query when executing on the dev database"),
    keep_distinct=typer.Option(False, help="Spider: keep DISTINCT (the official --keep_distinct flag)"),
    constraints=typer.Option(None, help="declared constraints: a file or a folder of <db_id>.json"),
    workers=typer.Option(2, help="local worker processes"),
    executor=typer.Option("local", help="local or ray"),
    ray_address=typer.Option(None, help="join this Ray cluster (default: start a local instance)"),
    limit=typer.Option(None, help="only the first N questions"),
    no_minimize=typer.Option(False, help="do not shrink counterexamples"),
    html=typer.Option(True, help="also write report.html into --out"),
    strict=typer.Option(False, "--strict", help="no assumption beyond the schema's declarations and the given "
                                                "constraints (see `verify assumptions`)"),
    assume=typer.Option(None, "--assume", metavar="NAME", help="add the named assumption (repeatable; "
                                                               "`verify assumptions` lists them)"),
)


@commands.command("eval")
def eval_cmd(
    predictions: Path = typer.Argument(..., help="one prediction file"),
    system: str | None = typer.Option(None, help="system name (default: the file name)"),
    benchmark: str = _COMMON["benchmark"], data: Path | None = _COMMON["data"], split: str = _COMMON["split"],
    out: Path | None = _COMMON["out"], store: Path | None = _COMMON["store"], bound: int = _COMMON["bound"],
    timeout: float = _COMMON["timeout"], effort: float = _COMMON["effort"],
    memory_limit: int = _COMMON["memory_limit"],
    ex_timeout: float = _COMMON["ex_timeout"], keep_distinct: bool = _COMMON["keep_distinct"],
    constraints: Path | None = _COMMON["constraints"], workers: int = _COMMON["workers"],
    executor: str = _COMMON["executor"], ray_address: str | None = _COMMON["ray_address"],
    limit: int | None = _COMMON["limit"], no_minimize: bool = _COMMON["no_minimize"], html: bool = _COMMON["html"],
    strict: bool = _COMMON["strict"], assume: list[str] | None = _COMMON["assume"],
) -> None:
    """Evaluate one system: execution accuracy, then verification of every pair EX accepts."""
    if predictions.is_dir():
        raise typer.BadParameter(f"{predictions} is a folder; `verify eval` takes one file (see `verify leaderboard`)")
    _run([predictions], system, _RunOptions.given(locals()))


@commands.command("leaderboard")
def leaderboard_cmd(
    predictions: list[Path] = typer.Argument(..., help="prediction files and/or folders of them"),
    benchmark: str = _COMMON["benchmark"], data: Path | None = _COMMON["data"], split: str = _COMMON["split"],
    out: Path | None = _COMMON["out"], store: Path | None = _COMMON["store"], bound: int = _COMMON["bound"],
    timeout: float = _COMMON["timeout"], effort: float = _COMMON["effort"],
    memory_limit: int = _COMMON["memory_limit"],
    ex_timeout: float = _COMMON["ex_timeout"], keep_distinct: bool = _COMMON["keep_distinct"],
    constraints: Path | None = _COMMON["constraints"], workers: int = _COMMON["workers"],
    executor: str = _COMMON["executor"], ray_address: str | None = _COMMON["ray_address"],
    limit: int | None = _COMMON["limit"], no_minimize: bool = _COMMON["no_minimize"], html: bool = _COMMON["html"],
    strict: bool = _COMMON["strict"], assume: list[str] | None = _COMMON["assume"],
) -> None:
    """Re-evaluate a leaderboard: EX and verified accuracy per system, rank changes, refuted pairs."""
    _run(predictions, None, _RunOptions.given(locals()))
