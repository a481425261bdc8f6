"""The agent's tools: output policy, schema/value tools, read-only SQL, argument validation."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

from agent.tools import OutputPolicy, ToolBox, format_table, tool_specs


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "shop.sqlite"
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT);
        CREATE TABLE orders (oid INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customer(id), amount REAL);
    """)
    cities = ["Paris", "Berlin", "Paris", "Rome", None]
    con.executemany("INSERT INTO customer VALUES (?, ?, ?)",
                    [(i, f"Customer {i}", cities[i % 5]) for i in range(1, 41)])
    con.executemany("INSERT INTO orders VALUES (?, ?, ?)", [(i, 1 + i % 40, i * 1.5) for i in range(1, 101)])
    con.commit()
    con.close()
    return path


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_output_policy_marks_truncation():
    t = format_table(["a"], [[i] for i in range(10)], OutputPolicy(max_rows=3))
    assert t.splitlines()[-1] == "[truncated 7 rows: showing 3 of 10]"
    assert "truncated" not in format_table(["a"], [[1]], OutputPolicy())
    long_cell = format_table(["a"], [["x" * 500]], OutputPolicy(max_cell_chars=20))
    assert max(len(line) for line in long_cell.splitlines()) == 20


def test_run_sql_caps_rows_and_characters_and_keeps_results(db):
    box = ToolBox(db, policy=OutputPolicy(max_rows=5, max_chars=200))
    r = box.call("run_sql", {"sql": "SELECT oid, amount FROM orders ORDER BY oid"})
    assert r.ok and r.result_id == "r1"
    assert "[truncated 95 rows: showing 5 of 100]" in r.text
    assert box.results["r1"].total_rows == 100 and len(box.results["r1"].rows) == 100
    box.policy = OutputPolicy(max_rows=5, max_chars=200, max_cell_chars=1000)
    wide = box.call("run_sql", {"sql": "SELECT group_concat(name, ',') FROM customer"})
    assert wide.ok and "[truncated" in wide.text and "characters]" in wide.text
    assert len(wide.text) < 260


def test_list_and_describe(db):
    box = ToolBox(db)
    lt = box.call("list_tables", "{}").text
    assert "customer | 40 | id, name, city" in lt and "orders | 100" in lt
    d = box.call("describe_table", {"table": "ORDERS"}).text  # case-insensitive name
    assert "table orders: 100 rows" in d
    assert "customer_id -> customer.id" in d
    assert "oid | INTEGER | PK1" in d
    dc = box.call("describe_table", {"table": "customer"}).text
    assert "referenced by: orders.customer_id" in dc and "NOT NULL" in dc and "Customer 1" in dc
    bad = box.call("describe_table", {"table": "custmer"})
    assert not bad.ok and "did you mean customer" in bad.text


def test_distinct_values_with_counts(db):
    box = ToolBox(db)
    r = box.call("distinct_values", {"table": "customer", "column": "CITY", "limit": 2})
    lines = r.text.splitlines()
    assert lines[0] == "customer.city: 4 distinct values"
    assert lines[2] == "Paris | 16"
    assert lines[-1] == "[truncated 2 rows: showing 2 of 4]"
    assert "no column" in box.call("distinct_values", {"table": "customer", "column": "zip"}).text


def test_search_values_case_insensitive_and_fuzzy(db):
    box = ToolBox(db)
    exact = box.call("search_values", {"text": "paris"}).text
    assert "customer | city | Paris | exact" in exact
    fuzzy = box.call("search_values", {"text": "Berlinn"}).text
    assert "customer | city | Berlin | fuzzy" in fuzzy
    contains = box.call("search_values", {"text": "tomer 3", "fuzzy": False}).text
    assert "Customer 3 | contains" in contains and "fuzzy" not in contains
    assert "no stored value" in box.call("search_values", {"text": "zzzzqqq"}).text


@pytest.mark.parametrize("sql", [
    "DROP TABLE customer",
    "DELETE FROM customer",
    "UPDATE customer SET name = 'x'",
    "INSERT INTO customer VALUES (99, 'x', 'y')",
    "CREATE TABLE t2 (a)",
    "ATTACH DATABASE ':memory:' AS other",
    "PRAGMA journal_mode = WAL",
    "PRAGMA user_version = 7",
    "CREATE TEMP TABLE t3 AS SELECT 1",
    "SELECT 1; DROP TABLE customer",
    "VACUUM",
])
def test_sql_tool_refuses_changes_and_leaves_the_file_identical(db, sql):
    before = digest(db)
    box = ToolBox(db)
    r = box.call("run_sql", {"sql": sql})
    assert not r.ok and r.text.startswith("error:")
    assert digest(db) == before
    assert box.call("run_sql", {"sql": "SELECT COUNT(*) FROM customer"}).text.splitlines()[-1] == "40"


def test_read_only_pragmas_are_allowed(db):
    r = ToolBox(db).call("run_sql", {"sql": "PRAGMA table_info(customer)"})
    assert r.ok and "city" in r.text


