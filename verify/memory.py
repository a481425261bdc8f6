"""The memory safety stop: how much memory one verification may take.

A few formulas make Z3 allocate without bound while it barely counts resource units and does
not look at an interrupt: BIRD's question 1001 (`INSTR`/`SUBSTR` over a lap-time text, 64
`str.indexof` terms at k = 2) grows by about 300 MB a second, past any machine's memory, and the
kernel's OOM killer then ends the process (in a benchmark run, "task process died (signal 9)"),
on a machine with less memory sooner. So a verification runs with a cap on its process's data
segment (`RLIMIT_DATA`: the heap and private writable mappings, which is where Z3's and Python's
allocations go): `MEMORY_LIMIT_MIB` above what the process held when the verification started.
At the cap, an allocation fails; Z3 answers `unknown` ("out of memory") and frees the context,
Python raises `MemoryError`, and `check_pair` reports `unknown` with a reason starting
"memory limit" (see `verify.check`), never a verdict the cap decided.

The cap is a setting (`check_pair(memory_limit=...)`, `--memory-limit`), not the machine's free
memory, so where it stops is the same on every machine that has the memory.

    >>> with memory_capped(256) as capped:
    ...     isinstance(capped, bool)
    True
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator

__all__ = ["MEMORY_LIMIT_MIB", "MAX_MEMORY_LIMIT_MIB", "memory_capped", "memory_limit_problem", "data_mib"]

MEMORY_LIMIT_MIB = 4096
"""The default cap (MiB above the process's data segment when a verification starts): far above
what the verifier needs on every pair of Spider, BIRD, VeriEQL and SQLSolver but the runaway
ones, and two verifying workers stay within a 16 GiB machine."""

MAX_MEMORY_LIMIT_MIB = 1 << 20
"""A terabyte: the largest cap accepted."""

try:
    import resource
except ImportError:  # not on this platform (Windows): no cap, as before
    resource = None  # type: ignore[assignment]

_LOCK = threading.Lock()
_holders = 0  # calls inside `memory_capped` now (nested or in other threads share the first's cap)
_saved: tuple[int, int] | None = None  # the limits before the first of them set the cap


def memory_limit_problem(mib: int | None) -> str | None:
    """The problem with a cap as a one-line message, or None when it is fine (None: no cap)."""
    if mib is None:
        return None
    if isinstance(mib, bool) or not isinstance(mib, int) or not 64 <= mib <= MAX_MEMORY_LIMIT_MIB:
        return f"--memory-limit must be a whole number of MiB from 64 to {MAX_MEMORY_LIMIT_MIB}, not {mib}"
    return None


def data_mib() -> int | None:
    """This process's data segment now (Linux `VmData`, MiB), or None where it cannot be read."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) >> 10
    except (OSError, ValueError, IndexError):
        return None
    return None


@contextlib.contextmanager
def memory_capped(mib: int | None) -> Iterator[bool]:
    """Within the block, this process's data segment may grow by at most `mib` MiB (from its size
    on entry); yields whether a cap is in force. A stricter limit already set stays; on exit the
    limits are as before. Calls that overlap (nested, or in other threads) share the cap the
    first of them set. No cap where the platform has none (`resource`, `/proc`) or `mib` is
    None."""
    global _holders, _saved
    if mib is None or resource is None or not sys.platform.startswith("linux"):
        yield False
        return
    with _LOCK:
        if _holders == 0:
            now = data_mib()
            if now is not None:
                soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
                want = (now + mib) << 20
                if hard != resource.RLIM_INFINITY:
                    want = min(want, hard)
                if soft == resource.RLIM_INFINITY or want < soft:
                    try:
                        resource.setrlimit(resource.RLIMIT_DATA, (want, hard))
                        _saved = (soft, hard)
                    except (ValueError, OSError):
                        _saved = None
        _holders += 1
        capped = _saved is not None
    try:
        yield capped
    finally:
        with _LOCK:
            _holders -= 1
            if _holders == 0 and _saved is not None:
                with contextlib.suppress(ValueError, OSError):
                    resource.setrlimit(resource.RLIMIT_DATA, _saved)
                _saved = None
