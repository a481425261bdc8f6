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

import functools
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal as TLiteral

from verify.names import CmpMode, FuncName, JoinKind, SetOpName

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
class Cmp(Expr):
    """Comparison. `mode` says how the operands are compared after SQLite's affinity rules
    (see `CmpMode`)."""

    op: str  # = <> < <= > >=
    left: Expr
    right: Expr
    mode: CmpMode
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
    """Scalar function with SQL NULL rules of its own, or a conversion (see `FuncName`)."""

    name: FuncName
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
class ExistsAt(Expr):
    """EXISTS of `query` at the values `args`: `query` reads `args[k]` where it reads column k of
    the enclosing row (`Outer(1, k)`). Only `verify.blocks` builds it, for a WHERE's EXISTS inside
    a select-project-join block (its arguments are expressions over the block's columns, so they
    move with them); row-wise reasoning reads it as a predicate of its arguments
    (`verify.rowwise`). It is never lowered from SQL nor encoded for the bounded search."""

    args: tuple[Expr, ...]
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
    kind: JoinKind
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
    op: SetOpName
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


# ----------------------------------------------------------------------------- traversal
# The one way to walk the IR. Every node is a frozen dataclass; its IR-valued fields (nodes, and
# tuples of nodes or of tuples of nodes, such as `Case.whens` and `Values.rows`) are its children.
# A relation held by an expression (`InSubquery`, `Exists`, `ExistsAt`, `ScalarSubquery`) is a
# subquery: its `Col`s refer to its own rows, so scope-aware rewrites of an expression stop there
# (`into_subqueries=False`).

NODE_TYPES = (Expr, Rel, Agg, WinFunc, SortKey, OutCol)
_SUBQUERY_HOLDERS = (InSubquery, Exists, ExistsAt, ScalarSubquery)


def is_node(x: Any) -> bool:
    return isinstance(x, NODE_TYPES)


# Field types that never hold a node: `children` and `transform` do not look into such fields.
_SCALAR_FIELD_TYPES = frozenset({"int", "int | None", "str", "str | None", "bool", "Kind", "CmpMode", "FuncName",
                                 "JoinKind", "SetOpName"})


@functools.cache
def _node_fields(cls: type, into_subqueries: bool) -> tuple[str, ...]:
    """The fields of the node class `cls` that may hold nodes, in field order: all but those of a
    type in `_SCALAR_FIELD_TYPES`, and but a subquery holder's `query` when not `into_subqueries`.

        >>> _node_fields(Cmp, True), _node_fields(Exists, False)
        (('left', 'right'), ())
    """
    skip_query = not into_subqueries and issubclass(cls, _SUBQUERY_HOLDERS)
    return tuple(f.name for f in fields(cls)
                 if f.type not in _SCALAR_FIELD_TYPES and not (skip_query and f.name == "query"))


def _collect(value: Any, out: list) -> None:
    """Append the nodes inside one field's value to `out`, tuples flattened in order."""
    if isinstance(value, tuple):
        for v in value:
            if isinstance(v, NODE_TYPES):
                out.append(v)
            elif isinstance(v, tuple):
                _collect(v, out)
    elif isinstance(value, NODE_TYPES):
        out.append(value)


def children(node: Any, *, into_subqueries: bool = True) -> tuple:
    """The nodes directly inside `node` (a node or a tuple of nodes), in field order.

        >>> children(Arith("+", Col(0, "int"), Lit(1, "int"), "int"))
        (Col(index=0, kind='int', affinity=None), Lit(value=1, kind='int'))
    """
    out: list = []
    if isinstance(node, tuple):
        _collect(node, out)
    elif isinstance(node, NODE_TYPES):
        for name in _node_fields(type(node), into_subqueries):
            _collect(getattr(node, name), out)
    return tuple(out)


def walk(x: Any, *, into_subqueries: bool = True):
    """Every node in `x` (a node or a tuple of nodes), pre-order, `x` first.

        >>> [type(n).__name__ for n in walk(Not(IsNull(Col(0, "int"))))]
        ['Not', 'IsNull', 'Col']
    """
    stack = [x] if not isinstance(x, tuple) else list(reversed(children(x)))
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(children(n, into_subqueries=into_subqueries)))


def nodes(x: Any):
    """Every relation, expression, aggregate and sort key in `x` (a node or a tuple of them),
    subqueries included, `x` first (`walk`)."""
    return walk(x)


