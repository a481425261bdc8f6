"""Prediction files in the formats systems publish, aligned with a dev set.

Formats (detected from the content, not the extension):

- plain text, one SQL per line in the dev set's order, optionally `SQL<TAB>db_id`
  (a tab inside the SQL is kept: the tail counts as a db_id only when it names a database of
  the dev set);
- BIRD's `predict_dev.json`: `{"0": "SQL\\t----- bird -----\\tdb_id", ...}`;
- a JSON list, or JSON lines, of strings or of objects with the SQL under one of
  `predictSQL`, `predicted_sql`, `pred`, `prediction`, `sql`, `SQL`, `query` (and optionally
  `db_id`, `goldSQL`): this covers the `labeled_*.json` files of the error-correction study,
  whose `goldSQL` is checked against the dev set's gold query.

`align` checks the count and every db_id/gold query against the dev set and raises
`PredictionError` naming the line counts or the first mismatching line.

Example:
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "sys.sql")
    >>> _ = open(p, "w").write("SELECT 1\\tdb_a\\nSELECT 2\\tdb_b\\n")
    >>> preds = load_predictions(p, known_db_ids={"db_a", "db_b"})
    >>> preds.system, preds.sqls, preds.db_ids
    ('sys', ['SELECT 1', 'SELECT 2'], ['db_a', 'db_b'])
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from benchmarks.datasets import Dataset

BIRD_SEP = "\t----- bird -----\t"
SQL_KEYS = ("predictSQL", "predicted_sql", "pred", "prediction", "sql", "SQL", "query")


class PredictionError(ValueError):
    """A prediction file that cannot be used; the message names the file and the problem."""


class Predictions(BaseModel):
    """One system's predictions, one per question in file order."""

    system: str
    path: Path
    format: str
    sqls: list[str]
    db_ids: list[str | None]
    golds: list[str | None]


def system_name(path: Path) -> str:
    """The system's name: the file name without extension (`labeled_` prefix dropped)."""
    stem = path.name.split(".")[0]
    return stem[len("labeled_"):] if stem.startswith("labeled_") else stem


def load_predictions(path: str | Path, *, known_db_ids: set[str] | None = None,
                     system: str | None = None) -> Predictions:
    """Read a prediction file in any supported format (see the module docstring)."""
    p = Path(path)
    if not p.is_file():
        raise PredictionError(f"{p}: no such prediction file")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise PredictionError(f"{p}: cannot read ({e})") from e
    name = system or system_name(p)
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = None
        if data is not None:
            return _from_json(p, name, data)
        if stripped.startswith("{"):
            return _from_jsonl(p, name, text)
    return _from_text(p, name, text, known_db_ids or set())


def _split_line(line: str, known: set[str]) -> tuple[str, str | None]:
    if BIRD_SEP in line:
        sql, _, db = line.rpartition(BIRD_SEP)
        return sql.strip(), db.strip() or None
    if "\t" in line:
        sql, _, tail = line.rpartition("\t")
        tail = tail.strip()
        if tail and (tail in known or (not known and tail.replace("_", "").isalnum())):
            return sql.strip(), tail
    return line.strip(), None


def _from_text(p: Path, name: str, text: str, known: set[str]) -> Predictions:
    lines = text.split("\n")
    if lines and lines[-1].strip() == "":
        lines.pop()  # the final newline
    lines = [ln.rstrip("\r") for ln in lines]
    pairs = [_split_line(ln, known) for ln in lines]
    return Predictions(system=name, path=p, format="text", sqls=[s for s, _ in pairs],
                       db_ids=[d for _, d in pairs], golds=[None] * len(pairs))


def _record(p: Path, where: str, item: Any) -> tuple[str, str | None, str | None]:
    if isinstance(item, str):
        return _split_line(item, set()) + (None,) if BIRD_SEP in item else (item.strip(), None, None)
    if isinstance(item, dict):
        for k in SQL_KEYS:
            if k in item and isinstance(item[k], str):
                if k in ("sql", "SQL", "query") and ("predictSQL" in item or "predicted_sql" in item):
                    continue
                sql, db = _split_line(item[k], set()) if BIRD_SEP in item[k] else (item[k].strip(), None)
                db = item.get("db_id", db)
                gold = item.get("goldSQL") or item.get("gold_sql")
                return sql, db, gold if isinstance(gold, str) else None
        raise PredictionError(f"{p}: {where} has no SQL field (expected one of {', '.join(SQL_KEYS)})")
    if item is None:
        return "", None, None
    raise PredictionError(f"{p}: {where} is a {type(item).__name__}, expected a SQL string or an object")


