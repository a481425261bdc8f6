"""Proofs for databases of every size by row-wise reasoning (no bound k).

Many equivalent pairs differ only inside a select-project-join block: `WHERE NOT (a = 7 AND
a = 8)` against no WHERE at all, a projection with a constant folded in, a join written in
another order. Such a block reads the cross product of its tables and, per tuple of that
product, decides whether the tuple passes and what it outputs. If for one *symbolic* tuple both
blocks pass together and output the same row, they return the same bag on every database,
whatever its size. Operators stacked identically on top of two bag-equal inputs (projection,
filter, DISTINCT, grouping with identical keys and aggregates) keep the results bag-equal.

This is a sufficient check, tried before the bounded search; when it does not apply or does not
succeed, the bounded search decides.

Only single-row facts of the schema are used (NOT NULL and primary-key columns are not NULL);
keys and foreign keys relate several rows and are left to the bounded search.

Example: `SELECT a FROM t WHERE NOT (a = 7 AND a = 8)` and `SELECT a FROM t` are equivalent for
every database when `a` is NOT NULL (the condition is then always true); when `a` may be NULL the
condition is NULL for such a row, the row is dropped, and the check (correctly) fails.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, fields, is_dataclass, replace

import z3

from verify import ir
from verify.encode import Encoder, constant
from verify.schema import Affinity, Column, Schema
from verify.values import TRUE, check_with_deadline, fresh, is_true, null_of, same_row

MAX_PERMUTATIONS = 24


@dataclass
class SPJ:
    """A select-project-join block: the tuples of `tables`' cross product that satisfy `cond`,
    each producing the row `exprs` (all over the concatenated columns of `tables`)."""

    tables: list[ir.Scan]
    cond: ir.Expr
    exprs: list[ir.Expr]
    not_null: frozenset[int] = frozenset()  # positions of columns known never to be NULL


def prove_for_every_size(r1: ir.Rel, r2: ir.Rel, schema: Schema, dialect: str, timeout: float) -> tuple[bool, list[str]]:
    """True when r1 and r2 return the same bag on every database (and the assumptions used)."""
    pairs = _differing_blocks(_keys_by_dependency(r1, schema), _keys_by_dependency(r2, schema))
    if pairs is None:
        return False, []
    notes: list[str] = []
    for a, b in pairs:
        ok, used = _unions_equivalent(a, b, schema, dialect, timeout)
        if not ok:
            return False, []
        notes += [n for n in used if n not in notes]
    return True, notes


def _unions_equivalent(a: list[SPJ], b: list[SPJ], schema: Schema, dialect: str,
                       timeout: float) -> tuple[bool, list[str]]:
    """Two bag unions of blocks are equal on every database if, once the blocks no row can pass
    are dropped, the blocks pair off one to one into equivalent blocks."""
    if len(a) == len(b) == 1:
        return _spj_equivalent(a[0], b[0], schema, dialect, timeout)
    a = [x for x in a if not _never_passes(x, schema, dialect, timeout)]
    b = [x for x in b if not _never_passes(x, schema, dialect, timeout)]
    if len(a) != len(b):
        return False, []
    notes: list[str] = []
    memo: dict[tuple[int, int], bool] = {}

    def match(i: int, free: list[int]) -> bool:  # pair a[i:] with the blocks of b in `free`
        if i == len(a):
            return True
        for j in free:
            if (i, j) not in memo:
                ok, used = _spj_equivalent(a[i], b[j], schema, dialect, timeout)
                memo[(i, j)] = ok
                notes.extend(n for n in used if n not in notes)
            if memo[(i, j)] and match(i + 1, [f for f in free if f != j]):
                return True
        return False

    return (True, notes) if match(0, list(range(len(b)))) else (False, [])


def _never_passes(block: SPJ, schema: Schema, dialect: str, timeout: float) -> bool:
    """No tuple of any database satisfies the block's condition (e.g. `a = 7 AND a = 8`)."""
    enc = Encoder(schema, 0, dialect, tables=set())
    rows = [[fresh(enc.fresh_name(f"{t.table}.{c.name}"), _kind(c.kind)) for c in t.columns] for t in block.tables]
    passes = is_true(enc.expr(block.cond, [v for r in rows for v in r], ()))
    s = z3.Solver()
    s.add(*enc.side, *enc.assumptions, passes)
    s.add(*[_num_flag(v) for t, r in zip(block.tables, rows) if t.table != DERIVED for v in r])
    s.add(*[z3.Not(v.null) for t, r in zip(block.tables, rows) for c, v in zip(_schema_cols(schema, t), r)
            if c.not_null])
    return check_with_deadline(s, timeout) == z3.unsat


# ----------------------------------------------------------------------------- structure
DERIVED = "<derived>"  # the source of a row-local operator: the rows of its (bag-equal) input


