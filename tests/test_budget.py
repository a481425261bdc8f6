"""Deterministic verdicts: the work budget (`verify.budget`) decides, never the machine's speed.

No test here depends on how fast the machine is: budgets are counts, and the wall-clock stop is
forced (a deadline already past, or a solver check made to report it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import z3
from typer.testing import CliRunner

import verify.check as check_module
from sqlwitness_cli import app
from verify.budget import DEFAULT, Budget
from verify.check import check_pair
from verify.schema_io import schema_from_ddl
from verify import ir
from verify.implication import rejects_nulls
import verify.values as values_module
from verify.values import Meter, SolverRun, SolverStop, check_within, checks_remembered, metered
from verify.verdict import VerdictKind

ROOT = Path(__file__).resolve().parent.parent
DDL = """CREATE TABLE dept (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT);
CREATE TABLE emp (id INTEGER PRIMARY KEY, name TEXT, dept_id INTEGER REFERENCES dept(id), salary REAL,
  title TEXT, CHECK (salary >= 0));"""
SCHEMA = schema_from_ddl(DDL)
# equivalent, but only the SMT search shows it (shortcuts off): strings, a join, grouping
GOLD = ("SELECT d.name, COUNT(*) FROM emp e JOIN dept d ON e.dept_id = d.id WHERE e.title LIKE 'Eng%' "
        "GROUP BY d.name")
GEN = ("SELECT d.name, COUNT(e.id) FROM dept d JOIN emp e ON d.id = e.dept_id WHERE e.title LIKE 'eng%' "
       "GROUP BY d.name")


def _comparable(v) -> dict:
    """The verdict as JSON, without the one field that measures the machine (seconds)."""
    d = v.model_dump(mode="json")
    d["stats"].pop("seconds")
    return d


def test_the_same_pair_twice_gives_the_same_verdict_and_the_same_work():
    first = check_pair(GOLD, GEN, SCHEMA, bound=3, shortcuts=False)
    second = check_pair(GOLD, GEN, SCHEMA, bound=3, shortcuts=False)
    assert first.verdict == VerdictKind.EQUIVALENT and first.bound == 3, first.reason
    assert first.stats.rlimit and first.stats.rlimit > 0
    assert _comparable(first) == _comparable(second)


_SUBPROCESS = """
import json, sys
from verify.check import check_pair
from verify.schema_io import schema_from_ddl
ddl, gold, gen = json.load(sys.stdin)
v = check_pair(gold, gen, schema_from_ddl(ddl), bound=2, shortcuts=False)
d = v.model_dump(mode="json"); d["stats"].pop("seconds")
print(json.dumps(d, sort_keys=True))
"""


def test_the_verdict_does_not_depend_on_pythons_hash_seed():
    """Encodings never order constraints or variables by iterating a set of strings: two
    processes with different hash seeds build the same formulas, so the verdict and the solver
    work (rlimit) are the same."""
    out = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        run = subprocess.run([sys.executable, "-c", _SUBPROCESS], input=json.dumps([DDL, GOLD, GEN]), text=True,
                             capture_output=True, env=env, cwd=ROOT, timeout=300, check=True)
        out.append(json.loads(run.stdout))
    assert out[0] == out[1]
    assert out[0]["verdict"] == "equivalent" and out[0]["stats"]["rlimit"] > 0


def test_a_tiny_solver_budget_is_unknown_for_the_budget_every_time():
    tiny = Budget(random_first=0, random_reserve=0, smt_rlimit=2_000)
    verdicts = [check_pair(GOLD, GEN, SCHEMA, bound=3, shortcuts=False, budget=tiny) for _ in range(2)]
    v = verdicts[0]
    assert v.verdict in (VerdictKind.UNKNOWN, VerdictKind.EQUIVALENT)
    assert "solver budget exhausted" in v.reason and "time limit" not in v.reason, v.reason
    assert "solver budget exhausted" in (v.proof.stopped or "")
    assert _comparable(verdicts[0]) == _comparable(verdicts[1])


def test_a_budget_scales():
    assert DEFAULT.scaled(1) == DEFAULT
    half = DEFAULT.scaled(0.5)
    assert half.smt_rlimit == DEFAULT.smt_rlimit // 2 and half.random_first == DEFAULT.random_first // 2
    assert Budget(random_first=1).scaled(0.1).random_first == 1  # a positive limit stays positive
    with pytest.raises(ValueError):
        DEFAULT.scaled(-1)


def test_a_past_deadline_is_a_time_limit_never_equivalent():
    """`timeout` is a safety stop: when it stops the search, the verdict is unknown and says so."""
    v = check_pair(GOLD, GEN, SCHEMA, bound=3, shortcuts=False, timeout=0.001)
    assert v.verdict == VerdictKind.UNKNOWN, v.reason
    assert v.reason.startswith("time limit"), v.reason
    assert v.proof.stopped and v.proof.stopped.startswith("time limit")


def test_the_encoder_looks_at_the_clock_on_every_row_it_builds(monkeypatch):
    """A filter over a join of many tables builds one formula per row of their product (k to the
    number of tables): the deadline is checked on each, so the safety stop holds inside one such
    operator too (TPC-DS's six-way self joins of CTEs once ran for minutes past it)."""
    import verify.encode as encode
    from verify.lower import lower_query
    from verify.parse import parse_query
    from verify.schema_io import schema_from_ddl

    schema = schema_from_ddl("CREATE TABLE t (a INTEGER, b INTEGER);")
    sql = "SELECT x.a + y.b FROM t AS x, t AS y, t AS z WHERE x.a < y.b + z.a"
    rel = lower_query(parse_query(sql), schema).rel
    ticks = []
    monkeypatch.setattr(encode.Encoder, "tick", lambda self: ticks.append(1))
    encode.Encoder(schema, 3, "sqlite", tables={"t"}).rel(rel)
    # 27 rows of the product: each checked when joined, filtered and projected
    assert len(ticks) >= 3 * 27, len(ticks)


def test_a_solver_check_the_clock_interrupts_is_a_time_limit_keeping_the_bounds_proved(monkeypatch):
    """The solver's check at k=2 is interrupted by the clock (forced here): no `equivalent` up to
    k=1 because the clock ran out; k=1 stays in `proof.bounds`."""
    real = check_module.check_within
    calls = []

    def interrupted_at_k2(solver, rlimit=None, meter=None, make=None):
        if make is None:  # not the SMT search's (the empty-table check)
            return real(solver, rlimit, meter)
        calls.append(1)
        if len(calls) == 2:  # the check at k=2 (one check per bound on this pair)
            meter.time_stopped = True
            return SolverRun(z3.unknown, 0, SolverStop.TIME, "interrupted")
        return real(solver, rlimit, meter, make)

    monkeypatch.setattr(check_module, "check_within", interrupted_at_k2)
    v = check_pair(GOLD, GEN, SCHEMA, bound=3, shortcuts=False, budget=DEFAULT.without_random())
    assert v.verdict == VerdictKind.UNKNOWN, v.reason
    assert v.reason.startswith("time limit") and "k=2" in v.reason, v.reason
    assert v.proof.bounds == [1]


def test_a_counterexample_found_before_the_clock_stops_stays(monkeypatch):
    """The first random pass is cut short by the clock (forced), then the SMT search refutes the
    pair: a confirmed counterexample is true whatever the clock did."""
    real = check_module.random_search

    def cut_short(*args, **kw):
        out = real(*args, **{**kw, "max_databases": 1})
        return type(out)(None, out.tried, out.errors, out.last_error, out.rejected, timed_out=True)

    monkeypatch.setattr(check_module, "random_search", cut_short)
    v = check_pair("SELECT COUNT(*) FROM emp", "SELECT COUNT(title) FROM emp", SCHEMA)
    assert v.verdict == VerdictKind.NOT_EQUIVALENT and v.confirmed
    assert v.counterexample.found_by == "smt"


def test_the_random_pass_tries_exactly_the_databases_of_its_budget():
    budget = Budget(random_first=13, random_reserve=0)
    v = check_pair("SELECT name, salary FROM emp WHERE salary > 2", "SELECT name, salary FROM emp WHERE salary > 2.0",
                   SCHEMA, budget=budget, shortcuts=False, bound=2)
    assert v.verdict == VerdictKind.EQUIVALENT, v.reason
    assert v.stats.random_databases == 13
    assert "random pass: 13 databases" in v.proof.tried[0]


def test_check_within_counts_resource_units_and_stops_on_them():
    x = [z3.Int(f"x{i}") for i in range(9)]
    pigeons = z3.Solver()
    pigeons.add(*[z3.And(v >= 0, v < 8) for v in x], z3.Distinct(*x))  # unsat, and slow to show
    meter = Meter()
    first = check_within(pigeons, rlimit=50_000, meter=meter)
    again = check_within(pigeons, rlimit=50_000, meter=meter)
    assert first.status == z3.unknown and first.stop == SolverStop.BUDGET
    assert first.spent == again.spent >= 50_000 and meter.spent == 2 * first.spent
    assert check_within(pigeons, rlimit=0, meter=meter).stop == SolverStop.BUDGET
    easy = z3.Solver()
    easy.add(z3.Int("a") > 1)
    run = check_within(easy, rlimit=10_000, meter=meter)
    assert run.status == z3.sat and run.stop is None and run.model is not None
    assert run.model.eval(z3.Int("a")).as_long() > 1  # the model speaks of the caller's terms
    past = Meter(deadline=0.0)
    assert check_within(easy, meter=past).stop == SolverStop.TIME and past.time_stopped


def _counting_contexts(monkeypatch) -> list[int]:
    """Count the Z3 contexts `check_within` takes (one per check it runs)."""
    taken: list[int] = []
    new_context = values_module._new_context

    def counted():
        taken.append(1)
        return new_context()
    monkeypatch.setattr(values_module, "_new_context", counted)
    return taken


def test_a_check_asked_again_in_a_remembering_block_is_answered_as_before_and_counted_again(monkeypatch):
    taken = _counting_contexts(monkeypatch)
    x = [z3.Int(f"x{i}") for i in range(9)]
    pigeons = z3.Solver()
    pigeons.add(*[z3.And(v >= 0, v < 8) for v in x], z3.Distinct(*x))
    easy = z3.Solver()
    easy.add(z3.Int("a") > 1)
    meter = Meter()
    with checks_remembered():
        first = check_within(pigeons, rlimit=50_000, meter=meter)
        with checks_remembered():  # an inner block keeps the outer one's answers
            again = check_within(pigeons, rlimit=50_000, meter=meter)
        assert (again.status, again.stop, again.spent) == (first.status, first.stop, first.spent)
        assert meter.spent == 2 * first.spent and len(taken) == 1  # the units counted again, no second run
        same_terms = z3.Solver()
        same_terms.add(*pigeons.assertions())
        assert check_within(same_terms, rlimit=50_000, meter=meter).spent == first.spent and len(taken) == 1
        check_within(pigeons, rlimit=60_000, meter=meter)  # another limit: another question
        assert len(taken) == 2
        sat = check_within(easy, rlimit=10_000, meter=meter)
        assert check_within(easy, rlimit=10_000, meter=meter).model is sat.model and len(taken) == 3
    check_within(pigeons, rlimit=50_000, meter=meter)  # outside the block: it runs
    assert len(taken) == 4


def test_a_remembered_check_never_answers_for_other_terms_that_took_its_ids(monkeypatch):
    """The block keeps the terms of every check it remembers: Z3 reuses the ids of freed terms."""
    taken = _counting_contexts(monkeypatch)
    with checks_remembered():
        for n in range(60):
            s = z3.Solver()
            y = z3.Int(f"y{n}")
            s.add(y > n if n % 2 else z3.And(y > n, y < n))  # one term, sat for odd n only
            assert (check_within(s, rlimit=10_000).status == z3.sat) == bool(n % 2)
            del s, y
    assert len(taken) == 60


def test_a_check_the_deadline_or_the_memory_cap_stopped_is_not_remembered():
    kept = z3.Solver().assertions()
    with checks_remembered():
        for stop in (SolverStop.TIME, SolverStop.MEMORY, SolverStop.BUDGET):
            values_module._remember(("k", stop), kept, SolverRun(z3.unknown, 5, stop))
        remembered = {stop for stop in SolverStop if values_module._remembered(("k", stop), Meter()) is not None}
    assert remembered == {SolverStop.BUDGET}


def test_a_context_made_ahead_gives_the_answer_and_the_count_of_a_new_one(monkeypatch):
    monkeypatch.setattr(values_module, "_UNUSED_CONTEXTS", [])
    x = [z3.Int(f"x{i}") for i in range(6)]
    pigeons = z3.Solver()
    pigeons.add(*[z3.And(v >= 0, v < 5) for v in x], z3.Distinct(*x))
    new = check_within(pigeons, rlimit=10**8)
    values_module.make_contexts_ahead(2)
    ahead = check_within(pigeons, rlimit=10**8)
    assert len(values_module._UNUSED_CONTEXTS) == 1  # one was taken
    assert (ahead.status, ahead.spent) == (new.status, new.spent) and new.status == z3.unsat


def test_verify_pair_takes_an_effort(tmp_path):
    schema = tmp_path / "s.sql"
    schema.write_text("CREATE TABLE t (a INTEGER);")
    gold, gen = tmp_path / "gold.sql", tmp_path / "gen.sql"
    gold.write_text("SELECT a FROM t WHERE a > 1")
    gen.write_text("SELECT a FROM t WHERE NOT a <= 1")
    runner = CliRunner()
    ok = runner.invoke(app, ["pair", str(gold), str(gen), "--schema", str(schema), "--effort", "0.5", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["stats"]["rlimit"] is not None
    bad = runner.invoke(app, ["pair", str(gold), str(gen), "--schema", str(schema), "--effort", "0"])
    assert bad.exit_code == 3 and "--effort" in bad.output


def test_a_plan_rewrite_question_is_asked_of_the_solver_once_per_call_and_never_kept_when_stopped():
    # `a > b OR a < 3` with b padded NULL is true where a < 3: the simplifier cannot tell, the
    # solver answers (sat: the condition does not reject the padding)
    a, b = ir.Col(0, "int"), ir.Col(1, "int")
    cond = ir.BoolOp("or", (ir.Cmp(">", a, b, "num"), ir.Cmp("<", a, ir.Lit(3, "int"), "num")))
    columns = (ir.OutCol("a", "int"), ir.OutCol("b", "int"))
    meter = Meter()
    with metered(meter):
        assert rejects_nulls(cond, columns, [1]) is False
        spent = meter.spent
        assert spent > 0 and len(meter.answers) == 1
        assert rejects_nulls(cond, columns, [1]) is False and meter.spent == spent  # answered from the memo
        assert rejects_nulls(cond, columns, [0, 1]) is True  # another question: both NULL
    stopped = Meter(deadline=0.0)
    with metered(stopped):
        assert rejects_nulls(cond, columns, [1]) is False  # no answer: not a proof of anything
    assert stopped.time_stopped and stopped.answers == {}
