"""`verify mine` and `verify constraints ...`: the constraint commands.

    verify mine DB.sqlite -o constraints.json [--min-rows N] [--min-support N] ...
                [--validate-with-llm --base-url URL --model NAME [--api-key-env VAR]]
    verify constraints import SPOTIT.json [--db-id ID] [--tables tables.json] [-o OUT]
    verify constraints export FILE [--db-id ID] -o OUT.json
    verify constraints show FILE [--db-id ID]

`commands` holds `mine` and `constraints_app` is the `constraints` group; the top-level
`sqlwitness_cli` module adds both to `verify`. Bad input is a one-line `error:` on stderr with
exit status 3, like every `verify` command.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

commands = typer.Typer()
constraints_app = typer.Typer(name="constraints", help="Import, export and show constraint files.",
                              no_args_is_help=True)

ERROR_EXIT = 3


def _error(message: str) -> typer.Exit:
    Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    return typer.Exit(ERROR_EXIT)


@commands.command()
def mine(
    db: Annotated[str, typer.Argument(metavar="DB", help="SQLite database file (opened read-only)")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="write the constraints here (default: stdout)")] = None,
    db_id: Annotated[Optional[str], typer.Option("--db-id", help="name recorded in the file (default: file stem)")] = None,
    min_rows: Annotated[int, typer.Option(help="tables with fewer rows yield no mined constraint")] = 5,
    min_support: Annotated[int, typer.Option(help="FD: repeated left-hand values; ordering: rows with A < B")] = 3,
    max_categories: Annotated[int, typer.Option(help="most distinct values of a categorical column")] = 12,
    min_unique_rows: Annotated[int, typer.Option(help="rows needed to call a non-key column unique")] = 50,
    min_fd_rows: Annotated[int, typer.Option(help="tables with fewer rows yield no FD")] = 20,
    max_lhs: Annotated[int, typer.Option(help="most columns on an FD's left side (0: no FDs)")] = 2,
    value_hints: Annotated[int, typer.Option(help="observed values kept per column as hints")] = 10,
    exact_ranges: Annotated[bool, typer.Option("--exact-ranges", help="ranges are the observed min..max")] = False,
    kinds: Annotated[Optional[str], typer.Option(help="comma-separated kinds to mine (default: all)")] = None,
    validate_with_llm: Annotated[bool, typer.Option("--validate-with-llm", help="ask an LLM which constraints are real rules")] = False,
    base_url: Annotated[Optional[str], typer.Option(help="OpenAI-compatible endpoint, e.g. https://api.openai.com/v1")] = None,
    model: Annotated[Optional[str], typer.Option(help="model name for --validate-with-llm")] = None,
    api_key_env: Annotated[str, typer.Option(help="environment variable holding the API key")] = "OPENAI_API_KEY",
    batch_size: Annotated[int, typer.Option(help="constraints per LLM request")] = 12,
    llm_timeout: Annotated[float, typer.Option(help="seconds per LLM request")] = 60.0,
    tables: Annotated[Optional[str], typer.Option(help="Spider/BIRD tables.json: column descriptions for the LLM")] = None,
) -> None:
    """Mine constraints that hold on every row of DB (each re-checked with SQL on all rows)."""
    from constraints.mine import MineSettings, mine_database
    from verify.schema import SchemaError

    if not Path(db).is_file():
        raise _error(f"database {db!r} not found")
    if validate_with_llm and (not base_url or not model):
        raise _error("--validate-with-llm needs --base-url and --model")
    known = {"not_null", "categorical", "range", "format", "unique", "fd", "ordering", "values"}
    kind_list = None
    if kinds:
        kind_list = [k.strip() for k in kinds.split(",") if k.strip()]
        bad = [k for k in kind_list if k not in known]
        if bad:
            raise _error(f"unknown kind(s) {', '.join(bad)}; choose from {', '.join(sorted(known))}")
    try:
        settings = MineSettings(min_rows=min_rows, min_support=min_support, max_categories=max_categories,
                                min_unique_rows=min_unique_rows, min_fd_rows=min_fd_rows, max_lhs=max_lhs,
                                value_hints=value_hints, exact_ranges=exact_ranges, kinds=kind_list)
    except Exception as e:  # pydantic ValidationError: a threshold out of range
        first = str(e).splitlines()
        raise _error(f"bad threshold: {' '.join(first[1:3]) if len(first) > 2 else e}") from None
    console = Console(stderr=True, highlight=False)
    started = time.monotonic()
    try:
        cs = mine_database(db, settings, db_id=db_id)
    except SchemaError as e:
        raise _error(str(e)) from None
    mined = sum(1 for c in cs.constraints if c.origin.value == "mined")
    console.print(f"mined {mined} constraints from {len(cs.source.tables)} tables in "
                  f"{time.monotonic() - started:.2f} s: "
                  + ", ".join(f"{k} {v}" for k, v in sorted(cs.counts().items())))
    if validate_with_llm:
        from constraints.validate_llm import (
            LLMSetupError, descriptions_from_tables_json, make_client, validate_constraints)
        from verify.schema_io import schema_from_sqlite

        try:
            client = make_client(base_url or "", api_key_env, llm_timeout)
            desc = descriptions_from_tables_json(tables, cs.db_id or "") if tables else None
            rep = validate_constraints(cs, client=client, model=model or "", db=db,
                                       schema=schema_from_sqlite(db), descriptions=desc,
                                       batch_size=batch_size)
        except (LLMSetupError, OSError, json.JSONDecodeError) as e:
            raise _error(str(e)) from None
        console.print(f"LLM validation: {rep.accepted} accepted, {rep.rejected} rejected, "
                      f"{rep.unvalidated} unvalidated ({rep.requests} requests, {rep.cache_hits} from cache)")
        for err in rep.errors[:5]:
            console.print(f"  [yellow]{escape(err)}[/]")
    text = cs.to_json()
    if out is None:
        typer.echo(text)
    else:
        try:
            out.write_text(text + "\n", encoding="utf-8")
        except OSError as e:
            raise _error(f"cannot write {str(out)!r}: {e.strerror or e}") from None


def _load_schema_for(tables: str | None, db_id: str | None):
    if tables is None:
        return None
    from verify.schema import SchemaError
    from verify.schema_io import schema_from_spider_tables

    try:
        return schema_from_spider_tables(tables, db_id)
    except SchemaError as e:
        raise _error(f"--tables: {e}") from None


@constraints_app.command("import")
def import_cmd(
    file: Annotated[str, typer.Argument(metavar="FILE", help="SpotIt+/VeriEQL constraints JSON")],
    db_id: Annotated[Optional[str], typer.Option("--db-id", help="one database (default: report on all)")] = None,
    tables: Annotated[Optional[str], typer.Option(help="tables.json to map TABLE__COLUMN names onto")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="with --db-id: a file; without: a folder of <db_id>.json")] = None,
) -> None:
    """Convert SpotIt+/VeriEQL constraints to our format, reporting per kind what imports
    cleanly and what is skipped, and why."""
    from constraints.io import ConstraintFileError, ImportReport, import_spotit, read_json, save_constraints

    try:
        data = read_json(Path(file))
    except ConstraintFileError as e:
        raise _error(str(e)) from None
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise _error(f"{file!r} is not a SpotIt+/VeriEQL file ({{db_id: [[...]]}})")
    ids = list(data)
    if db_id is not None:
        ids = [k for k in data if k.lower() == db_id.lower()]
        if not ids:
            raise _error(f"{file!r} has no database {db_id!r}")
    from constraints.apply import apply_report

    total = ImportReport()
    applies: dict[str, int] = {}
    kind_of = {"primary_key": "primary", "foreign_key": "foreign", "range": "between", "categorical": "in",
               "fd": "dependency", "not_null": "not_null", "ordering": "ordering"}
    for k in ids:
        schema = _load_schema_for(tables, k)
        try:
            cs, rep = import_spotit(data[k], schema=schema)
        except ValueError as e:
            raise _error(f"{file!r}, database {k!r}: {e}") from None
        if schema is not None:
            for kind, n in apply_report(schema, cs)[1].applied.items():
                applies[kind_of.get(kind, kind)] = applies.get(kind_of.get(kind, kind), 0) + n
        cs.db_id, cs.source.path = k, file
        for kind, kr in rep.kinds.items():
            tk = total.kind(kind)
            tk.imported += kr.imported
            for reason, n in kr.skipped.items():
                tk.skipped[reason] = tk.skipped.get(reason, 0) + n
        if out is not None:
            target = out if db_id is not None else out / f"{k}.json"
            if db_id is None:
                out.mkdir(parents=True, exist_ok=True)
            save_constraints(cs, target)
    table = RichTable(title=f"{file} ({len(ids)} database{'s' if len(ids) != 1 else ''})")
    cols = ("kind", "imported", "skipped", "reasons") + (("apply to the schema",) if tables else ())
    for col in cols:
        table.add_column(col)
    for kind, kr in sorted(total.kinds.items()):
        reasons = "; ".join(f"{r} ({n})" for r, n in sorted(kr.skipped.items(), key=lambda x: -x[1]))
        extra = (str(applies.get(kind, 0)),) if tables else ()
        table.add_row(kind, str(kr.imported), str(sum(kr.skipped.values())), reasons, *extra)
    extra = (str(sum(applies.values())),) if tables else ()
    table.add_row("all", str(total.imported), str(total.skipped), "", *extra, style="bold")
    Console(highlight=False).print(table)


@constraints_app.command("export")
def export_cmd(
    file: Annotated[str, typer.Argument(metavar="FILE", help="constraints file (ours or SpotIt+)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="SpotIt+/VeriEQL JSON to write")],
    db_id: Annotated[Optional[str], typer.Option("--db-id")] = None,
) -> None:
    """Write constraints in the SpotIt+/VeriEQL format (kinds it lacks are reported)."""
    from constraints.io import ConstraintFileError, export_spotit, load_constraints

    try:
        cs = load_constraints(file, db_id)
    except ConstraintFileError as e:
        raise _error(str(e)) from None
    items, rep = export_spotit(cs)
    out.write_text(json.dumps({cs.db_id or db_id or "db": items}, indent=1) + "\n", encoding="utf-8")
    skipped = {k: sum(v.skipped.values()) for k, v in rep.kinds.items() if v.skipped}
    Console(stderr=True, highlight=False).print(
        f"exported {rep.imported} constraints" + (f"; not expressible there: {skipped}" if skipped else ""))


@constraints_app.command("show")
def show_cmd(
    file: Annotated[str, typer.Argument(metavar="FILE", help="constraints file (ours or SpotIt+)")],
    db_id: Annotated[Optional[str], typer.Option("--db-id")] = None,
) -> None:
    """List the constraints of a file, with evidence and validation."""
    from constraints.io import ConstraintFileError, load_constraints

    try:
        cs = load_constraints(file, db_id)
    except ConstraintFileError as e:
        raise _error(str(e)) from None
    table = RichTable(title=f"{cs.db_id or file}: {len(cs.constraints)} constraints")
    for col in ("kind", "constraint", "origin", "evidence", "validation"):
        table.add_column(col, overflow="fold")
    for c in cs.constraints:
        ev = ""
        if c.evidence is not None:
            ev = f"{c.evidence.rows_checked} rows, support {c.evidence.support}"
        val = c.validation.status.value + (f": {c.validation.reason}" if c.validation.reason else "")
        table.add_row(c.kind, c.describe(), c.origin.value, ev, val)
    Console(highlight=False).print(table)
