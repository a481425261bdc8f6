"""An on-disk cache of mined constraints and database profiles, keyed by database content.

The cache lives in `$SQLWITNESS_CACHE` when set, else `~/.cache/sqlwitness`:

    constraints/<sha256 of the database>-<hash of the miner settings>.json
    profiles/<sha256 of the database>.json
    llm/<hash of the request>.json            (see `constraints.validate_llm`)

A database edited in place gets a new content hash, so stale entries are never read. An
unreadable entry is recomputed and overwritten.

Example:
    >>> d = cache_dir("llm"); d.is_dir(), d.name
    (True, 'llm')
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from pydantic import ValidationError

from constraints.mine import MineSettings, file_sha256, mine_database
from constraints.models import ConstraintSet
from constraints.realism import Profile, profile_database

__all__ = ["cache_dir", "cached_mine", "cached_profile"]


def cache_dir(sub: str = "") -> Path:
    root = Path(os.environ.get("SQLWITNESS_CACHE") or Path.home() / ".cache" / "sqlwitness")
    d = root / sub if sub else root
    d.mkdir(parents=True, exist_ok=True)
    return d


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def cached_mine(db: str | os.PathLike[str], settings: MineSettings | None = None) -> tuple[ConstraintSet, bool]:
    """Mined constraints of `db` and whether they came from the cache."""
    settings = settings or MineSettings()
    sha = file_sha256(db)
    skey = hashlib.sha256(settings.model_dump_json().encode()).hexdigest()[:12]
    path = cache_dir("constraints") / f"{sha}-{skey}.json"
    if path.is_file():
        try:
            cs = ConstraintSet.model_validate_json(path.read_text(encoding="utf-8"))
            cs.source.path = str(db)
            return cs, True
        except (ValidationError, OSError, ValueError):
            pass
    cs = mine_database(db, settings)
    _write(path, cs.to_json())
    return cs, False


def cached_profile(db: str | os.PathLike[str]) -> Profile:
    """The realism profile of `db` (computed once per database content)."""
    sha = file_sha256(db)
    path = cache_dir("profiles") / f"{sha}.json"
    if path.is_file():
        try:
            return Profile.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (ValidationError, OSError, ValueError):
            pass
    prof = profile_database(db)
    _write(path, prof.model_dump_json())
    return prof
