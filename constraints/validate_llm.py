"""Asking an LLM which mined constraints are real domain rules (and which are coincidences).

`validate_constraints(cs, client=..., model=...)` sends the unvalidated mined/imported
constraints of `cs` (not the declared ones, not value hints), a table's worth at a time in
batches of `batch_size`, to any OpenAI-compatible chat endpoint through the `openai` client.
Each prompt carries the table's DDL, column descriptions when given, per-column statistics and
sample values, and the numbered constraints with their evidence; the reply must be JSON
`{"verdicts": [{"id": "c1", "verdict": "accept" | "reject", "reason": "..."}]}` and is parsed
with pydantic. Each constraint's `validation` gets the status, the reason and the model.

Failures never keep or drop a constraint silently: a timeout, an HTTP or connection error, a
reply that is not that JSON, or a reply without a verdict for a constraint leaves it
`unvalidated` with the error as its reason.

Replies are cached on disk (`<cache>/llm/<sha256 of model + messages>.json`, see
`constraints.cache`): a re-run sends nothing and gives the same verdicts. Only replies that
parse are cached. The endpoint URL is not part of the key (the same model behind another
proxy answers from the cache).

Example (offline, with a scripted endpoint):
    >>> import json, openai, tempfile
    >>> try:
    ...     import httpx2 as httpx
    ... except ImportError:
    ...     import httpx
    >>> def reply(request):
    ...     body = {"verdicts": [{"id": "c1", "verdict": "reject", "reason": "ages can exceed 52"}]}
    ...     msg = {"role": "assistant", "content": json.dumps(body)}
    ...     return httpx.Response(200, json={"id": "x", "object": "chat.completion", "created": 0,
    ...         "model": "m", "choices": [{"index": 0, "message": msg, "finish_reason": "stop"}]})
    >>> client = openai.OpenAI(api_key="k", base_url="http://llm.test/v1", max_retries=0,
    ...                        http_client=httpx.Client(transport=httpx.MockTransport(reply)))
    >>> from constraints.models import ConstraintSet, Range
    >>> cs = ConstraintSet(constraints=[Range(table="p", column="age", min=25, max=52)])
    >>> rep = validate_constraints(cs, client=client, model="m", cache_dir=tempfile.mkdtemp())
    >>> cs.constraints[0].validation.status.value, cs.constraints[0].validation.reason, rep.requests
    ('rejected', 'ages can exceed 52', 1)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from constraints.models import ConstraintSet, Origin, ValidationStatus
from verify.schema import Schema, quote_ident

__all__ = [
    "LLMVerdict",
    "LLMReply",
    "ValidationReport",
    "validate_constraints",
    "make_client",
    "descriptions_from_tables_json",
    "LLMSetupError",
]

SYSTEM_PROMPT = (
    "You review candidate integrity constraints that were mined from one example database. "
    "Every candidate holds on all rows of that database; your job is to tell genuine rules of "
    "the domain (every valid database of this kind must satisfy them) from coincidences of "
    "this particular data (a range that merely spans the values seen, a dependency that only "
    "holds because the sample is small). Accept a constraint only if a real database of this "
    "kind could not violate it. Answer with JSON only, in exactly this form: "
    '{"verdicts": [{"id": "<id>", "verdict": "accept" or "reject", "reason": "<one sentence>"}]} '
    "with one entry per candidate id."
)


class LLMSetupError(ValueError):
    """The LLM endpoint cannot be used (missing API key, bad option); one-line message."""


class LLMVerdict(BaseModel):
    id: str
    verdict: Literal["accept", "reject"]
    reason: str = ""


class LLMReply(BaseModel):
    verdicts: list[LLMVerdict]


class ValidationReport(BaseModel):
    accepted: int = 0
    rejected: int = 0
    unvalidated: int = 0
    requests: int = Field(0, description="requests sent to the endpoint")
    cache_hits: int = 0
    errors: list[str] = Field(default_factory=list, description="one line per failed batch")


def make_client(base_url: str, api_key_env: str = "OPENAI_API_KEY", timeout: float = 60.0) -> Any:
    """An `openai.OpenAI` client for `base_url`, its key read from the environment."""
    import openai

    key = os.environ.get(api_key_env)
    if not key:
        raise LLMSetupError(f"environment variable {api_key_env} is not set (the API key for {base_url})")
    return openai.OpenAI(api_key=key, base_url=base_url, timeout=timeout, max_retries=1)


def descriptions_from_tables_json(path: str | os.PathLike[str], db_id: str) -> dict[str, dict[str, str]]:
    """Natural-language column names of a Spider/BIRD `tables.json` database, as
    table -> column -> description (lower-case keys)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    for entry in data:
        if entry.get("db_id", "").lower() == db_id.lower():
            tnames = entry["table_names_original"]
            out: dict[str, dict[str, str]] = {t.lower(): {} for t in tnames}
            for (ti, orig), (_, natural) in zip(entry["column_names_original"], entry["column_names"]):
                if ti >= 0 and natural and natural.lower() != orig.lower():
                    out[tnames[ti].lower()][orig.lower()] = natural
            return out
    raise LLMSetupError(f"{str(path)!r} has no database {db_id!r}")


