"""Reading and writing constraint files: our JSON format and the VeriEQL / SpotIt+ one.

- `load_constraints(path, db_id=None, schema=None)`: our format (`"format":
  "sqlwitness-constraints"`, see `constraints.models`) or a SpotIt+/VeriEQL file, detected
  from the content. SpotIt+ files hold many databases keyed by db_id, so `db_id` picks one
  (it may be omitted when the file holds only one); a directory of `<db_id>.json` files also
  works with `db_id`. Bad files raise `ConstraintFileError` with a one-line message.
- `save_constraints(cs, path)`: our format.
- `import_spotit(entries, schema=None)` / `export_spotit(cs)`: the SpotIt+ format, with a
  per-kind report of what converted and what was skipped (and why).

The SpotIt+ / VeriEQL format: `{db_id: [[item, ...]]}` where each item is one of

    {"primary": [{"value": "T__A"}, ...]}                  primary key of T
    {"foreign": [{"value": "T__A"}, {"value": "P__B"}]}    T.A references P.B
    {"not_null": {"value": "T__A"}}
    {"between": [{"value": "T__A"}, lo, hi]}               numeric range
    {"in": [{"value": "T__A"}, [v1, v2, ...]]}             categorical domain
    {"dependency": {"values": ["T__A", "T__B"]}}           FD A -> B within T
    {"dependency": {"values": ["T__A", "T__B"], "type": "ordering", "operator": "<=" | ">="}}

Columns are written `TABLE__COLUMN` in upper case with every run of other characters than
letters and digits turned into `_` ("Charter School (Y/N)" -> `CHARTER_SCHOOL_Y_N`). With a
`schema`, names are mapped back to the schema's spelling by that normalization
(case-insensitively); without one, `TABLE` / `COLUMN` are kept as written.

Example:
    >>> cs, report = import_spotit([[{"between": [{"value": "P__AGE"}, 0, 120]},
    ...                              {"frobnicate": 1}]])
    >>> cs.constraints[0].describe(), report.kinds["between"].imported
    ('P.AGE is a number between 0 and 120', 1)
    >>> report.kinds["frobnicate"].skipped
    {'unknown constraint kind': 1}
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from constraints.models import (
    FORMAT_NAME,
    Categorical,
    ConstraintSet,
    ForeignKey,
    FunctionalDependency,
    NotNull,
    Ordering,
    Origin,
    PrimaryKey,
    Range,
    ValidationStatus,
)
from verify.schema import Schema

__all__ = [
    "ConstraintFileError",
    "KindReport",
    "ImportReport",
    "load_constraints",
    "save_constraints",
    "import_spotit",
    "export_spotit",
    "spotit_name",
    "read_json",
]


class ConstraintFileError(ValueError):
    """A constraint file that cannot be used; the message is one line naming the problem."""


class KindReport(BaseModel):
    imported: int = 0
    skipped: dict[str, int] = Field(default_factory=dict, description="reason -> count")

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


class ImportReport(BaseModel):
    kinds: dict[str, KindReport] = Field(default_factory=dict)

    def kind(self, k: str) -> KindReport:
        return self.kinds.setdefault(k, KindReport())

    @property
    def imported(self) -> int:
        return sum(k.imported for k in self.kinds.values())

    @property
    def skipped(self) -> int:
        return sum(sum(k.skipped.values()) for k in self.kinds.values())


# --------------------------------------------------------------------------- our format


def save_constraints(cs: ConstraintSet, path: str | os.PathLike[str]) -> None:
    Path(path).write_text(cs.to_json() + "\n", encoding="utf-8")


def load_constraints(
    path: str | os.PathLike[str], db_id: str | None = None, schema: Schema | None = None
) -> ConstraintSet:
    """The constraints of one database from `path` (see the module docstring)."""
    p = Path(path)
    if p.is_dir():
        if not db_id:
            raise ConstraintFileError(f"constraints folder {str(p)!r} needs a db_id to pick a file")
        cands = [q for q in p.iterdir() if q.suffix == ".json" and q.stem.lower() == db_id.lower()]
        if not cands:
            raise ConstraintFileError(f"constraints folder {str(p)!r} has no {db_id}.json")
        p = sorted(cands)[0]
    data = read_json(p)
    if isinstance(data, dict) and data.get("format") == FORMAT_NAME:
        try:
            cs = ConstraintSet.model_validate(data)
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(str(x) for x in err["loc"])
            raise ConstraintFileError(
                f"constraints file {str(p)!r}: {where}: {err['msg']} ({e.error_count()} problem(s))"
            ) from None
        if db_id and cs.db_id and cs.db_id.lower() != db_id.lower():
            raise ConstraintFileError(
                f"constraints file {str(p)!r} holds database {cs.db_id!r}, not {db_id!r}")
        return cs
    if isinstance(data, dict) and data and all(isinstance(v, list) for v in data.values()):
        keys = list(data)
        if db_id is None:
            if len(keys) != 1:
                raise ConstraintFileError(
                    f"SpotIt+ constraints file {str(p)!r} holds {len(keys)} databases; "
                    f"pick one with a db_id ({_listing(keys)})")
            db_id = keys[0]
        match = [k for k in keys if k.lower() == db_id.lower()]
        if not match:
            raise ConstraintFileError(
                f"SpotIt+ constraints file {str(p)!r} has no database {db_id!r} ({_listing(keys)})")
        try:
            cs, _ = import_spotit(data[match[0]], schema=schema)
        except ValueError as e:
            raise ConstraintFileError(f"SpotIt+ constraints file {str(p)!r}: {e}") from None
        cs.db_id = match[0]
        cs.source.path = str(p)
        return cs
    raise ConstraintFileError(
        f"{str(p)!r} is neither a sqlwitness constraints file (\"format\": \"{FORMAT_NAME}\") "
        "nor a SpotIt+/VeriEQL one ({db_id: [[...]]})")


def _listing(keys: list[str], n: int = 6) -> str:
    shown = ", ".join(sorted(keys)[:n])
    return shown + (", ..." if len(keys) > n else "")


def read_json(p: Path) -> Any:
    """The JSON of a constraints file; `ConstraintFileError` with a one-line message if unusable."""
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConstraintFileError(f"constraints file {str(p)!r} not found") from None
    except IsADirectoryError:
        raise ConstraintFileError(f"constraints file {str(p)!r} is a directory") from None
    except UnicodeDecodeError:
        raise ConstraintFileError(f"constraints file {str(p)!r} is not UTF-8 text") from None
    except OSError as e:
        raise ConstraintFileError(f"cannot read constraints file {str(p)!r}: {e.strerror or e}") from None
    if not text.strip():
        raise ConstraintFileError(f"constraints file {str(p)!r} is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ConstraintFileError(
            f"constraints file {str(p)!r} is not JSON: {e.msg} at line {e.lineno}, column {e.colno}"
        ) from None


# --------------------------------------------------------------------------- SpotIt+ format


def _norm(name: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_")


def spotit_name(table: str, column: str) -> str:
    """The SpotIt+ spelling of a column.

    >>> spotit_name("frpm", "Charter School (Y/N)")
    'FRPM__CHARTER_SCHOOL_Y_N'
    """
    return f"{_norm(table)}__{_norm(column)}"


class _Names:
    """Resolves `TABLE__COLUMN` against a schema (or keeps it as written without one)."""

    def __init__(self, schema: Schema | None) -> None:
        self.schema = schema
        self.tables: dict[str, list[Any]] = {}
        if schema is not None:
            for t in schema.tables:
                self.tables.setdefault(_norm(t.name), []).append(t)

    def __call__(self, ref: Any) -> tuple[str, str]:
        """(table, column) of a `{"value": "T__C"}` or a plain "T__C"; ValueError why not."""
        if isinstance(ref, dict):
            ref = ref.get("value")
        if not isinstance(ref, str) or "__" not in ref:
            raise ValueError("malformed column reference")
        tname, cname = ref.split("__", 1)
        if self.schema is None:
            return tname, cname
        ts = self.tables.get(_norm(tname), [])
        if not ts:
            raise ValueError("unknown table")
        if len(ts) > 1:
            raise ValueError("ambiguous table name")
        t = ts[0]
        cols = [c.name for c in t.columns if _norm(c.name) == _norm(cname)]
        if not cols:
            raise ValueError("unknown column")
        if len(cols) > 1:
            raise ValueError("ambiguous column name")
        return t.name, cols[0]

    def is_text(self, table: str, column: str) -> bool | None:
        """Whether the schema models the column as text (None without a schema)."""
        if self.schema is None:
            return None
        return self.schema.table(table).column(column).kind == "text"


def _number(x: Any) -> int | float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ValueError("bound is not a number")
    return x


def import_spotit(entries: Any, schema: Schema | None = None) -> tuple[ConstraintSet, ImportReport]:
    """Convert one database's SpotIt+/VeriEQL constraint list (`[[item, ...]]`, or a flat
    `[item, ...]`) into a `ConstraintSet` (origin `imported`), with a per-kind report."""
    if not isinstance(entries, list):
        raise ValueError("a database's constraints must be a list")
    items: list[Any] = []
    for e in entries:
        items.extend(e if isinstance(e, list) else [e])
    names = _Names(schema)
    report = ImportReport()
    cs = ConstraintSet(source={"path": ""})
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict) or len(item) != 1:
            report.kind("?").skip("not a one-key object")
            continue
        (kind, body), = item.items()
        kr = report.kind(kind if kind != "dependency" or not isinstance(body, dict)
                         or body.get("type") != "ordering" else "ordering")
        try:
            c = _convert(kind, body, names)
        except ValueError as e:
            kr.skip(str(e))
            continue
        if c.key in seen:
            kr.skip("duplicate")
            continue
        seen.add(c.key)
        cs.constraints.append(c)
        kr.imported += 1
    return cs, report


def _convert(kind: str, body: Any, names: _Names) -> Any:
    o = Origin.IMPORTED
    if kind == "primary":
        if not isinstance(body, list) or not body:
            raise ValueError("malformed primary key")
        refs = [names(r) for r in body]
        if len({t for t, _ in refs}) != 1:
            raise ValueError("key columns of several tables")
        return PrimaryKey(table=refs[0][0], columns=[c for _, c in refs], origin=o)
    if kind == "foreign":
        if not isinstance(body, list) or len(body) != 2:
            raise ValueError("malformed foreign key")
        (t, c), (pt, pc) = names(body[0]), names(body[1])
        return ForeignKey(table=t, columns=[c], ref_table=pt, ref_columns=[pc], origin=o)
    if kind == "not_null":
        t, c = names(body)
        return NotNull(table=t, column=c, origin=o)
    if kind == "between":
        if not isinstance(body, list) or len(body) != 3:
            raise ValueError("malformed range")
        t, c = names(body[0])
        if names.is_text(t, c):
            raise ValueError("numeric range on a text column")
        lo, hi = _number(body[1]), _number(body[2])
        if lo > hi:
            raise ValueError("empty range (min > max)")
        return Range(table=t, column=c, min=lo, max=hi, origin=o)
    if kind == "in":
        if not isinstance(body, list) or len(body) != 2 or not isinstance(body[1], list) or not body[1]:
            raise ValueError("malformed value list")
        t, c = names(body[0])
        vals = []
        for v in body[1]:
            if v is None:
                continue  # NULL is governed by not-null, not by the domain
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                raise ValueError("value of unsupported type")
            if v not in vals:
                vals.append(v)
        if not vals:
            raise ValueError("no non-NULL value")
        return Categorical(table=t, column=c, values=vals, origin=o)
    if kind == "dependency":
        if not isinstance(body, dict) or not isinstance(body.get("values"), list) or len(body["values"]) != 2:
            raise ValueError("malformed dependency")
        (ta, a), (tb, b) = names(body["values"][0]), names(body["values"][1])
        if ta.lower() != tb.lower():
            raise ValueError("dependency across tables")
        if a.lower() == b.lower():
            raise ValueError("trivial dependency (same column)")
        typ = body.get("type")
        if typ in (None, "functional"):
            return FunctionalDependency(table=ta, lhs=[a], rhs=[b], origin=o)
        if typ == "ordering":
            if names.is_text(ta, a) is not None and names.is_text(ta, a) != names.is_text(tb, b):
                raise ValueError("ordering between a text and a numeric column")
            op = body.get("operator")
            if op == "<=":
                return Ordering(table=ta, left=a, right=b, origin=o)
            if op == ">=":
                return Ordering(table=ta, left=b, right=a, origin=o)
            raise ValueError(f"unsupported ordering operator {op!r}")
        raise ValueError(f"unsupported dependency type {typ!r}")
    raise ValueError("unknown constraint kind")


def export_spotit(cs: ConstraintSet) -> tuple[list[list[dict[str, Any]]], ImportReport]:
    """`cs` in the SpotIt+/VeriEQL format (one database's list), with a per-kind report of
    what has no equivalent there. Rejected constraints are left out."""
    report = ImportReport()
    items: list[dict[str, Any]] = []

    def ref(t: str, c: str) -> dict[str, str]:
        return {"value": spotit_name(t, c)}

    for c in cs.constraints:
        kr = report.kind(c.kind)
        if c.validation.status == ValidationStatus.REJECTED:
            kr.skip("rejected")
            continue
        if isinstance(c, PrimaryKey):
            items.append({"primary": [ref(c.table, x) for x in c.columns()]})
        elif isinstance(c, ForeignKey):
            if len(c.columns()) != 1:
                kr.skip("multi-column foreign key")
                continue
            items.append({"foreign": [ref(c.table, c.columns()[0]), ref(c.ref_table, c.ref_columns[0])]})
        elif isinstance(c, NotNull):
            items.append({"not_null": ref(c.table, c.column)})
        elif isinstance(c, Range):
            items.append({"between": [ref(c.table, c.column), c.min, c.max]})
        elif isinstance(c, Categorical):
            items.append({"in": [ref(c.table, c.column), list(c.values)]})
        elif isinstance(c, FunctionalDependency):
            if len(c.lhs) != 1:
                kr.skip("multi-column left-hand side")
                continue
            for b in c.rhs:
                items.append({"dependency": {"values": [spotit_name(c.table, c.lhs[0]),
                                                        spotit_name(c.table, b)]}})
        elif isinstance(c, Ordering):
            items.append({"dependency": {"values": [spotit_name(c.table, c.left),
                                                    spotit_name(c.table, c.right)],
                                         "type": "ordering", "operator": "<="}})
        else:
            kr.skip("no SpotIt+ equivalent")
            continue
        kr.imported += 1
    return [items], report
