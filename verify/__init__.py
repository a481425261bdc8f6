"""sqlwitness's verifier: bounded SQL equivalence with confirmed counterexamples.

    >>> from verify import check_pair, load_schema
    >>> schema = load_schema(schema_sql="CREATE TABLE t (a INTEGER, b INTEGER);")
    >>> check_pair("SELECT COUNT(*) FROM t", "SELECT COUNT(a) FROM t", schema=schema).verdict.value
    'not_equivalent'

The names are imported lazily, so `import verify.<module>` stays cheap and free of cycles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["check_pair", "Verdict", "load_schema"]

if TYPE_CHECKING:
    from verify.check import check_pair
    from verify.schema_io import load_schema
    from verify.verdict import Verdict


def __getattr__(name: str) -> Any:
    if name == "check_pair":
        from verify.check import check_pair

        return check_pair
    if name == "Verdict":
        from verify.verdict import Verdict

        return Verdict
    if name == "load_schema":
        from verify.schema_io import load_schema

        return load_schema
    raise AttributeError(f"module 'verify' has no attribute {name!r}")