def _differing_blocks(r1: ir.Rel, r2: ir.Rel) -> list[tuple[list[SPJ], list[SPJ]]] | None:
    """Walk both trees while their operators are identical; return the pairs of bag unions of
    SPJ blocks where they differ, or None when a difference lies somewhere row-wise reasoning
    cannot reach."""
    if len(r1.columns) != len(r2.columns):
        return None
    if repr(r1) == repr(r2) and _deterministic(r1):
        return []
    r1, r2 = _merged(r1), _merged(r2)
    if always_empty(r1) and always_empty(r2):
        return []
    a, b = blocks(r1), blocks(r2)
    if a is not None and b is not None:
        return [(a, b)]
    if type(r1) is not type(r2):
        return None
    if isinstance(r1, ir.Distinct):
        return _differing_blocks(r1.input, r2.input)
    if isinstance(r1, ir.SetOp) and (r1.op, r1.all) == (r2.op, r2.all) \
            and [c.kind for c in r1.columns] == [c.kind for c in r2.columns]:
        left, right = _differing_blocks(r1.left, r2.left), _differing_blocks(r1.right, r2.right)
        return None if left is None or right is None else left + right
    if isinstance(r1, ir.Project):
        r2 = _align_group_keys(r1, r2)
    if isinstance(r1, (ir.Project, ir.Filter)):
        e1 = r1.exprs if isinstance(r1, ir.Project) else (r1.cond,)
        e2 = r2.exprs if isinstance(r2, ir.Project) else (r2.cond,)
        if not (_plain(e1) and _plain(e2)):
            return None
        inner = _differing_blocks(r1.input, r2.input)
        if inner is None or e1 == e2:
            return inner
        # the same row-local operator in two forms over bag-equal inputs: compare it on one
        # symbolic row of the input
        if [c.kind for c in r1.input.columns] != [c.kind for c in r2.input.columns]:
            return None
        src = ir.Scan(r1.input.columns, DERIVED)
        ids = [ir.Col(i, c.kind, c.affinity) for i, c in enumerate(r1.input.columns)]
        facts = _never_null(r1.input) | _never_null(r2.input)  # the two inputs hold the same rows
        if isinstance(r1, ir.Project):
            return inner + [([SPJ([src], ir.Lit(True, "bool"), list(e1), facts)],
                             [SPJ([src], ir.Lit(True, "bool"), list(e2), facts)])]
        return inner + [([SPJ([src], e1[0], ids, facts)], [SPJ([src], e2[0], ids, facts)])]
    if isinstance(r1, ir.Join) and r1.kind == r2.kind and r1.kind in ("inner", "cross", "left", "full") \
            and _plain(tuple(c for c in (r1.cond, r2.cond) if c is not None)):
        # the same join of bag-equal inputs, on conditions true for the same pairs of rows
        left, right = _differing_blocks(r1.left, r2.left), _differing_blocks(r1.right, r2.right)
        if left is None or right is None:
            return None
        if r1.cond == r2.cond:
            return left + right
        src = ir.Scan(r1.columns, DERIVED)
        ids = [ir.Col(i, c.kind, c.affinity) for i, c in enumerate(r1.columns)]
        c1, c2 = (c if c is not None else ir.Lit(True, "bool") for c in (r1.cond, r2.cond))
        return left + right + [([SPJ([src], c1, ids)], [SPJ([src], c2, ids)])]
    if isinstance(r1, ir.Aggregate):
        same_shape = (r1.keys == r2.keys and r1.items == r2.items and r1.grouped == r2.grouped
                      and not any(isinstance(i, ir.Bare) for i in r1.items))
        if same_shape and _plain(r1.keys) and _plain(tuple(i.arg for i in r1.items if i.arg is not None)):
            inner = _differing_blocks(r1.input, r2.input)
            if inner is not None:
                return inner
        p1, p2 = _preprojected(r1), _preprojected(r2)  # the same aggregates of other inputs?
        if p1 is not None and p2 is not None and (p1.keys, p1.items, p1.grouped) == (p2.keys, p2.items, p2.grouped):
            return _differing_blocks(p1.input, p2.input)
    return None


def _never_null(rel: ir.Rel) -> frozenset[int]:
    """Columns of `rel` that are never NULL, as far as its top operator shows: counts."""
    if isinstance(rel, ir.Aggregate):
        n = len(rel.keys)
        return frozenset(n + m for m, it in enumerate(rel.items)
                         if isinstance(it, ir.Agg) and it.func in ("count", "count_star"))
    return frozenset()


