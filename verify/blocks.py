"""Select-project-join blocks: the unit of row-wise reasoning (`verify.rowwise`).

A block reads the cross product of its tables and, per tuple of that product, decides whether
the tuple passes (`cond`) and what row it outputs (`exprs`). `blocks` writes a relation as a bag
union of blocks when it is one (scans, filters, projections, inner joins, UNION ALL, constant
VALUES; on request a WHERE's EXISTS over such a union, as `ir.ExistsAt`), and the helpers here
rewrite IR expressions over a block's concatenated columns. Nothing here asks the solver
(`verify.implication` does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from verify import ir


@dataclass
class SPJ:
    """A select-project-join block: the tuples of `tables`' cross product that satisfy `cond`,
    each producing the row `exprs` (all over the concatenated columns of `tables`)."""

    tables: list[ir.Scan]
    cond: ir.Expr
    exprs: list[ir.Expr]
    not_null: frozenset[int] = frozenset()  # positions of columns known never to be NULL


# ----------------------------------------------------------------------------- structure
DERIVED = "<derived>"  # the source of a row-local operator: the rows of its (bag-equal) input


def derived_name(n: int) -> str:
    """The table name of the n-th pair of operators proved to hold the same rows
    (`verify.rowwise.operators_paired`): `DERIVED#n`."""
    return f"{DERIVED}#{n}"


def is_derived(table: str) -> bool:
    """Is `table` the name of rows an operator derives (`DERIVED`, or `derived_name(n)`), not a
    table of the schema?"""
    return table == DERIVED or table.startswith(DERIVED + "#")


def blocks(rel: ir.Rel, empty: Callable[[ir.Rel], bool], opaque: dict[int, ir.Rel] | None = None, *,
           exists: bool = False, params: bool = False) -> list[SPJ] | None:
    """`rel` as a bag union of SPJ blocks (UNION ALL of blocks; filters, projections and inner
    joins distribute over UNION ALL), [] when it is always empty (`empty`, e.g.
    `verify.implication.always_empty`, tells), None when it is neither.

    With an `opaque` dict, an operator that is not a block (an aggregate, a DISTINCT, an outer
    join...) is one table of its block, named `DERIVED`, whose rows are its rows, and `opaque`
    maps the `id` of that table's Scan to the operator: the result is then never None.

    With `exists`, a WHERE's `EXISTS (subquery)` whose subquery is a bag union of blocks reading
    the enclosing row only as parameters is an `ir.ExistsAt` of the block's columns in the
    block's condition (`exists_at`). With `params`, the columns of an enclosing row
    (`Outer(1, k)`) may be read, as parameters the blocks leave as they are.

        >>> t = ir.Scan((ir.OutCol("a", "int"),), "t")
        >>> union = ir.SetOp(t.columns, "union", True, t, t)
        >>> len(blocks(ir.Project(t.columns, union, (ir.Col(0, "int"),)), lambda rel: False))
        2
        >>> leaves = {}
        >>> [b.tables[0].table for b in blocks(ir.Distinct(t.columns, t), lambda rel: False, leaves)]
        ['<derived>']
        >>> [type(leaf).__name__ for leaf in leaves.values()]
        ['Distinct']
    """
    found = _blocks(rel, empty, opaque, exists, params)
    if found is None and opaque is not None:
        leaf = ir.Scan(rel.columns, DERIVED)
        opaque[id(leaf)] = rel
        return [SPJ([leaf], ir.Lit(True, "bool"), [ir.Col(i, c.kind, c.affinity) for i, c in enumerate(rel.columns)])]
    return found


def _blocks(rel: ir.Rel, empty: Callable[[ir.Rel], bool], opaque: dict[int, ir.Rel] | None,
            exists: bool, params: bool) -> list[SPJ] | None:
    def below(r: ir.Rel) -> list[SPJ] | None:
        return blocks(r, empty, opaque, exists=exists, params=params)
    if empty(rel):
        return []
    if isinstance(rel, ir.Scan):
        return [SPJ([rel], ir.Lit(True, "bool"), [ir.Col(i, c.kind, c.affinity) for i, c in enumerate(rel.columns)])]
    if isinstance(rel, ir.Values) and all(isinstance(e, ir.Lit) and e.kind == c.kind
                                          for row in rel.rows for e, c in zip(row, rel.columns)):
        return [SPJ([], ir.Lit(True, "bool"), list(row)) for row in rel.rows]  # one tuple each, no table
    if isinstance(rel, ir.SetOp) and rel.op == "union" and rel.all:
        left, right = below(rel.left), below(rel.right)
        if left is None or right is None or [c.kind for c in rel.left.columns] != [c.kind for c in rel.right.columns]:
            return None  # a UNION that unifies kinds converts values
        return left + right
    if isinstance(rel, ir.Filter) and (plain((rel.cond,), params=params) or exists and _only_exists(rel.cond)):
        inner = below(rel.input)
        if inner is None:
            return None
        out = []
        for b in inner:
            cond = exists_at(rel.cond, b.exprs, empty)
            if cond is None:
                return None
            out.append(SPJ(b.tables, ir.BoolOp("and", (b.cond, cond)), b.exprs))
        return out
    if isinstance(rel, ir.Project) and plain(rel.exprs, params=params):
        inner = below(rel.input)
        return None if inner is None else [
            SPJ(b.tables, b.cond, [substitute(e, b.exprs) for e in rel.exprs]) for b in inner]
    if isinstance(rel, ir.Join) and rel.kind in ("inner", "cross") \
            and (rel.cond is None or plain((rel.cond,), params=params)):
        lefts, rights = below(rel.left), below(rel.right)
        if lefts is None or rights is None:
            return None
        return [_join(left, right, rel.cond) for left in lefts for right in rights]
    return None


def _only_exists(cond: ir.Expr) -> bool:
    """The only nodes of `cond` reading other rows are EXISTS subqueries."""
    return all(isinstance(n, ir.Exists) for n in ir.walk(cond, into_subqueries=False)
               if isinstance(n, _READS_OTHER_ROWS))


def exists_at(cond: ir.Expr, cols: list[ir.Expr], empty: Callable[[ir.Rel], bool]) -> ir.Expr | None:
    """A filter's `cond` over a block whose output columns are `cols`: the columns read are
    those expressions, and each `EXISTS (subquery)` is an `ExistsAt` of the columns of the
    enclosing row its subquery reads; None where a subquery is not a bag union of blocks
    reading the enclosing row only as parameters (`blocks(params=True)`).

        >>> t = ir.Scan((ir.OutCol("a", "int"),), "t")
        >>> sub = ir.Filter(t.columns, t, ir.Cmp("=", ir.Col(0, "int"), ir.Outer(1, 1, "int"), "num"))
        >>> at = exists_at(ir.Exists(sub), [ir.Col(5, "int"), ir.Col(7, "int")], lambda rel: False)
        >>> at.args, at.query.cond.right
        ((Col(index=7, kind='int', affinity=None),), Outer(depth=1, index=0, kind='int', affinity=None))
    """
    failed = False

    def at(n: ir.Expr) -> ir.Expr:
        nonlocal failed
        if isinstance(n, ir.Col):
            return cols[n.index]
        if not isinstance(n, ir.Exists):
            return n
        outer = [x for x in ir.walk(n.query) if isinstance(x, ir.Outer)]
        if any(x.depth != 1 for x in outer) or blocks(n.query, empty, params=True) is None:
            failed = True
            return n
        read = sorted({x.index for x in outer})
        position = {i: k for k, i in enumerate(read)}
        query = ir.transform(n.query, lambda x: replace(x, index=position[x.index]) if isinstance(x, ir.Outer) else x)
        return ir.ExistsAt(tuple(cols[i] for i in read), query)
    out = ir.transform(cond, at, into_subqueries=False)
    return None if failed else out


def same_plan(r1: ir.Rel, r2: ir.Rel) -> bool:
    """The two queries compute the same plan once names are resolved: they differ only in
    aliases, qualification, output names, the order of `=`/`<>` operands, `a > b` written
    `b < a`, or the order of AND/OR operands. The engine then runs the same computation, so the
    results are the same on every database (ties under LIMIT included).

        >>> t = ir.Scan((ir.OutCol("a", "int"),), "t")
        >>> eq = lambda x, y: ir.Filter(t.columns, t, ir.Cmp("=", x, y, "num"))
        >>> a, one = ir.Col(0, "int"), ir.Lit(1, "int")
        >>> same_plan(eq(a, one), eq(one, a)), same_plan(eq(a, one), eq(a, ir.Lit(2, "int")))
        (True, False)
    """
    return _plan_key(r1) == _plan_key(r2)


def _plan_key(rel: ir.Rel) -> tuple:
    return ir.key(_canonical(rel))


def _canonical(x):
    """`x` (a relation, an expression or a tuple of them) without output names, and with
    commutative operands in one order."""
    return ir.transform(x, _canonical_node)


def _canonical_node(x):
    if isinstance(x, ir.OutCol):
        return replace(x, name="")
    if isinstance(x, ir.Cmp):
        if x.op in (">", ">="):
            return replace(x, op={">": "<", ">=": "<="}[x.op], left=x.right, right=x.left)
        if x.op in ("=", "<>") and ir.key(x.right) < ir.key(x.left):
            return replace(x, left=x.right, right=x.left)
    if isinstance(x, ir.BoolOp):
        return replace(x, args=tuple(sorted(x.args, key=ir.key)))
    return x


def deterministic(rel: ir.Rel) -> bool:
    """Identical trees return identical results unless a choice is left to the engine: the row a
    bare column or ANY_VALUE comes from, or which tied rows a LIMIT keeps."""
    return not ir.open_choices(rel) & {"bare", "sort", "any_value"}


def _join(left: SPJ, right: SPJ, cond: ir.Expr | None) -> SPJ:
    width = sum(len(t.columns) for t in left.tables)
    rcond = shift(right.cond, width)
    rexprs = [shift(e, width) for e in right.exprs]
    exprs = left.exprs + rexprs
    conds = [left.cond, rcond]
    if cond is not None:
        conds.append(substitute(cond, exprs))
    return SPJ(left.tables + right.tables, ir.BoolOp("and", tuple(conds)), exprs)


def one_row_always(rel: ir.Rel) -> bool:
    """`rel` has exactly one row on every database: an aggregate without GROUP BY, under
    projections."""
    while isinstance(rel, ir.Project):
        rel = rel.input
    return isinstance(rel, ir.Aggregate) and not rel.grouped


def plain(exprs, *, params: bool = False) -> bool:
    """No subquery (which would read other rows) and no correlation; with `params`, columns of
    the enclosing row (`Outer(1, k)`) may be read.

        >>> enclosing, further = ir.Outer(1, 0, "int"), ir.Outer(2, 0, "int")
        >>> plain([ir.Col(0, "int")]), plain([enclosing]), plain([enclosing], params=True), plain([further], params=True)
        (True, False, True, False)
    """
    allowed = _ENCLOSING_ROW if params else _NOTHING
    return all(_readers(n) <= allowed for n in ir.children(tuple(exprs)))


_READS_OTHER_ROWS = (ir.InSubquery, ir.Exists, ir.ExistsAt, ir.ScalarSubquery, ir.Outer, ir.WinRef)
_NOTHING: frozenset[str] = frozenset()
_ENCLOSING_ROW = frozenset({"enclosing row"})
_OTHER_ROWS = frozenset({"other rows"})


def _readers(node) -> frozenset[str]:
    """What `node` (subqueries left out) reads beyond its own row: "enclosing row" (a column of
    the enclosing row, `Outer(1, k)`) and/or "other rows" (a subquery, a correlation further
    out, a window's value); `ir.kept` with the node."""
    return ir.kept(node, "_reads_beyond_its_row", _readers_afresh)


def _readers_afresh(node) -> frozenset[str]:
    if isinstance(node, _READS_OTHER_ROWS):
        found = _ENCLOSING_ROW if isinstance(node, ir.Outer) and node.depth == 1 else _OTHER_ROWS
    else:
        found = _NOTHING
    for child in ir.children(node, into_subqueries=False):
        found = found | _readers(child)
    return found


def map_cols(e, fn):
    """Expression(s) `e` rebuilt bottom-up, each column reference replaced through `fn`
    (subqueries, whose columns are their own, are left as they are)."""
    return ir.transform(e, lambda n: fn(n) if isinstance(n, ir.Col) else n, into_subqueries=False)


def substitute(e: ir.Expr, cols: list[ir.Expr]) -> ir.Expr:
    return map_cols(e, lambda c: cols[c.index])


def shift(e: ir.Expr, by: int) -> ir.Expr:
    return map_cols(e, lambda c: ir.Col(c.index + by, c.kind, c.affinity))


# ----------------------------------------------------------------------------- rows read by joins
def row_exprs(rel: ir.Rel) -> tuple[ir.Expr, ...] | None:
    """What a filter (its condition) or a projection (its SELECT list) computes on each row of
    its input; None for any other operator. The rules that read a subquery there as a join
    rewrite these (`over_join`, `with_columns_of`)."""
    if isinstance(rel, ir.Filter):
        return (rel.cond,)
    if isinstance(rel, ir.Project):
        return rel.exprs
    return None


def over_join(rel: ir.Filter | ir.Project, join: ir.Join, exprs: tuple) -> ir.Filter | ir.Project:
    """The filter or projection `rel` reading `join` (its input's columns first, then the joined
    ones) instead of its input, with condition or SELECT list `exprs`."""
    if isinstance(rel, ir.Project):
        return replace(rel, input=join, exprs=exprs)
    return ir.Filter(join.columns, join, exprs[0])


def with_columns_of(rel: ir.Filter | ir.Project, rewritten: ir.Rel) -> ir.Rel:
    """`rewritten` (`rel` made to read a join, `over_join`) with `rel`'s columns: a filter's rows,
    which now carry the join's columns too, projected back to its input's."""
    if isinstance(rel, ir.Project):
        return rewritten
    return ir.Project(rel.columns, rewritten, tuple(ir.Col(i, c.kind, c.affinity)
                                                    for i, c in enumerate(rel.input.columns)))
