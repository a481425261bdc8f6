"""Tests for benchmarks.verieql: loading the VeriEQL pairs and VeriEQL's recorded results."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import duckdb
import pytest

from benchmarks.verieql import load_pairs, load_recorded

VERIEQL = Path(__file__).resolve().parents[2] / "shared" / "data" / "verieql"


def need(name: str) -> Path:
    path = VERIEQL / name
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


@pytest.mark.parametrize("bench, n, refuted", [("literature", 64, 29), ("calcite", 397, 4)])
def test_pairs_and_recorded(bench: str, n: int, refuted: int) -> None:
    pairs = load_pairs(need(f"{bench}.jsonl"))
    recorded = load_recorded(need(f"{bench}.verieql_results.jsonl"))
    assert len(pairs) == n and len(recorded) == n
    assert {p.index for p in pairs} == set(recorded)
    # names repeat across sub-benchmarks (Literature's "inline-exists" twice), but
    # (benchmark, name) identifies a pair
    assert len({(p.benchmark, p.name) for p in pairs}) == n
    assert all(p.gold and p.gen and p.gold.lstrip().upper().startswith(("SELECT", "(", "WITH"))
               for p in pairs)
    assert sum(r.refuted for r in recorded.values()) == refuted
    # every schema converts, or the pair says why not (today: all convert)
    failures = [(p.index, p.schema_error) for p in pairs if p.schema is None]
    assert all(err for _, err in failures)
    assert failures == []
    for p in pairs:
        p.schema.validate_keys()


def test_literature_details() -> None:
    pairs = {p.index: p for p in load_pairs(need("literature.jsonl"))}
    rec = load_recorded(need("literature.verieql_results.jsonl"))
    assert pairs[0].name == "ex1sigmod92" and pairs[0].benchmark == "conditional-ex1sigmod92"
    assert pairs[0].schema.table("ITM").primary_key == ["ITEMN"]
    assert pairs[0].gold.startswith("SELECT ITM.ITEMN, ITPV.VENDN")
    assert sum(p.symbolic_predicates for p in pairs.values()) == 8
    assert [i for i, p in pairs.items() if p.name == "inline-exists"] == [7, 13]
    # TEAMS.TMEMBER has a null type (→ INTEGER) and references PAYROLL's key
    fk = pairs[5].schema.table("TEAMS").foreign_keys
    assert [(f.columns, f.ref_table, f.ref_columns) for f in fk] == [
        (["TMEMBER"], "PAYROLL", ["EMPL"])
    ]
    assert pairs[5].schema.table("TEAMS").column("TMEMBER").type == "INTEGER"
    assert rec[0].states == ["EQU", "EQU", "EQU", "TMO"] and rec[0].verified_k == 3
    assert not rec[0].refuted and rec[0].error_kind is None and rec[0].timed_out
    assert rec[1].refuted and rec[1].verified_k == 0
    assert len(rec[0].seconds) == 4 and rec[0].seconds[-1] is None
    syn = [r for r in rec.values() if r.error_kind]
    assert [r.error_kind for r in syn] == ["SYN"] and "ParserSyntaxError" in syn[0].err


def test_calcite_details() -> None:
    pairs = load_pairs(need("calcite.jsonl"))
    rec = load_recorded(need("calcite.verieql_results.jsonl"))
    assert pairs[0].index == 1 and pairs[0].name == "calcite-1"
    kinds = {}
    for r in rec.values():
        kinds[r.error_kind] = kinds.get(r.error_kind, 0) + 1
    assert kinds == {None: 265, "NSE": 45, "NIE": 44, "SYN": 43}
    s = pairs[0].schema
    emp = s.table("EMP")
    assert emp.primary_key == ["EMPNO"]
    assert [(f.columns, f.ref_table) for f in emp.foreign_keys] == [(["DEPTNO"], "DEPT")]
    assert emp.column("DEPTNO").type == "INTEGER"  # 'int' in the file
    assert emp.column("COMM").not_null and not emp.column("MGR").not_null
    assert not s.table("EMPNULLABLES").column("ENAME").not_null
    # the schema materializes on both engines
    duckdb.connect().execute(s.ddl("duckdb"))
    con = sqlite3.connect(":memory:")
    con.executescript(s.ddl("sqlite"))
    assert {r[0] for r in con.execute("SELECT name FROM sqlite_master")} >= {"EMP", "DEPT"}


def test_bad_rows_do_not_crash(tmp_path: Path) -> None:
    pairs_file = tmp_path / "mini.jsonl"
    rows = [
        {"index": 0, "benchmark": "b", "name": "ok", "schema": {"T": {"A": "INT"}},
         "constraint": None, "pair": ["SELECT A FROM T", "SELECT A FROM T"]},
        {"index": 1, "benchmark": "b", "schema": {"T": {"A": "INT"}},
         "constraint": [{"between": [{"value": "T__A"}, 1, 3]}],
         "pair": ["SELECT A FROM T", "SELECT 1"]},
        {"index": 2, "benchmark": "b", "schema": None, "constraint": None,
         "pair": ["SELECT 1", "SELECT 2"], "has-symbolic-predicates": True},
    ]
    pairs_file.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    pairs = load_pairs(pairs_file)
    assert [p.schema is not None for p in pairs] == [True, False, False]
    assert "between" in pairs[1].schema_error and pairs[2].schema_error
    assert pairs[1].name == "mini-1" and pairs[2].symbolic_predicates

    rec_file = tmp_path / "mini.verieql_results.jsonl"
    rec_file.write_text(
        json.dumps({"index": 0, "states": None, "times": None, "err": None}) + "\n"
        + json.dumps({"index": 1, "states": ["EQU", "NIE"], "times": [[0.1, 0.2], None],
                      "err": {"upper": "X"}}) + "\n"
    )
    rec = load_recorded(rec_file)
    assert rec[0].states == [] and rec[0].verified_k == 0 and not rec[0].refuted
    assert rec[1].verified_k == 1 and rec[1].error_kind == "NIE" and rec[1].err == "{'upper': 'X'}"
