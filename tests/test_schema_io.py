"""Tests for verify.schema_io: DDL, SQLite files, Spider/BIRD tables.json, VeriEQL JSON."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from verify.schema import Affinity, Schema, SchemaError
from verify.schema_io import (
    load_schema,
    schema_from_ddl,
    schema_from_spider_tables,
    schema_from_sqlite,
    schema_from_verieql,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SPIDER = DATA / "spider"
BIRD = DATA / "bird"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


def fks(schema: Schema, table: str) -> list[tuple[list[str], str, list[str]]]:
    return [(f.columns, f.ref_table, f.ref_columns) for f in schema.table(table).foreign_keys]


DDL = """
-- a comment; with a semicolon
CREATE TABLE dept (
    id INTEGER PRIMARY KEY,
    name VARCHAR(30) NOT NULL UNIQUE,
    budget REAL
);
CREATE TABLE emp (
    eid INT,
    dept_id INT REFERENCES dept(id),
    email TEXT,
    hired DATE NOT NULL,
    PRIMARY KEY (dept_id, eid),
    UNIQUE (email)
);
CREATE TABLE assignment (
    eid INT NOT NULL,
    dept_id INT NOT NULL,
    note TEXT,
    FOREIGN KEY (dept_id, eid) REFERENCES emp (dept_id, eid),
    FOREIGN KEY (note) REFERENCES dept (name),
    FOREIGN KEY (note) REFERENCES dept (budget)
);
INSERT INTO dept VALUES (1, 'a;b', 2.5);
"""


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb"])
def test_ddl_constraints(dialect: str) -> None:
    s = schema_from_ddl(DDL, dialect)
    assert [t.name for t in s.tables] == ["dept", "emp", "assignment"]
    emp = s.table("emp")
    assert emp.primary_key == ["dept_id", "eid"]  # declaration order of the key, not columns
    assert emp.unique == [["email"]]
    assert emp.column("hired").not_null and not emp.column("email").not_null
    assert fks(s, "emp") == [(["dept_id"], "dept", ["id"])]
    assert s.table("dept").unique == [["name"]]
    assert s.table("dept").column("name").affinity is Affinity.TEXT
    # composite FK kept; FK to a UNIQUE column kept; FK to a non-key column dropped
    assert fks(s, "assignment") == [
        (["dept_id", "eid"], "emp", ["dept_id", "eid"]),
        (["note"], "dept", ["name"]),
    ]
    assert s.table("assignment").column("eid").not_null
    s.validate_keys()


def test_ddl_dialect_differences() -> None:
    lite, duck = schema_from_ddl(DDL, "sqlite"), schema_from_ddl(DDL, "duckdb")
    # SQLite: DATE has NUMERIC affinity and a composite PRIMARY KEY allows NULL;
    # a rowid alias (INTEGER PRIMARY KEY) never stores NULL
    assert lite.table("emp").column("hired").affinity is Affinity.NUMERIC
    assert not lite.table("emp").column("eid").not_null
    assert lite.table("dept").column("id").not_null
    # DuckDB: DATE is its own kind, PRIMARY KEY columns are NOT NULL
    assert duck.table("emp").column("hired").affinity is Affinity.DATE
    assert duck.table("emp").column("eid").not_null
    assert lite.table("emp").column("hired").type == "DATE"


def test_ddl_unique_index_and_implicit_parent_key() -> None:
    s = schema_from_ddl(
        "CREATE TABLE p (a INT, b INT, PRIMARY KEY (a, b));"
        "CREATE TABLE c (x INT, y INT, z TEXT, FOREIGN KEY (x, y) REFERENCES p);"
        "CREATE UNIQUE INDEX cz ON c (z);"
        "CREATE UNIQUE INDEX cexpr ON c (lower(z));"
        "CREATE VIEW v AS SELECT * FROM c;"
    )
    assert fks(s, "c") == [(["x", "y"], "p", ["a", "b"])]
    assert s.table("c").unique == [["z"]]
    assert not s.has_table("v")


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb"])
@pytest.mark.parametrize(
    "text, fragment",
    [
        ("CREAT TABLE t (a int);", "CREAT|Invalid expression"),
        ("CREATE TABLE t (a int", "incomplete input|Expecting"),
        ("CREATE TABLE t (a int); INSERT INTO t VALUES (1,;", "syntax error|Expecting"),
        ("CREATE TABLE t (a int, PRIMARY KEY (b));", "b"),
        ("INSERT INTO t VALUES (1);", "no tables"),
    ],
)
def test_ddl_errors(text: str, fragment: str, dialect: str) -> None:
    with pytest.raises(SchemaError, match=fragment):
        schema_from_ddl(text, dialect)


def test_ddl_round_trip_through_schema_ddl() -> None:
    s = schema_from_ddl(DDL)
    again = schema_from_ddl(s.ddl("sqlite"))
    for t in s.tables:
        u = again.table(t.name)
        assert u.primary_key == t.primary_key
        assert u.unique == t.unique
        assert u.foreign_keys == t.foreign_keys
        assert [(c.name, c.affinity, c.not_null) for c in u.columns] == [
            (c.name, c.affinity, c.not_null) for c in t.columns
        ]


def make_db(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE owner (oid INTEGER PRIMARY KEY, name TEXT NOT NULL, code CHAR(3),
                            UNIQUE (code));
        CREATE TABLE pet (owner INT, seq INT, kind VARCHAR(10), weight REAL, born,
                          PRIMARY KEY (seq, owner),
                          FOREIGN KEY (owner) REFERENCES OWNER);
        INSERT INTO owner VALUES (1, 'ann', 'A'), (2, 'bob', 'B'), (3, 'cy', NULL);
        INSERT INTO pet VALUES (1, 1, 'dog', 3.5, x'00'), (1, 2, 'cat', NULL, NULL),
                               (2, 1, 'dog', 3.5, NULL), (3, 1, 'emu', 1.0, NULL),
                               (3, 2, 'cat', 2.0, NULL), (3, 3, 'dog', 2.0, NULL);
        """
    )
    con.commit()
    con.close()
    return path


