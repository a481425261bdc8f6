"""`check_pair`: the whole pipeline, shared by the CLI, the benchmarks and the agent.

    parse → lower (resolve + IR) → random pass → SMT for k = 1..bound → decode → confirm → minimize

It runs as named stages (`STAGES`) over one `CheckContext`: prepare the pair, the width check,
the identical and same-plan shortcuts, the row-wise proof, the hints, a first random pass, the
SMT search bound by bound, and the rest of the random budget when the solver stopped short;
the first stage that returns a verdict answers, else `_conclude` does. `CheckContext.verdict`
builds every verdict, and each carries its `proof` (how it was reached).

Every search counts work against a `verify.budget.Budget` (random databases, Z3 resource units,
minimizer runs), never seconds, so a verdict is the same on every machine; `timeout` is only a
safety stop, and a verdict it decides is `unknown` with a reason starting "time limit"
(`_safety_stopped`). So is the memory cap (`verify.memory`): a verdict a failed allocation
decides is `unknown` with a reason starting "memory limit".

Example:
    >>> from verify.schema_io import schema_from_ddl
    >>> s = schema_from_ddl("CREATE TABLE t (a INTEGER, b INTEGER);")
    >>> check_pair("SELECT COUNT(*) FROM t", "SELECT COUNT(a) FROM t", schema=s).verdict.value
    'not_equivalent'
    >>> check_pair("SELECT a FROM t WHERE a > 1", "SELECT a FROM t WHERE NOT a <= 1", schema=s).verdict.value
    'equivalent'
"""

from __future__ import annotations

import dataclasses
import functools
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import z3
from sqlglot import exp
from sqlglot.errors import SqlglotError

from verify import engine, ir
from verify.assumptions import TIES_NOTE, AssumptionPolicy, UnknownAssumption
from verify.blocks import same_plan
from verify.clock import natural_instant, pin_now, random_instant, reads_clock
from verify.decode import Tables, blocking_clause, decode, instant
from verify.budget import DEFAULT, Budget
from verify.encode import Encoder, EncodingTimeout, differ
from verify.errors import QueryError, Unsupported, snippet
from verify.hints import repairs
from verify.infer import infer_schema
from verify.keyed import never_tie
from verify.limits import check_options, paren_depth, query_size_problem, text_size_problem, too_deep, tree_depth
from verify.memory import MEMORY_LIMIT_MIB, memory_capped, memory_limit_problem
from verify.lower import lower_query, outer_order
from verify.minimize import minimize
from verify.names import ENGINE_NAMES, Dialect, Semantics
from verify.parse import parse_query
from verify.pools import dedupe, instants_near_literals, joined_columns, value_pools
from verify.randomdb import Links, Pools, random_search, renumberings, reorderings
from verify.rewrite import without_unlimited_sort
from verify.rowwise import prove_for_every_size, rule_tracer, the_same_top_k, ties_invisible, under_the_same_order
from verify.rules import Context as RulesContext, order_rewritten
from verify.schema import Schema, SchemaError
from verify.values import Meter, SolverStop, check_within, current_meter, metered
from verify.verdict import (Counterexample, Minimization, Proof, ProofMethod, Stats, TableData, Verdict,
                            VerdictKind)

MAX_UNCONFIRMED_PER_K = 5


@dataclass
class _Prepared:
    gold_sql: str  # the text as given: what the engine runs
    gen_sql: str
    gold_tree: exp.Expression
    gen_tree: exp.Expression
    gold: ir.Query
    gen: ir.Query
    schema: Schema
    semantics: str
    dialect: str
    notes: list[str]
    clock: bool = False  # a query reads the current time (verify.clock)
    now: str | None = None  # the instant the engine runs them at, once one is chosen

    @functools.cached_property
    def data_schema(self) -> Schema:
        """The tables the queries read and their parents (foreign keys): the only ones a
        counterexample needs rows in, so the engine is given only these."""
        if self.gold is None or self.gen is None:
            return self.schema
        return self.schema.restricted_to(set(self.gold.tables | self.gen.tables))

    @property
    def gold_run(self) -> str:
        """The gold query as the engine runs it: at `now` when it reads the clock."""
        return pin_now(self.gold_sql, self.now, self.dialect) if self.now else self.gold_sql

    @property
    def gen_run(self) -> str:
        return pin_now(self.gen_sql, self.now, self.dialect) if self.now else self.gen_sql


def check_pair(
    gold: str,
    gen: str,
    schema: Schema | None = None,
    *,
    bound: int = 4,
    semantics: Semantics | str = Semantics.AUTO,
    dialect: Dialect | str = Dialect.SQLITE,
    timeout: float = 30.0,
    budget: Budget | None = None,
    seed: int = 0,
    minimize_result: bool = True,
    shortcuts: bool = True,
    hints: list[dict[str, list[list[Any]]]] | None = None,
    strict: bool = False,
    assume: Sequence[str] = (),
    memory_limit: int | None = MEMORY_LIMIT_MIB,
) -> Verdict:
    """Decide whether `gold` and `gen` return the same result on every database with at most
    `bound` rows per table that satisfies `schema`'s constraints. See `verify.verdict`.

    `budget` (`verify.budget.DEFAULT` when None) limits the work of each search: random
    databases, Z3 resource units, minimizer runs. It decides the same way on every machine.
    `timeout` (seconds) is only a safety stop: a verdict that running into it decided is
    `unknown` with a reason starting "time limit" (the bounds proved before it stay in
    `proof.bounds`), while a confirmed counterexample found before it stays `not_equivalent`.

    `shortcuts=False` skips the proofs that avoid the SMT encoding (identical queries, row-wise
    reasoning): the coverage benchmark uses it to exercise the encoder on every query.

    `hints`: databases (table name → rows in the schema's column order) to try before any
    search, as given and repaired to fit the schema's constraints (`verify.hints`); e.g. the
    counterexample found without mined constraints when verifying with them. A hint only ever
    leads to a counterexample the engine confirms.

    `strict` and `assume`: which named domain assumptions may narrow the search
    (`verify.assumptions`): by default those on by default and those the schema's declared
    types back; `strict` drops the defaults; `assume` adds assumptions by name (an unknown name
    is an `error` verdict).

    `memory_limit` (MiB; None for none) caps how far the call may grow the process's memory
    (`verify.memory`): like the timeout, only a safety stop, and a verdict it decides is `unknown`
    with a reason starting "memory limit". The cap is process-wide while the call runs.

    A bound, timeout or memory limit out of range (`verify.limits`, `verify.memory`) is an
    `error` verdict, and so is a query too large or too deeply nested to verify, or one the
    engine cannot run (with the engine's message). A failure inside the verifier itself never escapes as an exception: it is an
    `error` verdict whose reason starts with "internal error"."""
    ctx = CheckContext(gold, gen, schema, bound=bound, semantics=semantics, dialect=dialect, timeout=timeout,
                       budget=budget or DEFAULT, seed=seed, minimize_result=minimize_result,
                       shortcuts=shortcuts, hints=hints or [], memory_limit=memory_limit)
    try:
        ctx.policy = AssumptionPolicy.make(strict, assume)
    except UnknownAssumption as e:
        return ctx.verdict(VerdictKind.ERROR, reason=str(e))
    problem = memory_limit_problem(memory_limit)
    if problem is not None:
        return ctx.verdict(VerdictKind.ERROR, reason=problem)
    try:
        with metered(ctx.meter), memory_capped(memory_limit):
            for stage in STAGES:
                verdict = stage(ctx)
                if verdict is not None:
                    return _safety_stopped(ctx, verdict)
            return _safety_stopped(ctx, _conclude(ctx))
    except MemoryError:  # Python's own allocation failed at the cap: nothing found so far is reported
        return ctx.verdict(VerdictKind.UNKNOWN, reason=_memory_limit(ctx, "while the verifier built its formulas"),
                           proof=ctx.proof("undecided", "the memory safety stop ended the search",
                                           bounds=list(ctx.proved)))
    except RecursionError:  # nesting within MAX_QUERY_DEPTH that a pass still cannot recurse through
        return ctx.verdict(VerdictKind.ERROR, reason=f"{_too_deep_for_a_pass(ctx)} (Python's recursion limit "
                                                     f"stopped the verifier)", stats=Stats(), semantics=semantics,
                           schema_inferred=False, assumptions=[])
    except Exception as e:  # noqa: BLE001 - reported, never swallowed
        # nothing the stages found is reported with it: the verdict is about the verifier
        return ctx.verdict(VerdictKind.ERROR, reason=f"internal error: {type(e).__name__}: {e}", stats=Stats(),
                           semantics=semantics, schema_inferred=False, assumptions=[])