def _stats(db: str | None, table: str, columns: list[str], schema: Schema | None) -> dict[str, str]:
    """One line of statistics and samples per column (from the database, else the schema's
    sample values)."""
    out: dict[str, str] = {}
    if db:
        con = sqlite3.connect(Path(db).resolve().as_uri() + "?mode=ro", uri=True)
        con.text_factory = lambda b: b.decode("utf-8", errors="replace")
        try:
            q = quote_ident(table)
            n = con.execute(f"SELECT COUNT(*) FROM {q}").fetchone()[0]
            for c in columns:
                x = quote_ident(c)
                nn, d, lo, hi = con.execute(
                    f"SELECT COUNT({x}), COUNT(DISTINCT {x}), MIN({x}), MAX({x}) FROM {q}").fetchone()
                top = [r[0] for r in con.execute(
                    f"SELECT {x} FROM {q} WHERE {x} IS NOT NULL GROUP BY {x} "
                    f"ORDER BY COUNT(*) DESC, {x} LIMIT 8")]
                out[c] = (f"{n} rows, {n - nn} NULL, {d} distinct, min {lo!r}, max {hi!r}; "
                          f"frequent values: {', '.join(map(repr, top))}")
        except sqlite3.Error as e:
            out = {c: f"(statistics unavailable: {e})" for c in columns}
        finally:
            con.close()
    elif schema is not None:
        for c in columns:
            vals = schema.sample_values(table, c)[:8]
            if vals:
                out[c] = "sample values: " + ", ".join(map(repr, vals))
    return out


def _prompt(cs: ConstraintSet, table: str, batch: list[tuple[str, Any]], db: str | None,
            schema: Schema | None, descriptions: dict[str, dict[str, str]] | None) -> str:
    cols: list[str] = []
    for _, c in batch:
        for x in c.columns():
            if x not in ("->", "<=") and x not in cols:
                cols.append(x)
    lines = [f"Database: {cs.db_id or '(unnamed)'}"]
    if schema is not None and schema.has_table(table):
        t = schema.table(table)
        sub = Schema(tables=[t.model_copy(update={"checks": [], "functional_dependencies": [],
                                                  "foreign_keys": []})])
        lines += ["Table definition:", sub.ddl()]
        others = [o.name for o in schema.tables if o.name != t.name]
        if others:
            lines.append("Other tables: " + ", ".join(others))
    else:
        lines.append(f"Table: {table}")
    desc = (descriptions or {}).get(table.lower(), {})
    stats = _stats(db, table, cols, schema)
    lines.append("Columns involved:")
    for c in cols:
        parts = [f"- {c}"]
        if desc.get(c.lower()):
            parts.append(f"meaning: {desc[c.lower()]}")
        if stats.get(c):
            parts.append(stats[c])
        lines.append("; ".join(parts))
    lines.append("Candidate constraints:")
    for cid, c in batch:
        ev = ""
        if c.evidence is not None:
            ev = f" (held on all {c.evidence.rows_checked} rows; support {c.evidence.support}"
            ev += f"; observed {c.evidence.observed})" if c.evidence.observed else ")"
        lines.append(f"[{cid}] {c.describe()}{ev}")
    return "\n".join(lines)


def _parse(content: str) -> LLMReply:
    text = content.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    if fence:
        text = fence.group(1).strip()
    if not text.startswith("{"):
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end < start:
            raise ValueError("no JSON object in the reply")
        text = text[start:end + 1]
    try:
        return LLMReply.model_validate_json(text)
    except ValidationError as e:
        err = e.errors()[0]
        raise ValueError(f"{'.'.join(map(str, err['loc'])) or 'reply'}: {err['msg']}") from None


