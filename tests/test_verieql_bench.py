"""The VeriEQL benchmark runner: input adaptation, re-running VeriEQL's own counterexamples,
and a short run on the real benchmark files."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.verieql_run import (
    adapt_schema,
    adapt_sql,
    confirm_verieql_counterexample,
    run_suite,
    summary_rows,
)
from verify.schema import Affinity
from verify.schema_io import schema_from_verieql

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "verieql"


def test_dollar_identifiers_are_quoted_outside_strings():
    sql = "SELECT t.$f0, EXPR$1 FROM (SELECT 1 AS $f0) AS t WHERE x = 'a$b'"
    assert adapt_sql(sql) == "SELECT t.\"$f0\", \"EXPR$1\" FROM (SELECT 1 AS \"$f0\") AS t WHERE x = 'a$b'"


def test_columns_compared_with_strings_become_text_and_the_type_spreads_through_joins():
    schema = schema_from_verieql({"D": {"NAME": "INT", "P": "INT"}, "E": {"DEPT": "INT", "AGE": "INT"}}, None)
    fixed = adapt_schema(schema, ["SELECT * FROM D, E WHERE D.NAME = 'X' AND D.NAME = E.DEPT"])
    assert fixed.table("D").column("NAME").affinity == Affinity.TEXT
    assert fixed.table("E").column("DEPT").affinity == Affinity.TEXT
    assert fixed.table("E").column("AGE").affinity == Affinity.INTEGER


def test_verieql_counterexamples_are_rerun_on_duckdb():
    script = "CREATE TABLE T (A INTEGER);\nINSERT INTO T VALUES (NULL);\nSELECT A FROM T;"
    assert confirm_verieql_counterexample(script, "SELECT COUNT(*) FROM T", "SELECT COUNT(A) FROM T") is True
    assert confirm_verieql_counterexample(script, "SELECT A FROM T", "SELECT A FROM T WHERE TRUE") is False
    assert confirm_verieql_counterexample(script, "SELECT nope FROM T", "SELECT A FROM T") is None
    assert confirm_verieql_counterexample(None, "SELECT 1", "SELECT 1") is None


@pytest.mark.skipif(not DATA.is_dir(), reason="shared VeriEQL data not available")
def test_first_literature_pairs_match_verieql():
    outcomes = run_suite(DATA, "literature", bound=2, timeout=20, workers=1, limit=3)
    assert [o.index for o in outcomes] == [0, 1, 2]
    by_index = {o.index: o for o in outcomes}
    # pair 1 is refuted by VeriEQL with a counterexample that DuckDB confirms; so do we
    assert by_index[1].verieql_refuted and by_index[1].verieql_cex_confirmed
    assert by_index[1].verdict == "not_equivalent"
    # pairs 0 and 2 are verified by VeriEQL; we must not refute them
    assert by_index[0].verdict == "equivalent" and by_index[2].verdict == "equivalent"
    summary = summary_rows(outcomes)
    assert summary["pairs"] == 3 and summary["unconfirmed models"] == 0


@pytest.mark.skipif(not DATA.is_dir(), reason="shared VeriEQL data not available")
def test_every_size_proofs_are_rechecked_on_larger_databases():
    # Calcite's first two pairs are proved for every size (identical after normalization, and
    # by row-wise reasoning): each re-runs on 10 random DuckDB databases of 5 to 10 rows per table
    outcomes = run_suite(DATA, "calcite", bound=2, timeout=30, workers=1, limit=2, recheck_n=10)
    assert [o.complete for o in outcomes] == [True, True]
    assert [(o.recheck_databases, o.recheck_differences) for o in outcomes] == [(10, 0), (10, 0)]
    summary = summary_rows(outcomes)
    assert summary["re-checked proofs (databases)"] == "2 (20)"
    assert summary["re-check differences (wrong proofs)"] == 0
    # without --recheck nothing is re-run and the summary has no re-check rows
    plain = run_suite(DATA, "calcite", bound=2, timeout=30, workers=1, limit=1)
    assert plain[0].recheck_databases is None and "re-check differences (wrong proofs)" not in summary_rows(plain)


def test_calcite_reading_verifies_pairs_duckdb_rejects(tmp_path):
    """VeriEQL's Calcite pairs are Calcite's printed SQL: SINGLE_VALUE and COUNT of several
    arguments are no DuckDB functions (a malformed pair), and `--calcite` reads them as what
    they mean (`verify.calcite`)."""
    import json

    schema = {"EMP": {"EMPNO": "INT", "DEPTNO": "INT", "JOB": "VARCHAR"}}
    pairs = [["SELECT SINGLE_VALUE(EMP.DEPTNO) AS $f0 FROM EMP WHERE EMP.EMPNO = 1",
              "SELECT (SELECT EMP0.DEPTNO FROM EMP AS EMP0 WHERE EMP0.EMPNO = 1) AS $f0"],
             ["SELECT COUNT(DEPTNO, JOB) FROM EMP", "SELECT COUNT(*) FROM EMP WHERE DEPTNO IS NOT NULL AND JOB IS NOT NULL"]]
    (tmp_path / "calcite.jsonl").write_text("".join(
        json.dumps({"benchmark": "mine", "index": i, "schema": schema, "constraint": [], "pair": p}) + "\n"
        for i, p in enumerate(pairs, 1)))
    (tmp_path / "calcite.verieql_results.jsonl").write_text("".join(
        json.dumps({"index": i, "pair": p, "states": ["EQU"], "times": [[0.1, None]]}) + "\n"
        for i, p in enumerate(pairs, 1)))
    as_duckdb = run_suite(tmp_path, "calcite", bound=2, timeout=30, workers=1)
    assert [o.verdict for o in as_duckdb] == ["error", "error"]
    assert "single_value" in as_duckdb[0].engine_rejects.lower() and "count" in as_duckdb[1].engine_rejects.lower()
    as_calcite = run_suite(tmp_path, "calcite", bound=2, timeout=30, workers=1, calcite=True, recheck_n=5)
    assert [(o.verdict, o.engine_rejects) for o in as_calcite] == [("equivalent", None)] * 2
    assert as_calcite[0].complete and as_calcite[0].recheck_differences == 0
