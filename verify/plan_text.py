"""A plan printed as SQL-like text: one operator per line, its inputs indented below it, and
columns named by the names their input gives them (`name#i` where two input columns share a
name). Subqueries inside expressions are printed below the operator that holds them, as
`$1: ...`. Deterministic: the same plan prints the same text.

    >>> t = ir.Scan((ir.OutCol("a", "int"), ir.OutCol("b", "int")), "t")
    >>> print(show(ir.Filter(t.columns, t, ir.Cmp(">", ir.Col(0, "int"), ir.Lit(7, "int"), "num"))))
    Filter a > 7
      Scan t(a, b)
"""

from __future__ import annotations

import datetime

from verify import ir

INDENT = "  "


def show(rel: ir.Rel) -> str:
    """The printed form of plan `rel` (module doc)."""
    lines: list[str] = []
    _rel(rel, 0, lines)
    return "\n".join(lines)


def _names(columns) -> list[str]:
    """The names of `columns`, each made unique by its position when two share one."""
    names = [c.name for c in columns]
    return [_ident(n) if names.count(n) == 1 else f"{_ident(n)}#{i}" for i, n in enumerate(names)]


def _ident(name: str) -> str:
    return name if name.replace("_", "a").isalnum() and not name[:1].isdigit() else '"' + name.replace('"', '""') + '"'


class _Exprs:
    """Prints expressions over one row (`names`), collecting the subqueries they hold."""

    def __init__(self, names: list[str]):
        self.names = names
        self.subqueries: list[ir.Rel] = []

    def __call__(self, e) -> str:
        if isinstance(e, ir.Col):
            return self.names[e.index] if e.index < len(self.names) else f"#{e.index}"
        if isinstance(e, ir.Outer):
            return f"outer{e.depth}.#{e.index}"
        if isinstance(e, ir.Lit):
            return _literal(e.value)
        if isinstance(e, ir.Arith):
            return f"({self(e.left)} {e.op} {self(e.right)})"
        if isinstance(e, ir.Neg):
            return f"-{self(e.arg)}"
        if isinstance(e, ir.Cmp):
            return f"{self(e.left)} {e.op} {self(e.right)}"
        if isinstance(e, ir.TextToNum):
            return f"numeric({self(e.arg)})"
        if isinstance(e, ir.BoolOp):
            return "(" + f" {e.op.upper()} ".join(self(a) for a in e.args) + ")"
        if isinstance(e, ir.Not):
            return f"NOT {self(e.arg)}"
        if isinstance(e, ir.IsNull):
            return f"{self(e.arg)} IS NULL"
        if isinstance(e, ir.Case):
            whens = " ".join(f"WHEN {self(c)} THEN {self(v)}" for c, v in e.whens)
            return f"CASE {whens} ELSE {self(e.default)} END"
        if isinstance(e, ir.Func):
            return f"{e.name}({', '.join(self(a) for a in e.args)})"
        if isinstance(e, ir.Bare):
            return f"bare({self(e.arg)})"
        if isinstance(e, ir.WinRef):
            return f"window#{e.index}"
        if isinstance(e, (ir.InSubquery, ir.Exists, ir.ExistsAt, ir.ScalarSubquery)):
            self.subqueries.append(e.query)
            ref = f"${len(self.subqueries)}"
            if isinstance(e, ir.ExistsAt):
                return f"EXISTS {ref}({', '.join(self(a) for a in e.args)})"
            if isinstance(e, ir.InSubquery):
                args = [self(a) for a in e.arg[:-1]]
                return f"({', '.join(args)}) IN {ref}"
            return f"EXISTS {ref}" if isinstance(e, ir.Exists) else ref
        if isinstance(e, ir.Agg):
            arg = "*" if e.arg is None else ("DISTINCT " if e.distinct else "") + self(e.arg)
            out = f"{e.func.removesuffix('_star')}({arg})"
            return out if e.filter is None else f"{out} FILTER (WHERE {self(e.filter)})"
        if isinstance(e, ir.SortKey):
            return self(e.expr) + (" DESC" if e.desc else "") + (" NULLS FIRST" if e.nulls_first else " NULLS LAST")
        if isinstance(e, ir.WinFunc):
            arg = "" if e.arg is None else self(e.arg)
            over = ([f"PARTITION BY {', '.join(self(p) for p in e.partition)}"] if e.partition else []) + \
                ([f"ORDER BY {', '.join(self(k) for k in e.order)}"] if e.order else [])
            return f"{e.func}({arg}) OVER ({' '.join(over + [e.frame])})"
        return type(e).__name__


