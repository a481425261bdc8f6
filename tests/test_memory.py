"""The memory safety stop (`verify.memory`): a verification that would outgrow its cap ends with
`unknown`, "memory limit ...", instead of taking the machine's memory until the kernel kills it.

The real allocation failures run in a child process (a Z3 failure near its limit could take the
process down); none depends on the machine's speed or its free memory."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import z3
from typer.testing import CliRunner

import verify.check as check_module
from sqlwitness_cli import app
from verify.budget import DEFAULT
from verify.check import check_pair
from verify.memory import MEMORY_LIMIT_MIB, memory_capped, memory_limit_problem
from verify.schema_io import schema_from_ddl
from verify.values import SolverRun, SolverStop
from verify.verdict import VerdictKind

ROOT = Path(__file__).resolve().parent.parent
linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the cap is RLIMIT_DATA and /proc (Linux)")
SCHEMA = schema_from_ddl("CREATE TABLE t (a INTEGER, b TEXT);")
SQL = "SELECT b, COUNT(*) FROM t WHERE a > 1 GROUP BY b"


def _child(code: str) -> str:
    """Run `code` in a fresh Python (the repository on its path) and return what it printed."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_a_cap_out_of_range_is_named():
    assert memory_limit_problem(None) is None
    assert memory_limit_problem(MEMORY_LIMIT_MIB) is None
    for bad in (0, 63, -5, 2.5, True, 1 << 30):
        problem = memory_limit_problem(bad)
        assert problem is not None and problem.startswith("--memory-limit must be"), (bad, problem)
    v = check_pair(SQL, SQL, SCHEMA, memory_limit=10)
    assert v.verdict == VerdictKind.ERROR and "--memory-limit" in v.reason


@linux
def test_the_cap_holds_inside_the_block_and_is_lifted_after_it():
    """Inside the block an allocation beyond the cap fails (Python's MemoryError); nested blocks
    share the outer cap; after the block the limit is what it was."""
    import resource

    before = resource.getrlimit(resource.RLIMIT_DATA)
    with memory_capped(64) as capped:
        assert capped
        inside = resource.getrlimit(resource.RLIMIT_DATA)
        assert inside[0] != resource.RLIM_INFINITY and inside[1] == before[1]
        with memory_capped(1 << 20):  # nested: no new cap
            assert resource.getrlimit(resource.RLIMIT_DATA) == inside
        with pytest.raises(MemoryError):
            bytearray(256 << 20)
    assert resource.getrlimit(resource.RLIMIT_DATA) == before
    assert len(bytearray(256 << 20)) == 256 << 20  # and the same allocation succeeds now
    with memory_capped(None) as capped:
        assert not capped and resource.getrlimit(resource.RLIMIT_DATA) == before


@linux
def test_a_solver_check_that_outgrows_the_cap_is_a_memory_stop_and_fits_without_it():
    """The same satisfiable formula (20,000 equations: translating it into the check's fresh
    context takes far more than 64 MiB) is a memory stop under a 64 MiB cap, and sat under
    1 GiB: the cap, not the formula, ended the first check."""
    printed = _child("""
        import z3
        from verify.memory import memory_capped
        from verify.values import Meter, check_within
        s = z3.Solver()
        s.add(*[z3.Int(f"x{i}") == i for i in range(20000)])
        for cap in (64, 1024):
            meter = Meter(rlimit=10**8)
            with memory_capped(cap):
                run = check_within(s, meter=meter)
            print(cap, run.status, run.stop, meter.memory_stopped)
    """)
    assert printed.splitlines() == ["64 unknown memory True", "1024 sat None False"]


def _stopped_at(real, nth: int):
    """`check_within` whose `nth` SMT check runs out of memory (forced); the others are real."""
    calls = []

    def check(solver, rlimit=None, meter=None, make=None):
        if make is None:  # not the SMT search's
            return real(solver, rlimit, meter)
        calls.append(1)
        if len(calls) == nth:
            meter.memory_stopped = True
            return SolverRun(z3.unknown, 0, SolverStop.MEMORY, "out of memory")
        return real(solver, rlimit, meter, make)

    return check


def test_a_memory_stop_is_unknown_and_says_where_keeping_the_bounds_proved(monkeypatch):
    """The SMT check at k = 2 runs out of memory (one check per bound on this pair)."""
    monkeypatch.setattr(check_module, "check_within", _stopped_at(check_module.check_within, 2))
    v = check_pair(SQL, SQL, SCHEMA, bound=3, shortcuts=False, budget=DEFAULT.without_random())
    assert v.verdict == VerdictKind.UNKNOWN, v.reason
    assert v.reason == f"memory limit ({MEMORY_LIMIT_MIB:,} MiB) reached at k=2; proved up to k=1", v.reason
    assert v.proof.bounds == [1] and v.proof.stopped == v.reason


def test_a_counterexample_found_after_a_memory_stop_stands(monkeypatch):
    """The first SMT check (k = 1) runs out of memory; the random reserve runs after the search
    stopped short, and the engine-confirmed difference it finds is a `not_equivalent` whatever
    stopped the solver."""
    monkeypatch.setattr(check_module, "check_within", _stopped_at(check_module.check_within, 1))
    gen = "SELECT b, COUNT(a) FROM t WHERE a > 1 OR a IS NULL GROUP BY b"
    budget = dataclasses.replace(DEFAULT, random_first=0, random_reserve=50)
    v = check_pair(SQL, gen, SCHEMA, bound=3, shortcuts=False, budget=budget)
    assert v.verdict == VerdictKind.NOT_EQUIVALENT and v.confirmed, v.reason
    assert v.counterexample.found_by == "random" and v.proof.stopped.startswith("memory limit"), v.proof


def test_a_memory_error_while_building_formulas_is_unknown(monkeypatch):
    def out_of_memory(ctx):
        raise MemoryError

    stages = tuple(out_of_memory if s is check_module._smt_search else s for s in check_module.STAGES)
    monkeypatch.setattr(check_module, "STAGES", stages)
    v = check_pair(SQL, SQL, SCHEMA, shortcuts=False, budget=DEFAULT.without_random())
    assert v.verdict == VerdictKind.UNKNOWN
    assert v.reason.startswith(f"memory limit ({MEMORY_LIMIT_MIB:,} MiB) reached while the verifier"), v.reason


def test_verify_pair_takes_a_memory_limit(tmp_path):
    (tmp_path / "s.sql").write_text("CREATE TABLE t (a INTEGER, b TEXT);")
    (tmp_path / "g.sql").write_text(SQL)
    runner = CliRunner()
    ok = runner.invoke(app, ["pair", str(tmp_path / "g.sql"), str(tmp_path / "g.sql"), "--schema",
                             str(tmp_path / "s.sql"), "--memory-limit", "512", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["verdict"] == "equivalent"
    bad = runner.invoke(app, ["pair", str(tmp_path / "g.sql"), str(tmp_path / "g.sql"), "--schema",
                              str(tmp_path / "s.sql"), "--memory-limit", "8"])
    assert bad.exit_code == 3
    assert "--memory-limit must be a whole number of MiB from 64" in bad.output
