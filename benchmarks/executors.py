"""Run many independent tasks: a local process pool (default) or a Ray cluster.

Both executors take a picklable top-level function and `(task_id, argument)` pairs, and yield
`TaskOutcome`s in completion order. With `isolate=True` every task runs in a process of its own,
forked from a worker that has done nothing but import: a task then cannot see what earlier tasks
left behind in the process. Verification needs this for reproducible verdicts: Z3 keeps
process-wide state (its symbol table, among others) across contexts, so after other
verifications the same assertions in a fresh Z3 context can take another search path, spend
another amount of the resource budget and give another model.

A task that runs past `timeout` seconds is stopped (its
local worker process is killed and replaced; a Ray task is force-cancelled) and reported with
`error="timeout"`, so one hanging pair never blocks a run. A task whose worker dies is reported
with the exit code; an exception inside the function is reported as its message.

    >>> from benchmarks.executors import LocalExecutor
    >>> outs = LocalExecutor(workers=2).map(abs, [("a", -1), ("b", -2)], timeout=30)
    >>> sorted((o.task_id, o.value) for o in outs)
    [('a', 1), ('b', 2)]

Ray (`pip install '.[ray]'`): `RayExecutor(address=None)` starts or joins a local instance;
`address="ray://host:10001"` or `"auto"` joins a cluster whose nodes have sqlwitness installed.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing as mp
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict


class TaskOutcome(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    task_id: str
    value: Any = None
    # "timeout", "worker died (exit code N)", "task process died (...)" or "ExceptionType: message"
    error: str | None = None
    seconds: float = 0.0


def _worker(fn: Callable[[Any], Any], conn: Any) -> None:
    """Run tasks until the parent says stop (None) or is gone. Ctrl-C reaches the whole process
    group; only the parent acts on it (it kills the workers), so a worker ignores it: from its
    very start, while it still imports, when `_Slot` started it with SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warmed = False
    try:
        conn.send(_READY)  # a task's clock starts now, not while the process was still starting
    except OSError:
        return
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        task_id, arg, *options = msg
        isolate, warm_up = (options + [False, None])[:2]
        if isolate:
            if warm_up is not None and not warmed:
                warmed = True
                _call(warm_up, None)  # the same in every worker, so every task forks from the same state
            reply = (task_id, *_call_in_fork(fn, arg))
        else:
            reply = (task_id, *_call(fn, arg))
        try:
            conn.send(reply)
        except OSError:  # the parent is gone (killed): nobody wants the result
            return
        except Exception as e:  # noqa: BLE001 - a value that does not pickle
            with contextlib.suppress(OSError):
                conn.send((task_id, None, _error_text(e)))


def _call(fn: Callable[[Any], Any], arg: Any) -> tuple[Any, str | None]:
    """`(fn(arg), None)`, or `(None, error text)` when it raises."""
    try:
        return fn(arg), None
    except Exception as e:  # noqa: BLE001 - reported to the parent as the task's error
        return None, _error_text(e)


_PR_SET_PDEATHSIG = 1  # prctl(2), Linux


def _die_with_parent() -> bool:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux `prctl`), so that a
    task's process never outlives the worker the executor kills on a timeout or Ctrl-C. False
    where that cannot be arranged."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def can_isolate() -> bool:
    """Whether tasks can run in processes of their own here (Linux: `fork` and `prctl`)."""
    return hasattr(os, "fork") and sys.platform.startswith("linux")


def _pickled(reply: tuple[Any, str | None]) -> bytes:
    """A task process's reply as bytes; a value that does not pickle becomes its error."""
    try:
        return pickle.dumps(reply)
    except Exception as e:  # noqa: BLE001 - reported to the parent as the task's error
        return pickle.dumps((None, _error_text(e)))


def _call_in_fork(fn: Callable[[Any], Any], arg: Any) -> tuple[Any, str | None]:
    """`_call(fn, arg)` in a child forked from this process, which is left as it was. The child
    sends its pickled reply through a pipe and exits; a child that dies first (a crash, the
    kernel's OOM killer) is an error naming its exit status. Where processes cannot be isolated
    (`can_isolate()` is false) the call runs here."""
    if not can_isolate():
        return _call(fn, arg)
    parent = os.getpid()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the worker's loop
        code = 0
        try:
            os.close(r)
            if not _die_with_parent() or os.getppid() != parent:
                os._exit(1)
            with os.fdopen(w, "wb") as out:
                out.write(_pickled(_call(fn, arg)))
        except BaseException:  # noqa: BLE001 - the parent reports a child without a reply
            code = 1
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)
    os.close(w)
    chunks = []
    with os.fdopen(r, "rb") as inp:
        while chunk := inp.read(1 << 20):
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    if chunks:
        try:
            return pickle.loads(b"".join(chunks))
        except Exception as e:  # noqa: BLE001 - a reply cut short
            return None, f"task process sent an unreadable reply ({type(e).__name__})"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        why = ", SIGKILL: e.g. the kernel's OOM killer when memory ran out" if sig == signal.SIGKILL else ""
        return None, f"task process died (signal {sig}{why})"
    return None, f"task process died (exit code {os.WEXITSTATUS(status)})"


