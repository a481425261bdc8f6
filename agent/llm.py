"""The agent's LLM client: any OpenAI-compatible endpoint, with retries, accounting, a response
cache and a per-question budget.

`LLM.chat` sends one chat-completion request (optionally with tools) through an injectable
`openai.OpenAI` client. Around it:

- retries with exponential backoff on transient failures (429, 5xx, timeouts, dropped
  connections; `Retry-After` is honoured up to the backoff cap); other API errors fail at once;
- accounting: each call becomes a `CallRecord` (tokens, cost from a `PriceTable`, latency,
  attempts, cache hit) added to the question's `Meter`;
- an on-disk `ResponseCache` keyed by the SHA-256 of the full request (endpoint, model,
  messages, tools, sampling parameters), so a re-run replays the same replies for free;
- a `Budget` (turns, tokens, seconds) checked before every call: when it is used up the call
  raises `BudgetExhausted` and the flow ends the question with what it has.

Example (with a scripted endpoint, see `agent.scripted`):
    >>> from agent.scripted import ScriptedModel, text
    >>> fake = ScriptedModel(default=lambda req: text("hello"))
    >>> llm = LLM(LLMConfig(model="m"), client=fake.client())
    >>> meter = Meter(Budget(max_turns=5))
    >>> llm.chat([{"role": "user", "content": "hi"}], meter=meter).content
    'hello'
    >>> meter.totals().calls, meter.totals().total_tokens
    (1, 15)
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
from pydantic import BaseModel, Field

# --------------------------------------------------------------------------------------------
# Prices


class Price(BaseModel):
    """US dollars per million tokens."""

    input_per_mtok: float = 0.0
    output_per_mtok: float = 0.0


class PriceTable(BaseModel):
    """Prices by model name; a name matches exactly or by its longest listed prefix
    (`gpt-4o-mini` covers `gpt-4o-mini-2024-07-18`). Unknown models cost 0.

    >>> PriceTable(prices={"gpt-x": Price(input_per_mtok=1, output_per_mtok=2)}).cost("gpt-x-1", 10**6, 10**6)
    3.0
    >>> PriceTable().cost("my-local-model", 1000, 1000)
    0.0
    """

    prices: dict[str, Price] = Field(default_factory=dict)

    def lookup(self, model: str) -> Price | None:
        best = None
        for name, price in self.prices.items():
            if model == name:
                return price
            if model.startswith(name) and (best is None or len(name) > len(best[0])):
                best = (name, price)
        return best[1] if best else None

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        p = self.lookup(model)
        if p is None:
            return 0.0
        return (prompt_tokens * p.input_per_mtok + completion_tokens * p.output_per_mtok) / 1e6

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PriceTable:
        """A JSON file `{"model": {"input_per_mtok": 0.15, "output_per_mtok": 0.6}, ...}`."""
        try:
            raw = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise ValueError(f"price table {path}: {e}") from None
        if not isinstance(raw, dict):
            raise ValueError(f"price table {path}: expected a JSON object of models")
        return cls(prices={k: Price.model_validate(v) for k, v in raw.items()})


# --------------------------------------------------------------------------------------------
# Budget and accounting


class Budget(BaseModel):
    """Per-question limits: LLM calls (turns), tokens (prompt + completion) and wall seconds."""

    max_turns: int = 60
    max_tokens: int = 400_000
    max_seconds: float = 600.0


class BudgetExhausted(Exception):
    """The question's budget is used up; the message names the limit."""


class LLMError(Exception):
    """A call that failed for good (non-transient error, or retries used up)."""


class CallRecord(BaseModel):
    """One LLM call as accounted for (a cache hit replays the recorded tokens, at no cost)."""

    stage: str = ""
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    attempts: int = 1
    cached: bool = False
    request_hash: str = ""
    error: str | None = None


class UsageTotals(BaseModel):
    calls: int = 0
    cached_calls: int = 0
    failed_calls: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0
    llm_seconds: float = 0.0


