"""The child side of the Python tool: runs inside the OS sandbox (`agent.isolation`) as
`python -I -B /sandbox/py_runner.py FD`, never imported by the agent.

It reads `/sandbox/input.json` (`code`, `results`, `memory_mb`, `keep_rows`, `guard`), builds the
namespace the model's code sees (`results`, `sql`, `duck`, `DB_PATH`, `pd`, `duckdb`), caps its
own address space (`RLIMIT_AS`, so a large allocation raises MemoryError instead of meeting the
cgroup's kill), installs the audit hook when `guard` is set, runs the code with stdout and
stderr going straight to the parent's capped pipes, and writes one JSON object (`error`,
`result`) to the result channel, file descriptor FD.

The audit hook is defence in depth only: code in this interpreter can get around it. The
boundary is the sandbox: a read-only filesystem with a private copy of the database, a tmpfs
`/tmp`, no network, its own pid namespace and cgroup.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import sys
import traceback
from typing import Any, Callable

INPUT = "/sandbox/input.json"
DB = "/sandbox/db.sqlite"
SCRATCH = "/tmp"


def load_frames(raw: dict[str, Any], pd: Any) -> dict[str, Any]:
    """Earlier results as DataFrames (lists of dicts without pandas)."""
    out: dict[str, Any] = {}
    for rid, t in raw.items():
        if pd is not None:
            out[rid] = pd.DataFrame(t["rows"], columns=t["columns"]) if t["rows"] else pd.DataFrame(columns=t["columns"])
        else:
            out[rid] = [dict(zip(t["columns"], r)) for r in t["rows"]]
    return out


def make_sql(db_path: str, pd: Any) -> Callable[[str], Any]:
    """`sql(query)`: a read-only query on the database copy."""
    def sql(query: str) -> Any:
        """Run a read-only SQLite query on the database; a DataFrame (or list of dicts)."""
        if not db_path:
            raise RuntimeError("no database in this run")
        con = sqlite3.connect(f"file:{db_path}?mode=ro&immutable=1", uri=True)
        try:
            cur = con.execute(query)
            cols = [d[0] for d in cur.description or []]
            rows = cur.fetchall()
        finally:
            con.close()
        if pd is not None:
            return pd.DataFrame(rows, columns=cols)
        return [dict(zip(cols, r)) for r in rows]
    return sql


def make_duck(duckdb: Any, pd: Any, results: dict[str, Any]) -> Callable[[str], Any]:
    """`duck(query)`: DuckDB over the earlier results, in memory, without file access."""
    if duckdb is None or pd is None:
        def missing(query: str) -> Any:
            raise RuntimeError("duckdb is not installed in this environment")
        return missing
    connect = duckdb.connect

    def safe_connect(database: str = ":memory:", read_only: bool = False, config: Any = None, **kw: Any) -> Any:
        if database not in (":memory:", "", None):
            raise PermissionError("duckdb: only in-memory databases are allowed in the sandbox")
        cfg = dict(config or {})
        cfg["enable_external_access"] = False
        cfg["threads"] = 1
        return connect(":memory:", config=cfg)

    duckdb.connect = safe_connect

    def duck(query: str) -> Any:
        """DuckDB over the earlier results (registered as r1, r2, ...)."""
        con = safe_connect()
        for rid, df in results.items():
            con.register(rid, df)
        return con.execute(query).df()
    return duck


def install_guard() -> None:
    """The audit hook: refuses network, process creation, native code and writes outside
    /tmp. Its state lives in this closure, out of reach of `globals()`."""
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    deny = frozenset({
        "socket.__new__", "socket.connect", "socket.bind", "socket.getaddrinfo", "socket.gethostbyname",
        "socket.sendto", "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
        "os.fork", "os.forkpty", "ctypes.dlopen", "ctypes.dlsym", "ctypes.cdata", "os.kill", "os.killpg",
        "os.putenv", "sys.addaudithook", "os.chmod", "os.remove", "os.rename", "os.rmdir", "os.link",
        "os.symlink", "shutil.rmtree", "os.truncate"})
    realpath, fsdecode, sep = os.path.realpath, os.fsdecode, os.sep

    def hook(event: str, args: tuple) -> None:
        if event in deny:
            if event.startswith("socket"):
                raise PermissionError("network access is disabled in the sandbox")
            raise PermissionError(f"{event} is not allowed in the sandbox")
        if event == "open":
            path, mode, flags = (list(args) + [None, None, None])[:3]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                      (isinstance(flags, int) and flags & write_flags)
            if writing and not isinstance(path, int):
                real = realpath(fsdecode(path))
                if not real.startswith(SCRATCH + sep):
                    raise PermissionError(f"writing {path} is not allowed in the sandbox")
        elif event == "sqlite3.connect":
            db = str(args[0]) if args else ""
            if not (db in (":memory:", "") or (db.startswith("file:") and "mode=ro" in db)):
                raise PermissionError("sqlite3: only read-only URIs (file:...?mode=ro) or :memory: are allowed")

    sys.addaudithook(hook)


def plain(v: Any, pd: Any) -> Any:
    """A JSON-able cell: numpy scalars unwrapped, NaN/NaT as None, anything else as text."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return None if isinstance(v, float) and v != v else v
    if hasattr(v, "item"):
        try:
            return plain(v.item(), pd)
        except Exception:  # noqa: BLE001 - not a scalar after all: shown as text
            pass
    if pd is not None and v is pd.NaT:
        return None
    return str(v)


