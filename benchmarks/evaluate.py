"""Test-based and verification-based evaluation of Text-to-SQL systems, and the leaderboard.

For every (question, system) pair:

1. **EX** (`benchmarks.exec_acc`): the official execution check on the dev database. A pair it
   rejects is *refuted by the database* (outcome `refuted_by_database`) and is not re-verified.
2. **Verification** of every pair EX accepts (`verify.check_pair`, schema from the SQLite file
   plus declared keys/NOT NULL, plus `--constraints`): the verifier checks the pair *the metric
   compared* — Spider: the texts after the official pre-processing (DISTINCT dropped unless
   `keep_distinct`), the prediction's columns put in the order EX matched them, results as bags
   (lists under an outer ORDER BY); BIRD: set semantics, column order significant. A counterexample
   is re-judged with the metric's own comparison, so `refuted` always means: on this database the
   official metric would reject the prediction.
3. **Verified accuracy** = EX-accepted and not refuted (`not_equivalent`); `unknown`,
   `unsupported`, `nondeterministic` and timeouts are counted but not subtracted.
   **Proved accuracy** = EX-accepted and proved at least up to the requested bound (strength
   `every_size` or `up_to_k`, `verify.verdict.Strength`): proved ≤ truth ≤ verified. The verified
   pairs are counted by strength: `every_size`, `up_to_k`, `below_k` (proved only below the
   bound: the search stopped early), `undecided`, and `strength_unknown` (rows of a store
   written before strengths were recorded).

Questions without a database (Spider's wta_1) are excluded (`database_missing`). When a dev
set has no databases at all (BIRD offline), EX is unavailable and every pair is verified
against the gold query with the schema from `dev_tables.json`.

Identical normalized pairs are executed/verified once, across systems and runs: results live
in the run store (`benchmarks.store`), and a re-run skips what is there.

Example:
    >>> cfg = EvalConfig(benchmark="spider", data_dir="../shared/data/spider", bound=3)
    >>> cfg.settings_string()
    't=300;effort=1;ext=30;kd=0;min=1'
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from benchmarks.datasets import Dataset, Question, load_dataset, load_schema_cached
from benchmarks.predictions import align, load_predictions
from benchmarks.store import ResultKey, ResultRow, RunStore, VerificationRow, ExecutionRow, normalize_sql, sql_hash, text_hash
from benchmarks.store import NOT_VERIFIED, strength_of_outcome
from verify.assumptions import names_used
from verify.memory import MEMORY_LIMIT_MIB
from verify.verdict import Strength, VerdictKind

REFUTED = "refuted"
UNREALISTIC = "refuted only by unrealistic data"  # reason prefix: not refuted under --constraints
OUTCOME_OF_VERDICT = {"equivalent": "verified", "not_equivalent": REFUTED, "nondeterministic": "nondeterministic",
                      "unknown": "unknown", "unsupported": "unsupported", "error": "error"}


class EvalError(ValueError):
    """Bad evaluation input (options, constraints); the message says what."""


class EvalConfig(BaseModel):
    benchmark: Literal["spider", "bird"]
    data_dir: Path
    split: str = "dev"
    bound: int = 3
    timeout: float = Field(300.0, description="the verifier's safety time limit per pair (seconds)")
    effort: float = Field(1.0, description="the verifier's work budget per pair, as a multiple of "
                                           "verify.budget.DEFAULT (deterministic)")
    ex_timeout: float = Field(30.0, description="seconds per query for EX")
    keep_distinct: bool = False
    minimize: bool = True
    constraints: Path | None = None
    strict: bool = Field(False, description="no assumption beyond the schema's declarations (verify --strict)")
    assume: list[str] = Field(default_factory=list, description="assumptions added by name (verify --assume)")
    memory_limit: int | None = Field(MEMORY_LIMIT_MIB, description="the verifier's safety memory limit per pair "
                                                                    "(MiB, verify --memory-limit)")
    workers: int = 2
    executor: Literal["local", "ray"] = "local"
    ray_address: str | None = None
    limit: int | None = None

    @property
    def name(self) -> str:
        return f"{self.benchmark}_{self.split}"

    @property
    def semantics(self) -> str:
        return "set" if self.benchmark == "bird" else "auto"

    def settings_string(self) -> str:
        policy = (";strict=1" if self.strict else "") + (f";assume={','.join(sorted(self.assume))}" if self.assume
                                                         else "")
        memory = "" if self.memory_limit == MEMORY_LIMIT_MIB else f";mem={self.memory_limit}"
        return (f"t={self.timeout:g};effort={self.effort:g};ext={self.ex_timeout:g};kd={int(self.keep_distinct)};"
                f"min={int(self.minimize)}{policy}{memory}")


def tool_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("sqlwitness")
    except metadata.PackageNotFoundError:
        return "dev"


def constraints_hash(path: Path | None) -> str:
    if path is None:
        return "none"
    if not path.exists():
        raise EvalError(f"--constraints {path}: no such file or folder")
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def check_constraints_available() -> None:
    try:
        from constraints import apply_constraints, load_constraints  # noqa: F401
    except ImportError as e:
        raise EvalError(f"--constraints needs the constraints package (load_constraints/apply_constraints), "
                        f"which is not available here: {e}") from None


# ---------------------------------------------------------------------------------------------
# worker side (runs in executor processes: a task model in, plain dicts out)


class ExTask(BaseModel):
    """EX of one question's predictions on its database: one executor call."""

    gold: str
    db_path: str
    flavour: str
    timeout: float
    keep_distinct: bool
    preds: dict[str, str] = Field(default_factory=dict, description="execution key -> predicted SQL")


