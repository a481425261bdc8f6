"""The run store: every evaluation result is a row in a DuckDB file.

Tables (query them with any DuckDB client once the run has finished, e.g.
`duckdb runs.duckdb "SELECT system, count(*) FILTER (outcome = 'refuted') FROM results GROUP BY 1"`;
a running evaluation holds DuckDB's file lock, so during a run query a copy of the file):

`results` — one row per (question, system), keyed by
  `(benchmark, question, system, gold_hash, pred_hash, semantics, bound, constraints_hash,
  tool_version, settings)`:

  | column | meaning |
  |---|---|
  | benchmark | `spider_dev`, `bird_dev`, `bird_mini_dev`, ... |
  | question | 0-based index of the question in the dev file |
  | system | the prediction file's system name |
  | gold_hash, pred_hash | sha256 (16 hex) of the normalized gold / predicted SQL (`normalize_sql`) |
  | semantics | how results are compared by the verifier (`auto` = list under ORDER BY else bag; `set` for BIRD) |
  | bound | rows per table the verifier proves up to |
  | constraints_hash | hash of the constraints file used (`none` without `--constraints`) |
  | tool_version | sqlwitness version |
  | settings | verifier timeout, random budget, EX timeout and Spider's DISTINCT flag |
  | db_id, difficulty, status | the question's database, hardness/difficulty, `ok` or `database missing` |
  | gold_sql, pred_sql | the texts as given |
  | ex | execution match on the real database (NULL: unavailable or gold failed) |
  | ex_error | why a query failed or timed out |
  | verdict, reason | the verifier's verdict for pairs EX accepts (or all pairs when EX is unavailable) |
  | counterexample | the verifier's counterexample as JSON (tables, both results) |
  | outcome | `verified` (EX accepted, not refuted), `refuted` (counterexample), `refuted_by_database` (EX rejected), `unknown`, `unsupported`, `nondeterministic`, `error`, `timeout`, `database_missing`, `gold_failed` |
  | seconds | EX + verification time of the row (a shared verification counts for each row) |
  | finished_at | when the row was written |
  | strength | how strong the verification is (`verify.verdict.Strength`): `every_size`, `up_to_k` (the requested `bound` reached), `below_k` (proved only up to `proved_bound`; `reason` says why the search stopped), `refuted`, `undecided` (unknown, unsupported, nondeterministic, error, timeout); `n/a` for a row not verified (EX rejected, gold failed, database missing); `unknown` for a verified row of a store written before strengths were recorded |
  | proved_bound | the largest k the verifier proved (NULL: nothing proved, or every size) |
  | assumptions | the assumptions the verdict used, by name (`verify assumptions`), comma-separated; NULL for a row not verified or stored before they were recorded |

`verifications` — one row per distinct verified pair (the dedupe cache shared by systems, with the
verdict's `strength` and `proved_bound`), and
`executions` — EX results of accepted pairs whose verification has not finished yet.

A store written before `strength` and `proved_bound` existed opens: the columns are added (NULL in
the old rows), and reading fills a NULL strength from the outcome (`strength_of_outcome`):
`refuted`, `undecided` or `n/a` where the outcome tells, `unknown` for a verified row.

Crash safety: only the parent process writes, in small transactions (`flush`); killing the
process loses at most the rows staged since the last commit, and DuckDB's write-ahead log
never leaves a half-written transaction. A re-run skips every row already in `results`.

Example:
    >>> import tempfile, os
    >>> s = RunStore(os.path.join(tempfile.mkdtemp(), "runs.duckdb"))
    >>> k = ResultKey(benchmark="spider_dev", question=0, system="a", gold_hash="g", pred_hash="p",
    ...               semantics="auto", bound=3, constraints_hash="none", tool_version="0", settings="")
    >>> s.stage_result(ResultRow(**k.model_dump(), db_id="d", outcome="verified")); s.flush()
    >>> s.finished_keys("spider_dev") == {k.tuple()}
    True
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
from pydantic import BaseModel

from verify.verdict import Strength

KEY = ("benchmark", "question", "system", "gold_hash", "pred_hash", "semantics", "bound",
       "constraints_hash", "tool_version", "settings")


class ResultKey(BaseModel):
    benchmark: str
    question: int
    system: str
    gold_hash: str
    pred_hash: str
    semantics: str
    bound: int
    constraints_hash: str
    tool_version: str
    settings: str

    def tuple(self) -> tuple:
        return tuple(getattr(self, k) for k in KEY)


class ResultRow(ResultKey):
    db_id: str
    difficulty: str = ""
    status: str = "ok"
    gold_sql: str = ""
    pred_sql: str = ""
    ex: bool | None = None
    ex_error: str | None = None
    verdict: str | None = None
    reason: str | None = None
    counterexample: dict[str, Any] | None = None
    outcome: str
    seconds: float = 0.0
    strength: str | None = None  # a `Strength` value or NOT_VERIFIED; None: filled from the outcome when read
    proved_bound: int | None = None
    assumptions: str | None = None  # the verdict's assumptions by name (verify.assumptions), comma-separated


class VerificationRow(BaseModel):
    vkey: str  # hash of (db_id, verified texts, semantics, bound, constraints, version, settings)
    verdict: str
    reason: str = ""
    counterexample: dict[str, Any] | None = None
    seconds: float = 0.0
    strength: str | None = None  # a `Strength` value; None: stored before strengths were recorded
    proved_bound: int | None = None
    assumptions: str | None = None  # comma-separated names; None: stored before they were recorded


class ExecutionRow(BaseModel):
    ekey: str
    ex: bool | None
    ex_error: str | None = None
    seconds: float = 0.0
    column_permutation: list[int] | None = None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    benchmark VARCHAR, question INTEGER, system VARCHAR, gold_hash VARCHAR, pred_hash VARCHAR,
    semantics VARCHAR, bound INTEGER, constraints_hash VARCHAR, tool_version VARCHAR, settings VARCHAR,
    db_id VARCHAR, difficulty VARCHAR, status VARCHAR, gold_sql VARCHAR, pred_sql VARCHAR,
    ex BOOLEAN, ex_error VARCHAR, verdict VARCHAR, reason VARCHAR, counterexample JSON,
    outcome VARCHAR, seconds DOUBLE, finished_at TIMESTAMPTZ, strength VARCHAR, proved_bound INTEGER,
    assumptions VARCHAR,
    PRIMARY KEY (benchmark, question, system, gold_hash, pred_hash, semantics, bound, constraints_hash,
                 tool_version, settings));
CREATE TABLE IF NOT EXISTS verifications (
    vkey VARCHAR PRIMARY KEY, verdict VARCHAR, reason VARCHAR, counterexample JSON, seconds DOUBLE,
    finished_at TIMESTAMPTZ, strength VARCHAR, proved_bound INTEGER, assumptions VARCHAR);
CREATE TABLE IF NOT EXISTS executions (
    ekey VARCHAR PRIMARY KEY, ex BOOLEAN, ex_error VARCHAR, seconds DOUBLE, column_permutation JSON,
    finished_at TIMESTAMPTZ);
"""

