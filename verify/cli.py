"""The verifier's own commands of the `verify` command line (`pair`, `version`) and its root group.

    verify pair GOLD GEN [--db PATH | --schema PATH | --tables PATH --db-id ID]
                         [--dialect sqlite|duckdb | --calcite | --spark] [--semantics auto|bag|set|list]
                         [--bound K] [--effort X] [--timeout SECONDS] [--memory-limit MIB] [--seed N]
                         [--no-minimize]
                         [--strict] [--assume NAME]... [--json] [--explain] [--debug]
    verify assumptions
    verify version

`make_app` builds the root `verify` app with these commands; the top-level `sqlwitness_cli`
module adds the other packages' commands to it and passes in the `PairConstraints` through which
`verify pair --constraints/--mine` applies constraints (this package imports none of the packages
built on it).

The exit status of `verify pair` is the verdict's: 0 equivalent, 1 not equivalent,
2 unknown or unsupported, 3 error. Every bad input (a missing or empty file, a path that is not
a regular file such as /dev/zero or a FIFO, a database that cannot be read or has no tables, a
schema error, a bad option value or one over its limit (`verify.limits`), SQL that does not
parse or resolve) is an `error` with a one-line message and status 3, refused before anything
reads or waits on it, never a traceback; with `--json` it is printed
as a JSON `Verdict` like any other answer. An unexpected exception is reported as
"internal error: ..." with status 3 (`--debug` re-raises it instead).
"""

from __future__ import annotations

import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional, Protocol

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from verify import assumptions as named
from verify.limits import MAX_QUERY_CHARS, check_options, effort_problem
from verify.memory import MEMORY_LIMIT_MIB, memory_limit_problem
from verify.names import Dialect, Semantics
from verify.verdict import EXIT_CODES, Verdict, VerdictKind

if TYPE_CHECKING:
    from verify.schema import Schema

__all__ = ["make_app", "PairConstraints", "ConstrainSchema"]

ERROR_EXIT = EXIT_CODES[VerdictKind.ERROR]


