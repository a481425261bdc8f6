"""Attacks on the Python tool's sandbox, run with and without the in-process audit hook.

Every attack must leave the database byte-identical, create nothing outside the call's scratch
folder, leave no process running after the call, and keep the parent's memory bounded. Without
the hook (`guard=False`) these show that the operating-system sandbox holds on its own.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from agent import isolation
from agent.sandbox import PythonOutcome, run_python
from agent.tools import ToolBox

pytestmark = pytest.mark.skipif(isolation.unavailable_reason() is not None,
                                reason="the bubblewrap sandbox cannot start here")

MARK = "sqlwitness-attack-4711"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "d.sqlite"
    con = sqlite3.connect(path)
    con.executescript("CREATE TABLE t (a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'x'), (2, 'y');")
    con.close()
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _marked_processes() -> list[int]:
    """Host processes whose command line carries MARK."""
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if MARK.encode() in (d / "cmdline").read_bytes():
                    found.append(int(d.name))
            except OSError:
                pass
    return found


def _peak_rss_reset() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def _cgroups_left() -> list[Path]:
    return [g for c in ("memory", "pids") for g in (isolation.CGROUP_ROOT / c).glob(f"sqlwitness-py-{os.getpid()}-*")]


# Each attack tries to change the database, write outside /tmp, or leave something behind. A
# success prints "ESCAPED"; the asserts below check the effects on the host, not the message.
ATTACKS = {
    "sqlite_write": "import sqlite3\nc = sqlite3.connect(DB_PATH)\nc.execute('DELETE FROM t'); c.commit()\nprint('ESCAPED')",
    "attach_write": ("import sqlite3\nc = sqlite3.connect(':memory:')\nc.execute(\"ATTACH '\" + DB_PATH + \"' AS x\")\n"
                     "c.execute('DROP TABLE x.t'); c.commit()\nprint('ESCAPED')"),
    "vacuum_into": ("import sqlite3\nc = sqlite3.connect('file:' + DB_PATH + '?mode=ro', uri=True)\n"
                    "c.execute(\"VACUUM INTO '{out}/vacuumed.sqlite'\")\nprint('ESCAPED')"),
    "open_db_for_write": "open(DB_PATH, 'r+b').write(b'garbage')\nprint('ESCAPED')",
    "dir_fd": ("import os\nfd = os.open('{out}', os.O_RDONLY | os.O_DIRECTORY)\n"
               "w = os.open('planted.txt', os.O_WRONLY | os.O_CREAT, dir_fd=fd)\nos.write(w, b'x')\nprint('ESCAPED')"),
    "db_dir_fd": ("import os\nfd = os.open(os.path.dirname(DB_PATH), os.O_RDONLY)\n"
                  "os.unlink(os.path.basename(DB_PATH), dir_fd=fd)\nprint('ESCAPED')"),
    "symlink": ("import os\nos.symlink(DB_PATH, '/tmp/l')\nopen('/tmp/l', 'wb').write(b'')\n"
                "os.symlink('/tmp', '{out}/link')\nprint('ESCAPED')"),
    "hardlink": "import os\nos.link(DB_PATH, '/tmp/h')\nopen('/tmp/h', 'wb').write(b'')\nprint('ESCAPED')",
    "posixsubprocess": ("import _posixsubprocess, os\nr, w = os.pipe()\n"
                        "_posixsubprocess.fork_exec(['/bin/sh', '-c', 'echo x > {out}/sh.txt; rm -f ' + DB_PATH], "
                        "[b'/bin/sh'], True, (), None, None, -1, -1, -1, -1, -1, -1, r, w, False, False, -1, None, "
                        "None, None, -1, None, False)\nimport time; time.sleep(1)\nprint('spawned')"),
    "fork_write": ("import os\npid = os.fork()\nif pid == 0:\n    try:\n        open('{out}/forked.txt', 'w').write('x')\n"
                   "        open(DB_PATH, 'wb')\n        print('ESCAPED')\n    finally:\n        os._exit(0)\n"
                   "os.waitpid(pid, 0)\nraise SystemExit('fork ran')"),
    "guard_state": ("g = sql.__globals__\nimport gc, sys\nfor o in gc.get_objects():\n"
                    "    if isinstance(o, frozenset) and 'os.fork' in o:\n        print('hook state found')\n"
                    "__builtins__['open'] = lambda *a, **k: None\nimport io\nio.open('{out}/builtins.txt', 'w').write('x')\n"
                    "print('ESCAPED')"),
    "ctypes_native": ("import ctypes, ctypes.util\nlibc = ctypes.CDLL(None)\n"
                      "fd = libc.open(b'{out}/native.txt', 0o101, 0o644)\nlibc.write(fd, b'x', 1)\n"
                      "libc.unlink(DB_PATH.encode())\nassert fd >= 0\nprint('ESCAPED')"),
    "signal_others": ("import os, signal\nsent = 0\nfor pid in range(1, 4096):\n    try:\n"
                      "        os.kill(pid, 0)\n        sent += 1\n    except OSError:\n        pass\n"
                      "os.kill(os.getppid(), signal.SIGKILL)\nprint('visible', sent)\nos.kill({parent}, signal.SIGKILL)\n"
                      "print('ESCAPED')"),
    "detached_fork": ("import os\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                      "        os.execv('/bin/sleep', ['sleep', '600', '{mark}'])\n    os._exit(0)\n"
                      "import time; time.sleep(0.5)\nprint('spawned')"),
    "next_start": ("import os, site, sys\nfor d in site.getsitepackages() + [sys.prefix, sys.base_prefix]:\n"
                   "    for name in ('sitecustomize.py', 'evil.pth'):\n        try:\n"
                   "            open(os.path.join(d, name), 'w').write('import os; os.remove(\"' + DB_PATH + '\")')\n"
                   "            print('ESCAPED', d)\n        except OSError:\n            pass\n"
                   "open('/sandbox/py_runner.py', 'a').write('x')\nprint('ESCAPED')"),
    "network": ("import socket\ns = socket.socket()\ns.settimeout(2)\ns.connect(('10.0.0.1', 80))\nprint('ESCAPED')"),
    "unix_socket": ("import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect('/run/systemd/private')\nprint('ESCAPED')"),
    "parent_environment": ("import os\nprint(sorted(os.environ))\nfor p in os.listdir('/proc'):\n    if p.isdigit():\n"
                           "        print(p, open(f'/proc/{{p}}/environ', 'rb').read())\n"
                           "print([f for f in os.listdir('/') ])\nprint(open('/proc/1/cmdline','rb').read())"),
    "new_user_namespace": ("import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                           "assert libc.unshare(0x10000000) != 0, 'ESCAPED: a new user namespace'\n"
                           "assert libc.unshare(0x00020000) != 0, 'ESCAPED: a new mount namespace'\n"
                           "assert libc.mount(b'none', b'/sandbox', b'tmpfs', 0, None) != 0, 'ESCAPED: mount'\n"
                           "print('contained')"),
    "write_root": "open('/evil', 'w').write('x')\nprint('ESCAPED')",
}


@pytest.mark.parametrize("guard", [False, True], ids=["os-only", "with-hook"])
@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_is_contained(db: Path, tmp_path: Path, name: str, guard: bool) -> None:
    out_dir = tmp_path / "outside"
    out_dir.mkdir()
    before = _digest(db)
    code = ATTACKS[name].format(out=out_dir, mark=MARK, parent=os.getpid())
    out = run_python(code, db_path=db, timeout=30, guard=guard)
    assert _digest(db) == before, out
    assert list(out_dir.iterdir()) == [], out
    assert sorted(p.name for p in db.parent.iterdir()) == ["d.sqlite", "outside"]
    assert not Path("/evil").exists()
    assert _marked_processes() == []
    assert _cgroups_left() == []
    assert "ESCAPED" not in out.stdout, out
    if name == "new_user_namespace" and not guard:
        assert out.stdout.strip() == "contained", out
    assert out.error is not None or name in ("parent_environment", "detached_fork", "posixsubprocess",
                                                     "new_user_namespace"), out
    if name == "parent_environment":
        assert "API" not in out.stdout and "PATH=" not in out.stdout
        assert sorted(eval(out.stdout.splitlines()[0])) == sorted(  # noqa: S307 - our own output
            ["HOME", "LANG", "MALLOC_ARENA_MAX", "MKL_NUM_THREADS", "OMP_NUM_THREADS",
             "OPENBLAS_NUM_THREADS", "PWD", "PYTHONHASHSEED", "TMPDIR"])


def test_parent_environment_is_not_visible(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQLWITNESS_TEST_SECRET", "sk-do-not-leak")
    code = ("import os\nprint(os.environ.get('SQLWITNESS_TEST_SECRET'))\n"
            "for p in os.listdir('/proc'):\n    if p.isdigit():\n"
            "        print(open(f'/proc/{p}/environ', 'rb').read())")
    out = run_python(code, timeout=30, guard=False)
    assert "sk-do-not-leak" not in out.stdout and out.stdout.startswith("None")


def test_memfd_and_shared_memory_count_against_the_limit() -> None:
    code = ("import os\nfd = os.memfd_create('x')\nchunk = b'x' * 2**20\n"
            "for i in range(2048):\n    os.write(fd, chunk)\nprint('ESCAPED')")
    out = run_python(code, memory_mb=256, timeout=60, guard=False)
    assert "ESCAPED" not in out.stdout and out.error
    many = ("import os\nchunk = b'x' * 2**20\nfds = []\nfor i in range(60):\n    fd = os.memfd_create('x')\n"
            "    for _ in range(40):\n        os.write(fd, chunk)\n    fds.append(fd)\nprint('ESCAPED')")
    out = run_python(many, memory_mb=256, timeout=60, guard=False)
    assert "ESCAPED" not in out.stdout and out.error
    if os.access(isolation.CGROUP_ROOT / "memory", os.W_OK):  # the cgroup, not rlimits, stopped it
        assert out.killed == "memory" and "memory limit (256 MB)" in out.error
    shm = "f = open('/dev/shm/x', 'wb')\nprint('ESCAPED')"
    assert "ESCAPED" not in run_python(shm, timeout=30, guard=False).stdout
    posix_shm = ("from multiprocessing import shared_memory\nm = shared_memory.SharedMemory(create=True, size=2**30)\n"
                 "m.buf[:] = b'x' * 2**30\nprint('ESCAPED')")
    out = run_python(posix_shm, memory_mb=256, timeout=60, guard=False)
    assert "ESCAPED" not in out.stdout and out.error
    tmpfs = "chunk = b'x' * 2**20\nwith open('/tmp/big', 'wb') as f:\n    for i in range(4096):\n        f.write(chunk)\nprint('ESCAPED')"
    out = run_python(tmpfs, memory_mb=256, timeout=60, guard=False)
    assert "ESCAPED" not in out.stdout and out.error
    assert _cgroups_left() == []


def test_huge_stdout_is_capped_and_the_parent_stays_small() -> None:
    _peak_rss_reset()
    start = _peak_rss_mb()
    code = "import os\nchunk = b'y' * 2**20\nfor i in range(300):\n    os.write(1, chunk)\n    os.write(2, chunk)"
    out = run_python(code, timeout=60, guard=False)
    assert len(out.stdout) < 21_000 and "[truncated" in out.stdout
    assert _peak_rss_mb() - start < 100


def test_endless_output_is_stopped() -> None:
    out = run_python("import os\nwhile True:\n    os.write(1, b'z' * 65536)", timeout=120, guard=False)
    assert out.killed in ("output", "time") and out.error


def test_fork_bomb_is_bounded() -> None:
    code = ("import os\nn = 0\ntry:\n    while True:\n        if os.fork() == 0:\n"
            "            os.execv('/bin/sleep', ['sleep', '600', '" + MARK + "'])\n        n += 1\n"
            "except OSError:\n    pass\nprint('forked', n)")
    out = run_python(code, timeout=60, guard=False)
    forked = int(out.stdout.split()[1])
    assert forked < isolation.Limits().max_pids
    assert _marked_processes() == []


def test_process_outliving_the_time_limit_is_killed() -> None:
    code = ("import os, time\nif os.fork() == 0:\n    os.setsid()\n"
            "    os.execv('/bin/sleep', ['sleep', '600', '" + MARK + "'])\ntime.sleep(600)")
    out = run_python(code, timeout=3, guard=False)
    assert out.killed == "time"
    assert _marked_processes() == []
    assert _cgroups_left() == []


def test_forged_result_channel_is_an_error_not_a_crash() -> None:
    code = "import os, sys\nos.write(int(sys.argv[1]), b'{not json')\nos._exit(0)"
    out = run_python(code, timeout=30, guard=False)
    assert out.error and "failed" in out.error and out.result is None


def test_results_still_come_back_as_tables(db: Path) -> None:
    pytest.importorskip("pandas")
    box = ToolBox(db, python_timeout=60)
    box.call("run_sql", {"sql": "SELECT a, b FROM t"})
    r = box.call("run_python", {"code": "df = results['r1']\nresult = df[df.a > 1]"})
    assert r.ok and r.result_id == "r2" and box.results["r2"].rows == [[2, "y"]]


def test_without_cgroups_rlimits_and_the_pid_namespace_still_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(isolation, "CGROUP_ROOT", Path("/nonexistent-cgroup-root"))
    out = run_python("import os\nfd = os.memfd_create('x')\nchunk = b'x' * 2**20\n"
                     "for i in range(2048):\n    os.write(fd, chunk)\nprint('ESCAPED')", timeout=60, guard=False)
    assert "ESCAPED" not in out.stdout and "File too large" in out.error
    out = run_python("import os, time\nif os.fork() == 0:\n    os.setsid()\n"
                     "    os.execv('/bin/sleep', ['sleep', '600', '" + MARK + "'])\ntime.sleep(600)",
                     timeout=3, guard=False)
    assert out.killed == "time" and _marked_processes() == []
    out = run_python("import os\nprint(len(os.listdir('/proc')))\nopen('/tmp/ok', 'w').write('x')", timeout=30, guard=False)
    assert out.error is None


def test_no_route_to_host_sockets_tcp_or_abstract_unix() -> None:
    listeners = []
    for family, address in ((socket.AF_INET, ("127.0.0.1", 0)), (socket.AF_UNIX, "\0sqlwitness-attack-4711")):
        s = socket.socket(family)
        s.bind(address)
        s.listen(1)
        s.setblocking(False)
        listeners.append(s)
    port = listeners[0].getsockname()[1]
    code = ("import socket\nfor fam, addr in ((socket.AF_INET, ('127.0.0.1', " + str(port) + ")), "
            "(socket.AF_UNIX, '\\0sqlwitness-attack-4711')):\n    s = socket.socket(fam)\n    s.settimeout(2)\n"
            "    try:\n        s.connect(addr)\n        print('ESCAPED', fam)\n    except OSError as e:\n"
            "        print('refused', e.errno)")
    try:
        out = run_python(code, timeout=30, guard=False)
        for s in listeners:
            with pytest.raises(BlockingIOError):
                s.accept()
    finally:
        for s in listeners:
            s.close()
    assert out.error is None and out.stdout.count("refused") == 2 and "ESCAPED" not in out.stdout


def test_signals_reach_no_process_outside() -> None:
    bystander = subprocess.Popen(["sleep", "120"], start_new_session=True)
    try:
        code = (f"import os, signal\nfor target in (-1, {bystander.pid}, {os.getpid()}):\n    try:\n"
                "        os.kill(target, signal.SIGKILL)\n    except OSError as e:\n        print('no', target, e.errno)\n"
                f"try:\n    os.killpg({bystander.pid}, signal.SIGKILL)\nexcept OSError as e:\n    print('no group', e.errno)")
        out = run_python(code, timeout=30, guard=False)
        assert bystander.poll() is None, out
        assert f"no {bystander.pid} 3" in out.stdout and "no group 3" in out.stdout
    finally:
        bystander.kill()
        bystander.wait()


def test_scratch_folder_is_fresh_for_every_call() -> None:
    plant = ("open('/tmp/sitecustomize.py', 'w').write('print(\"PLANTED\")')\n"
             "open('/tmp/usercustomize.py', 'w').write('print(\"PLANTED\")')")
    assert run_python(plant, timeout=30, guard=False).error is None
    out = run_python("import os\nprint(sorted(os.listdir('/tmp')))", timeout=30, guard=False)
    # only the mount points of a Python installation or virtual environment that lives under /tmp
    python_dirs = {Path(d).resolve() for d in (sys.prefix, sys.base_prefix)}
    mount_points = sorted({d.relative_to("/tmp").parts[0] for d in python_dirs if d.is_relative_to("/tmp")})
    assert out.stdout.strip() == repr(mount_points) and "PLANTED" not in out.stdout


def test_huge_result_is_refused_and_the_parent_stays_small() -> None:
    _peak_rss_reset()
    start = _peak_rss_mb()
    out = run_python("result = [['x' * 10**6] for _ in range(400)]", timeout=120, guard=False)
    assert out.killed == "result" and out.result is None and "larger than 32 MB" in out.error
    assert _peak_rss_mb() - start < 150


def test_concurrent_calls_are_separate() -> None:
    outs: dict[int, PythonOutcome] = {}

    def call(i: int) -> None:
        code = f"import os\nopen('/tmp/mine', 'w').write('{i}')\nimport time; time.sleep(0.5)\nprint(open('/tmp/mine').read())"
        outs[i] = run_python(code, timeout=60, guard=False)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert {i: o.stdout.strip() for i, o in outs.items()} == {0: "0", 1: "1", 2: "2"}
    assert _cgroups_left() == []


def test_limits_set_outside_cannot_be_raised() -> None:
    code = ("import resource\nfor r in (resource.RLIMIT_CPU, resource.RLIMIT_FSIZE, resource.RLIMIT_NOFILE, resource.RLIMIT_AS):\n"
            "    soft, hard = resource.getrlimit(r)\n    print(hard)\n    try:\n"
            "        resource.setrlimit(r, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n        print('ESCAPED')\n"
            "    except (ValueError, OSError):\n        pass")
    out = run_python(code, timeout=30, memory_mb=512, guard=False)
    limits = isolation.Limits()
    assert out.error is None and "ESCAPED" not in out.stdout
    assert [int(x) for x in out.stdout.split()] == [31, limits.scratch_mb * 2**20, limits.max_files, 512 * 2**20]
