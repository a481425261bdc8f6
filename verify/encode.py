"""Encode IR queries over a symbolic database with at most k rows per table (Z3).

Relations are Python lists of symbolic rows `SRow(present, values, pos)`; each IR operator is a
short function from input rows to output rows ("symbolic execution"). Base tables have k row
slots whose `present` flags form a prefix, so every table size 0..k is possible.

Example: is there a database with at most 2 rows where `a > 1` and `a >= 2` differ?
    >>> from verify.schema_io import schema_from_ddl
    >>> from verify.lower import lower_query
    >>> from verify.parse import parse_query
    >>> schema = schema_from_ddl("CREATE TABLE t (a INTEGER)")
    >>> q1, q2 = (lower_query(parse_query(f"SELECT a FROM t WHERE {c}"), schema) for c in ("a > 1", "a >= 2"))
    >>> enc = Encoder(schema, k=2)
    >>> solver = z3.Solver()
    >>> solver.add(*enc.database_constraints(), *enc.side, differ(enc.rel(q1.rel), enc.rel(q2.rel), 1, 1, "bag"))
    >>> solver.check()
    unsat
"""

from __future__ import annotations

import math
import sqlite3
import time
import weakref
from dataclasses import dataclass

import z3

from verify import assumptions as named, clock, ir, strings
from verify.assumptions import AssumptionPolicy
from verify.errors import QueryError, Unsupported
from verify.lower import lower_query
from verify.lower_scalar import duckdb_decimal
from verify.names import CmpMode, Dialect, FuncName, JoinKind, Semantics, SetOpName
from verify.parse import parse_query
from verify.schema import Schema, is_date_type
from verify.values import (
    CANONICAL_INT,
    FALSE,
    PRINTABLE,
    TRUE,
    V,
    as_int,
    as_real,
    boolean,
    compare,
    compare_affnum,
    const,
    convert,
    fresh,
    is_false,
    is_true,
    isint_of,
    ite,
    null_of,
    round_half_away,
    same,
    same_row,
    tdiv,
    tmod,
    trunc,
    unify_kind,
)
from verify.z3fast import And, Not, Or

@dataclass
class TupleV:
    """Several values counted together, as in COUNT(DISTINCT a, b): NULL if any part is."""

    parts: list[V]
    extra_null: z3.BoolRef = FALSE

    @property
    def null(self) -> z3.BoolRef:
        return Or([self.extra_null] + [p.null for p in self.parts])

    def guard(self, keep: z3.BoolRef) -> "TupleV":
        return TupleV(self.parts, Or(self.extra_null, Not(keep)))


@dataclass
class SRow:
    present: z3.BoolRef
    vals: list[V]
    pos: z3.ArithRef | None = None  # position in an ORDER BY result


def _sum(terms: list) -> z3.ArithRef:
    return z3.Sum(terms) if terms else z3.IntVal(0)


class EncodingTimeout(Exception):
    """Building the encoding took longer than the time the caller has left."""


