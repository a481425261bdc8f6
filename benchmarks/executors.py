"""Run many independent tasks: a local process pool (default) or a Ray cluster.

Both executors take a picklable top-level function and `(task_id, argument)` pairs, and yield
`TaskOutcome`s in completion order. A task that runs past `timeout` seconds is stopped (its
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
import multiprocessing as mp
import signal
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
    error: str | None = None  # "timeout", "worker died (exit code N)", or "ExceptionType: message"
    seconds: float = 0.0


def _worker(fn: Callable[[Any], Any], conn: Any) -> None:
    """Run tasks until the parent says stop (None) or is gone. Ctrl-C reaches the whole process
    group; only the parent acts on it (it kills the workers), so a worker ignores it: from its
    very start, while it still imports, when `_Slot` started it with SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
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
        task_id, arg = msg
        try:
            reply = (task_id, fn(arg), None)
        except Exception as e:  # noqa: BLE001 - reported to the parent as the task's error
            reply = (task_id, None, _error_text(e))
        try:
            conn.send(reply)
        except OSError:  # the parent is gone (killed): nobody wants the result
            return
        except Exception as e:  # noqa: BLE001 - a value that does not pickle
            with contextlib.suppress(OSError):
                conn.send((task_id, None, _error_text(e)))


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
            timeout: float | None = None) -> Iterator[TaskOutcome]:
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
                        s.conn.send((s.task, arg))
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
            timeout: float | None = None) -> Iterator[TaskOutcome]:
        ray = self._init()
        remote = ray.remote(max_retries=0)(fn)
        limit = max(1, int(ray.cluster_resources().get("CPU", 1)))
        pending = deque(items)
        running: dict[Any, tuple[str, float]] = {}
        try:
            while pending or running:
                while pending and len(running) < limit:
                    task_id, arg = pending.popleft()
                    running[remote.remote(arg)] = (task_id, time.monotonic())
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