def test_sqlite_file(tmp_path: Path) -> None:
    db = make_db(tmp_path / "pets.sqlite")
    before = db.read_bytes()
    s = schema_from_sqlite(db, sample_size=2)
    assert db.read_bytes() == before
    assert s.source.endswith("pets.sqlite")
    owner, pet = s.table("owner"), s.table("pet")
    assert owner.primary_key == ["oid"] and owner.column("oid").not_null  # rowid alias
    assert owner.column("name").not_null and not owner.column("code").not_null
    assert owner.unique == [["code"]]
    assert pet.primary_key == ["seq", "owner"]
    assert not pet.column("seq").not_null  # SQLite: PRIMARY KEY allows NULL
    # parent columns omitted → the parent's primary key; table name as declared
    assert fks(s, "pet") == [(["owner"], "owner", ["oid"])]
    assert [c.affinity for c in pet.columns] == [
        Affinity.INTEGER,
        Affinity.INTEGER,
        Affinity.TEXT,
        Affinity.REAL,
        Affinity.BLOB,
    ]
    # samples: most frequent first, ties by value; no NULLs or BLOBs; at most sample_size
    assert s.sample_values("pet", "kind") == ["dog", "cat"]
    assert s.sample_values("PET", "weight") == [2.0, 3.5]
    assert s.sample_values("owner", "code") == ["A", "B"]
    assert s.sample_values("pet", "born") == []
    assert schema_from_sqlite(db, sample_size=0).samples == {}


def test_sqlite_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.sqlite"
    with pytest.raises(SchemaError, match="nope.sqlite"):
        schema_from_sqlite(missing)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(SchemaError, match="junk.sqlite"):
        schema_from_sqlite(junk)


def test_spider_sqlite_databases() -> None:
    dbs = sorted(need(SPIDER / "database").glob("*/*.sqlite"))
    assert len(dbs) == 19
    loaded = {}
    for db in dbs:
        s = schema_from_sqlite(db, sample_size=3)
        s.validate_keys()
        assert s.tables, db
        loaded[db.stem] = s
    cs = loaded["concert_singer"]
    assert fks(cs, "concert") == [(["Stadium_ID"], "stadium", ["Stadium_ID"])]
    assert cs.table("singer_in_concert").primary_key == ["concert_ID", "Singer_ID"]
    assert cs.sample_values("singer", "Country")[0] == "France"  # 4 of 6 singers
    # references a UNIQUE (not primary key) column: kept
    assert (["Model"], "model_list", ["Model"]) in fks(loaded["car_1"], "car_names")
    # VOTES.state references a non-key column of AREA_CODE_STATE: dropped
    assert fks(loaded["voter_1"], "VOTES") == [
        (["contestant_number"], "CONTESTANTS", ["contestant_number"])
    ]


