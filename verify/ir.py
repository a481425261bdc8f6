"""The relational IR: the contract between the SQL front end and the Z3 encoder.

The front end (`lower.py`) turns a resolved sqlglot AST into these nodes; the encoder
(`encode.py`) never sees sqlglot, and the front end never sees Z3.

Relations (`Rel`) produce a list of output columns. Scalar expressions (`Expr`) are evaluated
against one row of a relation's *input*: `Col(i)` is the i-th column of that row and
`Outer(depth, i)` the i-th column of an enclosing query's row (depth 1 = the nearest
enclosing query), which is how correlated subqueries are written.

Every expression carries its static kind (`Kind`), worked out by the front end:
    int    SQLite INTEGER / DuckDB BIGINT          (Z3 Int)
    real   SQLite REAL / DuckDB DOUBLE             (Z3 Real)
    num    SQLite NUMERIC column: integer or real per value (Z3 Real + an is-integer flag)
    text   TEXT                                    (Z3 String)
    bool   result of a comparison or logical operator (Z3 Bool; SQLite shows it as 0/1)
    date   DuckDB DATE                             (Z3 Int: days since 1970-01-01)
    null   the NULL literal, which takes its kind from context

Example: `SELECT a + 1 FROM t WHERE b > 2` becomes
    Project(Filter(Scan("t"), Cmp(">", Col(1), Lit(2))), [Arith("+", Col(0), Lit(1))])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal as TLiteral

# "timestamp" is DuckDB's TIMESTAMP WITH TIME ZONE (its clock); SQLite keeps times as text
Kind = TLiteral["int", "real", "num", "text", "bool", "date", "timestamp", "null"]
NUMERIC_KINDS = ("int", "real", "num")


# ----------------------------------------------------------------------------- expressions
@dataclass(frozen=True)
class Expr:
    pass


@dataclass(frozen=True)
class Col(Expr):
    index: int
    kind: Kind
    affinity: str | None = None  # the column's SQLite affinity, when it is a plain column


@dataclass(frozen=True)
class Outer(Expr):
    depth: int
    index: int
    kind: Kind
    affinity: str | None = None


@dataclass(frozen=True)
class Lit(Expr):
    value: Any  # int | float | str | bool | None | datetime.date
    kind: Kind


@dataclass(frozen=True)
class Arith(Expr):
    op: str  # + - * / % //
    left: Expr
    right: Expr
    kind: Kind


@dataclass(frozen=True)
class Neg(Expr):
    arg: Expr
    kind: Kind


@dataclass(frozen=True)
class Concat(Expr):
    left: Expr
    right: Expr
    kind: Kind = "text"


@dataclass(frozen=True)
class Cmp(Expr):
    """Comparison. `mode` says how the operands are compared after SQLite's affinity rules:
    'num' (both numeric), 'text' (both text), 'date', 'bool', or 'mixed' (numeric vs text
    without conversion: every number sorts before every text)."""

    op: str  # = <> < <= > >=
    left: Expr
    right: Expr
    mode: str
    kind: Kind = "bool"


@dataclass(frozen=True)
class TextToNum(Expr):
    """SQLite numeric affinity applied to a text value: canonical integers become integers,
    anything else stays text (encoded under the assumption recorded by the encoder)."""

    arg: Expr
    kind: Kind = "int"


@dataclass(frozen=True)
class BoolOp(Expr):
    op: str  # and | or
    args: tuple[Expr, ...]
    kind: Kind = "bool"


@dataclass(frozen=True)
class Not(Expr):
    arg: Expr
    kind: Kind = "bool"


@dataclass(frozen=True)
class IsNull(Expr):
    arg: Expr
    kind: Kind = "bool"


@dataclass(frozen=True)
class Case(Expr):
    whens: tuple[tuple[Expr, Expr], ...]
    default: Expr
    kind: Kind


@dataclass(frozen=True)
class Func(Expr):
    """Scalar function with SQL NULL rules of its own: coalesce, nullif, abs, toint, toreal."""

    name: str
    args: tuple[Expr, ...]
    kind: Kind


@dataclass(frozen=True)
class InSubquery(Expr):
    arg: tuple[Expr, ...]
    query: "Rel"
    kind: Kind = "bool"


@dataclass(frozen=True)
class Exists(Expr):
    query: "Rel"
    kind: Kind = "bool"


@dataclass(frozen=True)
class ScalarSubquery(Expr):
    query: "Rel"
    kind: Kind


@dataclass(frozen=True)
class Agg:
    """An aggregate call inside an `Aggregate` node; `arg` is over the node's input."""

    func: str  # count_star count sum total avg min max any_value bool_and bool_or bit_and bit_or
    arg: Expr | None  # Func("tuple", ...) for COUNT(DISTINCT a, b)
    distinct: bool
    kind: Kind
    filter: Expr | None = None  # FILTER (WHERE ...)