class VerifyTask(BaseModel):
    """Verification of one distinct (gold, prediction) pair, as the metric compared it: one executor call."""

    gold: str
    pred: str
    db_id: str
    db_path: str | None
    tables_json: str
    constraints: str | None = None
    semantics: str
    bound: int
    timeout: float
    effort: float = 1.0
    strict: bool = False
    assume: list[str] = Field(default_factory=list)
    memory_limit: int | None = MEMORY_LIMIT_MIB
    minimize: bool
    flavour: str
    plain: dict[str, Any] | None = Field(default=None, description="with `constraints`: the verdict without them, "
                                                                    "when the run store has it")


_SCHEMAS: dict[tuple, Any] = {}


def _schema_for(task: VerifyTask) -> Any:
    key = (task.db_path, task.tables_json, task.db_id, task.constraints)
    if key not in _SCHEMAS:
        schema = load_schema_cached(task.db_path, task.tables_json, task.db_id)
        if task.constraints:
            from constraints import apply_constraints, load_constraints

            schema = apply_constraints(schema, load_constraints(task.constraints, db_id=task.db_id))
        _SCHEMAS[key] = schema
    return _SCHEMAS[key]


def run_task(task: ExTask | VerifyTask) -> Any:
    """Run one EX or verification task (the function executors call)."""
    if isinstance(task, ExTask):
        from benchmarks.exec_acc import execution_match

        return {pred_key: execution_match(task.gold, pred, task.db_path, flavour=task.flavour,
                                          timeout=task.timeout, keep_distinct=task.keep_distinct).model_dump()
                for pred_key, pred in task.preds.items()}
    return _verify_task(task)


CONTEXTS_AHEAD = 4
"""Z3 contexts a benchmark worker makes before it forks its tasks (`verify.values.make_contexts_ahead`):
most TPC-H every-size proofs run one to four checks, each in a context of its own."""


def warm_up_verification(_: Any = None, schemas: tuple[Any, ...] = (), dialect: str = "sqlite") -> None:
    """What every verification would otherwise do first in its own process (isolated tasks are
    forked from a worker, see `benchmarks.executors`): import the verifier and run it once on
    a small pair in each dialect, which builds the solver, engine and parser state that is set up
    on first use; open the empty database of each of `schemas` in `dialect`, on which every pair
    over it runs its queries once (`verify.engine.empty_database`); and make `CONTEXTS_AHEAD` Z3
    contexts for the tasks' checks. A forked task uses the DuckDB instance this opens as it is:
    the verifier's DuckDB instance runs no thread of its own. Pass the schemas with
    `functools.partial`; at most `engine.EMPTY_DATABASES_KEPT` of them stay open.

    The pairs stay as they are: Z3 keeps state of its string solver from one context to the next,
    so a warm-up with other string formulas can move a later string check onto another path, and a
    verdict decided by the path with it (README, "Verdicts are deterministic")."""
    from verify import engine
    from verify.check import check_pair
    from verify.schema import SchemaError
    from verify.schema_io import schema_from_ddl
    from verify.values import make_contexts_ahead

    schema = schema_from_ddl("CREATE TABLE t (a INT, b TEXT);")
    for each in ("sqlite", "duckdb"):
        check_pair("SELECT COUNT(*) FROM t WHERE a > 1", "SELECT COUNT(b) FROM t WHERE a > 1", schema=schema,
                   bound=1, timeout=60, dialect=each)
    for s in schemas[-engine.EMPTY_DATABASES_KEPT:]:
        with contextlib.suppress(engine.EngineError, SchemaError):  # the pairs over it report it
            engine.empty_database(s, dialect)
    make_contexts_ahead(CONTEXTS_AHEAD)


def _verify_task(task: VerifyTask) -> dict:
    """One verification task; with constraints it builds on the verdict without them."""
    if task.constraints:
        return _verify_with_constraints(task)
    return _verify_once(task)


def _verify_once(task: VerifyTask, hints: list[dict] | None = None) -> dict:
    from verify.budget import DEFAULT
    from verify.check import check_pair
    from verify.schema import SchemaError

    t0 = time.monotonic()
    try:
        schema = _schema_for(task)
    except (SchemaError, OSError, ValueError) as e:
        return {"verdict": "error", "reason": f"schema: {e}", "counterexample": None, "seconds": 0.0}
    v = check_pair(task.gold, task.pred, schema=schema, bound=task.bound, semantics=task.semantics,
                   timeout=task.timeout, budget=DEFAULT.scaled(task.effort), minimize_result=task.minimize,
                   strict=task.strict, assume=task.assume, memory_limit=task.memory_limit,
                   hints=hints)
    verdict, reason = v.verdict.value, v.reason
    cex = v.counterexample.model_dump() if v.counterexample else None
    if verdict == VerdictKind.NOT_EQUIVALENT and v.counterexample is not None:
        from benchmarks.exec_acc import results_agree

        g = [tuple(r) for r in v.counterexample.gold_result.rows]
        p = [tuple(r) for r in v.counterexample.gen_result.rows]
        if results_agree(task.flavour, task.gold, g, p):
            verdict = "unknown"
            reason = (f"the verifier's counterexample differs only in a way the {task.flavour} metric ignores "
                      f"(column order, duplicates or row order); {reason}").rstrip("; ")
    strength = v.strength.value if verdict == v.verdict.value else Strength.UNDECIDED.value
    return {"verdict": verdict, "reason": reason, "counterexample": cex,
            "seconds": round(time.monotonic() - t0, 3), "bound": v.bound, "complete": v.complete,
            "strength": strength, "proved_bound": _proved_bound(v),
            "assumptions": ",".join(names_used(v.assumptions)) if verdict == VerdictKind.EQUIVALENT else None}


