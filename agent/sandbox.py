"""Running model-written Python in a separate, limited process.

`run_python(code, db_path=..., results=..., timeout=..., memory_mb=...)` starts
`python -I -B` on a small runner in a fresh temporary folder and returns a `PythonOutcome`
(stdout, an optional result table, or an error). The child:

- has its address space capped (`RLIMIT_AS`, so a large allocation raises MemoryError), CPU
  seconds capped (`RLIMIT_CPU`), files it writes capped (`RLIMIT_FSIZE`), and is killed with
  its whole process group when the wall-clock `timeout` passes;
- has no network: an audit hook (which cannot be removed) refuses socket creation, connect,
  bind and name lookups, and also subprocesses, `os.system`, `exec*`, `fork` and loading C
  libraries through ctypes;
- cannot change the database: files may be opened for writing only inside its temporary
  folder, `sqlite3` may open only read-only URIs or `:memory:`, and `duckdb.connect` is
  forced to an in-memory database with external (file and extension) access disabled;
- sees `results` (earlier query results, `r1`, `r2`, ...; pandas DataFrames when pandas is
  installed, otherwise lists of dicts), `sql(query)` (a read-only query on the database),
  `duck(query)` (DuckDB over the results, when duckdb and pandas are installed), `DB_PATH`;
- returns a table by assigning `result` (a DataFrame, a list of rows/dicts, or a scalar).

Example:
    >>> out = run_python("print(1 + 1)\\nresult = [[1, 'a'], [2, 'b']]", timeout=20)
    >>> out.stdout.strip(), out.result.rows, out.error
    ('2', [[1, 'a'], [2, 'b']], None)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agent.tools import ResultTable

MAX_STDOUT = 20_000
KEEP_ROWS = 10_000


class PythonOutcome(BaseModel):
    stdout: str = ""
    result: ResultTable | None = None
    error: str | None = None
    seconds: float = 0.0
    killed: str | None = None  # "time" or "memory" when a limit ended the run


_RUNNER = r'''
import io, json, os, resource, sys, traceback
work, mem_mb, cpu_s, keep_rows, max_out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
cfg = json.load(open(os.path.join(work, "input.json")))
code = cfg["code"]; db_path = cfg["db_path"]

_results_raw = json.load(open(os.path.join(work, "results.json")))
# pandas and duckdb load in ~0.5 s each: only when the code can use them
pd = duckdb = None
if _results_raw or any(w in code for w in ("pandas", "pd.", "sql(", "duck", "DataFrame")):
    try:
        import pandas as pd
    except Exception:
        pd = None
if "duck" in code:
    try:
        import duckdb
    except Exception:
        duckdb = None
import sqlite3
from urllib.parse import quote

results = {}
for rid, t in _results_raw.items():
    if pd is not None:
        results[rid] = pd.DataFrame(t["rows"], columns=t["columns"]) if t["rows"] else pd.DataFrame(columns=t["columns"])
    else:
        results[rid] = [dict(zip(t["columns"], r)) for r in t["rows"]]

def sql(query):
    """Run a read-only SQLite query on the database; a DataFrame (or list of dicts)."""
    if not db_path:
        raise RuntimeError("no database in this run")
    con = sqlite3.connect("file:" + quote(os.path.abspath(db_path)) + "?mode=ro", uri=True)
    try:
        cur = con.execute(query)
        cols = [d[0] for d in cur.description or []]
        rows = cur.fetchall()
    finally:
        con.close()
    if pd is not None:
        return pd.DataFrame(rows, columns=cols)
    return [dict(zip(cols, r)) for r in rows]

if duckdb is not None:
    _connect = duckdb.connect
    def _safe_connect(database=":memory:", read_only=False, config=None, **kw):
        if database not in (":memory:", "", None):
            raise PermissionError("duckdb: only in-memory databases are allowed in the sandbox")
        cfg2 = dict(config or {}); cfg2["enable_external_access"] = False; cfg2["threads"] = 1
        return _connect(":memory:", config=cfg2)
    duckdb.connect = _safe_connect
    try:
        duckdb.execute("SET threads = 1")
        duckdb.execute("SET enable_external_access = false")
    except Exception:
        pass
    def duck(query):
        """DuckDB over the earlier results (registered as r1, r2, ...)."""
        con = _safe_connect()
        for rid, df in results.items():
            con.register(rid, df if pd is not None else pd.DataFrame(df))
        return con.execute(query).df()
else:
    def duck(query):
        raise RuntimeError("duckdb is not installed in this environment")

resource.setrlimit(resource.RLIMIT_AS, (mem_mb * 2**20, mem_mb * 2**20))
resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 2**20, 64 * 2**20))

_work = os.path.realpath(work)
_WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_DENY = {"socket.__new__", "socket.connect", "socket.bind", "socket.getaddrinfo", "socket.gethostbyname",
         "socket.sendto", "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
         "os.fork", "os.forkpty", "ctypes.dlopen", "ctypes.dlsym", "ctypes.cdata", "os.kill", "os.putenv",
         "sys.addaudithook", "os.chmod", "os.remove", "os.rename", "os.rmdir", "shutil.rmtree", "os.truncate"}

def _hook(event, args):
    if event in _DENY:
        if event.startswith("socket"):
            raise PermissionError("network access is disabled in the sandbox")
        raise PermissionError(f"{event} is not allowed in the sandbox")
    if event == "open":
        path, mode, flags = (list(args) + [None, None, None])[:3]
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                  (isinstance(flags, int) and flags & _WRITE)
        if writing and not isinstance(path, int):
            real = os.path.realpath(os.fsdecode(path))
            if not (real == _work or real.startswith(_work + os.sep)):
                raise PermissionError(f"writing {path} is not allowed in the sandbox")
    elif event == "sqlite3.connect":
        db = str(args[0]) if args else ""
        if not (db in (":memory:", "") or (db.startswith("file:") and "mode=ro" in db)):
            raise PermissionError("sqlite3: only read-only URIs (file:...?mode=ro) or :memory: are allowed")

sys.addaudithook(_hook)

buf = io.StringIO()
env = {"__name__": "__main__", "results": results, "sql": sql, "duck": duck, "DB_PATH": db_path,
       "pd": pd, "duckdb": duckdb}
out = {"stdout": "", "error": None, "result": None}
stdout = sys.stdout
sys.stdout = buf
try:
    exec(compile(code, "<agent>", "exec"), env)
except MemoryError:
    out["error"] = f"MemoryError: the memory limit ({mem_mb} MB) was exceeded"
except BaseException as e:
    tb = traceback.extract_tb(e.__traceback__)
    frames = [f for f in tb if f.filename == "<agent>"]
    where = f" (line {frames[-1].lineno})" if frames else ""
    out["error"] = f"{type(e).__name__}{where}: {e}"
finally:
    sys.stdout = stdout
text = buf.getvalue()
out["stdout"] = text if len(text) <= max_out else text[:max_out] + f"\n[truncated {len(text) - max_out} characters]"

def plain(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if hasattr(v, "item"):
        try:
            return plain(v.item())
        except Exception:
            pass
    if pd is not None and v is pd.NaT:
        return None
    try:
        if v != v:  # NaN
            return None
    except Exception:
        pass
    return str(v)

r = env.get("result")
if out["error"] is None and r is not None:
    try:
        if pd is not None and isinstance(r, pd.Series):
            r = r.to_frame()
        if pd is not None and isinstance(r, pd.DataFrame):
            cols = [str(c) for c in r.columns]
            rows = [[plain(v) for v in row] for row in r.itertuples(index=False, name=None)]
        elif isinstance(r, (list, tuple)):
            if r and isinstance(r[0], dict):
                cols = list(r[0].keys())
                rows = [[plain(d.get(c)) for c in cols] for d in r]
            else:
                rows = [[plain(v) for v in (x if isinstance(x, (list, tuple)) else [x])] for x in r]
                cols = [f"c{i}" for i in range(len(rows[0]) if rows else 1)]
        else:
            cols, rows = ["value"], [[plain(r)]]
        out["result"] = {"columns": cols, "rows": rows[:keep_rows], "total_rows": len(rows)}
    except Exception as e:
        out["error"] = f"could not read `result`: {type(e).__name__}: {e}"
with open(os.path.join(work, "output.json"), "w") as f:
    json.dump(out, f, default=str)
'''


def _jsonable(v: Any) -> Any:
    if isinstance(v, bytes):
        return f"<{len(v)} bytes>"
    return v


def run_python(code: str, *, db_path: str | Path | None = None, results: dict[str, ResultTable] | None = None,
               timeout: float = 20.0, memory_mb: int = 2048) -> PythonOutcome:
    """Run `code` in a sandboxed child process (see the module doc). Never raises for
    failures of the code itself: they come back in `error`."""
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="agent-py-") as work:
        (Path(work) / "runner.py").write_text(_RUNNER)
        (Path(work) / "input.json").write_text(json.dumps(
            {"code": code, "db_path": str(Path(db_path).resolve()) if db_path else ""}))
        (Path(work) / "results.json").write_text(json.dumps(
            {rid: {"columns": t.columns, "rows": [[_jsonable(v) for v in r] for r in t.rows]}
             for rid, t in (results or {}).items()}, default=str))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": work, "TMPDIR": work,
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "PYTHONHASHSEED": "0", "LANG": "C.UTF-8",
               "MALLOC_ARENA_MAX": "2"}  # per-thread malloc arenas would eat the address-space limit
        cmd = [sys.executable, "-I", "-B", str(Path(work) / "runner.py"), work, str(memory_mb),
               str(max(1, int(timeout + 1))), str(KEEP_ROWS), str(MAX_STDOUT)]
        proc = subprocess.Popen(cmd, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.communicate()
            return PythonOutcome(error=f"stopped at the time limit of {timeout:g} s", killed="time",
                                 seconds=time.monotonic() - t0)
        seconds = time.monotonic() - t0
        out_path = Path(work) / "output.json"
        if not out_path.exists():
            tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            if proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
                return PythonOutcome(error=f"stopped at the CPU time limit ({timeout:g} s)", killed="time",
                                     seconds=seconds)
            if "MemoryError" in tail[0]:
                return PythonOutcome(error=f"MemoryError: the memory limit ({memory_mb} MB) was exceeded",
                                     killed="memory", seconds=seconds)
            return PythonOutcome(error=f"the Python process failed (exit {proc.returncode}): {tail[0]}",
                                 seconds=seconds)
        raw = json.loads(out_path.read_text())
    result = ResultTable.model_validate(raw["result"]) if raw.get("result") else None
    killed = "memory" if raw.get("error", "") and raw["error"].startswith("MemoryError") else None
    return PythonOutcome(stdout=raw.get("stdout", ""), result=result, error=raw.get("error"),
                         seconds=seconds, killed=killed)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
