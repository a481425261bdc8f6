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

The two plans are first rewritten by the rules of `verify.rules` (the plan-phase rules once over
each plan; the level-phase rules at each level the walk reaches), so that plans written
differently meet; `prove_for_every_size(..., trace=[])` tells which rules fired and where the
plans met. The walk compares the two plans level by level with the steps of `COMPARISONS`, tried
in order: the first that applies decides how the level is compared (`verify rules` lists them).

The comparison uses only single-row facts of the schema (NOT NULL and primary-key columns are not
NULL); keys, which relate several rows, are used only by the plan rules that rely on them
(`verify.keyed`), and foreign keys are left to the bounded search.

Example: `SELECT a FROM t WHERE NOT (a = 7 AND a = 8)` and `SELECT a FROM t` are equivalent for
every database when `a` is NOT NULL (the condition is then always true); when `a` may be NULL the
condition is NULL for such a row, the row is dropped, and the check (correctly) fails.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace

import z3

from verify import ir
from verify.blocks import DERIVED, SPJ, blocks, derived_name, deterministic, is_derived, map_cols, plain, shift
from verify.assumptions import AssumptionPolicy
from verify.encode import Encoder
from verify.facts import row_facts
from verify.implication import always_empty, solver_kind
from verify.keyed import never_null, rows_distinct
from verify.plan_text import head, show
from verify.rewrite import IDENTICAL_WHEN_EQUAL, in_canonical_order, preprojected, reads_own_row_only, unwrapped
from verify.rules import Context, Fired, first_sentence, level_rewritten, plan_rewritten
from verify.schema import Affinity, Column, Schema
from verify.values import FALSE, TRUE, V, check_within, checks_remembered, fresh, is_true, same_row

MAX_PERMUTATIONS = 24


def prove_for_every_size(r1: ir.Rel, r2: ir.Rel, schema: Schema, dialect: str,
                         trace: list[str] | None = None,
                         policy: AssumptionPolicy | None = None) -> tuple[bool, list[str]]:
    """True when r1 and r2 return the same bag on every database (and the assumptions used:
    only those `policy` allows narrow the tuples compared, see `verify.assumptions`).

    Each solver check has the resource limit of the enclosing `verify.values.metered` block
    (`Budget.proof_rlimit` within `check_pair`), so the answer is the same on every machine; a
    check the block's wall-clock deadline interrupts proves nothing and marks the meter.

    A plan rule that fires on one side only can keep the two plans from meeting where they met
    without it (a parent join left out where the other side reads the parent): when the proof
    fails, it is tried again without each such rule, then without all of them (every rule is
    exact, so a proof with fewer of them is a proof too).

    With a `trace` list, lines telling the rules that fired on each side (`verify.rules`) and
    where the two plans met are appended to it.

    A check asked again within the proof is answered as it was the first time (`verify.values.checks_remembered`)."""
    with checks_remembered():
        ok, notes, one_sided = _proved(r1, r2, schema, dialect, trace, policy, skip=frozenset())
        retries = [frozenset({name}) for name in sorted(one_sided)] + ([one_sided] if len(one_sided) > 1 else [])
        for skip in retries if not ok else []:
            _say(trace, lambda: "again without the plan rules that fired on one side only: " + ", ".join(sorted(skip)))
            ok, notes, _ = _proved(r1, r2, schema, dialect, trace, policy, skip=skip)
            if ok:
                break
    return ok, notes


def _proved(r1: ir.Rel, r2: ir.Rel, schema: Schema, dialect: str, trace: list[str] | None,
            policy: AssumptionPolicy | None, skip: frozenset[str]) -> tuple[bool, list[str], frozenset[str]]:
    """`prove_for_every_size` with the plan rules `skip` left out; also the names of the plan
    rules that fired on one side only."""
    ctx = Context(schema, dialect)
    fired: tuple[set[str], set[str]] = (set(), set())

    def on_side(n: int, side: str) -> Fired:
        tracer = rule_tracer(trace, side)

        def note(name: str, plan: ir.Rel, where: str = "") -> None:
            fired[n].add(name)
            if tracer is not None:
                tracer(name, plan, where)
        return note

    r1, r2 = (plan_rewritten(r, ctx, on_side(n, side), skip=skip)
              for n, (r, side) in enumerate(((r1, "gold"), (r2, "generated"))))
    one_sided = frozenset(fired[0] ^ fired[1])
    pairs = _differing_blocks(r1, r2, ctx, trace)
    if pairs is None:
        _say(trace, lambda: "the plans differ where row-wise reasoning cannot compare them")
        return False, [], one_sided
    notes: list[str] = []
    for a, b in pairs:
        ok, used = _unions_equivalent(a, b, schema, dialect, policy)
        if not ok:
            _say(trace, lambda: f"not proved: {_blocks_text(a, b)}: no pairing has the same pass condition and "
                                "output on every tuple")
            return False, [], one_sided
        _say(trace, lambda: f"proved: {_blocks_text(a, b)}, compared on one symbolic tuple per table: "
                            "same pass condition and output (Z3 unsat)")
        notes += [n for n in used if n not in notes]
    if not pairs:
        _say(trace, lambda: "proved: nothing differs between the two plans")
    return True, notes, one_sided


def _say(trace: list[str] | None, line: Callable[[], str]) -> None:
    """Append `line()` to `trace`, when there is one (the text is made only then)."""
    if trace is not None:
        trace.append(line())


def rule_tracer(trace: list[str] | None, side: str) -> Fired | None:
    """The `verify.rules` callback that traces the rules firing on one side's plan: the rule's
    name (and "in a subquery" when it rewrote a subquery's plan, which is then the plan shown),
    then the plan it gave, indented."""
    if trace is None:
        return None

    def traced(name: str, plan: ir.Rel, where: str = "") -> None:
        trace.extend([f"{side}: {name}{f' ({where})' if where else ''} gives"]
                     + ["    " + line for line in show(plan).splitlines()])
    return traced