def _proved_bound(v: Any) -> int | None:
    """The largest k (rows per table) `v`'s proof covers; None when nothing was proved or the
    proof holds for every size."""
    if v.complete:
        return None
    if v.verdict == VerdictKind.EQUIVALENT:
        return v.bound
    return max(v.proof.bounds) if v.proof is not None and v.proof.bounds else None


def _verify_with_constraints(task: VerifyTask) -> dict:
    """Verification under `task.constraints`, reusing the verdict without them.

    Constraints only remove databases, so a pair proved equivalent without them (up to k rows,
    or for every size) is equivalent with them, and a counterexample found without them that
    satisfies them (SQLite accepts it with the constraints as CHECKs, keys, FDs) refutes the
    pair with them too. Only the rest is verified again under the constraints, trying first
    the plain counterexample repaired to fit them (`verify.hints`); when that
    proves the pair (up to k) although the plain run refuted it, the pair is refuted only by
    unrealistic data (`UNREALISTIC`) and keeps the plain counterexample for display; when it
    decides nothing in the time, the pair is unknown (its plain counterexample is in the
    store's row without constraints).

    The plain verdict comes from the run store when a run without constraints left it
    (`task.plain`); otherwise it is computed here and returned as `out['plain']` for the store.
    """
    t0 = time.monotonic()
    plain, computed = task.plain, None
    if plain is None:
        plain = computed = _verify_once(task.model_copy(update={"constraints": None}))
    cex = plain.get("counterexample")
    if plain["verdict"] == VerdictKind.EQUIVALENT:
        out = {**plain, "reason": _joined("proved without the constraints, which only remove databases",
                                          plain.get("reason"))}
    elif plain["verdict"] in (VerdictKind.NOT_EQUIVALENT, VerdictKind.NONDETERMINISTIC) and cex and _satisfies_constraints(task, cex):
        out = {**plain, "reason": _joined("the counterexample found without the constraints satisfies them",
                                          plain.get("reason"))}
    else:  # the plain counterexample, repaired to fit the constraints, is tried first
        out = _verify_once(task, hints=[{name: t["rows"] for name, t in cex["tables"].items()}] if cex else None)
        if plain["verdict"] == VerdictKind.NOT_EQUIVALENT and out["verdict"] == VerdictKind.EQUIVALENT:
            out["reason"] = f"{UNREALISTIC}: a counterexample exists only without the constraints"
            out["counterexample"] = cex
        elif plain["verdict"] == VerdictKind.NOT_EQUIVALENT and out["verdict"] == VerdictKind.UNKNOWN:  # not shown unrealistic
            out["reason"] = _joined("refuted without the constraints; undecided with them", out.get("reason"))
    return {**out, "seconds": round(time.monotonic() - t0, 3), "plain": computed}


def _joined(*parts: str | None) -> str:
    return "; ".join(p for p in parts if p)


def _satisfies_constraints(task: VerifyTask, cex: dict) -> bool:
    """Does the counterexample database satisfy the schema with `task.constraints` applied?"""
    from verify.engine import EngineError, materialize
    from verify.schema import SchemaError

    try:
        conn = materialize(_schema_for(task), {name: t["rows"] for name, t in cex["tables"].items()})
    except (EngineError, SchemaError, OSError, ValueError, KeyError, TypeError):
        return False
    conn.close()
    return True


def metric_pair(gold: str, pred: str, flavour: str, keep_distinct: bool = False,
                column_permutation: list[int] | None = None) -> tuple[str, str]:
    """The pair the official metric compared: each text's first statement (`first_statement`),
    Spider's pre-processing (DISTINCT dropped unless `keep_distinct`) and the prediction's columns
    in the order EX matched them; BIRD as given otherwise."""
    from benchmarks.exec_acc import first_statement, spider_prepare

    if flavour != "spider":
        return first_statement(gold), first_statement(pred)
    gold, pred = (first_statement(q) for q in spider_prepare(gold, pred, keep_distinct))
    if column_permutation:
        pred = permute_columns(pred, column_permutation) or pred
    return gold, pred


def judge_pair(gold: str, pred: str, *, db_path: str | Path | None, db_id: str, flavour: str,
               tables_json: str | Path = "", bound: int = 3, timeout: float = 300.0,
               effort: float = 1.0, minimize: bool = True, keep_distinct: bool = False,
               ex_timeout: float = 30.0, constraints: Path | None = None) -> dict[str, Any]:
    """EX and verification of one (gold, prediction) pair, exactly as `run_evaluation` judges it
    (for callers outside a leaderboard run: the agent's benchmark, offline selection).

    Returns {ex, ex_error, verdict, reason, counterexample, outcome, verified, strength, proved_bound}
    (`benchmarks.store`); `verified` is
    "EX accepted and not refuted" (module doc); without a database, EX is None and `verified`
    means "not refuted"."""
    ex: bool | None = None
    ex_error: str | None = None
    perm: list[int] | None = None
    if db_path is not None:
        from benchmarks.exec_acc import execution_match

        r = execution_match(gold, pred, db_path, flavour=flavour, timeout=ex_timeout, keep_distinct=keep_distinct)
        ex, ex_error, perm = r.match, r.error, r.column_permutation
        if ex is not True:
            outcome = "gold_failed" if ex is None else "refuted_by_database"
            return {"ex": ex, "ex_error": ex_error, "verdict": None, "reason": None, "counterexample": None,
                    "outcome": outcome, "verified": False, "strength": NOT_VERIFIED, "proved_bound": None}
    g, p = metric_pair(gold, pred, flavour, keep_distinct, perm)
    v = _verify_task(VerifyTask(gold=g, pred=p, db_path=str(db_path) if db_path else None,
                                tables_json=str(tables_json), db_id=db_id,
                                constraints=str(constraints) if constraints else None,
                                semantics="set" if flavour == "bird" else "auto", bound=bound, timeout=timeout,
                                effort=effort, minimize=minimize, flavour=flavour))
    outcome = OUTCOME_OF_VERDICT.get(v["verdict"], "error")
    return {"ex": ex, "ex_error": ex_error, "verdict": v["verdict"], "reason": v["reason"],
            "counterexample": v["counterexample"], "outcome": outcome, "verified": outcome != REFUTED,
            "strength": v.get("strength") or strength_of_outcome(outcome), "proved_bound": v.get("proved_bound")}