def _literal(v) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, datetime.date):
        return f"DATE '{v.isoformat()}'"
    return repr(v)


def _named(exprs, columns, fmt: _Exprs) -> str:
    """Output expressions, each followed by `AS name` when it is not the column of that name."""
    out = []
    for e, c in zip(exprs, columns):
        text = fmt(e)
        out.append(text if text == _ident(c.name) else f"{text} AS {_ident(c.name)}")
    return ", ".join(out)


def head(rel: ir.Rel) -> str:
    """The first line of `show(rel)`: its top operator, without its inputs and subqueries.

        >>> t = ir.Scan((ir.OutCol("a", "int"),), "t")
        >>> head(ir.Filter(t.columns, t, ir.Cmp(">", ir.Col(0, "int"), ir.Lit(7, "int"), "num")))
        'Filter a > 7'
    """
    line = _operator(rel)[0]
    return line.splitlines()[0] if line else line  # a text literal may hold a line break


def _rel(rel: ir.Rel, depth: int, lines: list[str]) -> None:
    pad = INDENT * depth
    line, fmt, inputs = _operator(rel)
    lines.append(pad + line)
    for i, sub in enumerate(fmt.subqueries, 1):
        sub_lines: list[str] = []
        _rel(sub, depth + 2, sub_lines)
        lines.append(f"{pad}{INDENT}${i}:")
        lines.extend(sub_lines)
    for child in inputs:
        _rel(child, depth + 1, lines)


def _operator(rel: ir.Rel) -> tuple[str, _Exprs, list[ir.Rel]]:
    """`rel`'s own line (without indent), the printer of its expressions (which holds the
    subqueries they contain) and its inputs."""
    inputs: list[ir.Rel] = []
    if isinstance(rel, ir.Scan):
        line = f"Scan {rel.table}({', '.join(_ident(c.name) for c in rel.columns)})"
        fmt = _Exprs([])
    elif isinstance(rel, ir.Values):
        fmt = _Exprs([])
        rows = ", ".join("(" + ", ".join(fmt(e) for e in row) + ")" for row in rel.rows)
        line = f"Values({', '.join(_ident(c.name) for c in rel.columns)}) " + (rows or "no rows")
    elif isinstance(rel, ir.Join):
        fmt = _Exprs(_names(rel.left.columns + rel.right.columns))
        line = f"Join {rel.kind}" + ("" if rel.cond is None else f" ON {fmt(rel.cond)}")
        inputs = [rel.left, rel.right]
    elif isinstance(rel, ir.SetOp):
        fmt = _Exprs([])
        line = rel.op.capitalize() + (" all" if rel.all else "")
        inputs = [rel.left, rel.right]
    else:
        inputs = [rel.input]
        fmt = _Exprs(_names(rel.input.columns))
        if isinstance(rel, ir.Filter):
            line = f"Filter {fmt(rel.cond)}"
        elif isinstance(rel, ir.Project):
            line = f"Project {_named(rel.exprs, rel.columns, fmt)}"
        elif isinstance(rel, ir.Aggregate):
            keys = ", ".join(fmt(k) for k in rel.keys)
            items = _named(rel.items, rel.columns[len(rel.keys):], fmt)
            line = "Aggregate" + (f" GROUP BY {keys}" if rel.grouped else "") + (f": {items}" if items else "")
            if rel.bare_from != ("last",) and any(isinstance(i, ir.Bare) for i in rel.items):
                line += f" (bare from {' '.join(map(str, rel.bare_from))})"
        elif isinstance(rel, ir.Window):
            line = "Window " + _named(rel.funcs, rel.columns[len(rel.input.columns):], fmt)
        elif isinstance(rel, ir.Sort):
            line = "Sort" + (f" {', '.join(fmt(k) for k in rel.keys)}" if rel.keys else "") + \
                ("" if rel.limit is None else f" LIMIT {rel.limit}") + (f" OFFSET {rel.offset}" if rel.offset else "")
        else:
            line = type(rel).__name__
    return line, fmt, inputs
