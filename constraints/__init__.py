"""Database constraints for the verifier: mining, import/export, LLM validation, realism.

    >>> from constraints import load_constraints, apply_constraints  # the public entry points

- `constraints.models`: the constraint records and the JSON format;
- `constraints.mine`: `mine_database(path)` (`verify mine db.sqlite -o constraints.json`);
- `constraints.apply`: `apply_constraints(schema, cs)` -> a schema carrying them;
- `constraints.io`: `load_constraints(path, db_id)`, SpotIt+/VeriEQL import and export;
- `constraints.validate_llm`: accept/reject mined constraints with an LLM (cached);
- `constraints.realism`: a profile of a database and the realism score of a counterexample.
"""

from constraints.apply import apply_constraints
from constraints.io import load_constraints, save_constraints
from constraints.models import ConstraintSet

__all__ = ["load_constraints", "save_constraints", "apply_constraints", "ConstraintSet"]