def test_spider_tables_json_concert_singer() -> None:
    s = schema_from_spider_tables(need(SPIDER / "tables.json"), "concert_singer")
    assert [t.name for t in s.tables] == ["stadium", "singer", "concert", "singer_in_concert"]
    singer = s.table("singer")
    assert [c.name for c in singer.columns][:3] == ["Singer_ID", "Name", "Country"]
    assert singer.column("Singer_ID").affinity is Affinity.NUMERIC  # 'number'
    assert singer.column("Name").affinity is Affinity.TEXT
    assert [t.primary_key for t in s.tables] == [
        ["Stadium_ID"],
        ["Singer_ID"],
        ["concert_ID"],
        ["concert_ID"],  # Spider's annotation (the database itself has (concert_ID, Singer_ID))
    ]
    assert fks(s, "concert") == [(["Stadium_ID"], "stadium", ["Stadium_ID"])]
    assert sorted(fks(s, "singer_in_concert")) == [
        (["Singer_ID"], "singer", ["Singer_ID"]),
        (["concert_ID"], "concert", ["concert_ID"]),
    ]
    s.validate_keys()


def test_spider_tables_json_all_and_unknown_db() -> None:
    path = need(SPIDER / "tables.json")
    dbs = json.loads(path.read_text())
    for d in dbs:
        schema_from_spider_tables(path, d["db_id"]).validate_keys()
    with pytest.raises(SchemaError, match="concert_singer"):
        schema_from_spider_tables(path, "concert_singr")


def test_bird_dev_tables_json() -> None:
    path = need(BIRD / "dev_tables.json")
    ids = [d["db_id"] for d in json.loads(path.read_text())]
    assert len(ids) == 11
    for db_id in ids:
        s = schema_from_spider_tables(path, db_id)
        s.validate_keys()
        assert s.tables
    s = schema_from_spider_tables(path, "thrombosis_prediction")
    assert s.table("Laboratory").primary_key == ["ID", "Date"]  # BIRD's list-form key
    assert s.table("Laboratory").column("Date").type == "date"
    assert s.table("Laboratory").column("ID").affinity is Affinity.INTEGER
    assert (["ID"], "Patient", ["ID"]) in fks(s, "Laboratory")


def test_verieql_shapes() -> None:
    schema = {"R": {"A": "INT", "B": "int", "C": None}, "S_T": {"X": "VARCHAR", "D": "DATE"}}
    cons = [
        {"primary": [{"value": "R__A"}, {"value": "R__B"}]},
        {"not_null": {"value": "S_T__D"}},
        {"not_null": [{"value": "s_t__x"}]},
    ]
    s = schema_from_verieql(schema, cons)
    assert s.table("R").primary_key == ["A", "B"]
    assert [c.type for c in s.table("R").columns] == ["INTEGER"] * 3
    assert s.table("R").column("A").not_null  # PRIMARY KEY implies NOT NULL (DuckDB)
    assert not schema_from_verieql(schema, cons, "sqlite").table("R").column("A").not_null
    assert s.table("S_T").column("D").affinity is Affinity.DATE
    assert s.table("S_T").column("X").not_null and s.table("S_T").column("D").not_null
    assert schema_from_verieql(schema, None).table("R").primary_key == []

    fk = [{"primary": [{"value": "S_T__X"}]}, {"foreign": [{"value": "R__C"}, {"value": "S_T__X"}]}]
    assert fks(schema_from_verieql(schema, fk), "R") == [(["C"], "S_T", ["X"])]


@pytest.mark.parametrize(
    "cons, fragment",
    [
        ([{"between": [{"value": "R__A"}, 1, 2]}], "between"),
        ([{"primary": [{"value": "R__Z"}]}], "R__Z"),
        ([{"foreign": [{"value": "R__A"}, {"value": "S__X"}]}], "primary key or UNIQUE"),
        ([{"foreign": [{"value": "R__A"}]}], "child, parent"),
        ([{"primary": [{"value": "R__A"}, {"value": "S__X"}]}], "spans"),
    ],
)
def test_verieql_errors(cons: list, fragment: str) -> None:
    with pytest.raises(SchemaError, match=fragment):
        schema_from_verieql({"R": {"A": "INT"}, "S": {"X": "INT"}}, cons)


def test_load_schema_dispatch(tmp_path: Path) -> None:
    assert load_schema() is None
    ddl_file = tmp_path / "s.sql"
    ddl_file.write_text("CREATE TABLE t (a INT PRIMARY KEY, b DATE);")
    assert load_schema(schema_sql=str(ddl_file)).table("t").primary_key == ["a"]
    duck = load_schema(schema_sql=str(ddl_file), dialect="duckdb")
    assert duck.table("t").column("b").affinity is Affinity.DATE
    assert load_schema(schema_sql="CREATE TABLE u (x TEXT)").has_table("u")
    with pytest.raises(SchemaError, match="not found"):
        load_schema(schema_sql=str(tmp_path / "missing.sql"))
    db = make_db(tmp_path / "pets.sqlite")
    assert load_schema(db=str(db)).has_table("pet")
    with pytest.raises(SchemaError, match="db_id"):
        load_schema(tables_json="tables.json")
    with pytest.raises(SchemaError, match="tables_json"):
        load_schema(db_id="concert_singer")
    with pytest.raises(SchemaError):
        load_schema(db=str(db), schema_sql=str(ddl_file))
    with pytest.raises(SchemaError, match="dialect"):
        load_schema(schema_sql=str(ddl_file), dialect="oracle")
    tables = SPIDER / "tables.json"
    if tables.exists():
        both = load_schema(db=str(db), tables_json=str(tables), db_id="concert_singer")
        assert both.has_table("pet")  # db preferred over tables_json
        spider = load_schema(tables_json=str(tables), db_id="concert_singer")
        assert spider.has_table("singer_in_concert")