def _blocks_text(a: list[SPJ], b: list[SPJ]) -> str:
    """The two bag unions of blocks compared, in words."""
    if len(a) == len(b) == 1:
        return "one select-project-join block on each side"
    return f"{len(a)} against {len(b)} select-project-join blocks, paired off one to one"


def under_the_same_order(r1: ir.Rel, r2: ir.Rel) -> tuple[ir.Rel, ir.Rel] | None:
    """The inputs of two identical ORDER BYs (same keys, no LIMIT or OFFSET), each under the
    same row-local projections, else None.

    Under list semantics rows that tie under ORDER BY are compared in one fixed order (an
    assumption the verdict states), so inputs with the same rows, sorted by the same keys, give
    the same list: a proof that the inputs are bag-equal for every size proves the ordered
    results equal for every size, e.g. a join written in another order under the same ORDER BY:

        SELECT t.name, c.title FROM t JOIN c ON t.id = c.tid ORDER BY t.name
            ~ SELECT t.name, c.title FROM c JOIN t ON c.tid = t.id ORDER BY t.name
    """
    if always_empty(r1) and always_empty(r2):
        return r1, r2  # two empty lists
    r1, r2 = _below_the_same_projections(r1, r2)
    if not (isinstance(r1, ir.Sort) and isinstance(r2, ir.Sort)) or not r1.keys:
        return None
    if r1.limit is not None or r2.limit is not None or r1.offset or r2.offset:
        return None  # which tied rows LIMIT keeps is the engine's choice
    if not ir.same(r1.keys, r2.keys) or not plain(tuple(k.expr for k in r1.keys)):
        return None
    return r1.input, r2.input


def the_same_top_k(r1: ir.Rel, r2: ir.Rel) -> tuple[ir.Sort, ir.Sort] | None:
    """Two identical ORDER BY ... LIMIT and/or OFFSET (same keys, LIMIT and OFFSET), each under
    the same row-local projections (none reading other rows), else None.

    Inputs with the same rows, sorted by the same keys, keep the same rows in the same order on
    every database on which no two of their rows tie under the keys; where rows tie, which of
    them LIMIT keeps is the engine's choice (its plan's), so a proof that the inputs are
    bag-equal leaves only ties to tell the two queries apart, e.g. (Spider q24)

        SELECT s.name FROM concert c JOIN stadium s ON c.sid = s.id GROUP BY s.id ORDER BY COUNT(*) DESC LIMIT 1
            ~ SELECT s.name FROM stadium s JOIN concert c ON s.id = c.sid GROUP BY s.id ORDER BY COUNT(*) DESC LIMIT 1
    """
    r1, r2 = _below_the_same_projections(r1, r2)
    if not (isinstance(r1, ir.Sort) and isinstance(r2, ir.Sort)) or not r1.keys or (r1.limit is None
                                                                                   and not r1.offset):
        return None
    if (r1.limit, r1.offset) != (r2.limit, r2.offset) or not ir.same(r1.keys, r2.keys):
        return None
    if not plain(tuple(k.expr for k in r1.keys)):
        return None
    return r1, r2


def ties_invisible(sort: ir.Sort) -> bool:
    """Rows that tie under `sort`'s keys are identical: each column of its rows is one of the
    keys, of a kind whose equal values are identical (NULLs tie with NULLs), so which of the tied
    rows a LIMIT keeps, and in which order, changes nothing in the result.

        SELECT name FROM t ORDER BY name LIMIT 3
    """
    keyed = {k.expr.index for k in sort.keys if isinstance(k.expr, ir.Col)}
    return all(n in keyed and c.kind in IDENTICAL_WHEN_EQUAL for n, c in enumerate(sort.input.columns))


def _below_the_same_projections(r1: ir.Rel, r2: ir.Rel) -> tuple[ir.Rel, ir.Rel]:
    """The inputs of the projections both plans start with while these are the same row-local
    projection (no subquery), e.g. the columns an ORDER BY sorts by but the result leaves out."""
    while isinstance(r1, ir.Project) and isinstance(r2, ir.Project) and ir.same(r1.exprs, r2.exprs) \
            and plain(r1.exprs):
        r1, r2 = r1.input, r2.input
    return r1, r2


def _unions_equivalent(a: list[SPJ], b: list[SPJ], schema: Schema, dialect: str,
                       policy: AssumptionPolicy | None = None,
                       params: tuple[str, ...] = ()) -> tuple[bool, list[str]]:
    """Two bag unions of blocks are equal on every database if, once the blocks no row can pass
    are dropped, the blocks pair off one to one into equivalent blocks (for all values of the
    parameters, of kinds `params`, that they read as columns of an enclosing row)."""
    if len(a) == len(b) == 1:
        return _spj_equivalent(a[0], b[0], schema, dialect, policy, params)
    a = [x for x in a if not _never_passes(x, schema, dialect, policy, params)]
    b = [x for x in b if not _never_passes(x, schema, dialect, policy, params)]
    if len(a) != len(b):
        return False, []
    notes: list[str] = []
    memo: dict[tuple[int, int], bool] = {}

    def match(i: int, free: list[int]) -> bool:  # pair a[i:] with the blocks of b in `free`
        if i == len(a):
            return True
        for j in free:
            if (i, j) not in memo:
                ok, used = _spj_equivalent(a[i], b[j], schema, dialect, policy, params)
                memo[(i, j)] = ok
                notes.extend(n for n in used if n not in notes)
            if memo[(i, j)] and match(i + 1, [f for f in free if f != j]):
                return True
        return False

    return (True, notes) if match(0, list(range(len(b)))) else (False, [])


