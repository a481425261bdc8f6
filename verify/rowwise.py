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
from dataclasses import dataclass, fields, is_dataclass, replace

import z3

from verify import ir
from verify.encode import Encoder, constant
from verify.schema import Affinity, Column, Schema
from verify.values import TRUE, check_with_deadline, fresh, is_true, same_row

MAX_PERMUTATIONS = 24


@dataclass
class SPJ:
    """A select-project-join block: the tuples of `tables`' cross product that satisfy `cond`,
    each producing the row `exprs` (all over the concatenated columns of `tables`)."""

    tables: list[ir.Scan]
    cond: ir.Expr
    exprs: list[ir.Expr]


def prove_for_every_size(r1: ir.Rel, r2: ir.Rel, schema: Schema, dialect: str, timeout: float) -> tuple[bool, list[str]]:
    """True when r1 and r2 return the same bag on every database (and the assumptions used)."""
    pairs = _differing_blocks(r1, r2)
    if pairs is None:
        return False, []
    notes: list[str] = []
    for a, b in pairs:
        ok, used = _spj_equivalent(a, b, schema, dialect, timeout)
        if not ok:
            return False, []
        notes += [n for n in used if n not in notes]
    return True, notes


# ----------------------------------------------------------------------------- structure
DERIVED = "<derived>"  # the source of a row-local operator: the rows of its (bag-equal) input


def _differing_blocks(r1: ir.Rel, r2: ir.Rel) -> list[tuple[SPJ, SPJ]] | None:
    """Walk both trees while their operators are identical; return the pairs of SPJ blocks where
    they differ, or None when a difference lies somewhere row-wise reasoning cannot reach."""
    if len(r1.columns) != len(r2.columns):
        return None
    if repr(r1) == repr(r2) and _deterministic(r1):
        return []
    if always_empty(r1) and always_empty(r2):
        return []
    a, b = spj(r1), spj(r2)
    if a is not None and b is not None:
        return [(a, b)]
    if type(r1) is not type(r2):
        return None
    if isinstance(r1, ir.Distinct):
        return _differing_blocks(r1.input, r2.input)
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
        if isinstance(r1, ir.Project):
            return inner + [(SPJ([src], ir.Lit(True, "bool"), list(e1)), SPJ([src], ir.Lit(True, "bool"), list(e2)))]
        return inner + [(SPJ([src], e1[0], ids), SPJ([src], e2[0], ids))]
    if isinstance(r1, ir.Aggregate):
        same_shape = (r1.keys == r2.keys and r1.items == r2.items and r1.grouped == r2.grouped
                      and not any(isinstance(i, ir.Bare) for i in r1.items))
        if same_shape and _plain(r1.keys) and _plain(tuple(i.arg for i in r1.items if i.arg is not None)):
            return _differing_blocks(r1.input, r2.input)
    return None


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
    """The SPJ form of `rel`, or None if it is not a select-project-join block."""
    if isinstance(rel, ir.Scan):
        return SPJ([rel], ir.Lit(True, "bool"), [ir.Col(i, c.kind, c.affinity) for i, c in enumerate(rel.columns)])
    if isinstance(rel, ir.Filter) and _plain((rel.cond,)):
        inner = spj(rel.input)
        if inner is None:
            return None
        return SPJ(inner.tables, ir.BoolOp("and", (inner.cond, substitute(rel.cond, inner.exprs))), inner.exprs)
    if isinstance(rel, ir.Project) and _plain(rel.exprs):
        inner = spj(rel.input)
        if inner is None:
            return None
        return SPJ(inner.tables, inner.cond, [substitute(e, inner.exprs) for e in rel.exprs])
    if isinstance(rel, ir.Join) and rel.kind in ("inner", "cross") and (rel.cond is None or _plain((rel.cond,))):
        left, right = spj(rel.left), spj(rel.right)
        if left is None or right is None:
            return None
        width = sum(len(t.columns) for t in left.tables)
        rcond = shift(right.cond, width)
        rexprs = [shift(e, width) for e in right.exprs]
        exprs = left.exprs + rexprs
        conds = [left.cond, rcond]
        if rel.cond is not None:
            conds.append(substitute(rel.cond, exprs))
        return SPJ(left.tables + right.tables, ir.BoolOp("and", tuple(conds)), exprs)
    return None


def _deterministic(rel: ir.Rel) -> bool:
    """Identical trees return identical results unless a choice is left to the engine: the row a
    bare column comes from, or which tied rows a LIMIT keeps."""
    text = repr(rel)
    return "Bare(" not in text and "Sort(" not in text


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