def _from_json(p: Path, name: str, data: Any) -> Predictions:
    if isinstance(data, dict):
        keys = list(data)
        try:
            idx = sorted(int(k) for k in keys)
        except ValueError:
            bad = next(k for k in keys if not k.lstrip("-").isdigit())
            raise PredictionError(f"{p}: key {bad!r} is not a question index (BIRD predict_dev.json "
                                  "maps \"0\", \"1\", ... to SQL)") from None
        if idx != list(range(len(idx))):
            missing = sorted(set(range(max(idx) + 1)) - set(idx)) if idx else []
            raise PredictionError(f"{p}: question indices are not 0..{len(idx) - 1}"
                                  + (f" (missing {missing[:5]})" if missing else ""))
        recs = [_record(p, f"key {i}", data[str(i)]) for i in idx]
        fmt = "bird-json"
    elif isinstance(data, list):
        recs = [_record(p, f"item {i}", x) for i, x in enumerate(data)]
        fmt = "json-list"
    else:
        raise PredictionError(f"{p}: expected a JSON object or list, got {type(data).__name__}")
    return Predictions(system=name, path=p, format=fmt, sqls=[r[0] for r in recs],
                       db_ids=[r[1] for r in recs], golds=[r[2] for r in recs])


def _from_jsonl(p: Path, name: str, text: str) -> Predictions:
    recs = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            raise PredictionError(f"{p}: line {n} is not JSON ({e.msg})") from None
        recs.append(_record(p, f"line {n}", item))
    return Predictions(system=name, path=p, format="jsonl", sqls=[r[0] for r in recs],
                       db_ids=[r[1] for r in recs], golds=[r[2] for r in recs])


def _norm_ws(s: str) -> str:
    return " ".join(s.replace("\"", "'").split()).rstrip(";").strip()


def align(preds: Predictions, dataset: Dataset) -> list[str]:
    """The predictions in question order, after checking them against `dataset`.

    Raises `PredictionError` when the counts differ or a db_id / gold query disagrees."""
    n, m = len(preds.sqls), len(dataset.questions)
    what = f"{dataset.benchmark} {dataset.split}"
    if n != m:
        raise PredictionError(f"{preds.path}: {n} predictions for {m} questions of {what} "
                              f"({'missing' if n < m else 'extra'} {abs(n - m)}; is it aligned with this dev set?)")
    for i, (q, db, gold) in enumerate(zip(dataset.questions, preds.db_ids, preds.golds)):
        if db is not None and db != q.db_id:
            raise PredictionError(f"{preds.path}: line {i + 1} is for database {db!r} but question {i} "
                                  f"of {what} is on {q.db_id!r} (first mismatch; the file is misaligned)")
        if gold is not None and _norm_ws(gold) != _norm_ws(q.gold_sql):
            raise PredictionError(f"{preds.path}: item {i} carries gold query {gold[:60]!r} but question {i} "
                                  f"of {what} has {q.gold_sql[:60]!r} (first mismatch; the file is misaligned)")
    return list(preds.sqls)


def discover(paths: list[Path]) -> list[Path]:
    """Prediction files named directly or found in folders (`*.sql`, `*.json`, `*.jsonl`, `*.txt`)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(x for x in p.iterdir() if x.is_file() and x.suffix in (".sql", ".json", ".jsonl", ".txt"))
        elif p.is_file():
            out.append(p)
        else:
            raise PredictionError(f"{p}: no such file or folder")
    if not out:
        raise PredictionError(f"no prediction files (*.sql, *.json, *.jsonl, *.txt) in {', '.join(map(str, paths))}")
    return out


__all__ = ["Predictions", "PredictionError", "load_predictions", "align", "discover", "system_name"]