def _never_passes(block: SPJ, schema: Schema, dialect: str,
                  policy: AssumptionPolicy | None = None, params: tuple[str, ...] = ()) -> bool:
    """No tuple of any database satisfies the block's condition (e.g. `a = 7 AND a = 8`), whatever
    its EXISTS subqueries answer."""
    enc = Encoder(schema, 0, dialect, tables=set(), assumptions=policy)
    rows = _tuple_cells(enc, block.tables)
    cells = [v for r in rows for v in r]
    cond, found = _exists_as_marks(block.cond, len(cells))
    passes = is_true(enc.expr(cond, cells + _marks(enc, len(found)), _parameters(enc, params)))
    s = z3.Solver()
    s.add(*enc.side, *enc.assumptions, passes, *_cell_facts(schema, block.tables, rows))
    return check_within(s).status == z3.unsat


def _tuple_cells(enc: Encoder, tables: list[ir.Scan]) -> list[list[V]]:
    """One symbolic row per table of a block (declared date columns give evidence for
    `date_text`)."""
    rows = [[fresh(enc.fresh_name(f"{t.table}.{c.name}"), solver_kind(c.kind)) for c in t.columns] for t in tables]
    for t, r in zip(tables, rows):
        if not is_derived(t.table):
            enc.declare_cells(t.table, r)
    return rows


def _cell_facts(schema: Schema, tables: list[ir.Scan], rows: list[list[V]]) -> list[z3.BoolRef]:
    """What the schema says of one row per table: a NUMERIC cell of a table holds an INTEGER
    exactly when its value is integral (a derived value need not: 1.5 + 1.5 is the REAL 3.0),
    NOT NULL and primary-key cells are not NULL."""
    return [_num_flag(v) for t, r in zip(tables, rows) if not is_derived(t.table) for v in r] + \
        [z3.Not(v.null) for t, r in zip(tables, rows) for c, v in zip(_schema_cols(schema, t), r) if c.not_null]


def _parameters(enc: Encoder, kinds: tuple[str, ...]) -> tuple:
    """The enclosing row a subquery's blocks read (`Outer(1, k)`), one symbolic value per
    parameter, as the encoder's `outer` argument."""
    return (tuple(fresh(enc.fresh_name(f"param{k}"), solver_kind(kind)) for k, kind in enumerate(kinds)),) \
        if kinds else ()


# ----------------------------------------------------------------------------- EXISTS in blocks
def _exists_as_marks(cond: ir.Expr, first: int) -> tuple[ir.Expr, list[ir.ExistsAt]]:
    """`cond` with its n-th `ExistsAt` read as the boolean column `first + n`, and those
    `ExistsAt`s (`verify.blocks.exists_at`)."""
    found: list[ir.ExistsAt] = []

    def mark(n: ir.Expr) -> ir.Expr:
        if not isinstance(n, ir.ExistsAt):
            return n
        found.append(n)
        return ir.Col(first + len(found) - 1, "bool")
    return ir.transform(cond, mark, into_subqueries=False), found


def _marks(enc: Encoder, n: int) -> list[V]:
    """Symbolic answers of n EXISTS subqueries: TRUE or FALSE, never NULL."""
    return [V("bool", z3.Bool(enc.fresh_name("exists")), FALSE) for _ in range(n)]


def _exists_consistent(found: list[tuple[ir.ExistsAt, list[V]]], marks: list[V],
                       same_predicate: Callable[[ir.Rel, ir.Rel], bool]) -> list[z3.BoolRef]:
    """The EXISTS subqueries of the blocks compared, each with its arguments' values, as
    uninterpreted predicates: two that test the same predicate (`same_predicate`) answer alike
    where their arguments are the same values. That holds on every database, so a proof that
    assumes only this holds whatever the subqueries' tables hold."""
    return [z3.Implies(_identical_row(args_x, args_y), marks[i].v == marks[j].v)
            for (i, (x, args_x)), (j, (y, args_y)) in itertools.combinations(enumerate(found), 2)
            if same_predicate(x.query, y.query)]


def _identical_row(a: list[V], b: list[V]) -> z3.BoolRef:
    """The values are the same values: both NULL or equal, of one kind whose equal values are
    identical (`IDENTICAL_WHEN_EQUAL`; not REAL, whose 0.0 and -0.0 are equal yet tell apart)."""
    if len(a) != len(b) or any(x.kind != y.kind or x.kind not in IDENTICAL_WHEN_EQUAL for x, y in zip(a, b)):
        return FALSE
    return z3.And([z3.And(x.null == y.null, z3.Or(x.null, x.v == y.v)) for x, y in zip(a, b)])


def _same_exists_predicate(q1: ir.Rel, q2: ir.Rel, schema: Schema, dialect: str,
                           policy: AssumptionPolicy | None, notes: list[str]) -> bool:
    """EXISTS of `q1` and of `q2` (subqueries of `ExistsAt`s, reading their arguments as
    `Outer(1, k)`) answer alike on every database for every value of their parameters: they are
    the same plan, or bag unions of blocks that, without their outputs, pair off into equivalent
    blocks (the same number of tuples passes). The assumptions that proof used go to `notes`."""
    if ir.same(q1, q2):
        return True
    kinds = _parameter_kinds(q1)
    if kinds is None or kinds != _parameter_kinds(q2):
        return False
    b1, b2 = blocks(q1, always_empty, params=True), blocks(q2, always_empty, params=True)
    if b1 is None or b2 is None:
        return False
    ok, used = _unions_equivalent([replace(x, exprs=[]) for x in b1], [replace(x, exprs=[]) for x in b2],
                                  schema, dialect, policy, kinds)
    notes.extend(n for n in used if ok and n not in notes)
    return ok


def _parameter_kinds(query: ir.Rel) -> tuple[str, ...] | None:
    """The kinds of the parameters `Outer(1, 0..n-1)` a subquery reads, or None where one is read
    with two kinds."""
    kinds: dict[int, str] = {}
    for n in ir.walk(query):
        if isinstance(n, ir.Outer) and kinds.setdefault(n.index, n.kind) != n.kind:
            return None
    return tuple(kinds.get(k, "int") for k in range(max(kinds, default=-1) + 1))


