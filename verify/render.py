"""Rendering a `Verdict` for people, with rich.

`render_verdict(v, console)` prints:

1. the verdict line (equivalent green, not_equivalent red, everything else yellow) stating how
   strong it is (`Verdict.strength`): "equivalent for every database" (every size),
   "equivalent up to 3 rows per table" (the requested bound reached), "no difference found up
   to 1 row per table; undecided above" (yellow: the search stopped below the requested bound,
   the reason says why), or the counterexample's size; then semantics, dialect, time and search
   statistics;
2. the reason, how the queries were read ("Read as: ..." bullets, `verify pair --calcite`), the
   assumptions ("Assuming: ..." bullets) and a warning when the schema was inferred from the
   queries;
3. for a counterexample: every non-empty table of the database, then the gold and the
   generated results side by side, the rows that only one result has marked, and the note
   that both queries were run on the real engine.

`render_proof(v, console)` (`verify pair --explain`) prints, after that, how the verdict was
reached (`Verdict.proof`): what decided, the row-wise proof's steps, the bounds the solver proved,
what the minimizer removed, what was tried before and why the search stopped.

Values are shown so that nothing is ambiguous: NULL is a dim `NULL`, strings are quoted the
SQL way (`''`, `' a'`, `'it''s'`), and control characters are escaped.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console, Group
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from verify.names import ENGINE_NAMES
from verify.verdict import Counterexample, Proof, Strength, TableData, Verdict, VerdictKind

__all__ = ["render_verdict", "render_proof", "format_value"]

_STYLE = {
    VerdictKind.EQUIVALENT: "bold green",
    VerdictKind.NOT_EQUIVALENT: "bold red",
}
_SYMBOL = {
    VerdictKind.EQUIVALENT: "✔",
    VerdictKind.NOT_EQUIVALENT: "✘",
    VerdictKind.UNKNOWN: "?",
    VerdictKind.UNSUPPORTED: "?",
    VerdictKind.ERROR: "!",
    VerdictKind.NONDETERMINISTIC: "~",
}
_INFERRED = "schema inferred from the queries"


def render_verdict(v: Verdict, console: Console) -> None:
    """Print `v` for a person on `console`."""
    console.print(_verdict_line(v))
    details = _details_line(v)
    if details.plain:
        console.print(details)
    if v.reason:
        console.print(Text.assemble(("Reason: ", "bold"), v.reason))
    if v.schema_inferred:
        console.print(
            Text(
                "⚠ schema inferred from the queries (no --db, --schema or --tables given): "
                "every column nullable, no keys, types from usage",
                style="yellow",
            )
        )
    if v.read_as:
        console.print(Text("Read as:", style="bold"))
        for note in v.read_as:
            console.print(Text("  • ") + Text(note))
    assumptions = [a for a in v.assumptions if not (v.schema_inferred and a.startswith(_INFERRED))]
    if assumptions:
        console.print(Text("Assuming:", style="bold"))
        for a in assumptions:
            console.print(Text("  • ") + Text(a))
    if v.counterexample is not None:
        console.print()
        _render_counterexample(v, v.counterexample, console)


# --------------------------------------------------------------------------- proof

def render_proof(v: Verdict, console: Console) -> None:
    """Print how `v` was reached (`v.proof`) as a short block; nothing when it has none."""
    p = v.proof
    if p is None:
        return
    console.print()
    console.print(Text.assemble(("How: ", "bold"), p.summary))
    if p.steps:  # the row-wise proof's lines: plans printed one operator a line, kept as printed
        console.print(Text("  steps:", style="bold"))
        for step in p.steps:
            console.print(Text("    " + step), soft_wrap=True)
    for line in _proof_lines(p):
        console.print(Text("  • ") + Text(line))


def _proof_lines(p: Proof) -> list[str]:
    lines = []
    if p.bounds:
        lines.append("bounds proved: k = " + ", ".join(map(str, p.bounds)))
    if p.minimized is not None:
        m = p.minimized
        lines.append(f"minimized: {m.rows_before} → {m.rows_after} {_rows(m.rows_after)}, "
                     f"{m.cells_before} → {m.cells_after} {_plural(m.cells_after, 'cell')}")
    lines += [f"tried: {t}" for t in p.tried]
    if p.stopped:
        lines.append(f"stopped: {p.stopped}")
    return lines


# --------------------------------------------------------------------------- verdict line


def _verdict_line(v: Verdict) -> Text:
    kind = v.verdict
    if kind == VerdictKind.EQUIVALENT:
        return _equivalent_line(v)
    style = _STYLE.get(kind, "bold yellow")
    line = Text(f"{_SYMBOL[kind]} {kind.value.replace('_', ' ')}", style=style)
    scope = _scope(v)
    if scope:
        line.append(" — " + scope)
    return line


def _equivalent_line(v: Verdict) -> Text:
    """The first line of an `equivalent` verdict, saying how far the proof reaches."""
    strength, symbol = v.strength, _SYMBOL[VerdictKind.EQUIVALENT]
    if strength == Strength.EVERY_SIZE:
        return Text(f"{symbol} equivalent for every database", style=_STYLE[VerdictKind.EQUIVALENT])
    if strength == Strength.BELOW_K and v.bound is not None:
        return Text(f"{symbol} no difference found up to {v.bound} {_rows(v.bound)} per table; undecided above "
                    f"({v.requested_bound} requested)", style="bold yellow")
    if v.bound is not None:  # up to k, or a verdict that does not say which bound was asked for
        return Text(f"{symbol} equivalent up to {v.bound} {_rows(v.bound)} per table",
                    style=_STYLE[VerdictKind.EQUIVALENT])
    return Text(f"{symbol} equivalent", style=_STYLE[VerdictKind.EQUIVALENT])


def _scope(v: Verdict) -> str:
    if v.verdict == VerdictKind.NOT_EQUIVALENT and v.counterexample is not None:
        n = sum(len(t.rows) for t in v.counterexample.tables.values())
        found = {"random": "random search", "smt": "the SMT solver"}.get(
            v.counterexample.found_by, v.counterexample.found_by
        )
        what = f"with {n} {_rows(n)} in all" if n else "on the empty database"
        return f"counterexample {what}, found by {found}"
    if v.verdict == VerdictKind.NONDETERMINISTIC:
        return f"the results differ only through an order {ENGINE_NAMES.get(v.dialect, v.dialect)} leaves open"
    if v.verdict == VerdictKind.UNKNOWN and v.bound:
        return f"no difference on databases with at most {v.bound} {_rows(v.bound)} per table"
    return ""


def _rows(n: int) -> str:
    return _plural(n, "row")


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


def _details_line(v: Verdict) -> Text:
    s = v.stats
    parts = [
        f"{v.semantics} semantics",
        v.dialect,
        f"{s.seconds:.2f} s",
        f"{s.smt_calls} SMT {_plural(s.smt_calls, 'call')}",
        f"{s.unconfirmed_models} unconfirmed {_plural(s.unconfirmed_models, 'model')}",
        f"{s.random_databases} random {_plural(s.random_databases, 'database')}",
    ]
    return Text(" · ".join(parts), style="dim")


# --------------------------------------------------------------------------- counterexample


def _render_counterexample(v: Verdict, cex: Counterexample, console: Console) -> None:
    title = "Witness database (another order of its rows makes the results agree)" if cex.order_dependent \
        else "Counterexample database"
    console.print(Text(title, style="bold"))
    if not cex.tables:
        console.print(Text("  (every table is empty)", style="dim"))
    for name, data in cex.tables.items():
        console.print(_data_table(data, title=name))
    if cex.tables:
        console.print(Text("(tables not shown are empty)", style="dim"))
    if cex.now is not None:
        console.print(Text(f"Current time: {cex.now} (both queries were run with it)", style="bold"))
    console.print()

    gold_marks = _marks(cex.gold_result, cex.gold_only, v.semantics)
    gen_marks = _marks(cex.gen_result, cex.gen_only, v.semantics)
    gold_view = Group(
        Text("Gold result", style="bold"),
        _data_table(cex.gold_result, marks=gold_marks, marker="◀ only in gold"),
    )
    gen_view = Group(
        Text("Generated result", style="bold"),
        _data_table(cex.gen_result, marks=gen_marks, marker="◀ only in generated"),
    )
    gap = 4
    widths = [Measurement.get(console, console.options, r).maximum for r in (gold_view, gen_view)]
    if sum(widths) + gap <= console.width:
        grid = Table.grid(padding=(0, gap))
        grid.add_column()
        grid.add_column()
        grid.add_row(gold_view, gen_view)
        console.print(grid)
    else:  # too wide to sit side by side: one above the other
        console.print(gold_view)
        console.print()
        console.print(gen_view)
    ncols = (len(cex.gold_result.columns), len(cex.gen_result.columns))
    if ncols[0] != ncols[1]:
        console.print(Text(f"The results have different numbers of columns ({ncols[0]} vs {ncols[1]}).",
                           style="red"))
    elif not cex.gold_only and not cex.gen_only:
        if v.semantics == "list":
            console.print(Text("The results hold the same rows in a different order.", style="red"))
        else:
            console.print(Text("The results differ (see above).", style="red"))
    engine = ENGINE_NAMES.get(v.dialect, v.dialect)
    note = f"confirmed by running both queries on {engine}" if v.confirmed else "not confirmed on the engine"
    console.print(Text(note, style="green" if v.confirmed else "yellow"))
    if cex.realism is not None:
        style = "green" if cex.realism >= 0.9 else "yellow"
        console.print(Text(f"realism {cex.realism:.2f} (share of cells plausible for the --db database)", style=style))


def _marks(result: TableData, only: list[list[Any]], semantics: str) -> list[bool]:
    """Which rows of `result` belong to `only`: matched with multiplicity, except under set
    semantics, where `only` holds distinct rows and every copy is marked."""
    wanted = Counter(_key(r) for r in only)
    marks = []
    for row in result.rows:
        k = _key(row)
        if wanted[k] > 0:
            marks.append(True)
            if semantics != "set":
                wanted[k] -= 1
        else:
            marks.append(False)
    return marks


def _key(row: list[Any]) -> tuple:
    return tuple(int(x) if isinstance(x, float) and x.is_integer() else x for x in row)


def _data_table(
    data: TableData,
    *,
    title: str | None = None,
    marks: list[bool] | None = None,
    marker: str = "",
) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold cyan", show_edge=True)
    for col in data.columns:
        table.add_column(Text(col), overflow="fold")
    any_marked = bool(marks) and any(marks)
    if any_marked:
        table.add_column("", no_wrap=True)
    for i, row in enumerate(data.rows):
        cells: list[Text] = [format_value(x) for x in row]
        if any_marked:
            marked = bool(marks and marks[i])
            cells.append(Text(marker, style="bold red") if marked else Text(""))
            table.add_row(*cells, style="red" if marked else None)
        else:
            table.add_row(*cells)
    if not data.rows:
        table.caption = "(no rows)"
        table.min_width = 12
    return table


def format_value(x: Any) -> Text:
    """One value as unambiguous rich Text: dim NULL, SQL-quoted strings, X'..' blobs."""
    if x is None:
        return Text("NULL", style="dim")
    if isinstance(x, bool):
        return Text("TRUE" if x else "FALSE")
    if isinstance(x, (int, float)):
        return Text(repr(x))
    if isinstance(x, (bytes, bytearray, memoryview)):
        return Text("X'" + bytes(x).hex().upper() + "'")
    s = str(x).replace("'", "''")
    s = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in s)
    return Text("'" + s + "'")
