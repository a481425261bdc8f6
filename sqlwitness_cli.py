"""The `verify` command line, assembled from the commands each of sqlwitness's packages exposes.

    verify pair, version                  the verifier (`verify.cli`)
    verify eval, leaderboard, bench ...   the benchmarks (`benchmarks.eval_cli`, `benchmarks.cli`)
    verify agent ...                      the Text-to-SQL agent (`agent.cli`)
    verify mine, constraints ...          constraints (`constraints.cli`)

This module sits above the four packages so that imports flow one way: `verify` imports none of
the others, and `verify pair --constraints/--mine` gets the constraints layer through the
`PairConstraints` passed in here. It is the `verify` console script and also runs as
`python -m sqlwitness_cli`.
"""

from __future__ import annotations

import typer

from agent.cli import agent_app
from benchmarks.cli import bench_app
from benchmarks.eval_cli import commands as benchmark_commands
from constraints.cli import commands as constraint_commands
from constraints.cli import constraints_app
from constraints.pair import add_realism, constrain_schema
from verify.cli import PairConstraints, make_app

__all__ = ["app", "build_app"]


def build_app() -> typer.Typer:
    """The whole `verify` app: the verifier's root app with every package's commands added.

    Commands are added in the order `verify --help` lists them: single commands first, then groups.
    """
    root = make_app(PairConstraints(constrain=constrain_schema, add_realism=add_realism))
    root.add_typer(benchmark_commands)
    root.add_typer(constraint_commands)
    root.add_typer(bench_app)
    root.add_typer(agent_app)
    root.add_typer(constraints_app)
    return root


app = build_app()

if __name__ == "__main__":
    app()
