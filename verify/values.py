"""Symbolic SQL values and their operators, with NULL propagation written once.

A value is `V(kind, v, null, isint)`: `v` a Z3 term of the kind's sort, `null` a Z3 Bool, and
for the `num` kind (SQLite NUMERIC: integer or real per value) `isint` a Z3 Bool. Conditions are
values of kind `bool`; a row passes WHERE iff `is_true(cond)`.

Example:
    >>> a = V("int", z3.Int("a"), z3.Bool("a_null"))
    >>> c = compare("<", a, const(3, "int"), "num")
    >>> z3.prove(is_true(c) == And(Not(a.null), a.v < 3))
    proved
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import functools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

import z3

from verify.budget import DEFAULT
from verify.names import CmpMode
from verify.z3fast import And, Not, Or

EPOCH = datetime.date(1970, 1, 1)
TRUE, FALSE = z3.BoolVal(True), z3.BoolVal(False)
NUMERIC = ("int", "real", "num")


@dataclass(frozen=True)
class V:
    kind: str
    v: z3.ExprRef
    null: z3.BoolRef
    isint: z3.BoolRef | None = None


def sort_of(kind: str) -> z3.SortRef:
    return {
        "int": z3.IntSort(),
        "real": z3.RealSort(),
        "num": z3.RealSort(),
        "text": z3.StringSort(),
        "bool": z3.BoolSort(),
        "date": z3.IntSort(),  # days since 1970-01-01
        "timestamp": z3.IntSort(),  # microseconds since 1970-01-01 00:00:00 UTC
        "null": z3.IntSort(),
    }[kind]


def fresh(name: str, kind: str) -> V:
    k = "int" if kind == "null" else kind
    v = z3.Const(name, sort_of(k))
    isint = z3.Bool(name + "_isint") if k == "num" else None
    return V(k, v, z3.Bool(name + "_null"), isint)


def null_of(kind: str) -> V:
    k = "int" if kind == "null" else kind
    return V(k, _default(k), TRUE, TRUE if k == "num" else None)


def _default(kind: str) -> z3.ExprRef:
    s = sort_of(kind)
    if s == z3.StringSort():
        return z3.StringVal("")
    if s == z3.BoolSort():
        return FALSE
    if s == z3.RealSort():
        return z3.RealVal(0)
    return z3.IntVal(0)


def const(value, kind: str) -> V:
    """A literal. `None` is NULL."""
    if value is None:
        return null_of(kind)
    if kind == "int":
        return V("int", z3.IntVal(int(value)), FALSE)
    if kind in ("real", "num"):
        fr = Fraction(value)
        return V("real", z3.RealVal(fr), FALSE)
    if kind == "text":
        return V("text", z3.StringVal(value), FALSE)
    if kind == "bool":
        return V("bool", z3.BoolVal(bool(value)), FALSE)
    if kind == "date":
        return V("date", z3.IntVal((value - EPOCH).days), FALSE)
    if kind == "timestamp":  # a naive datetime, read as UTC (DuckDB's engine time zone here)
        return V("timestamp", z3.IntVal((value - datetime.datetime(1970, 1, 1)) // datetime.timedelta(microseconds=1)),
                 FALSE)
    raise ValueError(f"no literal of kind {kind}")


def boolean(is_t: z3.BoolRef, is_null: z3.BoolRef) -> V:
    return V("bool", is_t, is_null)


def is_true(c: V) -> z3.BoolRef:
    return And(Not(c.null), c.v)


def is_false(c: V) -> z3.BoolRef:
    return And(Not(c.null), Not(c.v))


# ----------------------------------------------------------------------------- numeric coercion
def as_real(a: V) -> z3.ArithRef:
    if a.kind in ("int", "date", "timestamp"):
        return z3.ToReal(a.v)
    if a.kind == "bool":
        return z3.If(a.v, z3.RealVal(1), z3.RealVal(0))
    return a.v


def isint_of(a: V) -> z3.BoolRef:
    if a.kind in ("int", "bool", "date", "timestamp"):
        return TRUE
    if a.kind == "real":
        return FALSE
    return a.isint if a.isint is not None else TRUE


def to_num(a: V) -> V:
    """View any numeric value as `num` (Real term + is-integer flag)."""
    if a.kind == "num":
        return a
    return V("num", as_real(a), a.null, isint_of(a))


def as_int(a: V) -> z3.ArithRef:
    if a.kind in ("int", "date", "timestamp"):
        return a.v
    if a.kind == "bool":
        return z3.If(a.v, z3.IntVal(1), z3.IntVal(0))
    return trunc(a.v)


def trunc(x: z3.ArithRef) -> z3.ArithRef:
    """Real → Int rounding toward zero (Z3's ToInt rounds down)."""
    return z3.If(x >= 0, z3.ToInt(x), -z3.ToInt(-x))


def round_half_away(x: z3.ArithRef) -> z3.ArithRef:
    half = z3.RealVal(Fraction(1, 2))
    return z3.If(x >= 0, z3.ToInt(x + half), -z3.ToInt(-x + half))


def tdiv(a: z3.ArithRef, b: z3.ArithRef) -> z3.ArithRef:
    """Integer division truncating toward zero (SQLite, DuckDB), for b ≠ 0."""
    q = z3.Abs(a) / z3.Abs(b)
    return z3.If(Or(And(a >= 0, b > 0), And(a < 0, b < 0)), q, -q)


def tmod(a: z3.ArithRef, b: z3.ArithRef) -> z3.ArithRef:
    return a - b * tdiv(a, b)


# ----------------------------------------------------------------------------- merging
def unify_kind(kinds: list[str]) -> str:
    ks = {k for k in kinds if k != "null"}
    if not ks:
        return "int"
    if len(ks) == 1:
        return ks.pop()
    if ks <= set(NUMERIC) | {"bool"}:
        return "num" if ks != {"real"} else "real"
    raise ValueError(f"cannot merge values of kinds {sorted(ks)}")


def convert(a: V, kind: str) -> V:
    if a.kind == kind:
        return a
    if kind == "num":
        return to_num(a)
    if kind == "real":
        return V("real", as_real(a), a.null)
    if kind == "int" and a.kind == "bool":
        return V("int", as_int(a), a.null)
    raise ValueError(f"cannot convert {a.kind} to {kind}")


def ite(c: z3.BoolRef, a: V, b: V) -> V:
    k = unify_kind([a.kind, b.kind])
    a2 = null_of(k) if a.kind == "null" else convert(a, k)
    b2 = null_of(k) if b.kind == "null" else convert(b, k)
    isint = z3.If(c, a2.isint, b2.isint) if k == "num" else None
    return V(k, z3.If(c, a2.v, b2.v), z3.If(c, a2.null, b2.null), isint)


# ----------------------------------------------------------------------------- equality
def eq_nonnull(a: V, b: V) -> z3.BoolRef:
    """Equality of two non-NULL values as SQLite's DISTINCT/GROUP BY/result comparison sees it:
    numbers compare numerically across INTEGER and REAL; a number never equals a text."""
    ka, kb = a.kind, b.kind
    if ka == kb and ka != "num":
        return a.v == b.v
    if ka in NUMERIC + ("bool",) and kb in NUMERIC + ("bool",):
        if ka in ("int", "bool") and kb in ("int", "bool"):
            return as_int(a) == as_int(b)
        return as_real(a) == as_real(b)
    return FALSE


def same(a: V, b: V) -> z3.BoolRef:
    """NULL-safe equality (NULL is the same as NULL)."""
    return Or(And(a.null, b.null), And(Not(a.null), Not(b.null), eq_nonnull(a, b)))


def same_row(a: list[V], b: list[V]) -> z3.BoolRef:
    if len(a) != len(b):
        return FALSE
    return And([same(x, y) for x, y in zip(a, b)]) if a else TRUE


# ----------------------------------------------------------------------------- comparison
_OPS = {
    "=": lambda x, y: x == y,
    "<>": lambda x, y: x != y,
    "<": lambda x, y: x < y,
    "<=": lambda x, y: x <= y,
    ">": lambda x, y: x > y,
    ">=": lambda x, y: x >= y,
}


def _num_cmp(op: str, a: V, b: V) -> z3.BoolRef:
    if a.kind in ("int", "bool", "date", "timestamp") and b.kind in ("int", "bool", "date", "timestamp"):
        return _OPS[op](as_int(a), as_int(b))
    return _OPS[op](as_real(a), as_real(b))


def _mixed_cmp(op: str, a_is_num: bool) -> z3.BoolRef:
    """A number against a text with no conversion: every number is less than every text."""
    lt = a_is_num
    return z3.BoolVal({"=": False, "<>": True, "<": lt, "<=": lt, ">": not lt, ">=": not lt}[op])


class SolverStop(StrEnum):
    """Why a solver check ended without an answer."""

    BUDGET = "budget"  # it spent the resource units (rlimit) it was given
    TIME = "time"  # the wall-clock safety stop interrupted it
    GAVE_UP = "gave_up"  # the solver answered unknown for a reason of its own (incompleteness)
    MEMORY = "memory"  # an allocation failed: the memory safety stop (`verify.memory`) or the machine's


@dataclass(frozen=True)
class SolverRun:
    """The outcome of one solver check: its status, the Z3 resource units it spent, and why it
    stopped without an answer (None when it answered sat or unsat)."""

    status: z3.CheckSatResult
    spent: int
    stop: SolverStop | None
    why: str = ""  # Z3's own reason, when it gave up
    model: z3.ModelRef | None = None  # when sat: the model, in the context of the solver checked


@dataclass
class Meter:
    """The limits and the running totals shared by the solver checks of one `check_pair` call:
    `rlimit` is each small check's resource limit (row-wise proof, plan-rewrite conditions),
    `deadline` the wall-clock safety stop (a `time.monotonic()` value, None for none). `spent`
    adds up the resource units of every check, `time_stopped` records that the deadline
    interrupted one (its answer then depends on the machine). `answers` keeps the answers of
    questions already decided within the call (`verify.implication`), by a structural key: the
    same question is not asked of the solver twice, and since the memo lives as long as the
    call, what one call spends does not depend on the calls made before it."""

    rlimit: int = DEFAULT.proof_rlimit
    deadline: float | None = None
    spent: int = 0
    time_stopped: bool = False
    memory_stopped: bool = False  # a check ran out of memory (`verify.memory`: the cap or the machine)
    answers: dict[tuple, bool] = field(default_factory=dict)


_METER: contextvars.ContextVar[Meter | None] = contextvars.ContextVar("solver_meter", default=None)


@contextlib.contextmanager
def metered(meter: Meter) -> Iterator[Meter]:
    """Within the block, `check_within` calls that are given no limits use `meter`'s."""
    token = _METER.set(meter)
    try:
        yield meter
    finally:
        _METER.reset(token)


def current_meter() -> Meter:
    """The meter of the enclosing `metered` block, or a fresh default one (outside any)."""
    return _METER.get() or Meter()


def _rlimit_count(solver: z3.Solver) -> int:
    """Z3's resource count: context-wide and cumulative, so a check's spending is the difference
    of the counts after and before it."""
    stats = solver.statistics()
    for key in stats.keys():
        if key == "rlimit count":
            return int(stats.get_key_value(key))
    return 0


PROOF_TACTICS = ("simplify", "propagate-values", "solve-eqs", "elim-uncnstr", "simplify", "smt")
"""The tactics of `proof_solver`: simplify, propagate constants, eliminate the variables that
equations define (most of an encoding's fresh values are) and unconstrained ones, then Z3's SMT
core. Every step keeps a formula's satisfiability, so an `unsat` is the same proof. Z3's default
solver sends a formula with a product of two columns (TPC-H's `l_extendedprice * (1 -
l_discount)`) to its nonlinear arithmetic engine first, about 5 million resource units and
0.3-0.5 s for a six-table block; after the eliminations the SMT core answers the same in 2-8 ms
(the row-wise and plan-rule checks of SQLSolver's, VeriEQL's, Spider's and BIRD's pairs: the
same answers, 25 times less time on TPC-H's)."""


def plain_solver(ctx: z3.Context) -> z3.Solver:
    """Z3's default solver in `ctx` (what `proof_solver` is measured against)."""
    return z3.Solver(ctx=ctx)


def proof_solver(ctx: z3.Context) -> z3.Solver:
    """The solver of the every-size proof's small checks (`PROOF_TACTICS`) in `ctx`: the `make`
    of `check_within` unless told otherwise."""
    return z3.Then(*PROOF_TACTICS, ctx=ctx).solver()


_REMEMBERED: contextvars.ContextVar[dict[tuple, tuple[z3.AstVector, SolverRun]] | None] = contextvars.ContextVar(
    "checks_remembered", default=None)


@contextlib.contextmanager
def checks_remembered() -> Iterator[None]:
    """Within the block, `check_within` answers a check it already ran in the block (the same
    assertions, resource limit and solver) with the answer of that run, and counts the units
    that run spent again, so every limit and total is what it would be had it run again: only
    the time is saved. A check runs in a fresh context, where the answer depends on the formula
    alone (`check_within`), so the answer is the one it would give. A check the deadline or the
    memory cap stopped is not remembered (its answer depends on the machine). In a block
    within another, the outer block's checks are remembered.

    The row-wise proof asks the same question more than once: the comparison that pairs
    operators proves their blocks equal, then the proof compares the same blocks (a quarter of
    the checks of SQLSolver's suites' every-size proofs)."""
    if _REMEMBERED.get() is not None:
        yield
        return
    token = _REMEMBERED.set({})
    try:
        yield
    finally:
        _REMEMBERED.reset(token)


def _check_key(home: z3.Context, make: Callable, limit: int, assertions: z3.AstVector) -> tuple | None:
    """What names a check in the enclosing `checks_remembered` block; None outside any (no key
    is made then)."""
    if _REMEMBERED.get() is None:
        return None
    return (id(home), make, limit, tuple(a.get_id() for a in assertions))


def _remembered(key: tuple | None, meter: Meter) -> SolverRun | None:
    """The run of the check `key` names, when the enclosing `checks_remembered` block has it,
    its units added to `meter` again."""
    memo = _REMEMBERED.get()
    if key is None or memo is None or key not in memo:
        return None
    run = memo[key][1]
    meter.spent += run.spent
    return run


def _remember(key: tuple | None, kept: z3.AstVector, run: SolverRun) -> SolverRun:
    """`run`, kept for `_remembered` in the enclosing `checks_remembered` block, if any. The
    assertions are kept with it: a key holds their ids, which Z3 gives to new terms once the
    old ones are gone."""
    memo = _REMEMBERED.get()
    if key is not None and memo is not None and run.stop not in (SolverStop.TIME, SolverStop.MEMORY):
        memo[key] = (kept, run)
    return run


_UNUSED_CONTEXTS: list[z3.Context] = []


def make_contexts_ahead(n: int) -> None:
    """Make `n` Z3 contexts now for the next `check_within` calls, which take one of these
    instead of making their own while any is left. A context nothing has used is the same as a
    new one, so no check's path or answer changes; only the cost moves. Making a context writes
    17 MB (Z3's term tables): in a process that forks a task per pair (`benchmarks.executors`),
    contexts made ahead in the worker are shared with every task, which writes only the pages it
    uses (about half), instead of each task making its own (a check takes one, a TPC-H every-size
    proof runs one to seven)."""
    _UNUSED_CONTEXTS.extend(z3.Context() for _ in range(n))


def _new_context() -> z3.Context:
    """A Z3 context nothing has used: one made ahead (`make_contexts_ahead`) or a new one."""
    try:
        return _UNUSED_CONTEXTS.pop()
    except IndexError:
        return z3.Context()


def check_within(solver: z3.Solver, rlimit: int | None = None, meter: Meter | None = None,
                 make: Callable[[z3.Context], z3.Solver] = proof_solver) -> SolverRun:
    """Check `solver`'s assertions, limited to `rlimit` Z3 resource units (the meter's `rlimit`
    when None) and interrupted at the meter's deadline, if it has one (the meter of the
    enclosing `metered` block when `meter` is None). The units spent are added to the meter.

    The check runs in a fresh Z3 context, on a solver `make` builds there, with the assertions
    translated into it (and the model translated back): in a context that has built other
    formulas before, the same formula can take a different path (Z3's tables depend on its
    history), so the resource count, and an answer near the limit, would depend on what the
    process did before. In a fresh context they depend on the formula alone. `solver` only holds
    the assertions; it is not checked itself.

    The resource limit decides the same way on every machine; the deadline is only a safety
    stop, and a check it interrupts is marked `SolverStop.TIME` (and the meter `time_stopped`). A
    check that runs out of memory (`verify.memory`'s cap) is `SolverStop.MEMORY` (and the meter
    `memory_stopped`); Z3 frees its context then.
    A limit of 0 or less spends nothing: the answer is `unknown`, stopped by the budget."""
    meter = meter or current_meter()
    limit = meter.rlimit if rlimit is None else rlimit
    if limit <= 0:
        return SolverRun(z3.unknown, 0, SolverStop.BUDGET)
    seconds = None if meter.deadline is None else meter.deadline - time.monotonic()
    if seconds is not None and seconds <= 0:
        meter.time_stopped = True
        return SolverRun(z3.unknown, 0, SolverStop.TIME)
    home = solver.ctx
    assertions = solver.assertions()
    key = _check_key(home, make, limit, assertions)
    known = _remembered(key, meter)
    if known is not None:
        return known
    try:
        ctx = _new_context()
        fresh_solver = make(ctx)
        fresh_solver.add([a.translate(ctx) for a in assertions])
    except (MemoryError, z3.Z3Exception) as e:
        return _allocation_failed(meter, e)
    interrupted = threading.Event()

    def interrupt() -> None:
        interrupted.set()
        ctx.interrupt()

    timer = threading.Timer(seconds, interrupt) if seconds is not None else None
    fresh_solver.set("rlimit", limit)  # relative to the count when the check starts
    before = _rlimit_count(fresh_solver)
    if timer is not None:
        timer.start()
    try:
        status = fresh_solver.check()
    except (MemoryError, z3.Z3Exception) as e:
        return _allocation_failed(meter, e)
    finally:
        if timer is not None:
            timer.cancel()
            timer.join()  # its thread ends now: a process forked next holds no other thread
    spent = _rlimit_count(fresh_solver) - before
    meter.spent += spent
    if status == z3.sat:
        return _remember(key, assertions, SolverRun(status, spent, None, model=fresh_solver.model().translate(home)))
    if status == z3.unsat:
        return _remember(key, assertions, SolverRun(status, spent, None))
    why = fresh_solver.reason_unknown()
    if _out_of_memory(why):
        return _memory_stop(meter, status, spent, why)
    if interrupted.is_set():
        meter.time_stopped = True
        return SolverRun(status, spent, SolverStop.TIME, why)
    if spent >= limit or why == "canceled":
        return _remember(key, assertions, SolverRun(status, spent, SolverStop.BUDGET, why))
    return _remember(key, assertions, SolverRun(status, spent, SolverStop.GAVE_UP, why))


def _out_of_memory(why: str) -> bool:
    """Is Z3's reason (for `unknown`, or an exception's message) a failed allocation?"""
    return "out of memory" in why or "max. memory" in why


def _memory_stop(meter: Meter, status: z3.CheckSatResult, spent: int, why: str) -> SolverRun:
    """The run of a check an allocation failure ended, recorded on the meter."""
    meter.memory_stopped = True
    return SolverRun(status, spent, SolverStop.MEMORY, why)


def _allocation_failed(meter: Meter, e: BaseException) -> SolverRun:
    """`_memory_stop` for a check that failed to allocate before an answer (a `MemoryError`, or
    Z3's "out of memory" as an exception); any other exception is raised again."""
    if isinstance(e, z3.Z3Exception) and not _out_of_memory(str(e)):
        raise e
    return _memory_stop(meter, z3.unknown, 0, "out of memory")


@functools.lru_cache(maxsize=4096)
def below(c: str) -> z3.ReRef:
    """The strings that sort before the constant `c` (by code point, i.e. SQLite's BINARY
    collation on UTF-8), as a regular expression: Z3 decides membership in it far faster than
    it decides `str.<` against a constant."""
    full = z3.Full(z3.ReSort(z3.StringSort()))
    options = []
    for i, ch in enumerate(c):
        prefix = z3.Re(z3.StringVal(c[:i]))
        options.append(prefix)  # a proper prefix of c (the empty string too)
        if ord(ch) > 0:
            options.append(z3.Concat(prefix, z3.Range(chr(0), chr(ord(ch) - 1)), full))
    return z3.Union(*options) if len(options) > 1 else (options[0] if options else z3.Empty(z3.ReSort(z3.StringSort())))


def _text_cmp(op: str, a: z3.SeqRef, b: z3.SeqRef) -> z3.BoolRef:
    """a op b on text; against a constant, as regular-expression membership (see `below`)."""
    if op in ("=", "<>") or not (z3.is_string_value(a) or z3.is_string_value(b)):
        return _OPS[op](a, b)
    if z3.is_string_value(a):  # c op x  ==  x flipped-op c
        op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
        a, b = b, a
    c = b.as_string()
    lt = z3.InRe(a, below(c))
    if op == "<":
        return lt
    if op == ">=":
        return Not(lt)
    le = Or(lt, a == b)
    return le if op == "<=" else Not(le)


def compare(op: str, a: V, b: V, mode: CmpMode | str) -> V:
    """`a op b` compared as `mode` says (see `CmpMode`; `AFFNUM` is `compare_affnum`)."""
    null = Or(a.null, b.null)
    if a.kind == "null" or b.kind == "null":
        return boolean(FALSE, TRUE)
    if mode in (CmpMode.NUM, CmpMode.DATE, CmpMode.TIMESTAMP) or (a.kind in NUMERIC and b.kind in NUMERIC):
        return boolean(_num_cmp(op, a, b), null)
    if mode == CmpMode.TEXT:
        return boolean(_text_cmp(op, a.v, b.v), null)
    if mode == CmpMode.BOOL:
        return boolean(_OPS[op](z3.If(a.v, 1, 0), z3.If(b.v, 1, 0)), null)
    if mode == CmpMode.MIXED:
        return boolean(_mixed_cmp(op, a.kind in NUMERIC), null)
    raise ValueError(f"unknown comparison mode {mode}")


# ----------------------------------------------------------------------------- text → number
_DIGITS = z3.Plus(z3.Range("0", "9"))
CANONICAL_INT = z3.Union(_DIGITS, z3.Concat(z3.Re("-"), _DIGITS))
NO_DIGIT = z3.Star(z3.Union(z3.Range(" ", "/"), z3.Range(":", "~")))
PRINTABLE = z3.Star(z3.Range(" ", "~"))


def text_int_value(s: z3.SeqRef) -> z3.ArithRef:
    neg = z3.PrefixOf(z3.StringVal("-"), s)
    tail = z3.SubString(s, 1, z3.Length(s) - 1)
    return z3.If(neg, -z3.StrToInt(tail), z3.StrToInt(s))


def compare_affnum(op: str, a: V, b: V) -> V:
    """`number op text` where SQLite applies numeric affinity to the text: a text that is an
    integer in decimal digits compares as that integer, any other text as text."""
    null = Or(a.null, b.null)
    if a.kind == "text":
        flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>"}[op]
        return compare_affnum(flipped, b, a)
    s = b.v
    looks = z3.InRe(s, CANONICAL_INT)
    as_num = V("int", text_int_value(s), FALSE)
    res = z3.If(looks, _num_cmp(op, a, as_num), _mixed_cmp(op, True))
    return boolean(res, null)