@dataclass
class CheckContext:
    """One `check_pair` call as its stages share it: the inputs and options, the prepared pair,
    and what the stages have found so far (assumptions, bounds proved, a nondeterminism witness,
    the searches tried). `verdict` builds every verdict the call returns."""

    gold: str
    gen: str
    schema: Schema | None
    bound: int
    semantics: str
    dialect: str
    timeout: float
    budget: Budget
    seed: int
    minimize_result: bool
    shortcuts: bool
    hints: list[Tables]
    memory_limit: int | None = MEMORY_LIMIT_MIB  # MiB, the memory safety stop (`verify.memory`)
    start: float = field(default_factory=time.monotonic)
    stats: Stats = field(default_factory=Stats)
    prepared: _Prepared | None = None  # set by `_prepare_pair`
    assumptions: list[str] = field(default_factory=list)
    meter: Meter = field(init=False)  # the solver checks' limits and spending (`verify.values`)
    smt_left: int = field(init=False)  # Z3 resource units left for the SMT search
    time_stop: str | None = None  # where the wall-clock safety stop cut a search short, if it did
    memory_stop: str | None = None  # where the memory safety stop ended a solver check, if it did
    bounds: list[int] = field(default_factory=list)  # the bounds the SMT search tries
    proved: list[int] = field(default_factory=list)  # the bounds it proved, in order
    stopped: str | None = None  # why the SMT search ended before the last bound, if it did
    witness: Counterexample | None = None  # a difference that depends on an order SQLite leaves open
    only_ties_left: bool = False  # `_same_top_k` proved the inputs of the same ORDER BY ... LIMIT equal
    reserve_spent: bool = False  # the random budget's reserve has run (`_reserve_random_pass`)
    tried: list[str] = field(default_factory=list)  # searches that ran without deciding, for the proof
    policy: AssumptionPolicy = field(default_factory=AssumptionPolicy)  # which assumptions may narrow the search
    tie_twin: ir.Rel | None = None  # the gold plan again with a sort of its own, when only ties can differ (`_same_top_k`)
    # the SMT search was narrowed to databases without SQLite's open choices at a smaller bound
    # (`_smt_at`): a model of the smaller bound is one of the larger, so the plain search there
    # cannot prove anything either, and it starts narrowed (by the bare columns' choice)
    choices_narrowed: bool = False

    def __post_init__(self) -> None:
        self.meter = Meter(rlimit=self.budget.proof_rlimit, deadline=self.start + self.timeout)
        self.smt_left = self.budget.smt_rlimit

    def timed_out(self, where: str) -> None:
        """Record that the wall-clock safety stop cut a search short (`where`: which); the first
        such place is the one reported."""
        self.time_stop = self.time_stop or where

    @property
    def time_stopped(self) -> bool:
        """Did the wall clock decide anything in this call (a search cut short, a solver check
        interrupted)?"""
        return self.time_stop is not None or self.meter.time_stopped

    @property
    def prep(self) -> _Prepared:
        """The prepared pair (every stage after `_prepare_pair` has one)."""
        assert self.prepared is not None, "the pair is not prepared yet"
        return self.prepared

    @property
    def deadline(self) -> float:
        return self.start + self.timeout

    @property
    def reads_no_table(self) -> bool:
        return not self.prep.gold.tables and not self.prep.gen.tables

    @functools.cached_property
    def pools(self) -> Pools:
        return value_pools(self.prep)

    @functools.cached_property
    def links(self) -> Links:
        return joined_columns(self.prep)

    def verdict(self, kind: VerdictKind, **fields: Any) -> Verdict:
        """A verdict of `kind` with what every verdict of this call shares (semantics, dialect,
        statistics; once the pair is prepared, the semantics it resolved to, whether the schema
        was inferred, and the assumptions so far), timed now. `fields` add to or override these."""
        shared: dict[str, Any] = dict(semantics=self.semantics, dialect=self.dialect, stats=self.stats, requested_bound=self.bound)
        if self.prepared is not None:
            shared.update(semantics=self.prepared.semantics, schema_inferred=self.prepared.schema.inferred,
                          assumptions=list(self.assumptions))
        v = Verdict(verdict=kind, **{**shared, **fields})
        v.stats.seconds = round(time.monotonic() - self.start, 4)
        v.stats.rlimit = self.meter.spent
        return v

    def refuted(self, cex: Counterexample, method: ProofMethod, summary: str, *, k: int | None = None,
                reason: str = "", **proof: Any) -> Verdict:
        """`not_equivalent` on the confirmed counterexample `cex`, found by `method`; its bound is
        `k` when the SMT search found it, else the size of the database."""
        return self.verdict(VerdictKind.NOT_EQUIVALENT, bound=_size(cex.tables) if k is None else k,
                            counterexample=cex, confirmed=True, reason=reason,
                            proof=self.proof(method, summary, minimized=cex._minimized, k=k, **proof))

    def proof(self, method: ProofMethod, summary: str, **fields: Any) -> Proof:
        """How the verdict was reached, with the searches tried before it."""
        return Proof(method=method, summary=summary, tried=list(self.tried), only_ties_left=self.only_ties_left,
                     **fields)


Stage = Callable[[CheckContext], Verdict | None]


def _prepare_pair(ctx: CheckContext) -> Verdict | None:
    """Check the options, parse, resolve and lower both queries and run them once on the empty
    database: bad input (a query the engine cannot run included) is an `error`, SQL the verifier
    does not model gets the random pass alone (`_unsupported`)."""
    problem = check_options(bound=ctx.bound, timeout=ctx.timeout)
    if problem is not None:
        return ctx.verdict(VerdictKind.ERROR, reason=problem)
    unsupported: str | None = None
    try:
        ctx.prepared = _prepare(ctx.gold, ctx.gen, ctx.schema, ctx.semantics, ctx.dialect)
    except QueryError as e:
        return ctx.verdict(VerdictKind.ERROR, reason=str(e))
    except SchemaError as e:
        return ctx.verdict(VerdictKind.ERROR, reason=f"schema: {e}")
    except _UnsupportedPair as e:
        ctx.prepared, unsupported = e.prep, e.feature
    ctx.assumptions = list(ctx.prep.notes)
    problem = _engine_problem(ctx.prep, ctx.deadline)
    if problem is not None:
        return ctx.verdict(VerdictKind.ERROR, reason=problem)
    return None if unsupported is None else _unsupported(ctx, unsupported)


def _engine_problem(prep: _Prepared, deadline: float) -> str | None:
    """Why the engine cannot run the gold or the generated query, in its own words, or None:
    each runs once on the empty database, where a query fails only when it cannot run at all
    (SQLite's parser stack overflow, a bare `SELECT`). Running out of time here is no problem.

    The database has all of the schema's tables (the queries read only theirs, so they give the
    same results as on `data_schema`'s): one empty database then serves every pair over the
    schema (`engine.empty_database` keeps it), and a benchmark worker opens it before it forks
    its tasks (`benchmarks.evaluate.warm_up_verification`). A schema the engine cannot make in
    full falls back to the tables the queries read."""
    conn = None
    for schema in [prep.schema] + ([prep.data_schema] if prep.data_schema is not prep.schema else []):
        try:
            conn = engine.empty_database(schema, prep.dialect)
            break
        except (engine.EngineError, SchemaError):
            continue
    if conn is None:
        return None  # the schema's problem, reported by the stages that need its tables
    for sql, which in ((prep.gold_sql, "gold"), (prep.gen_sql, "generated")):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            engine.run_query(conn, sql, prep.dialect, timeout=remaining)
        except engine.EngineTimeout:
            return None
        except engine.EngineError as e:
            return f"{which} query: the {prep.dialect} engine cannot run it: {e}"
    return None


def _too_deep_for_a_pass(ctx: CheckContext) -> str:
    """The message for queries that ran into Python's recursion limit: how deep they nest."""
    if ctx.prepared is not None:
        return too_deep(max(tree_depth(ctx.prepared.gold_tree), tree_depth(ctx.prepared.gen_tree)))
    return too_deep(max(paren_depth(ctx.gold), paren_depth(ctx.gen)))


def _unsupported(ctx: CheckContext, feature: str) -> Verdict:
    """SQL the verifier cannot model may still be refuted: the random pass runs the queries
    themselves on the engine, and a difference it finds is as real as any."""
    run = _random_pass(ctx, ctx.budget.random_first + ctx.budget.random_reserve, ctx.seed)
    if run.found is not None:
        return ctx.refuted(run.found, "random", f"found by the random pass after {_count(run.tried, 'database')}",
                           databases=run.tried,
                           reason=f"found by random search although the verifier does not model {feature}")
    ctx.tried.append(f"random pass: {_count(run.tried, 'database')}, no order-independent difference")
    return ctx.verdict(VerdictKind.UNSUPPORTED, reason=f"unsupported: {feature}",
                       proof=ctx.proof("undecided", f"only the random pass can run: the verifier does not model "
                                                    f"{feature}", stopped=f"unsupported: {feature}"))


def _different_widths(ctx: CheckContext) -> Verdict | None:
    """Results of different widths differ on every database; the one shown is a database on
    which a result has rows, when the search finds one."""
    widths = len(ctx.prep.gold.rel.columns), len(ctx.prep.gen.rel.columns)
    if widths[0] == widths[1]:
        return None
    cex = _rows_of_either(ctx)
    what = f"the results have {widths[0]} and {widths[1]} columns"
    if cex is None:
        ctx.tried.append(f"width check: {what}, but no database up to k={ctx.bound} was found on which "
                         f"either result has rows")
        return None
    return ctx.refuted(cex, "width", f"{what}, so they differ on every database; shown on one where a result "
                                     f"has rows (found by {_SEARCH.get(cex.found_by, cex.found_by)})", reason=what)


def _identical(ctx: CheckContext) -> Verdict | None:
    """Identical queries (after normalization) return the same result on every database."""
    if not ctx.shortcuts or _canonical(ctx.prep.gold_tree, ctx.dialect) != _canonical(ctx.prep.gen_tree, ctx.dialect):
        return None
    return ctx.verdict(VerdictKind.EQUIVALENT, complete=True, reason="the queries are identical after normalization",
                       proof=ctx.proof("identical", "the two queries are the same text once normalized, so they "
                                                    "return the same result on every database"))