def _rebuilt(value: Any, fn, into_subqueries: bool) -> Any:
    if isinstance(value, tuple):
        items = tuple(_rebuilt(v, fn, into_subqueries) for v in value)
        return value if all(a is b for a, b in zip(items, value)) else items
    if is_node(value):
        return transform(value, fn, into_subqueries=into_subqueries)
    return value


def transform(x: Any, fn, *, into_subqueries: bool = True) -> Any:
    """`x` rebuilt bottom-up: each node's children first, then `fn(node)` (return the node itself
    to keep it). Unchanged parts stay the same objects, so `transform(x, f) is x` tells that
    nothing changed. With `into_subqueries=False`, relations held by expressions are left as
    they are (the scope of an expression's `Col`s ends there).

        >>> bump = lambda n: replace(n, index=n.index + 1) if isinstance(n, Col) else n
        >>> transform(Arith("+", Col(0, "int"), Col(2, "int"), "int"), bump)
        Arith(op='+', left=Col(index=1, kind='int', affinity=None), right=Col(index=3, kind='int', affinity=None), kind='int')
    """
    if isinstance(x, tuple):
        return _rebuilt(x, fn, into_subqueries)
    if not is_node(x):
        return x
    changes = {}
    for name in _node_fields(type(x), into_subqueries):
        old = getattr(x, name)
        new = _rebuilt(old, fn, into_subqueries)
        if new is not old:
            changes[name] = new
    return fn(replace(x, **changes) if changes else x)


def transform_rels(rel: Rel, fn) -> Rel:
    """`rel` rebuilt bottom-up through its inputs only: each relation's inputs first, then
    `fn(relation)`. Expressions, and the subqueries inside them, are left as they are: the same
    result as `transform(rel, f, into_subqueries=False)` for an `f` that changes only relations,
    without visiting every expression node.

        >>> t = Scan((OutCol("a", "int"),), "t")
        >>> top = transform_rels(Filter(t.columns, t, Lit(True, "bool")), lambda r: replace(r, table="u") if isinstance(r, Scan) else r)
        >>> top.input.table
        'u'
    """
    changes = {}
    for name in _node_fields(type(rel), False):
        old = getattr(rel, name)
        if isinstance(old, Rel):
            new = transform_rels(old, fn)
            if new is not old:
                changes[name] = new
    return fn(replace(rel, **changes) if changes else rel)


def kept(node: Any, name: str, compute: Callable[[Any], Any]) -> Any:
    """`compute(node)`, computed once per node and kept with it under `name`: nodes are
    immutable, and what is kept is no field, so it takes no part in `==`, `repr` or `replace`
    (a changed copy computes its own). For facts that follow from a node's tree alone.

        >>> lit = Lit(1, "int")
        >>> kept(lit, "_demo", lambda n: [n.value]) is kept(lit, "_demo", lambda n: [n.value + 1])
        True
    """
    value = node.__dict__.get(name)
    if value is None:
        value = node.__dict__[name] = compute(node)
    return value


def key(x: Any) -> tuple:
    """A structural key: equal exactly when the two plans or expressions are the same tree
    (relations compare by identity otherwise), and totally ordered, so it also sorts. `1`,
    `1.0` and `True` differ, as they do for the engine. A node's key is `kept` with it.

        >>> key(Lit(1, "int")) == key(Lit(1, "int")), key(Lit(1, "int")) == key(Lit(1.0, "int"))
        (True, False)
    """
    if isinstance(x, tuple):
        return ("tuple",) + tuple(key(v) for v in x)
    if isinstance(x, NODE_TYPES):
        return kept(x, "_structural_key", _node_key)
    if isinstance(x, str):  # a str-valued enum member is its text
        return ("str", repr(str(x)))
    return (type(x).__name__, repr(x))


def _node_key(node: Any) -> tuple:
    return (type(node).__name__,) + tuple(key(getattr(node, name)) for name in node.__dataclass_fields__)


def same(a: Any, b: Any) -> bool:
    """`a` and `b` are the same tree (`key`)."""
    return a is b or key(a) == key(b)


def with_new_top(rel: Rel, below: Rel) -> Rel:
    """`rel` with new nodes (new identities: an encoder gives them terms of their own, e.g. a
    sort's own tie order) from its root down to `below`, which is kept, node for node."""
    if rel is below:
        return rel
    inputs = [name for name in ("input", "left", "right") if hasattr(rel, name)]
    if inputs != ["input"]:
        raise ValueError("with_new_top: `below` must lie under a chain of one-input nodes")
    return replace(rel, input=with_new_top(rel.input, below))  # type: ignore[call-arg]


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
