"""Database schemas: tables, columns, declared constraints, and SQLite type affinity.

A `Schema` is what the verifier needs to know about a database: the tables and their columns
(with the column's *affinity*, which decides how SQLite stores and compares its values), the
declared integrity constraints, and optionally a few real values per column (used to make
counterexamples read naturally).

Example:
    >>> affinity_of("varchar(20)"), affinity_of("int"), affinity_of("number")
    (<Affinity.TEXT: 'TEXT'>, <Affinity.INTEGER: 'INTEGER'>, <Affinity.NUMERIC: 'NUMERIC'>)
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field

from verify.names import Dialect


class SchemaError(ValueError):
    """A schema that cannot be used (unknown table, inconsistent key, unreadable file)."""


class Affinity(str, Enum):
    """SQLite column affinity, plus the DuckDB types the verifier models.

    DATE and BOOLEAN only occur for the DuckDB dialect (SQLite has no such storage classes:
    a SQLite column declared DATE has NUMERIC affinity and a BOOLEAN one too).
    """

    INTEGER = "INTEGER"
    REAL = "REAL"
    TEXT = "TEXT"
    NUMERIC = "NUMERIC"
    BLOB = "BLOB"
    DATE = "DATE"
    BOOLEAN = "BOOLEAN"


def affinity_of(declared_type: str | None, dialect: Dialect | str = Dialect.SQLITE) -> Affinity:
    """The affinity of a declared column type, by the rules of section 3.1 of SQLite's
    "Datatypes In SQLite" (first matching rule wins). For DuckDB the declared type is the
    storage type, so DATE and BOOLEAN keep their own kinds."""
    t = (declared_type or "").upper()
    if dialect == Dialect.DUCKDB:
        base = t.split("(")[0].strip()
        if base in {"DATE"}:
            return Affinity.DATE
        if base in {"BOOLEAN", "BOOL", "LOGICAL"}:
            return Affinity.BOOLEAN
        if base in {"DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC", "FLOAT4", "FLOAT8"}:
            return Affinity.REAL
        if base in {"VARCHAR", "TEXT", "STRING", "CHAR", "BPCHAR"}:
            return Affinity.TEXT
    if "INT" in t:
        return Affinity.INTEGER
    if "CHAR" in t or "CLOB" in t or "TEXT" in t:
        return Affinity.TEXT
    if "BLOB" in t or (t == "" and dialect == Dialect.SQLITE):
        return Affinity.BLOB
    if "REAL" in t or "FLOA" in t or "DOUB" in t:
        return Affinity.REAL
    return Affinity.NUMERIC


class Column(BaseModel):
    name: str
    type: str = Field(default="", description="declared type as written in the DDL")
    affinity: Affinity
    not_null: bool = False
    collation: str | None = Field(default=None, description="a declared COLLATE other than BINARY (NOCASE, "
                                  "RTRIM, ...); the verifier compares text with BINARY only")

    @property
    def kind(self) -> str:
        """The kind of value the verifier models this column as holding (see `ir.Kind`).

        A SQLite column declared DATE, DATETIME, TIME or TIMESTAMP has NUMERIC affinity, but
        what is stored there is text such as '2020-01-31' (it does not look like a number, so
        it stays text): such columns are modelled as TEXT, an assumption the verdict states.
        """
        if self.affinity == Affinity.NUMERIC and is_date_type(self.type):
            return "text"
        return _KIND_OF_AFFINITY[self.affinity]


_DECIMAL_TYPE = re.compile(r"^\s*(?:DECIMAL|NUMERIC)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$", re.IGNORECASE)


def decimal_type(declared: str | None) -> tuple[int, int] | None:
    """(precision, scale) of a DuckDB DECIMAL or NUMERIC type (DuckDB reads a bare DECIMAL as
    DECIMAL(18, 3) and DECIMAL(p) as DECIMAL(p, 0)), else None.

        >>> decimal_type("decimal(15, 2)"), decimal_type("NUMERIC"), decimal_type("DECIMAL(9)"), decimal_type("DOUBLE")
        ((15, 2), (18, 3), (9, 0), None)
    """
    m = _DECIMAL_TYPE.match(declared or "")
    if m is None:
        return None
    if m.group(1) is None:
        return 18, 3
    return int(m.group(1)), int(m.group(2) or 0)


def scan_affinity(column: "Column", dialect: Dialect | str) -> str:
    """What a scan's column carries as its affinity (`ir.OutCol.affinity`): SQLite's affinity;
    for DuckDB a DECIMAL's precision and scale ('DECIMAL(15,2)') and 'HUGEINT' for 128-bit
    integers and any other integer type wider than 64 bits (VARINT), so that a cast can tell
    whether it keeps every value (`lower_scalar`)."""
    if Dialect(dialect) == Dialect.DUCKDB:
        dec = decimal_type(column.type)
        if dec is not None:
            return f"DECIMAL({dec[0]},{dec[1]})"
        if column.affinity == Affinity.INTEGER and column.type.split("(")[0].strip().upper() not in _DUCKDB_INTEGERS:
            return "HUGEINT"
    return column.affinity.value


# DuckDB's integer types of at most 64 bits (at most 20 decimal digits), by their names and aliases
_DUCKDB_INTEGERS = {"TINYINT", "INT1", "SMALLINT", "INT2", "SHORT", "INTEGER", "INT", "INT4", "SIGNED", "BIGINT",
                    "INT8", "LONG", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}


def is_date_type(declared: str) -> bool:
    t = (declared or "").upper()
    return "DATE" in t or "TIME" in t


_KIND_OF_AFFINITY = {
    Affinity.INTEGER: "int",
    Affinity.REAL: "real",
    Affinity.NUMERIC: "num",
    Affinity.TEXT: "text",
    Affinity.BLOB: "text",
    Affinity.DATE: "date",
    Affinity.BOOLEAN: "bool",
}


class ForeignKey(BaseModel):
    columns: list[str]
    ref_table: str
    ref_columns: list[str]


class FunctionalDependency(BaseModel):
    """Rows that agree (non-NULL and equal) on every `lhs` column agree on every `rhs` column
    (equal values, or both NULL)."""

    lhs: list[str]
    rhs: list[str]


class Table(BaseModel):
    name: str
    columns: list[Column]
    primary_key: list[str] = Field(default_factory=list)
    unique: list[list[str]] = Field(default_factory=list)
    foreign_keys: list[ForeignKey] = Field(default_factory=list)
    checks: list[str] = Field(
        default_factory=list,
        description="row constraints as SQL boolean expressions over this table's columns, "
        "with CHECK semantics: a row is allowed unless an expression is false (NULL passes)",
    )
    functional_dependencies: list[FunctionalDependency] = Field(default_factory=list)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name.lower() == name.lower():
                return c
        raise SchemaError(f"table {self.name!r} has no column {name!r}")

    def has_column(self, name: str) -> bool:
        return any(c.name.lower() == name.lower() for c in self.columns)

    def violation_queries(self, dialect: Dialect | str = Dialect.SQLITE) -> list[tuple[str, str]]:
        """(description, query) for each row constraint and functional dependency: the query
        returns a row exactly when the table breaks the constraint.

        The verifier asserts that these queries are empty on its symbolic database and the
        engine runs them on every database it materializes, so both read the constraints
        through one definition.

            >>> t = Table(name="p", columns=[Column(name="a", affinity=Affinity.INTEGER),
            ...           Column(name="b", affinity=Affinity.TEXT)], checks=["a >= 0"],
            ...           functional_dependencies=[FunctionalDependency(lhs=["a"], rhs=["b"])])
            >>> for _, q in t.violation_queries(): print(q)
            SELECT 1 FROM "p" WHERE NOT (a >= 0)
            SELECT 1 FROM "p" AS "l" JOIN "p" AS "r" ON "l"."a" = "r"."a" WHERE NOT ("l"."b" IS "r"."b")
        """
        name = quote_ident(self.name)
        out = [(f"CHECK ({c}) on {self.name}", f"SELECT 1 FROM {name} WHERE NOT ({c})") for c in self.checks]
        for fd in self.functional_dependencies:
            on = " AND ".join(f'"l".{quote_ident(c)} = "r".{quote_ident(c)}' for c in fd.lhs)
            is_ = "IS" if dialect == Dialect.SQLITE else "IS NOT DISTINCT FROM"
            same = " AND ".join(f'"l".{quote_ident(c)} {is_} "r".{quote_ident(c)}' for c in fd.rhs)
            out.append((
                f"functional dependency {self.name}({', '.join(fd.lhs)}) -> ({', '.join(fd.rhs)})",
                f'SELECT 1 FROM {name} AS "l" JOIN {name} AS "r" ON {on} WHERE NOT ({same})',
            ))
        return out

    def index(self, name: str) -> int:
        for i, c in enumerate(self.columns):
            if c.name.lower() == name.lower():
                return i
        raise SchemaError(f"table {self.name!r} has no column {name!r}")


class Schema(BaseModel):
    """Tables with declared constraints. `samples` maps table → column → a few real values."""

    tables: list[Table]
    samples: dict[str, dict[str, list[Any]]] = Field(default_factory=dict)
    inferred: bool = Field(
        default=False, description="true when the schema was guessed from the queries alone"
    )
    source: str = ""

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name.lower() == name.lower():
                return t
        raise SchemaError(f"unknown table {name!r}")

    def has_table(self, name: str) -> bool:
        return any(t.name.lower() == name.lower() for t in self.tables)

    def validate_keys(self) -> None:
        """Raise SchemaError if a key or foreign key names a column or table that is not there."""
        for t in self.tables:
            for col in t.primary_key + [c for u in t.unique for c in u]:
                t.column(col)
            for fd in t.functional_dependencies:
                for col in fd.lhs + fd.rhs:
                    t.column(col)
            for fk in t.foreign_keys:
                for col in fk.columns:
                    t.column(col)
                if not self.has_table(fk.ref_table):
                    raise SchemaError(
                        f"foreign key of {t.name!r} references unknown table {fk.ref_table!r}"
                    )
                ref = self.table(fk.ref_table)
                for col in fk.ref_columns:
                    ref.column(col)

    def with_parents(self, names: set[str]) -> set[str]:
        """The lower-cased names of tables `names` and of every table their foreign keys
        reference, transitively: the part of a database that queries reading `names` see, since
        rows elsewhere can be left out (empty tables break no constraint).

            >>> s = Schema(tables=[Table(name="P", columns=[Column(name="id", affinity=Affinity.INTEGER)],
            ...                          primary_key=["id"]),
            ...                    Table(name="c", columns=[Column(name="p", affinity=Affinity.INTEGER)],
            ...                          foreign_keys=[ForeignKey(columns=["p"], ref_table="P", ref_columns=["id"])]),
            ...                    Table(name="other", columns=[Column(name="x", affinity=Affinity.INTEGER)])])
            >>> sorted(s.with_parents({"C"}))
            ['c', 'p']
        """
        seen: set[str] = set()
        todo = [n.lower() for n in names]
        while todo:
            name = todo.pop()
            if name in seen or not self.has_table(name):
                continue
            seen.add(name)
            todo += [fk.ref_table.lower() for fk in self.table(name).foreign_keys]
        return seen

    def restricted_to(self, names: set[str]) -> Schema:
        """The schema of tables `names` and their parents (`with_parents`)."""
        keep = self.with_parents(names)
        return self.model_copy(update={"tables": [t for t in self.tables if t.name.lower() in keep]})

    def sample_values(self, table: str, column: str) -> list[Any]:
        for tname, cols in self.samples.items():
            if tname.lower() == table.lower():
                for cname, vals in cols.items():
                    if cname.lower() == column.lower():
                        return vals
        return []

    def ddl(self, dialect: Dialect | str = Dialect.SQLITE) -> str:
        """CREATE TABLE statements for materializing a (counterexample) database.

        Constraints are written out so that the engine itself rejects a database that breaks
        them; foreign keys are enforced with `PRAGMA foreign_keys=ON` by the engine module.
        """
        stmts = []
        for t in self.tables:
            parts = []
            for c in t.columns:
                typ = c.type or _default_type(c.affinity)
                if dialect == Dialect.DUCKDB:
                    typ = _duckdb_type(c.affinity)
                collate = f" COLLATE {c.collation}" if c.collation and c.collation != "unknown" else ""
                parts.append(f"{quote_ident(c.name)} {typ}" + (" NOT NULL" if c.not_null else "") + collate)
            if t.primary_key:
                parts.append("PRIMARY KEY (" + ", ".join(map(quote_ident, t.primary_key)) + ")")
            for u in t.unique:
                parts.append("UNIQUE (" + ", ".join(map(quote_ident, u)) + ")")
            for check in t.checks:
                parts.append(f"CHECK ({check})")
            if dialect == Dialect.SQLITE:
                for fk in t.foreign_keys:
                    parts.append(
                        "FOREIGN KEY ("
                        + ", ".join(map(quote_ident, fk.columns))
                        + f") REFERENCES {quote_ident(fk.ref_table)} ("
                        + ", ".join(map(quote_ident, fk.ref_columns))
                        + ")"
                    )
            stmts.append(f"CREATE TABLE {quote_ident(t.name)} (\n  " + ",\n  ".join(parts) + "\n);")
        return "\n".join(stmts)


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _default_type(aff: Affinity) -> str:
    """The type a column of affinity `aff` is declared with when its schema names none."""
    return {
        Affinity.INTEGER: "INTEGER",
        Affinity.REAL: "REAL",
        Affinity.TEXT: "TEXT",
        Affinity.NUMERIC: "NUMERIC",
        Affinity.BLOB: "BLOB",
        Affinity.DATE: "DATE",
        Affinity.BOOLEAN: "BOOLEAN",
    }[aff]


def _duckdb_type(aff: Affinity) -> str:
    return {
        Affinity.INTEGER: "BIGINT",
        Affinity.REAL: "DOUBLE",
        Affinity.TEXT: "VARCHAR",
        Affinity.NUMERIC: "DOUBLE",
        Affinity.BLOB: "VARCHAR",
        Affinity.DATE: "DATE",
        Affinity.BOOLEAN: "BOOLEAN",
    }[aff]