# ----------------------------------------------------------------------------- the comparison
Pairs = list[tuple[list[SPJ], list[SPJ]]]


class Skip(enum.Enum):
    """What a comparison step answers where it does not apply."""

    SKIP = "does not apply"


SKIP = Skip.SKIP
# what a comparison step that applies answers: the pairs of bag unions of SPJ blocks where the two
# plans differ below the level, or None when a difference lies where row-wise reasoning cannot reach
Outcome = Pairs | None
Step = Callable[[ir.Rel, ir.Rel, Context, list[str] | None], Outcome | Skip]


@dataclass(frozen=True)
class Comparison:
    """One step of the comparison of two plans at a level: its name, its function, and whether it
    sees the level as given or after the level rules (`verify.rules.level_rewritten`)."""

    name: str
    fn: Step
    rewritten: bool

    @property
    def doc(self) -> str:
        """The first sentence of the step's docstring, on one line."""
        return first_sentence(self.fn.__doc__)


def _differing_blocks(r1: ir.Rel, r2: ir.Rel, ctx: Context, trace: list[str] | None = None) -> Outcome:
    """Walk both trees while their operators are identical; return the pairs of bag unions of
    SPJ blocks where they differ, or None when a difference lies somewhere row-wise reasoning
    cannot reach. At each level the steps of `COMPARISONS` are tried in order and the first that
    applies decides; the level is rewritten by the level rules (`verify.rules`) before the first
    step that sees it rewritten."""
    rewritten = False
    for step in COMPARISONS:
        if step.rewritten and not rewritten:
            r1 = level_rewritten(r1, ctx, rule_tracer(trace, "gold"))
            r2 = level_rewritten(r2, ctx, rule_tracer(trace, "generated"))
            rewritten = True
        out = step.fn(r1, r2, ctx, trace)
        if out is not SKIP:
            return out
    raise AssertionError("the last comparison step applies to every pair")


def columns_differ(r1: ir.Rel, r2: ir.Rel, ctx: Context, trace: list[str] | None) -> Outcome | Skip:
    """Plans with different numbers of columns cannot be compared row by row."""
    return None if len(r1.columns) != len(r2.columns) else SKIP


def same_plan(r1: ir.Rel, r2: ir.Rel, ctx: Context, trace: list[str] | None) -> Outcome | Skip:
    """The same deterministic plan on both sides: nothing differs below."""
    if not (ir.same(r1, r2) and deterministic(r1)):
        return SKIP
    _say(trace, lambda: f"the same plan on both sides: {head(r1)}")
    return []


def both_always_empty(r1: ir.Rel, r2: ir.Rel, ctx: Context, trace: list[str] | None) -> Outcome | Skip:
    """Two plans that return no row on any database: nothing differs below."""
    if not (always_empty(r1) and always_empty(r2)):
        return SKIP
    _say(trace, lambda: f"both sides are always empty: {head(r1)}")
    return []


def select_project_join_blocks(r1: ir.Rel, r2: ir.Rel, ctx: Context, trace: list[str] | None) -> Outcome | Skip:
    """Two plans that are bag unions of select-project-join blocks: the blocks are compared.

    They are compared on one symbolic tuple of the tables read (`_unions_equivalent`). A WHERE's
    EXISTS whose subquery is itself a union of blocks is part of the block, as a predicate of
    the block's columns it reads (`verify.blocks.exists_at`): wherever it sits among the joins,
    e.g. `NOT EXISTS (... r.k = l.k AND r.s <> l.s)` over a join against the same NOT EXISTS
    filtering `l` before the join. Two such predicates are taken to answer alike where their
    subqueries are proved to pass the same tuples for every value of the columns read, and the
    columns read are the same values (`_exists_consistent`); nothing else is assumed of them."""
    a, b = blocks(r1, always_empty, exists=True), blocks(r2, always_empty, exists=True)
    if a is None or b is None:
        return SKIP
    _say(trace, lambda: f"the plans meet as select-project-join blocks: {head(r1)} / {head(r2)}")
    return [(a, b)]


def pass_through_unwrapped(r1: ir.Rel, r2: ir.Rel, ctx: Context, trace: list[str] | None) -> Outcome | Skip:
    """Different operators, one side passing its input through (`SELECT *`): that is unwrapped.

    The plans without such projections (`verify.rewrite.unwrapped`) are compared."""
    if type(r1) is type(r2):
        return SKIP
    u1, u2 = unwrapped(r1), unwrapped(r2)
    return _differing_blocks(u1, u2, ctx, trace) if u1 is not r1 or u2 is not r2 else SKIP


def distinct_rows_as_distinct(r1: ir.Rel, r2: ir.Rel, ctx: Context, trace: list[str] | None) -> Outcome | Skip:
    """Different operators, one side a DISTINCT, the other's rows all different: that side is its DISTINCT.

    No two of its rows are the same (`verify.keyed.rows_distinct`), so a DISTINCT over it keeps
    every row; the two DISTINCTs are then compared."""
    if type(r1) is type(r2) or isinstance(r1, ir.Distinct) == isinstance(r2, ir.Distinct):
        return SKIP
    other = r2 if isinstance(r1, ir.Distinct) else r1
    if not rows_distinct(other, ctx.schema):
        return SKIP
    wrapped = level_rewritten(ir.Distinct(other.columns, other), ctx)
    if not isinstance(wrapped, ir.Distinct):  # the DISTINCT is left out again: no progress
        return SKIP
    _say(trace, lambda: f"rows all different, compared as their DISTINCT: {head(other)}")
    return _differing_blocks(*((r1, wrapped) if other is r2 else (wrapped, r2)), ctx, trace)