_RESULT_COLS = list(KEY) + ["db_id", "difficulty", "status", "gold_sql", "pred_sql", "ex", "ex_error", "verdict",
                            "reason", "counterexample", "outcome", "seconds", "finished_at", "strength", "proved_bound",
                            "assumptions"]
_VERIFICATION_COLS = ["vkey", "verdict", "reason", "counterexample", "seconds", "finished_at", "strength", "proved_bound",
                      "assumptions"]
_EXECUTION_COLS = ["ekey", "ex", "ex_error", "seconds", "column_permutation", "finished_at"]
_COLUMNS = {"results": _RESULT_COLS, "verifications": _VERIFICATION_COLS, "executions": _EXECUTION_COLS}
# columns added after the first stores were written: added to an old store when it is opened
_ADDED = "".join(f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS strength VARCHAR; "
                 f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS proved_bound INTEGER; "
                 f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS assumptions VARCHAR; "
                 for t in ("results", "verifications"))

NOT_VERIFIED = "n/a"  # the strength of a row the verifier did not judge (EX rejected, gold failed, no database)
_UNDECIDED_OUTCOMES = ("unknown", "unsupported", "nondeterministic", "error", "timeout")


def strength_of_outcome(outcome: str) -> str:
    """The strength a row's outcome alone tells (for rows stored before strengths were recorded):
    `refuted`, `undecided`, `n/a` for a row the verifier did not judge, and `unknown` for a verified
    row (whether its proof reached the requested bound was not recorded).

    >>> strength_of_outcome("verified"), strength_of_outcome("timeout"), strength_of_outcome("refuted_by_database")
    ('unknown', 'undecided', 'n/a')
    """
    if outcome == "refuted":
        return Strength.REFUTED.value
    if outcome in _UNDECIDED_OUTCOMES:
        return Strength.UNDECIDED.value
    if outcome == "verified":
        return Strength.UNKNOWN.value
    return NOT_VERIFIED

