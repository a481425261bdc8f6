"""`verify bench sqlsolver` and the differential re-check of every-size proofs (`verify.recheck`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from benchmarks.sqlsolver import blocker_counts, load_suite, pair_features, run, run_suite, summary
from sqlwitness_cli import app
from verify.recheck import recheck
from verify.schema_io import schema_from_ddl

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sqlsolver"
DDL = 'CREATE TABLE "emp" ("empno" INT PRIMARY KEY NOT NULL, "deptno" INT, "sal" INT NOT NULL);\n'
PAIRS = [
    # the same filter written two ways: proved for every size
    ("SELECT empno FROM emp WHERE sal > 10", "SELECT e.empno FROM emp AS e WHERE NOT e.sal <= 10"),
    # COUNT(*) counts rows with a NULL deptno, COUNT(deptno) does not: refuted
    ("SELECT COUNT(*) FROM emp", "SELECT COUNT(deptno) FROM emp"),
    # DuckDB's ASOF JOIN: not modelled
    ("SELECT emp.empno FROM emp ASOF JOIN emp AS e2 ON emp.sal >= e2.sal",
     "SELECT x.empno FROM emp AS x ASOF JOIN emp AS e2 ON x.sal >= e2.sal"),
]


def _suite(tmp_path: Path, suite: str = "calcite", pairs: list[tuple[str, str]] = PAIRS) -> Path:
    """`tmp_path` holding the suite file `<suite>.jsonl` of `pairs` over the tiny schema."""
    (tmp_path / "tiny.schema.sql").write_text(DDL)
    lines = [json.dumps({"id": i, "suite": suite, "schema": "tiny.schema.sql", "q1": a, "q2": b})
             for i, (a, b) in enumerate(pairs)]
    (tmp_path / f"{suite}.jsonl").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_a_suite_is_run_and_summarised_by_outcome_and_blocker(tmp_path):
    data = _suite(tmp_path)
    out = tmp_path / "out.jsonl"
    results = run_suite(data, "calcite", bound=3, timeout=30, workers=1, limit=None, recheck_n=15,
                        console=Console(file=open("/dev/null", "w")), out_file=out)
    by_id = {r.id: r for r in results}
    assert by_id[0].verdict == "equivalent" and by_id[0].every_size and by_id[0].blocker is None
    assert by_id[0].recheck_databases == 15 and by_id[0].recheck_differences == 0
    assert by_id[1].verdict == "not_equivalent" and not by_id[1].every_size
    assert by_id[1].blocker.startswith("not_equivalent: q1 only") and by_id[1].recheck_databases is None
    assert by_id[2].verdict == "unsupported" and "ASOF JOIN" in by_id[2].blocker
    s = summary(results)
    assert s["pairs"] == 3 and s["proved for every size"].startswith("1 ")
    assert s["refuted (confirmed)"] == 1 and s["unsupported"] == 1
    assert s["re-check differences (wrong proofs)"] == 0
    assert sum(blocker_counts(results).values()) == 2
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["id"] for r in written) == [0, 1, 2]


def test_bad_suite_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="calcite.jsonl"):
        load_suite(tmp_path, "calcite")
    (tmp_path / "calcite.jsonl").write_text('{"id": 0, "q1": "SELECT 1"}\n')
    with pytest.raises(ValueError, match="calcite.jsonl:1: not a pair record"):
        load_suite(tmp_path, "calcite")
    (tmp_path / "calcite.jsonl").write_text(json.dumps({"id": 0, "schema": "gone.sql", "q1": "x", "q2": "y"}))
    with pytest.raises(FileNotFoundError, match="gone.sql"):
        load_suite(tmp_path, "calcite")


def test_cli_rejects_unknown_suites_and_bad_recheck_counts(tmp_path):  # verify bench verieql's too
    runner = CliRunner()
    r = runner.invoke(app, ["bench", "sqlsolver", "--suite", "spark", "--data", str(tmp_path)])
    assert r.exit_code != 0 and "unknown suite 'spark'" in r.output
    r = runner.invoke(app, ["bench", "sqlsolver", "--recheck", "-1", "--data", str(tmp_path)])
    assert r.exit_code != 0 and "--recheck" in r.output
    r = runner.invoke(app, ["bench", "sqlsolver", "--data", str(tmp_path / "nowhere")])
    assert r.exit_code != 0 and "no such folder" in r.output
    r = runner.invoke(app, ["bench", "verieql", "--recheck", "100001", "--data", str(tmp_path)])
    assert r.exit_code != 0 and "--recheck must be between 0 and 100000" in r.output
    r = runner.invoke(app, ["bench", "sqlsolver", "--assume", "ties", "--data", str(tmp_path)])
    assert r.exit_code != 0 and "unknown assumption 'ties'" in r.output


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/sqlsolver not present")
def test_the_shared_suites_load_with_their_schemas():
    calcite, schemas = load_suite(SHARED, "calcite")
    tpch, tpch_schemas = load_suite(SHARED, "tpch")
    assert len(calcite) == 232 and len(tpch) == 22
    assert schemas["calcite_test.base.schema.sql"].table("emp").primary_key == ["empno"]
    assert tpch_schemas["tpch.base.schema.sql"].table("lineitem").primary_key == ["l_orderkey", "l_linenumber"]


def test_pair_features_name_what_the_bounded_search_had_to_decide():
    feats = pair_features("SELECT d, COUNT(*) FROM t LEFT JOIN u ON t.a = u.a GROUP BY d",
                          "SELECT d, COUNT(*) FROM t WHERE EXISTS (SELECT 1 FROM u) GROUP BY d")
    assert feats[:3] == ["outer join", "EXISTS/IN subquery", "aggregate"]
    assert pair_features("SELECT a FROM t", "SELECT a FROM t AS x") == ["select-project"]


SCHEMA = schema_from_ddl("CREATE TABLE t (a INTEGER, b INTEGER);")


def test_recheck_runs_the_databases_asked_for_all_larger_than_the_bound():
    r = recheck("SELECT a FROM t WHERE a > 1", "SELECT a FROM t WHERE NOT a <= 1", SCHEMA, databases=25,
                min_rows=6, max_rows=9)
    assert (r.databases, r.differences, r.order_dependent) == (25, 0, 0)
    assert 6 <= r.largest <= 9


def test_recheck_finds_a_difference_and_keeps_the_database():
    r = recheck("SELECT a FROM t", "SELECT DISTINCT a FROM t", SCHEMA, databases=30)
    assert r.differences > 0 and r.first_difference is not None
    rows = r.first_difference["t"]
    assert len(rows) != len({row[0] for row in rows})  # a repeated value is what tells them apart


def test_recheck_counts_differences_another_row_order_removes_apart():
    # the first row scanned is a choice the engine leaves open: with two rows, the other order of
    # them makes LIMIT 1 pick the row MIN picks whenever the first order does not
    r = recheck("SELECT a FROM t LIMIT 1", "SELECT MIN(a) FROM t", SCHEMA, databases=30, min_rows=2, max_rows=2)
    assert r.order_dependent > 0 and r.differences == 0


def test_recheck_rejects_a_row_range_that_is_empty():
    with pytest.raises(ValueError, match="min_rows"):
        recheck("SELECT a FROM t", "SELECT a FROM t", SCHEMA, min_rows=5, max_rows=3)


def test_a_recheck_draws_large_tables_even_where_a_key_is_compared_with_a_literal():
    """VeriEQL Calcite #11 (`WHERE ... EMPNO = 10 ... AND EMPNO = 10`, proved for every size at
    its bound 65): the random pass draws a compared literal about half the time, and from such
    pools the key column left too few distinct values for tables of 66 rows, so the proof was
    re-checked on no database at all. The re-check draws each value of a pool once."""
    schema = schema_from_ddl("CREATE TABLE emp (empno INTEGER PRIMARY KEY, deptno INTEGER, mgr INTEGER);")
    gold = "SELECT * FROM emp WHERE deptno = 7 AND empno = 10 AND mgr IS NULL AND empno = 10"
    gen = "SELECT * FROM emp WHERE deptno = 7 AND empno = 10 AND mgr IS NULL"
    r = recheck(gold, gen, schema, dialect="duckdb", semantics="bag", databases=30, min_rows=66, max_rows=67)
    assert r.databases == 30 and r.differences == 0 and r.largest >= 66


TIES_PAIRS = [
    # sal repeats: the inputs of the same ORDER BY ... LIMIT are proved equal for every size, yet
    # which of two tied rows DuckDB keeps is its plan's choice (SQLSolver counts such pairs proved)
    ("SELECT empno FROM emp ORDER BY sal LIMIT 1",
     "SELECT e.empno FROM emp AS e WHERE e.sal = e.sal ORDER BY e.sal LIMIT 1"),
    # a near miss: the inputs differ (a NULL deptno), so no assumption about ties proves it
    ("SELECT empno FROM emp ORDER BY sal LIMIT 1",
     "SELECT empno FROM emp WHERE deptno = deptno ORDER BY sal LIMIT 1"),
]


def _ties_suite(tmp_path: Path) -> Path:
    return _suite(tmp_path, "tpch", TIES_PAIRS)


def test_a_pair_left_only_with_ties_under_limit_names_them_as_its_blocker(tmp_path):
    out, near = run_suite(_ties_suite(tmp_path), "tpch", bound=2, timeout=60, workers=1, limit=None, recheck_n=0,
                          console=Console(file=open("/dev/null", "w")))
    assert not out.every_size and "ties_alike" not in out.assumptions
    assert out.blocker.startswith("ORDER BY ... LIMIT over rows that may tie: the inputs are proved")
    assert not near.every_size and not near.blocker.startswith("ORDER BY ... LIMIT over rows that may tie")


def test_assume_ties_alike_proves_such_a_pair_and_is_counted_apart(tmp_path):
    out, near = run_suite(_ties_suite(tmp_path), "tpch", bound=2, timeout=60, workers=1, limit=None, recheck_n=5,
                          console=Console(file=open("/dev/null", "w")), assume=("ties_alike",))
    assert out.every_size and out.blocker is None and out.assumptions == ["ties_alike"]
    assert out.recheck_databases == 5 and out.recheck_differences == 0  # DuckDB may break ties apart: counted apart
    assert near.verdict == "not_equivalent" and not near.every_size
    row = summary([out, near], ("ties_alike",))
    assert row["proved for every size"].startswith("1 ") and row["  of which using --assume ties_alike"] == 1
    kept = tmp_path / "kept.jsonl"
    kept.write_text("earlier records\n")
    with pytest.raises(ValueError, match="unknown assumption 'ties'"):
        run(tmp_path, ["tpch"], bound=2, timeout=60, workers=1, limit=None, recheck_n=0, out=kept,
            console=Console(file=open("/dev/null", "w")), assume=("ties",))
    assert kept.read_text() == "earlier records\n"  # refused before the --out file is emptied


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/sqlsolver not present")
def test_a_six_table_block_multiplying_two_columns_is_proved_with_few_resource_units(monkeypatch):
    """TPC-H's Q7 pair compares six-table blocks whose output multiplies two columns
    (`l_extendedprice * (1 - l_discount)`). Z3's default solver sends such a check to its
    nonlinear engine (about 5 million resource units each); the proof solver
    (`verify.values.PROOF_TACTICS`) first eliminates the variables equations define, and the
    same check is `unsat` in a few thousand. Resource units are counted work: the same on
    every machine."""
    import z3

    import verify.rowwise as rowwise
    from verify.check import check_pair
    from verify.values import Meter, check_within, plain_solver

    asked = []

    def recording(solver, *args, **kw):
        asked.append(solver)
        return check_within(solver, *args, **kw)

    monkeypatch.setattr(rowwise, "check_within", recording)
    tpch, schemas = load_suite(SHARED, "tpch")
    pair = next(p for p in tpch if p.id == 7)
    v = check_pair(pair.q1, pair.q2, schema=schemas[pair.schema_file], bound=4, dialect="duckdb")
    assert v.verdict.value == "equivalent" and v.complete, v.reason
    assert v.stats.rlimit < 500_000, v.stats.rlimit
    block = max(asked, key=lambda s: len(s.assertions()))
    fast = check_within(block, rlimit=8_000_000, meter=Meter())
    slow = check_within(block, rlimit=8_000_000, meter=Meter(), make=plain_solver)
    assert fast.status == z3.unsat and fast.spent < 100_000, fast
    assert slow.status == z3.unsat and slow.spent > 20 * fast.spent, (slow.spent, fast.spent)


def test_blockers_say_what_a_refutation_or_a_nondeterminism_witness_shows():
    from benchmarks.sqlsolver import blocker
    from verify.verdict import Counterexample, TableData, Verdict, VerdictKind

    same = TableData(columns=["a"], rows=[[1], [2]])
    reordered = Counterexample(tables={}, gold_result=same, gen_result=TableData(columns=["a"], rows=[[2], [1]]),
                               found_by="random")
    assert blocker(Verdict(verdict=VerdictKind.NOT_EQUIVALENT, counterexample=reordered), "", "") == \
        "not_equivalent: the same rows in another order"
    witness = Verdict(verdict=VerdictKind.NONDETERMINISTIC, counterexample=reordered.model_copy(update={"order_dependent": True}))
    assert blocker(witness, "", "").startswith("nondeterministic: only a choice the engine leaves open")