def _flatten(outer: ir.Aggregate) -> ir.Rel | None:
    """An aggregate over partial aggregates (one, or the branches of a UNION ALL), as one
    aggregate over the partials' inputs, when the outer one only coarsens the inner groups and
    combines partial results exactly:

        SELECT d, SUM(c) FROM (SELECT d, s, COUNT(*) AS c FROM t GROUP BY d, s) GROUP BY d
            = SELECT d, COUNT(*) FROM t GROUP BY d
        SELECT d, COUNT(s) FROM (SELECT d, s FROM t GROUP BY d, s) GROUP BY d
            = SELECT d, COUNT(DISTINCT s) FROM t GROUP BY d
        SELECT d, SUM(c) FROM (SELECT d, COUNT(x) AS c FROM t GROUP BY d UNION ALL
                               SELECT d, COUNT(x) FROM u GROUP BY d) GROUP BY d
            = SELECT d, COUNT(x) FROM (SELECT d, x FROM t UNION ALL SELECT d, x FROM u) GROUP BY d

    SUM of partial SUMs is the SUM, MIN of MINs the MIN, MAX of MAXs the MAX, AND/OR of partial
    AND/ORs the AND/OR, SUM of partial COUNTs the COUNT (without GROUP BY: NULL instead of 0 on
    no row, so the result is then a projection of the aggregate); an inner key aggregated once
    per inner group is DISTINCT key when the inner keys are the outer keys and it. The result
    reads a UNION ALL of the partials' inputs projected to the keys and arguments (`_preprojected`
    layout). None when the shape is not this one."""
    branches = _partials(outer.input)
    if not branches:
        return None

    def role(b: int, e: ir.Expr) -> tuple[str, object] | None:  # ('key', expr) or ('item', Agg)
        agg, renames = branches[b]
        if not isinstance(e, ir.Col):
            return None
        i = renames[e.index].index if renames is not None else e.index
        nk = len(agg.keys)
        return ("key", agg.keys[i]) if i < nk else ("item", agg.items[i - nk])

    n = len(branches)
    key_exprs: list[list[ir.Expr]] = []  # per outer key: its expression in each branch
    for k in outer.keys:
        roles = [role(b, k) for b in range(n)]
        if any(r is None or r[0] != "key" for r in roles):
            return None
        key_exprs.append([r[1] for r in roles])
    items: list[tuple[str, bool, list[ir.Expr | None], list[ir.Expr | None], str]] = []
    nullif_zero: list[int] = []  # outer item positions that are NULL instead of 0 on no row
    for m, it in enumerate(outer.items):
        if not isinstance(it, ir.Agg) or it.filter is not None or it.arg is None:
            return None
        roles = [role(b, it.arg) for b in range(n)]
        if any(r is None for r in roles) or len({r[0] for r in roles}) != 1:
            return None
        if roles[0][0] == "item":
            parts = [r[1] for r in roles]
            funcs = {p.func for p in parts}
            if len(funcs) != 1 or any(p.distinct for p in parts) or it.distinct:
                return None
            func = funcs.pop()
            if it.func == "sum" and func in ("count", "count_star"):
                if not outer.grouped:
                    nullif_zero.append(m)
            elif (it.func, func) not in (("sum", "sum"), ("min", "min"), ("max", "max"),
                                         ("bool_and", "bool_and"), ("bool_or", "bool_or")):
                return None
            items.append((func, False, [p.arg for p in parts], [p.filter for p in parts], it.kind))
        else:
            ks = [r[1] for r in roles]
            once_per_value = n == 1 and {repr(x) for x in branches[0][0].keys} == \
                {repr(ke[0]) for ke in key_exprs} | {repr(ks[0])}
            if it.func in ("min", "max"):
                items.append((it.func, False, ks, [None] * n, it.kind))
            elif it.func in ("count", "sum") and (it.distinct or once_per_value):
                items.append((it.func, True, ks, [None] * n, it.kind))
            else:
                return None
    agg = _over_union([a.input for a, _ in branches], key_exprs, items, outer)
    if agg is None or not nullif_zero:
        return agg
    nk = len(outer.keys)
    exprs = []
    for i, c in enumerate(outer.columns):
        col = ir.Col(i, c.kind, c.affinity)
        if i - nk in nullif_zero:  # a sum of no partial count is NULL
            col = ir.Case(((ir.Cmp("=", col, ir.Lit(0, "int"), "num"), ir.Lit(None, "int")),), col, c.kind)
        exprs.append(col)
    return ir.Project(outer.columns, agg, tuple(exprs))


def _partials(rel: ir.Rel) -> list[tuple[ir.Aggregate, tuple[ir.Expr, ...] | None]] | None:
    """The grouped aggregates under an outer aggregate: one, or each branch of a UNION ALL,
    with the column-renaming projection above it, if any."""
    if isinstance(rel, ir.SetOp) and rel.op == "union" and rel.all:
        if [c.kind for c in rel.left.columns] != [c.kind for c in rel.right.columns]:
            return None
        left, right = _partials(rel.left), _partials(rel.right)
        return None if left is None or right is None else left + right
    renames = None
    if isinstance(rel, ir.Project):
        if not all(isinstance(e, ir.Col) for e in rel.exprs):
            return None
        renames, rel = rel.exprs, rel.input
    if isinstance(rel, ir.Aggregate) and rel.grouped and not any(isinstance(i, ir.Bare) for i in rel.items) \
            and _plain(rel.keys) and _plain(tuple(i.arg for i in rel.items if i.arg is not None)):
        return [(rel, renames)]
    return None