def operators_paired(r1: ir.Rel, r2: ir.Rel, ctx: Context, trace: list[str] | None) -> Outcome | Skip:
    """Different operators, both blocks over operators that are not blocks: those are paired, then compared.

    An operator that is not a select-project-join block (a DISTINCT, an aggregate, an outer
    join, a filter with a subquery) becomes one table of its block (`blocks(opaque=...)`), e.g.
    the DISTINCT an IN subquery becomes when it is read as a join. Each such table of one side
    is paired with the first unpaired one of the other that reads the same tables and has the
    same column kinds, both deterministic; each pair gets a table name of its own, so the blocks
    compared read the same table exactly where their operators are paired. The outcome holds
    the blocks and the comparison of each pair of operators: a proof shows that paired
    operators hold the same rows on every database, so the blocks over them read the same
    rows. Neither side may be one such operator as a whole (that is the level itself).

    The same operator on both sides is compared by the steps after this one, unless the two
    are blocks of different shapes (a filter over an inner join against one over a cross join,
    e.g. once a repeated semi join is left out): then the pairing is tried first, and it
    decides only where it proves the blocks equal (else those steps compare the level)."""
    if type(r1) is not type(r2):
        return _blocks_over_paired_operators(r1, r2, ctx, trace)
    if _block_shape(r1) == _block_shape(r2):
        return SKIP
    said: list[str] = []
    out = _blocks_over_paired_operators(r1, r2, ctx, said)
    if out is SKIP or out is None or not all(_unions_equivalent(a, b, ctx.schema, ctx.dialect)[0] for a, b in out):
        return SKIP
    if trace is not None:
        trace += said
    return out


def _block_shape(rel: ir.Rel) -> tuple:
    """The operators of the select-project-join block at the top of `rel` (filters,
    projections, inner and cross joins), in order, each leaf below them as "leaf"."""
    if isinstance(rel, (ir.Filter, ir.Project)):
        return (type(rel).__name__, _block_shape(rel.input))
    if isinstance(rel, ir.Join) and rel.kind in ("inner", "cross"):
        return (rel.kind, _block_shape(rel.left), _block_shape(rel.right))
    return ("leaf",)


def _blocks_over_paired_operators(r1: ir.Rel, r2: ir.Rel, ctx: Context, trace: list[str] | None) -> Outcome | Skip:
    """`operators_paired` whatever the two operators are."""
    ops1: dict[int, ir.Rel] = {}
    ops2: dict[int, ir.Rel] = {}
    a, b = blocks(r1, always_empty, ops1, exists=True), blocks(r2, always_empty, ops2, exists=True)
    if a is None or b is None or not ops1 or len(ops1) != len(ops2) \
            or any(op is r1 for op in ops1.values()) or any(op is r2 for op in ops2.values()):
        return SKIP
    pairs = _paired_operators(ops1, ops2)
    if pairs is None:
        return SKIP
    names: dict[int, str] = {}
    outcome: Pairs = []
    for n, (k1, k2) in enumerate(pairs, 1):
        _say(trace, lambda: f"operators paired as table {derived_name(n)}: {head(ops1[k1])} / {head(ops2[k2])}")
        inner = _differing_blocks(ops1[k1], ops2[k2], ctx, trace)
        if inner is None:
            return SKIP
        outcome += inner
        names[k1] = names[k2] = derived_name(n)

    def renamed(bs: list[SPJ]) -> list[SPJ]:
        return [replace(x, tables=[ir.Scan(t.columns, names[id(t)]) if id(t) in names else t for t in x.tables])
                for x in bs]
    _say(trace, lambda: f"the plans meet as blocks over paired operators: {head(r1)} / {head(r2)}")
    return [(renamed(a), renamed(b))] + outcome


def _paired_operators(ops1: dict[int, ir.Rel], ops2: dict[int, ir.Rel]) -> list[tuple[int, int]] | None:
    """Each operator of `ops1` paired with the first unpaired one of `ops2` reading the same
    tables with the same column kinds (keys: the ids of their tables in the blocks), or None
    where one finds no partner or one is not deterministic."""
    def signature(op: ir.Rel) -> tuple:
        return tuple(c.kind for c in op.columns), tuple(_tables(op))
    free = dict(ops2)
    pairs = []
    for k1, op1 in ops1.items():
        k2 = next((k for k, op in free.items() if signature(op) == signature(op1)), None)
        if k2 is None or not deterministic(op1) or not deterministic(free[k2]):
            return None
        pairs.append((k1, k2))
        del free[k2]
    return pairs


def different_operators(r1: ir.Rel, r2: ir.Rel, ctx: Context, trace: list[str] | None) -> Outcome | Skip:
    """Different operators otherwise cannot be compared row by row."""
    return None if type(r1) is not type(r2) else SKIP


def _same_operator(r1: ir.Rel, r2: ir.Rel, trace: list[str] | None) -> None:
    """Trace that the two sides have the same operator and their inputs are compared."""
    _say(trace, lambda: f"the same operator on both sides, inputs compared: {head(r1)} / {head(r2)}")


def same_distinct(r1: ir.Rel, r2: ir.Rel, ctx: Context, trace: list[str] | None) -> Outcome | Skip:
    """DISTINCT on both sides: the inputs are compared."""
    if not (isinstance(r1, ir.Distinct) and isinstance(r2, ir.Distinct)):
        return SKIP
    _same_operator(r1, r2, trace)
    return _differing_blocks(r1.input, r2.input, ctx, trace)


def same_set_operation(r1: ir.Rel, r2: ir.Rel, ctx: Context, trace: list[str] | None) -> Outcome | Skip:
    """The same set operation on columns of the same kinds: the branches are compared.

    Left with left and right with right; those of UNION ALL also the other way round."""
    if not (isinstance(r1, ir.SetOp) and isinstance(r2, ir.SetOp) and (r1.op, r1.all) == (r2.op, r2.all)
            and [c.kind for c in r1.columns] == [c.kind for c in r2.columns]):
        return SKIP
    _same_operator(r1, r2, trace)
    orders = [(r2.left, r2.right)]
    kinds = [[c.kind for c in r.columns] for r in (r1, r1.left, r1.right, r2.left, r2.right)]
    if r1.op == "union" and r1.all and all(k == kinds[0] for k in kinds):
        # UNION ALL is commutative (no kind unified): try the branches the other way round too,
        # first when that pairs branches reading the same tables
        orders.insert(0 if _tables(r1.left) == _tables(r2.right) != _tables(r2.left) else 1, (r2.right, r2.left))
    for l2, r2_ in orders:
        left, right = _differing_blocks(r1.left, l2, ctx, trace), _differing_blocks(r1.right, r2_, ctx, trace)
        if left is not None and right is not None:
            return left + right
    return None