def validate_constraints(
    cs: ConstraintSet,
    *,
    client: Any,
    model: str,
    db: str | os.PathLike[str] | None = None,
    schema: Schema | None = None,
    descriptions: dict[str, dict[str, str]] | None = None,
    batch_size: int = 12,
    cache_dir: str | os.PathLike[str] | None = None,
    revalidate: bool = False,
    json_mode: bool = True,
    temperature: float = 0.0,
) -> ValidationReport:
    """Set `validation` on the mined/imported constraints of `cs` (in place); see the module
    docstring. `cache_dir=None` uses `constraints.cache.cache_dir("llm")`."""
    if batch_size < 1:
        raise LLMSetupError(f"batch size must be at least 1, not {batch_size}")
    if cache_dir is None:
        from constraints.cache import cache_dir as _cd

        cdir = _cd("llm")
    else:
        cdir = Path(cache_dir)
        cdir.mkdir(parents=True, exist_ok=True)
    report = ValidationReport()
    todo: dict[str, list[Any]] = {}
    for c in cs.constraints:
        if c.origin == Origin.DECLARED or c.kind == "values":
            continue
        if c.validation.status != ValidationStatus.UNVALIDATED and not revalidate:
            continue
        todo.setdefault(c.table, []).append(c)
    dbs = str(db) if db is not None else None
    for table, items in todo.items():
        for start in range(0, len(items), batch_size):
            chunk = items[start:start + batch_size]
            batch = [(f"c{i + 1}", c) for i, c in enumerate(chunk)]
            messages = [{"role": "system", "content": SYSTEM_PROMPT},
                        {"role": "user", "content": _prompt(cs, table, batch, dbs, schema, descriptions)}]
            _run_batch(client, model, messages, batch, cdir, report, json_mode, temperature)
    for c in cs.constraints:
        if c.origin == Origin.DECLARED or c.kind == "values":
            continue
        s = c.validation.status
        if s == ValidationStatus.ACCEPTED:
            report.accepted += 1
        elif s == ValidationStatus.REJECTED:
            report.rejected += 1
        else:
            report.unvalidated += 1
    return report


def _run_batch(client: Any, model: str, messages: list[dict[str, str]], batch: list[tuple[str, Any]],
               cdir: Path, report: ValidationReport, json_mode: bool, temperature: float) -> None:
    import openai

    request = {"model": model, "messages": messages, "temperature": temperature, "json_mode": json_mode}
    key = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
    path = cdir / f"{key}.json"
    content: str | None = None
    if path.is_file():
        try:
            content = json.loads(path.read_text(encoding="utf-8"))["content"]
            reply = _parse(content)
            report.cache_hits += 1
        except (OSError, ValueError, KeyError, TypeError):
            content = None
    if content is None:
        kwargs: dict[str, Any] = {"model": model, "messages": messages, "temperature": temperature}
        if json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        report.requests += 1
        try:
            resp = client.chat.completions.create(**kwargs)
            content = resp.choices[0].message.content or ""
        except openai.APITimeoutError:
            return _fail(batch, "LLM request failed: timeout", report)
        except openai.APIStatusError as e:
            return _fail(batch, f"LLM request failed: HTTP {e.status_code}", report)
        except openai.APIConnectionError as e:
            return _fail(batch, f"LLM request failed: connection error ({e})", report)
        except (openai.OpenAIError, IndexError, AttributeError) as e:
            return _fail(batch, f"LLM request failed: {type(e).__name__}: {e}", report)
        try:
            reply = _parse(content)
        except ValueError as e:
            return _fail(batch, f"malformed LLM reply: {e}", report)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"request": request, "content": content}), encoding="utf-8")
        os.replace(tmp, path)
    verdicts = {v.id.strip().strip("[]"): v for v in reply.verdicts}
    for cid, c in batch:
        v = verdicts.get(cid)
        if v is None:
            c.validation.status = ValidationStatus.UNVALIDATED
            c.validation.reason = "no verdict for this constraint in the LLM reply"
            c.validation.model = model
            continue
        c.validation.status = ValidationStatus.ACCEPTED if v.verdict == "accept" else ValidationStatus.REJECTED
        c.validation.reason = v.reason
        c.validation.model = model


def _fail(batch: list[tuple[str, Any]], reason: str, report: ValidationReport) -> None:
    report.errors.append(reason)
    for _, c in batch:
        c.validation.status = ValidationStatus.UNVALIDATED
        c.validation.reason = reason