def permute_columns(sql: str, perm: list[int]) -> str | None:
    """`sql` with its result columns reordered so that column i is the old column `perm[i]`;
    None when that cannot be done safely (a `*`, positional ORDER BY/GROUP BY, unparsable).

    >>> permute_columns("SELECT a, b FROM t ORDER BY a", [1, 0])
    'SELECT b, a FROM t ORDER BY a'
    """
    import sqlglot
    from sqlglot import exp

    if perm == list(range(len(perm))):
        return sql
    try:
        tree = sqlglot.parse_one(sql, read="sqlite")
    except Exception:  # noqa: BLE001 - any parse failure: leave the query alone
        return None

    def fix(node: exp.Expression) -> bool:
        if isinstance(node, exp.SetOperation):
            return fix(node.left) and fix(node.right)
        if isinstance(node, exp.Subquery):
            return fix(node.this)
        if not isinstance(node, exp.Select) or len(node.expressions) != len(perm):
            return False
        if any(isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
               for e in node.expressions):
            return False
        for clause in ("order", "group"):
            c = node.args.get(clause)
            if c and any(isinstance(o.this if isinstance(o, exp.Ordered) else o, exp.Literal)
                         for o in c.expressions):
                return False
        node.set("expressions", [node.expressions[j] for j in perm])
        return True

    order = tree.args.get("order")
    if order and any(isinstance(o.this, exp.Literal) for o in order.expressions):
        return None
    return tree.sql(dialect="sqlite") if fix(tree) else None


# ---------------------------------------------------------------------------------------------
# the run


class SystemSummary(BaseModel):
    system: str
    questions: int = 0
    ex: int | None = 0  # None: EX unavailable
    verified: int | None = 0
    ex_acc: float | None = None
    verified_acc: float | None = None
    drop: float | None = None  # percentage points
    rank_ex: int | None = None
    rank_verified: int | None = None
    proved: int = Field(default=0, description="verified pairs proved at least up to the requested bound "
                                               "(every_size + up_to_k)")
    refuted: int = 0
    refuted_by_database: int = 0
    unknown: int = 0
    unsupported: int = 0
    nondeterministic: int = 0
    error: int = 0
    timeout: int = 0
    gold_failed: int = 0
    unrealistic_only: int = Field(default=0, description=f"proved with --constraints, {UNREALISTIC} without")
    proved_acc: float | None = Field(default=None, description="% of questions EX-accepted (with EX) and proved "
                                                               "at least up to the requested bound")
    every_size: int = Field(default=0, description="verified pairs proved for databases of every size")
    up_to_k: int = Field(default=0, description="verified pairs proved up to the requested bound")
    below_k: int = Field(default=0, description="verified pairs proved only below the requested bound")
    undecided: int = Field(default=0, description="verified pairs neither proved nor refuted")
    strength_unknown: int = Field(default=0, description="verified pairs of a store written before strengths "
                                                         "were recorded")
    assumptions_used: dict[str, int] = Field(default_factory=dict, description="proved pairs (equivalent verdicts "
                                             "of EX-accepted pairs) whose proof used each assumption, by name")
    by_difficulty: dict[str, dict[str, int]] = Field(default_factory=dict)


class Leaderboard(BaseModel):
    benchmark: str
    config: dict[str, Any]
    ex_available: bool
    systems: list[SystemSummary]
    records: list[ResultRow]
    excluded_questions: int
    questions: dict[int, dict[str, Any]] = Field(default_factory=dict)  # index -> question, evidence
    wall_seconds: float = 0.0
    pairs: int = 0
    new_ex_tasks: int = 0
    new_verifications: int = 0


def _rank(values: dict[str, float | None]) -> dict[str, int | None]:
    """Competition ranking (1, 2, 2, 4), highest first."""
    vals = [v for v in values.values() if v is not None]
    return {k: (None if v is None else 1 + sum(1 for w in vals if w > v + 1e-12)) for k, v in values.items()}


_PROVED = (Strength.EVERY_SIZE.value, Strength.UP_TO_K.value)  # proved at least up to the requested bound
_STRENGTH_FIELD = {Strength.EVERY_SIZE.value: "every_size", Strength.UP_TO_K.value: "up_to_k",
                   Strength.BELOW_K.value: "below_k", Strength.UNDECIDED.value: "undecided"}


