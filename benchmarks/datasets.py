"""Spider and BIRD dev sets, loaded by path into `Question` records.

Layouts (the official releases):

- Spider: `<dir>/dev.json`, `<dir>/tables.json`, `<dir>/database/<db>/<db>.sqlite`
- BIRD:   `<dir>/dev.json` (or `mini_dev.json`), `<dir>/dev_tables.json`,
  `<dir>/dev_databases/<db>/<db>.sqlite` (the databases are optional)

A question whose database file is absent gets `db_path=None` and `status="database missing"`;
nothing fails. Spider hardness is computed with the official evaluation's rules
(`spider_hardness`) from the parsed `sql` dict that Spider's dev.json ships for every gold
query; BIRD's `difficulty` is taken from the file.

Schemas for verification come from the SQLite file when it is there (declared keys, NOT NULL and
sample values) and from `tables.json` / `dev_tables.json` otherwise (`Dataset.schema`).

Example:
    >>> from pathlib import Path
    >>> d = Path(__file__).resolve().parents[2] / "shared" / "data" / "spider"
    >>> if d.is_dir():
    ...     ds = load_spider(d)
    ...     print(len(ds.questions), ds.questions[0].hardness, ds.missing_databases())
    ... else:
    ...     print(1034, "easy", ["wta_1"])
    1034 easy ['wta_1']
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from verify.schema import Schema

Benchmark = Literal["spider", "bird"]
MISSING = "database missing"


class DatasetError(ValueError):
    """A dataset folder or file that cannot be read; the message names the path and the problem."""


class Question(BaseModel):
    """One question of a dev set, with its gold query and where its database is."""

    benchmark: Benchmark
    index: int = Field(description="0-based position in the dev file (the line of a prediction file)")
    question_id: int = Field(description="BIRD's question_id; Spider: the index")
    db_id: str
    question: str
    gold_sql: str
    evidence: str = ""
    difficulty: str = Field(description="Spider hardness (easy/medium/hard/extra) or BIRD difficulty")
    db_path: Path | None = None
    status: Literal["ok", "database missing"] = "ok"

    @property
    def hardness(self) -> str:
        """Spider's name for `difficulty`."""
        return self.difficulty


class Dataset(BaseModel):
    """A loaded dev set: its questions and where its schemas come from."""

    benchmark: Benchmark
    split: str
    data_dir: Path
    tables_json: Path
    questions: list[Question]

    def missing_databases(self) -> list[str]:
        return sorted({q.db_id for q in self.questions if q.db_path is None})

    def has_databases(self) -> bool:
        return any(q.db_path is not None for q in self.questions)

    def schema(self, db_id: str) -> Schema:
        """The schema used to verify a pair on `db_id` (SQLite file first, else tables.json)."""
        db = next((q.db_path for q in self.questions if q.db_id == db_id and q.db_path), None)
        return load_schema_cached(str(db) if db else None, str(self.tables_json), db_id)


@lru_cache(maxsize=64)
def load_schema_cached(db_path: str | None, tables_json: str, db_id: str) -> Schema:
    """`schema_from_sqlite(db_path)` when given, else `schema_from_spider_tables(tables_json, db_id)`."""
    from verify.schema_io import schema_from_spider_tables, schema_from_sqlite

    if db_path:
        return schema_from_sqlite(db_path)
    return schema_from_spider_tables(tables_json, db_id)


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DatasetError(f"{path}: not readable JSON ({e})") from e


def _db_file(root: Path, db_id: str) -> Path | None:
    p = root / db_id / f"{db_id}.sqlite"
    return p if p.is_file() else None


def load_spider(data_dir: str | Path, split: str = "dev") -> Dataset:
    """Spider's `<split>.json` with hardness, `tables.json` and `database/<db>/<db>.sqlite`."""
    d = Path(data_dir)
    rows = _read_json(d / f"{split}.json")
    if not isinstance(rows, list):
        raise DatasetError(f"{d / f'{split}.json'}: expected a JSON list of questions")
    tables = d / "tables.json"
    if not tables.is_file():
        raise DatasetError(f"{tables}: no such file (Spider's schemas)")
    out = []
    for i, r in enumerate(rows):
        try:
            db_id, gold = r["db_id"], r["query"]
        except (KeyError, TypeError) as e:
            raise DatasetError(f"{d / f'{split}.json'}: question {i} has no {e} field") from e
        db = _db_file(d / "database", db_id)
        out.append(Question(
            benchmark="spider", index=i, question_id=i, db_id=db_id, question=r.get("question", ""),
            gold_sql=gold, difficulty=spider_hardness(r["sql"]) if isinstance(r.get("sql"), dict) else "unknown",
            db_path=db, status="ok" if db else MISSING,
        ))
    return Dataset(benchmark="spider", split=split, data_dir=d, tables_json=tables, questions=out)


