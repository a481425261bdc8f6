"""`verify agent ...`: the Text-to-SQL agent's commands (ask, bench, select).

`agent_app` is the `agent` group; the top-level `sqlwitness_cli` module adds it to `verify`.
The commands that run the agent (`ask`, `bench`) print once, on stderr, why the Python tool is
disabled where its sandbox cannot start; the agent then answers with its SQL tools.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

agent_app = typer.Typer(name="agent",
                        help="The Text-to-SQL agent: ask a question, run a benchmark, select among candidates.",
                        no_args_is_help=True)

DEFAULT_DATA = Path("../shared/data")


def _die(message: str, code: int = 3) -> typer.Exit:
    Console(stderr=True, highlight=False).print(f"error: {message}", markup=False, soft_wrap=True)
    return typer.Exit(code)


def _python_disabled(message: str) -> None:
    """Tell the user, on stderr, that the agent runs without its Python tool and why."""
    Console(stderr=True, highlight=False).print(f"warning: {message} (the agent carries on with its SQL tools)",
                                                markup=False, soft_wrap=True)


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


# --------------------------------------------------------------------------------------------
# ask / bench / show


def _llm_options(model: str, base_url: str | None, api_key_env: str, temperature: float, prices: Path | None):
    from agent.llm import LLMConfig, PriceTable

    try:
        table = PriceTable.load(prices) if prices else PriceTable()
    except ValueError as e:
        raise _die(str(e)) from None
    return LLMConfig(model=model, base_url=base_url, api_key_env=api_key_env, temperature=temperature), table


def _agent_config(plans: int, max_turns: int, max_tokens: int, max_seconds: float, self_check: bool,
                  verify_budget: float):
    from agent.flow import AgentConfig
    from agent.llm import Budget
    from agent.select import SelectConfig

    return AgentConfig(n_plans=plans, self_check=self_check,
                       budget=Budget(max_turns=max_turns, max_tokens=max_tokens, max_seconds=max_seconds),
                       select=SelectConfig(verify=verify_budget > 0, verify_budget=verify_budget))


MODEL_HELP = "model name at the endpoint"
URL_HELP = "OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 (default: OpenAI)"


@agent_app.command("ask")
def ask_cmd(
    question: str = typer.Argument(..., help="the question, in natural language"),
    db: Path = typer.Option(..., "--db", help="the SQLite database"),
    evidence: str = typer.Option("", help="a hint (BIRD's evidence)"),
    model: str = typer.Option("gpt-4o-mini", help=MODEL_HELP),
    base_url: str | None = typer.Option(None, "--base-url", help=URL_HELP),
    api_key_env: str = typer.Option("OPENAI_API_KEY", help="environment variable holding the API key"),
    temperature: float = typer.Option(0.0),
    prices: Path | None = typer.Option(None, help="price table JSON ({model: {input_per_mtok, output_per_mtok}})"),
    plans: int = typer.Option(3, help="number of diverse plans"),
    max_turns: int = typer.Option(60, help="LLM calls allowed for the question"),
    max_tokens: int = typer.Option(400_000, help="tokens allowed for the question"),
    max_seconds: float = typer.Option(600.0, help="seconds allowed for the question"),
    self_check: bool = typer.Option(True, "--self-check/--no-self-check"),
    verify_budget: float = typer.Option(6.0, help="verifier seconds inside selection (0: off)"),
    cache_dir: Path | None = typer.Option(Path.home() / ".cache" / "sqlwitness" / "llm",
                                          help="LLM response cache (re-runs are free)"),
    no_cache: bool = typer.Option(False, "--no-cache"),
    json_output: bool = typer.Option(False, "--json", help="print the Answer (with trace) as JSON"),
) -> None:
    """Answer one question over a SQLite database; prints the SQL, the chosen plan and a trace."""
    from agent.flow import answer_question
    from agent.llm import LLM, LLMError, ResponseCache

    if not db.is_file():
        raise _die(f"no such database file: {db}")
    cfg, table = _llm_options(model, base_url, api_key_env, temperature, prices)
    try:
        llm = LLM(cfg, cache=None if no_cache or cache_dir is None else ResponseCache(cache_dir), prices=table)
    except LLMError as e:
        raise _die(str(e)) from None
    ans = answer_question(question, db, llm, _agent_config(plans, max_turns, max_tokens, max_seconds, self_check,
                                                           verify_budget), evidence=evidence, notify=_python_disabled)
    if json_output:
        typer.echo(ans.model_dump_json(indent=2))
        raise typer.Exit(0 if ans.sql else 1)
    from agent.render import render_answer

    render_answer(ans, Console(highlight=False))
    raise typer.Exit(0 if ans.sql else 1)


@agent_app.command("bench")
def bench_cmd(
    benchmark: str = typer.Option(..., "--benchmark", help="spider or bird"),
    out: Path = typer.Option(..., "--out", help="run folder (re-running with it resumes)"),
    data: Path = typer.Option(DEFAULT_DATA, help="the shared data folder (spider/, bird/)"),
    limit: int | None = typer.Option(None, help="only the first N questions that have a database"),
    start: int = typer.Option(0, help="skip the first N questions of the dev file"),
    model: str = typer.Option("gpt-4o-mini", help=MODEL_HELP),
    base_url: str | None = typer.Option(None, "--base-url", help=URL_HELP),
    api_key_env: str = typer.Option("OPENAI_API_KEY"),
    temperature: float = typer.Option(0.0),
    prices: Path | None = typer.Option(None, help="price table JSON"),
    scripted_from: list[Path] | None = typer.Option(None, "--scripted-from",
                                                    help="use the scripted model, proposing these prediction files' queries"),
    scripted_system: list[str] | None = typer.Option(None, "--scripted-system", help="only these systems (repeat)"),
    plans: int = typer.Option(3),
    max_turns: int = typer.Option(60),
    max_tokens: int = typer.Option(400_000),
    max_seconds: float = typer.Option(600.0),
    self_check: bool = typer.Option(True, "--self-check/--no-self-check"),
    verify_budget: float = typer.Option(6.0, help="verifier seconds inside selection (0: off)"),
    verify_timeout: float = typer.Option(10.0, help="seconds for the verified-accuracy check (0: off)"),
    workers: int = typer.Option(1, help="questions in parallel (>1 uses benchmarks.executors)"),
    executor: str = typer.Option("local", help="local or ray"),
    ray_address: str | None = typer.Option(None),
) -> None:
    """Run the agent over Spider or BIRD dev: EX, verified accuracy, tokens, cost and time per
    question, every LLM message and tool call stored; resumable."""
    from benchmarks.datasets import DatasetError
    from benchmarks.predictions import PredictionError

    from agent.runs import ModelSpec, bench
    from agent.store import StoreError

    if benchmark not in ("spider", "bird"):
        raise _die(f"unknown benchmark {benchmark!r}; choose spider or bird")
    if executor not in ("local", "ray"):
        raise _die(f"unknown executor {executor!r}; choose local or ray")
    scripted = bool(scripted_from)
    cfg, table = _llm_options("scripted" if scripted else model, base_url, api_key_env, temperature, prices)
    if not scripted:
        from agent.llm import LLMError, make_client

        try:
            make_client(cfg)  # fail now, not in every question, when there is no key
        except LLMError as e:
            raise _die(str(e)) from None
    spec = ModelSpec(kind="scripted" if scripted else "endpoint", config=cfg, prices=table)
    agent = _agent_config(plans, max_turns, max_tokens, max_seconds, self_check, verify_budget)
    console = Console(stderr=True, highlight=False)

    def progress(done: int, total: int, rec) -> None:
        console.print(f"  [{done}/{total}] q{rec.index} {rec.status} ex={rec.ex} verified={rec.verified} "
                      f"{rec.seconds:.1f}s calls={rec.calls} tokens={rec.prompt_tokens + rec.completion_tokens}")

    try:
        s = bench(benchmark, data / benchmark, out, spec, agent, limit=limit, start=start,
                  scripted_from=scripted_from, scripted_systems=scripted_system, workers=workers,
                  executor=executor, ray_address=ray_address, verify_timeout=verify_timeout, progress=progress,
                  notify=_python_disabled)
    except (DatasetError, PredictionError, StoreError, ValueError, ImportError) as e:
        raise _die(str(e)) from None
    c = Console(highlight=False, soft_wrap=True)
    c.print(f"agent on {benchmark} dev: {s.questions} questions ({s.newly_done} run now, "
            f"{s.skipped_missing_db} skipped: database missing), {s.wall_seconds:.0f} s wall", markup=False)
    c.print(f"  EX {100 * s.ex:.1f}%   verified {100 * s.verified:.1f}%", markup=False)
    c.print(f"  per question: {s.mean_seconds:.2f} s, {s.mean_calls:.1f} LLM calls, {s.mean_tokens:.0f} tokens; "
            f"total cost ${s.total_cost_usd:.4f}; cached calls {s.cached_calls}", markup=False)
    c.print("  statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(s.statuses.items())), markup=False)
    (out / "summary.json").write_text(s.model_dump_json(indent=2))


@agent_app.command("show")
def show_cmd(
    run: Path = typer.Argument(..., help="a run folder of `verify agent bench`"),
    question: int | None = typer.Option(None, "--question", "-q", help="print this question's full trace"),
) -> None:
    """Inspect a stored run: one line per question, or one question's full trace."""
    from agent.render import render_records, render_trace
    from agent.store import AgentRunStore, StoreError

    if not (run / "meta.json").is_file():
        raise _die(f"{run} is not a run folder (no meta.json)")
    store = AgentRunStore(run)
    console = Console(highlight=False)
    if question is None:
        render_records(store.records(), console)
        return
    try:
        render_trace(store.trace(question), console)
    except StoreError as e:
        raise _die(str(e)) from None