def table_of(r: Any, pd: Any, keep_rows: int) -> dict[str, Any]:
    """`result` as {columns, rows (at most keep_rows), total_rows}."""
    if pd is not None and isinstance(r, pd.Series):
        r = r.to_frame()
    if pd is not None and isinstance(r, pd.DataFrame):
        cols = [str(c) for c in r.columns]
        rows = [[plain(v, pd) for v in row] for row in r.head(keep_rows).itertuples(index=False, name=None)]
        total = len(r)
    elif isinstance(r, (list, tuple)):
        total = len(r)
        r = list(r[:keep_rows])
        if r and isinstance(r[0], dict):
            cols = [str(c) for c in r[0]]
            rows = [[plain(d.get(c), pd) for c in r[0]] for d in r]
        else:
            rows = [[plain(v, pd) for v in (x if isinstance(x, (list, tuple)) else [x])] for x in r]
            cols = [f"c{i}" for i in range(len(rows[0]) if rows else 1)]
    else:
        cols, rows, total = ["value"], [[plain(r, pd)]], 1
    return {"columns": cols, "rows": rows, "total_rows": total}


def main() -> None:
    with open(INPUT) as f:
        cfg = json.load(f)
    code: str = cfg["code"]
    memory_mb: int = cfg["memory_mb"]
    # pandas and duckdb load in ~0.5 s each: only when the code can use them
    pd = duckdb = None
    if cfg["results"] or any(w in code for w in ("pandas", "pd.", "sql(", "duck", "DataFrame")):
        try:
            import pandas as pd
        except ImportError:
            pd = None
    if "duck" in code:
        try:
            import duckdb
        except ImportError:
            duckdb = None
    db_path = DB if os.path.exists(DB) else ""
    results = load_frames(cfg["results"], pd)
    env = {"__name__": "__main__", "results": results, "sql": make_sql(db_path, pd),
           "duck": make_duck(duckdb, pd, results), "DB_PATH": db_path, "pd": pd, "duckdb": duckdb}
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
    out: dict[str, Any] = {"error": None, "result": None}
    if cfg["guard"]:
        install_guard()
    try:
        exec(compile(code, "<agent>", "exec"), env)
    except MemoryError:
        out["error"] = f"MemoryError: the memory limit ({memory_mb} MB) was exceeded"
    except BaseException as e:  # noqa: BLE001 - the model's code failed: reported, not raised
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == "<agent>"]
        where = f" (line {frames[-1].lineno})" if frames else ""
        out["error"] = f"{type(e).__name__}{where}: {e}"
    finally:
        sys.stdout.flush()
    r = env.get("result")
    if out["error"] is None and r is not None:
        try:
            out["result"] = table_of(r, pd, cfg["keep_rows"])
        except Exception as e:  # noqa: BLE001 - reported to the model
            out["error"] = f"could not read `result`: {type(e).__name__}: {e}"
    with os.fdopen(int(sys.argv[1]), "w") as f:
        json.dump(out, f, default=str)


if __name__ == "__main__":
    main()
