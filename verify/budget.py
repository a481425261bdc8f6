"""The work budget of one `check_pair` call: how much each search may do, counted in work, not
in seconds, so that a verdict is the same on every machine.

Units:

- random databases: databases the random pass runs both queries on (`verify.randomdb`); a
  database drawn twice, or one the schema's constraints reject, does not count;
- Z3 resource units (`rlimit`): Z3's own deterministic count of solver work (the "rlimit count"
  of `Solver.statistics()`); `solver.set("rlimit", n)` lets one check spend at most n units more
  than the count when it starts, and a check stopped by it answers `unknown` with the reason
  "canceled";
- engine runs: calls of the minimizer's "do the results still differ?" test, each one or a few
  runs of both queries on the engine.

`DEFAULT` is calibrated on the development machine (2 cores, shared with other work), where
the SMT search's formulas spend 5 to 18 million rlimit units per second (about 10 million on
most; string-heavy ones 3 to 5 million under load), SQLite runs about 3,000 random databases per
second and DuckDB about 50: so the SMT budget is about 10 s of solving on most formulas (up to
about 30 s on string-heavy ones, the `verify pair` default timeout), the random passes cost a
fraction of a second on SQLite (a few seconds on DuckDB), and the minimizer's budget is about
the 5 s it had. A pair far from these limits (most pairs: an equivalent pair is proved in well
under a second) costs what it did when the limits were seconds.

Not counted: building the formulas (`verify.encode`), whose cost grows fast with k on some
queries; only the safety timeout bounds it ("time limit ... reached encoding k=...").

Wall-clock time is only a safety stop (`check_pair(timeout=...)`): a verdict it decides is
`unknown` with a reason starting "time limit".

    >>> DEFAULT.scaled(2).smt_rlimit == 2 * DEFAULT.smt_rlimit
    True
    >>> Budget(random_first=10).scaled(0.5).random_first
    5
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """How much work each search of `check_pair` may do (see the module docstring for units).

    `random_first`: random databases in the short pass before the SMT search;
    `random_reserve`: random databases in a second pass, run once: before the SMT search's first
    bound above 1, or when the SMT search stopped short of the bound (by the budget, or the
    solver giving up) before it got there;
    `smt_rlimit`: Z3 resource units for the whole SMT search, all bounds and retries together
    (at each bound, the probe where unbacked assumptions hold may spend at most half of what is
    left, `verify.check._smt_at`);
    `proof_rlimit`: Z3 resource units for each small check of the every-size proof (row-wise
    comparison, plan-rewrite conditions) and of the empty-table check (with Z3's default
    solver a block of six tables multiplying two columns, as TPC-H's, needed just over 5
    million; the proof solver, `verify.values.PROOF_TACTICS`, answers it in a few thousand);
    `minimize_runs`: engine runs of the minimizer for one counterexample."""

    random_first: int = 25
    random_reserve: int = 250
    smt_rlimit: int = 100_000_000
    proof_rlimit: int = 8_000_000
    minimize_runs: int = 2_000

    def scaled(self, effort: float) -> Budget:
        """Every limit multiplied by `effort` (rounded down; a positive limit stays at least 1)."""
        if not effort >= 0:
            raise ValueError(f"effort must be a number >= 0, not {effort!r}")

        def scale(n: int) -> int:
            return 0 if n == 0 or effort == 0 else max(1, int(n * effort))

        return Budget(**{f.name: scale(getattr(self, f.name)) for f in dataclasses.fields(self)})

    def without_random(self) -> Budget:
        """The same budget with no random pass (the SMT search alone)."""
        return dataclasses.replace(self, random_first=0, random_reserve=0)


DEFAULT = Budget()
"""The budget of `check_pair` when the caller gives none."""