class Meter:
    """A question's accounting and budget, shared by the threads working on that question.

    `check()` raises `BudgetExhausted` once a limit is reached; it is called before each LLM call.
    Cached calls count against the turn and token limits exactly like live ones, so a re-run
    from the cache takes the same path.
    """

    def __init__(self, budget: Budget | None = None, clock: Callable[[], float] = time.monotonic):
        self.budget = budget or Budget()
        self._clock = clock
        self.started = clock()
        self.records: list[CallRecord] = []
        self._lock = threading.Lock()
        self.exhausted: str | None = None

    def elapsed(self) -> float:
        return self._clock() - self.started

    def remaining_seconds(self) -> float:
        return self.budget.max_seconds - self.elapsed()

    def check(self) -> None:
        with self._lock:
            t = self._totals_locked()
            why = None
            if t.calls >= self.budget.max_turns:
                why = f"turn budget used up ({t.calls}/{self.budget.max_turns} LLM calls)"
            elif t.total_tokens >= self.budget.max_tokens:
                why = f"token budget used up ({t.total_tokens}/{self.budget.max_tokens} tokens)"
            elif self.elapsed() >= self.budget.max_seconds:
                why = f"time budget used up ({self.elapsed():.1f}/{self.budget.max_seconds:g} s)"
            if why:
                self.exhausted = self.exhausted or why
                raise BudgetExhausted(why)

    def add(self, rec: CallRecord) -> None:
        with self._lock:
            self.records.append(rec)

    def _totals_locked(self) -> UsageTotals:
        t = UsageTotals()
        for r in self.records:
            if r.error is not None:
                t.failed_calls += 1
                t.retries += max(r.attempts - 1, 0)
                continue
            t.calls += 1
            t.cached_calls += int(r.cached)
            t.retries += max(r.attempts - 1, 0)
            t.prompt_tokens += r.prompt_tokens
            t.completion_tokens += r.completion_tokens
            t.total_tokens += r.total_tokens
            t.cost_usd += r.cost_usd
            t.llm_seconds += r.latency_s
        return t

    def totals(self) -> UsageTotals:
        with self._lock:
            return self._totals_locked()


# --------------------------------------------------------------------------------------------
# Replies


class ToolCall(BaseModel):
    id: str
    name: str
    arguments: str = Field(description="the JSON text the model wrote (may be malformed)")


class ChatReply(BaseModel):
    content: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False

    def as_message(self) -> dict[str, Any]:
        """The assistant message to append to the conversation."""
        msg: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            msg["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in self.tool_calls
            ]
        return msg


# --------------------------------------------------------------------------------------------
# Cache


def request_hash(request: dict[str, Any]) -> str:
    """SHA-256 of the request in canonical JSON (sorted keys, no whitespace)."""
    blob = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class ResponseCache:
    """Replies on disk, one JSON file per request hash (`<dir>/<ab>/<hash>.json`), written
    atomically so concurrent writers and a killed run never leave a torn entry."""

    def __init__(self, directory: str | os.PathLike[str]):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.json"

    def get(self, key: str) -> ChatReply | None:
        p = self._path(key)
        try:
            return ChatReply.model_validate_json(p.read_text())
        except (OSError, ValueError):
            return None

    def put(self, key: str, reply: ChatReply) -> None:
        p = self._path(key)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(reply.model_dump_json())
        os.replace(tmp, p)


# --------------------------------------------------------------------------------------------
# Client


class LLMConfig(BaseModel):
    model: str
    base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint; None = OpenAI")
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = 0.0
    max_completion_tokens: int | None = 2048
    seed: int | None = 0
    request_timeout: float = 120.0
    max_retries: int = 4
    backoff_base: float = 1.0
    backoff_max: float = 30.0


TRANSIENT_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


def make_client(config: LLMConfig) -> openai.OpenAI:
    """An `openai.OpenAI` for the configured endpoint. The key comes from the environment
    variable `config.api_key_env`; a local server (`base_url` set) needs none."""
    key = os.environ.get(config.api_key_env)
    if not key:
        if config.base_url is None:
            raise LLMError(f"no API key: set the environment variable {config.api_key_env} "
                           "(or give --base-url for a local OpenAI-compatible server)")
        key = "not-needed"
    return openai.OpenAI(api_key=key, base_url=config.base_url, max_retries=0,
                         timeout=config.request_timeout)


def _transient(e: Exception) -> bool:
    if isinstance(e, (openai.APITimeoutError, openai.APIConnectionError)):
        return True
    if isinstance(e, openai.APIStatusError):
        return e.status_code in TRANSIENT_STATUS or e.status_code >= 500
    return False


def _retry_after(e: Exception) -> float | None:
    resp = getattr(e, "response", None)
    if resp is None:
        return None
    value = resp.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _describe(e: Exception) -> str:
    if isinstance(e, openai.APIStatusError):
        return f"HTTP {e.status_code}: {e.message}"
    return f"{type(e).__name__}: {e}"