_QUOTED = re.compile(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\[[^\]]*\])")


def normalize_sql(sql: str) -> str:
    """SQL text with what SQLite ignores removed: case and whitespace outside quotes, spaces
    around `,()`, trailing semicolons. Quoted text (strings, quoted identifiers) is kept as is.

    >>> normalize_sql("SELECT  Name ,count( * ) FROM T WHERE x = 'Ab';")
    "select name,count(*) from t where x = 'Ab'"
    """
    parts = _QUOTED.split(sql.strip())
    out = []
    for i, p in enumerate(parts):
        if i % 2:
            out.append(p)
            continue
        p = re.sub(r"\s+", " ", p.lower())
        p = re.sub(r"\s*,\s*", ",", p)
        p = re.sub(r"\s*\(\s*", "(", p)
        p = re.sub(r"\s*\)", ")", p)
        out.append(p)
    text = "".join(out).strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    return text


def sql_hash(sql: str) -> str:
    return hashlib.sha256(normalize_sql(sql).encode()).hexdigest()[:16]


def text_hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


class StoreError(RuntimeError):
    pass


class RunStore:
    """A DuckDB file holding results; resumable and crash-safe (see the module docstring)."""

    def __init__(self, path: str | Path, *, batch_rows: int = 50, batch_seconds: float = 1.0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path))
        except duckdb.Error as e:
            raise StoreError(f"cannot open run store {self.path}: {e}") from None
        self.con.execute(_SCHEMA)
        self.con.execute(_ADDED)
        self.batch_rows, self.batch_seconds = batch_rows, batch_seconds
        self._staged: list[tuple[str, tuple]] = []
        self._last_flush = time.monotonic()

    # --- reading

    def finished_keys(self, benchmark: str) -> set[tuple]:
        rows = self.con.execute(f"SELECT {', '.join(KEY)} FROM results WHERE benchmark = ?", [benchmark]).fetchall()
        return {tuple(r) for r in rows}

    def verifications(self, vkeys: list[str]) -> dict[str, VerificationRow]:
        if not vkeys:
            return {}
        out = {}
        for i in range(0, len(vkeys), 5000):
            chunk = vkeys[i:i + 5000]
            for vk, verdict, reason, cex, secs, strength, proved_bound, assumed in self.con.execute(
                    "SELECT vkey, verdict, reason, counterexample, seconds, strength, proved_bound, assumptions "
                    "FROM verifications WHERE vkey IN (SELECT unnest(?))", [chunk]).fetchall():
                out[vk] = VerificationRow(vkey=vk, verdict=verdict, reason=reason or "",
                                          counterexample=json.loads(cex) if cex else None, seconds=secs or 0.0,
                                          strength=strength, proved_bound=proved_bound, assumptions=assumed)
        return out

    def executions(self, ekeys: list[str]) -> dict[str, ExecutionRow]:
        out = {}
        for i in range(0, len(ekeys), 5000):
            for ek, ex, err, secs, perm in self.con.execute(
                    "SELECT ekey, ex, ex_error, seconds, column_permutation FROM executions "
                    "WHERE ekey IN (SELECT unnest(?))", [ekeys[i:i + 5000]]).fetchall():
                out[ek] = ExecutionRow(ekey=ek, ex=ex, ex_error=err, seconds=secs or 0.0,
                                       column_permutation=json.loads(perm) if perm else None)
        return out

    def results(self, benchmark: str, systems: list[str] | None = None, **key: Any) -> list[ResultRow]:
        """Rows of `benchmark` (optionally only `systems`, and key columns equal to `key`)."""
        where, args = ["benchmark = ?"], [benchmark]
        if systems is not None:
            where.append("system IN (SELECT unnest(?))")
            args.append(systems)
        for k, v in key.items():
            where.append(f"{k} = ?")
            args.append(v)
        cols = [c for c in _RESULT_COLS if c != "finished_at"]
        rows = self.con.execute(f"SELECT {', '.join(cols)} FROM results WHERE {' AND '.join(where)} "
                                "ORDER BY system, question", args).fetchall()
        out = []
        for r in rows:
            d = dict(zip(cols, r))
            d["counterexample"] = json.loads(d["counterexample"]) if d["counterexample"] else None
            d["strength"] = d["strength"] or strength_of_outcome(d["outcome"])
            out.append(ResultRow(**d))
        return out

    # --- writing (parent process only)

    def stage_result(self, row: ResultRow) -> None:
        d = row.model_dump()
        d["counterexample"] = json.dumps(d["counterexample"], default=str) if d["counterexample"] else None
        d["finished_at"] = datetime.now(timezone.utc)
        self._staged.append(("results", tuple(d[c] for c in _RESULT_COLS)))
        self._maybe_flush()

    def stage_verification(self, row: VerificationRow) -> None:
        cex = json.dumps(row.counterexample, default=str) if row.counterexample else None
        self._staged.append(("verifications", (row.vkey, row.verdict, row.reason, cex, row.seconds,
                                               datetime.now(timezone.utc), row.strength, row.proved_bound,
                                               row.assumptions)))
        self._maybe_flush()

    def stage_execution(self, row: ExecutionRow) -> None:
        perm = json.dumps(row.column_permutation) if row.column_permutation is not None else None
        self._staged.append(("executions", (row.ekey, row.ex, row.ex_error, row.seconds, perm,
                                            datetime.now(timezone.utc))))
        self._maybe_flush()

    def _maybe_flush(self) -> None:
        if len(self._staged) >= self.batch_rows or time.monotonic() - self._last_flush >= self.batch_seconds:
            self.flush()

    def flush(self) -> None:
        """Commit everything staged in one transaction."""
        self._last_flush = time.monotonic()
        if not self._staged:
            return
        staged, self._staged = self._staged, []
        by_table: dict[str, list[tuple]] = {}
        for table, values in staged:
            by_table.setdefault(table, []).append(values)
        self.con.execute("BEGIN TRANSACTION")
        try:
            for table, rows in by_table.items():
                marks = ", ".join("?" * len(rows[0]))
                self.con.executemany(f"INSERT OR REPLACE INTO {table} ({', '.join(_COLUMNS[table])}) "
                                     f"VALUES ({marks})", rows)
            self.con.execute("COMMIT")
        except BaseException:  # an error, or Ctrl-C in the middle: the store stays as it was
            self.con.execute("ROLLBACK")
            raise

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.con.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


__all__ = ["RunStore", "ResultKey", "ResultRow", "VerificationRow", "ExecutionRow", "normalize_sql", "sql_hash",
           "text_hash", "StoreError", "KEY", "NOT_VERIFIED", "strength_of_outcome"]