def _over_union(inputs: list[ir.Rel], key_exprs, items, outer: ir.Aggregate) -> ir.Aggregate | None:
    """The aggregate `outer` reads as keys and `items` (func, distinct, argument per input,
    filter per input, kind) over the UNION ALL of `inputs`, each projected to its keys,
    arguments and filters."""
    layouts: list[list[ir.Expr]] = [[] for _ in inputs]
    for per_input in key_exprs:
        for b, e in enumerate(per_input):
            layouts[b].append(e)
    new_items = []
    for func, distinct, args, filters, kind in items:
        arg = filt = None
        if args[0] is not None:
            if isinstance(args[0], ir.Func) and args[0].name == "tuple":
                return None
            arg = len(layouts[0])
            for b, a in enumerate(args):
                layouts[b].append(a)
        if any(f is not None for f in filters):
            filt = len(layouts[0])
            for b, f in enumerate(filters):
                layouts[b].append(f if f is not None else ir.Lit(True, "bool"))
        new_items.append((func, distinct, arg, filt, kind))
    kinds = [e.kind for e in layouts[0]]
    if any([e.kind for e in lay] != kinds for lay in layouts):
        return None  # a UNION that unifies kinds converts values
    cols = tuple(ir.OutCol(f"_c{i}", k) for i, k in enumerate(kinds))
    projected = [ir.Project(cols, rel, tuple(lay)) for rel, lay in zip(inputs, layouts)]
    src = projected[0]
    for nxt in projected[1:]:
        src = ir.SetOp(cols, "union", True, src, nxt)
    keys = tuple(ir.Col(i, kinds[i]) for i in range(len(key_exprs)))
    aggs = tuple(ir.Agg(func, None if a is None else ir.Col(a, kinds[a]), distinct, kind,
                        None if f is None else ir.Col(f, "bool"))
                 for func, distinct, a, f, kind in new_items)
    return ir.Aggregate(outer.columns, src, keys, aggs, outer.bare_from, outer.grouped)


def _keys_by_dependency(rel: ir.Rel, schema: Schema) -> ir.Rel:
    """Every aggregate of `rel` whose GROUP BY includes a table's whole primary key, with the
    other columns of that table taken out of the keys and out of bare columns: they hold one
    value per group, which MIN reads (`GROUP BY t.id, t.name` and `GROUP BY t.id` with a bare
    `t.name` both become `GROUP BY t.id` with `MIN(t.name)`)."""
    changes = {f.name: _keys_by_dependency(getattr(rel, f.name), schema) for f in fields(rel)
               if isinstance(getattr(rel, f.name), ir.Rel)}
    rel = replace(rel, **changes) if changes else rel
    if not isinstance(rel, ir.Aggregate) or not rel.grouped:
        return rel
    origin = _origins(rel.input, schema)
    if origin is None:
        return rel
    known = {origin[k.index] for k in rel.keys if isinstance(k, ir.Col) and origin[k.index] is not None}
    keyed = {inst for inst, table, _ in known
             if schema.table(table).primary_key and all((inst, table, c.lower()) in known
                                                        for c in schema.table(table).primary_key)}

    def dependent(e) -> bool:  # a column of a table whose key is grouped, not part of that key
        if not isinstance(e, ir.Col) or origin[e.index] is None:
            return False
        inst, table, col = origin[e.index]
        return inst in keyed and col not in {c.lower() for c in schema.table(table).primary_key}

    if keyed and len(blocks(rel.input)[0].tables) == 1:  # one table, grouped by its key: every group is one row
        per_row = _per_row(rel)
        if per_row is not None:
            return per_row
    items = tuple(ir.Agg("min", it.arg, False, it.kind) if isinstance(it, ir.Bare) and dependent(it.arg) else it
                  for it in rel.items)
    drop = [n for n, k in enumerate(rel.keys) if dependent(k)]
    if not drop and items == rel.items:
        return rel
    keys = tuple(k for n, k in enumerate(rel.keys) if n not in drop)
    extra = tuple(ir.Agg("min", rel.keys[n], False, rel.keys[n].kind) for n in drop)
    nk, ni = len(rel.keys), len(rel.items)
    where = [keys.index(k) if n not in drop else len(keys) + ni + drop.index(n) for n, k in enumerate(rel.keys)]
    where += [len(keys) + m for m in range(ni)]
    cols = tuple(rel.columns[n] for n in range(nk) if n not in drop) + tuple(rel.columns[nk:]) + \
        tuple(rel.columns[n] for n in drop)
    agg = replace(rel, columns=cols, keys=keys, items=items + extra)
    if not drop:
        return agg
    return ir.Project(rel.columns, agg, tuple(ir.Col(w, c.kind, c.affinity) for w, c in zip(where, rel.columns)))


