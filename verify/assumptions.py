"""Named domain assumptions of the SMT encoding, and the policy that decides which may narrow
the search.

The encoder models some SQLite functions exactly only on part of their inputs (a date function
on 'YYYY-MM-DD' texts, a text-to-number conversion on short plain numbers, ...). Outside that
part the value is uninterpreted: a Z3 function of the argument, shared by both queries, with its
own NULL flag. Any engine behaviour is one interpretation of it, so a proof (unsat) holds for
SQLite without the assumption that the argument lies in the modelled part. Asserting the
assumption narrows the search further (and makes proofs easier); it is done only when the
policy allows it:

- by default, when the assumption is on by default (a matter of representation, such as
  "text values are printable ASCII") or when evidence backs it for that value (a column
  declared DATE for `date_text`);
- with `strict`, only with evidence (declared types) — no default-on assumption;
- `--assume NAME` adds an assumption explicitly.

An assumption the policy does not allow is still used to *search* for counterexamples (a
counterexample is confirmed by the engine anyway): first, at each bound, as a probe with part of
the solver's budget, and again once the whole formula's models fail on the engine (see
`verify.check._smt_at`); but "no difference" under it is no proof: the verdict then says which
assumption a proof needs.

    >>> AssumptionPolicy().allows("printable_text"), AssumptionPolicy(strict=True).allows("printable_text")
    (True, False)
    >>> AssumptionPolicy().allows("date_text"), AssumptionPolicy().allows("date_text", evidence=True)
    (False, True)
    >>> AssumptionPolicy.make(assume=["date_text"]).allows("date_text")
    True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from verify import clock

DATE_TYPES_EVIDENCE = "the argument is a column declared DATE, DATETIME, TIME or TIMESTAMP"


@dataclass(frozen=True)
class Assumption:
    """One named assumption: the note verdicts list when it is used, whether it narrows the
    search by default, and what evidence enables it otherwise ("" when none does)."""

    name: str
    note: str
    default: bool
    evidence: str = ""
    # kept in strict mode too: the representation of values itself, or a restriction the
    # encoding cannot do without (it has no over-approximation of the engine outside it)
    always: bool = False

    def describe(self) -> str:
        """One line for `verify assumptions` / `verify pair --help`."""
        if self.always:
            when = "always, also with --strict (not modelled otherwise)"
        elif self.default:
            when = "on by default, off with --strict"
        elif self.evidence:
            when = f"off unless {self.evidence} (or --assume)"
        else:
            when = "off unless --assume"
        return f"{self.name}: {self.note} [{when}]"


# the note texts are the ones verdicts have listed so far (tests and stored runs match them)
PRINTABLE_NOTE = "text values are printable ASCII"
TEXT_REPRESENTATION_NOTE = "text values contain no NUL character and no lone surrogate (SQLite text is UTF-8)"
DATE_NOTE = ("text values used as dates are NULL or valid 'YYYY-MM-DD[ HH:MM[:SS[.SSS]]]' values "
             "(a day that exists in its month)")
WHOLE_SECONDS_NOTE = "time values used by julianday() have no fractional seconds"
AFFINITY_INT_NOTE = "text values compared with numbers are integers in decimal digits or contain no digit"
DUCKDB_INT_NOTE = ("texts DuckDB converts to integers are plain decimal integers ('-'? and at most 18 digits; "
                   "DuckDB fails on texts it cannot convert)")
NO_DIV_ZERO_NOTE = "no division by zero (DuckDB returns infinity)"
BIT_OPERANDS_NOTE = "BIT_AND/BIT_OR operands are 64-bit integers"
TIES_NOTE = ("rows that tie under the same ORDER BY ... LIMIT are kept alike by both queries "
             "(the engine's choice among tied rows is taken to be the same for two plans of the same rows)")
MAX_NUMBER_CHARS = 12  # positions `strings.text_to_number` examines for a text's numeric prefix
TEXT_NUMBER_NOTE = (f"text values converted to numbers do not start with whitespace, and their numeric "
                    f"prefix is shorter than {MAX_NUMBER_CHARS} characters with no exponent")

REGISTRY: tuple[Assumption, ...] = (
    Assumption("printable_text", PRINTABLE_NOTE, default=True),
    Assumption("text_representation", TEXT_REPRESENTATION_NOTE, default=True, always=True),
    Assumption("date_text", DATE_NOTE, default=False, evidence=DATE_TYPES_EVIDENCE),
    Assumption("whole_seconds", WHOLE_SECONDS_NOTE, default=False, evidence=DATE_TYPES_EVIDENCE),
    Assumption("text_number", TEXT_NUMBER_NOTE, default=False),
    Assumption("affinity_int_text", AFFINITY_INT_NOTE, default=False),
    Assumption("duckdb_int_text", DUCKDB_INT_NOTE, default=False),
    Assumption("no_division_by_zero", NO_DIV_ZERO_NOTE, default=True, always=True),
    Assumption("bit_operands_64", BIT_OPERANDS_NOTE, default=True),
    Assumption("clock", clock.NOTE, default=True),
    # SQLSolver's reading of LIMIT; no declaration backs it: DuckDB's and SQLite's choice among
    # tied rows follows each query's plan (`verify.check._same_top_k`)
    Assumption("ties_alike", TIES_NOTE, default=False),
)


_BY_NAME = {a.name: a for a in REGISTRY}


class UnknownAssumption(ValueError):
    """An assumption name that is not in the registry."""


def by_name(name: str) -> Assumption:
    """The registered assumption `name`, or `UnknownAssumption` naming the known ones."""
    a = _BY_NAME.get(name)
    if a is None:
        known = ", ".join(x.name for x in REGISTRY)
        raise UnknownAssumption(f"unknown assumption {name!r} (known: {known}; see 'verify assumptions')")
    return a


@dataclass(frozen=True)
class AssumptionPolicy:
    """Which assumptions may narrow the search: the defaults (unless `strict`), those with
    evidence for the value at hand, and those named in `extra` (`--assume`)."""

    strict: bool = False
    extra: frozenset[str] = frozenset()

    @staticmethod
    def make(strict: bool = False, assume: Iterable[str] = ()) -> "AssumptionPolicy":
        """A policy from the command line's `--strict` and `--assume NAME...`; an unknown name is
        an `UnknownAssumption`."""
        names = frozenset(assume)
        for n in names:
            by_name(n)
        return AssumptionPolicy(strict, names)

    def allows(self, name: str, evidence: bool = False) -> bool:
        """`name` may be asserted (narrow the search and back a proof); `evidence`: the schema
        backs it for the value at hand (see `Assumption.evidence`)."""
        a = by_name(name)
        if a.always or name in self.extra or (evidence and a.evidence):
            return True
        return a.default and not self.strict

    def describe(self) -> str:
        """The policy in words, for verdicts and logs."""
        parts = ["strict" if self.strict else "default"]
        parts += [f"--assume {n}" for n in sorted(self.extra)]
        return ", ".join(parts)


DEFAULT = AssumptionPolicy()
_BY_NOTE = {a.note: a.name for a in REGISTRY}


def names_used(notes: Iterable[str]) -> list[str]:
    """The registered assumptions among a verdict's notes (`Verdict.assumptions`), by name, in
    registry order; notes of other kinds (an inferred schema, a foreign key not used) are left out.

        >>> names_used([PRINTABLE_NOTE, "schema inferred from the queries", DATE_NOTE])
        ['printable_text', 'date_text']
    """
    found = {_BY_NOTE[n] for n in notes if n in _BY_NOTE}
    return [a.name for a in REGISTRY if a.name in found]


def listing() -> str:
    """The registry, one assumption a line (`verify assumptions`)."""
    return "\n".join(a.describe() for a in REGISTRY)
