"""Running model-written Python in an operating-system sandbox.

`run_python(code, db_path=..., results=..., timeout=..., memory_mb=...)` runs `code` through
`agent.py_runner` inside `agent.isolation`'s bubblewrap sandbox and returns a `PythonOutcome`
(stdout, an optional result table, or an error). The database is *copied* for each call and the
copy bound read-only; the only writable place is a fresh tmpfs `/tmp`; there is no network; the
call's processes live in their own pid namespace and cgroup and all die when it returns (see
`agent.isolation` for every limit and what enforces it). An in-process audit hook remains as
defence in depth.

The code sees `results` (earlier query results, `r1`, `r2`, ...; pandas DataFrames when pandas
is installed, otherwise lists of dicts), `sql(query)` (a read-only query on the database copy),
`duck(query)` (DuckDB over the results, when duckdb and pandas are installed) and `DB_PATH`; it
returns a table by assigning `result` (a DataFrame, a list of rows/dicts, or a scalar).

Fail closed: where the sandbox cannot start (`python_unavailable()` says why), `run_python`
returns an error outcome with `disabled=True` and runs nothing.

Example:
    >>> out = run_python("print(1 + 1)\\nresult = [[1, 'a'], [2, 'b']]", timeout=20)
    >>> out.stdout.strip(), out.result.rows, out.error
    ('2', [[1, 'a'], [2, 'b']], None)
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from agent import py_runner
from agent.isolation import IsolationUnavailable, Limits, run_isolated, unavailable_reason
from agent.results import ResultTable

MAX_STDOUT = 20_000
KEEP_ROWS = 10_000


class PythonOutcome(BaseModel):
    stdout: str = ""
    result: ResultTable | None = None
    error: str | None = None
    seconds: float = 0.0
    killed: Literal["time", "memory", "output", "result"] | None = None  # the limit that ended the run
    disabled: bool = False  # the sandbox cannot start here: nothing ran


def python_unavailable() -> str | None:
    """None when the Python tool can run here; otherwise the one-line reason it is disabled."""
    reason = unavailable_reason()
    return None if reason is None else f"the Python tool is disabled: {reason}"


def _jsonable(v: Any) -> Any:
    if isinstance(v, bytes):
        return f"<{len(v)} bytes>"
    return v


def run_python(code: str, *, db_path: str | Path | None = None, results: dict[str, ResultTable] | None = None,
               timeout: float = 20.0, memory_mb: int = 2048, guard: bool = True) -> PythonOutcome:
    """Run `code` in the sandbox (see the module doc). Never raises for failures of the code
    itself: they come back in `error`. `guard=False` leaves out the in-process audit hook (the
    attack tests use it to show that the OS sandbox holds alone)."""
    limits = Limits(timeout=timeout, memory_mb=memory_mb, max_output=MAX_STDOUT)
    with tempfile.TemporaryDirectory(prefix="agent-py-") as tmp:
        work = Path(tmp)
        files = {"input.json": work / "input.json"}
        files["input.json"].write_text(json.dumps({
            "code": code, "memory_mb": memory_mb, "keep_rows": KEEP_ROWS, "guard": guard,
            "results": {rid: {"columns": t.columns, "rows": [[_jsonable(v) for v in r] for r in t.rows]}
                        for rid, t in (results or {}).items()}}, default=str))
        if db_path:
            files["db.sqlite"] = work / "db.sqlite"
            shutil.copyfile(db_path, files["db.sqlite"])
        for f in files.values():
            f.chmod(0o444)
        try:
            run = run_isolated(Path(py_runner.__file__), files, limits)
        except IsolationUnavailable as e:
            return PythonOutcome(error=f"the Python tool is disabled: {e}", disabled=True)
    stdout = run.stdout.decode("utf-8", "replace")
    if run.stdout_dropped:
        stdout += f"\n[truncated {run.stdout_dropped} bytes]"
    if run.killed == "time":
        error = f"stopped at the time limit of {timeout:g} s"
    elif run.killed == "memory":
        error = f"MemoryError: the memory limit ({memory_mb} MB) was exceeded"
    elif run.killed == "output":
        error = f"stopped: printed more than {limits.kill_output // 2**20} MB"
    elif run.killed == "result":
        error = f"stopped: `result` is larger than {limits.max_result // 2**20} MB"
    else:
        error = None
    if error is not None:
        return PythonOutcome(stdout=stdout, error=error, killed=run.killed, seconds=run.seconds)
    try:
        raw = json.loads(run.result)
        result = ResultTable.model_validate(raw["result"]) if raw.get("result") else None
        error = raw.get("error")
        if error is not None and not isinstance(error, str):
            raise ValueError("error is not text")
    except (ValueError, TypeError, KeyError, AttributeError, ValidationError):
        tail = run.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        return PythonOutcome(stdout=stdout, seconds=run.seconds,
                             error=f"the Python process failed (exit {run.returncode}): {tail[0]}")
    killed: Literal["memory"] | None = "memory" if error and error.startswith("MemoryError") else None
    return PythonOutcome(stdout=stdout, result=result, error=error, seconds=run.seconds, killed=killed)