def _same_plan(ctx: CheckContext) -> Verdict | None:
    """Queries that compute the same plan once names are resolved (aliases, operand order)."""
    if not ctx.shortcuts or not same_plan(ctx.prep.gold.rel, ctx.prep.gen.rel):
        return None
    return ctx.verdict(VerdictKind.EQUIVALENT, complete=True,
                       reason="the queries compute the same plan (they differ only in names and operand order)",
                       proof=ctx.proof("same_plan", "once names are resolved the two queries compute the same plan "
                                                    "(they differ only in aliases and operand order)"))


def _row_wise(ctx: CheckContext) -> Verdict | None:
    """Row-wise reasoning: a proof for every database size when it applies (under list
    semantics, of the inputs of the same ORDER BY)."""
    prep = ctx.prep
    steps: list[str] = []
    # results compared as bags or sets: an ORDER BY without LIMIT or OFFSET at the top changes nothing
    unordered = ((without_unlimited_sort(prep.gold.rel), without_unlimited_sort(prep.gen.rel))
                 if prep.semantics in (Semantics.BAG, Semantics.SET)
                 else under_the_same_order(*_orders_rewritten(ctx, steps)))
    if not ctx.shortcuts or unordered is None or ctx.reads_no_table:
        return None
    ok, used = prove_for_every_size(*unordered, prep.schema, ctx.dialect, trace=steps, policy=ctx.policy)
    if not ok:
        ctx.tried.append("row-wise proof for every size: not found")
        return None
    how = "" if prep.semantics != Semantics.LIST else " (the same ORDER BY of inputs with the same rows)"
    ctx.assumptions = ctx.assumptions + [u for u in used if u not in ctx.assumptions]
    return ctx.verdict(VerdictKind.EQUIVALENT, complete=True,
                       reason="proved for databases of every size by row-wise reasoning" + how,
                       proof=ctx.proof("row_wise", "for one symbolic row of the tables read, both queries keep it "
                                                   "together and produce the same row, so they return the same "
                                                   "result on databases of every size" + how, steps=steps))


# what `Verdict.proof.tried` says where the inputs of the same ORDER BY ... LIMIT are proved to
# hold the same rows, but rows may tie under its keys (`_same_top_k`); `Proof.only_ties_left`
# says it as a field
ONLY_TIES_LEFT = ("row-wise proof for every size: the inputs of the same ORDER BY ... LIMIT hold the same rows on "
                  "every database, so only rows that tie under it can make the results differ")


def _same_top_k(ctx: CheckContext) -> Verdict | None:
    """The same ORDER BY and LIMIT over inputs proved to hold the same rows on every database: a proof when no two rows can tie under the keys, else the SMT search compares the gold plan with itself under two tie orders.

    Exact: on every database the generated query's possible results (over the tie orders its
    plan may choose) are the gold query's, since top-k of the same bag under the same keys can
    keep the same rows in the same order; when no two input rows agree on the sort keys
    (`keyed.never_tie`: a never-NULL key, the keys of a GROUP BY or DISTINCT below), nothing
    ties and the results are equal on every database. Otherwise, under `--assume ties_alike`
    (tied rows kept alike by both queries, SQLSolver's reading), the results are equal too;
    without it the search without ties is known to find nothing and is skipped, and a
    difference the solver finds still counts only once the engine confirms it."""
    prep = ctx.prep
    steps: list[str] = []
    gold, gen = _orders_rewritten(ctx, steps)
    sorts = the_same_top_k(gold, gen)
    if not ctx.shortcuts or sorts is None or ctx.reads_no_table:
        return None
    inputs = (sorts[0].input, sorts[1].input)
    ok, used = prove_for_every_size(*inputs, prep.schema, ctx.dialect, trace=steps, policy=ctx.policy)
    if not ok:
        return None
    ctx.assumptions = ctx.assumptions + [u for u in used if u not in ctx.assumptions]
    # why ties cannot change the result, in the reason's words and the proof's
    why = (("on keys no two rows share", "no two of them tie under its keys (a never-NULL key of their table, or "
                                         "the keys they are grouped or DISTINCT on)")
           if never_tie(inputs[0], sorts[0].keys, prep.schema) else
           ("every column a sort key", "rows that tie under its keys are identical (every column is a sort key)")
           if ties_invisible(sorts[0]) else None)
    if why is not None:
        slice_ = "LIMIT" if sorts[0].limit is not None else "OFFSET"
        return ctx.verdict(VerdictKind.EQUIVALENT, complete=True,
                           reason="proved for databases of every size by row-wise reasoning (the same ORDER BY ... "
                                  f"{slice_}, {why[0]}, of inputs with the same rows)",
                           proof=ctx.proof("row_wise", f"the inputs of the same ORDER BY ... {slice_} hold the same rows "
                                                       f"on every database, and {why[1]}, so both keep the same rows "
                                                       "in the same order on databases of every size", steps=steps))
    if ctx.policy.allows("ties_alike"):  # only ever by `--assume ties_alike`
        ctx.assumptions = ctx.assumptions + [TIES_NOTE]
        return ctx.verdict(VerdictKind.EQUIVALENT, complete=True,
                           reason="proved for databases of every size by row-wise reasoning (the same ORDER BY ... "
                                  "LIMIT of inputs with the same rows), assuming tied rows are kept alike",
                           proof=ctx.proof("row_wise", "the inputs of the same ORDER BY ... LIMIT hold the same rows "
                                                       "on every database; rows may tie under its keys, and the "
                                                       "assumption ties_alike takes the engine to keep tied rows "
                                                       "alike in both queries", steps=steps))
    ctx.tie_twin = ir.with_new_top(gold, inputs[0])
    ctx.tried.append(ONLY_TIES_LEFT)
    ctx.only_ties_left = True
    return None


def _orders_rewritten(ctx: CheckContext, steps: list[str] | None = None) -> tuple[ir.Rel, ir.Rel]:
    """The gold and generated plans with the ORDER BY each ends in rewritten by the order rules
    (`verify.rules.order_rewritten`: a sort of sorted rows is one sort, a UNION ALL branch's
    top-k under the same top-k is left out), so that ORDER BYs written in two ways compare; the
    rules that fired are traced into `steps`, when given."""
    rules_ctx = RulesContext(ctx.prep.schema, ctx.dialect)
    return (order_rewritten(ctx.prep.gold.rel, rules_ctx, rule_tracer(steps, "gold")),
            order_rewritten(ctx.prep.gen.rel, rules_ctx, rule_tracer(steps, "generated")))


def _hints(ctx: CheckContext) -> Verdict | None:
    """The databases the caller gave, as given and repaired to fit the schema's constraints."""
    if not ctx.hints:
        return None
    found, tried = _hint_pass(ctx)
    if found is None:
        ctx.tried.append(f"hints: {_count(tried, 'database')} (as given and repaired), "
                         f"no order-independent difference")
        return None
    return ctx.refuted(found, "hint", "found on a database given as a hint (as given, or repaired to fit the "
                                      "schema's constraints)")


def _first_random_pass(ctx: CheckContext) -> Verdict | None:
    """A short randomized pass on the real engine: most differences show on the first few random
    databases (`Budget.random_first` of them). The rest of the random budget
    (`Budget.random_reserve`) is kept for after the SMT search, in case the solver stops short
    (an equivalent pair, the common case, never spends it)."""
    first = ctx.budget.random_first
    if ctx.reads_no_table:
        first = min(first, 1)  # the database does not matter: one run shows any difference
    run = _random_pass(ctx, first, ctx.seed)
    ctx.witness = run.witness
    if run.found is not None:
        return ctx.refuted(run.found, "random", f"found by the random pass after {_count(run.tried, 'database')}",
                           databases=run.tried)
    if first > 0:
        ctx.tried.append(f"random pass: {_count(run.tried, 'database')}, no order-independent difference")
    return None


def _smt_search(ctx: CheckContext) -> Verdict | None:
    """The SMT search, bound by bound (one check at k = 0 when no table is read: the database
    does not matter then). Records the bounds proved and why the search stopped short. Before
    its first bound above 1 the random reserve runs (`_reserve_random_pass`)."""
    prep = ctx.prep
    ctx.bounds = [0] if ctx.reads_no_table else bound_schedule(ctx.bound)
    for name in _tables_without_rows(prep, ctx.meter, ctx.policy):
        ctx.assumptions.append(f"WARNING: the schema's constraints admit no row in table {name}, so every "
                               f"database considered has it empty (check the constraints)")
    for k in ctx.bounds:
        if k > 1:
            found = _reserve_random_pass(ctx, before=k)
            if found is not None:
                return found
        proved = ctx.proved[-1] if ctx.proved else None
        so_far = f"proved up to k={proved}; " if proved else ""
        if ctx.smt_left <= 0:
            ctx.stopped = so_far + f"solver budget exhausted before k={k}"
            break
        if time.monotonic() >= ctx.deadline:
            ctx.stopped = so_far + _time_limit(ctx, f"before k={k}")
            break
        res = _smt_at(ctx, k)
        for a in res.assumptions:
            if a not in ctx.assumptions:
                ctx.assumptions.append(a)
        ctx.witness = ctx.witness or res.witness
        if res.cex is not None:
            return ctx.refuted(res.cex, "smt", f"found by the SMT solver at k={k}", k=k,
                               bounds=list(ctx.proved))
        if res.status in ("tie_free_unsat", "assumed_unsat"):  # nothing proved at k: larger ones may show it
            ctx.stopped = so_far + res.reason
            continue
        if res.status != "unsat":
            ctx.stopped = so_far + (res.reason or f"solver returned {res.status} at k={k}")
            break
        ctx.proved.append(k)
        ctx.stopped = None
    return None