class _Group(TyperGroup):
    """Turns click's usage errors (exit status 2, which `verify` uses for "unknown") into
    one-line errors with status 3 — or a JSON error verdict when `--json` was given."""

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        try:
            rv = super().main(
                args=argv,
                prog_name=prog_name,
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
        except typer.TyperException as e:  # typer's (vendored click's) ClickException and friends
            if type(e).__name__ == "NoArgsIsHelpError":
                rv = 0  # typer has already printed the help
            else:
                message = e.format_message()
                ctx = getattr(e, "ctx", None)
                if ctx is not None:
                    message += f" (see '{ctx.command_path} --help')"
                rv = _fail(message, json_output="--json" in argv)
        except typer.Abort:
            Console(stderr=True).print("Aborted!")
            rv = 130
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


class ConstrainSchema(Protocol):
    """Apply the constraints of `--constraints FILE` and/or mined from `--db` (`--mine`) to the
    schema; raise `ValueError` with a one-line message for bad input."""

    def __call__(
        self,
        schema: Schema | None,
        *,
        constraints_file: str | None,
        mine: bool,
        db: str | None,
        db_id: str | None,
    ) -> Schema | None: ...


@dataclass(frozen=True)
class PairConstraints:
    """What `verify pair` needs from the constraints layer, passed in by whoever assembles the app.

    `constrain` turns `--constraints`/`--mine`/`--db`/`--db-id` into the schema `check_pair` gets;
    `add_realism(verdict, db)` scores a counterexample against the `--db` database.
    """

    constrain: ConstrainSchema
    add_realism: Callable[[Verdict, str], Verdict]


def make_app(pair_constraints: PairConstraints | None = None) -> typer.Typer:
    """The root `verify` app with the verifier's commands, `pair` and `version`.

    `pair_constraints` reaches `pair` as the context object. Without it, `verify pair
    --constraints/--mine` is an error and counterexamples get no realism score.
    """
    app = typer.Typer(
        cls=_Group,
        name="verify",
        help="sqlwitness: bounded SQL equivalence with confirmed counterexamples.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"obj": pair_constraints},
    )
    app.command()(pair)
    app.command()(rules)
    app.command()(assumptions)
    app.command()(version)
    return app


class _BadInput(Exception):
    """A problem with the command's input: reported as an `error` verdict, status 3."""


def _fail(message: str, *, json_output: bool, **fields: Any) -> int:
    """Report bad input and return the error exit status."""
    if json_output:
        v = Verdict(verdict=VerdictKind.ERROR, reason=message, **fields)
        typer.echo(v.model_dump_json(indent=2))
    else:
        Console(stderr=True, highlight=False).print(
            f"[bold red]error:[/] {escape(message)}", soft_wrap=True
        )
    return ERROR_EXIT


def _check_path(path: str, what: str, *, folder_ok: bool = False) -> int:
    """The size in bytes of the regular file at `path`; `_BadInput` naming `what` when there is
    none, or when it is a device (`/dev/zero`), a FIFO or a socket (reading one could block or
    never end), or a folder (unless `folder_ok`, then 0)."""
    try:
        st = Path(path).stat()
    except FileNotFoundError:
        raise _BadInput(f"{what} {path!r} not found") from None
    except OSError as e:
        raise _BadInput(f"cannot read {what} {path!r}: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        if folder_ok:
            return 0
        raise _BadInput(f"{what} {path!r} is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise _BadInput(f"{what} {path!r} is not a regular file (a device, FIFO or socket cannot be read as one)")
    return st.st_size


def _read_query(path: str, which: str) -> str:
    """The text of a query file (or stdin for '-'), refused unread when longer than the verifier
    reads (`verify.limits.MAX_QUERY_CHARS`)."""
    too_long = (f"{which} query {'from stdin' if path == '-' else f'file {path!r}'} is longer than "
                f"{MAX_QUERY_CHARS:,} characters, the most the verifier reads")
    if path == "-":
        text = sys.stdin.read(MAX_QUERY_CHARS + 1)
        if len(text) > MAX_QUERY_CHARS:
            raise _BadInput(too_long)
        if not text.strip():
            raise _BadInput(f"{which} query from stdin is empty")
        return text
    if _check_path(path, f"{which} query file") > 4 * MAX_QUERY_CHARS:  # UTF-8: at most 4 bytes a character
        raise _BadInput(too_long)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _BadInput(f"{which} query file {path!r} is not UTF-8 text") from None
    except OSError as e:
        raise _BadInput(f"cannot read {which} query file {path!r}: {e.strerror or e}") from None
    if not text.strip():
        raise _BadInput(f"{which} query file {path!r} is empty")
    return text


def _given(ctx: typer.Context, name: str) -> bool:
    """Was option `name` given on the command line (not left at its default)?"""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


def _load_schema(
    db: str | None, schema: str | None, tables: str | None, db_id: str | None, dialect: str
):
    from verify.schema import SchemaError
    from verify.schema_io import load_schema

    if schema is not None and (db is not None or tables is not None):
        raise _BadInput("give either --schema or --db / --tables, not both")
    if tables is not None and db_id is None:
        raise _BadInput("--tables needs --db-id (which database of the file to use)")
    if db_id is not None and tables is None and db is None:
        raise _BadInput("--db-id needs --tables (the tables.json file that lists the database)")
    for option, path in (("--db", db), ("--schema", schema), ("--tables", tables)):
        if path is not None:
            _check_path(path, f"{option} file")
    if schema is not None:
        try:
            if not Path(schema).read_text(encoding="utf-8").strip():
                raise _BadInput(f"--schema file {schema!r} is empty")
        except UnicodeDecodeError:
            raise _BadInput(f"--schema file {schema!r} is not UTF-8 text") from None
        except OSError as e:
            raise _BadInput(f"cannot read --schema file {schema!r}: {e.strerror or e}") from None
    try:
        loaded = load_schema(db=db, schema_sql=schema, tables_json=tables, db_id=db_id, dialect=dialect)
    except SchemaError as e:
        raise _BadInput(f"schema: {e}") from None
    if db is not None and loaded is not None and not loaded.tables:
        empty = " (the file is empty)" if Path(db).stat().st_size == 0 else ""
        raise _BadInput(f"--db file {db!r} has no tables{empty}: give the database the queries read")
    return loaded


def pair(
    ctx: typer.Context,
    gold: Annotated[str, typer.Argument(metavar="GOLD", help="file with the gold (reference) query; '-' reads stdin")],
    gen: Annotated[str, typer.Argument(metavar="GEN", help="file with the generated query; '-' reads stdin")],
    db: Annotated[
        Optional[str],
        typer.Option("--db", metavar="PATH", help="SQLite database file: schema, constraints and sample values"),
    ] = None,
    schema: Annotated[
        Optional[str], typer.Option("--schema", metavar="PATH", help="file of CREATE TABLE statements")
    ] = None,
    tables: Annotated[
        Optional[str],
        typer.Option("--tables", metavar="PATH", help="Spider / BIRD tables.json (with --db-id)"),
    ] = None,
    db_id: Annotated[
        Optional[str], typer.Option("--db-id", metavar="ID", help="database of the --tables file")
    ] = None,
    dialect: Annotated[Dialect, typer.Option(help="SQL dialect and engine")] = Dialect.SQLITE,
    calcite: Annotated[
        bool, typer.Option("--calcite", help="read both queries as Apache Calcite prints SQL (GROUP BY numbers "
                                             "as constants, VALUES columns EXPR$0, ..., SINGLE_VALUE, COUNT(a, b), "
                                             "integer division and AVG over the schema's types, NULLs first under "
                                             "DESC; see verify.calcite) and verify them on DuckDB")
    ] = False,
    spark: Annotated[
        bool, typer.Option("--spark", help="read both queries as Apache Spark SQL (NULLs first ascending, <=>, "
                                           "IF, CONCAT, CAST and division NULL where they fail, POSITIVE, constant "
                                           "ORDER BY keys; see verify.spark) and verify them on DuckDB")
    ] = False,
    semantics: Annotated[
        Semantics,
        typer.Option(help="auto: list if gold has an outermost ORDER BY, else bag"),
    ] = Semantics.AUTO,
    bound: Annotated[
        int, typer.Option("--bound", "-k", metavar="K", help="prove equivalence up to K rows per table")
    ] = 4,
    effort: Annotated[
        float, typer.Option(metavar="X", help="scale the work budget (random databases, solver resource units, "
                                              "minimizer runs; see verify.budget) by X: the same X gives the same "
                                              "verdict on every machine")
    ] = 1.0,
    timeout: Annotated[float, typer.Option(metavar="SECONDS", help="safety time limit: a verdict it decides is "
                                                                   "unknown, 'time limit ...'")] = 30.0,
    memory_limit: Annotated[
        int, typer.Option("--memory-limit", metavar="MIB", help="safety memory limit: how far the verification "
                                                                 "may grow the process's memory; a verdict it "
                                                                 "decides is unknown, 'memory limit ...'")
    ] = MEMORY_LIMIT_MIB,
    seed: Annotated[int, typer.Option(help="seed of the random search")] = 0,
    no_minimize: Annotated[
        bool, typer.Option("--no-minimize", help="do not shrink counterexamples")
    ] = False,
    constraints_file: Annotated[
        Optional[str],
        typer.Option("--constraints", metavar="FILE", help="constraints JSON (ours or SpotIt+/VeriEQL) to assume"),
    ] = None,
    mine: Annotated[
        bool, typer.Option("--mine", help="mine constraints from --db (cached by content) and assume them")
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="print the verdict as JSON, nothing else")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="re-raise internal errors")] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="also print how the verdict was reached (the proof)")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="no domain assumption beyond the schema's declarations and the "
                                            "given constraints (not even printable ASCII text)")
    ] = False,
    assume: Annotated[
        Optional[list[str]],
        typer.Option("--assume", metavar="NAME", help="also assume NAME (repeatable): "
                     + ", ".join(a.name for a in named.REGISTRY if not a.always) + " (see 'verify assumptions')"),
    ] = None,
) -> None:
    """Check whether GOLD and GEN return the same result on every (small) database.

    Exit status: 0 equivalent, 1 not equivalent, 2 unknown or unsupported, 3 error.
    """
    reading = "--calcite" if calcite else "--spark" if spark else None  # SQL read as DuckDB's
    if calcite and spark:
        raise typer.Exit(_fail("--calcite and --spark are two readings of the queries: give one",
                               json_output=json_output, dialect=dialect.value, semantics=semantics.value))
    if reading and dialect == Dialect.SQLITE and _given(ctx, "dialect"):
        raise typer.Exit(_fail(f"{reading} reads the queries as DuckDB's SQL: it cannot be combined with --dialect sqlite",
                               json_output=json_output, dialect=dialect.value, semantics=semantics.value))
    if reading:
        dialect = Dialect.DUCKDB
    fields = dict(dialect=dialect.value, semantics=semantics.value)
    try:
        if gold == "-" and gen == "-":
            raise _BadInput("only one of GOLD and GEN can be '-' (stdin)")
        problem = check_options(bound=bound, timeout=timeout)
        problem = problem or effort_problem(effort) or memory_limit_problem(memory_limit)
        if problem is not None:
            raise _BadInput(problem)
        if constraints_file is not None:
            _check_path(constraints_file, "--constraints file", folder_ok=True)
        try:
            named.AssumptionPolicy.make(strict, assume or [])
        except named.UnknownAssumption as e:
            raise _BadInput(f"--assume: {e}") from None
        gold_sql = _read_query(gold, "gold")
        gen_sql = _read_query(gen, "generated")
        schema_obj = _load_schema(db, schema, tables, db_id, dialect.value)
        read_as: list[str] = []
        refused: Verdict | None = None  # a Calcite or Spark form with no DuckDB reading
        if reading:
            from verify.calcite import read_calcite_pair, refused_verdict
            from verify.errors import QueryError, Unsupported
            from verify.spark import read_spark_pair

            try:
                read_pair = read_calcite_pair if calcite else read_spark_pair
                gold_sql, gen_sql, read_as = read_pair(gold_sql, gen_sql, schema_obj)
            except QueryError as e:
                raise _BadInput(str(e)) from None
            except Unsupported as e:
                refused = refused_verdict(e, requested_bound=bound, **fields)
        pair_constraints = ctx.find_object(PairConstraints)
        if constraints_file is not None or mine:
            if pair_constraints is None:
                raise _BadInput("--constraints and --mine are not available: this command line was "
                                "built without the constraints package")
            try:
                schema_obj = pair_constraints.constrain(schema_obj, constraints_file=constraints_file,
                                                        mine=mine, db=db, db_id=db_id)
            except ValueError as e:
                raise _BadInput(str(e)) from None

        from verify.budget import DEFAULT
        from verify.check import check_pair

        if refused is not None:
            verdict = refused
        else:
            verdict = check_pair(
                gold_sql,
                gen_sql,
                schema=schema_obj,
                bound=bound,
                semantics=semantics.value,
                dialect=dialect.value,
                timeout=timeout,
                budget=DEFAULT.scaled(effort),
                seed=seed,
                minimize_result=not no_minimize,
                strict=strict,
                assume=assume or [],
                memory_limit=memory_limit,
            )
        if read_as:
            verdict = verdict.model_copy(update={"read_as": read_as})
        if db is not None and verdict.counterexample is not None and pair_constraints is not None:
            pair_constraints.add_realism(verdict, db)
    except _BadInput as e:
        raise typer.Exit(_fail(str(e), json_output=json_output, **fields)) from None
    except Exception as e:  # noqa: BLE001 - the CLI never shows a traceback without --debug
        if debug:
            raise
        message = f"internal error: {type(e).__name__}: {e}"
        raise typer.Exit(_fail(message, json_output=json_output, **fields)) from None

    if json_output:
        typer.echo(verdict.model_dump_json(indent=2))
    elif verdict.verdict == VerdictKind.ERROR:
        _fail(verdict.reason or "error", json_output=False)
    else:
        from verify.render import render_proof, render_verdict

        console = Console(highlight=False)
        render_verdict(verdict, console)
        if explain:
            render_proof(verdict, console)
    raise typer.Exit(verdict.exit_code)