def same_row_local_operator(r1: ir.Rel, r2: ir.Rel, ctx: Context, trace: list[str] | None) -> Outcome | Skip:
    """The same projection or filter: the inputs, then the two on one row.

    Projections or conditions that read subqueries are compared only when they are identical and
    their subqueries read no row but the one they are computed on and leave the engine no choice
    (each then has one value on each row): by their inputs alone.

    The inputs are compared, and the two projections (conditions) on one symbolic row of the
    input; projections of aggregates with the same GROUP BY keys in another order are aligned
    first (`_align_group_keys`). The same projection of inputs with different operators, both
    blocks over operators that are not blocks, is compared as `operators_paired` compares such
    blocks, on the columns it projects only: the rest of its inputs' columns may differ."""
    if not (isinstance(r1, ir.Project) and isinstance(r2, ir.Project)
            or isinstance(r1, ir.Filter) and isinstance(r2, ir.Filter)):
        return SKIP
    if isinstance(r1, ir.Project) and isinstance(r2, ir.Project):
        r2 = _align_group_keys(r1, r2)
        r1, r2 = _preprojected_inputs(r1, r2)
        r2 = _align_group_keys(r1, r2)
    e1 = r1.exprs if isinstance(r1, ir.Project) else (r1.cond,)
    e2 = r2.exprs if isinstance(r2, ir.Project) else (r2.cond,)
    if not (plain(e1) and plain(e2)):
        if not (ir.same(e1, e2) and reads_own_row_only(e1, correlated=True)):
            return SKIP
        # the same values of each row, computed from it alone and subqueries that read it and
        # leave the engine no choice: bag-equal inputs give bag-equal results
        _same_operator(r1, r2, trace)
        return _differing_blocks(r1.input, r2.input, ctx, trace)
    if isinstance(r1, ir.Project) and ir.same(e1, e2):
        paired = _paired_below_projection(r1, r2, ctx, trace)
        if paired is not SKIP:
            return paired
    _same_operator(r1, r2, trace)
    inner = _differing_blocks(r1.input, r2.input, ctx, trace)
    if inner is None or ir.same(e1, e2):
        return inner
    # the same row-local operator in two forms over bag-equal inputs: compare it on one
    # symbolic row of the input
    if [c.kind for c in r1.input.columns] != [c.kind for c in r2.input.columns]:
        return None
    src = ir.Scan(r1.input.columns, DERIVED)
    ids = [ir.Col(i, c.kind, c.affinity) for i, c in enumerate(r1.input.columns)]
    # the two inputs hold the same rows, so the facts of either hold for both
    facts = frozenset(never_null(r1.input, ctx.schema) | never_null(r2.input, ctx.schema))
    if isinstance(r1, ir.Project):
        return inner + [([SPJ([src], ir.Lit(True, "bool"), list(e1), facts)],
                         [SPJ([src], ir.Lit(True, "bool"), list(e2), facts)])]
    return inner + [([SPJ([src], e1[0], ids, facts)], [SPJ([src], e2[0], ids, facts)])]


def _paired_below_projection(r1: ir.Project, r2: ir.Project, ctx: Context,
                             trace: list[str] | None) -> Outcome | Skip:
    """The same projection of inputs that, rewritten by the level rules as the comparison of the
    inputs would rewrite them, have different operators: compared as `operators_paired` compares
    blocks over operators that are not blocks, on the columns the projection reads only."""
    steps: list[str] = []
    i1 = level_rewritten(r1.input, ctx, rule_tracer(steps, "gold"))
    i2 = level_rewritten(r2.input, ctx, rule_tracer(steps, "generated"))
    if type(i1) is type(i2):
        return SKIP
    paired = _blocks_over_paired_operators(replace(r1, input=i1), replace(r2, input=i2), ctx, steps)
    if paired is not SKIP and trace is not None:
        trace.extend(steps)
    return paired


def same_join(r1: ir.Rel, r2: ir.Rel, ctx: Context, trace: list[str] | None) -> Outcome | Skip:
    """The same inner, cross, left or full join: the inputs, then the conditions on one row pair.

    The inputs are compared pairwise, and the two conditions (without subqueries) on one symbolic
    pair of input rows."""
    if not (isinstance(r1, ir.Join) and isinstance(r2, ir.Join) and r1.kind == r2.kind
            and r1.kind in ("inner", "cross", "left", "full")
            and plain(tuple(c for c in (r1.cond, r2.cond) if c is not None))):
        return SKIP
    _same_operator(r1, r2, trace)
    # the same join of bag-equal inputs, on conditions true for the same pairs of rows
    left, right = _differing_blocks(r1.left, r2.left, ctx, trace), _differing_blocks(r1.right, r2.right, ctx, trace)
    if left is None or right is None:
        return None
    if ir.same(r1.cond, r2.cond):
        return left + right
    src = ir.Scan(r1.columns, DERIVED)
    ids = [ir.Col(i, c.kind, c.affinity) for i, c in enumerate(r1.columns)]
    # compared on one row of each input, which satisfies the facts of both inputs' rows
    known = _input_facts(r1) + _input_facts(r2)
    c1, c2 = (ir.BoolOp("and", (*known, c if c is not None else ir.Lit(True, "bool"))) for c in (r1.cond, r2.cond))
    return left + right + [([SPJ([src], c1, ids)], [SPJ([src], c2, ids)])]


