"""Running one Python program in an operating-system sandbox (bubblewrap), or refusing to.

`run_isolated(script, files, limits)` starts `python -I -B SCRIPT FD` under `bwrap` and returns
an `IsolatedRun`: captured stdout and stderr, the bytes the program wrote to its result channel
(the pipe whose descriptor number is its last argument, FD), and why it ended.
`unavailable_reason()` says why the sandbox cannot start here (None when it can);
`run_isolated` raises `IsolationUnavailable` then, and never runs anything unisolated.

What is enforced, and by what:

- **Namespaces** (bwrap `--unshare-all --unshare-user --disable-userns`): new user, mount, pid,
  network, IPC, UTS and cgroup namespaces. Inside, the program runs as uid/gid 65534 with every
  capability dropped (`--cap-drop ALL`), also when the agent runs as root; it cannot create
  further user namespaces. The network namespace has only its own loopback; the pid namespace
  shows only the sandbox's processes (a fresh `/proc`), so the parent's environment and other
  processes cannot be seen or signalled. The pid namespace dies with its first process
  (`--die-with-parent`, and the kernel kills every process of a pid namespace whose init
  exits), so nothing started inside survives the call.
- **Filesystem**: a new root holding read-only binds of `/usr` (with the `/bin`, `/lib`, ...
  links), the Python installation and virtual environment, and the given `files` (each bound
  read-only at `/sandbox/NAME`); `/dev` holds only the standard device nodes and is read-only;
  `/tmp` is a fresh tmpfs of `scratch_mb` MB, the only writable place, which vanishes with the
  call. Nothing else of the host (the project, home folders, sockets in `/run`) is visible.
- **Environment**: empty (`--clearenv`) except `HOME`/`TMPDIR=/tmp`, `LANG` and one-thread
  settings for numeric libraries.
- **Memory**: where a cgroup v1 `memory` hierarchy is writable (root), each call gets its own
  cgroup with `memory.limit_in_bytes` (and `memory.memsw.limit_in_bytes` where swap accounting
  exists) of `memory_mb + scratch_mb`: anonymous memory, memfd, tmpfs and shared memory are all
  charged to it, and the kernel kills the sandbox past it. A `pids` cgroup caps processes at
  `max_pids`. Without writable cgroups the limits are rlimits only: `RLIMIT_FSIZE` (every file,
  memfd included, at most `scratch_mb`), `RLIMIT_NOFILE` (`max_files`), the tmpfs size, and the
  program's own `RLIMIT_AS` (see `agent.py_runner`); memfd memory is then bounded by
  `max_files * scratch_mb`, not by `memory_mb`.
- **Time**: `RLIMIT_CPU` per process, set before bwrap starts; the wall clock is enforced by
  this process, which kills the sandbox (its process group, and every task of its cgroups) at
  `timeout`.
- **Output**: stdout and stderr are read while the program runs; the first `max_output` bytes
  of each are kept and the rest counted and dropped; past `kill_output` bytes in all the
  sandbox is stopped. The result channel is capped at `max_result` bytes.
"""

from __future__ import annotations

import itertools
import os
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

CGROUP_ROOT = Path("/sys/fs/cgroup")
SANDBOX_DIR = "/sandbox"
INSTALL_HINT = "install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora: `dnf install bubblewrap`)"


class IsolationUnavailable(RuntimeError):
    """The OS sandbox cannot start here; the message says why and how to fix it."""


@dataclass(frozen=True)
class Limits:
    """What one sandboxed run may use."""

    timeout: float = 20.0
    memory_mb: int = 2048
    scratch_mb: int = 256
    max_pids: int = 64
    max_files: int = 64
    max_output: int = 20_000
    kill_output: int = 64 * 2**20
    max_result: int = 32 * 2**20


@dataclass
class IsolatedRun:
    """How one sandboxed run ended and what it wrote."""

    returncode: int | None
    stdout: bytes
    stderr: bytes
    result: bytes
    stdout_dropped: int = 0
    stderr_dropped: int = 0
    seconds: float = 0.0
    killed: Literal["time", "memory", "output", "result"] | None = None


# --------------------------------------------------------------------------------------------
# Availability (probed once per bwrap binary and Python)

_probe_lock = threading.Lock()
_probed: dict[tuple[str | None, str], str | None] = {}