def rules_text() -> str:
    """The pipeline's stages (`verify.check.STAGES`), the every-size proof's rewrite rules
    (`verify.rules.RULES`) and its comparison steps (`verify.rowwise.COMPARISONS`), in order, with
    the first sentence of each one's docstring: what `verify rules` prints and the README's
    Architecture section shows."""
    from verify.check import STAGES
    from verify.rowwise import COMPARISONS
    from verify.rules import RULES, first_sentence

    lines = ["Stages of check_pair (verify/check.py STAGES); the first verdict a stage returns answers:"]
    lines += [f"{n:3}. {s.__name__.lstrip('_')}: {first_sentence(s.__doc__)}" for n, s in enumerate(STAGES, 1)]
    lines += ["", "Rewrite rules of the every-size proof (verify/rules.py RULES), in the order they apply;",
              "[plan]: once over each whole plan, each subquery first; [order]: at the ORDER BY a plan ends in, before two are compared;",
              "[level]: at each level where the two plans are compared:"]
    lines += [f"{n:3}. {r.name} [{', '.join(r.phases)}]: {r.doc}" for n, r in enumerate(RULES, 1)]
    lines += ["", "Comparison steps of the every-size proof (verify/rowwise.py COMPARISONS), tried in order at each",
              "level of the two plans (under list semantics, from the inputs of the same ORDER BY), the first that",
              "applies deciding; [given]: on the level as it is; [rewritten]: after the level rules:"]
    lines += [f"{n:3}. {c.name} [{'rewritten' if c.rewritten else 'given'}]: {c.doc}"
              for n, c in enumerate(COMPARISONS, 1)]
    return "\n".join(lines)


def rules() -> None:
    """List the verifier's stages and the every-size proof's rewrite rules and comparison steps, in order."""
    typer.echo(rules_text())


def assumptions() -> None:
    """List the named domain assumptions: what each says, and when it narrows the search
    (by default, with evidence from the schema's declared types, or only with --assume)."""
    typer.echo(named.listing())


def version() -> None:
    """Print the version of sqlwitness."""
    try:
        v = metadata.version("sqlwitness")
    except metadata.PackageNotFoundError:
        v = "unknown (not installed)"
    typer.echo(f"sqlwitness {v}")