def same_aggregate(r1: ir.Rel, r2: ir.Rel, ctx: Context, trace: list[str] | None) -> Outcome | Skip:
    """The same grouping and aggregates: their inputs projected to keys and arguments are compared.

    The inputs projected to the keys, arguments and filters the aggregates read
    (`verify.rewrite.preprojected`) are compared when the two then have the same aggregates: bag
    equality there is all the aggregates need, and it holds whenever the whole inputs are equal
    (the two projections are the same), also when the inputs list their columns in another
    order (a join written the other way round). Otherwise the inputs themselves."""
    if not (isinstance(r1, ir.Aggregate) and isinstance(r2, ir.Aggregate)):
        return SKIP
    same_shape = (ir.same(r1.keys, r2.keys) and ir.same(r1.items, r2.items) and r1.grouped == r2.grouped
                  and not any(isinstance(i, ir.Bare) for i in r1.items)
                  and plain(r1.keys) and plain(tuple(i.arg for i in r1.items if i.arg is not None)))
    pre = _same_preprojected(r1, r2)
    if not same_shape and pre is None:
        return SKIP
    _same_operator(r1, r2, trace)
    if pre is not None:
        return _differing_blocks(pre[0].input, pre[1].input, ctx, trace)
    return _differing_blocks(r1.input, r2.input, ctx, trace)


def _same_preprojected(r1: ir.Aggregate, r2: ir.Aggregate) -> tuple[ir.Aggregate, ir.Aggregate] | None:
    """The two aggregates reading projections of their inputs (`verify.rewrite.preprojected`), when
    they then have the same keys, aggregates and grouping, else None."""
    p1, p2 = preprojected(r1), preprojected(r2)
    if p1 is None or p2 is None or not ir.same((p1.keys, p1.items), (p2.keys, p2.items)) or p1.grouped != p2.grouped:
        return None
    return p1, p2


def same_window(r1: ir.Rel, r2: ir.Rel, ctx: Context, trace: list[str] | None) -> Outcome | Skip:
    """The same window functions, none depending on how tied rows are ordered: the inputs are compared.

    An aggregate over its partition (whole, or up to the current row's peers) and RANK give
    each row a value fixed by the row and the rows of its partition, so inputs holding the same
    rows give the same rows; ROW_NUMBER and ROWS frames depend on the order of tied rows and
    are not compared."""
    if not (isinstance(r1, ir.Window) and isinstance(r2, ir.Window) and ir.same(r1.funcs, r2.funcs)
            and all(f.func != "row_number" and f.frame != "rows" for f in r1.funcs)
            and plain(tuple(x for f in r1.funcs for x in (f.arg, *f.partition, *(k.expr for k in f.order))
                            if x is not None))):
        return SKIP
    _same_operator(r1, r2, trace)
    return _differing_blocks(r1.input, r2.input, ctx, trace)


def same_operator_otherwise(r1: ir.Rel, r2: ir.Rel, ctx: Context, trace: list[str] | None) -> Outcome | Skip:
    """The same operator on both sides that no step above compares: not compared row by row."""
    _same_operator(r1, r2, trace)
    return None


COMPARISONS: tuple[Comparison, ...] = (
    Comparison("columns_differ", columns_differ, rewritten=False),
    Comparison("same_plan", same_plan, rewritten=False),
    Comparison("both_always_empty", both_always_empty, rewritten=True),
    Comparison("select_project_join_blocks", select_project_join_blocks, rewritten=True),
    Comparison("pass_through_unwrapped", pass_through_unwrapped, rewritten=True),
    Comparison("distinct_rows_as_distinct", distinct_rows_as_distinct, rewritten=True),
    Comparison("operators_paired", operators_paired, rewritten=True),
    Comparison("different_operators", different_operators, rewritten=True),
    Comparison("same_distinct", same_distinct, rewritten=True),
    Comparison("same_set_operation", same_set_operation, rewritten=True),
    Comparison("same_row_local_operator", same_row_local_operator, rewritten=True),
    Comparison("same_join", same_join, rewritten=True),
    Comparison("same_aggregate", same_aggregate, rewritten=True),
    Comparison("same_window", same_window, rewritten=True),
    Comparison("same_operator_otherwise", same_operator_otherwise, rewritten=True),
)


def _tables(rel: ir.Rel) -> list[str]:
    """The tables `rel` scans, with repetitions, in sorted order."""
    return sorted(n.table.lower() for n in ir.nodes(rel) if isinstance(n, ir.Scan))


def _input_facts(j: ir.Join) -> list[ir.Expr]:
    """The row facts of a join's two inputs, over the join's columns."""
    n = len(j.left.columns)
    left, right = row_facts(j.left), row_facts(j.right)
    return [f for fs in left.values() for f in fs] + [shift(f, n) for fs in right.values() for f in fs]


def _preprojected_inputs(r1: ir.Project, r2: ir.Project) -> tuple[ir.Project, ir.Project]:
    """Two projections of aggregates, each reading its input projected to its keys and arguments
    (`verify.rewrite.preprojected`, the same results), when the two aggregates read their inputs
    differently: keys and arguments are then numbered alike on both sides."""
    a1, a2 = r1.input, r2.input
    if not (isinstance(a1, ir.Aggregate) and isinstance(a2, ir.Aggregate)) or \
            ir.same((a1.keys, a1.items), (a2.keys, a2.items)):
        return r1, r2
    r1, r2 = _items_in_canonical_order(r1), _items_in_canonical_order(r2)
    p1, p2 = preprojected(r1.input), preprojected(r2.input)  # type: ignore[arg-type]
    if p1 is None or p2 is None:
        return r1, r2
    return replace(r1, input=p1), replace(r2, input=p2)


