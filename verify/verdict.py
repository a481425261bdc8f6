"""The verifier's answer, as it crosses every boundary (CLI `--json`, Python API, run store).

Verdicts and what they promise:

- `equivalent`: the solver proved that no database with at most `bound` rows per table that
  satisfies the schema's constraints (and the listed `assumptions`) makes the two queries
  differ under `semantics`. With `complete=True` the proof covers databases of every size
  (e.g. neither query reads a table).
- `not_equivalent`: `counterexample` is a concrete database on which the two queries were
  *executed on the real engine* and returned different results. Never issued otherwise.
- `nondeterministic`: the queries returned different results on `counterexample`, but another
  order of the same rows makes them agree: the difference comes only from a choice SQLite leaves
  open (ties under ORDER BY ... LIMIT, LIMIT without ORDER BY, a column neither grouped nor
  aggregated, a scalar subquery with several rows). No order-independent difference was found.
- `unknown`: no difference found and no proof either (time ran out, solver gave up, or a
  model the engine did not confirm); `reason` says which.
- `unsupported`: a query uses SQL the verifier does not model; `reason` names the feature.
- `error`: bad input (syntax error, unknown column, not a SELECT, ...); `reason` says what.

Every verdict also says how strong it is (`Verdict.strength`, a `Strength`; computed from
`verdict`, `complete`, `bound` and `requested_bound`, and written into `--json` and the run store):

- `every_size`: `equivalent` with `complete`: the proof holds for databases of every size;
- `up_to_k`: `equivalent` proved for every database with at most `requested_bound` rows per table
  (the bound asked for was reached);
- `below_k`: `equivalent` proved only up to `bound` < `requested_bound` rows per table: the SMT
  search stopped early (`proof.stopped` and `reason` say why: time ran out, the solver gave up,
  a model resting on ties the engine did not confirm); nothing is known above `bound`;
- `refuted`: `not_equivalent` (a confirmed counterexample);
- `undecided`: `nondeterministic`, `unknown`, `unsupported` or `error`: neither proved nor refuted;
- `unknown`: an `equivalent` verdict that does not say which bound was asked for (stored before
  `requested_bound` existed), so its strength cannot be told.

`proof` says how the verdict was reached (`verify pair --explain`): the shortcut or search that
decided, the bounds the solver checked, what the minimizer removed, or what was tried before the
verifier stopped. It is optional, so verdicts stored without it still load.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr, computed_field


class VerdictKind(str, Enum):
    EQUIVALENT = "equivalent"
    NOT_EQUIVALENT = "not_equivalent"
    NONDETERMINISTIC = "nondeterministic"
    UNKNOWN = "unknown"
    UNSUPPORTED = "unsupported"
    ERROR = "error"


EXIT_CODES = {
    VerdictKind.EQUIVALENT: 0,
    VerdictKind.NOT_EQUIVALENT: 1,
    VerdictKind.UNKNOWN: 2,
    VerdictKind.UNSUPPORTED: 2,
    VerdictKind.ERROR: 3,
    VerdictKind.NONDETERMINISTIC: 4,
}


class Strength(str, Enum):
    """How strong a verdict is (module docstring): from a proof for every database size down to
    no decision. `UNKNOWN` is a verdict whose requested bound was not recorded."""

    EVERY_SIZE = "every_size"
    UP_TO_K = "up_to_k"
    BELOW_K = "below_k"
    REFUTED = "refuted"
    UNDECIDED = "undecided"
    UNKNOWN = "unknown"


def proof_strength(kind: VerdictKind | str, *, complete: bool = False, bound: int | None = None,
                   requested_bound: int | None = None) -> Strength:
    """The strength of a verdict of `kind` (module docstring).

    >>> proof_strength("equivalent", bound=1, requested_bound=3).value
    'below_k'
    >>> proof_strength("equivalent", bound=3, requested_bound=3).value
    'up_to_k'
    >>> proof_strength("unsupported").value
    'undecided'
    """
    kind = VerdictKind(kind)
    if kind == VerdictKind.NOT_EQUIVALENT:
        return Strength.REFUTED
    if kind != VerdictKind.EQUIVALENT:
        return Strength.UNDECIDED
    if complete:
        return Strength.EVERY_SIZE
    if bound is None or requested_bound is None:
        return Strength.UNKNOWN
    return Strength.UP_TO_K if bound >= requested_bound else Strength.BELOW_K


class TableData(BaseModel):
    """Rows of one table (or one query result)."""

    columns: list[str]
    rows: list[list[Any]]


class Minimization(BaseModel):
    """What the minimizer removed from a counterexample: its size before and after."""

    rows_before: int
    rows_after: int
    cells_before: int
    cells_after: int


class Counterexample(BaseModel):
    tables: dict[str, TableData]
    gold_result: TableData
    gen_result: TableData
    gold_only: list[list[Any]] = Field(
        default_factory=list, description="rows (with multiplicity) that only the gold result has"
    )
    gen_only: list[list[Any]] = Field(
        default_factory=list, description="rows (with multiplicity) that only the generated result has"
    )
    found_by: str = Field(description="'random' (value-pool search), 'smt', or 'hint' (a database the caller "
                                      "gave, as given or repaired to fit the constraints)")
    order_dependent: bool = Field(
        default=False,
        description="another order of the same rows makes the results agree (a nondeterministic witness)",
    )
    inserts: str = Field(default="", description="a SQL script that rebuilds the database")
    now: str | None = Field(default=None, description="the current time both queries ran at, when they read it "
                            "(CURRENT_TIMESTAMP, 'now'); confirmed with it written into the queries")
    realism: float | None = Field(default=None, description="share of cells plausible for the source database (constraints.realism)")
    _minimized: Minimization | None = PrivateAttr(default=None)  # set by the minimizer's caller, for the proof


ProofMethod = Literal["identical", "same_plan", "row_wise", "no_tables", "smt", "width", "hint", "random",
                      "undecided"]


class Proof(BaseModel):
    """How a verdict was reached.

    `method` names what decided: for `equivalent` a shortcut (`identical`, `same_plan`), the
    row-wise proof for every size (`row_wise`, with its `steps`), the bounded SMT proof (`smt`,
    with the `bounds` proved) or one check at k = 0 when no table is read (`no_tables`); for a
    counterexample the search that found it (`width` check, `hint`, `random` pass with the
    `databases` it tried, `smt` at bound `k`) and what the minimizer removed; `undecided` when
    nothing did (`unknown`, `unsupported`). `tried` lists the searches that ran before, and
    `stopped` why the search ended short."""

    method: ProofMethod
    summary: str = Field(description="one readable sentence")
    steps: list[str] = Field(default_factory=list, description="the row-wise proof, step by step")
    bounds: list[int] = Field(default_factory=list, description="bounds k the SMT search proved, in order")
    k: int | None = Field(default=None, description="the bound at which the SMT search found the counterexample")
    databases: int | None = Field(default=None, description="random databases the deciding pass tried")
    minimized: Minimization | None = None
    tried: list[str] = Field(default_factory=list, description="what was tried before, in order")
    stopped: str | None = Field(default=None, description="why the search ended before the bound")
    only_ties_left: bool = Field(default=False, description="the inputs of the same ORDER BY ... LIMIT were proved "
                                 "to hold the same rows for every size: only rows tied under it can differ")


class Stats(BaseModel):
    smt_calls: int = 0
    unconfirmed_models: int = 0
    random_databases: int = 0
    order_dependent_models: int = 0
    seconds: float = 0.0
    rlimit: int | None = Field(default=None, description="Z3 resource units spent by all solver checks (the "
                                                         "deterministic measure of solver work; see verify.budget)")


class Verdict(BaseModel):
    verdict: VerdictKind
    bound: int | None = Field(
        default=None,
        description="largest k (rows per table) for which equivalence was proved, "
        "or the size at which the counterexample was found",
    )
    complete: bool = Field(
        default=False, description="the proof holds for databases of every size"
    )
    semantics: str = "bag"
    dialect: str = "sqlite"
    counterexample: Counterexample | None = None
    confirmed: bool = False
    stats: Stats = Field(default_factory=Stats)
    reason: str = ""
    assumptions: list[str] = Field(default_factory=list)
    read_as: list[str] = Field(default_factory=list, description="how the queries' text was read before "
                               "verification (`verify pair --calcite`: Calcite's SQL as DuckDB's, `verify.calcite`)")
    schema_inferred: bool = False
    proof: Proof | None = None
    requested_bound: int | None = Field(
        default=None, description="the bound k (rows per table) the caller asked to prove up to; "
        "None in verdicts stored before it was recorded",
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def strength(self) -> Strength:
        """How strong the verdict is: `every_size`, `up_to_k`, `below_k`, `refuted`, `undecided`
        (or `unknown` without `requested_bound`); see the module docstring."""
        return proof_strength(self.verdict, complete=self.complete, bound=self.bound,
                              requested_bound=self.requested_bound)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]