def summarize(records: list[ResultRow], systems: list[str], ex_available: bool) -> list[SystemSummary]:
    out = []
    for name in systems:
        rows = [r for r in records if r.system == name and r.outcome != "database_missing"]
        s = SystemSummary(system=name, questions=len(rows))
        for r in rows:
            o = r.outcome
            # counted only where the constraints prove the pair (early 0.2.0 runs gave the reason
            # to pairs left unknown too)
            s.unrealistic_only += o == "verified" and (r.reason or "").startswith(UNREALISTIC)
            strength = r.strength or strength_of_outcome(o)
            counted = bool(o != REFUTED and strength != NOT_VERIFIED and (r.ex or not ex_available))
            if counted:  # the verified pairs, by strength
                field_name = _STRENGTH_FIELD.get(strength, "strength_unknown")
                setattr(s, field_name, getattr(s, field_name) + 1)
                for name in filter(None, (r.assumptions or "").split(",")):
                    s.assumptions_used[name] = s.assumptions_used.get(name, 0) + 1
            if o == REFUTED:
                s.refuted += 1
            elif o == "refuted_by_database":
                s.refuted_by_database += 1
            elif o in ("unknown", "unsupported", "nondeterministic", "error", "timeout", "gold_failed"):
                setattr(s, o, getattr(s, o) + 1)
            d = s.by_difficulty.setdefault(r.difficulty or "unknown", {"questions": 0, "ex": 0, "verified": 0,
                                                                         "refuted": 0, "proved": 0})
            d["questions"] += 1
            d["refuted"] += o == REFUTED
            d["proved"] += counted and strength in _PROVED
            if ex_available and r.ex:
                d["ex"] += 1
                d["verified"] += o != REFUTED
        s.proved = s.every_size + s.up_to_k
        s.proved_acc = 100 * s.proved / max(s.questions, 1)
        if ex_available:
            s.ex = sum(1 for r in rows if r.ex)
            s.verified = s.ex - s.refuted
            n = max(s.questions, 1)
            s.ex_acc, s.verified_acc = 100 * s.ex / n, 100 * s.verified / n
            s.drop = s.ex_acc - s.verified_acc
        else:
            s.ex = s.verified = None
        out.append(s)
    if ex_available:
        rex = _rank({s.system: s.ex_acc for s in out})
        rver = _rank({s.system: s.verified_acc for s in out})
        for s in out:
            s.rank_ex, s.rank_verified = rex[s.system], rver[s.system]
    else:
        # without EX: fewest refuted or invalid (error verdict, e.g. unknown column) predictions first
        rref = _rank({s.system: -(s.refuted + s.error) for s in out})
        for s in out:
            s.rank_verified = rref[s.system]
    key = (lambda s: (s.rank_verified or 0, s.rank_ex or 0, s.system))
    return sorted(out, key=key)


class _Pair(BaseModel):
    system: str
    q: Question
    pred: str
    key: ResultKey


class _Accepted(BaseModel):
    """A pair that goes on to verification, with its EX outcome (None without databases)."""

    pair: _Pair
    ex: bool | None = None
    ex_error: str | None = None
    ex_seconds: float = 0.0
    column_permutation: list[int] | None = None


@dataclass
class _EvalRun:
    """One `run_evaluation` as its stages share it: the configuration, the dataset, the pairs
    (all of them, and those the store does not have yet), and what the stages produce."""

    cfg: EvalConfig
    store: RunStore
    console: Console
    ds: Dataset
    questions: list[Question]
    ex_available: bool  # the dev set has its databases: EX runs
    chash: str
    version: str
    settings: str
    systems: list[str] = field(default_factory=list)
    pairs: list[_Pair] = field(default_factory=list)
    todo: list[_Pair] = field(default_factory=list)
    executor: Any = None
    accepted: list[_Accepted] = field(default_factory=list)  # EX-accepted (or no EX): to verify
    new_ex: int = 0
    new_verifications: int = 0

    def row(self, p: _Pair, **fields: Any) -> ResultRow:
        """The result row of `p` with `fields` (outcome, EX, verdict, ...)."""
        return ResultRow(**p.key.model_dump(), db_id=p.q.db_id, difficulty=p.q.difficulty, status=p.q.status,
                         gold_sql=p.q.gold_sql, pred_sql=p.pred, **{"strength": NOT_VERIFIED, **fields})


def run_evaluation(cfg: EvalConfig, prediction_files: list[tuple[str | None, Path]], *, store: RunStore,
                   console: Console | None = None) -> Leaderboard:
    """Evaluate every prediction file; results go to `store`; returns the leaderboard.

    Stages: the pairs of every file (`_collect_pairs`), those not yet in the store (`_resume`),
    EX (`_execution_stage`), verification of the EX-accepted ones (`_verification_stage`), and
    the leaderboard of the store's rows (`_leaderboard`)."""
    from benchmarks.executors import make_executor

    t_start = time.monotonic()
    run = _start(cfg, store, console or Console(stderr=True))
    _collect_pairs(run, prediction_files)
    _resume(run)
    run.executor = make_executor(cfg.executor, workers=cfg.workers, ray_address=cfg.ray_address)
    with _progress(run.console) as prog:
        _execution_stage(run, prog)
        _verification_stage(run, prog)
    return _leaderboard(run, time.monotonic() - t_start)


def _start(cfg: EvalConfig, store: RunStore, console: Console) -> _EvalRun:
    """Check the options, load the dataset and the questions to evaluate."""
    if cfg.constraints is not None:
        check_constraints_available()
    chash = constraints_hash(cfg.constraints)
    ds = load_dataset(cfg.benchmark, cfg.data_dir, cfg.split)
    questions = ds.questions[: cfg.limit] if cfg.limit else ds.questions
    return _EvalRun(cfg=cfg, store=store, console=console, ds=ds, questions=questions,
                    ex_available=ds.has_databases(), chash=chash,
                    version=tool_version(), settings=cfg.settings_string())


