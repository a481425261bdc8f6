"""check_pair(hints=...): a database the caller gives (typically the counterexample found without
mined constraints) is tried as given and repaired to fit the schema before any search."""

from __future__ import annotations

import random

from verify import check_pair
from verify.budget import DEFAULT
from verify.engine import materialize
from verify.hints import repairs
from verify.schema_io import schema_from_ddl

SCHOOL = schema_from_ddl(
    "CREATE TABLE school (id INT PRIMARY KEY, status TEXT NOT NULL CHECK (status IN ('Active', 'Closed')),"
    " code TEXT CHECK (code IN ('H1', 'E1')), kind TEXT, score INT CHECK (score BETWEEN 200 AND 800));"
)
# what a run without the constraints found: status NULL, code and score outside their domains
PLAIN_CEX = {"school": [[1, None, "zz", "a", 300], [2, None, "zz", "b", 0]]}


def test_a_hint_that_breaks_constraints_in_cells_that_do_not_matter_is_repaired():
    gold = "SELECT id FROM school WHERE score > 300"
    gen = "SELECT id FROM school WHERE score >= 300"
    v = check_pair(gold, gen, SCHOOL, budget=DEFAULT.without_random(), hints=[PLAIN_CEX], timeout=20)
    assert v.verdict.value == "not_equivalent" and v.counterexample.found_by == "hint"
    rows = v.counterexample.tables["school"].rows
    assert any(r[4] == 300 for r in rows)  # the value that tells the queries apart
    materialize(SCHOOL, {"school": rows}).close()  # the schema allows it


def test_a_hint_whose_difference_the_constraints_forbid_changes_nothing():
    """The queries differ only on score = 100, which the CHECK forbids: no repair of the hint
    shows a difference, and the search proves the pair as without a hint."""
    gold = "SELECT id FROM school WHERE score > 100"
    gen = "SELECT id FROM school WHERE score >= 100"
    hint = {"school": [[1, "Active", None, None, 100]]}
    with_hint = check_pair(gold, gen, SCHOOL, hints=[hint], timeout=20)
    without = check_pair(gold, gen, SCHOOL, timeout=20)
    assert with_hint.verdict.value == without.verdict.value == "equivalent"
    assert with_hint.bound == without.bound


def test_repairs_start_with_the_hint_and_only_touch_broken_cells():
    variants = list(repairs(SCHOOL, PLAIN_CEX, {("school", "status"): ["Active", "Closed"],
                                                 ("school", "code"): ["H1", "E1"],
                                                 ("school", "score"): [300, 200, 800]}, random.Random(1), 5))
    assert variants[0] == PLAIN_CEX and len(variants) == 6
    for v in variants[1:]:
        for before, after in zip(PLAIN_CEX["school"], v["school"]):
            assert after[0] == before[0] and after[3] == before[3]  # fine cells kept
            assert after[1] in ("Active", "Closed") and after[2] in ("H1", "E1") and after[4] in (300, 200, 800)
        assert v["school"][0][4] == 300  # allowed: kept
    assert list(repairs(SCHOOL, {"school": [[1, "Active", "H1", "x", 250]]}, {}, random.Random(0), 5)) == [
        {"school": [[1, "Active", "H1", "x", 250]]}]  # nothing broken: the hint alone