def _reserve_random_pass(ctx: CheckContext, before: int | None = None) -> Verdict | None:
    """The rest of the random budget, once: before the SMT search's first bound above 1, or when
    the SMT search stopped short before it (its budget spent, or the solver gave up).

    Before a larger bound (`before`) the solver can spend its whole budget on one formula, while
    random databases of a few rows decide many such pairs in a fraction of a second. Not when
    the wall-clock safety stop ended a search: no time is left."""
    if ctx.reserve_spent or ctx.time_stopped or (before is None and ctx.stopped is None):
        return None
    ctx.reserve_spent = True
    late = ctx.budget.random_reserve
    which = f"the random pass before k={before}" if before is not None else "the random pass after the SMT search"
    run = _random_pass(ctx, late, ctx.seed + 1, which)
    if run.found is not None:
        when = (f"run before the SMT search at k={before}" if before is not None
                else "run after the SMT search stopped")
        return ctx.refuted(run.found, "random", f"found by the random pass {when}, after "
                                               f"{_count(run.tried, 'database')}", databases=run.tried,
                           bounds=list(ctx.proved), stopped=ctx.stopped)
    ctx.witness = ctx.witness or run.witness
    if late > 0:
        ctx.tried.append(f"{which.removeprefix('the ')}: {_count(run.tried, 'database')}, no order-independent difference")
    return None


STAGES: tuple[Stage, ...] = (_prepare_pair, _different_widths, _identical, _same_plan, _row_wise, _same_top_k, _hints,
                             _first_random_pass, _smt_search, _reserve_random_pass)
"""What `check_pair` runs, in order; the first verdict a stage returns is the answer, and
`_conclude` answers when none does."""


def _conclude(ctx: CheckContext) -> Verdict:
    """The verdict when no stage decided on the way: a nondeterminism witness, else what the SMT
    search proved (up to its last bound, or every size when no table is read), else unknown."""
    proved = ctx.proved[-1] if ctx.proved else None
    if ctx.witness is not None:
        search = _SEARCH.get(ctx.witness.found_by, ctx.witness.found_by)
        engine_name = ENGINE_NAMES.get(ctx.dialect, ctx.dialect)
        return ctx.verdict(
            VerdictKind.NONDETERMINISTIC, bound=_size(ctx.witness.tables), counterexample=ctx.witness, confirmed=True,
            reason="the results differ on this database, but another order of its rows makes them agree: "
                   f"the difference comes from a choice {engine_name} leaves open (ties under ORDER BY ... LIMIT, "
                   "LIMIT without ORDER BY, a column neither grouped nor aggregated, a scalar subquery with "
                   "several rows); no order-independent difference was found",
            proof=ctx.proof(ctx.witness.found_by,  # type: ignore[arg-type]
                            f"{search} found a database on which the results differ only in an order "
                            f"{engine_name} leaves open; no search found an order-independent difference",
                            bounds=list(ctx.proved), minimized=ctx.witness._minimized, stopped=ctx.stopped))
    if proved is None:
        reason = ctx.stopped or "the SMT search did not run"
        return ctx.verdict(VerdictKind.UNKNOWN, reason=reason,
                           proof=ctx.proof("undecided", "no difference found and no proof either", stopped=reason))
    if ctx.bounds == [0]:
        return ctx.verdict(VerdictKind.EQUIVALENT, bound=0, complete=True,
                           reason="neither query reads a table, so the database does not matter",
                           proof=ctx.proof("no_tables", "neither query reads a table: the SMT solver's check at "
                                                        "k = 0 covers every database", bounds=[0]))
    return ctx.verdict(VerdictKind.EQUIVALENT, bound=proved, reason=ctx.stopped or "",
                       proof=ctx.proof("smt", f"the SMT solver proved that no database with at most {proved} "
                                              f"{_plural(proved, 'row')} per table tells the queries apart",
                                       bounds=list(ctx.proved), stopped=ctx.stopped))


TIME_LIMIT = "time limit"
"""How the reason of a verdict the wall-clock safety stop decided starts."""


def _time_limit(ctx: CheckContext, where: str) -> str:
    """Record that the safety stop cut the search short `where` (e.g. "at k=3"), and say so."""
    ctx.timed_out(where)
    return f"{TIME_LIMIT} ({ctx.timeout:g} s) reached {where}"


MEMORY_LIMIT = "memory limit"
"""How the reason of a verdict the memory safety stop decided starts."""


def _memory_limit(ctx: CheckContext, where: str) -> str:
    """Record that an allocation failed `where` (the memory safety stop, `verify.memory`), and say so."""
    ctx.memory_stop = ctx.memory_stop or where
    ctx.meter.memory_stopped = True
    cap = f" ({ctx.memory_limit:,} MiB)" if ctx.memory_limit is not None else ""
    return f"{MEMORY_LIMIT}{cap} reached {where}"


def _safety_stopped(ctx: CheckContext, verdict: Verdict) -> Verdict:
    """`verdict`, unless a safety stop decided it: when the wall clock cut a search short or
    interrupted a solver check, or an allocation failed (the memory cap), an `equivalent`,
    `unknown` or `nondeterministic` verdict is `unknown` with a reason starting "time limit" or
    "memory limit" (what was proved stays in `proof.bounds`; no `equivalent` up to a smaller bound
    because a stop came first). A confirmed counterexample (`not_equivalent`), an `error` and an
    `unsupported` verdict stand: no stop decided them."""
    if not (ctx.time_stopped or ctx.meter.memory_stopped) or verdict.verdict not in (
            VerdictKind.EQUIVALENT, VerdictKind.UNKNOWN, VerdictKind.NONDETERMINISTIC):
        return verdict
    stop = TIME_LIMIT if ctx.time_stopped else MEMORY_LIMIT
    if verdict.verdict == VerdictKind.UNKNOWN and verdict.reason.startswith(stop):
        return verdict
    proved = f"; proved up to k={ctx.proved[-1]}" if ctx.proved and ctx.bounds != [0] else ""
    if ctx.time_stopped:
        where = ctx.time_stop or "during a solver check"
        reason = f"{TIME_LIMIT} ({ctx.timeout:g} s) reached {where}{proved}"
        summary = "the wall-clock safety stop ended the search before the work budget decided it"
    else:
        reason = _memory_limit(ctx, ctx.memory_stop or "during a solver check") + proved
        summary = "the memory safety stop ended a solver check before the work budget decided it"
    return ctx.verdict(VerdictKind.UNKNOWN, reason=reason,
                       proof=ctx.proof("undecided", summary, bounds=list(ctx.proved), stopped=reason))


_SEARCH = {"random": "the random pass", "smt": "the SMT solver", "hint": "a hint database"}


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


def _count(n: int, word: str) -> str:
    """'1 database', '3 databases'."""
    return f"{n} {_plural(n, word)}"


class _RandomRun(NamedTuple):
    found: Counterexample | None  # a confirmed order-independent counterexample
    witness: Counterexample | None  # a difference that depends on an order SQLite leaves open
    tried: int  # random databases run


ORDER_DEPENDENT_HITS = 20  # differences only a row order shows before the random pass gives up looking further