def _collect_pairs(run: _EvalRun, prediction_files: list[tuple[str | None, Path]]) -> None:
    """One pair per (question, system), keyed for the store."""
    cfg, known = run.cfg, {q.db_id for q in run.ds.questions}
    for name, path in prediction_files:
        preds = load_predictions(path, known_db_ids=known, system=name)
        if preds.system in run.systems:
            raise EvalError(f"two prediction files give the system name {preds.system!r}; rename one")
        run.systems.append(preds.system)
        sqls = align(preds, run.ds)
        for q in run.questions:
            pred = sqls[q.index]
            key = ResultKey(benchmark=cfg.name, question=q.index, system=preds.system, gold_hash=sql_hash(q.gold_sql),
                            pred_hash=sql_hash(pred), semantics=cfg.semantics, bound=cfg.bound,
                            constraints_hash=run.chash, tool_version=run.version, settings=run.settings)
            run.pairs.append(_Pair(system=preds.system, q=q, pred=pred, key=key))


def _resume(run: _EvalRun) -> None:
    """The pairs the store has no result for yet."""
    finished = run.store.finished_keys(run.cfg.name)
    run.todo = [p for p in run.pairs if p.key.tuple() not in finished]
    if len(run.todo) < len(run.pairs):
        run.console.print(f"[dim]{len(run.pairs) - len(run.todo)} of {len(run.pairs)} pairs already in "
                          f"{run.store.path}; resuming[/]")


def _execution_stage(run: _EvalRun, prog: Progress | LogProgress) -> None:
    """EX of every pair (one task per question, cached by execution key): rejected pairs are
    stored as refuted by the database, accepted ones (every pair without databases) go on."""
    cfg, store, flavour = run.cfg, run.store, run.cfg.benchmark
    ex_tasks: dict[str, ExTask] = {}
    ekey_of_pair: dict[int, str] = {}
    for i, p in enumerate(run.todo):
        if run.ex_available and p.q.db_path is None:
            store.stage_result(run.row(p, outcome="database_missing"))
            continue
        if not run.ex_available:
            run.accepted.append(_Accepted(pair=p))
            continue
        ekey_of_pair[i] = text_hash(cfg.name, p.q.index, p.key.gold_hash, p.key.pred_hash, flavour,
                                    cfg.keep_distinct, cfg.ex_timeout)
    cached_ex = store.executions(sorted(set(ekey_of_pair.values())))
    for i, ekey in ekey_of_pair.items():
        if ekey in cached_ex:
            continue
        p = run.todo[i]
        t = ex_tasks.setdefault(f"q{p.q.index}", ExTask(gold=p.q.gold_sql, db_path=str(p.q.db_path), flavour=flavour,
                                                        timeout=cfg.ex_timeout, keep_distinct=cfg.keep_distinct))
        t.preds[ekey] = p.pred
    run.new_ex = sum(len(t.preds) for t in ex_tasks.values())
    if ex_tasks:
        bar = prog.add_task("EX (execution)", total=run.new_ex)
        items = sorted(ex_tasks.items())
        budget = {tid: cfg.ex_timeout * (len(t.preds) + 1) + 30 for tid, t in items}
        for out in run.executor.map(run_task, items, timeout=max(budget.values())):
            task = ex_tasks[out.task_id]
            for ekey in task.preds:
                if out.error:
                    row = ExecutionRow(ekey=ekey, ex=None if out.error != "timeout" else False,
                                       ex_error=f"EX task failed: {out.error.splitlines()[0]}")
                else:
                    r = out.value[ekey]
                    row = ExecutionRow(ekey=ekey, ex=r["match"], ex_error=r["error"], seconds=r["seconds"],
                                       column_permutation=r["column_permutation"])
                cached_ex[ekey] = row
                store.stage_execution(row)
            prog.advance(bar, len(task.preds))
    store.flush()
    for i, ekey in ekey_of_pair.items():
        p, e = run.todo[i], cached_ex[ekey]
        if e.ex is True:
            run.accepted.append(_Accepted(pair=p, ex=True, ex_error=e.ex_error, ex_seconds=e.seconds,
                                          column_permutation=e.column_permutation))
        elif e.ex is None:
            store.stage_result(run.row(p, ex=None, ex_error=e.ex_error, outcome="gold_failed", seconds=e.seconds))
        else:
            store.stage_result(run.row(p, ex=False, ex_error=e.ex_error, outcome="refuted_by_database",
                                       seconds=e.seconds))
    store.flush()