def load_bird(data_dir: str | Path, split: str = "dev") -> Dataset:
    """BIRD's `dev.json` (or `mini_dev.json` with `split="mini_dev"`), `dev_tables.json` and
    `dev_databases/<db>/<db>.sqlite` (absent databases are allowed)."""
    d = Path(data_dir)
    rows = _read_json(d / f"{split}.json")
    if not isinstance(rows, list):
        raise DatasetError(f"{d / f'{split}.json'}: expected a JSON list of questions")
    tables = d / "dev_tables.json"
    if not tables.is_file():
        raise DatasetError(f"{tables}: no such file (BIRD's schemas)")
    out = []
    for i, r in enumerate(rows):
        try:
            db_id, gold = r["db_id"], r["SQL"]
        except (KeyError, TypeError) as e:
            raise DatasetError(f"{d / f'{split}.json'}: question {i} has no {e} field") from e
        db = _db_file(d / "dev_databases", db_id)
        out.append(Question(
            benchmark="bird", index=i, question_id=int(r.get("question_id", i)), db_id=db_id,
            question=r.get("question", ""), gold_sql=gold, evidence=r.get("evidence", "") or "",
            difficulty=r.get("difficulty", "unknown") or "unknown", db_path=db,
            status="ok" if db else MISSING,
        ))
    return Dataset(benchmark="bird", split=split, data_dir=d, tables_json=tables, questions=out)


def load_dataset(benchmark: str, data_dir: str | Path, split: str = "dev") -> Dataset:
    if benchmark == "spider":
        return load_spider(data_dir, split)
    if benchmark == "bird":
        return load_bird(data_dir, split)
    raise DatasetError(f"unknown benchmark {benchmark!r}; choose spider or bird")


# ---------------------------------------------------------------------------------------------
# Spider hardness: the official evaluation's rules (evaluation.py, `Evaluator.eval_hardness`),
# re-implemented over the parsed `sql` dict (process_sql's format, which dev.json carries).
# The counts keep the official script's quirks on purpose, so that the buckets are the same:
# `count_agg` over WHERE/HAVING condition lists tests the first field of each entry (a
# condition's NOT flag, or the 'and'/'or' string), and "where conditions > 1" counts the list
# including its 'and'/'or' separators.

_LIKE = 9  # WHERE_OPS.index('like') in process_sql


def _has_agg(unit: Any) -> bool:
    return unit[0] != 0


def _count_agg(units: list) -> int:
    return sum(1 for u in units if _has_agg(u))


def _component1(sql: dict) -> int:
    n = sum(1 for k in ("where", "groupBy", "orderBy") if len(sql[k]) > 0)
    n += sql["limit"] is not None
    n += max(len(sql["from"]["table_units"]) - 1, 0)
    ao = sql["from"]["conds"][1::2] + sql["where"][1::2] + sql["having"][1::2]
    n += sum(1 for t in ao if t == "or")
    units = sql["from"]["conds"][::2] + sql["where"][::2] + sql["having"][::2]
    n += sum(1 for u in units if u[1] == _LIKE)
    return n


def _component2(sql: dict) -> int:
    n = 0
    for u in sql["from"]["conds"][::2] + sql["where"][::2] + sql["having"][::2]:
        n += isinstance(u[3], dict) + isinstance(u[4], dict)
    return n + sum(sql[k] is not None for k in ("intersect", "except", "union"))


def _others(sql: dict) -> int:
    agg = _count_agg(sql["select"][1]) + _count_agg(sql["where"][::2]) + _count_agg(sql["groupBy"])
    if len(sql["orderBy"]) > 0:
        agg += _count_agg([u[1] for u in sql["orderBy"][1] if u[1]] + [u[2] for u in sql["orderBy"][1] if u[2]])
    agg += _count_agg(sql["having"])
    return (agg > 1) + (len(sql["select"][1]) > 1) + (len(sql["where"]) > 1) + (len(sql["groupBy"]) > 1)


def spider_hardness(sql: dict) -> str:
    """easy / medium / hard / extra for a process_sql dict, as Spider's evaluation.py decides.

    >>> q = {"select": [False, [[3, [0, [0, 0, False], None]]]], "from": {"table_units": [["table_unit", 1]],
    ...      "conds": []}, "where": [], "groupBy": [], "having": [], "orderBy": [], "limit": None,
    ...      "intersect": None, "union": None, "except": None}
    >>> spider_hardness(q)
    'easy'
    """
    c1, c2, o = _component1(sql), _component2(sql), _others(sql)
    if c1 <= 1 and o == 0 and c2 == 0:
        return "easy"
    if (o <= 2 and c1 <= 1 and c2 == 0) or (c1 <= 2 and o < 2 and c2 == 0):
        return "medium"
    if (o > 2 and c1 <= 2 and c2 == 0) or (2 < c1 <= 3 and o <= 2 and c2 == 0) or (c1 <= 1 and o == 0 and c2 <= 1):
        return "hard"
    return "extra"


__all__ = ["Question", "Dataset", "DatasetError", "load_spider", "load_bird", "load_dataset",
           "spider_hardness", "load_schema_cached", "MISSING"]