def _per_row(agg: ir.Aggregate) -> ir.Rel | None:
    """`agg` when each of its groups is one row: a projection of its input (COUNT(*) is 1,
    COUNT(x) is 1 or 0, SUM/MIN/MAX(x) and a bare x are x)."""
    exprs = list(agg.keys)
    for it in agg.items:
        if isinstance(it, ir.Bare) or (isinstance(it, ir.Agg) and it.func in ("sum", "min", "max")
                                       and it.filter is None and it.kind == it.arg.kind):
            exprs.append(it.arg)
        elif isinstance(it, ir.Agg) and it.func == "count_star" and it.filter is None:
            exprs.append(ir.Lit(1, "int"))
        elif isinstance(it, ir.Agg) and it.func == "count" and it.filter is None and not (
                isinstance(it.arg, ir.Func) and it.arg.name == "tuple"):
            exprs.append(ir.Case(((ir.IsNull(it.arg), ir.Lit(0, "int")),), ir.Lit(1, "int"), "int"))
        else:
            return None
    return ir.Project(agg.columns, agg.input, tuple(exprs))


def _origins(rel: ir.Rel, schema: Schema) -> list[tuple[int, str, str] | None] | None:
    """For each column of `rel` (one SPJ block), the (table position in the block, table,
    column) it passes through unchanged, or None for a computed column."""
    bs = blocks(rel)
    if bs is None or len(bs) != 1:
        return None
    b = bs[0]
    place = []
    for inst, t in enumerate(b.tables):
        if t.table == DERIVED:
            return None
        place += [(inst, t.table, c.name.lower()) for c in t.columns]
    return [place[e.index] if isinstance(e, ir.Col) else None for e in b.exprs]


def _unwrapped(rel: ir.Rel) -> ir.Rel:
    """`rel` without projections that pass every column through unchanged (`SELECT *`)."""
    while isinstance(rel, ir.Project) and len(rel.exprs) == len(rel.input.columns) and all(
            isinstance(e, ir.Col) and e.index == i and e.kind == c.kind
            for i, (e, c) in enumerate(zip(rel.exprs, rel.input.columns))):
        rel = rel.input
    return rel


def _swapped(j: ir.Join) -> ir.Rel:
    """`A RIGHT JOIN B ON c` as `B LEFT JOIN A ON c`, projected back to A's columns then B's."""
    na, nb = len(j.left.columns), len(j.right.columns)
    cols = tuple(j.right.columns) + tuple(j.left.columns)
    moved = lambda c: replace(c, index=c.index + nb if c.index < na else c.index - na)  # noqa: E731
    cond = None if j.cond is None else _rewrite(j.cond, moved)
    left = ir.Join(cols, "left", j.right, j.left, cond)
    back = tuple(ir.Col(nb + i, c.kind, c.affinity) for i, c in enumerate(j.left.columns)) + \
        tuple(ir.Col(i, c.kind, c.affinity) for i, c in enumerate(j.right.columns))
    return ir.Project(j.columns, left, back)


def _filter_outer_join(cond: ir.Expr, j: ir.Join) -> ir.Rel:
    """Filter `cond` over the outer join `j` (left or full)."""
    na = len(j.left.columns)
    width = len(j.columns)
    # rows padded on the right (a left row with no match) / on the left (FULL: a right row with none)
    drops_right_padded = _rejects_nulls(cond, j.columns, range(na, width))
    drops_left_padded = j.kind == "left" or _rejects_nulls(cond, j.columns, range(na))
    kind = {(True, True): "inner", (False, True): "left", (True, False): "right",
            (False, False): "full"}[(drops_right_padded, drops_left_padded)]
    if kind == "right":
        return _merged(ir.Filter(j.columns, _swapped(replace(j, kind="right")), cond))
    if kind != j.kind:
        return ir.Filter(j.columns, replace(j, kind=kind), cond)
    if kind == "left" and _reads_only(cond, range(na)):  # a filter of the preserved side goes first
        pushed = ir.Filter(j.left.columns, j.left, cond)
        return replace(j, left=pushed)
    return ir.Filter(j.columns, j, cond)


def _rejects_nulls(cond: ir.Expr, columns, padded) -> bool:
    """`cond` is never true on a row whose `padded` columns are all NULL (whatever the rest)."""
    enc = Encoder(Schema(tables=[]), 0)
    padded = set(padded)
    row = [null_of(c.kind) if i in padded else fresh(enc.fresh_name(f"c{i}"), _kind(c.kind))
           for i, c in enumerate(columns)]
    try:
        s = z3.Solver()
        s.add(*enc.side, is_true(enc.expr(cond, row, ())))
        return check_with_deadline(s, 1.0) == z3.unsat
    except Exception:  # noqa: BLE001 - an expression this check cannot encode: no rewrite
        return False


