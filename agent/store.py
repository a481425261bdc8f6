"""The agent's run store: a folder of JSON-lines files, resumable and inspectable.

(`benchmarks.store.RunStore` keeps evaluation rows; an agent run also has to keep every LLM
message and tool call, so it has this store of its own with the same guarantees.)

Layout of a run folder:

- `meta.json` — the run's settings (benchmark, model, endpoint, agent configuration); a
  resumed run must have the same ones, or it stops with a message naming the first difference;
- `questions.jsonl` — one `QuestionRecord` per finished question, appended (and fsynced) only
  after that question's trace is complete;
- `traces/<index>.jsonl` — every event of the question in order: each LLM request with its
  reply and accounting, each tool call with its arguments and output, executions, checks,
  revisions, the selection;
- `cache/` — the LLM response cache (so redoing an interrupted question costs nothing).

Killing a run loses at most the questions in flight; a re-run skips every question in
`questions.jsonl` (a torn last line is ignored) and redoes the others from the cache.

Example:
    >>> import tempfile
    >>> s = AgentRunStore(tempfile.mkdtemp()); s.open_run({"benchmark": "spider"})
    >>> s.finish(QuestionRecord(index=3, db_id="d", question="q"), [{"kind": "note"}])
    >>> s.finished(), [e["kind"] for e in s.trace(3)]
    ({3}, ['note'])
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from pydantic import BaseModel


class StoreError(RuntimeError):
    """A run folder that cannot be resumed as asked; the message says why."""


class QuestionRecord(BaseModel):
    index: int
    db_id: str
    question: str
    gold_sql: str = ""
    difficulty: str = ""
    answer_sql: str | None = None
    plan: str | None = None
    status: str = "ok"
    error: str | None = None
    ex: bool | None = None
    ex_error: str | None = None
    verdict: str | None = None
    verified: bool | None = None
    outcome: str | None = None  # as in the run store (verified, refuted, refuted_by_database, ...);
    # "accepted" when verification is off (--verify-timeout 0) and EX accepted the answer
    reason: str | None = None
    counterexample: dict[str, Any] | None = None
    strength: str | None = None  # how strong the verification is (`benchmarks.store`), None when not scored
    proved_bound: int | None = None
    plans: int = 0
    candidates: int = 0
    clusters: int = 0
    code_repairs: int = 0
    revisions: int = 0
    calls: int = 0
    cached_calls: int = 0
    failed_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    llm_seconds: float = 0.0
    seconds: float = 0.0
    tool_calls: int = 0
    python_disabled: str | None = None  # why the Python tool was disabled for this question (None: available)


class AgentRunStore:
    def __init__(self, directory: str | os.PathLike[str]):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "traces").mkdir(exist_ok=True)
        self._lock = threading.Lock()

    @property
    def cache_dir(self) -> Path:
        return self.dir / "cache"

    def open_run(self, meta: dict[str, Any]) -> None:
        """Start or resume: `meta` must equal the stored settings of an existing run."""
        p = self.dir / "meta.json"
        if p.exists():
            try:
                old = json.loads(p.read_text())
            except json.JSONDecodeError as e:
                raise StoreError(f"{p}: unreadable ({e})") from None
            for k in sorted(set(old) | set(meta)):
                if old.get(k) != meta.get(k):
                    raise StoreError(f"{self.dir} holds a run with different settings ({k}: "
                                     f"{old.get(k)!r} there, {meta.get(k)!r} now); use another --out")
            return
        tmp = p.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta, indent=2, sort_keys=True))
        os.replace(tmp, p)

    def _trace_path(self, index: int) -> Path:
        return self.dir / "traces" / f"{index}.jsonl"

    def begin(self, index: int) -> None:
        """Start (or restart) the trace of a question."""
        self._trace_path(index).write_text("")

    def event(self, index: int, event: dict[str, Any]) -> None:
        line = json.dumps(event, default=str) + "\n"
        with self._lock, open(self._trace_path(index), "a") as f:
            f.write(line)

    def finish(self, record: QuestionRecord, trace: list[dict[str, Any]] | None = None) -> None:
        """Record a finished question (writing its whole trace first when given)."""
        with self._lock:
            if trace is not None:
                p = self._trace_path(record.index)
                tmp = p.with_suffix(".tmp")
                tmp.write_text("".join(json.dumps(e, default=str) + "\n" for e in trace))
                os.replace(tmp, p)
            with open(self.dir / "questions.jsonl", "a") as f:
                f.write(record.model_dump_json() + "\n")
                f.flush()
                os.fsync(f.fileno())

    def records(self) -> list[QuestionRecord]:
        p = self.dir / "questions.jsonl"
        if not p.exists():
            return []
        out: dict[int, QuestionRecord] = {}
        for line in p.read_text().splitlines():
            try:
                r = QuestionRecord.model_validate_json(line)
            except ValueError:
                continue  # a line torn by a kill
            out[r.index] = r
        return [out[k] for k in sorted(out)]

    def finished(self) -> set[int]:
        return {r.index for r in self.records()}

    def trace(self, index: int) -> list[dict[str, Any]]:
        p = self._trace_path(index)
        if not p.exists():
            raise StoreError(f"{self.dir}: no trace for question {index}")
        out = []
        for line in p.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out
