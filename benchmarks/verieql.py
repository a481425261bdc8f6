"""Loading the VeriEQL equivalence benchmarks (Literature: 64 pairs, Calcite: 397 pairs) and
VeriEQL's own recorded results for them.

Input files (one JSON object per line):

- `{literature,calcite}.jsonl`: `index`, `benchmark`, `name` (Literature only), `schema`
  (`{TABLE: {COL: TYPE}}`), `constraint` (VeriEQL constraint list, or null), `pair`
  ([q1, q2], upper-cased SQL), `has-symbolic-predicates` (Literature only).
  Literature indexes run 0..63, Calcite 1..397; Calcite has no names, so its pairs are
  named `calcite-<index>`.
- `*.verieql_results.jsonl`: `index`, `states` (one per bound k = 1, 2, ...: `EQU` =
  equivalent up to k, `NEQ` = counterexample found, `TMO` = timeout, or an error state:
  `SYN` syntax, `NSE` not-supported expression, `NIE` not-implemented), `times` (per bound
  a pair [encode seconds, solve seconds] whose entries may be null, or null), `err`,
  `counterexample`.

Example:
    >>> pairs = load_pairs("../shared/data/verieql/literature.jsonl")  # doctest: +SKIP
    >>> pairs[1].name, pairs[1].schema.table("R2").primary_key  # doctest: +SKIP
    ('ex2sigmod83', ['A'])
    >>> load_recorded("../shared/data/verieql/literature.verieql_results.jsonl")[1].refuted
    ... # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from verify.schema import Schema, SchemaError
from verify.schema_io import schema_from_verieql

__all__ = ["VeriEQLPair", "VeriEQLRecorded", "load_pairs", "load_recorded"]

_OK_STATES = {"EQU", "NEQ", "TMO"}


# `schema` shadows pydantic's deprecated `BaseModel.schema()` classmethod; the field name is
# part of this module's interface, so the warning about it is silenced here.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message='Field name "schema"', category=UserWarning)

    class VeriEQLPair(BaseModel):
        """One benchmark pair (`gold` = q1, `gen` = q2). `schema` is None exactly when
        `schema_error` says why."""

        name: str
        index: int
        benchmark: str
        schema: Schema | None
        schema_error: str | None = None
        gold: str
        gen: str
        symbolic_predicates: bool = False


class VeriEQLRecorded(BaseModel):
    """VeriEQL's recorded outcome for one pair.

    `verified_k`: how many leading bounds were proved equivalent (`EQU`); `refuted`: some
    bound found a counterexample (`NEQ`); `error_kind`: the first state that is none of
    EQU/NEQ/TMO (e.g. `SYN`, `NSE`, `NIE`), if any; `seconds`: the recorded `times`, one
    entry per state (a list of per-phase seconds, possibly with nulls, or null).
    """

    index: int
    states: list[str]
    verified_k: int
    refuted: bool
    error_kind: str | None = None
    err: str | None = None
    seconds: list[Any] = []
    counterexample: str | None = None  # VeriEQL's CREATE/INSERT script for a refuted pair

    @property
    def timed_out(self) -> bool:
        return "TMO" in self.states


def _read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    p = Path(path)
    rows = []
    with p.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{p}:{lineno}: not JSON: {e}") from e
            if not isinstance(row, dict):
                raise ValueError(f"{p}:{lineno}: expected a JSON object")
            rows.append(row)
    return rows


def load_pairs(path: str | os.PathLike[str], dialect: str = "duckdb") -> list[VeriEQLPair]:
    """The pairs of a VeriEQL benchmark file, in file order. A schema that cannot be
    converted does not stop loading: the pair gets `schema=None` and `schema_error`."""
    pairs = []
    stem = Path(path).name.split(".")[0]
    for row in _read_jsonl(path):
        index = int(row["index"])
        pair = row.get("pair") or []
        if len(pair) != 2:
            raise ValueError(f"{path}: pair {index} does not have two queries")
        schema: Schema | None = None
        error: str | None = None
        try:
            schema = schema_from_verieql(row.get("schema") or {}, row.get("constraint"), dialect)
            schema = schema.model_copy(update={"source": f"verieql:{stem}#{index}"})
        except SchemaError as e:
            error = str(e)
        pairs.append(
            VeriEQLPair(
                name=row.get("name") or f"{stem}-{index}",
                index=index,
                benchmark=row.get("benchmark") or stem,
                schema=schema,
                schema_error=error,
                gold=pair[0],
                gen=pair[1],
                symbolic_predicates=bool(row.get("has-symbolic-predicates", False)),
            )
        )
    return pairs


def _recorded(row: dict[str, Any]) -> VeriEQLRecorded:
    states = [str(s) for s in (row.get("states") or [])]
    verified = 0
    for s in states:
        if s != "EQU":
            break
        verified += 1
    error_kind = next((s for s in states if s not in _OK_STATES), None)
    err = row.get("err")
    return VeriEQLRecorded(
        index=int(row["index"]),
        states=states,
        verified_k=verified,
        refuted="NEQ" in states,
        error_kind=error_kind,
        err=None if err is None else str(err),
        seconds=list(row.get("times") or []),
        counterexample=row.get("counterexample") or None,
    )


def load_recorded(path: str | os.PathLike[str]) -> dict[int, VeriEQLRecorded]:
    """VeriEQL's recorded results, by pair index (null `states` read as no states)."""
    out: dict[int, VeriEQLRecorded] = {}
    for row in _read_jsonl(path):
        rec = _recorded(row)
        if rec.index in out:
            raise ValueError(f"{path}: index {rec.index} recorded twice")
        out[rec.index] = rec
    return out