def _reads_only(cond: ir.Expr, allowed) -> bool:
    allowed = set(allowed)
    seen: list[int] = []
    _rewrite(cond, lambda c: seen.append(c.index) or c)
    return all(i in allowed for i in seen)


def _preprojected(agg: ir.Aggregate) -> ir.Aggregate | None:
    """`agg` reading a projection of its input to its keys, arguments and filters (the layout
    `_flatten` produces), so that aggregates written over different inputs compare by shape."""
    if any(isinstance(i, ir.Bare) for i in agg.items):
        return None
    items = [(i.func, i.distinct, [i.arg], [i.filter], i.kind) for i in agg.items]
    return _over_union([agg.input], [[k] for k in agg.keys], items, agg)


def _merged(rel: ir.Rel) -> ir.Rel:
    """`rel` rewritten into a form the comparison reaches more often (each step keeps the result
    the same on every database):

    - a projection of a projection is one projection;
    - an aggregate of partial aggregates is flattened (`_flatten`);
    - `A RIGHT JOIN B` is `B LEFT JOIN A` with its columns put back in order;
    - a filter moves below a projection, below an outer join when it reads only the preserved
      side, and turns an outer join into an inner one when it rejects the NULLs the join pads
      with (`WHERE b.x = 1` over `a LEFT JOIN b`)."""
    if isinstance(rel, ir.Aggregate):
        return _flatten(rel) or rel
    if isinstance(rel, ir.Join) and rel.kind == "right":
        return _swapped(rel)
    if isinstance(rel, ir.Join) and rel.kind == "left":
        right = _unwrapped(rel.right)
        if isinstance(right, ir.Filter) and _plain((right.cond,)):  # a right row it drops matches nothing
            cond = shift(right.cond, len(rel.left.columns))
            both = cond if rel.cond is None else ir.BoolOp("and", (rel.cond, cond))
            return _merged(replace(rel, right=right.input, cond=both))
    if isinstance(rel, ir.Filter) and _plain((rel.cond,)):
        inner = _merged(rel.input)
        if isinstance(inner, ir.Project) and _plain(inner.exprs):
            below = _merged(ir.Filter(inner.input.columns, inner.input, substitute(rel.cond, list(inner.exprs))))
            return ir.Project(inner.columns, below, inner.exprs)
        if isinstance(inner, ir.Join) and inner.kind in ("left", "full"):
            return _filter_outer_join(rel.cond, inner)
        return ir.Filter(rel.columns, inner, rel.cond) if inner is not rel.input else rel
    if isinstance(rel, ir.Project) and _plain(rel.exprs):
        inner = _merged(rel.input)
        if isinstance(inner, ir.Project) and _plain(inner.exprs):
            return ir.Project(rel.columns, inner.input, tuple(substitute(e, list(inner.exprs)) for e in rel.exprs))
        if inner is not rel.input:
            return ir.Project(rel.columns, inner, rel.exprs)
    return rel


def _align_group_keys(r1: ir.Project, r2: ir.Project) -> ir.Project:
    """`GROUP BY a, b` and `GROUP BY b, a` form the same groups: when two projections read
    aggregates whose keys are the same up to order, rewrite the second to list its keys in the
    first's order (and its projection to match), so that the two can be compared."""
    a1, a2 = r1.input, r2.input
    if not (isinstance(a1, ir.Aggregate) and isinstance(a2, ir.Aggregate)) or a1.keys == a2.keys:
        return r2
    if not _plain(r2.exprs):  # column references inside a subquery belong to other scopes
        return r2
    if len(a1.keys) != len(a2.keys) or sorted(map(repr, a1.keys)) != sorted(map(repr, a2.keys)):
        return r2
    if len(set(map(repr, a1.keys))) != len(a1.keys):
        return r2
    position = {repr(k): i for i, k in enumerate(a1.keys)}
    moved = {j: position[repr(k)] for j, k in enumerate(a2.keys)}  # old output column → new
    n = len(a2.keys)
    cols = tuple(a1.columns[:n]) + tuple(a2.columns[n:])
    agg = replace(a2, columns=cols, keys=a1.keys)
    exprs = tuple(_rewrite(e, lambda c: replace(c, index=moved.get(c.index, c.index))) for e in r2.exprs)
    return replace(r2, input=agg, exprs=exprs)


