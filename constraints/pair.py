"""The glue `verify pair` uses: constraints onto the schema, realism onto the verdict.

- `constrain_schema(schema, constraints_file=..., mine=..., db=..., db_id=...)`: the schema
  with the constraints of a file (`--constraints`) and/or mined from `--db` (`--mine`, cached
  by database content, see `constraints.cache`) applied. Raises `ValueError` with a one-line
  message for bad input.
- `add_realism(verdict, db)`: sets `counterexample.realism` from the profile of `db`.

Example:
    >>> from verify.schema_io import schema_from_ddl
    >>> constrain_schema(schema_from_ddl("CREATE TABLE t (a INT);"), mine=True)
    Traceback (most recent call last):
    ...
    ValueError: --mine needs --db (the database to mine constraints from)
"""

from __future__ import annotations

from pathlib import Path

from constraints.apply import apply_constraints
from constraints.models import ConstraintSet
from verify.schema import Schema
from verify.verdict import Verdict

__all__ = ["constrain_schema", "add_realism"]


def constrain_schema(
    schema: Schema | None,
    *,
    constraints_file: str | None = None,
    mine: bool = False,
    db: str | None = None,
    db_id: str | None = None,
) -> Schema | None:
    from constraints.io import ConstraintFileError, load_constraints

    if mine and db is None:
        raise ValueError("--mine needs --db (the database to mine constraints from)")
    if schema is None or schema.inferred:
        raise ValueError("--constraints and --mine need a schema (--db, --schema or --tables)")
    if mine:
        from constraints.cache import cached_mine
        from verify.schema import SchemaError

        try:
            cs, _ = cached_mine(db)  # type: ignore[arg-type]
        except (SchemaError, OSError) as e:
            raise ValueError(f"--mine: {e}") from None
        schema = apply_constraints(schema, cs)
    if constraints_file is not None:
        pick = db_id or (Path(db).stem if db else None)
        try:  # first as the file names them (SpotIt+ names are matched to the schema's, dropping the rest)
            _check_same_database(load_constraints(constraints_file, pick), schema, constraints_file)
            cs = load_constraints(constraints_file, pick, schema=schema)
        except ConstraintFileError as e:
            raise ValueError(str(e)) from None
        schema = apply_constraints(schema, cs)
    return schema


def _check_same_database(cs: ConstraintSet, schema: Schema, path: str) -> None:
    """Constraints none of whose tables the schema has are for another database: a `ValueError`
    (with `--db`/`--tables` the database name tells; with `--schema` only the tables can)."""
    named = sorted({c.table for c in cs.constraints}, key=str.lower)
    if named and not any(schema.has_table(t) for t in named):
        shown = ", ".join(named[:5]) + (", ..." if len(named) > 5 else "")
        which = f"database {cs.db_id!r}" if cs.db_id else "another database"
        raise ValueError(f"constraints file {path!r} is for {which}: none of its tables ({shown}) is in the "
                         f"schema, which has {', '.join(t.name for t in schema.tables)}")


def add_realism(verdict: Verdict, db: str) -> Verdict:
    """Score the verdict's counterexample against the database it should resemble."""
    if verdict.counterexample is None:
        return verdict
    from constraints.cache import cached_profile
    from constraints.realism import realism

    try:
        prof = cached_profile(db)
    except Exception:  # noqa: BLE001 - a profile that cannot be built leaves no score
        return verdict
    verdict.counterexample.realism = realism(verdict.counterexample.tables, prof)
    return verdict
