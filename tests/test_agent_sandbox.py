"""The Python tool's sandbox: limits, no network, no writes, results in and out, fail closed."""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import threading
import uuid
from pathlib import Path

import pytest

from agent.sandbox import python_unavailable, run_python
from agent.tools import ResultTable, ToolBox

needs_sandbox = pytest.mark.skipif(python_unavailable() is not None, reason="the bubblewrap sandbox cannot start here")


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "d.sqlite"
    con = sqlite3.connect(path)
    con.executescript("CREATE TABLE t (a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'x'), (2, 'y'), (3, 'z');")
    con.close()
    return path


def _host_processes_with(mark: str) -> list[int]:
    """Host processes whose command line carries `mark`."""
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if mark.encode() in (d / "cmdline").read_bytes():
                    found.append(int(d.name))
            except OSError:
                pass
    return found


def _descendants() -> set[int]:
    """This process's children, grandchildren, ... (zombies included: not yet reaped)."""
    parent = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parent[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found: set[int] = set()
    frontier = [os.getpid()]
    while frontier:
        pid = frontier.pop()
        kids = {child for child, ppid in parent.items() if ppid == pid}
        found |= kids
        frontier += kids
    return found


@needs_sandbox
def test_time_limit_kills_the_process():
    """The endless loop runs as a process marked on its command line, so that the host can see
    whether anything of the call outlives it (`guard=False`: the audit hook would refuse the
    exec; the time limit is the OS sandbox's)."""
    mark = f"sqlwitness-time-limit-{uuid.uuid4().hex}"
    code = f"import os, sys\nos.execv(sys.executable, [sys.executable, '-c', 'while True: pass', {mark!r}])"
    before = _descendants()
    out = run_python(code, timeout=1.5, guard=False)
    assert out.killed == "time" and out.error == "stopped at the time limit of 1.5 s"
    assert _host_processes_with(mark) == []
    assert _descendants() <= before


@needs_sandbox
def test_time_limit_kills_sleeping_code_and_its_children():
    out = run_python("import time\ntime.sleep(60)", timeout=1.0)
    assert out.killed == "time"


@needs_sandbox
def test_memory_limit():
    out = run_python("x = bytearray(2 * 1024 ** 3)\nprint('allocated')", memory_mb=512, timeout=20)
    assert out.killed == "memory" and "memory limit (512 MB)" in out.error
    assert "allocated" not in out.stdout


@needs_sandbox
def test_no_network_connection():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(3)
    port = server.getsockname()[1]
    accepted = []

    def accept():
        try:
            accepted.append(server.accept())
        except OSError:
            pass

    th = threading.Thread(target=accept)
    th.start()
    code = f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=2)\nprint('connected')"
    out = run_python(code, timeout=10)
    th.join()
    server.close()
    assert accepted == []
    assert out.error and "network access is disabled" in out.error and "connected" not in out.stdout
    assert "network" in run_python("import urllib.request\nurllib.request.urlopen('http://127.0.0.1:9/')").error


@needs_sandbox
@pytest.mark.parametrize("code", [
    "import sqlite3\nsqlite3.connect(DB_PATH).execute('DELETE FROM t')",
    "open(DB_PATH, 'wb').write(b'')",
    "import os\nos.remove(DB_PATH)",
    "import subprocess\nsubprocess.run(['rm', DB_PATH])",
    "import duckdb\nduckdb.connect(DB_PATH + '.duck')",
])
def test_database_cannot_be_changed(db, code):
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    out = run_python(code, db_path=db, timeout=20)
    assert out.error and "PermissionError" in out.error and "allowed" in out.error
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


@needs_sandbox
def test_earlier_results_and_sql_helper(db):
    pytest.importorskip("pandas")
    results = {"r1": ResultTable(columns=["a", "b"], rows=[[1, "x"], [2, "y"]], total_rows=2)}
    code = ("df = results['r1']\n"
            "print(type(df).__name__, len(df))\n"
            "q = sql('SELECT a, b FROM t WHERE a > 1')\n"
            "result = q.merge(df, on='a')[['a', 'b_x']]")
    out = run_python(code, db_path=db, results=results, timeout=30)
    assert out.error is None, out.error
    assert out.stdout.strip() == "DataFrame 2"
    assert out.result.columns == ["a", "b_x"] and out.result.rows == [[2, "y"]]


@needs_sandbox
def test_duckdb_over_results():
    pytest.importorskip("pandas")
    results = {"r1": ResultTable(columns=["a"], rows=[[1], [2], [3]], total_rows=3)}
    out = run_python("result = duck('SELECT SUM(a) AS s FROM r1')", results=results, timeout=30)
    assert out.error is None, out.error
    assert out.result.rows == [[6]]


@needs_sandbox
def test_errors_name_the_line_and_missing_result():
    out = run_python("x = 1\ny = 1 / 0", timeout=20)
    assert out.error == "ZeroDivisionError (line 2): division by zero"
    assert run_python("result = [{'k': 1, 'v': 'a'}, {'k': 2, 'v': None}]").result.rows == [[1, "a"], [2, None]]
    assert run_python("result = 42").result.rows == [[42]]


@needs_sandbox
def test_python_tool_through_the_toolbox(db):
    box = ToolBox(db, python_timeout=20)
    box.call("run_sql", {"sql": "SELECT a FROM t"})
    r = box.call("run_python", {"code": "rows = results['r1']\nprint(len(rows))\nresult = [[len(rows)]]"})
    assert r.ok and "stdout:\n3" in r.text and r.result_id == "r2"
    bad = box.call("run_python", {"code": "import socket\nsocket.socket()"})
    assert not bad.ok and "network access is disabled" in bad.text


@pytest.fixture
def no_bwrap(tmp_path, monkeypatch):
    """A PATH without bubblewrap."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return empty


def test_fail_closed_without_bubblewrap(db, tmp_path, no_bwrap):
    marker = tmp_path / "ran-unisolated"
    out = run_python(f"open({str(marker)!r}, 'w').write('x')", db_path=db, timeout=20)
    assert out.disabled and out.error.startswith("the Python tool is disabled: bubblewrap (`bwrap`) is not installed")
    assert "apt-get install bubblewrap" in out.error
    assert not marker.exists()
    assert python_unavailable() == out.error


def test_fail_closed_when_bubblewrap_refuses(db, tmp_path, no_bwrap):
    fake = no_bwrap / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    out = run_python("print('hi')", db_path=db, timeout=20)
    assert out.disabled and out.stdout == ""
    assert out.error == ("the Python tool is disabled: bubblewrap refused to start the sandbox: "
                         "bwrap: No permissions to create new namespace")


def test_toolbox_without_sandbox_keeps_its_sql_tools(db, no_bwrap):
    box = ToolBox(db)
    assert box.python_disabled and "bubblewrap" in box.python_disabled
    assert "run_python" not in [s["function"]["name"] for s in box.specs()]
    r = box.call("run_python", {"code": "print(1)"})
    assert not r.ok and r.text == f"error: {box.python_disabled}"
    assert box.call("run_sql", {"sql": "SELECT COUNT(*) FROM t"}).text.splitlines()[-1] == "3"
    assert box.run_python_code("print(1)").disabled