def test_sql_time_limit(db):
    box = ToolBox(db, sql_timeout=0.3)
    r = box.call("run_sql", {"sql": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                                    "SELECT MAX(x) FROM c"})
    assert not r.ok and "time limit of 0.3 s" in r.text and r.seconds < 5


def test_malformed_and_invalid_arguments_become_tool_errors(db):
    box = ToolBox(db)
    assert box.call("run_sql", "{not json").text.startswith("error: invalid arguments for run_sql")
    assert "sql: Field required" in box.call("run_sql", "{}").text
    assert "arguments must be a JSON object" in box.call("run_sql", "[1]").text
    assert "limit" in box.call("distinct_values", {"table": "customer", "column": "city", "limit": 0}).text
    unknown = box.call("drop_everything", "{}")
    assert not unknown.ok and "unknown tool 'drop_everything'" in unknown.text and "run_sql" in unknown.text
    assert "sqlite: no such table" in box.call("run_sql", {"sql": "SELECT * FROM nope"}).text


def test_tool_specs_are_openai_functions():
    specs = tool_specs()
    names = [s["function"]["name"] for s in specs]
    assert names == ["list_tables", "describe_table", "distinct_values", "search_values", "run_sql",
                     "run_python", "check_queries"]
    run_sql = next(s for s in specs if s["function"]["name"] == "run_sql")["function"]
    assert run_sql["parameters"]["required"] == ["sql"] and run_sql["description"]
    json.dumps(specs)


def test_check_queries_uses_the_verifier(db):
    box = ToolBox(db, verify_timeout=10)
    eq = box.call("check_queries", {"sql_a": "SELECT name FROM customer WHERE id > 3",
                                    "sql_b": "SELECT name FROM customer WHERE 3 < id"})
    assert eq.ok and eq.text.startswith("verdict: equivalent")
    ne = box.call("check_queries", {"sql_a": "SELECT COUNT(*) FROM customer",
                                    "sql_b": "SELECT COUNT(city) FROM customer"})
    assert ne.text.startswith("verdict: not_equivalent") and "counterexample database" in ne.text


@pytest.mark.parametrize("sql, refused", [
    ("DROP TABLE customer", "DROP TABLE"),
    ("CREATE VIEW v AS SELECT 1", "CREATE VIEW"),
    ("CREATE INDEX i ON customer(city)", "CREATE INDEX"),
    ("/* hi */ CREATE TEMP VIEW v AS SELECT 1", "CREATE TEMP VIEW"),
    ("ALTER TABLE customer ADD COLUMN zip TEXT", "ALTER TABLE"),
    ("ANALYZE", "ANALYZE"),
    ("DELETE FROM customer", "DELETE"),
    ("UPDATE customer SET name = 'x'", "UPDATE"),
    ("INSERT INTO customer VALUES (99, 'x', 'y')", "INSERT"),
    ("ATTACH DATABASE ':memory:' AS other", "ATTACH"),
    ("PRAGMA user_version = 7", "PRAGMA user_version"),
    ("SELECT * FROM pragma_user_version", "PRAGMA user_version"),
])
def test_refusals_name_the_statement_refused(db, sql, refused):
    before = digest(db)
    r = ToolBox(db).call("run_sql", {"sql": sql})
    assert r.text.startswith(f"error: not allowed: {refused} (")
    assert digest(db) == before


@pytest.mark.parametrize("sql", [
    "SELECT * FROM pragma_table_info('customer')",
    "SELECT name FROM pragma_table_list WHERE name = 'orders'",
    "SELECT * FROM pragma_foreign_key_list('orders')",
])
def test_read_only_pragma_functions_are_allowed(db, sql):
    r = ToolBox(db).call("run_sql", {"sql": sql})
    assert r.ok and ("city" in r.text or "orders" in r.text or "customer" in r.text), r.text


@pytest.mark.parametrize("sql", [
    "SELECT zeroblob(500000000)",
    "SELECT randomblob(300000000)",
    "SELECT length(replace(hex(zeroblob(4000000)), '0', 'xxxxxxxxxxxxxxx'))",
    "WITH RECURSIVE c(s) AS (SELECT 'x' UNION ALL SELECT s || s FROM c) SELECT length(s) FROM c",
])
def test_huge_cells_are_refused(db, sql):
    r = ToolBox(db, sql_timeout=60).call("run_sql", {"sql": sql})
    assert not r.ok and "string or blob too big" in r.text and "8 MB" in r.text


def test_printf_of_a_huge_width_is_cut_to_null(db):
    box = ToolBox(db, sql_timeout=60)
    r = box.call("run_sql", {"sql": "SELECT printf('%.*c', 400000000, 'x') AS s"})
    assert r.ok and box.results[r.result_id].rows == [[None]]


def test_kept_rows_are_bounded_by_bytes(db):
    box = ToolBox(db, sql_timeout=120)
    r = box.call("run_sql", {"sql": "SELECT oid, zeroblob(7000000) AS z FROM orders"})
    kept = box.results[r.result_id]
    assert r.ok and kept.total_rows == 100
    assert 0 < len(kept.rows) < 10 and not kept.complete
    assert f"showing {min(30, len(kept.rows))} of 100" in r.text