def _random_pass(ctx: CheckContext, count: int, seed: int, which: str = "the random pass") -> _RandomRun:
    """`count` random databases (fewer when one differs whatever the order of its rows), drawn
    from `seed`: when the queries read the clock, shared by a few instants (at least one database
    each). A difference that another order of the rows removes (ties under ORDER BY ... LIMIT, a
    bare column) is kept as the witness of the first such database and the pass goes on, up to
    `ORDER_DEPENDENT_HITS` of them. Cut short only by the wall-clock safety stop, which is
    recorded (naming the pass: `which`)."""
    if count <= 0:
        return _RandomRun(None, None, 0)
    runs = [ctx.prep]
    if ctx.prep.clock:  # the budget shared by a few instants: now, then around the queries' dates
        first = natural_instant() if seed == 0 else random_instant(random.Random(seed))
        instants = dedupe([first] + instants_near_literals(ctx.prep) + [random_instant(random.Random(seed + 1000))])
        runs = [dataclasses.replace(ctx.prep, now=t) for t in instants[:4]]
    tried, hits = 0, 0
    found: tuple[_Prepared, Tables] | None = None  # order-independent
    witness: tuple[_Prepared, Tables] | None = None  # the first that only some row order shows
    # the first on which results of different widths are both empty: a difference, but one that
    # metrics such as Spider's and BIRD's do not see, so the pass looks on for rows
    blank: tuple[_Prepared, Tables] | None = None

    def accept(prep: _Prepared):
        def decide(hit) -> bool:
            nonlocal found, witness, hits, blank
            cex = _counterexample(ctx, prep, hit.tables, "random", minimize_it=False)
            if cex is not None and not cex.order_dependent and not _has_rows(cex):
                blank = blank or (prep, hit.tables)
                return False
            if cex is not None and not cex.order_dependent:
                found = (prep, hit.tables)
                return True
            if cex is not None:
                witness = witness or (prep, hit.tables)
            hits += 1
            return hits >= ORDER_DEPENDENT_HITS
        return decide

    for prep in runs:
        outcome = random_search(
            prep.data_schema, prep.gold_run, prep.gen_run, dialect=prep.dialect, semantics=prep.semantics,
            pools=ctx.pools, k_max=max(ctx.bound, 1), rng=random.Random(seed), links=ctx.links,
            max_databases=max(1, count // len(runs)), deadline=ctx.deadline, accept=accept(prep),
        )
        tried += outcome.tried
        if outcome.timed_out:
            ctx.timed_out(f"during {which}, after {_count(tried, 'database')}")
        if outcome.hit is not None or outcome.timed_out:
            break
    ctx.stats.random_databases += tried
    if outcome.hit is None:  # only a database the search ended on counts, or the fallback
        found = None
    found = found or blank
    if found is not None:
        cex = _counterexample(ctx, *found, "random")
        if cex is not None and not cex.order_dependent:
            return _RandomRun(cex, None, tried)
    if witness is not None:
        cex = _counterexample(ctx, *witness, "random")
        if cex is not None:
            ctx.stats.order_dependent_models += 1
            return _RandomRun(None, cex, tried)
    return _RandomRun(None, None, tried)


HINT_VARIANTS = 20  # repaired variants of each hint tried (`verify.hints.repairs`)


def _hint_pass(ctx: CheckContext) -> tuple[Counterexample | None, int]:
    """The first hint, as given or repaired, on which the engine confirms an order-independent
    difference, as a (minimized) counterexample, or None if there is none; and the number of
    databases tried."""
    prep, rng, tried = ctx.prep, random.Random(ctx.seed), 0
    for hint in ctx.hints:
        for variant in repairs(prep.data_schema, hint, ctx.pools, rng, HINT_VARIANTS):
            if time.monotonic() > ctx.deadline:
                ctx.timed_out(f"while trying the hints, after {_count(tried, 'database')}")
                return None, tried
            tried += 1
            confirmed = _confirm(prep, variant, prep.dialect)
            if confirmed is None:
                continue
            cex = _counterexample(ctx, prep, variant, "hint", confirmed)
            if cex is not None and not cex.order_dependent:
                return cex, tried
    return None, tried


def bound_schedule(bound: int) -> list[int]:
    """The bounds the SMT search tries: 1, 2, 3, then doubling, always ending at `bound`.

    A proof at k covers every smaller database too (the row slots of a table may be empty), so
    skipping bounds loses nothing; the small ones come first because small counterexamples are
    found fastest, and doubling keeps the work before the last bound below the last bound's."""
    ks = [k for k in (1, 2, 3) if k <= bound]
    k = 6
    while k < bound:
        ks.append(k)
        k *= 2
    if bound not in ks:
        ks.append(bound)
    return ks


def _size(tables: dict) -> int:
    return max((len(t.rows) for t in tables.values()), default=0)


class _UnsupportedPair(Exception):
    """A query uses SQL the verifier does not model; `prep` has everything but the IR, which is
    enough to run the two queries on random databases."""

    def __init__(self, feature: str, prep: _Prepared):
        super().__init__(feature)
        self.feature, self.prep = feature, prep


def _prepare(gold: str, gen: str, schema: Schema | None, semantics: str, dialect: str) -> _Prepared:
    if semantics not in list(Semantics):
        raise QueryError(f"unknown semantics {semantics!r}; choose one of {', '.join(Semantics)}")
    gtree = _parse(gold, dialect, "gold")
    ntree = _parse(gen, dialect, "generated")
    notes: list[str] = []
    if schema is None:
        schema = infer_schema([gtree, ntree], dialect)
        notes.append("schema inferred from the queries: every column nullable, types from usage")
    schema, dropped = _usable_schema(schema)
    notes += dropped
    if semantics == Semantics.AUTO:
        semantics = Semantics.LIST if outer_order(gtree) else Semantics.BAG
    prep = _Prepared(gold, gen, gtree, ntree, None, None, schema, semantics, dialect, notes,  # type: ignore[arg-type]
                     clock=reads_clock(gold, dialect) or reads_clock(gen, dialect))
    queries = []
    for tree, which in ((gtree, "gold"), (ntree, "generated")):
        function = _table_function(tree, dialect)
        if function is not None:
            raise _UnsupportedPair(f"table-valued function {function} in FROM (it reads no table of the schema)", prep)
        try:
            queries.append(lower_query(tree, schema, dialect))
        except QueryError as e:
            raise QueryError(f"{which} query: {e}") from None
        except Unsupported as e:
            raise _UnsupportedPair(e.feature, prep) from None
    gq, nq = queries
    _check_row_constraints_lower(schema, dialect, prep, schema.with_parents(set(gq.tables | nq.tables)))
    for n in gq.notes + nq.notes:
        if n not in notes:
            notes.append(n)
    if semantics == Semantics.LIST:
        notes.append("rows that tie under ORDER BY are compared in one fixed order")
    return dataclasses.replace(prep, gold=gq, gen=nq, notes=notes)


def _table_function(tree: exp.Expression, dialect: str) -> str | None:
    """The first table-valued function the query reads FROM (`generate_series(1, 3)`,
    `json_each(...)`, `range(3)`, ...) as written in `dialect`, or None."""
    for table in tree.find_all(exp.Table):
        if isinstance(table.this, exp.Func):
            return snippet(table.this.sql(dialect), 60)
    return None


def _check_row_constraints_lower(schema: Schema, dialect: str, prep: _Prepared, read: set[str]) -> None:
    """Every CHECK and functional dependency of the tables the queries read (`read`, with their
    parents; the encoder gives no other table rows) must be expressible to the encoder: one it
    cannot model makes the pair `unsupported` (dropping it would let the solver break it)."""
    for t in schema.tables:
        if t.name.lower() not in read:
            continue
        for what, sql in t.violation_queries(dialect):
            try:
                lower_query(parse_query(sql, dialect), schema, dialect)
            except QueryError as e:
                raise QueryError(f"schema {what}: {e}") from None
            except Unsupported as e:
                raise _UnsupportedPair(f"{what}: {e.feature}", prep) from None


def _parse(sql: str, dialect: str, which: str) -> exp.Expression:
    """The query's tree, or a `QueryError` saying that `which` query is bad, too long (checked
    before parsing), too large or too deeply nested (`verify.limits`)."""
    problem = text_size_problem(sql)
    if problem is not None:
        raise QueryError(f"{which} query: {problem}")
    try:
        tree = parse_query(sql, dialect)
    except QueryError as e:
        raise QueryError(f"{which} query: {e}") from None
    except RecursionError:  # the parser recurses once per level of parentheses
        raise QueryError(f"{which} query: {too_deep(paren_depth(sql))}") from None
    problem = query_size_problem(tree)
    if problem is not None:
        raise QueryError(f"{which} query: {problem}")
    return tree


def _usable_schema(schema: Schema) -> tuple[Schema, list[str]]:
    """Drop foreign keys whose two sides have different kinds (Spider has text → integer keys):
    the verifier cannot state them exactly, and a weaker schema keeps verdicts sound."""
    schema.validate_keys()
    notes = []
    tables = []
    for t in schema.tables:
        keep = []
        for fk in t.foreign_keys:
            ref = schema.table(fk.ref_table)
            kinds_match = all(
                _kind_class(t.column(c).affinity.value) == _kind_class(ref.column(r).affinity.value)
                for c, r in zip(fk.columns, fk.ref_columns)
            )
            if kinds_match:
                keep.append(fk)
            else:
                notes.append(f"foreign key {t.name}({', '.join(fk.columns)}) → {fk.ref_table} not used: "
                             "the column types differ")
        tables.append(t.model_copy(update={"foreign_keys": keep}))
    return schema.model_copy(update={"tables": tables}), notes


def _kind_class(aff: str) -> str:
    return "number" if aff in ("INTEGER", "REAL", "NUMERIC") else aff


def _canonical(tree: exp.Expression, dialect: str) -> str:
    return tree.sql(dialect=dialect, normalize=True, pretty=False)


# ----------------------------------------------------------------------------- SMT
@dataclass
class _SmtResult:
    # sat | unsat | unknown | tie_free_unsat (no difference without ties: proves nothing) |
    # assumed_unsat (no difference under assumptions the policy does not allow: proves nothing)
    status: str
    cex: Counterexample | None = None
    witness: Counterexample | None = None
    assumptions: list[str] | None = None
    reason: str = ""


# A one-shot tactic solver rather than z3.Solver()'s incremental core: simplify, propagate
# constants, eliminate variables defined by equations (most of the encoding's fresh values are)
# and unconstrained ones, then Z3's default strategy for the logic. On the bounded-search
# formulas this is several times faster at larger k (Calcite #151 at k=8: 37 s against 168 s).
SOLVER_TACTICS = ("simplify", "propagate-values", "solve-eqs", "elim-uncnstr", "simplify", "default")


def _solver(ctx: z3.Context | None = None) -> z3.Solver:
    """The SMT search's solver (`SOLVER_TACTICS`), in `ctx` (Z3's main context when None)."""
    return z3.Then(*SOLVER_TACTICS, ctx=ctx).solver()


def _encode_at(ctx: CheckContext, k: int, abstract_text_numbers: bool, narrowed: str | None = None):
    """(encoder, solver holding the formula "some database of size k makes them differ"), or
    an `unknown` result when building the formula ran past the wall-clock safety stop. Only the
    assumptions `ctx.policy` allows are asserted (the others are in `enc.search_only`), unless
    `narrowed` ("assumed" or "exact", see `Encoder`): then the others narrow the search too, and
    the formula leaves out what lies outside them: a counterexample search that proves nothing."""
    prep, policy = ctx.prep, ctx.policy
    enc = Encoder(prep.schema, k, prep.dialect, tables=set(prep.gold.tables | prep.gen.tables), deadline=ctx.deadline,
                  abstract_text_numbers=abstract_text_numbers, symmetry_breaking=_order_blind(prep),
                  text_columns_read=_column_names_read(prep), assumptions=policy, narrow_unbacked=narrowed)
    try:
        r1 = enc.rel(prep.gold.rel)
        # Only ties can differ (`_same_top_k`): the generated query is then, exactly, the gold
        # plan once more with a tie order of its own (top-k of the same bag), which shares every
        # term below the sorts with the gold side's formula.
        r2 = enc.rel(ctx.tie_twin or prep.gen.rel)
        goal = differ(r1, r2, len(prep.gold.rel.columns), len(prep.gen.rel.columns), prep.semantics, enc.tick)
        db_constraints = enc.database_constraints()
    except EncodingTimeout:
        return _SmtResult("unknown", assumptions=enc.assumption_notes, reason=_time_limit(ctx, f"encoding k={k}"))
    solver = _solver()
    solver.add(db_constraints)
    solver.add(enc.side)
    solver.add(enc.assumptions)
    if narrowed is not None:
        solver.add(enc.search_only)
    solver.add(goal)
    return enc, solver


def _tables_without_rows(prep: _Prepared, meter: Meter, policy: AssumptionPolicy | None = None) -> list[str]:
    """Tables the queries read that cannot hold even one row under the row constraints (CHECKs
    that contradict each other, a NOT NULL column whose CHECK admits only NULL, ...): a proof
    would then be vacuous. Only schemas with CHECKs are examined; an undecided check counts as
    satisfiable. Each check has `Budget.proof_rlimit` resource units (`meter`); only the
    assumptions `policy` allows narrow it, as in the search itself."""
    read = prep.gold.tables | prep.gen.tables
    if not any(t.checks for t in prep.schema.tables if t.name.lower() in read):
        return []
    enc = Encoder(prep.schema, 1, prep.dialect, tables=set(read), deadline=meter.deadline, assumptions=policy)
    try:
        base = enc.database_constraints() + enc.side + enc.assumptions
    except EncodingTimeout:
        meter.time_stopped = True
        return []
    out = []
    for t in prep.schema.tables:
        if t.name.lower() not in read:
            continue
        solver = z3.Solver()
        solver.add(base)
        solver.add(enc.db[t.name.lower()][0].present)
        if check_within(solver, meter=meter).status == z3.unsat:
            out.append(t.name)
    return out


def _column_names_read(prep: _Prepared) -> set[str] | None:
    """Lower-cased names of the columns the two queries mention, or None when one of them
    uses `*` outside COUNT(*) (then any column may be read). Referenced columns of foreign
    keys are parents' keys, covered by the encoder's own check."""
    names: set[str] = set()
    for tree in (prep.gold_tree, prep.gen_tree):
        for node in tree.walk():
            if isinstance(node, exp.Star) and not isinstance(node.parent, exp.Count):
                return None
            if isinstance(node, exp.Column):
                if isinstance(node.this, exp.Star):
                    return None
                names.add(node.name.lower())
    return names


def _order_blind(prep: _Prepared) -> bool:
    """Neither result depends on the order in which the engine reads rows: no ORDER BY/LIMIT,
    bare column, scalar subquery (several rows: the first one counts) or window function, and
    results compared as bags or sets (and no ANY_VALUE). Only then may the encoder fix the order
    of row slots."""
    return prep.semantics in (Semantics.BAG, Semantics.SET) and not ir.open_choices((prep.gold.rel, prep.gen.rel))


def _smt_at(ctx: CheckContext, k: int) -> _SmtResult:
    """Search the databases with at most k rows per table, within the SMT search's resource
    units left (`ctx.smt_left`, which every check spends from).

    Text-to-number conversions are first abstracted as an uninterpreted function: the real
    conversion is one interpretation of it, so "no difference" there is a proof (and one that
    needs no assumption about the texts). A difference found there may rest on a conversion
    SQLite would not make; it counts only if the engine confirms it, and otherwise the search
    is redone with the exact encoding of the conversion.

    Assumptions `ctx.policy` does not allow are not asserted (the encoding is sound without
    them, see `verify.assumptions`). Where the encoding has such assumptions, the search first
    probes where they hold (see below); once a model of the whole formula is not confirmed, it
    goes on where the encoding is exact (a date function's argument a valid date or a text it
    gives NULL for), each time over a formula encoded for that region (`_encode_at(narrowed=...)`:
    no uninterpreted values for the inputs outside, which Z3 is much slower to search), and "no
    difference" after that is `assumed_unsat`, not a proof."""
    prep, stats = ctx.prep, ctx.stats
    abstract = _encode_at(ctx, k, abstract_text_numbers=True)
    if isinstance(abstract, _SmtResult):
        return abstract
    enc, solver = abstract
    model: z3.ModelRef | None = None  # the last check's model, when it was sat
    probe_left: int | None = None  # the units the probe (below) may still spend, while it runs

    def check() -> tuple[z3.CheckSatResult, str]:
        """One solver check within the units left (the probe's share of them while it runs): its
        status, and why it stopped when unknown."""
        stats.smt_calls += 1
        nonlocal model, probe_left
        limit = ctx.smt_left if probe_left is None else min(ctx.smt_left, probe_left)
        run = check_within(solver, rlimit=limit, meter=ctx.meter, make=_solver)
        ctx.smt_left -= run.spent
        if probe_left is not None:
            probe_left -= run.spent
        model = run.model
        if run.stop == SolverStop.BUDGET:
            return run.status, f"solver budget exhausted at k={k}"
        if run.stop == SolverStop.TIME:
            return run.status, _time_limit(ctx, f"at k={k}")
        if run.stop == SolverStop.MEMORY:
            return run.status, _memory_limit(ctx, f"at k={k}")
        if run.stop == SolverStop.GAVE_UP:
            return run.status, f"solver gave up at k={k} ({run.why})"
        return run.status, ""

    if enc.abstracted:
        status, why = check()
        if status == z3.unsat:
            return _SmtResult("unsat", assumptions=enc.assumption_notes)
        if status != z3.sat:
            return _SmtResult("unknown", assumptions=enc.assumption_notes, reason=why)
        assert model is not None
        cex = _counterexample(ctx, _at(prep, model, enc), decode(model, enc), "smt")
        if cex is not None and not cex.order_dependent:
            return _SmtResult("sat", cex=cex, assumptions=enc.assumption_notes)
        exact = _encode_at(ctx, k, abstract_text_numbers=False)
        if isinstance(exact, _SmtResult):
            return exact
        enc, solver = exact
    unconfirmed = 0
    witness: Counterexample | None = None
    narrowed: list[str] = []  # the choices SQLite leaves open that the search now rules out
    narrowed_by: list[str] = []  # their names ("ties", "bare")
    assumed = False  # the search narrowed by assumptions the policy does not allow

    def without_open_choices(which: tuple[str, ...] = ("ties", "bare")) -> None:
        """Restrict the search to databases on which SQLite's plan has no choice to make, once
        models differ only in such a choice or are not confirmed by the engine: no rows tie
        under a LIMIT ("ties"), and every row a group may take a bare column's value from holds
        the same value ("bare"). The rows kept and the values taken are then SQLite's too."""
        for name, constraints, what in (
                ("ties", enc.tie_free, "without ties under ORDER BY ... LIMIT"),
                ("bare", enc.bare_fixed, "with one value per group of each column neither grouped nor aggregated")):
            if name in which and constraints and what not in narrowed:
                solver.add(constraints)
                narrowed.append(what)
                narrowed_by.append(name)
                ctx.choices_narrowed = True

    def with_unbacked_assumptions(region: str = "exact") -> _SmtResult | None:
        """Go on where the assumptions the policy does not allow hold ("assumed"), or where the
        encoding is exact ("exact"), for counterexamples only: the formula encoded for that
        region, with the open choices narrowed as before. An `unknown` result when encoding it
        ran past the safety stop."""
        nonlocal assumed
        if assumed or not enc.search_only:
            return None
        narrow = _encode_at(ctx, k, abstract_text_numbers=False, narrowed=region)
        if isinstance(narrow, _SmtResult):
            return narrow
        search_in(*narrow)
        assumed = True
        return None

    def search_in(new_enc: Encoder, new_solver: z3.Solver) -> None:
        """Go on with another formula of the same databases, its open choices narrowed as the
        current one's are."""
        nonlocal enc, solver
        enc, solver = new_enc, new_solver
        which = tuple(narrowed_by)
        narrowed.clear()
        narrowed_by.clear()
        without_open_choices(which)

    def only_open_choices_left() -> _SmtResult:
        """The answer of the search without SQLite's open choices (`without_open_choices`): it
        proves nothing. Known without running it when the inputs of the same ORDER BY ... LIMIT
        are proved to hold the same rows (`_same_top_k`): databases without ties then give both
        queries the same result."""
        twin = ctx.tie_twin is not None
        where = " and ".join(narrowed) if narrowed and not twin else "without ties under ORDER BY ... LIMIT"
        return _SmtResult("tie_free_unsat", witness=witness, assumptions=enc.assumption_notes,
                          reason=f"no difference at k={k} on databases {where}"
                                 + (" (proved for every size: the same ORDER BY ... LIMIT of inputs with the same "
                                    "rows)" if twin else "")
                                 + ", and the solver's models resting on such choices were not confirmed by the "
                                   "engine")

    def assumed_unsat() -> _SmtResult:
        needs = ", ".join(enc.search_only_names)
        flags = " ".join(f"--assume {n}" for n in enc.search_only_names)
        return _SmtResult("assumed_unsat", witness=witness, assumptions=enc.assumption_notes,
                          reason=f"no difference at k={k} under assumptions the evidence does not back: "
                                 f"proof needs assumption {needs} ({flags})")

    if ctx.choices_narrowed:
        # Only the bare columns' choice: a tie order the solver picks at a larger bound may be
        # SQLite's in every row order once its keys are renamed (`_renumbered_difference`).
        without_open_choices(("bare",))
    # The probe: where the encoding has assumptions the policy does not allow, the search first
    # looks for a difference where they hold (`with_unbacked_assumptions("assumed")`), with at
    # most half of the units left: there Z3 is fast, and a difference the engine confirms is as
    # real as any (and reads like real data). Its "no difference", or its share spent, sends
    # the search to the whole formula (`whole`), whose "no difference" alone proves.
    whole = (enc, solver)
    if enc.search_only:
        stop = with_unbacked_assumptions("assumed")
        if stop is not None:
            return stop
        probe_left = ctx.smt_left // 2
    while True:
        status, why = check()
        if status == z3.unsat and narrowed:  # a restricted search proves nothing
            return only_open_choices_left()
        if probe_left is not None and (status == z3.unsat or (status == z3.unknown and ctx.smt_left > 0
                                                                and not ctx.meter.time_stopped)):
            ended = "no difference" if status == z3.unsat else "its share of the budget spent"
            names = enc.search_only_names
            ctx.tried.append(f"SMT probe at k={k} where {', '.join(names)} {'holds' if len(names) == 1 else 'hold'} "
                             f"(a counterexample search only): {ended}")
            probe_left, assumed = None, False
            search_in(*whole)
            continue
        if status == z3.unsat and assumed:
            return assumed_unsat()
        if status == z3.unsat:
            return _SmtResult("unsat", witness=witness, assumptions=enc.assumption_notes)
        if status != z3.sat:
            return _SmtResult("unknown", witness=witness, assumptions=enc.assumption_notes, reason=why)
        assert model is not None
        tables = decode(model, enc)
        cex = _counterexample(ctx, _at(prep, model, enc), tables, "smt")
        if cex is not None and not cex.order_dependent:
            return _SmtResult("sat", cex=cex, assumptions=enc.assumption_notes)
        if cex is not None:
            # a difference that another row order removes: look for one that no order removes
            stats.order_dependent_models += 1
            witness = witness or cex
        else:
            stats.unconfirmed_models += 1
            unconfirmed += 1
        if ctx.tie_twin is not None:
            return only_open_choices_left()
        if cex is not None and stats.order_dependent_models >= MAX_UNCONFIRMED_PER_K:
            return _SmtResult("unknown", witness=witness, assumptions=enc.assumption_notes)
        if cex is None and unconfirmed >= MAX_UNCONFIRMED_PER_K:
            return _SmtResult("unknown", witness=witness, assumptions=enc.assumption_notes,
                              reason=f"{unconfirmed} solver models at k={k} were not confirmed by the engine")
        without_open_choices()
        if cex is None and not assumed and enc.search_only:
            stop = with_unbacked_assumptions()  # a new formula: the model is not in it
            if stop is not None:
                return stop
            continue
        solver.add(blocking_clause(model, enc))


# ----------------------------------------------------------------------------- confirmation
def _at(prep: _Prepared, model: z3.ModelRef, enc: Encoder) -> _Prepared:
    """`prep` run at the current time the model picked (when a query reads it)."""
    now = instant(model, enc)
    return dataclasses.replace(prep, now=now) if prep.clock and now is not None else prep


def _confirm(prep: _Prepared, tables: Tables, dialect: str):
    """(gold result, generated result, comparison) when the engine shows a difference on
    `tables`, else None. A query that runs past the engine's time limit on these few rows is the
    clock deciding: the call's meter records it (`verify.values.current_meter`)."""
    try:
        g, n, cmp = engine.run_both(prep.data_schema, _read_part(prep, tables), prep.gold_run, prep.gen_run,
                                    dialect, prep.semantics)
    except engine.EngineTimeout:
        current_meter().time_stopped = True
        return None
    except (engine.EngineError, SchemaError):
        return None
    return (g, n, cmp) if cmp.differ else None


def _rows_of_either(ctx: CheckContext) -> Counterexample | None:
    """For two queries whose results have different widths (they differ on every database, the
    empty one included): a database on which the gold query, else the generated one, returns a
    row, the smallest the search finds; None when neither does up to `bound`. Metrics such as
    BIRD's and Spider's take two empty results as equal, so this is the counterexample they
    accept.

    Each of the two searches has the call's budget and the time left to the safety stop;
    running into that stop is recorded in `ctx`."""
    prep = ctx.prep
    for sql, width in ((prep.gold_sql, len(prep.gold.rel.columns)), (prep.gen_sql, len(prep.gen.rel.columns))):
        remaining = ctx.deadline - time.monotonic()
        if remaining <= 0.01:
            ctx.timed_out("during the width check")
            return None
        nothing = "SELECT " + ", ".join(["NULL"] * width) + " WHERE 1 = 0"
        v = check_pair(sql, nothing, prep.schema, bound=ctx.bound, semantics=Semantics.BAG, dialect=prep.dialect,
                       timeout=remaining, budget=ctx.budget, seed=ctx.seed, minimize_result=ctx.minimize_result,
                       memory_limit=ctx.memory_limit)
        ctx.meter.spent += v.stats.rlimit or 0
        if v.verdict == VerdictKind.UNKNOWN and v.reason.startswith(TIME_LIMIT):
            ctx.timed_out("during the width check")
            return None
        if v.verdict == VerdictKind.UNKNOWN and v.reason.startswith(MEMORY_LIMIT):
            _memory_limit(ctx, "during the width check")
            return None
        if v.verdict == VerdictKind.NOT_EQUIVALENT and v.counterexample is not None:
            at = dataclasses.replace(prep, now=v.counterexample.now) if prep.clock else prep
            tables = {name: t.rows for name, t in v.counterexample.tables.items()}
            cex = _counterexample(ctx, at, tables, v.counterexample.found_by, minimize_it=False)
            if cex is not None:
                cex._minimized = v.counterexample._minimized
                return cex
    return None


def _read_part(prep: _Prepared, tables: Tables) -> Tables:
    """The rows of the tables in `prep.data_schema`: the queries see no other."""
    return {name: rows for name, rows in tables.items() if prep.data_schema.has_table(name)}


def _counterexample(ctx: CheckContext, prep: _Prepared, tables: Tables, found_by: str, confirmed=None,
                    minimize_it: bool = True) -> Counterexample | None:
    """The confirmed (and, when the call minimizes and `minimize_it`, minimized within
    `Budget.minimize_runs`) counterexample `tables` give for `prep` (`ctx.prep`, or it run at
    another instant), or None when the engine shows no difference in any row order.
    `confirmed` is `_confirm`'s result for `prep` and `tables` when the caller already has it."""
    do_min = ctx.minimize_result and minimize_it
    dialect = prep.dialect
    tables = _read_part(prep, tables)
    if prep.clock and prep.now is not None:  # shown at the real current time if it differs there too
        today = dataclasses.replace(prep, now=natural_instant())
        at_today = _confirm(today, tables, dialect)
        if at_today is not None:
            prep, confirmed = today, at_today
    if confirmed is None:
        confirmed = _confirm(prep, tables, dialect)
    order_dependent = confirmed is not None and _order_dependent(prep, tables, dialect)
    if confirmed is None or order_dependent:
        # the model's tie order may not be SQLite's: the same database with its values renamed
        # may show a difference that no row order removes
        renumbered = _renumbered_difference(prep, tables, dialect)
        if renumbered is not None:
            tables, confirmed = renumbered
            order_dependent = False
    if confirmed is None:
        # the model may pick a different order of tied rows than SQLite did: if some row order
        # shows the difference on the engine, this database is a nondeterminism witness
        reordered = _reorder_until(prep, tables, dialect, differ=True)
        if reordered is None:
            return None
        prep, tables = reordered
        confirmed = _confirm(prep, tables, dialect)
        assert confirmed is not None
        return _make_counterexample(prep, tables, confirmed, found_by, dialect, order_dependent=True)
    if do_min:
        shown = _has_rows(confirmed)

        def still_differs(db: Tables) -> bool:  # and stays order-independent, and shows rows, if it did
            again = _confirm(prep, db, dialect)
            return again is not None and (not shown or _has_rows(again)) and (
                order_dependent or not _order_dependent(prep, db, dialect))

        found = tables
        tables = minimize(prep.data_schema, tables, still_differs, preferred_values=dict(ctx.pools),
                          max_runs=ctx.budget.minimize_runs, deadline=ctx.deadline)
        confirmed = _confirm(prep, tables, dialect)
        assert confirmed is not None, "minimize returned a database that no longer differs"
        order_dependent = _order_dependent(prep, tables, dialect)
        cex = _make_counterexample(prep, tables, confirmed, found_by, dialect, order_dependent)
        cex._minimized = Minimization(rows_before=_rows(found), rows_after=_rows(tables),
                                      cells_before=_cells(found), cells_after=_cells(tables))
        return cex
    return _make_counterexample(prep, tables, confirmed, found_by, dialect, order_dependent)


def _has_rows(shown) -> bool:
    """Does either result have a row (a `Counterexample`, or `_confirm`'s answer)? Only results
    of different widths can differ without one."""
    if isinstance(shown, Counterexample):
        return bool(shown.gold_result.rows or shown.gen_result.rows)
    return bool(shown[0].rows or shown[1].rows)


def _rows(tables: Tables) -> int:
    return sum(len(rows) for rows in tables.values())


def _cells(tables: Tables) -> int:
    return sum(len(row) for rows in tables.values() for row in rows)


def _make_counterexample(prep: _Prepared, tables: Tables, confirmed, found_by: str, dialect: str,
                         order_dependent: bool) -> Counterexample:
    g, n, cmp = confirmed
    return Counterexample(
        order_dependent=order_dependent,
        tables={t.name: TableData(columns=[c.name for c in t.columns], rows=[list(r) for r in tables.get(t.name, [])])
                for t in prep.schema.tables if tables.get(t.name)},
        gold_result=TableData(columns=g.columns, rows=[list(r) for r in g.rows]),
        gen_result=TableData(columns=n.columns, rows=[list(r) for r in n.rows]),
        gold_only=[list(r) for r in cmp.gold_only],
        gen_only=[list(r) for r in cmp.gen_only],
        found_by=found_by,
        inserts=inserts_script(prep.schema, tables, dialect) + (
            f"\n-- the queries read the current time: run them with it written as '{prep.now}'" if prep.clock else ""),
        now=prep.now if prep.clock else None,
    )


def _renumbered_difference(prep: _Prepared, tables: Tables, dialect: str):
    """(tables, `_confirm`'s result) for the first of `randomdb.renumberings` of `tables` on
    which the results differ in every row order, or None. Only for queries that sort (an engine
    breaks ties among groups by their key's order: the values, not the rows' order, decide). For
    SQL the verifier does not model (no plans: `_unsupported`), the queries' text says whether
    they sort."""
    if prep.gold is None or prep.gen is None:
        sorts = any(tree.find(exp.Order, exp.Limit) for tree in (prep.gold_tree, prep.gen_tree))
    else:
        sorts = "sort" in ir.open_choices((prep.gold.rel, prep.gen.rel))
    if not sorts:
        return None
    keep = _integer_literals(prep)
    keys = _sort_key_columns(prep)
    for columns in ([keys] if keys else []) + [None]:  # the keys and their join partners first, then all
        for renamed in renumberings(tables, keep=keep, columns=columns):
            confirmed = _confirm(prep, renamed, dialect)
            if confirmed is not None and not _order_dependent(prep, renamed, dialect):
                return renamed, confirmed
    return None


def _sort_key_columns(prep: _Prepared) -> set[tuple[str, int]]:
    """(table, column index) of the columns whose names the queries' GROUP BY and ORDER BY
    clauses mention, in every table that has such a column (names are enough here: the
    renaming they steer is confirmed on the engine)."""
    names = {col.name.lower() for tree in (prep.gold_tree, prep.gen_tree)
             for clause in (*tree.find_all(exp.Group), *tree.find_all(exp.Order))
             for col in clause.find_all(exp.Column)}
    return {(t.name, i) for t in prep.data_schema.tables for i, c in enumerate(t.columns) if c.name.lower() in names}


def _integer_literals(prep: _Prepared) -> frozenset[int]:
    """The integers the two queries compare with or compute from (as numbers or as decimal
    text): their literals, except those of LIMIT and OFFSET."""
    out = set()
    for tree in (prep.gold_tree, prep.gen_tree):
        for lit in tree.find_all(exp.Literal):
            if isinstance(lit.parent, (exp.Limit, exp.Offset, exp.Fetch)):
                continue
            text = lit.this
            try:
                value = float(text) if lit.is_number else None
            except ValueError:
                value = None
            if value is not None and value.is_integer():
                out.add(int(value))
            elif not lit.is_number and text.lstrip("-").isascii() and text.lstrip("-").isdigit():
                out.add(int(text))
    return frozenset(out)


def _order_dependent(prep: _Prepared, tables: Tables, dialect: str) -> bool:
    """Does another order of the same rows make the two results agree? SQLite scans a table in
    rowid order, so this is where its open choices (ties under LIMIT, bare columns, the first
    row of a scalar subquery) show. DuckDB orders tied rows by its plan, not by the order it
    reads them in: there, two ORDER BY queries whose results agree once their ties are broken
    alike (`_agree_with_ties_broken`) differed only in a choice it leaves open too."""
    if dialect == Dialect.DUCKDB and _agree_with_ties_broken(prep, tables):
        return True
    return _reorder_until(prep, tables, dialect, differ=False) is not None


def _agree_with_ties_broken(prep: _Prepared, tables: Tables) -> bool:
    """Under list semantics, do both queries give the same result on `tables` with the ties of
    their ORDER BYs broken by every column in turn (`_ties_broken`)? That order refines each
    ORDER BY's own, so each result is one the query may return (a LIMIT keeps some of its tied
    rows, as it may): agreeing so, the two queries have a result in common and differ only in
    which tied rows, or in what order, the engine returns them."""
    if prep.semantics != Semantics.LIST or prep.gold is None or prep.gen is None:
        return False
    width = len(prep.gold.rel.columns)
    if width != len(prep.gen.rel.columns):
        return False
    gold, gen = _ties_broken(prep.gold_run, prep.dialect, width), _ties_broken(prep.gen_run, prep.dialect, width)
    if gold is None or gen is None:
        return False
    try:
        _, _, cmp = engine.run_both(prep.data_schema, _read_part(prep, tables), gold, gen, prep.dialect,
                                    prep.semantics)
    except (engine.EngineError, SchemaError):
        return False
    return not cmp.differ


def _ties_broken(sql: str, dialect: str, width: int) -> str | None:
    """DuckDB `sql` (of `width` columns) with the ties of its outermost ORDER BY, and of each ORDER
    BY ... LIMIT/OFFSET inside, broken by every output column in turn (`ORDER BY k, 1, 2, ...`, or
    `COLUMNS(*)` for a SELECT * without GROUP BY); None when the outermost query has no ORDER BY
    (its rows come in any order) or an inner one cannot be broken so."""
    try:
        tree = parse_query(sql, dialect)
    except QueryError:
        return None
    if not isinstance(tree, (exp.Select, exp.SetOperation)) or not _ordered(tree):
        return None
    tree = tree.copy()
    for node in list(tree.walk()):
        if not isinstance(node, (exp.Select, exp.SetOperation)) or not _ordered(node):
            continue
        if node is not tree and not (node.args.get("limit") or node.args.get("offset")):
            continue  # an inner ORDER BY without LIMIT orders nothing the result keeps
        keys = _tie_breakers(node, width if node is tree else None)
        if keys is None:
            return None
        node.args["order"].set("expressions", [*node.args["order"].expressions, *keys])
    try:
        return tree.sql(dialect=dialect)
    except SqlglotError:
        return None


def _ordered(node: exp.Expression) -> bool:
    order = node.args.get("order")
    return isinstance(order, exp.Order) and bool(order.expressions)


def _tie_breakers(node: exp.Select | exp.SetOperation, width: int | None) -> list[exp.Expression] | None:
    """Sort keys naming every output column of `node` (`width` of them when known)."""
    if width is None:
        select = node if isinstance(node, exp.Select) else node.find(exp.Select)
        if select is None:
            return None
        if any(isinstance(e, exp.Star) or isinstance(e, exp.Column) and isinstance(e.this, exp.Star)
               for e in select.expressions):
            if node is not select or select.args.get("group") or select.find(exp.AggFunc):
                return None
            return [exp.Ordered(this=exp.Anonymous(this="COLUMNS", expressions=[exp.Star()]))]
        width = len(select.expressions)
    return [exp.Ordered(this=exp.Literal.number(i)) for i in range(1, width + 1)]


def _reorder_until(prep: _Prepared, tables: Tables, dialect: str, differ: bool, tries: int = 8):
    """The first of a few reorderings of the rows (reversed, then shuffled) on which the results
    differ (`differ=True`) or agree; None if there is none. An INTEGER PRIMARY KEY is SQLite's
    rowid and would fix the scan order: it is declared INT there (same affinity, no alias)."""
    if not any(len(rows) > 1 for rows in tables.values()):
        return None
    rng = random.Random(0)
    prep = dataclasses.replace(prep, schema=_without_rowid_alias(prep.schema))
    for shuffled in reorderings(tables, rng, tries):
        confirmed = _confirm(prep, shuffled, dialect) is not None
        if confirmed == differ and _runs(prep, shuffled, dialect):
            return prep, shuffled
    return None


def _without_rowid_alias(schema: Schema) -> Schema:
    tables = []
    for t in schema.tables:
        if len(t.primary_key) == 1 and t.column(t.primary_key[0]).type.strip().upper() == "INTEGER":
            cols = [c.model_copy(update={"type": "INT"}) if c.name.lower() == t.primary_key[0].lower() else c
                    for c in t.columns]
            t = t.model_copy(update={"columns": cols})
        tables.append(t)
    return schema.model_copy(update={"tables": tables})


def _runs(prep: _Prepared, tables: Tables, dialect: str) -> bool:
    try:
        engine.run_both(prep.data_schema, _read_part(prep, tables), prep.gold_run, prep.gen_run,
                        dialect, prep.semantics)
        return True
    except (engine.EngineError, SchemaError):
        return False


def inserts_script(schema: Schema, tables: Tables, dialect: str) -> str:
    from verify.schema import quote_ident

    lines = [schema.ddl(dialect)]
    for t in schema.tables:
        for row in tables.get(t.name, []):
            lines.append(f"INSERT INTO {quote_ident(t.name)} VALUES ({', '.join(_sql_literal(v) for v in row)});")
    return "\n".join(lines)


def _sql_literal(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"
