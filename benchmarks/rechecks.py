"""Re-checks of every-size proofs inside the suite benchmarks (`verify bench sqlsolver --recheck N`,
`verify bench verieql --recheck N`): each pair proved for every size is run on N random
databases larger than its bound (`verify.recheck`); a difference there would be a wrong proof.

A benchmark's per-pair record carries the three counts (`Rechecked`), and its summary the three
rows `summary_rows` gives.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel

from verify.recheck import recheck
from verify.schema import Schema

ROWS = (5, 10)  # rows per table of the re-check's databases (more than the default bound 4)


class Rechecked(BaseModel):
    """The re-check of one pair's every-size proof (None where there was none)."""

    recheck_databases: int | None = None
    recheck_differences: int | None = None  # differences no row order removes: wrong proofs
    recheck_order_dependent: int | None = None  # differences another row order removes


class _HasRecheck(Protocol):
    recheck_databases: int | None
    recheck_differences: int | None
    recheck_order_dependent: int | None


def recheck_proof(gold: str, gen: str, schema: Schema, *, dialect: str, semantics: str, databases: int,
                  bound: int) -> Rechecked:
    """`gold` and `gen`, proved equivalent for every size, run on `databases` random databases with
    more rows per table than `bound`."""
    r = recheck(gold, gen, schema, dialect=dialect, semantics=semantics, databases=databases,
                min_rows=max(ROWS[0], bound + 1), max_rows=max(ROWS[1], bound + 2))
    return Rechecked(recheck_databases=r.databases, recheck_differences=r.differences,
                     recheck_order_dependent=r.order_dependent)


def summary_rows(outcomes: list[_HasRecheck]) -> dict[str, object]:
    """The summary rows of the re-checked proofs among `outcomes` (none when nothing was re-checked)."""
    done = [o for o in outcomes if o.recheck_databases is not None]
    if not done:
        return {}
    return {
        "re-checked proofs (databases)": f"{len(done)} ({sum(o.recheck_databases or 0 for o in done)})",
        "re-check differences (wrong proofs)": sum(o.recheck_differences or 0 for o in done),
        "re-check order-dependent differences": sum(o.recheck_order_dependent or 0 for o in done),
    }
