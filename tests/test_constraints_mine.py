"""Mining: each kind is found when it holds on every row and not when one row breaks it;
thresholds, NULL handling, date/format detection, determinism, and SQLite itself accepting
the real data under the compiled CHECK constraints."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from constraints.apply import apply_constraints
from constraints.mine import MineSettings, mine_database
from verify.schema_io import schema_from_sqlite

SPIDER = Path(__file__).resolve().parents[2] / "shared" / "data" / "spider" / "database"


def make_db(path: Path, ddl: str, rows: list[tuple], table: str = "t") -> Path:
    con = sqlite3.connect(path)
    con.execute(ddl)
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    con.commit()
    con.close()
    return path


def people(n: int = 40) -> list[tuple]:
    """id, age 20..59, sex F/M, dept d0..d4 with its building b0..b4, start <= end dates."""
    out = []
    for i in range(n):
        dept = i % 5
        out.append((i + 1, 20 + i % 40, "FM"[i % 2], f"d{dept}", f"B-{dept}",
                    f"2020-01-{1 + i % 20:02d}", f"2020-02-{1 + i % 20:02d}", f"{10000 + i * 7}"))
    return out


DDL = ("CREATE TABLE t (id INTEGER PRIMARY KEY, age INT, sex TEXT, dept TEXT, building TEXT, "
       "start TEXT, finish TEXT, zip TEXT)")


def find(cs, kind: str, **attrs):
    out = []
    for c in cs.of_kind(kind):
        if all(getattr(c, k) == v for k, v in attrs.items()):
            out.append(c)
    return out


@pytest.fixture
def good(tmp_path: Path):
    return mine_database(make_db(tmp_path / "good.sqlite", DDL, people()))


def broken(tmp_path: Path, change) -> object:
    rows = people()
    rows[7] = change(list(rows[7]))
    return mine_database(make_db(tmp_path / "bad.sqlite", DDL, [tuple(r) for r in rows]))


def test_each_kind_found_when_it_holds(good):
    (r,) = find(good, "range", column="age")
    assert r.min <= 20 and r.max >= 59 and r.min >= 0  # widened, never below 0 for ages
    assert r.evidence.rows_checked == 40 and r.evidence.observed == "20..59"
    assert r.evidence.source.endswith("good.sqlite") and len(r.evidence.source_sha256) == 64
    (c,) = find(good, "categorical", column="sex")
    assert c.values == ["F", "M"]
    assert {x.column for x in good.of_kind("not_null")} >= {"age", "sex", "dept"}
    fds = [(f.lhs, f.rhs) for f in good.of_kind("fd")]
    assert (["dept"], ["building"]) in fds or (["building"], ["dept"]) in fds
    assert find(good, "ordering", left="start", right="finish")
    (d,) = find(good, "format", column="start")
    assert d.pattern == "date"
    (z,) = find(good, "format", column="zip")
    assert z.charset == "0-9" and z.min_length == z.max_length == 5


def test_range_not_found_when_one_row_is_text(tmp_path):
    cs = broken(tmp_path, lambda r: r[:1] + ["unknown"] + r[2:])
    assert not find(cs, "range", column="age")


def test_categorical_not_found_when_too_many_values(tmp_path):
    cs = mine_database(make_db(tmp_path / "c.sqlite", DDL, people()), MineSettings(max_categories=1))
    assert not find(cs, "categorical", column="sex")


def test_not_null_not_found_with_one_null(tmp_path):
    cs = broken(tmp_path, lambda r: r[:2] + [None] + r[3:])
    assert not find(cs, "not_null", column="sex")
    # a NULL does not stop the domain from being mined (NULL-tolerant)
    assert find(cs, "categorical", column="sex")


def test_fd_broken_by_one_row(tmp_path):
    cs = broken(tmp_path, lambda r: r[:4] + ["B-other"] + r[5:])
    assert not any(f.rhs == ["building"] and f.lhs == ["dept"] for f in cs.of_kind("fd"))


def test_fd_ignores_rows_with_null_lhs(tmp_path):
    cs = broken(tmp_path, lambda r: r[:3] + [None, "B-other"] + r[5:])
    assert any(f.lhs == ["dept"] and f.rhs == ["building"] for f in cs.of_kind("fd"))


def test_fd_support_threshold(tmp_path):
    db = make_db(tmp_path / "s.sqlite", DDL, people())
    assert any(f.lhs == ["dept"] for f in mine_database(db, MineSettings(min_support=5)).of_kind("fd"))
    assert not any(f.lhs == ["dept"] for f in mine_database(db, MineSettings(min_support=6)).of_kind("fd"))


def test_trivial_fds_skipped(good):
    for f in good.of_kind("fd"):
        assert "id" not in f.lhs  # the key determines everything: trivial
        assert not set(f.rhs) & set(f.lhs)


def test_multi_column_fd(tmp_path):
    # (a, b) -> c holds, neither a -> c nor b -> c does
    rows = [(i, i % 4, (i // 4) % 3, f"{i % 4}-{(i // 4) % 3}") for i in range(60)]
    db = make_db(tmp_path / "m.sqlite", "CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, b INT, c TEXT)", rows)
    fds = [(f.lhs, f.rhs) for f in mine_database(db).of_kind("fd")]
    assert (["a", "b"], ["c"]) in fds
    assert (["a"], ["c"]) not in fds and (["b"], ["c"]) not in fds
    assert not any(f.lhs == ["a", "b"] for f in mine_database(db, MineSettings(max_lhs=1)).of_kind("fd"))


def test_ordering_broken_by_one_row(tmp_path):
    cs = broken(tmp_path, lambda r: r[:5] + ["2020-03-01"] + r[6:])
    assert not find(cs, "ordering", left="start", right="finish")


def test_date_pattern_broken_by_one_row(tmp_path):
    cs = broken(tmp_path, lambda r: r[:5] + ["Jan 3"] + r[6:])
    assert not [c for c in find(cs, "format", column="start") if c.pattern]


def test_datetime_and_charset(tmp_path):
    rows = [(i, f"2021-05-{1 + i % 28:02d} 1{i % 10}:3{i % 6}:00", f"A{i:02d}") for i in range(30)]
    db = make_db(tmp_path / "f.sqlite", "CREATE TABLE t (id INTEGER PRIMARY KEY, ts TEXT, code TEXT)", rows)
    cs = mine_database(db)
    assert find(cs, "format", column="ts")[0].pattern == "datetime"
    code = find(cs, "format", column="code")[0]
    assert code.charset == "0-9A-Z" and code.min_length == code.max_length == 3


def test_digit_only_broken_by_one_letter(tmp_path):
    cs = broken(tmp_path, lambda r: r[:7] + ["1234a"])
    (z,) = find(cs, "format", column="zip")
    assert z.charset != "0-9"


def test_unique_non_key_column(tmp_path):
    rows = [(i, f"user{i}", i % 3) for i in range(60)]
    ddl = "CREATE TABLE t (id INTEGER PRIMARY KEY, login TEXT, grp INT)"
    assert find(mine_database(make_db(tmp_path / "u.sqlite", ddl, rows)), "unique")
    rows[5] = (5, "user4", 2)
    assert not find(mine_database(make_db(tmp_path / "u2.sqlite", ddl, rows)), "unique")


def test_small_tables_yield_no_mined_constraints(tmp_path):
    cs = mine_database(make_db(tmp_path / "tiny.sqlite", DDL, people(4)))
    assert not [c for c in cs.constraints if c.origin.value == "mined"]


def test_declared_constraints_are_recorded(good):
    (pk,) = good.of_kind("primary_key")
    assert pk.columns() == ["id"] and pk.origin.value == "declared"


def test_deterministic(tmp_path):
    db = make_db(tmp_path / "d.sqlite", DDL, people())
    a, b = mine_database(db), mine_database(db)
    a.settings.pop("seconds"), b.settings.pop("seconds")
    assert a.to_json() == b.to_json()


def _copy_under_checks(src: Path, dst: Path) -> int:
    """Create `dst` with the mined schema's DDL (CHECKs, NOT NULL, UNIQUE) and insert every
    row of `src`: SQLite enforces the constraints on the real data. Returns rows copied."""
    schema = apply_constraints(schema_from_sqlite(src, sample_size=0), mine_database(src))
    con = sqlite3.connect(dst)
    con.executescript(schema.ddl())
    con.execute("ATTACH DATABASE ? AS src", (str(src),))
    n = 0
    for t in schema.tables:
        cols = ", ".join(f'"{c.name}"' for c in t.columns)
        con.execute(f'INSERT INTO main."{t.name}" ({cols}) SELECT {cols} FROM src."{t.name}"')
        n += con.execute(f'SELECT COUNT(*) FROM main."{t.name}"').fetchone()[0]
    con.commit()
    con.close()
    return n


def test_real_data_satisfies_compiled_checks(tmp_path):
    src = make_db(tmp_path / "src.sqlite", DDL, people())
    assert _copy_under_checks(src, tmp_path / "dst.sqlite") == 40


@pytest.mark.skipif(not SPIDER.is_dir(), reason="shared Spider data not available")
@pytest.mark.parametrize("db_id", ["world_1", "dog_kennels", "car_1"])
def test_spider_data_satisfies_compiled_checks(tmp_path, db_id):
    src = SPIDER / db_id / f"{db_id}.sqlite"
    assert _copy_under_checks(src, tmp_path / "dst.sqlite") > 0
