"""Name scopes of the front end: what a column name means while a query is lowered.

`lower.Lowerer` builds them, and its scalar half (`lower_scalar.ScalarLowering`) passes them
along; both import them from here, so neither needs the other's module for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from verify import ir


@dataclass
class Entry:
    """One visible column of a FROM clause."""

    alias: str | None  # lower-cased table alias, or None for an unnamed derived table
    name: str  # lower-cased column name
    index: int
    kind: ir.Kind
    affinity: str | None
    hidden: bool = False  # the right side of a USING/NATURAL join: not found unqualified nor by *
    display: str = ""


@dataclass
class Scope:
    """The columns one query level can name, and what else is in view while its clauses are
    lowered."""

    entries: list[Entry]
    agg: AggCtx | None = None  # set while lowering SELECT/HAVING/ORDER BY of an aggregate query
    windows: list[ir.WinFunc] | None = None  # window functions met in SELECT/ORDER BY
    aliases: dict[str, exp.Expression] = field(default_factory=dict)  # select aliases

    def lookup(self, name: str, table: str | None) -> list[Entry]:
        """The entries `table.name` (or an unqualified `name`) refers to, case-insensitively."""
        name = name.lower()
        if table is not None:
            return [e for e in self.entries if e.alias == table.lower() and e.name == name]
        return [e for e in self.entries if e.name == name and not e.hidden]


@dataclass
class AggCtx:
    """The grouping of an aggregate query, collected while its SELECT, HAVING and ORDER BY are
    lowered: the group keys, and the aggregates and bare columns met, each once."""

    input_scope: Scope
    keys: list[ir.Expr]
    items: list[ir.Agg | ir.Bare]  # in order of appearance
    item_index: dict[ir.Agg | ir.Bare, int] = field(default_factory=dict)
    absent: list[exp.Expression] = field(default_factory=list)  # GROUPING SETS: keys of other sets (read as NULL)


@dataclass
class Env:
    """Lowering context: the scope stack (innermost first) and the CTEs in view."""

    scopes: list[Scope]
    ctes: dict[str, ir.Rel]