@dataclass(frozen=True)
class Bare(Expr):
    """A column of an aggregate query that is neither grouped nor aggregated (SQLite allows it:
    its value comes from one row of the group)."""

    arg: Expr
    kind: Kind


@dataclass(frozen=True)
class WinFunc:
    """A window function: ROW_NUMBER/RANK/DENSE_RANK or an aggregate OVER (PARTITION BY ...
    ORDER BY ...), with the default frame (the partition up to the current row's peers, or the
    whole partition without ORDER BY)."""

    func: str  # row_number rank dense_rank count_star count sum total avg min max
    arg: Expr | None
    partition: tuple[Expr, ...]
    order: tuple["SortKey", ...]
    kind: Kind
    frame: str = "range"  # range | rows | all


@dataclass(frozen=True)
class WinRef(Expr):
    """Placeholder for the i-th window function of a SELECT until its `Window` node exists."""

    index: int
    kind: Kind


# ----------------------------------------------------------------------------- relations
@dataclass(frozen=True)
class OutCol:
    name: str
    kind: Kind
    affinity: str | None = None


@dataclass(frozen=True, eq=False)
class Rel:
    columns: tuple[OutCol, ...]


@dataclass(frozen=True, eq=False)
class Scan(Rel):
    table: str


@dataclass(frozen=True, eq=False)
class Values(Rel):
    rows: tuple[tuple[Expr, ...], ...]


@dataclass(frozen=True, eq=False)
class Filter(Rel):
    input: Rel
    cond: Expr


@dataclass(frozen=True, eq=False)
class Project(Rel):
    input: Rel
    exprs: tuple[Expr, ...]


@dataclass(frozen=True, eq=False)
class Join(Rel):
    kind: str  # inner left right full cross
    left: Rel
    right: Rel
    cond: Expr | None


@dataclass(frozen=True, eq=False)
class Aggregate(Rel):
    """Output: one column per group key, then one per item (an aggregate or a bare column).
    `bare_from` picks the row bare columns come from: ('last',) the group's last row, or
    ('min'|'max', item index) the row holding that min()/max()."""

    input: Rel
    keys: tuple[Expr, ...]
    items: tuple  # of Agg | Bare
    bare_from: tuple = ("last",)
    grouped: bool = True  # False: aggregate without GROUP BY (exactly one output row)


@dataclass(frozen=True, eq=False)
class Window(Rel):
    """Output: the input columns, then one column per window function."""

    input: Rel
    funcs: tuple[WinFunc, ...]


@dataclass(frozen=True, eq=False)
class Distinct(Rel):
    input: Rel


@dataclass(frozen=True)
class SortKey:
    expr: Expr
    desc: bool
    nulls_first: bool


@dataclass(frozen=True, eq=False)
class Sort(Rel):
    """ORDER BY and/or LIMIT/OFFSET. Rows keep their identity; the encoder gives each a
    position. `keys` may be empty (LIMIT without ORDER BY)."""

    input: Rel
    keys: tuple[SortKey, ...]
    limit: int | None = None
    offset: int = 0


@dataclass(frozen=True, eq=False)
class SetOp(Rel):
    op: str  # union intersect except
    all: bool
    left: Rel
    right: Rel


@dataclass
class Query:
    """A lowered query: the relation plus facts the verifier reports about it."""

    rel: Rel
    ordered: bool  # the outermost operator is an ORDER BY
    tables: frozenset[str] = field(default_factory=frozenset)  # lower-cased base tables read
    notes: list[str] = field(default_factory=list)  # assumptions the lowering made


def nodes(x: Any):
    """Every relation, expression, aggregate and sort key in `x` (a node or a tuple of them),
    subqueries included, `x` first."""
    if isinstance(x, tuple):
        for e in x:
            yield from nodes(e)
    elif hasattr(x, "__dataclass_fields__") and not isinstance(x, type):
        yield x
        for name in x.__dataclass_fields__:
            yield from nodes(getattr(x, name))


def open_choices(x: Any) -> set[str]:
    """The constructs in a plan (its relations, expressions and subqueries) whose result depends
    on an order or a choice the engine leaves open: 'sort' (ORDER BY, LIMIT), 'bare' (a column
    neither grouped nor aggregated), 'any_value', 'scalar_subquery' (the first of several rows),
    'window'. Empty: identical plans return identical results, whatever order rows are read in.

        >>> t = Scan((OutCol("a", "int"),), "t")
        >>> open_choices(Sort(t.columns, t, (), limit=1)), open_choices(Distinct(t.columns, t))
        ({'sort'}, set())
    """
    tags = {Sort: "sort", Bare: "bare", ScalarSubquery: "scalar_subquery", Window: "window"}
    found = {tags[type(n)] for n in nodes(x) if type(n) in tags}
    return found | ({"any_value"} if any(isinstance(n, Agg) and n.func == "any_value" for n in nodes(x)) else set())
