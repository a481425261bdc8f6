"""Constraint records: what a database's data obeys, where that knowledge came from, and whether
a reviewer (an LLM or a person) accepted it.

Kinds. *Declared* constraints come from the schema (`primary_key`, `unique`, `not_null`,
`foreign_key`); *mined* ones are observed on every row of a real database: a numeric `range`,
a `categorical` domain, `not_null`, `unique` (non-key columns), a functional dependency `fd`
(A → B, A may have several columns), an `ordering` (A ≤ B, numbers or date-like text), a
string `format` (length range, allowed characters, date/time pattern) and `values` (a hint:
prefer values observed in the column; never a hard rule). Every kind is NULL-tolerant: a
range says nothing about NULL (not-null is its own constraint), an ordering holds on rows
where either side is NULL, an FD only compares rows whose left-hand sides are all non-NULL.

Our JSON file format (the default; `constraints.io` also reads SpotIt+/VeriEQL files)::

    {
      "format": "sqlwitness-constraints", "version": 1,
      "db_id": "concert_singer",
      "source": {"path": ".../concert_singer.sqlite", "sha256": "ab12...", "tables": {"singer": 6}},
      "settings": {"min_rows": 5, ...},            # the miner's thresholds (informative)
      "constraints": [
        {"kind": "range", "table": "singer", "column": "Age", "min": 0, "max": 100,
         "origin": "mined",
         "evidence": {"rows_checked": 6, "support": 6, "observed": "25..52",
                      "source": ".../concert_singer.sqlite", "source_sha256": "ab12..."},
         "validation": {"status": "accepted", "reason": "ages are non-negative", "model": "gpt-x"}},
        {"kind": "fd", "table": "singer", "lhs": ["Country"], "rhs": ["Is_male"], ...},
        ...
      ]
    }

Example:
    >>> c = Range(table="p", column="age", min=0, max=120)
    >>> c.key, c.validation.status.value
    ('range:p.age', 'unvalidated')
    >>> ConstraintSet(constraints=[c]).model_dump(mode="json")["constraints"][0]["kind"]
    'range'
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Origin",
    "ValidationStatus",
    "Validation",
    "Evidence",
    "PrimaryKey",
    "Unique",
    "NotNull",
    "ForeignKey",
    "Range",
    "Categorical",
    "FunctionalDependency",
    "Ordering",
    "Format",
    "ValueSource",
    "Constraint",
    "SourceInfo",
    "ConstraintSet",
    "DATE_PATTERNS",
    "FORMAT_NAME",
]

FORMAT_NAME = "sqlwitness-constraints"
FORMAT_VERSION = 1

Scalar = Union[int, float, str]

# named date/time patterns: name -> (SQLite GLOB pattern, human form)
DATE_PATTERNS: dict[str, tuple[str, str]] = {
    "date": ("[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]", "YYYY-MM-DD"),
    "datetime": (
        "[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9]",
        "YYYY-MM-DD HH:MM:SS",
    ),
    "time": ("[0-2][0-9]:[0-5][0-9]:[0-5][0-9]", "HH:MM:SS"),
}


class Origin(str, Enum):
    DECLARED = "declared"  # in the schema itself
    MINED = "mined"  # observed on all rows of a database by `constraints.mine`
    IMPORTED = "imported"  # read from another tool's file (SpotIt+/VeriEQL)
    MANUAL = "manual"  # written by a person


class ValidationStatus(str, Enum):
    UNVALIDATED = "unvalidated"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Validation(BaseModel):
    """A reviewer's verdict on one constraint. `reason` is the reviewer's explanation, or the
    error that left the constraint unvalidated."""

    status: ValidationStatus = ValidationStatus.UNVALIDATED
    reason: str = ""
    model: str | None = None


class Evidence(BaseModel):
    """Why a mined constraint is believed: it held on all `rows_checked` rows of `source`.

    `support` is kind-specific: non-NULL values for a range/format/categorical domain, rows
    for not-null, left-hand values that occur on two or more rows for an FD, rows where both
    sides are non-NULL for an ordering."""

    rows_checked: int
    support: int
    observed: str = Field(default="", description="what was seen, e.g. the exact range '3..87'")
    source: str = ""
    source_sha256: str = ""


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table: str
    origin: Origin = Origin.MINED
    evidence: Evidence | None = None
    validation: Validation = Field(default_factory=Validation)

    @property
    def key(self) -> str:
        """A stable identity: kind, table and columns (equal keys = the same constraint)."""
        return f"{self.kind}:{self.table}.{'/'.join(self.columns())}"  # type: ignore[attr-defined]

    def columns(self) -> list[str]:
        return [self.column]  # type: ignore[attr-defined]

    def describe(self) -> str:
        """One line for people (and LLM prompts)."""
        raise NotImplementedError


class PrimaryKey(_Base):
    kind: Literal["primary_key"] = "primary_key"
    origin: Origin = Origin.DECLARED
    columns_: list[str] = Field(alias="columns")
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def columns(self) -> list[str]:
        return list(self.columns_)

    def describe(self) -> str:
        return f"PRIMARY KEY {self.table}({', '.join(self.columns_)})"


class Unique(_Base):
    kind: Literal["unique"] = "unique"
    columns_: list[str] = Field(alias="columns")
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def columns(self) -> list[str]:
        return list(self.columns_)

    def describe(self) -> str:
        return f"UNIQUE {self.table}({', '.join(self.columns_)}): no two rows share a non-NULL value"


class NotNull(_Base):
    kind: Literal["not_null"] = "not_null"
    column: str

    def describe(self) -> str:
        return f"{self.table}.{self.column} is never NULL"


class ForeignKey(_Base):
    kind: Literal["foreign_key"] = "foreign_key"
    origin: Origin = Origin.DECLARED
    columns_: list[str] = Field(alias="columns")
    ref_table: str
    ref_columns: list[str]
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def columns(self) -> list[str]:
        return list(self.columns_)

    @property
    def key(self) -> str:
        return (f"foreign_key:{self.table}.{'/'.join(self.columns_)}"
                f"->{self.ref_table}.{'/'.join(self.ref_columns)}")

    def describe(self) -> str:
        return (f"{self.table}({', '.join(self.columns_)}) references "
                f"{self.ref_table}({', '.join(self.ref_columns)})")


class Range(_Base):
    """min ≤ value ≤ max for every non-NULL value (which is a number)."""

    kind: Literal["range"] = "range"
    column: str
    min: int | float
    max: int | float

    def describe(self) -> str:
        return f"{self.table}.{self.column} is a number between {self.min} and {self.max}"


class Categorical(_Base):
    """Every non-NULL value is one of `values`."""

    kind: Literal["categorical"] = "categorical"
    column: str
    values: list[Scalar]

    def describe(self) -> str:
        return f"{self.table}.{self.column} is one of {', '.join(map(repr, self.values))}"


class FunctionalDependency(_Base):
    """Rows that agree (non-NULL, equal) on every `lhs` column agree on every `rhs` column."""

    kind: Literal["fd"] = "fd"
    lhs: list[str]
    rhs: list[str]

    def columns(self) -> list[str]:
        return [*self.lhs, "->", *self.rhs]

    @property
    def key(self) -> str:
        return f"fd:{self.table}.{'/'.join(self.lhs)}->{'/'.join(self.rhs)}"

    def describe(self) -> str:
        return (f"in {self.table}, {', '.join(self.lhs)} determines {', '.join(self.rhs)} "
                f"(rows with the same {', '.join(self.lhs)} have the same {', '.join(self.rhs)})")


class Ordering(_Base):
    """left ≤ right on every row where both are non-NULL (`text`: compared as text, e.g. ISO
    dates; else as numbers)."""

    kind: Literal["ordering"] = "ordering"
    left: str
    right: str
    text: bool = False

    def columns(self) -> list[str]:
        return [self.left, "<=", self.right]

    @property
    def key(self) -> str:
        return f"ordering:{self.table}.{self.left}<={self.right}"

    def describe(self) -> str:
        return f"in {self.table}, {self.left} <= {self.right} on every row"


class Format(_Base):
    """Every non-NULL value is text of `min_length`..`max_length` characters, made only of the
    characters of `charset` (the body of a GLOB class such as `0-9A-Z`), and/or matching the
    named date/time `pattern` (see `DATE_PATTERNS`)."""

    kind: Literal["format"] = "format"
    column: str
    min_length: int | None = None
    max_length: int | None = None
    charset: str | None = None
    pattern: Literal["date", "datetime", "time"] | None = None

    def describe(self) -> str:
        parts = []
        if self.pattern:
            parts.append(f"looks like {DATE_PATTERNS[self.pattern][1]}")
        if self.min_length is not None or self.max_length is not None:
            parts.append(f"has {self.min_length}..{self.max_length} characters")
        if self.charset:
            parts.append(f"uses only the characters [{self.charset}]")
        return f"{self.table}.{self.column} " + ", ".join(parts)


class ValueSource(_Base):
    """A hint, not a rule: counterexamples read best with values observed in the column."""

    kind: Literal["values"] = "values"
    column: str
    values: list[Scalar]

    def describe(self) -> str:
        shown = ", ".join(map(repr, self.values[:8])) + (", ..." if len(self.values) > 8 else "")
        return f"typical values of {self.table}.{self.column}: {shown}"


Constraint = Annotated[
    Union[
        PrimaryKey, Unique, NotNull, ForeignKey, Range, Categorical, FunctionalDependency,
        Ordering, Format, ValueSource,
    ],
    Field(discriminator="kind"),
]


class SourceInfo(BaseModel):
    path: str = ""
    sha256: str = ""
    tables: dict[str, int] = Field(default_factory=dict, description="rows per table when mined")


class ConstraintSet(BaseModel):
    """The constraints of one database."""

    format: Literal["sqlwitness-constraints"] = FORMAT_NAME
    version: int = FORMAT_VERSION
    db_id: str | None = None
    source: SourceInfo = Field(default_factory=SourceInfo)
    settings: dict[str, Any] = Field(default_factory=dict)
    constraints: list[Constraint] = Field(default_factory=list)

    def of_kind(self, *kinds: str) -> list[Any]:
        return [c for c in self.constraints if c.kind in kinds]

    def counts(self) -> dict[str, int]:
        """Constraints per kind, e.g. {'range': 3, 'fd': 1}."""
        out: dict[str, int] = {}
        for c in self.constraints:
            out[c.kind] = out.get(c.kind, 0) + 1
        return out

    def to_json(self) -> str:
        return self.model_dump_json(indent=2, by_alias=True, exclude_none=True)