def always_empty(rel: ir.Rel) -> bool:
    """`rel` returns no row on any database: a LIMIT 0, a WHERE that is constantly false or
    NULL, or an operator that is empty whenever its input is.

        >>> t = ir.Scan((ir.OutCol("a", "int"),), "t")
        >>> always_empty(ir.Filter(t.columns, t, ir.Cmp("=", ir.Lit(1, "int"), ir.Lit(0, "int"), "num")))
        True
        >>> always_empty(ir.Aggregate(t.columns, ir.Sort(t.columns, t, (), 0), (), (), grouped=False))
        False
    """
    if isinstance(rel, ir.Values):
        return not rel.rows
    if isinstance(rel, ir.Filter):
        return always_empty(rel.input) or (constant(rel.cond) and _never_true(rel.cond))
    if isinstance(rel, ir.Sort):
        return rel.limit == 0 or always_empty(rel.input)
    if isinstance(rel, (ir.Project, ir.Distinct, ir.Window)):
        return always_empty(rel.input)
    if isinstance(rel, ir.Aggregate):
        return rel.grouped and always_empty(rel.input)
    if isinstance(rel, ir.Join):
        left, right = always_empty(rel.left), always_empty(rel.right)
        return {"left": left, "lateral_left": left, "right": right, "full": left and right}.get(rel.kind, left or right)
    if isinstance(rel, ir.SetOp):
        left, right = always_empty(rel.left), always_empty(rel.right)
        return {"union": left and right, "intersect": left or right}.get(rel.op, left)
    return False


def _never_true(cond: ir.Expr) -> bool:
    enc = Encoder(Schema(tables=[]), 0)
    return z3.is_false(z3.simplify(is_true(enc.expr(cond, [], ()))))


def spj(rel: ir.Rel) -> SPJ | None:
    """The SPJ form of `rel`, or None if it is not a single select-project-join block."""
    bs = blocks(rel)
    return bs[0] if bs is not None and len(bs) == 1 else None


def blocks(rel: ir.Rel) -> list[SPJ] | None:
    """`rel` as a bag union of SPJ blocks (UNION ALL of blocks; filters, projections and inner
    joins distribute over UNION ALL), [] when it is always empty, None when it is neither.

        >>> t = ir.Scan((ir.OutCol("a", "int"),), "t")
        >>> len(blocks(ir.Project(t.columns, ir.SetOp(t.columns, "union", True, t, t), (ir.Col(0, "int"),))))
        2
    """
    if always_empty(rel):
        return []
    if isinstance(rel, ir.Scan):
        return [SPJ([rel], ir.Lit(True, "bool"), [ir.Col(i, c.kind, c.affinity) for i, c in enumerate(rel.columns)])]
    if isinstance(rel, ir.SetOp) and rel.op == "union" and rel.all:
        left, right = blocks(rel.left), blocks(rel.right)
        if left is None or right is None or [c.kind for c in rel.left.columns] != [c.kind for c in rel.right.columns]:
            return None  # a UNION that unifies kinds converts values
        return left + right
    if isinstance(rel, ir.Filter) and _plain((rel.cond,)):
        inner = blocks(rel.input)
        return None if inner is None else [
            SPJ(b.tables, ir.BoolOp("and", (b.cond, substitute(rel.cond, b.exprs))), b.exprs) for b in inner]
    if isinstance(rel, ir.Project) and _plain(rel.exprs):
        inner = blocks(rel.input)
        return None if inner is None else [
            SPJ(b.tables, b.cond, [substitute(e, b.exprs) for e in rel.exprs]) for b in inner]
    if isinstance(rel, ir.Join) and rel.kind in ("inner", "cross") and (rel.cond is None or _plain((rel.cond,))):
        lefts, rights = blocks(rel.left), blocks(rel.right)
        if lefts is None or rights is None:
            return None
        return [_join(left, right, rel.cond) for left in lefts for right in rights]
    return None


def _join(left: SPJ, right: SPJ, cond: ir.Expr | None) -> SPJ:
    width = sum(len(t.columns) for t in left.tables)
    rcond = shift(right.cond, width)
    rexprs = [shift(e, width) for e in right.exprs]
    exprs = left.exprs + rexprs
    conds = [left.cond, rcond]
    if cond is not None:
        conds.append(substitute(cond, exprs))
    return SPJ(left.tables + right.tables, ir.BoolOp("and", tuple(conds)), exprs)


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


