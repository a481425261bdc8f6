"""Tasks isolated from each other: `LocalExecutor.map(..., isolate=True)` runs every task in a
process forked from a worker that has only imported, so what one task leaves in its process
(module state, Z3's process-wide tables) cannot change the next one's result. The Ray
executor's variant (a forkserver per worker) is tested through its helper."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from benchmarks.executors import LocalExecutor, _call_in_fork, _call_in_fresh_process, can_isolate

pytestmark = pytest.mark.skipif(not can_isolate(), reason="tasks are isolated by fork + prctl (Linux)")

_SEEN: list[int] = []


def remember(x: int) -> list[int]:
    """What this process has seen so far, `x` included."""
    _SEEN.append(x)
    return list(_SEEN)


def exit_hard(code: int) -> None:
    os._exit(code)


def kill_self(_: object) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def unpicklable(_: object) -> object:
    return lambda: None


def sleep_after_writing_pid(path: str) -> None:
    Path(path).write_text(str(os.getpid()))
    time.sleep(600)


def _running(pid: int) -> bool:
    """Whether `pid` is a process that has not ended (a zombie nobody reaped has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _outcomes(isolate: bool, fn=remember, items=None, timeout=60):
    items = items if items is not None else [(str(i), i) for i in range(4)]
    return {o.task_id: o for o in LocalExecutor(1).map(fn, items, timeout=timeout, isolate=isolate)}


def test_isolated_tasks_do_not_see_what_earlier_tasks_left_behind():
    isolated = _outcomes(True)
    assert {k: o.value for k, o in isolated.items()} == {str(i): [i] for i in range(4)}
    shared = _outcomes(False)  # the same worker without isolation accumulates: the test can fail
    assert sorted(len(o.value) for o in shared.values()) == [1, 2, 3, 4]


def test_a_task_process_that_dies_is_an_error_and_the_worker_goes_on():
    outs = _outcomes(True, fn=exit_hard, items=[("a", 3), ("b", 0)])
    assert outs["a"].error == "task process died (exit code 3)"
    # exit code 0 without a reply is still no result
    assert outs["b"].error == "task process died (exit code 0)"
    assert _call_in_fork(kill_self, None) == (None, f"task process died (signal {int(signal.SIGKILL)}, SIGKILL: "
                                                    f"e.g. the kernel's OOM killer when memory ran out)")
    value, err = _call_in_fork(unpicklable, None)
    assert value is None and "pickle" in err.lower()


def test_a_killed_worker_takes_its_task_process_with_it(tmp_path):
    pid_file = tmp_path / "pid"
    outs = _outcomes(True, fn=sleep_after_writing_pid, items=[("h", str(pid_file))], timeout=3)
    assert outs["h"].error == "timeout"
    pid = int(pid_file.read_text())
    for _ in range(300):  # the kernel delivers the parent-death signal promptly; allow a busy machine
        if not _running(pid):
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"task process {pid} outlived its killed worker")


def test_fresh_processes_from_a_forkserver_start_alike():
    """The Ray executor's isolation: each call in a process forked from one forkserver."""
    assert _call_in_fresh_process(remember, 1) == ([1], None)
    assert _call_in_fresh_process(remember, 2) == ([2], None)
    assert _SEEN == []  # nothing ran here
    value, err = _call_in_fresh_process(exit_hard, 5)
    assert value is None and err == "task process died (exit code 5)"


def test_the_verification_warm_up_leaves_a_single_thread_to_fork_from():
    """`fork` copies only the calling thread: a worker must hold no other thread (DuckDB's
    scheduler, a timer) when it forks, or a task could wait forever on a lock that thread held.
    The verification warm-up runs both dialects and closes what it opened (in a fresh worker,
    as the executor runs it)."""
    outs = list(LocalExecutor(1).map(_threads_after_warm_up, [("t", None)], timeout=300, isolate=False,
                                     warm_up=None))
    assert outs[0].error is None and outs[0].value == 1


def _threads_after_warm_up(_: object) -> int:
    from benchmarks.evaluate import warm_up_verification

    warm_up_verification()
    return len(os.listdir("/proc/self/task"))