class Encoder:
    """Holds one symbolic database (k slots per table) and encodes relations over it.

    `deadline` (a `time.monotonic()` value) bounds the time spent building formulas: past it,
    `EncodingTimeout` is raised."""

    def __init__(self, schema: Schema, k: int, dialect: Dialect | str = Dialect.SQLITE, tables: set[str] | None = None,
                 deadline: float | None = None, abstract_text_numbers: bool = False,
                 symmetry_breaking: bool = False, text_columns_read: set[str] | None = None,
                 assumptions: AssumptionPolicy | None = None, narrow_unbacked: str | None = None):
        self.deadline = deadline
        self._sorts = 0  # sorts with their own tie order so far (`_tie_ranks`)
        # which named assumptions may narrow the search (`verify.assumptions`); the others are
        # collected in `search_only`, for a counterexample search that proves nothing
        self.policy = assumptions or named.DEFAULT
        self.search_only: list[z3.BoolRef] = []
        self.search_only_names: list[str] = []
        # for a counterexample search only, the caller asserts `search_only`, and the encoding
        # leaves out what lies outside it (`assume_named`): None (a search that may prove),
        # "assumed" (the assumptions hold), "exact" (the encoding is exact: also the inputs they
        # exclude where it is, such as the texts a date function returns NULL for)
        if narrow_unbacked not in (None, "assumed", "exact"):
            raise ValueError(f"narrow_unbacked must be None, 'assumed' or 'exact', not {narrow_unbacked!r}")
        self.narrow_unbacked = narrow_unbacked
        self._date_cells: dict[int, V] = {}  # cells of columns declared as dates, by term id
        # lower-cased names of the text columns the queries may read (None: all of them); the
        # others carry no domain assumption, which would only cost the string solver time
        self.text_columns_read = text_columns_read
        # order each table's row slots (see `_slot_order`); only sound for queries whose result
        # does not depend on the order of rows (the caller decides)
        self.symmetry_breaking = symmetry_breaking
        # text-to-number conversions as an uninterpreted function (see `check._smt_at`)
        self.abstract_text_numbers = abstract_text_numbers
        self.abstracted = False  # set when a conversion was abstracted
        self.schema = schema
        self.k = k
        self.dialect = Dialect(dialect)
        self.side: list[z3.BoolRef] = []  # definitional constraints (always satisfiable)
        # "no two rows tie under an ORDER BY with LIMIT/OFFSET": not asserted, a search restriction
        # the checker adds when tie orders keep giving models the engine does not confirm
        self.tie_free: list[z3.BoolRef] = []
        # "every row a group may take a bare column's value from holds the same value": likewise
        # not asserted; the checker adds it once models differ only in the row SQLite picks
        self.bare_fixed: list[z3.BoolRef] = []
        self.assumptions: list[z3.BoolRef] = []  # domain restrictions, reported in the verdict
        self.assumption_notes: list[str] = []
        self.now: V | None = None  # the current time, once a query reads it
        self.db: dict[str, list[SRow]] = {}
        self._n = 0
        self._memo: dict = {}
        wanted = schema.with_parents(tables) if tables is not None else {t.name.lower() for t in schema.tables}
        for t in schema.tables:
            if t.name.lower() in wanted:  # the tables read, and their parents (foreign keys)
                self.db[t.name.lower()] = self._table_slots(t)

    def fresh_name(self, base: str) -> str:
        self._n += 1
        return f"{base}!{self._n}"

    def _table_slots(self, t) -> list[SRow]:
        rows = []
        for i in range(self.k):
            vals = []
            for c in t.columns:
                kind = c.kind
                v = fresh(f"{t.name}[{i}].{c.name}", kind)
                if kind == "num":
                    # a NUMERIC cell holds an INTEGER exactly when its value is integral
                    self.side.append(v.isint == z3.IsInt(v.v))
                if kind == "text" and self._text_column_read(t, c.name):
                    self.text_domain(v)
                vals.append(v)
            self.declare_cells(t.name, vals)
            rows.append(SRow(z3.Bool(f"{t.name}[{i}].present"), vals))
        return rows

    def text_domain(self, v: V) -> None:
        """Narrow a text cell to printable ASCII where the policy allows it, else to the texts
        SQLite can store (no NUL, no lone surrogate)."""
        if self.policy.allows("printable_text"):
            self.assume_named("printable_text", z3.InRe(v.v, PRINTABLE))
        else:
            self.assume_named("text_representation", z3.InRe(v.v, REPRESENTABLE))

    def declare_cells(self, table: str, vals: list[V]) -> None:
        """Record which of `vals` (one row of `table`, in column order) are cells of columns
        declared DATE, DATETIME, TIME or TIMESTAMP: the evidence for `date_text` and
        `whole_seconds` when a date function reads one of them."""
        try:
            t = self.schema.table(table)
        except Exception:  # noqa: BLE001 - a derived table: no declared types
            return
        for c, v in zip(t.columns, vals):
            if v.kind == "text" and is_date_type(c.type):
                self._date_cells[v.v.get_id()] = v

    def _declared_date(self, s: V) -> bool:
        """`s` is a cell of a column declared as a date (see `declare_cells`)."""
        cell = self._date_cells.get(s.v.get_id())
        return cell is not None and cell.null.eq(s.null)

    def assume_named(self, name: str, c: z3.BoolRef, evidence: bool = False,
                     search: z3.BoolRef | None = None) -> bool:
        """Assume the registered assumption `name` (`verify.assumptions`) of `c` where the policy
        allows it (`evidence`: the schema backs it for this value): asserted and listed, and
        True. Otherwise `search` (by default `c`) is kept to narrow the counterexample search only
        (`search_only`): it should exclude just the inputs where the encoding is not exact, so
        that models there are decided as the engine decides them (`c` itself when
        `narrow_unbacked` is "assumed"). The answer is then False, or True where the caller
        asserts `search_only` (`narrow_unbacked`): a caller told True may leave out what lies
        outside `search`, where its exact encoding is not exact."""
        if self.policy.allows(name, evidence):
            self.assume(c, named.by_name(name).note)
            return True
        self.search_only.append(c if search is None or self.narrow_unbacked == "assumed" else search)
        if name not in self.search_only_names:
            self.search_only_names.append(name)
        return self.narrow_unbacked is not None

    def _text_column_read(self, t, column: str) -> bool:
        if self.text_columns_read is None or column.lower() in self.text_columns_read:
            return True
        keyed = t.primary_key + [c for u in t.unique for c in u] + [c for fk in t.foreign_keys for c in fk.columns]
        return bool(t.checks or t.functional_dependencies) or column.lower() in {c.lower() for c in keyed}

    def assume(self, c: z3.BoolRef, note: str) -> None:
        self.assumptions.append(c)
        if note not in self.assumption_notes:
            self.assumption_notes.append(note)

    # ------------------------------------------------------------------ constraints
    def database_constraints(self) -> list[z3.BoolRef]:
        out: list[z3.BoolRef] = []
        for t in self.schema.tables:
            rows = self.db.get(t.name.lower())
            if rows is None:
                continue
            for i in range(len(rows) - 1):
                out.append(z3.Implies(rows[i + 1].present, rows[i].present))
            if self.symmetry_breaking:
                out.extend(self._slot_order(t, rows))
            notnull = {c.name.lower() for c in t.columns if c.not_null} | {c.lower() for c in t.primary_key}
            for r in rows:
                for c, v in zip(t.columns, r.vals):
                    if c.name.lower() in notnull:
                        out.append(Not(v.null))
            keys = ([t.primary_key] if t.primary_key else []) + t.unique
            for key in keys:
                idx = [t.index(c) for c in key]
                for i in range(len(rows)):
                    for j in range(i + 1, len(rows)):
                        a, b = rows[i], rows[j]
                        clash = And([And(Not(a.vals[x].null), Not(b.vals[x].null),
                                               a.vals[x].v == b.vals[x].v) for x in idx])
                        out.append(Not(And(a.present, b.present, clash)))
            for fk in t.foreign_keys:
                parent = self.db.get(fk.ref_table.lower())
                if parent is None:
                    continue
                ptable = self.schema.table(fk.ref_table)
                cidx = [t.index(c) for c in fk.columns]
                pidx = [ptable.index(c) for c in fk.ref_columns]
                for r in rows:
                    any_null = Or([r.vals[x].null for x in cidx])
                    match = Or([
                        And([p.present] + [And(Not(p.vals[y].null), same(r.vals[x], p.vals[y]))
                                              for x, y in zip(cidx, pidx)])
                        for p in parent
                    ]) if parent else FALSE
                    out.append(z3.Implies(And(r.present, Not(any_null)), match))
            out.extend(self._row_constraints(t))
        return out

    def _slot_order(self, t, rows: list[SRow]) -> list[z3.BoolRef]:
        """Symmetry breaking: a table's rows sit in its slots in order of the primary key
        (strictly, for a one-column key) or else of the first column (NULL first). Any set of
        rows can be put in that order, so when the result of both queries does not depend on
        the order of rows, no difference is lost — and the solver no longer explores the k!
        orders of each database."""
        if t.primary_key:
            idx, strict = t.index(t.primary_key[0]), len(t.primary_key) == 1
        else:
            idx, strict = 0, False
        out = []
        for a, b in zip(rows, rows[1:]):
            x, y = a.vals[idx], b.vals[idx]
            if strict:
                before = _lt(x, y)
            else:
                before = Or(x.null, And(Not(y.null), Not(_lt(y, x))))
            out.append(z3.Implies(b.present, before))
        return out

    def _row_constraints(self, t) -> list[z3.BoolRef]:
        """CHECK expressions and functional dependencies: each one's violation query (see
        `Table.violation_queries`) returns no row."""
        out = []
        for what, sql in t.violation_queries(self.dialect):
            self.tick()
            try:
                q = lower_query(parse_query(sql, self.dialect), self.schema, self.dialect)
            except (Unsupported, QueryError) as e:
                raise Unsupported(f"{what}: {e}") from None
            out.extend(Not(r.present) for r in self.rel(q.rel))
        return out

    # ------------------------------------------------------------------ relations
    def tick(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise EncodingTimeout()

    def rel(self, rel: ir.Rel, outer: tuple = ()) -> list[SRow]:
        key = (id(rel), id(outer) if outer and free_depth(rel) > 0 else None)
        hit = self._memo.get(key)
        if hit is not None:
            return hit[1]
        self.tick()
        method = getattr(self, "_" + type(rel).__name__.lower())
        rows = method(rel, outer)
        self._memo[key] = (rel, rows, outer)  # keep rel/outer alive so ids stay unique
        return rows

    def _scan(self, rel: ir.Scan, outer) -> list[SRow]:
        return self.db[rel.table.lower()]

    def _values(self, rel: ir.Values, outer) -> list[SRow]:
        return [SRow(TRUE, [self.expr(e, [], outer) for e in row]) for row in rel.rows]

    def _filter(self, rel: ir.Filter, outer) -> list[SRow]:
        rows = self.rel(rel.input, outer)
        if constant(rel.cond):  # WHERE FALSE, WHERE 1 = 1, ...: decided once, and pruned
            keep = z3.simplify(is_true(self.expr(rel.cond, [], outer)))
            if z3.is_false(keep):
                return []
            if z3.is_true(keep):
                return rows
        return [SRow(And(r.present, is_true(self.expr(rel.cond, r.vals, outer))), r.vals, r.pos)
                for r in self._ticking(rows)]

    def _project(self, rel: ir.Project, outer) -> list[SRow]:
        rows = self.rel(rel.input, outer)
        return [SRow(r.present, [self.expr(e, r.vals, outer) for e in rel.exprs], r.pos) for r in self._ticking(rows)]

    def _ticking(self, rows: list[SRow]):
        """`rows`, checking the deadline before each (a join's product can hold many thousands
        of rows, each with a formula to build)."""
        for r in rows:
            self.tick()
            yield r

    def _join(self, rel: ir.Join, outer) -> list[SRow]:
        if rel.kind in _LATERAL:
            return self._lateral(rel, outer)
        left = self.rel(rel.left, outer)
        right = self.rel(rel.right, outer)
        nl, nr = len(rel.left.columns), len(rel.right.columns)
        out: list[SRow] = []
        match: dict[tuple[int, int], z3.BoolRef] = {}
        for i, a in enumerate(left):
            for j, b in enumerate(right):
                self.tick()
                vals = a.vals + b.vals
                on = is_true(self.expr(rel.cond, vals, outer)) if rel.cond is not None else TRUE
                m = And(a.present, b.present, on)
                match[i, j] = m
                out.append(SRow(m, vals))
        if rel.kind in (JoinKind.LEFT, JoinKind.FULL):
            pad = [null_of(c.kind) for c in rel.right.columns]
            for i, a in enumerate(left):
                none = Not(Or([match[i, j] for j in range(len(right))])) if right else TRUE
                out.append(SRow(And(a.present, none), a.vals + pad))
        if rel.kind in (JoinKind.RIGHT, JoinKind.FULL):
            pad = [null_of(c.kind) for c in rel.left.columns]
            for j, b in enumerate(right):
                none = Not(Or([match[i, j] for i in range(len(left))])) if left else TRUE
                out.append(SRow(And(b.present, none), pad + b.vals))
        assert all(len(r.vals) == nl + nr for r in out)
        return out

    def _lateral(self, rel: ir.Join, outer) -> list[SRow]:
        """JOIN LATERAL: the right side is encoded once per left row, which it may read."""
        out: list[SRow] = []
        for a in self.rel(rel.left, outer):
            matches = []
            for b in self._ticking(self.rel(rel.right, (a.vals,) + outer)):
                vals = a.vals + b.vals
                on = is_true(self.expr(rel.cond, vals, outer)) if rel.cond is not None else TRUE
                matches.append(And(a.present, b.present, on))
                out.append(SRow(matches[-1], vals))
            if rel.kind == JoinKind.LATERAL_LEFT:
                pad = [null_of(c.kind) for c in rel.right.columns]
                out.append(SRow(And(a.present, Not(Or(matches)) if matches else TRUE), a.vals + pad))
        return out

    def _distinct(self, rel: ir.Distinct, outer) -> list[SRow]:
        return _dedup(self.rel(rel.input, outer))

    def _sort(self, rel: ir.Sort, outer) -> list[SRow]:
        rows = self.rel(rel.input, outer)
        keyvals = [[self.expr(k.expr, r.vals, outer) for k in rel.keys] for r in rows]
        # Rows that tie come in an order SQLite leaves open. Without LIMIT/OFFSET that order only
        # permutes equal-key rows, so they are ordered by their values (one fixed order, the
        # same in both queries: a difference in tie order alone is not a counterexample). With
        # LIMIT it decides which rows are kept, and SQLite's choice depends on its query plan
        # (among tied groups of a GROUP BY: the group key's order, ascending with an index on
        # the key and in the ORDER BY's direction without one), so every such sort breaks ties
        # by an order of its own (`_tie_ranks`): the two queries may choose differently, as two
        # plans may, and the engine tells a real difference from one SQLite does not make.
        # (Slot order, shared by two queries that read the same slots, would make them choose
        # alike and "prove" pairs that SQLite's plans tell apart.)
        by_value = rel.limit is None and not rel.offset and rows and all(
            v.kind == c.kind for v, c in zip(rows[0].vals, rel.input.columns))
        whole = [ir.SortKey(ir.Col(n, c.kind), False, True) for n, c in enumerate(rel.input.columns)]
        rank = None if by_value else self._tie_ranks(len(rows))
        out = []
        for i, r in enumerate(rows):
            self.tick()
            ahead = []
            for j, s in enumerate(rows):
                if i == j:
                    continue
                before = _sorts_before(keyvals[j], keyvals[i], rel.keys)
                tie = same_row(keyvals[j], keyvals[i])
                if by_value:
                    first = Or(_sorts_before(s.vals, r.vals, whole), same_row(s.vals, r.vals)) if j < i \
                        else _sorts_before(s.vals, r.vals, whole)
                    cond = Or(before, And(tie, first))
                else:
                    cond = Or(before, And(tie, rank[j] < rank[i]))
                    if j < i:
                        self.tie_free.append(Not(And(r.present, s.present, tie)))
                ahead.append(z3.If(And(s.present, cond), 1, 0))
            pos = _sum(ahead)
            keep = [r.present, pos >= rel.offset]
            if rel.limit is not None:
                keep.append(pos < rel.offset + rel.limit)
            out.append(SRow(And(keep), r.vals, pos - rel.offset))
        return out

    def _tie_ranks(self, n: int) -> list[z3.ArithRef]:
        """`n` fresh, distinct ranks 0..n-1: the order in which one sort puts rows that tie
        (a choice of the solver, independent of every other sort's)."""
        self._sorts += 1
        ranks = [z3.Int(f"tie_rank!{self._sorts}!{i}") for i in range(n)]
        self.side.extend(And(0 <= x, x < n) for x in ranks)
        if n > 1:
            self.side.append(z3.Distinct(*ranks))
        return ranks

    def _setop(self, rel: ir.SetOp, outer) -> list[SRow]:
        left = [SRow(r.present, r.vals) for r in self.rel(rel.left, outer)]
        right = [SRow(r.present, r.vals) for r in self.rel(rel.right, outer)]
        if rel.op == SetOpName.UNION:
            both = left + right
            return both if rel.all else _dedup(both)
        base = left if rel.all else _dedup(left)
        out = []
        for i, r in enumerate(base):
            in_right = _sum([z3.If(And(s.present, same_row(s.vals, r.vals)), 1, 0) for s in right])
            if rel.all:
                earlier = _sum([z3.If(And(base[j].present, same_row(base[j].vals, r.vals)), 1, 0)
                                for j in range(i)])
                keep = earlier < in_right if rel.op == SetOpName.INTERSECT else earlier >= in_right
            else:
                keep = in_right > 0 if rel.op == SetOpName.INTERSECT else in_right == 0
            out.append(SRow(And(r.present, keep), r.vals))
        return out

    def _aggregate(self, rel: ir.Aggregate, outer) -> list[SRow]:
        rows = self.rel(rel.input, outer)
        keys = [[self.expr(k, r.vals, outer) for k in rel.keys] for r in rows]
        if rel.grouped:
            groups = []
            for i, r in enumerate(rows):
                self.tick()
                member = [And(s.present, same_row(keys[j], keys[i])) for j, s in enumerate(rows)]
                first = And(r.present, Not(Or(member[:i]))) if i else r.present
                groups.append((first, member, keys[i]))
        else:
            groups = [(TRUE, [s.present for s in rows], [])]
        args = [[self._agg_arg(it, r.vals, outer) for r in rows] for it in rel.items]
        out = []
        for present, member, keyvals in groups:
            self.tick()
            vals = list(keyvals)
            extremes: dict[int, V] = {}
            for n, it in enumerate(rel.items):
                if isinstance(it, ir.Agg):
                    v = self._agg(it, member, args[n])
                    if it.func in ("min", "max"):
                        extremes[n] = v
                    vals.append(v)
                else:
                    vals.append(None)  # bare columns are filled in below
            for n, it in enumerate(rel.items):
                if isinstance(it, ir.Bare):
                    vals[len(keyvals) + n] = self._bare(rel, present, member, args, n, extremes)
            out.append(SRow(present, vals))
        return out

    def _window(self, rel: ir.Window, outer) -> list[SRow]:
        rows = self.rel(rel.input, outer)
        out = [list(r.vals) for r in rows]
        for f in rel.funcs:
            parts = [[self.expr(p, r.vals, outer) for p in f.partition] for r in rows]
            keys = [[self.expr(k.expr, r.vals, outer) for k in f.order] for r in rows]
            xs = [self._agg_arg(f, r.vals, outer) for r in rows]
            for i in range(len(rows)):
                part = [And(s.present, same_row(parts[j], parts[i])) for j, s in enumerate(rows)]
                before = [_sorts_before(keys[j], keys[i], f.order) for j in range(len(rows))]
                peer = [same_row(keys[j], keys[i]) for j in range(len(rows))]
                if f.func in ("row_number", "rank", "dense_rank"):
                    if f.func == "row_number":
                        ahead = [And(part[j], Or(before[j], peer[j]) if j < i else before[j])
                                 for j in range(len(rows)) if j != i]
                    elif f.func == "rank":
                        ahead = [And(part[j], before[j]) for j in range(len(rows))]
                    else:
                        ahead = [And(part[j], before[j], Not(Or([And(part[l], before[l], same_row(keys[l], keys[j])) for l in range(j)]))) if j else And(part[j], before[j])
                                 for j in range(len(rows))]
                    out[i].append(V("int", 1 + _sum([z3.If(a, 1, 0) for a in ahead]), FALSE))
                else:
                    if f.frame == "all" or not f.order:
                        frame = part
                    elif f.frame == "rows":  # peers up to this row, in slot order
                        frame = [And(part[j], Or(before[j], peer[j]) if j <= i else before[j])
                                 for j in range(len(rows))]
                    else:
                        frame = [And(part[j], Or(before[j], peer[j])) for j in range(len(rows))]
                    out[i].append(self._agg(ir.Agg(f.func, f.arg, False, f.kind), frame, xs))
        return [SRow(r.present, vals, r.pos) for r, vals in zip(rows, out)]

    def _agg_arg(self, it, vals: list[V], outer):
        """The argument of an aggregate for one input row; a FILTER that rejects the row or a
        tuple with a NULL part makes it NULL (aggregates skip NULLs)."""
        if it.arg is None:
            return None
        if isinstance(it.arg, ir.Func) and it.arg.name == FuncName.TUPLE:
            parts = [self.expr(p, vals, outer) for p in it.arg.args]
            x = TupleV(parts)
        else:
            x = self.expr(it.arg, vals, outer)
        if getattr(it, "filter", None) is not None:
            keep = is_true(self.expr(it.filter, vals, outer))
            x = x.guard(keep) if isinstance(x, TupleV) else V(x.kind, x.v, Or(x.null, Not(keep)), x.isint)
        return x

    def _bare(self, rel: ir.Aggregate, group, member, args, n: int, extremes: dict[int, V]) -> V:
        """A bare column's value in the group whose rows are `member` (present when `group`):
        the last of the rows it may come from (all of them, or those holding the MIN/MAX the
        query asks for); that every such row holds it goes to `bare_fixed`."""
        xs = args[n]
        kind = rel.items[n].kind
        if rel.bare_from[0] in ("min", "max"):
            m_idx = rel.bare_from[1]
            m = extremes[m_idx]
            ys = args[m_idx]
            # a row holding the MIN/MAX; when that is NULL (no value to compare), any row, as
            # SQLite then takes the bare value from the group's last row like a plain bare column
            chosen = [And(member[j], Or(m.null, And(Not(ys[j].null), same(ys[j], m))))
                      for j in range(len(xs))]
        else:
            chosen = member
        acc = null_of(kind)
        for j in range(len(xs)):  # the last chosen row wins, as in SQLite's scan
            acc = ite(chosen[j], xs[j], acc)
        self.bare_fixed.extend(z3.Implies(And(group, chosen[j]), same(xs[j], acc)) for j in range(len(xs)))
        return acc

    def _agg(self, a: ir.Agg, member: list[z3.BoolRef], xs: list[V | None]) -> V:
        n = len(member)
        if a.func == "count_star":
            return V("int", _sum([z3.If(m, 1, 0) for m in member]), FALSE)
        counted = [And(member[j], Not(xs[j].null)) for j in range(n)]
        if a.distinct:  # counted once: at its first occurrence
            first = counted[:1]
            for j in range(1, n):
                self.tick()
                first.append(And(counted[j], Not(Or([And(counted[l], _same_arg(xs[l], xs[j]))
                                                              for l in range(j)]))))
            counted = first
        any_ = Or(counted) if counted else FALSE
        if a.func == "count":
            return V("int", _sum([z3.If(c, 1, 0) for c in counted]), FALSE)
        if a.func in ("sum", "total", "avg"):
            if a.kind == "int" and a.func == "sum":
                total = _sum([z3.If(counted[j], as_int(xs[j]), 0) for j in range(n)])
                return V("int", total, Not(any_))
            total = z3.Sum([z3.If(counted[j], as_real(xs[j]), z3.RealVal(0)) for j in range(n)]) if n else z3.RealVal(0)
            if a.func == "total":
                return V("real", total, FALSE)
            if a.func == "avg":
                cnt = _sum([z3.If(c, 1, 0) for c in counted])
                return V("real", z3.If(any_, total / z3.ToReal(cnt), z3.RealVal(0)), Not(any_))
            if a.kind == "num":
                allint = And([z3.Implies(counted[j], isint_of(xs[j])) for j in range(n)]) if n else TRUE
                return V("num", total, Not(any_), allint)
            return V("real", total, Not(any_))
        if a.func in ("min", "max"):
            kind = unify_kind([x.kind for x in xs]) if xs else a.kind
            if kind == "null":
                kind = "int"
            m = fresh(self.fresh_name(a.func), kind)
            vals = [convert(x, kind) if x.kind != "null" else null_of(kind) for x in xs]
            better = (lambda p, q: _lt(p, q)) if a.func == "min" else (lambda p, q: _lt(q, p))
            attained = Or([And(counted[j], same(m, vals[j])) for j in range(n)]) if n else FALSE
            bound = And([z3.Implies(counted[j], Not(better(vals[j], m))) for j in range(n)]) if n else TRUE
            self.side.append(z3.If(any_, And(Not(m.null), attained, bound), m.null))
            return m
        if a.func == "any_value":
            # DuckDB returns the first non-NULL value it reads; which one that is depends on the
            # order it reads rows in, so the search may pick any of them (see check._order_blind)
            kind = a.kind if a.kind != "null" else "int"
            m = fresh(self.fresh_name("any_value"), kind)
            vals = [convert(x, kind) if x.kind != "null" else null_of(kind) for x in xs]
            picked = Or([And(counted[j], same(m, vals[j])) for j in range(n)]) if n else FALSE
            self.side.append(z3.If(any_, And(Not(m.null), picked), m.null))
            return m
        if a.func in ("bool_and", "bool_or"):
            if a.func == "bool_and":
                v = And([z3.Implies(counted[j], xs[j].v) for j in range(n)])
            else:
                v = Or([And(counted[j], xs[j].v) for j in range(n)])
            return V("bool", v, Not(any_))
        if a.func in ("bit_and", "bit_or"):
            # two's complement on 64 bits (BIGINT); narrower columns hold fewer values
            acc = z3.BitVecVal(-1 if a.func == "bit_and" else 0, 64)
            in_range = []
            for j in range(n):
                x = as_int(xs[j])
                in_range.append(z3.Implies(counted[j], And(x >= -2 ** 63, x < 2 ** 63)))
                bits = z3.Int2BV(x, 64)
                acc = z3.If(counted[j], (acc & bits) if a.func == "bit_and" else (acc | bits), acc)
            unsigned = z3.BV2Int(acc)
            signed = z3.If(z3.Extract(63, 63, acc) == 1, unsigned - 2 ** 64, unsigned)
            # wider operands (HUGEINT): any integer, unless the policy narrows them to 64 bits
            fits = And(in_range)
            self.assume_named("bit_operands_64", fits)
            wide = fresh(self.fresh_name(a.func + ".wide"), "int")
            return V("int", z3.If(fits, signed, wide.v), Not(any_))
        raise Unsupported(f"aggregate {a.func}")

    # ------------------------------------------------------------------ expressions
    def expr(self, e: ir.Expr, row: list[V], outer: tuple) -> V:  # noqa: C901 - a dispatch table
        if isinstance(e, ir.Col):
            return row[e.index]
        if isinstance(e, ir.Outer):
            return outer[e.depth - 1][e.index]
        if isinstance(e, ir.Lit):
            if e.value is None:  # a typed NULL takes its kind's sort; an untyped one adapts later
                return null_of(e.kind) if e.kind != "null" else V("null", z3.IntVal(0), TRUE)
            if self.dialect == Dialect.DUCKDB and isinstance(e.value, float) and math.isfinite(e.value):
                return const(duckdb_decimal(e.value), e.kind)  # DuckDB's decimal literal, exactly
            return const(e.value, e.kind if e.kind != "null" else "int")
        if isinstance(e, ir.Cmp):
            a, b = self.expr(e.left, row, outer), self.expr(e.right, row, outer)
            if e.mode == CmpMode.AFFNUM:
                return self._compare_affnum(e.op, a, b)
            return compare(e.op, a, b, e.mode)
        if isinstance(e, ir.TextToNum):
            return self.expr(e.arg, row, outer)
        if isinstance(e, ir.BoolOp):
            args = [self.expr(x, row, outer) for x in e.args]
            if e.op == "and":
                t = And([is_true(x) for x in args])
                f = Or([is_false(x) for x in args])
            else:
                t = Or([is_true(x) for x in args])
                f = And([is_false(x) for x in args])
            return boolean(t, And(Not(t), Not(f)))
        if isinstance(e, ir.Not):
            a = self.expr(e.arg, row, outer)
            return boolean(Not(a.v), a.null)
        if isinstance(e, ir.IsNull):
            a = self.expr(e.arg, row, outer)
            return boolean(a.null, FALSE)
        if isinstance(e, ir.Arith):
            return self._arith(e, self.expr(e.left, row, outer), self.expr(e.right, row, outer))
        if isinstance(e, ir.Neg):
            a = self.expr(e.arg, row, outer)
            if a.kind == "null":
                return a
            return V(a.kind, -a.v, a.null, a.isint)
        if isinstance(e, ir.Case):
            acc = self.expr(e.default, row, outer)
            for c, v in reversed(e.whens):
                acc = ite(is_true(self.expr(c, row, outer)), self.expr(v, row, outer), acc)
            return acc
        if isinstance(e, ir.Func):
            return self._func(e, row, outer)
        if isinstance(e, ir.Exists):
            rows = self.rel(e.query, (row,) + outer)
            return boolean(Or([r.present for r in rows]) if rows else FALSE, FALSE)
        if isinstance(e, ir.InSubquery):
            lhs = [self.expr(x, row, outer) for x in e.arg[:-1]]
            rows = self.rel(e.query, (row,) + outer)
            probes = [(r.present, self.expr(e.arg[-1], lhs + r.vals, ())) for r in rows]
            t = Or([And(p, is_true(c)) for p, c in probes]) if probes else FALSE
            n = Or([And(p, c.null) for p, c in probes]) if probes else FALSE
            return boolean(t, And(Not(t), n))
        if isinstance(e, ir.ScalarSubquery):
            rows = self.rel(e.query, (row,) + outer)
            acc = null_of(e.kind)
            for r in reversed(rows):
                acc = ite(r.present, r.vals[0], acc)
            return acc
        raise Unsupported(f"expression {type(e).__name__}")

    def _arith(self, e: ir.Arith, a: V, b: V) -> V:
        null = Or(a.null, b.null)
        if a.kind == "null" or b.kind == "null":
            return null_of(e.kind)
        op = e.op
        if a.kind in ("int", "bool") and b.kind in ("int", "bool") and not (op == "/" and self.dialect == Dialect.DUCKDB):
            x, y = as_int(a), as_int(b)
            if op in ("/", "//", "%"):
                zero = y == 0
                r = tdiv(x, y) if op != "%" else tmod(x, y)
                return V("int", r, Or(null, zero))
            r = {"+": x + y, "-": x - y, "*": x * y}[op]
            return V("int", r, null)
        x, y = as_real(a), as_real(b)
        exact = And(isint_of(a), isint_of(b))
        if op == "/" and self.dialect == Dialect.DUCKDB:
            self._no_div_zero(b)
            return V("real", z3.If(y == 0, z3.RealVal(0), x / y), null)
        if op in ("/", "//", "%"):
            zero = y == 0
            if op == "%":
                xi, yi = trunc(x), trunc(y)
                r = z3.ToReal(z3.If(yi == 0, 0, tmod(xi, yi)))
                zero = yi == 0
            elif op == "//":
                r = z3.ToReal(trunc(z3.If(zero, z3.RealVal(0), x / y)))
            else:
                int_div = z3.ToReal(tdiv(trunc(x), z3.If(trunc(y) == 0, 1, trunc(y))))
                r = z3.If(exact, int_div, z3.If(zero, z3.RealVal(0), x / y)) if e.kind == "num" else z3.If(zero, z3.RealVal(0), x / y)
            nul = Or(null, zero)
        else:
            r = {"+": x + y, "-": x - y, "*": x * y}[op]
            nul = null
        if e.kind == "num":
            return V("num", r, nul, exact)
        return V("real", r, nul)

    def _compare_affnum(self, op: str, a: V, b: V) -> V:
        """`number op text` with numeric affinity applied to the text (`values.compare_affnum`):
        exact for a text that is an integer in decimal digits or has no digit; for any other
        text ('5.0', ' 5', '1e3') an uninterpreted truth value of the number and the text.
        `affinity_int_text` narrows the texts to the exact part where the policy allows it."""
        s, n = (a, b) if a.kind == "text" else (b, a)
        exact = compare_affnum(op, a, b)
        modelled = Or(z3.InRe(s.v, CANONICAL_INT), Not(z3.InRe(s.v, _HAS_DIGIT)))
        if self.assume_named("affinity_int_text", Or(s.null, modelled)):
            return exact
        flipped = op if a.kind != "text" else {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>"}[op]
        other = z3.Function(f"affinity_cmp[{flipped}]", z3.RealSort(), z3.StringSort(), z3.BoolSort())
        return boolean(z3.If(modelled, exact.v, other(as_real(n), s.v)), exact.null)

    def _no_div_zero(self, b: V) -> None:
        """DuckDB's x / 0 is an infinity (or NaN), which no real number stands for: the encoding
        has no over-approximation of it, so `no_division_by_zero` is asserted in every mode."""
        self.assume_named("no_division_by_zero", Or(b.null, as_real(b) != 0))

    def _func(self, e: ir.Func, row, outer) -> V:
        args = [self.expr(a, row, outer) for a in e.args]
        name = e.name
        if name == FuncName.COALESCE:
            acc = args[-1]
            for a in reversed(args[:-1]):
                acc = ite(Not(a.null), a, acc)
            return acc
        if name == FuncName.NULLIF:
            a, _, eqc = args
            return ite(is_true(eqc), null_of(a.kind), a)
        if name == FuncName.ABS:
            a = args[0]
            if a.kind == "null":
                return a
            return V(a.kind, z3.If(a.v >= 0, a.v, -a.v), a.null, a.isint)
        if name == FuncName.TOINT:
            a = args[0]
            if a.kind in ("int", "bool"):
                return V("int", as_int(a), a.null)
            r = round_half_away(a.v) if self.dialect == Dialect.DUCKDB else trunc(a.v)
            return V("int", r, a.null)
        if name == FuncName.TOREAL:
            a = args[0]
            return V("real", as_real(a), a.null)
        if name == FuncName.TONUMERIC:  # CAST(... AS NUMERIC): integral values become integers
            a = args[0]
            return V("num", as_real(a), a.null, z3.IsInt(as_real(a)))
        if name == FuncName.DUCK_TEXT2INT:
            # outside the plain integers DuckDB converts ('+5', ' 5') or fails: an uninterpreted
            # integer of the text (a failure is never a counterexample)
            v, ok = strings.duckdb_text_to_int(args[0])
            if self.assume_named("duckdb_int_text", ok):
                return v
            other = z3.Function("duckdb_text_to_int.value", z3.StringSort(), z3.IntSort())
            return V("int", z3.If(ok, v.v, other(args[0].v)), v.null)
        if name == FuncName.NOW:  # one instant for both queries (verify.clock)
            if self.now is None:
                if e.kind == "timestamp":  # DuckDB: microseconds, UTC
                    self.now = V("timestamp", z3.Int("@now"), FALSE)
                    self.assume_named("clock", And(self.now.v >= 0, self.now.v < clock.END_MICROS))
                else:  # SQLite: 'YYYY-MM-DD HH:MM:SS'
                    self.now = V("text", z3.String("@now"), FALSE)
                    self.assume_named("clock", z3.InRe(self.now.v, strings.INSTANT))
            return self.now
        if name == FuncName.DATE2TS:  # DuckDB: a date is its midnight (UTC, the engine's time zone)
            return V("timestamp", args[0].v * clock.DAY_MICROS, args[0].null)
        if name in _STRING_FUNCS:
            return self._string_func(e, args)
        if name in (FuncName.DATE_YEAR, FuncName.DATE_MONTH, FuncName.DATE_DAY):
            y, m, d = strings.civil_from_days(args[0].v)
            return V("int", {FuncName.DATE_YEAR: y, FuncName.DATE_MONTH: m, FuncName.DATE_DAY: d}[name], args[0].null)
        if name in (FuncName.GREATEST, FuncName.LEAST):
            # SQLite's scalar max(a, b, ...) / min(...): NULL if any argument is NULL
            acc = args[0]
            for b in args[1:]:
                a_wins = _lt(b, acc) if name == FuncName.GREATEST else _lt(acc, b)
                acc = ite(a_wins, acc, b)
            return V(acc.kind, acc.v, Or([x.null for x in args]), acc.isint)
        if name == FuncName.SAME:
            return boolean(same(args[0], args[1]), FALSE)
        if name == FuncName.BOOL2INT:
            a = args[0]
            return V("int", z3.If(a.v, 1, 0), a.null)
        raise Unsupported(f"function {name}")


    def _string_func(self, e: ir.Func, args: list[V]) -> V:
        """String and date functions (see `strings.py`); literal arguments are read from the IR."""
        name = e.name
        if name in (FuncName.LIKE, FuncName.LIKE_CS, FuncName.GLOB):
            s = args[0]
            pattern, escape = e.args[1].value, e.args[2].value
            if name == FuncName.GLOB:
                return strings.glob(s, pattern)
            return strings.like(s, pattern, escape, fold_case=name == FuncName.LIKE)
        if name in (FuncName.CONTAINS, FuncName.STARTS_WITH, FuncName.ENDS_WITH):  # verify.strpred
            s, c = args
            test = {FuncName.CONTAINS: z3.Contains(s.v, c.v), FuncName.STARTS_WITH: z3.PrefixOf(c.v, s.v),
                    FuncName.ENDS_WITH: z3.SuffixOf(c.v, s.v)}[name]
            return boolean(test, Or(s.null, c.null))
        if name == FuncName.INT2TEXT:
            return strings.int_to_text(args[0])
        if name == FuncName.SUBSTR:
            return strings.substr(args[0], args[1], args[2] if len(args) > 2 else None)
        if name == FuncName.INSTR:
            return strings.instr(args[0], args[1])
        if name == FuncName.LENGTH:
            return strings.length(args[0])
        if name == FuncName.CONCAT:
            return strings.concat(args[0], args[1])
        if name == FuncName.TRIM:
            where = e.args[2].value
            return strings.trim(args[0], e.args[1].value, where in ("BOTH", "LEADING"), where in ("BOTH", "TRAILING"),
                                self.fresh_name("trim"), self.side)
        if name == FuncName.TEXT2NUM:
            # the same cell converted twice (by both queries, say) shares one conversion
            key = ("text2num", args[0].v.get_id(), args[0].null.get_id())
            if key not in self._memo:
                if self.abstract_text_numbers:
                    self.abstracted = True
                    v = strings.text_to_number_abstract(args[0], self.side)
                else:
                    # exact on the texts `text_to_number` models, the abstract conversion on the
                    # others; `text_number` narrows the texts to the former where allowed
                    v, assumption = strings.text_to_number(args[0])
                    if not self.assume_named("text_number", assumption):
                        other = strings.text_to_number_abstract(args[0], self.side)
                        v = V("num", z3.If(assumption, v.v, other.v), v.null,
                              z3.If(assumption, v.isint, other.isint))
                self._memo[key] = (args[0], v)  # holding the argument keeps its ids alive
            return self._memo[key][1]
        if name in (FuncName.UPPER, FuncName.LOWER):
            return strings.upper(args[0]) if name == FuncName.UPPER else strings.lower(args[0])
        if name == FuncName.REPLACE:
            return strings.replace(args[0], args[1], args[2])
        if name == FuncName.ROUND:
            x = args[0]
            scale = 10 ** int(e.args[1].value)
            r = z3.ToReal(round_half_away(as_real(x) * scale)) / scale
            return V("real", r, x.null)
        return self._date_func(e, args[-1])

    def _date_func(self, e: ir.Func, s: V) -> V:
        """A date function of the text `s`: exact on `strings.TIME_VALUE` texts (julianday: without
        fractional seconds), NULL on texts SQLite cannot read as a time, uninterpreted on the rest
        (`strings.guarded`). `date_text` (and `whole_seconds`) narrow `s` to the exact part where
        the policy allows it: with evidence when `s` is a cell of a column declared as a date,
        and implied when `s` is the current time under the `clock` assumption."""
        name = e.name
        evidence = self._declared_date(s)
        clock_time = self.now is not None and s is self.now and self.policy.allows("clock")
        modelled = z3.InRe(s.v, strings.TIME_VALUE)
        exact_region = Or(s.null, modelled, Not(strings.date_parseable(s.v)))
        # a literal is what it is: assuming it a valid date when it is not ('00:00') would make
        # every proof vacuous; its value is decided by the guarded encoding itself
        literal = z3.is_string_value(s.v) and z3.is_false(s.null)
        # asserted, the assumption makes the exact part the whole domain: no guard is needed
        assumed = clock_time or (not literal and self.assume_named("date_text", strings.date_assumption(s), evidence,
                                                                   search=exact_region))
        fmt = e.args[0].value if name in (FuncName.STRFTIME, FuncName.STRFTIME_NUM) else None
        if name == FuncName.STRFTIME:
            exact = strings.strftime(fmt, s)
        elif name == FuncName.STRFTIME_NUM:
            exact = strings.strftime_number(fmt, s)
        elif name == FuncName.JULIANDAY:
            if not (clock_time or literal):  # `strings.INSTANT` has whole seconds
                assumed = self.assume_named("whole_seconds", strings.fraction_free(s), evidence) and assumed
            modelled = And(modelled, Not(z3.Contains(s.v, z3.StringVal("."))))
            exact = strings.julianday(s)
        else:
            exact = {FuncName.DATE: strings.date_fn, FuncName.DATETIME: strings.datetime_fn,
                     FuncName.TIME: strings.time_fn}[name](s)
        if assumed:
            return exact
        if literal and not z3.is_true(z3.simplify(modelled)):
            return _sqlite_date_value(name, fmt, s.v.as_string(), exact.kind)
        label = f"{name}[{fmt}]" if fmt is not None else str(name)
        return strings.guarded(s, modelled, exact, label)


# ----------------------------------------------------------------------------- helpers
def _sqlite_date_value(name: FuncName, fmt: str | None, text: str, kind: str) -> V:
    """A date function of a literal the encoding does not model ('00:00', '2021-02-30'), as
    SQLite computes it: a constant (the engine that confirms counterexamples is this SQLite)."""
    sql = {FuncName.STRFTIME: "strftime(?, ?)", FuncName.STRFTIME_NUM: "strftime(?, ?)",
           FuncName.DATE: "date(?)", FuncName.DATETIME: "datetime(?)", FuncName.TIME: "time(?)",
           FuncName.JULIANDAY: "julianday(?)"}[name]
    params = (fmt, text) if fmt is not None else (text,)
    with sqlite3.connect(":memory:") as con:
        value = con.execute(f"SELECT {sql}", params).fetchone()[0]
    if value is not None and name == FuncName.STRFTIME_NUM:
        value = int(value)
    return const(value, kind)


_LATERAL = (JoinKind.LATERAL, JoinKind.LATERAL_LEFT)
_HAS_DIGIT = z3.Concat(z3.Full(z3.ReSort(z3.StringSort())), z3.Range("0", "9"), z3.Full(z3.ReSort(z3.StringSort())))
# the texts SQLite stores: no NUL, no lone surrogate (z3's characters go up to U+2FFFF)
REPRESENTABLE = z3.Star(z3.Union(z3.Range("\x01", "\ud7ff"), z3.Range("\ue000", "\U0002ffff")))
_STRING_FUNCS = frozenset({
    FuncName.LIKE, FuncName.LIKE_CS, FuncName.GLOB, FuncName.CONTAINS, FuncName.STARTS_WITH, FuncName.ENDS_WITH,
    FuncName.INT2TEXT, FuncName.TEXT2NUM,
    FuncName.UPPER, FuncName.LOWER, FuncName.REPLACE, FuncName.SUBSTR, FuncName.INSTR, FuncName.LENGTH,
    FuncName.CONCAT, FuncName.TRIM, FuncName.ROUND, FuncName.STRFTIME, FuncName.STRFTIME_NUM,
    FuncName.DATE, FuncName.DATETIME, FuncName.TIME, FuncName.JULIANDAY,
})


def _same_arg(a, b) -> z3.BoolRef:
    if isinstance(a, TupleV):
        return same_row(a.parts, b.parts)
    return same(a, b)


def _lt(a: V, b: V) -> z3.BoolRef:
    """a < b for two non-NULL values of one kind (BINARY collation for text)."""
    if a.kind == "text":
        return a.v < b.v
    if a.kind == "bool":
        return And(Not(a.v), b.v)
    if a.kind in ("int", "date") and b.kind in ("int", "date"):
        return a.v < b.v
    return as_real(a) < as_real(b)


def _sorts_before(a: list[V], b: list[V], keys) -> z3.BoolRef:
    """Row with sort-key values `a` comes strictly before the row with `b`."""
    terms = []
    for n, k in enumerate(keys):
        x, y = a[n], b[n]
        if k.nulls_first:
            null_order = And(x.null, Not(y.null))
        else:
            null_order = And(Not(x.null), y.null)
        both = And(Not(x.null), Not(y.null))
        if x.kind != y.kind and not {x.kind, y.kind} <= {"int", "real", "num", "bool"}:
            if "null" in (x.kind, y.kind):
                value_order = FALSE
            else:
                value_order = z3.BoolVal(x.kind != "text") if k.desc is False else z3.BoolVal(x.kind == "text")
        else:
            value_order = _lt(y, x) if k.desc else _lt(x, y)
        strictly = Or(null_order, And(both, value_order))
        prefix_equal = [same(a[m], b[m]) for m in range(n)]
        terms.append(And(prefix_equal + [strictly]))
    return Or(terms) if terms else FALSE


def _dedup(rows: list[SRow]) -> list[SRow]:
    out = []
    for i, r in enumerate(rows):
        earlier = [And(rows[j].present, same_row(rows[j].vals, r.vals)) for j in range(i)]
        out.append(SRow(And(r.present, Not(Or(earlier))) if earlier else r.present, r.vals, r.pos))
    return out


def constant(e: ir.Expr) -> bool:
    """The expression reads no column and no query: its value is the same for every row."""
    reads = (ir.Col, ir.Outer, ir.InSubquery, ir.Exists, ir.ScalarSubquery, ir.WinRef)
    return not any(isinstance(n, reads) for n in ir.walk(e, into_subqueries=False))


_FREE_DEPTHS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # a relation's entry goes with it


def free_depth(rel: ir.Rel) -> int:
    """How many enclosing query levels `rel` reads (0: uncorrelated)."""
    hit = _FREE_DEPTHS.get(rel)
    if hit is not None:
        return hit
    parts = ir.children(rel)
    if isinstance(rel, ir.Join) and rel.kind in _LATERAL:
        # the right side's depth-1 references are to the left row, bound by the join itself
        depths = [free_depth(rel.left), free_depth(rel.right) - 1]
    else:
        depths = [free_depth(p) for p in parts if isinstance(p, ir.Rel)]
    d = max([0, *depths, *(expr_depth(p) for p in parts if not isinstance(p, ir.Rel))])
    _FREE_DEPTHS[rel] = d
    return d


def expr_depth(x: ir.Expr | ir.Agg | ir.WinFunc | ir.SortKey | ir.OutCol) -> int:
    """How many enclosing query levels the expressions in `x` read, through their `Outer`s and
    their subqueries' (`Outer(1)` in a subquery is a column of the row that evaluates it). An
    `InSubquery`'s last argument, the probe, reads only `Col`s of the rows it compares."""
    d = 0
    for n in ir.walk(x, into_subqueries=False):
        if isinstance(n, ir.Outer):
            d = max(d, n.depth)
        elif isinstance(n, (ir.Exists, ir.ScalarSubquery, ir.InSubquery)):
            d = max(d, free_depth(n.query) - 1)
    return d


# ----------------------------------------------------------------------------- comparison of results
def positions(rows: list[SRow]) -> list[z3.ArithRef]:
    """Each row's position: from ORDER BY when there is one, else slot order."""
    out = []
    for i, r in enumerate(rows):
        if r.pos is not None:
            out.append(r.pos)
        else:
            out.append(_sum([z3.If(rows[j].present, 1, 0) for j in range(i)]))
    return out


def differ(r1: list[SRow], r2: list[SRow], width1: int, width2: int, semantics: Semantics | str,
           tick=lambda: None) -> z3.BoolRef:
    """The two results differ under `semantics` (bag, set or list); `tick` is called while the
    (quadratic) formula is built, to let a deadline interrupt it."""
    if width1 != width2:
        return TRUE
    if semantics == Semantics.SET:
        def missing(a, b):
            return Or([And(x.present, Not(Or([And(y.present, same_row(x.vals, y.vals)) for y in b])
                                                       if b else TRUE)) for x in a]) if a else FALSE
        return Or(missing(r1, r2), missing(r2, r1))
    if semantics == Semantics.BAG:
        def count(rows, vals):
            tick()
            return _sum([z3.If(And(y.present, same_row(y.vals, vals)), 1, 0) for y in rows])
        terms = [And(x.present, count(r1, x.vals) != count(r2, x.vals)) for x in r1 + r2]
        return Or(terms) if terms else FALSE
    if semantics == Semantics.LIST:
        n1 = _sum([z3.If(x.present, 1, 0) for x in r1])
        n2 = _sum([z3.If(x.present, 1, 0) for x in r2])
        p1, p2 = positions(r1), positions(r2)
        terms = [n1 != n2]
        for i, x in enumerate(r1):
            tick()
            for j, y in enumerate(r2):
                terms.append(And(x.present, y.present, p1[i] == p2[j], Not(same_row(x.vals, y.vals))))
        return Or(terms)
    raise ValueError(f"unknown semantics {semantics!r}")