def unavailable_reason() -> str | None:
    """None when the sandbox starts here; otherwise one line saying why not and how to fix it.
    Probes by running a one-line Python program in the full sandbox (once per process, bwrap
    path and Python); a failed probe disables the sandbox for the rest of the process."""
    bwrap = shutil.which("bwrap")
    key = (bwrap, sys.executable)
    with _probe_lock:
        if key not in _probed:
            _probed[key] = _probe(bwrap)
        return _probed[key]


def _probe(bwrap: str | None) -> str | None:
    if bwrap is None:
        return f"bubblewrap (`bwrap`) is not installed; {INSTALL_HINT}"
    try:
        run = _run(bwrap, ["-c", "import sys; sys.stdout.write('sandbox-ok')"], {}, Limits(timeout=60))
    except OSError as e:
        return f"bubblewrap could not be started ({e}); {INSTALL_HINT}"
    if run.returncode == 0 and run.stdout == b"sandbox-ok":
        return None
    why = run.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {run.returncode}"]
    return f"bubblewrap refused to start the sandbox: {why[0]}"


def run_isolated(script: Path, files: dict[str, Path], limits: Limits) -> IsolatedRun:
    """Run `python -I -B /sandbox/<script name> FD` (FD: the result channel) in the sandbox,
    with `files` bound read-only at `/sandbox/NAME`. Raises IsolationUnavailable where the
    sandbox cannot start."""
    reason = unavailable_reason()
    if reason is not None:
        raise IsolationUnavailable(reason)
    bwrap = shutil.which("bwrap")
    if bwrap is None:  # removed since the probe
        raise IsolationUnavailable(f"bubblewrap (`bwrap`) is not installed; {INSTALL_HINT}")
    binds = {script.name: script, **files}
    return _run(bwrap, [f"{SANDBOX_DIR}/{script.name}"], binds, limits)


# --------------------------------------------------------------------------------------------
# The command


def _python_dirs() -> list[Path]:
    """Directories the child's Python needs: the installation and the virtual environment."""
    dirs = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(),
            Path(sys.executable).resolve().parent.parent}
    return sorted(d for d in dirs if d != Path("/usr") and not d.is_relative_to(Path("/usr")))


def bwrap_args(binds: dict[str, Path], limits: Limits) -> list[str]:
    """bwrap's options for a sandbox with `binds` at /sandbox/NAME (see the module doc)."""
    args = ["--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534", "--disable-userns",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv",
            "--ro-bind", "/usr", "/usr"]
    for link in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        p = Path("/") / link
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            args += ["--ro-bind", str(p), str(p)]
    for etc in ("/etc/ld.so.cache", "/etc/localtime"):
        if Path(etc).exists():
            args += ["--ro-bind", etc, etc]
    # the scratch tmpfs first: a Python installation or virtual environment under /tmp is then
    # bound on top of it (read-only) instead of being hidden by it
    args += ["--perms", "1777", "--size", str(limits.scratch_mb * 2**20), "--tmpfs", "/tmp"]
    for d in _python_dirs():
        args += ["--ro-bind", str(d), str(d)]
    for name, src in binds.items():
        args += ["--ro-bind", str(src), f"{SANDBOX_DIR}/{name}"]
    args += ["--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev",
             "--remount-ro", "/", "--chdir", "/tmp"]
    env = {"HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "MALLOC_ARENA_MAX": "2"}  # per-thread malloc arenas would eat the address-space limit
    for k, v in env.items():
        args += ["--setenv", k, v]
    return args


_counter = itertools.count()


def _make_cgroups(limits: Limits) -> list[Path]:
    """A fresh memory and pids cgroup (v1) for one run, or [] where they cannot be created."""
    name = f"sqlwitness-py-{os.getpid()}-{next(_counter)}"
    made: list[Path] = []
    settings = {"memory": {"memory.limit_in_bytes": (limits.memory_mb + limits.scratch_mb) * 2**20,
                           "memory.memsw.limit_in_bytes": (limits.memory_mb + limits.scratch_mb) * 2**20},
                "pids": {"pids.max": limits.max_pids}}
    try:
        for controller, values in settings.items():
            d = CGROUP_ROOT / controller / name
            d.mkdir()
            made.append(d)
            for fname, value in values.items():
                if (d / fname).exists():
                    (d / fname).write_text(str(value))
        return made
    except OSError:
        _remove_cgroups(made)
        return []


def _kill_cgroups(groups: list[Path]) -> None:
    for g in groups:
        for _ in range(100):
            try:
                pids = [int(p) for p in (g / "cgroup.procs").read_text().split()]
            except OSError:
                break
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.01)