def _items_in_canonical_order(r: ir.Project) -> ir.Project:
    """A projection of an aggregate whose aggregates are listed in the order
    `verify.rewrite.in_canonical_order` gives (the projection reading them where they moved)."""
    agg = r.input
    found = in_canonical_order(agg)  # type: ignore[arg-type]
    if found is None or not plain(r.exprs):
        return r
    new, order = found
    nk = len(agg.keys)  # type: ignore[attr-defined]
    moved = {nk + old: nk + i for i, old in enumerate(order)}
    return replace(r, input=new, exprs=tuple(map_cols(e, lambda c: replace(c, index=moved.get(c.index, c.index)))
                                             for e in r.exprs))


def _align_group_keys(r1: ir.Project, r2: ir.Project) -> ir.Project:
    """`GROUP BY a, b` and `GROUP BY b, a` form the same groups, and `SELECT MIN(x), COUNT(*)`
    computes what `SELECT COUNT(*), MIN(x)` does: when two projections read aggregates whose keys
    and aggregates are the same up to order, rewrite the second to list them in the first's order
    (and its projection to match), so that the two can be compared."""
    a1, a2 = r1.input, r2.input
    if not (isinstance(a1, ir.Aggregate) and isinstance(a2, ir.Aggregate)):
        return r2
    if ir.same((a1.keys, a1.items), (a2.keys, a2.items)) or not plain(r2.exprs):  # subqueries: other scopes
        return r2
    n = len(a2.keys)
    moved = {}  # old output column of a2 → new
    for offset, mine, theirs in ((0, a1.keys, a2.keys), (n, a1.items, a2.items)):
        if len(mine) != len(theirs) or sorted(map(ir.key, mine)) != sorted(map(ir.key, theirs)):
            return r2
        if len(set(map(ir.key, mine))) != len(mine):
            return r2
        position = {ir.key(x): i for i, x in enumerate(mine)}
        moved |= {offset + j: offset + position[ir.key(x)] for j, x in enumerate(theirs)}
    back = {new: old for old, new in moved.items()}
    cols = tuple(a2.columns[back[i]] for i in range(len(a2.columns)))
    agg = replace(a2, columns=cols, keys=a1.keys, items=a1.items)
    exprs = tuple(map_cols(e, lambda c: replace(c, index=moved.get(c.index, c.index))) for e in r2.exprs)
    return replace(r2, input=agg, exprs=exprs)


# ----------------------------------------------------------------------------- the proof
def _spj_equivalent(a: SPJ, b: SPJ, schema: Schema, dialect: str,
                    policy: AssumptionPolicy | None = None,
                    params: tuple[str, ...] = ()) -> tuple[bool, list[str]]:
    names_a = [t.table.lower() for t in a.tables]
    names_b = [t.table.lower() for t in b.tables]
    if sorted(names_a) != sorted(names_b) or len(a.exprs) != len(b.exprs):
        return False, []
    enc = Encoder(schema, 0, dialect, tables=set(), assumptions=policy)
    rows = _tuple_cells(enc, a.tables)
    outer = _parameters(enc, params)
    width = sum(len(r) for r in rows)
    cond_a, found_a = _exists_as_marks(a.cond, width)
    cond_b, found_b = _exists_as_marks(b.cond, width + len(found_a))
    marks = _marks(enc, len(found_a) + len(found_b))
    notes: list[str] = []
    memo: dict[tuple, bool] = {}

    def same_predicate(q1: ir.Rel, q2: ir.Rel) -> bool:
        k = (ir.key(q1), ir.key(q2))
        if k not in memo:
            memo[k] = _same_exists_predicate(q1, q2, schema, dialect, policy, notes)
        return memo[k]
    for perm in itertools.islice(_matchings(names_a, names_b), MAX_PERMUTATIONS):
        vals_a = [v for r in rows for v in r] + marks
        vals_b = [v for i in perm for v in rows[i]] + marks
        # under the identity matching the cells are the same, so an expression written alike on
        # both sides has the same value: it is encoded once (a string function's encoding is large)
        identity = list(perm) == list(range(len(perm)))
        ca = is_true(enc.expr(cond_a, vals_a, outer))
        cb = ca if identity and ir.same(a.cond, b.cond) else is_true(enc.expr(cond_b, vals_b, outer))
        out_a = [enc.expr(e, vals_a, outer) for e in a.exprs]
        out_b = [out_a[i] if identity and ir.same(e, a.exprs[i]) else enc.expr(e, vals_b, outer)
                 for i, e in enumerate(b.exprs)]
        found = [(x, [enc.expr(e, vals_a, outer) for e in x.args]) for x in found_a] + \
            [(x, [enc.expr(e, vals_b, outer) for e in x.args]) for x in found_b]
        s = z3.Solver()
        s.add(*enc.side, *enc.assumptions, *_cell_facts(schema, a.tables, rows))
        s.add(*[z3.Not(vals_a[i].null) for i in a.not_null])
        s.add(*_exists_consistent(found, marks, same_predicate))
        s.add(z3.Or(ca != cb, z3.And(ca, z3.Not(same_row(out_a, out_b)))))
        if check_within(s).status == z3.unsat:
            return True, list(enc.assumption_notes) + [n for n in notes if n not in enc.assumption_notes]
    return False, []


def _schema_cols(schema: Schema, scan: ir.Scan) -> list:
    """The schema's columns of a scanned table, NOT NULL set for primary-key columns too."""
    if is_derived(scan.table):
        return [Column(name=c.name, affinity=Affinity.INTEGER) for c in scan.columns]  # no facts
    t = schema.table(scan.table)
    pk = {c.lower() for c in t.primary_key}
    return [c.model_copy(update={"not_null": c.not_null or c.name.lower() in pk}) for c in t.columns]


def _num_flag(v) -> z3.BoolRef:
    return v.isint == z3.IsInt(v.v) if v.kind == "num" else TRUE


def _matchings(names_a: list[str], names_b: list[str]):
    """Maps from b's table positions to a's positions with the same table name."""
    for perm in itertools.permutations(range(len(names_a))):
        if all(names_a[perm[j]] == names_b[j] for j in range(len(names_b))):
            yield perm