def _schemas_of(ddl: str, tmp_path: Path, dialect: str) -> list[Schema]:
    """The schema of one CREATE TABLE read from DDL text and, for SQLite, from a database file."""
    if dialect != "sqlite":
        return [schema_from_ddl(ddl + ";", dialect=dialect)]
    db = tmp_path / "s.sqlite"
    con = sqlite3.connect(db)
    con.execute(ddl)
    con.commit()
    con.close()
    return [schema_from_ddl(ddl + ";", dialect=dialect), schema_from_sqlite(db)]


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb"])
def test_collations_are_read_and_make_the_verifier_decline(tmp_path: Path, dialect: str) -> None:
    """A column declared COLLATE NOCASE compares 'x' = 'X' as true; the encoder compares text
    with BINARY, so a pair that differs only there must not be proved equivalent."""
    from verify import check_pair

    ddl = "CREATE TABLE t (a TEXT COLLATE NOCASE, b TEXT COLLATE BINARY, c INTEGER)"
    for s in _schemas_of(ddl, tmp_path, dialect):
        t = s.table("t")
        assert [c.collation for c in t.columns] == ["NOCASE", None, None]
        assert "COLLATE NOCASE" in s.ddl(dialect)  # materialized databases compare as the real one
        v = check_pair("SELECT a FROM t WHERE a = 'x'", "SELECT a FROM t WHERE a = 'x' AND a <> 'X'",
                       schema=s, dialect=dialect, timeout=10)
        assert v.verdict.value in ("not_equivalent", "unsupported"), v.reason
        assert "COLLATE NOCASE" in v.reason
        if v.verdict.value == "not_equivalent":  # found by running the queries on the engine itself
            assert v.counterexample.gen_result.rows == []


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb"])
def test_check_constraints_are_read_and_bind_the_verifier(tmp_path: Path, dialect: str) -> None:
    """CHECKs in the DDL (column and table ones, named or not) and in a SQLite file's schema are
    constraints like any other: a counterexample never breaks one, and a pair that differs only
    on rows a CHECK forbids is equivalent."""
    from verify import check_pair

    ddl = ("CREATE TABLE t (a INT PRIMARY KEY, b INT NOT NULL CHECK (b > 0), "
           "c TEXT CONSTRAINT ck CHECK (c IN ('x', 'y')), CHECK (a < 5))")
    for s in _schemas_of(ddl, tmp_path, dialect):
        assert sorted(s.table("t").checks) == ["a < 5", "b > 0", "c IN ('x', 'y')"]
        v = check_pair("SELECT a FROM t WHERE b > 0 AND a < 5", "SELECT a FROM t", schema=s, dialect=dialect,
                       timeout=20)
        assert v.verdict.value == "equivalent", v.reason
        v = check_pair("SELECT a FROM t WHERE c = 'x' OR c = 'y'", "SELECT a FROM t WHERE c IS NOT NULL",
                       schema=s, dialect=dialect, timeout=20)
        assert v.verdict.value == "equivalent", v.reason
        v = check_pair("SELECT a FROM t WHERE b > 1", "SELECT a FROM t", schema=s, dialect=dialect, timeout=20)
        assert v.verdict.value == "not_equivalent"
        rows = v.counterexample.tables["t"].rows
        assert all(r[1] > 0 and r[0] < 5 and r[2] in ("x", "y", None) for r in rows) and any(r[1] == 1 for r in rows)


def test_a_check_the_verifier_cannot_model_matters_only_where_the_queries_read():
    from verify import check_pair

    s = schema_from_ddl("CREATE TABLE t (a INT); CREATE TABLE u (x TEXT CHECK (json_valid(x)));")
    v = check_pair("SELECT a FROM t WHERE a > 0", "SELECT a FROM t WHERE a + 0 >= 1", schema=s, timeout=10)
    assert v.verdict.value == "equivalent", v.reason
    v = check_pair("SELECT x FROM u WHERE x > 'a'", "SELECT x FROM u WHERE x >= 'a'", schema=s, timeout=10)
    assert v.verdict.value == "unsupported" and "CHECK (JSON_VALID(x)) on u" in v.reason
