"""Constraint files: our format round trip, SpotIt+/VeriEQL import/export (also on the real
SpotIt+ files for BIRD), and one-line errors for bad files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from constraints import apply_constraints, load_constraints, save_constraints
from constraints.io import ConstraintFileError, export_spotit, import_spotit
from constraints.mine import mine_database
from verify.schema_io import schema_from_ddl, schema_from_spider_tables

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SPOTIT = DATA / "bird" / "spotit_plus_constraints"
BIRD_TABLES = DATA / "bird" / "dev_tables.json"


@pytest.fixture
def mined(tmp_path):
    p = tmp_path / "shop.sqlite"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT, qty INT, placed TEXT, shipped TEXT)")
    con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
                    [(i, ["new", "paid", "sent"][i % 3], 1 + i % 30, f"2021-03-{1 + i % 25:02d}",
                      f"2021-04-{1 + i % 25:02d}") for i in range(50)])
    con.commit()
    con.close()
    return mine_database(p)


def test_round_trip_our_format(tmp_path, mined):
    f = tmp_path / "c.json"
    save_constraints(mined, f)
    back = load_constraints(f)
    assert back == mined
    assert json.loads(f.read_text())["format"] == "sqlwitness-constraints"


def test_spotit_export_import_round_trip(mined):
    schema = schema_from_ddl(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT, qty INT, placed TEXT, shipped TEXT);")
    items, rep = export_spotit(mined)
    assert rep.kinds["format"].skipped == {"no SpotIt+ equivalent": len(mined.of_kind("format"))}
    back, irep = import_spotit(json.loads(json.dumps(items)), schema=schema)
    assert irep.skipped == 0
    expressible = {"primary_key", "foreign_key", "not_null", "range", "categorical", "fd", "ordering"}
    want = sorted(c.key for c in mined.constraints if c.kind in expressible)
    assert sorted(c.key for c in back.constraints) == want
    # values survive too
    (r,) = [c for c in back.constraints if c.kind == "range"]
    (r0,) = mined.of_kind("range")
    assert (r.min, r.max) == (r0.min, r0.max)


def test_spotit_names_map_onto_schema_case_insensitively():
    schema = schema_from_ddl('CREATE TABLE "Frpm" ("Charter School (Y/N)" INT, "Low Grade" TEXT, n INT);')
    cs, rep = import_spotit([[
        {"in": [{"value": "FRPM__CHARTER_SCHOOL_Y_N"}, [0, 1, None]]},
        {"between": [{"value": "FRPM__LOW_GRADE"}, 0, 12]},
        {"between": [{"value": "FRPM__N"}, 5, 1]},
        {"not_null": {"value": "FRPM__NOPE"}},
        {"dependency": {"values": ["FRPM__N", "FRPM__CHARTER_SCHOOL_Y_N"], "type": "ordering", "operator": ">="}},
    ]], schema=schema)
    assert [c.describe() for c in cs.constraints] == [
        "Frpm.Charter School (Y/N) is one of 0, 1",
        "in Frpm, Charter School (Y/N) <= n on every row",
    ]
    assert rep.kinds["between"].skipped == {"numeric range on a text column": 1, "empty range (min > max)": 1}
    assert rep.kinds["not_null"].skipped == {"unknown column": 1}


@pytest.mark.skipif(not SPOTIT.is_dir() or not BIRD_TABLES.is_file(), reason="shared BIRD data not available")
def test_real_spotit_file_loads_and_applies():
    schema = schema_from_spider_tables(BIRD_TABLES, "california_schools")
    cs = load_constraints(SPOTIT / "llm_validated.json", "california_schools", schema=schema)
    assert cs.db_id == "california_schools" and len(cs.constraints) > 100
    kinds = cs.counts()
    assert {"primary_key", "foreign_key", "range", "categorical", "not_null", "fd"} <= set(kinds)
    applied = apply_constraints(schema, cs)
    frpm = applied.table("frpm")
    assert frpm.checks and frpm.functional_dependencies
    # every name was mapped to the schema's spelling
    for c in cs.constraints:
        t = schema.table(c.table)
        assert t.name == c.table
        for col in c.columns():
            if col not in ("->", "<="):
                assert t.column(col).name == col


def test_directory_of_files(tmp_path, mined):
    save_constraints(mined, tmp_path / "shop.json")
    assert load_constraints(tmp_path, "SHOP") == mined
    with pytest.raises(ConstraintFileError, match="no other.json"):
        load_constraints(tmp_path, "other")


@pytest.mark.parametrize("content, message", [
    ("", "is empty"),
    ("{\n  'x': 1}", "is not JSON: .* at line 2, column 3"),
    ('{"format": "sqlwitness-constraints", "constraints": [{"kind": "range", "table": "t"}]}',
     r"constraints\.0\.range\.column: Field required"),
    ('[1, 2]', "neither a sqlwitness constraints file"),
    ('{"a": [[]], "b": [[]]}', "holds 2 databases; pick one with a db_id \\(a, b\\)"),
])
def test_bad_files_give_one_line_errors(tmp_path, content, message):
    f = tmp_path / "bad.json"
    f.write_text(content)
    with pytest.raises(ConstraintFileError, match=message) as e:
        load_constraints(f)
    assert "\n" not in str(e.value)


def test_missing_file_and_wrong_db_id(tmp_path, mined):
    with pytest.raises(ConstraintFileError, match="not found"):
        load_constraints(tmp_path / "nope.json")
    save_constraints(mined, tmp_path / "c.json")
    with pytest.raises(ConstraintFileError, match="holds database 'shop', not 'other'"):
        load_constraints(tmp_path / "c.json", "other")
    f = tmp_path / "s.json"
    f.write_text('{"a": [[]]}')
    with pytest.raises(ConstraintFileError, match="has no database 'zzz' \\(a\\)"):
        load_constraints(f, "zzz")