def _reply_from_child(fn: Callable[[Any], Any], arg: Any, conn: Any) -> None:
    """A forkserver child's body: `_call(fn, arg)` sent through `conn`."""
    if not _die_with_parent():
        conn.send_bytes(_pickled((None, "task process: cannot be tied to its parent (prctl)")))
        return
    conn.send_bytes(_pickled(_call(fn, arg)))


def _call_in_fresh_process(fn: Callable[[Any], Any], arg: Any) -> tuple[Any, str | None]:
    """`_call(fn, arg)` in a new process from a multiprocessing forkserver: for a worker that
    cannot fork itself safely because it runs threads (Ray's workers do). The forkserver is a
    single-threaded process that imports `fn`'s module once; every task forks from it, so every
    task starts from the same state."""
    if not can_isolate():
        return _call(fn, arg)
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload([fn.__module__])
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_reply_from_child, args=(fn, arg, send), daemon=True)
    proc.start()
    send.close()
    try:
        return pickle.loads(recv.recv_bytes())
    except EOFError:
        proc.join()
        return None, f"task process died (exit code {proc.exitcode})"
    finally:
        proc.join()
        recv.close()


def _isolated(job: tuple[Callable[[Any], Any], Any]) -> Any:
    """A Ray task's body with `isolate=True`: `fn(arg)` in a fresh process; its error is raised
    here, so that Ray reports it as the task's failure."""
    fn, arg = job
    value, err = _call_in_fresh_process(fn, arg)
    if err is not None:
        raise RuntimeError(err.splitlines()[0])
    return value


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while a worker process starts, so that it starts ignoring it: an ignored
    signal stays ignored across exec, and Python keeps it so. A worker that set this up itself
    would do it only after importing the parent's modules, seconds on a loaded machine, during
    which Ctrl-C would kill it with a traceback. (A Ctrl-C in these few milliseconds is lost to
    the parent. Only the main thread can change signal handlers: another thread starts its
    workers as they are, and they ignore SIGINT once `_worker` runs.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


_READY = "worker ready"
_START_LIMIT = 120.0  # seconds a new worker process may take to start (imports on a loaded machine)


def _error_text(e: Exception) -> str:
    return f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=3)}"


class _Slot:
    def __init__(self, ctx: Any, fn: Callable[[Any], Any]):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(fn, child), daemon=True)
        with _sigint_ignored():
            self.proc.start()
        child.close()
        self.task: str | None = None
        self.started = time.monotonic()
        self.ready = False

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()


class LocalExecutor:
    """A pool of `workers` processes (spawned, so the parent's threads and open files stay out)."""

    name = "local"

    def __init__(self, workers: int = 2, start_method: str = "spawn"):
        if workers < 1:
            raise ValueError("--workers must be at least 1")
        self.workers = workers
        self.ctx = mp.get_context(start_method)

    def map(self, fn: Callable[[Any], Any], items: Iterable[tuple[str, Any]],
            timeout: float | None = None, isolate: bool = False,
            warm_up: Callable[[Any], Any] | None = None) -> Iterator[TaskOutcome]:
        """Run `fn` on every item. `isolate`: each task in a process forked from a worker that has
        only imported and called `warm_up(None)` once (a top-level function: imports and first-use
        setup that every task would otherwise repeat in its own process)."""
        pending = deque(items)
        slots: list[_Slot] = []  # filled inside the `try`, so that Ctrl-C while they start kills them too
        by_conn: dict[Any, _Slot] = {}
        try:
            for _ in range(min(self.workers, len(pending))):
                slots.append(_Slot(self.ctx, fn))
                by_conn[slots[-1].conn] = slots[-1]
            while pending or any(s.task is not None for s in slots):
                for s in slots:
                    if s.task is None and pending:
                        s.task, arg = pending.popleft()
                        s.started = time.monotonic()
                        s.conn.send((s.task, arg, isolate, warm_up))
                busy = [s.conn for s in slots if s.task is not None]
                ready = mp.connection.wait(busy, timeout=0.2)
                for c in ready:
                    s = by_conn[c]
                    try:
                        msg = c.recv()
                        if msg == _READY:
                            s.ready, s.started = True, time.monotonic()
                            continue
                        task_id, value, err = msg
                    except (EOFError, OSError):
                        s.proc.join(2)
                        code = s.proc.exitcode
                        yield TaskOutcome(task_id=s.task, error=f"worker died (exit code {code})",
                                          seconds=time.monotonic() - s.started)
                        self._replace(s, slots, by_conn, fn)
                        continue
                    s.task = None
                    yield TaskOutcome(task_id=task_id, value=value, error=err, seconds=time.monotonic() - s.started)
                now = time.monotonic()
                for s in list(slots):
                    if s.task is None:
                        continue
                    if not s.ready and now - s.started > _START_LIMIT:
                        yield TaskOutcome(task_id=s.task, error=f"worker did not start in {_START_LIMIT:.0f}s",
                                          seconds=now - s.started)
                        self._replace(s, slots, by_conn, fn)
                    elif s.ready and timeout is not None and now - s.started > timeout:
                        yield TaskOutcome(task_id=s.task, error="timeout", seconds=now - s.started)
                        self._replace(s, slots, by_conn, fn)
        finally:
            for s in slots:
                try:
                    if s.task is None and s.proc.is_alive():
                        s.conn.send(None)
                except OSError:
                    pass
            for s in slots:
                s.proc.join(0.5)
                s.kill()

    def _replace(self, s: _Slot, slots: list[_Slot], by_conn: dict, fn: Callable[[Any], Any]) -> None:
        s.kill()
        by_conn.pop(s.conn, None)
        n = _Slot(self.ctx, fn)
        slots[slots.index(s)] = n
        by_conn[n.conn] = n