class LLM:
    """Chat completions with retries, accounting, cache and budget (see the module doc).

    `client` is any `openai.OpenAI` (tests pass one over `httpx2.MockTransport`); by default one
    is made from `config`. `sleep` is injectable so tests of backoff do not wait.
    """

    def __init__(
        self,
        config: LLMConfig,
        client: openai.OpenAI | None = None,
        cache: ResponseCache | None = None,
        prices: PriceTable | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_call: Callable[[dict[str, Any], ChatReply | None, CallRecord], None] | None = None,
    ):
        self.config = config
        self.client = client if client is not None else make_client(config)
        self.cache = cache
        self.prices = prices or PriceTable()
        self.sleep = sleep
        self.on_call = on_call
        self._rng = random.Random(0)

    def request(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None,
                tool_choice: str | None = None) -> dict[str, Any]:
        """The request body sent for these messages (also what the cache key hashes)."""
        c = self.config
        body: dict[str, Any] = {"model": c.model, "messages": messages, "temperature": c.temperature}
        if c.seed is not None:
            body["seed"] = c.seed
        if c.max_completion_tokens is not None:
            body["max_tokens"] = c.max_completion_tokens
        if tools:
            body["tools"] = tools
            if tool_choice:
                body["tool_choice"] = tool_choice
        return body

    def chat(
        self,
        messages: list[dict[str, Any]],
        *,
        tools: list[dict[str, Any]] | None = None,
        tool_choice: str | None = None,
        meter: Meter | None = None,
        stage: str = "",
        trace: Callable[[dict[str, Any]], None] | None = None,
    ) -> ChatReply:
        """One chat completion. Raises `BudgetExhausted` (before calling) or `LLMError`."""
        meter = meter or Meter()
        meter.check()
        body = self.request(messages, tools, tool_choice)
        key = request_hash({"endpoint": self.config.base_url or "openai", **body})
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                hit.cached = True
                rec = CallRecord(stage=stage, model=self.config.model, prompt_tokens=hit.prompt_tokens,
                                 completion_tokens=hit.completion_tokens,
                                 total_tokens=hit.prompt_tokens + hit.completion_tokens,
                                 cached=True, request_hash=key, attempts=0)
                self._account(meter, body, hit, rec, trace)
                return hit
        attempts = 0
        t0 = time.monotonic()
        while True:
            attempts += 1
            timeout = max(1.0, min(self.config.request_timeout, meter.remaining_seconds()))
            try:
                resp = self.client.chat.completions.create(**body, timeout=timeout)
                break
            except Exception as e:  # noqa: BLE001 - classified below
                if not isinstance(e, openai.OpenAIError):
                    raise
                retryable = _transient(e) and attempts <= self.config.max_retries
                wait = min(self.config.backoff_max, self.config.backoff_base * 2 ** (attempts - 1))
                wait *= 0.5 + self._rng.random() / 2  # jitter, seeded: reruns behave alike
                ra = _retry_after(e)
                if ra is not None:
                    wait = min(self.config.backoff_max, max(wait, ra))
                if retryable and wait < meter.remaining_seconds():
                    self.sleep(wait)
                    continue
                why = _describe(e)
                if retryable:
                    why += " (no time left in the question's budget to retry)"
                elif _transient(e):
                    why += f" (gave up after {attempts} attempts)"
                rec = CallRecord(stage=stage, model=self.config.model, attempts=attempts,
                                 latency_s=time.monotonic() - t0, request_hash=key, error=why)
                self._account(meter, body, None, rec, trace)
                raise LLMError(why) from e
        reply = _reply_from(resp)
        latency = time.monotonic() - t0
        rec = CallRecord(
            stage=stage, model=self.config.model, prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens,
            total_tokens=reply.prompt_tokens + reply.completion_tokens,
            cost_usd=self.prices.cost(self.config.model, reply.prompt_tokens, reply.completion_tokens),
            latency_s=latency, attempts=attempts, request_hash=key,
        )
        if self.cache is not None:
            self.cache.put(key, reply)
        self._account(meter, body, reply, rec, trace)
        return reply

    def _account(self, meter: Meter, body: dict[str, Any], reply: ChatReply | None, rec: CallRecord,
                 trace: Callable[[dict[str, Any]], None] | None) -> None:
        meter.add(rec)
        if trace is not None:
            trace({"kind": "llm", "stage": rec.stage, "request": body,
                   "reply": reply.model_dump() if reply else None, "record": rec.model_dump()})
        if self.on_call is not None:
            self.on_call(body, reply, rec)


def _reply_from(resp: Any) -> ChatReply:
    if not getattr(resp, "choices", None):
        raise LLMError("the endpoint returned no choices")
    choice = resp.choices[0]
    msg = choice.message
    calls = []
    for i, c in enumerate(msg.tool_calls or []):
        fn = getattr(c, "function", None)
        if fn is None:
            continue
        calls.append(ToolCall(id=c.id or f"call_{i}", name=fn.name or "", arguments=fn.arguments or ""))
    usage = getattr(resp, "usage", None)
    return ChatReply(
        content=msg.content,
        tool_calls=calls,
        finish_reason=choice.finish_reason,
        prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0 if usage else 0,
        completion_tokens=getattr(usage, "completion_tokens", 0) or 0 if usage else 0,
    )
