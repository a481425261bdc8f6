"""`verify agent ...`: the Text-to-SQL agent's commands (ask, bench, select).

Registered on `verify.cli.app` as the `agent` sub-app; `verify.cli` imports this module at its
end.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from verify.cli import app

agent_app = typer.Typer(help="The Text-to-SQL agent: ask a question, run a benchmark, select among candidates.",
                        no_args_is_help=True)
app.add_typer(agent_app, name="agent")

DEFAULT_DATA = Path("../shared/data")


def _die(message: str, code: int = 3) -> typer.Exit:
    Console(stderr=True, highlight=False).print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


@agent_app.command("select")
def select_cmd(
    predictions: list[Path] = typer.Argument(..., help="prediction files or folders (one candidate per system)"),
    benchmark: str = typer.Option("spider", "--benchmark", help="spider or bird"),
    data: Path = typer.Option(DEFAULT_DATA, help="the shared data folder (spider/, bird/)"),
    limit: int | None = typer.Option(None, help="only the first N questions that have a database"),
    workers: int = typer.Option(2, help="questions evaluated in parallel (processes)"),
    verify_budget: float = typer.Option(6.0, help="verifier seconds per question inside selection (0: off)"),
    verify_pair_timeout: float = typer.Option(2.0, help="seconds per verifier call inside selection"),
    sql_timeout: float = typer.Option(10.0, help="seconds per query on the database"),
    verified: bool = typer.Option(False, "--verified", help="also measure verified accuracy (verifier vs gold)"),
    verified_timeout: float = typer.Option(10.0, help="seconds per verified-accuracy check"),
    out: Path | None = typer.Option(None, help="write the report (JSON) here"),
    outcomes: Path | None = typer.Option(None, help="write one JSON record per question here"),
) -> None:
    """Select one answer per question from published systems' predictions and compare its
    EX with the best single system and with a plain execution-result majority vote."""
    from benchmarks.datasets import DatasetError
    from benchmarks.predictions import PredictionError

    from agent.offline import evaluate
    from agent.select import SelectConfig

    if benchmark not in ("spider", "bird"):
        raise _die(f"unknown benchmark {benchmark!r}; choose spider or bird")
    sub = data / benchmark
    if not sub.is_dir():
        raise _die(f"no such folder: {sub}")
    config = SelectConfig(sql_timeout=sql_timeout, verify=verify_budget > 0, verify_budget=verify_budget,
                          verify_pair_timeout=verify_pair_timeout)
    console = Console(stderr=True, highlight=False)
    step = {"last": 0}

    def progress(done: int, total: int) -> None:
        if done == total or done - step["last"] >= 100:
            step["last"] = done
            console.print(f"  {done}/{total} questions")

    try:
        report, _ = evaluate(benchmark, sub, predictions, limit=limit, workers=workers, config=config,
                             verified=verified, verify_timeout=verified_timeout, progress=progress,
                             outcomes_out=outcomes)
    except (DatasetError, PredictionError, ValueError) as e:
        raise _die(str(e)) from None
    if report.benchmark == "bird" and report.questions == 0:
        raise _die("no question has a database (the BIRD databases are not available offline)")
    t = Table(title=f"selection over {len(report.systems)} systems, {report.questions} questions "
                    f"({report.skipped_missing_db} skipped: database missing), {report.seconds:.0f} s")
    t.add_column("answer")
    t.add_column("EX", justify="right")
    if report.verified:
        t.add_column("verified", justify="right")

    def row(name: str, ex: float, vkey: str | None) -> None:
        cells = [name, f"{100 * ex:.1f}%"]
        if report.verified:
            cells.append(f"{100 * report.verified[vkey]:.1f}%" if vkey else "")
        t.add_row(*cells)

    row("selected (clusters + verifier)", report.selected_ex, "selected")
    row("majority vote (execution results)", report.majority_ex, "majority")
    row(f"best single system ({report.best_system})", report.best_ex, "best")
    row("oracle (some system is right)", report.oracle_ex, None)
    Console(highlight=False).print(t)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report.model_dump(), indent=2))