def _plan_key(rel: ir.Rel) -> str:
    return re.sub(r"OutCol\(name=('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"), ", "OutCol(", repr(_canonical(rel)))


def _canonical(x):
    """`x` (a relation, an expression or a tuple of them) with commutative operands in one order."""
    if isinstance(x, tuple):
        return tuple(_canonical(e) for e in x)
    if not is_dataclass(x) or isinstance(x, type):
        return x
    changes = {f.name: _canonical(getattr(x, f.name)) for f in fields(x)
               if isinstance(getattr(x, f.name), (ir.Expr, ir.Rel, ir.Agg, tuple))}
    x = replace(x, **changes) if changes else x
    if isinstance(x, ir.Cmp):
        if x.op in (">", ">="):
            x = replace(x, op={">": "<", ">=": "<="}[x.op], left=x.right, right=x.left)
        elif x.op in ("=", "<>") and repr(x.right) < repr(x.left):
            x = replace(x, left=x.right, right=x.left)
    if isinstance(x, ir.BoolOp):
        x = replace(x, args=tuple(sorted(x.args, key=repr)))
    return x


def _deterministic(rel: ir.Rel) -> bool:
    """Identical trees return identical results unless a choice is left to the engine: the row a
    bare column or ANY_VALUE comes from, or which tied rows a LIMIT keeps."""
    text = repr(rel)
    return "Bare(" not in text and "Sort(" not in text and "'any_value'" not in text


def _plain(exprs) -> bool:
    """No subquery (which would read other rows) and no correlation."""
    return not any(_has_query(e) for e in exprs)


def _has_query(e) -> bool:
    if isinstance(e, (ir.InSubquery, ir.Exists, ir.ScalarSubquery, ir.Outer, ir.WinRef)):
        return True
    if isinstance(e, tuple):
        return any(_has_query(x) for x in e)
    if is_dataclass(e) and isinstance(e, ir.Expr):
        return any(_has_query(getattr(e, f.name)) for f in fields(e))
    return False


def _rewrite(e, fn):
    """Rebuild expression `e` bottom-up, replacing each column reference through `fn`."""
    if isinstance(e, ir.Col):
        return fn(e)
    if isinstance(e, tuple):
        return tuple(_rewrite(x, fn) for x in e)
    if is_dataclass(e) and isinstance(e, ir.Expr):
        changes = {f.name: _rewrite(getattr(e, f.name), fn) for f in fields(e)
                   if isinstance(getattr(e, f.name), (ir.Expr, tuple))}
        return replace(e, **changes) if changes else e
    return e


def substitute(e: ir.Expr, cols: list[ir.Expr]) -> ir.Expr:
    return _rewrite(e, lambda c: cols[c.index])


def shift(e: ir.Expr, by: int) -> ir.Expr:
    return _rewrite(e, lambda c: ir.Col(c.index + by, c.kind, c.affinity))


# ----------------------------------------------------------------------------- the proof
def _spj_equivalent(a: SPJ, b: SPJ, schema: Schema, dialect: str, timeout: float) -> tuple[bool, list[str]]:
    names_a = [t.table.lower() for t in a.tables]
    names_b = [t.table.lower() for t in b.tables]
    if sorted(names_a) != sorted(names_b) or len(a.exprs) != len(b.exprs):
        return False, []
    enc = Encoder(schema, 0, dialect, tables=set())
    rows = [[fresh(enc.fresh_name(f"{t.table}.{c.name}"), _kind(c.kind)) for c in t.columns] for t in a.tables]
    for perm in itertools.islice(_matchings(names_a, names_b), MAX_PERMUTATIONS):
        vals_a = [v for r in rows for v in r]
        vals_b = [v for i in perm for v in rows[i]]
        ca = is_true(enc.expr(a.cond, vals_a, ()))
        cb = is_true(enc.expr(b.cond, vals_b, ()))
        out_a = [enc.expr(e, vals_a, ()) for e in a.exprs]
        out_b = [enc.expr(e, vals_b, ()) for e in b.exprs]
        s = z3.Solver()
        # a NUMERIC cell of a table holds an INTEGER exactly when its value is integral; a
        # derived value need not (1.5 + 1.5 is the REAL 3.0)
        s.add(*enc.side, *enc.assumptions,
              *[_num_flag(v) for t, r in zip(a.tables, rows) if t.table != DERIVED for v in r])
        s.add(*[z3.Not(v.null) for t, r in zip(a.tables, rows) for c, v in zip(_schema_cols(schema, t), r)
                if c.not_null])
        s.add(*[z3.Not(vals_a[i].null) for i in a.not_null])
        s.add(z3.Or(ca != cb, z3.And(ca, z3.Not(same_row(out_a, out_b)))))
        if check_with_deadline(s, timeout) == z3.unsat:
            return True, list(enc.assumption_notes)
    return False, []


def _schema_cols(schema: Schema, scan: ir.Scan) -> list:
    """The schema's columns of a scanned table, NOT NULL set for primary-key columns too."""
    if scan.table == DERIVED:
        return [Column(name=c.name, affinity=Affinity.INTEGER) for c in scan.columns]  # no facts
    t = schema.table(scan.table)
    pk = {c.lower() for c in t.primary_key}
    return [c.model_copy(update={"not_null": c.not_null or c.name.lower() in pk}) for c in t.columns]


def _kind(kind: str) -> str:
    return "int" if kind == "null" else kind


def _num_flag(v) -> z3.BoolRef:
    return v.isint == z3.IsInt(v.v) if v.kind == "num" else TRUE


def _matchings(names_a: list[str], names_b: list[str]):
    """Maps from b's table positions to a's positions with the same table name."""
    for perm in itertools.permutations(range(len(names_a))):
        if all(names_a[perm[j]] == names_b[j] for j in range(len(names_b))):
            yield perm