def _verification_stage(run: _EvalRun, prog: Progress | LogProgress) -> None:
    """Verification of the accepted pairs, once per distinct pair the metric compared (cached
    by verification key; with --constraints, the store's verdict without them is reused)."""
    cfg, store, flavour = run.cfg, run.store, run.cfg.benchmark
    groups: dict[str, list[_Accepted]] = defaultdict(list)
    vtasks: dict[str, VerifyTask] = {}
    plain_vkey: dict[str, str] = {}  # with --constraints: the key of the same pair verified without them
    for a in run.accepted:
        p = a.pair
        gold, pred = metric_pair(p.q.gold_sql, p.pred, flavour, cfg.keep_distinct, a.column_permutation)
        pair_id = (p.q.db_id, normalize_sql(gold), normalize_sql(pred), cfg.semantics, cfg.bound)
        vkey = text_hash(*pair_id, run.chash, run.version, run.settings, flavour)
        groups[vkey].append(a)
        if vkey not in vtasks:
            if cfg.constraints:
                plain_vkey[vkey] = text_hash(*pair_id, constraints_hash(None), run.version, run.settings, flavour)
            vtasks[vkey] = VerifyTask(gold=gold, pred=pred, db_id=p.q.db_id,
                                      db_path=str(p.q.db_path) if p.q.db_path else None,
                                      tables_json=str(run.ds.tables_json),
                                      constraints=str(cfg.constraints) if cfg.constraints else None,
                                      semantics=cfg.semantics, bound=cfg.bound, timeout=cfg.timeout,
                                      effort=cfg.effort, strict=cfg.strict, assume=cfg.assume,
                                      memory_limit=cfg.memory_limit,
                                      minimize=cfg.minimize, flavour=flavour)

    def finish(vkey: str, v: VerificationRow) -> None:
        for a in groups[vkey]:
            outcome = "timeout" if v.verdict == "timeout" else OUTCOME_OF_VERDICT.get(v.verdict, VerdictKind.ERROR)
            store.stage_result(run.row(a.pair, ex=a.ex, ex_error=a.ex_error, verdict=v.verdict, reason=v.reason,
                                       counterexample=v.counterexample, outcome=outcome,
                                       seconds=round(a.ex_seconds + v.seconds, 3),
                                       strength=v.strength or strength_of_outcome(outcome),
                                       proved_bound=v.proved_bound, assumptions=v.assumptions))

    # a proof stored before strengths were recorded is done again, to learn how far it reached
    cached_v = {k: v for k, v in store.verifications(list(vtasks)).items()
                if v.strength is not None or v.verdict != VerdictKind.EQUIVALENT}
    for vkey, v in cached_v.items():
        finish(vkey, v)
    new = [(k, t) for k, t in vtasks.items() if k not in cached_v]
    cached_plain = {k: v for k, v in store.verifications([plain_vkey[k] for k, _ in new if k in plain_vkey]).items()
                    if v.strength is not None or v.verdict != VerdictKind.EQUIVALENT}
    for k, t in new:
        if k in plain_vkey and plain_vkey[k] in cached_plain:
            t.plain = cached_plain[plain_vkey[k]].model_dump(exclude={"vkey"})
    run.new_verifications = len(new)
    if new:
        bar = prog.add_task(f"verify ({len(run.accepted)} pairs, {len(vtasks)} distinct)", total=len(new))
        # a pair whose verifier overruns its own deadline this much is stuck: kill it
        hard = cfg.timeout * 3 + 30
        for out in run.executor.map(run_task, new, timeout=hard, isolate=True,
                                    warm_up=warm_up_verification):
            if out.error:
                verdict = "timeout" if out.error == "timeout" else "error"
                reason = (f"killed after {out.seconds:.0f}s (verifier timeout {cfg.timeout:g}s)"
                          if verdict == "timeout" else f"verifier failed: {out.error.splitlines()[0]}")
                v = VerificationRow(vkey=out.task_id, verdict=verdict, reason=reason, seconds=out.seconds,
                                    strength=Strength.UNDECIDED.value)
            else:
                r = out.value
                v = VerificationRow(vkey=out.task_id, verdict=r["verdict"], reason=r["reason"],
                                    counterexample=r["counterexample"], seconds=r["seconds"],
                                    strength=r.get("strength"), proved_bound=r.get("proved_bound"),
                                    assumptions=r.get("assumptions"))
                if r.get("plain"):  # the verdict without constraints, computed on the way
                    store.stage_verification(VerificationRow(vkey=plain_vkey[out.task_id], **{
                        f: r["plain"].get(f) for f in ("verdict", "reason", "counterexample", "seconds", "strength",
                                                       "proved_bound", "assumptions")}))
            store.stage_verification(v)
            finish(out.task_id, v)
            prog.advance(bar)
    store.flush()


def _leaderboard(run: _EvalRun, wall_seconds: float) -> Leaderboard:
    """The leaderboard of this run's pairs, from the store's rows (earlier runs' included)."""
    cfg = run.cfg
    current = {p.key.tuple() for p in run.pairs}
    records = [r for r in run.store.results(cfg.name, run.systems) if r.tuple() in current]
    excluded = sum(1 for q in run.questions if run.ex_available and q.db_path is None)
    qinfo = {q.index: {"question": q.question, "evidence": q.evidence, "db_id": q.db_id} for q in run.questions}
    return Leaderboard(benchmark=cfg.name, config=json.loads(cfg.model_dump_json()), ex_available=run.ex_available,
                       systems=summarize(records, run.systems, run.ex_available), records=records,
                       excluded_questions=excluded, questions=qinfo, wall_seconds=round(wall_seconds, 2),
                       pairs=len(run.pairs), new_ex_tasks=run.new_ex, new_verifications=run.new_verifications)


def _progress(console: Console) -> Progress | LogProgress:
    """A live progress bar on a terminal; in a log file (`nohup ... > log`), a line now and then."""
    if not console.is_terminal:
        return LogProgress(console)
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console)


class LogProgress:
    """Progress for a console that is not a terminal, where a live bar shows nothing until the
    end: `add_task`/`advance` as rich's `Progress`, writing a line per task at most every
    `every` seconds and when it completes, e.g.
    `verify (24544 pairs, 9120 distinct): 1200/8012 (15%), 2.1/s, 54m left`."""

    def __init__(self, console: Console, every: float = 60.0):
        self.console, self.every = console, every
        self.tasks: dict[int, dict] = {}

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def add_task(self, description: str, total: int) -> int:
        now = time.monotonic()
        self.tasks[len(self.tasks)] = {"what": description, "total": total, "done": 0, "start": now, "said": now}
        self.console.print(f"{description}: {total} to do", highlight=False, soft_wrap=True)
        return len(self.tasks) - 1

    def advance(self, task_id: int, n: int = 1) -> None:
        t, now = self.tasks[task_id], time.monotonic()
        t["done"] += n
        if now - t["said"] < self.every and t["done"] < t["total"]:
            return
        t["said"] = now
        rate = t["done"] / max(now - t["start"], 1e-9)
        left = (t["total"] - t["done"]) / rate if rate > 0 else 0.0
        self.console.print(f"{t['what']}: {t['done']}/{t['total']} ({100 * t['done'] / max(t['total'], 1):.0f}%), "
                           f"{rate:.1f}/s, {_duration(left)} left", highlight=False, soft_wrap=True)


