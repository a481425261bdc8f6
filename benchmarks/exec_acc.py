"""Execution accuracy (EX) exactly as the official Spider and BIRD scripts define it.

- **BIRD** (`evaluation.py` of the BIRD release): both queries run on the database; the
  prediction is correct when `set(pred_rows) == set(gold_rows)`. Column order matters,
  duplicates and row order do not. Any failure of either query counts as wrong.
- **Spider** (test-suite-sql-eval, `exec_eval.eval_exec_match`): both queries are first
  post-processed as the official script does (`> =` → `>=` and friends, `YEAR(CURDATE())` →
  2020, ` value ` → ` 1 ` in the prediction) and, unless `keep_distinct=True` (the official
  `--keep_distinct` flag, off by default), every `DISTINCT` keyword is removed from both.
  Results are equal (`result_eq`) when some permutation of the prediction's columns makes the
  two results equal as multisets of rows, or as lists when the gold query contains
  `order by` anywhere (the official test is a substring test on the lower-cased gold SQL).
  Text is decoded with errors ignored, as the official script does. The official script
  samples 20 random rows to prune column permutations when there are more than 3 columns;
  here every row is used, which keeps exactly the same answer (a pruned permutation can never
  match) but makes it deterministic.

A text holding several statements is judged on its first (`first_statement`): the official
scripts hand it to Python's sqlite3, which ran the first statement and ignored the rest.

Databases are opened read-only (`file:...?mode=ro`); each query has a time limit enforced by
SQLite's progress handler. A query that fails or times out is reported in `error`: a failing
prediction is a mismatch (`match=False`), a failing gold query leaves the pair undecided
(`match=None`).

Example:
    >>> import sqlite3, tempfile, os
    >>> db = os.path.join(tempfile.mkdtemp(), "t.sqlite")
    >>> con = sqlite3.connect(db); _ = con.executescript("CREATE TABLE t(a, b); INSERT INTO t VALUES (1, 2), (1, 2), (3, 4);"); con.close()
    >>> execution_match("SELECT a, b FROM t", "SELECT b, a FROM t", db).match      # spider: columns may be permuted
    True
    >>> execution_match("SELECT a, b FROM t", "SELECT b, a FROM t", db, flavour="bird").match
    False
    >>> execution_match("SELECT a FROM t", "SELECT DISTINCT a FROM t", db, flavour="bird").match  # sets
    True
    >>> execution_match("SELECT a FROM t", "SELECT DISTINCT a FROM t", db, flavour="spider").match  # DISTINCT dropped
    True
    >>> execution_match("SELECT a FROM t", "SELECT a FROM t WHERE a > 1", db).match
    False
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections import Counter
from itertools import product
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

Flavour = Literal["spider", "bird"]
MAX_ROWS = 2_000_000


class ExResult(BaseModel):
    """The execution check of one pair."""

    match: bool | None
    error: str | None = None
    seconds: float = 0.0
    gold_rows: int | None = None
    pred_rows: int | None = None
    column_permutation: list[int] | None = None  # spider: pred column feeding each gold column


class QueryFailed(Exception):
    pass


class QueryTimeout(QueryFailed):
    pass


# ---------------------------------------------------------------------------------------------
# running a query


def run_readonly(db_path: str | Path, sql: str, *, timeout: float = 30.0, ignore_decode_errors: bool = False,
                 max_rows: int = MAX_ROWS) -> list[tuple]:
    """All rows of `sql` on the SQLite file, opened read-only, within `timeout` seconds."""
    uri = Path(db_path).resolve().as_uri() + "?mode=ro"
    try:
        con = sqlite3.connect(uri, uri=True, check_same_thread=False)
    except sqlite3.Error as e:
        raise QueryFailed(f"cannot open {db_path}: {e}") from e
    if ignore_decode_errors:
        con.text_factory = lambda b: b.decode(errors="ignore")
    deadline = time.monotonic() + timeout
    con.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 2000)
    try:
        cur = con.execute(sql)
        rows: list[tuple] = []
        while True:
            chunk = cur.fetchmany(10_000)
            if not chunk:
                break
            rows.extend(chunk)
            if len(rows) > max_rows:
                raise QueryFailed(f"result has more than {max_rows} rows")
        return rows
    except sqlite3.OperationalError as e:
        if "interrupted" in str(e) and time.monotonic() > deadline:
            raise QueryTimeout(f"timed out after {timeout:g}s") from None
        raise QueryFailed(f"{type(e).__name__}: {e}") from None
    except (sqlite3.Error, ValueError, OverflowError, MemoryError) as e:  # ValueError: e.g. two statements
        raise QueryFailed(f"{type(e).__name__}: {e}") from None
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------
# the official Spider pre-processing and comparison

_QUOTED = re.compile(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\[[^\]]*\])")
_DISTINCT = re.compile(r"(?<![\w$])distinct(?![\w$])", re.IGNORECASE)
_CUR_YEAR = re.compile(r"YEAR\s*\(\s*CURDATE\s*\(\s*\)\s*\)\s*", re.IGNORECASE)


def first_statement(sql: str) -> str:
    """The first SQL statement of `sql`: what Python's sqlite3 ran when given several (the
    official Spider and BIRD scripts judge such a prediction on its first statement; the rest
    was ignored). Text without a complete statement is returned unchanged.

    >>> first_statement("SELECT 'a;b' FROM t; DROP TABLE t;")
    "SELECT 'a;b' FROM t;"
    >>> first_statement("SELECT 1 -- no semicolon")
    'SELECT 1 -- no semicolon'
    """
    for i, ch in enumerate(sql):
        if ch == ";" and sqlite3.complete_statement(sql[: i + 1]):
            return sql[: i + 1] if sql[i + 1:].strip(" \t\r\n;") else sql
    return sql


def remove_distinct(sql: str) -> str:
    """Drop every DISTINCT keyword outside quotes (the official script drops every token spelled
    `distinct`, including in `COUNT(DISTINCT x)`).

    >>> remove_distinct("SELECT DISTINCT a, count(DISTINCT b) FROM t WHERE c = 'distinct'")
    "SELECT  a, count( b) FROM t WHERE c = 'distinct'"
    """
    parts = _QUOTED.split(sql)
    return "".join(p if i % 2 else _DISTINCT.sub("", p) for i, p in enumerate(parts))


def spider_prepare(gold: str, pred: str, keep_distinct: bool = False) -> tuple[str, str]:
    """The two texts the official Spider script executes."""
    pred = pred.replace(" value ", " 1 ")
    out = []
    for q in (gold, pred):
        q = q.replace("> =", ">=").replace("< =", "<=").replace("! =", "!=")
        if not keep_distinct:
            q = remove_distinct(q)
        out.append(_CUR_YEAR.sub("2020", q))
    return out[0], out[1]


def order_matters(gold: str) -> bool:
    return "order by" in gold.lower()


def _unorder_row(row: tuple) -> tuple:
    return tuple(sorted(row, key=lambda x: str(x) + str(type(x))))


def _multiset_eq(a: list, b: list) -> bool:
    return len(a) == len(b) and Counter(a) == Counter(b)


def spider_permutation(gold: list[tuple], pred: list[tuple], ordered: bool) -> list[int] | None:
    """A column permutation `perm` with `[row[perm[i]] ...]` of pred equal to gold (as a list
    when `ordered`, else as a multiset), or None. Empty results are equal (perm `[]`).

    >>> spider_permutation([(1, 'a')], [('a', 1)], ordered=False)
    [1, 0]
    >>> spider_permutation([(1,), (2,)], [(2,), (1,)], ordered=True) is None
    True
    """
    if not gold and not pred:
        return []
    if len(gold) != len(pred):
        return None
    n = len(gold[0])
    if len(pred[0]) != n:
        return None
    g_un = [_unorder_row(r) for r in gold]
    p_un = [_unorder_row(r) for r in pred]
    if ordered and g_un != p_un:
        return None
    if not ordered and set(g_un) != set(p_un):
        return None
    col_sets = [{r[i] for r in gold} for i in range(n)]
    cand = [list(range(n)) for _ in range(n)]
    if n > 3:
        cand = [[j for j in range(n) if all(r[j] in col_sets[i] for r in pred)] for i in range(n)]
    gold_set = set(gold)
    for perm in product(*cand):
        if len(set(perm)) != n:
            continue
        permuted = pred if n == 1 else [tuple(r[j] for j in perm) for r in pred]
        if ordered:
            if gold == permuted:
                return list(perm)
        elif gold_set == set(permuted) and _multiset_eq(gold, permuted):
            return list(perm)
    return None


def named_permutation(gold_sql: str, pred_sql: str) -> list[int] | None:
    """The permutation (as `spider_permutation` gives it) that pairs the prediction's result
    columns with the gold query's by name (alias or column name, case-insensitive), when the
    names on each side are distinct and the same set, and the order differs; else None. For
    results without rows, which every permutation matches, so that the verification compares
    `SELECT location, name` with `SELECT name, location` column for column.

    >>> named_permutation("SELECT location, name FROM s", "SELECT s.Name, s.Location FROM s")
    [1, 0]
    >>> named_permutation("SELECT a, b FROM t", "SELECT a, b FROM t") is None
    True
    """
    import sqlglot
    from sqlglot import exp

    def names(sql: str) -> list[str] | None:
        try:
            tree = sqlglot.parse_one(sql, read="sqlite")
        except Exception:  # noqa: BLE001 - any parse failure: no names
            return None
        while isinstance(tree, exp.SetOperation):
            tree = tree.left
        if not isinstance(tree, exp.Select) or any(isinstance(e, exp.Star) or e.is_star for e in tree.expressions):
            return None
        out = [e.alias_or_name.lower() for e in tree.expressions]
        return out if all(out) and len(set(out)) == len(out) else None

    g, p = names(gold_sql), names(pred_sql)
    if g is None or p is None or g == p or sorted(g) != sorted(p):
        return None
    return [p.index(name) for name in g]


def result_eq(gold: list[tuple], pred: list[tuple], ordered: bool) -> bool:
    """The official test-suite `result_eq`."""
    return spider_permutation(gold, pred, ordered) is not None


def bird_eq(gold: list[tuple], pred: list[tuple]) -> bool:
    return set(pred) == set(gold)


def results_agree(flavour: str, gold_sql: str, gold: list[tuple], pred: list[tuple]) -> bool:
    """Would the metric accept these two results? (Used to re-judge counterexamples.)"""
    if flavour == "bird":
        return bird_eq(gold, pred)
    return result_eq(gold, pred, order_matters(gold_sql))


# ---------------------------------------------------------------------------------------------

_GOLD_CACHE: dict[tuple, list[tuple] | QueryFailed] = {}
_GOLD_CACHE_MAX = 256


def _gold_rows(db: str, sql: str, timeout: float, ignore: bool) -> list[tuple]:
    key = (db, sql, ignore)
    hit = _GOLD_CACHE.get(key)
    if hit is None:
        try:
            hit = run_readonly(db, sql, timeout=timeout, ignore_decode_errors=ignore)
        except QueryTimeout:
            raise
        except QueryFailed as e:
            hit = e
        if len(_GOLD_CACHE) >= _GOLD_CACHE_MAX:
            _GOLD_CACHE.pop(next(iter(_GOLD_CACHE)))
        if isinstance(hit, QueryFailed) or len(hit) <= 10_000:
            _GOLD_CACHE[key] = hit
    if isinstance(hit, QueryFailed):
        raise hit
    return hit


def execution_match(gold_sql: str, pred_sql: str, db_path: str | Path, *, flavour: str = "spider",
                    timeout: float = 30.0, keep_distinct: bool = False) -> ExResult:
    """Run both queries on `db_path` (read-only) and compare them as the official script of
    `flavour` does. See the module docstring."""
    if flavour not in ("spider", "bird"):
        raise ValueError(f"unknown flavour {flavour!r}; choose spider or bird")
    t0 = time.monotonic()
    spider = flavour == "spider"
    g, p = spider_prepare(gold_sql, pred_sql, keep_distinct) if spider else (gold_sql, pred_sql)
    g, p = first_statement(g), first_statement(p)

    def done(**kw: Any) -> ExResult:
        return ExResult(seconds=round(time.monotonic() - t0, 4), **kw)

    if not p.strip():
        return done(match=False, error="prediction is empty")
    try:
        gold = _gold_rows(str(db_path), g, timeout, spider)
    except QueryFailed as e:
        return done(match=None, error=f"gold query failed: {e}")
    try:
        pred = run_readonly(db_path, p, timeout=timeout, ignore_decode_errors=spider)
    except QueryFailed as e:
        return done(match=False, error=f"prediction failed: {e}", gold_rows=len(gold))
    if spider:
        perm = spider_permutation(gold, pred, order_matters(g))
        if perm == [] and not gold:  # any order of columns matches no rows: pair them by name
            perm = named_permutation(g, p) or []
        return done(match=perm is not None, gold_rows=len(gold), pred_rows=len(pred), column_permutation=perm)
    return done(match=bird_eq(gold, pred), gold_rows=len(gold), pred_rows=len(pred))


__all__ = ["ExResult", "execution_match", "result_eq", "bird_eq", "spider_prepare", "remove_distinct", "first_statement",
           "spider_permutation", "order_matters", "run_readonly", "results_agree", "QueryFailed", "QueryTimeout"]
