"""The Ray executor on a local 2-CPU instance started by the test: the same leaderboard as the
local process pool (the numbers `test_bench_evaluate.check_numbers` asserts)."""

from __future__ import annotations

import pytest

from benchmarks.evaluate import EvalConfig, run_evaluation
from benchmarks.store import RunStore
from test_bench_evaluate import _fixture, check_numbers


def test_ray_executor_gives_the_same_results(tmp_path):
    ray = pytest.importorskip("ray", reason="ray not installed (pip install '.[ray]'; .ci/run installs it)")
    data, files = _fixture(tmp_path)
    # the verdicts come from the work budget (`effort`); `timeout` is only the wall-clock safety
    # stop, generous because Ray's workers start slowly on a busy machine
    cfg = EvalConfig(benchmark="spider", data_dir=data, bound=2, timeout=180, effort=0.5, workers=2,
                     executor="ray")
    try:
        with RunStore(tmp_path / "ray.duckdb") as st:
            lb = run_evaluation(cfg, [(None, f) for f in files], store=st)
        assert ray.cluster_resources().get("CPU") == 2
    finally:
        ray.shutdown()
    check_numbers(lb)