def _remove_cgroups(groups: list[Path]) -> None:
    _kill_cgroups(groups)
    for g in groups:
        for _ in range(100):
            try:
                g.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:  # tasks still exiting
                time.sleep(0.01)


def _oom_killed(groups: list[Path]) -> bool:
    for g in groups:
        try:
            text = (g / "memory.oom_control").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("oom_kill ") and int(line.split()[1]) > 0:
                return True
    return False


# Joins the cgroups given before `--`, sets the rlimits, then becomes bwrap.
_ENTER = ('ulimit -t {cpu} && ulimit -f {fsize} && ulimit -n {nofile} && ulimit -c 0 || exit 125; '
          'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"')


def _run(bwrap: str, python_args: list[str], binds: dict[str, Path], limits: Limits) -> IsolatedRun:
    groups = _make_cgroups(limits)
    enter = _ENTER.format(cpu=max(1, int(limits.timeout) + 1), fsize=limits.scratch_mb * 2048,
                          nofile=limits.max_files)
    t0 = time.monotonic()
    result_r, result_w = os.pipe()
    cmd = ["/bin/sh", "-c", enter, "sh", *(str(g / "cgroup.procs") for g in groups), "--",
           bwrap, *bwrap_args(binds, limits), str(Path(sys.executable).absolute()), "-I", "-B", *python_args,
           str(result_w)]
    try:
        proc = subprocess.Popen(cmd, env={}, cwd="/", stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, pass_fds=(result_w,), start_new_session=True,
                                close_fds=True)
    except BaseException:
        os.close(result_r)
        os.close(result_w)
        _remove_cgroups(groups)
        raise
    os.close(result_w)
    try:
        run = _collect(proc, result_r, limits, t0)
    finally:
        os.close(result_r)
        _kill(proc, groups)
        proc.wait()
        oom = _oom_killed(groups)
        _remove_cgroups(groups)
    if run.killed is None and oom:
        run.killed = "memory"
    run.returncode = proc.returncode
    run.seconds = time.monotonic() - t0
    return run


def _collect(proc: subprocess.Popen, result_fd: int, limits: Limits, t0: float) -> IsolatedRun:
    """Read stdout, stderr and the result channel with caps until all close or a limit ends
    the run."""
    assert proc.stdout is not None and proc.stderr is not None
    bufs: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray(), "result": bytearray()}
    dropped = {"stdout": 0, "stderr": 0, "result": 0}
    caps = {"stdout": limits.max_output, "stderr": limits.max_output, "result": limits.max_result}
    killed: Literal["time", "output", "result"] | None = None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout.fileno(), selectors.EVENT_READ, "stdout")
    sel.register(proc.stderr.fileno(), selectors.EVENT_READ, "stderr")
    sel.register(result_fd, selectors.EVENT_READ, "result")
    deadline = t0 + limits.timeout
    try:
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                killed = "time"
                break
            for key, _ in sel.select(timeout=min(left, 1.0)):
                name = key.data
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fd)
                    continue
                room = caps[name] - len(bufs[name])
                bufs[name] += chunk[:max(room, 0)]
                dropped[name] += max(len(chunk) - max(room, 0), 0)
            if dropped["result"]:
                killed = "result"
                break
            if dropped["stdout"] + dropped["stderr"] > limits.kill_output:
                killed = "output"
                break
        else:
            left = deadline - time.monotonic()
            try:
                proc.wait(timeout=max(left, 0.001))
            except subprocess.TimeoutExpired:
                killed = "time"
    finally:
        sel.close()
    return IsolatedRun(returncode=None, stdout=bytes(bufs["stdout"]), stderr=bytes(bufs["stderr"]),
                       result=bytes(bufs["result"]), stdout_dropped=dropped["stdout"],
                       stderr_dropped=dropped["stderr"], killed=killed)


def _kill(proc: subprocess.Popen, groups: list[Path]) -> None:
    """Stop the sandbox: its process group (bwrap and, through the pid namespace, everything
    inside) and every task of its cgroups."""
    if proc.poll() is None:  # once reaped, its pid (and group id) may belong to someone else
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _kill_cgroups(groups)