class RayExecutor:
    """Tasks as Ray remote functions (`max_retries=0`), one in flight per cluster CPU, so that a
    task's clock (from submission) is close to its running time; 5 s of slack cover scheduling."""

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None):
        try:
            import ray  # noqa: F401
        except ImportError:
            raise RuntimeError("the Ray executor needs ray: pip install 'sqlwitness[ray]'") from None
        self.address, self.num_cpus = address, num_cpus

    def _init(self) -> Any:
        import ray

        if not ray.is_initialized():
            kw: dict[str, Any] = {"ignore_reinit_error": True, "log_to_driver": False,
                                  "include_dashboard": False}
            if self.address:
                ray.init(address=self.address, **{k: v for k, v in kw.items() if k != "include_dashboard"})
            else:
                # a local instance stays on the loopback interface
                ray.init(num_cpus=self.num_cpus, _node_ip_address="127.0.0.1", **kw)
        return ray

    def map(self, fn: Callable[[Any], Any], items: Iterable[tuple[str, Any]],
            timeout: float | None = None, isolate: bool = False,
            warm_up: Callable[[Any], Any] | None = None) -> Iterator[TaskOutcome]:
        """Run `fn` on every item; `isolate`: each task in a fresh process (Ray's workers run
        threads, so a task forks from a single-threaded forkserver, not from the worker; the
        forkserver imports `fn`'s module, and `warm_up` is not used)."""
        ray = self._init()
        remote = ray.remote(max_retries=0)(_isolated if isolate else fn)
        limit = max(1, int(ray.cluster_resources().get("CPU", 1)))
        pending = deque(items)
        running: dict[Any, tuple[str, float]] = {}
        try:
            while pending or running:
                while pending and len(running) < limit:
                    task_id, arg = pending.popleft()
                    running[remote.remote((fn, arg) if isolate else arg)] = (task_id, time.monotonic())
                done, _ = ray.wait(list(running), num_returns=1, timeout=0.2)
                for ref in done:
                    task_id, t0 = running.pop(ref)
                    try:
                        value, err = ray.get(ref), None
                    except Exception as e:  # noqa: BLE001 - a task's failure is its outcome
                        cause = getattr(e, "cause", None) or e
                        first = (str(cause).strip().splitlines() or [""])[0]
                        value, err = None, f"{type(cause).__name__}: {first}"
                    yield TaskOutcome(task_id=task_id, value=value, error=err, seconds=time.monotonic() - t0)
                if timeout is not None:
                    now = time.monotonic()
                    for ref, (task_id, t0) in list(running.items()):
                        if now - t0 > timeout + 5.0:
                            ray.cancel(ref, force=True)
                            running.pop(ref)
                            yield TaskOutcome(task_id=task_id, error="timeout", seconds=now - t0)
        finally:
            for ref in running:
                ray.cancel(ref, force=True)


def make_executor(kind: str = "local", *, workers: int = 2, ray_address: str | None = None):
    if kind == "local":
        return LocalExecutor(workers)
    if kind == "ray":
        return RayExecutor(ray_address, num_cpus=None if ray_address else workers)
    raise ValueError(f"unknown executor {kind!r}; choose local or ray")


__all__ = ["TaskOutcome", "LocalExecutor", "RayExecutor", "make_executor"]