def _duration(seconds: float) -> str:
    """'45s', '12m', '2h05m'."""
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"


# ---------------------------------------------------------------------------------------------
# output


STRENGTH_COLUMNS = [("every size", "every_size"), ("up to k", "up_to_k"), ("below k", "below_k"),
                    ("undecided", "undecided"), ("strength unknown", "strength_unknown")]
"""The leaderboard's columns counting the verified pairs by strength (header, `SystemSummary` field)."""


def print_leaderboard(lb: Leaderboard, console: Console) -> None:
    """The leaderboard as a terminal table: EX, verified and proved accuracy, ranks, the verified
    pairs by strength (every size, up to k, below k, undecided), and the other outcomes."""
    from rich.table import Table

    t = Table(title=f"{lb.benchmark}: {len(lb.systems)} systems, {lb.pairs} pairs"
                    + (f", {lb.excluded_questions} questions without a database excluded" if lb.excluded_questions
                       else "") + ("" if lb.ex_available else " (no databases: EX unavailable, verification only)"))
    cols = ["system", "n"]
    if lb.ex_available:
        cols += ["EX %", "verified %", "proved %", "drop pp", "rank EX", "rank verified", "refuted"]
    else:
        cols += ["refuted", "proved %"]
    old_rows = any(s.strength_unknown for s in lb.systems)  # a store written before strengths were recorded
    strength_cols = [c for c, _ in STRENGTH_COLUMNS if c != "strength unknown" or old_rows]
    cols += strength_cols + ["unknown", "unsupported", "nondet.", "error/timeout"]
    with_constraints = bool(lb.config.get("constraints"))
    if with_constraints:
        cols.append("refuted only by unrealistic data")
    for c in cols:
        t.add_column(c, justify="left" if c == "system" else "right")
    for s in lb.systems:
        row = [s.system, str(s.questions)]
        if lb.ex_available:
            row += [f"{s.ex_acc:.1f}", f"{s.verified_acc:.1f}", f"{s.proved_acc:.1f}", f"{s.drop:.1f}",
                    str(s.rank_ex), str(s.rank_verified), str(s.refuted)]
        else:
            row += [str(s.refuted), f"{s.proved_acc:.1f}"]
        row += [str(getattr(s, f)) for c, f in STRENGTH_COLUMNS if c in strength_cols]
        row += [str(s.unknown), str(s.unsupported), str(s.nondeterministic), str(s.error + s.timeout + s.gold_failed)]
        if with_constraints:
            row.append(str(s.unrealistic_only))
        t.add_row(*row)
    console.print(t)
    used = sorted({n for s in lb.systems for n in s.assumptions_used})
    if used:
        a = Table(title="assumptions the proofs of verified pairs used (pairs; see `verify assumptions`)")
        a.add_column("system")
        for n in used:
            a.add_column(n, justify="right")
        for s in lb.systems:
            a.add_row(s.system, *[str(s.assumptions_used.get(n, 0)) for n in used])
        console.print(a)
    rate = lb.pairs / lb.wall_seconds if lb.wall_seconds else 0.0
    console.print(f"wall {lb.wall_seconds:.1f}s, {lb.pairs} pairs ({rate:.1f} pairs/s); "
                  f"{lb.new_ex_tasks} new EX checks, {lb.new_verifications} new verifications")


def _csv_cell(value: Any) -> Any:
    """A summary field as a CSV cell: a count by name (`assumptions_used`) as `name=count;...`."""
    if isinstance(value, dict):
        return ";".join(f"{k}={v}" for k, v in sorted(value.items()))
    return value


def write_outputs(lb: Leaderboard, out_dir: Path) -> dict[str, Path]:
    """leaderboard.json (summary + config), leaderboard.csv, records.jsonl (one per pair)."""
    import csv

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "leaderboard.json", "csv": out_dir / "leaderboard.csv",
             "records": out_dir / "records.jsonl"}
    summary = lb.model_dump(mode="json", exclude={"records", "questions"})
    paths["json"].write_text(json.dumps(summary, indent=2))
    fields = [f for f in SystemSummary.model_fields if f != "by_difficulty"]
    diffs = sorted({d for s in lb.systems for d in s.by_difficulty})
    with paths["csv"].open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(fields + [f"ex_{d}" for d in diffs] + [f"verified_{d}" for d in diffs] + [f"n_{d}" for d in diffs]
                   + [f"proved_{d}" for d in diffs])
        for s in lb.systems:
            bd = s.by_difficulty
            w.writerow([_csv_cell(getattr(s, f)) for f in fields] + [bd.get(d, {}).get("ex", 0) for d in diffs]
                       + [bd.get(d, {}).get("verified", 0) for d in diffs]
                       + [bd.get(d, {}).get("questions", 0) for d in diffs]
                       + [bd.get(d, {}).get("proved", 0) for d in diffs])
    with paths["records"].open("w") as fh:
        for r in lb.records:
            d = r.model_dump(mode="json")
            d["question_text"] = lb.questions.get(r.question, {}).get("question", "")
            fh.write(json.dumps(d) + "\n")
    return paths


__all__ = ["EvalConfig", "EvalError", "Leaderboard", "SystemSummary", "run_evaluation", "summarize",
           "print_leaderboard", "write_outputs", "run_task", "permute_columns"]
