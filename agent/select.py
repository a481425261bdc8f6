"""Choosing one answer from a pool of candidate queries: clusters of agreeing candidates.

Candidates (SQL queries, or Python programs that produced a result table) are clustered by

1. **their results on the real database**: equal as multisets of rows (values compared as the
   verifier's engine does: 2 == 2.0, NULL == NULL, column names ignored), and additionally in
   row order when candidates carry an outermost ORDER BY: within one multiset group, ordered
   candidates that order the rows differently form separate clusters, and the unordered ones
   join the largest of those (ties: smallest order key);
2. **verifier equivalence** (`verify.check_pair`, bounded, per-pair and per-question time
   budgets): a SQL candidate whose execution timed out joins the cluster of a candidate it is
   proved equivalent to. Clusters whose results on the real database differ are never merged:
   the real database is itself a counterexample, whatever a bounded proof says.

Merging is transitive (union-find), and nothing depends on the order of the candidates.
Candidates that fail with an error (other than a time-out) are excluded.

Ranking of clusters (the documented tie-breaks):
  1. more candidates (votes);
  2. more verifier-proved support: pairs of distinct SQL texts inside the cluster proved
     equivalent (computed only for clusters tied on size, within the budget);
  3. the smaller content key: a SHA-256 of the cluster's canonical result, so ties are broken
     the same way whatever the input order.
An empty result is a legitimate answer and is ranked like any other.

The answer is the representative SQL of the best cluster that has a SQL member (Python
candidates vote but cannot be the answer): the SQL text (after normalization) written by the
most candidates; ties by more verifier-proved peers, then the shorter text, then the text.

Example:
    >>> import sqlite3, tempfile, os
    >>> db = os.path.join(tempfile.mkdtemp(), "d.sqlite")
    >>> con = sqlite3.connect(db); _ = con.executescript("CREATE TABLE t(a); INSERT INTO t VALUES (1),(2),(3);")
    >>> con.close()
    >>> cands = [Candidate(id="x", sql="SELECT a FROM t WHERE a > 1"),
    ...          Candidate(id="y", sql="SELECT a FROM t WHERE a >= 2"),
    ...          Candidate(id="z", sql="SELECT a FROM t")]
    >>> s = select(cands, db, config=SelectConfig(verify=False))
    >>> s.answer_id, [c.members for c in s.clusters]
    ('x', [['x', 'y'], ['z']])
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import sqlglot
from pydantic import BaseModel, Field
from sqlglot import exp

from agent.results import ResultTable
from agent.tools import ToolError, run_select
from verify.verdict import VerdictKind


class Candidate(BaseModel):
    id: str
    sql: str | None = None
    language: Literal["sql", "python"] = "sql"
    result: ResultTable | None = Field(default=None, description="precomputed (Python candidates)")
    ordered: bool | None = Field(default=None, description="result order matters; default: outermost ORDER BY")
    error: str | None = None
    timed_out: bool = False


class Cluster(BaseModel):
    members: list[str]
    key: str = Field(description="SHA-256 of the canonical result ('' for an unexecuted group)")
    size: int
    support: int = Field(0, description="verifier-proved equivalent pairs of distinct SQL texts inside")
    support_checked: bool = False
    rows: int | None = None
    representative: str | None = Field(None, description="id of the SQL member that answers for it")


class SelectConfig(BaseModel):
    sql_timeout: float = 10.0
    keep_rows: int = 100_000
    verify: bool = True
    verify_bound: int = 3
    verify_pair_timeout: float = 2.0
    verify_budget: float = 6.0
    max_verifier_calls: int = 12


class Selection(BaseModel):
    answer_id: str | None
    answer_sql: str | None
    clusters: list[Cluster]
    excluded: dict[str, str] = Field(default_factory=dict, description="candidate id -> why")
    verifier_calls: int = 0
    verifier_proofs: int = 0
    seconds: float = 0.0


# --------------------------------------------------------------------------------------------
# helpers


def normalize_sql(sql: str) -> str:
    """A canonical text for grouping identical queries (sqlglot's rendering, else whitespace).

    >>> normalize_sql("select  a from t ;") == normalize_sql("SELECT a FROM t")
    True
    """
    try:
        tree = sqlglot.parse_one(sql, read="sqlite")
        return tree.sql(dialect="sqlite")
    except Exception:  # noqa: BLE001 - unparseable SQL is grouped by its text
        return " ".join(sql.split()).rstrip(";").strip()


def has_outer_order_by(sql: str) -> bool:
    """Whether the outermost query sorts its result.

    >>> has_outer_order_by("SELECT a FROM t ORDER BY a"), has_outer_order_by("SELECT * FROM (SELECT a FROM t ORDER BY a)")
    (True, False)
    """
    try:
        tree = sqlglot.parse_one(sql, read="sqlite")
    except Exception:  # noqa: BLE001
        return " order by " in f" {' '.join(sql.lower().split())} "
    return bool(isinstance(tree, (exp.Select, exp.SetOperation)) and tree.args.get("order"))


def _canon_row(row: list[Any]) -> tuple:
    from verify.engine import canonical

    return tuple(canonical(v) for v in row)


def _digest(obj: Any) -> str:
    return hashlib.sha256(repr(obj).encode()).hexdigest()


def result_keys(result: ResultTable) -> tuple[str, str]:
    """(multiset key, list key) of a result; both also cover `total_rows`."""
    rows = [_canon_row(r) for r in result.rows]
    bag = sorted(rows, key=repr)
    return _digest((result.total_rows, bag)), _digest((result.total_rows, rows))


class _UnionFind:
    def __init__(self, items: list[str]):
        self.parent = {i: i for i in items}

    def find(self, x: str) -> str:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:  # the smaller id becomes the root: independent of call order
            lo, hi = sorted((ra, rb))
            self.parent[hi] = lo


def execute_candidates(cands: list[Candidate], db_path: str | Path, config: SelectConfig) -> None:
    """Fill `result` / `error` / `timed_out` of SQL candidates (each distinct text runs once)."""
    done: dict[str, tuple[ResultTable | None, str | None, bool]] = {}
    for c in cands:
        if c.result is not None or c.error is not None:
            continue
        if not c.sql or not c.sql.strip():
            c.error = "empty query"
            continue
        key = normalize_sql(c.sql)
        if key not in done:
            try:
                done[key] = (run_select(db_path, c.sql, config.sql_timeout, config.keep_rows), None, False)
            except ToolError as e:
                msg = str(e)
                done[key] = (None, msg, "time limit" in msg)
        c.result, c.error, c.timed_out = done[key]


# --------------------------------------------------------------------------------------------
# selection


class _Verifier:
    """Budgeted, memoized `check_pair` calls (by normalized text pair, order-independent)."""

    def __init__(self, schema: Any, config: SelectConfig):
        self.schema = schema
        self.config = config
        self.calls = 0
        self.proofs = 0
        self.spent = 0.0
        self.memo: dict[tuple[str, str], bool] = {}

    def available(self) -> bool:
        c = self.config
        return (c.verify and self.schema is not None and self.calls < c.max_verifier_calls
                and self.spent < c.verify_budget)

    def equivalent(self, a: str, b: str) -> bool | None:
        """True when proved equivalent, False otherwise, None when out of budget."""
        na, nb = sorted((normalize_sql(a), normalize_sql(b)))
        if (na, nb) in self.memo:
            return self.memo[(na, nb)]
        if not self.available():
            return None
        from verify import check_pair

        t0 = time.monotonic()
        timeout = min(self.config.verify_pair_timeout, self.config.verify_budget - self.spent)
        try:
            v = check_pair(a, b, schema=self.schema, bound=self.config.verify_bound, timeout=max(timeout, 0.2),
                           minimize_result=False)
            ok = v.verdict == VerdictKind.EQUIVALENT
        except Exception:  # noqa: BLE001 - the verifier never decides the vote by crashing
            ok = False
        self.calls += 1
        self.spent += time.monotonic() - t0
        self.proofs += int(ok)
        self.memo[(na, nb)] = ok
        return ok


def _texts(members: list[Candidate]) -> dict[str, list[Candidate]]:
    by: dict[str, list[Candidate]] = defaultdict(list)
    for c in members:
        if c.sql:
            by[normalize_sql(c.sql)].append(c)
    return by


def _support(members: list[Candidate], ver: _Verifier) -> tuple[int, bool, dict[str, int]]:
    """Proved pairs among the distinct SQL texts (in text order), whether all were checked,
    and each text's number of proved peers."""
    by = _texts(members)
    texts = sorted(by)
    proved, complete = 0, True
    peers = dict.fromkeys(texts, 0)
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            r = ver.equivalent(by[a][0].sql or "", by[b][0].sql or "")
            if r is None:
                complete = False
                continue
            if r:
                proved += 1
                peers[a] += 1
                peers[b] += 1
    return proved, complete, peers


def _representative(members: list[Candidate], ver: _Verifier) -> str | None:
    by = _texts(members)
    if not by:
        return None
    counts = {t: len(cs) for t, cs in by.items()}
    top = max(counts.values())
    tied = sorted(t for t, n in counts.items() if n == top)
    peers = _support(members, ver)[2] if len(tied) > 1 else {}
    best = min(tied, key=lambda t: (-peers.get(t, 0), len(t), t))
    return min(by[best], key=lambda c: c.id).id


@dataclass
class _Selecting:
    """One `select` call as its stages share it: the candidates (executed), the verifier, and the
    clusters as they form (union-find over candidate ids, each member's result key)."""

    cands: list[Candidate]
    ver: _Verifier
    by_id: dict[str, Candidate] = field(init=False)
    excluded: dict[str, str] = field(default_factory=dict)
    executed: list[Candidate] = field(default_factory=list)
    pending: list[Candidate] = field(default_factory=list)  # timed out: may join a cluster through the verifier
    uf: _UnionFind = field(init=False)
    key_of: dict[str, str] = field(default_factory=dict)  # candidate id -> key of its result group
    clusters: list[Cluster] = field(default_factory=list)  # best first, once ranked
    answer: str | None = None

    def __post_init__(self) -> None:
        self.by_id = {c.id: c for c in self.cands}

    def clusters_now(self) -> dict[str, list[Candidate]]:
        """The current clusters: root id -> members."""
        out: dict[str, list[Candidate]] = defaultdict(list)
        for cid in self.uf.parent:
            out[self.uf.find(cid)].append(self.by_id[cid])
        return out


def select(cands: list[Candidate], db_path: str | Path, *, schema: Any = None,
           config: SelectConfig | None = None) -> Selection:
    """Cluster `cands` and choose the answer (see the module doc). SQL candidates without a
    result are executed on `db_path` (read-only). `schema` (a `verify.schema.Schema`) enables
    the verifier; without it only execution results cluster."""
    t0 = time.monotonic()
    config = config or SelectConfig()
    ids = [c.id for c in cands]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ValueError(f"candidate ids must be unique; {dup!r} occurs twice")
    cands = [c.model_copy() for c in cands]  # the caller's candidates stay as they were
    execute_candidates(cands, db_path, config)
    s = _Selecting(cands, _Verifier(schema, config))
    for stage in SELECT_STAGES:
        stage(s)
    return Selection(answer_id=s.answer, answer_sql=s.by_id[s.answer].sql if s.answer else None,
                     clusters=s.clusters, excluded=s.excluded, verifier_calls=s.ver.calls,
                     verifier_proofs=s.ver.proofs, seconds=round(time.monotonic() - t0, 4))


def _partition(s: _Selecting) -> None:
    """Executed candidates, timed-out SQL ones (pending), and the rest excluded with the reason."""
    for c in sorted(s.cands, key=lambda c: c.id):
        if c.result is not None:
            s.executed.append(c)
        elif c.timed_out and c.sql:
            s.pending.append(c)
        else:
            s.excluded[c.id] = c.error or "no result"
    s.uf = _UnionFind([c.id for c in s.executed + s.pending])


def _cluster_by_results(s: _Selecting) -> None:
    """Execution results: multiset groups, split by row order where candidates sort."""
    bags: dict[str, list[tuple[Candidate, str]]] = defaultdict(list)
    for c in s.executed:
        bag, lst = result_keys(c.result)  # type: ignore[arg-type]
        bags[bag].append((c, lst))
    for bag, group in bags.items():
        ordered = [(c, lst) for c, lst in group if _is_ordered(c)]
        orders = Counter(lst for _, lst in ordered)
        if len(orders) <= 1:
            for c, _ in group:
                s.key_of[c.id] = bag
                s.uf.union(group[0][0].id, c.id)
            continue
        largest = min(orders, key=lambda k: (-orders[k], k))
        for c, lst in group:
            s.key_of[c.id] = lst if _is_ordered(c) else largest
        firsts: dict[str, str] = {}
        for c, _ in group:
            k = s.key_of[c.id]
            firsts.setdefault(k, c.id)
            s.uf.union(firsts[k], c.id)


def _join_timed_out(s: _Selecting) -> None:
    """The verifier: a timed-out candidate joins the first cluster (largest first) whose
    representative it is proved equivalent to; otherwise it is excluded."""
    for c in s.pending:
        order = sorted(s.clusters_now().items(), key=lambda kv: (-len(kv[1]), s.key_of.get(kv[0], "~"), kv[0]))
        for root, members in order:
            if root == s.uf.find(c.id):
                continue
            rep = next((m for m in sorted(members, key=lambda m: m.id) if m.sql and not m.timed_out), None)
            if rep is None:
                continue
            if s.ver.equivalent(rep.sql or "", c.sql or ""):
                s.uf.union(root, c.id)
                s.key_of.setdefault(c.id, s.key_of.get(rep.id, ""))
                break
        else:
            s.excluded[c.id] = (c.error or "timed out") + "; not proved equivalent to an executed candidate"
    for cid in s.excluded:
        s.uf.parent.pop(cid, None)


def _rank_clusters(s: _Selecting) -> None:
    """The clusters, ranked: more votes, then (among clusters tied on size at the top) more
    verifier-proved support, then the smaller content key."""
    for members in s.clusters_now().values():
        keys = sorted({s.key_of[m.id] for m in members if m.id in s.key_of})
        res = next((m.result for m in sorted(members, key=lambda m: m.id) if m.result is not None), None)
        s.clusters.append(Cluster(members=sorted(m.id for m in members), key=keys[0] if keys else "",
                                  size=len(members), rows=res.total_rows if res else None))
    s.clusters.sort(key=lambda c: (-c.size, c.key))
    if len(s.clusters) > 1 and s.clusters[0].size == s.clusters[1].size:
        for cl in s.clusters:
            if cl.size != s.clusters[0].size:
                break
            cl.support, cl.support_checked, _ = _support([s.by_id[m] for m in cl.members], s.ver)
    s.clusters.sort(key=lambda c: (-c.size, -c.support, c.key))


def _choose_answer(s: _Selecting) -> None:
    """Each cluster's representative SQL member; the answer is the best cluster's."""
    for cl in s.clusters:
        members = [s.by_id[m] for m in cl.members]
        if any(m.sql and m.language == "sql" for m in members):
            cl.representative = _representative([m for m in members if m.language == "sql"], s.ver)
            if s.answer is None:
                s.answer = cl.representative


SELECT_STAGES: tuple[Callable[[_Selecting], None], ...] = (
    _partition, _cluster_by_results, _join_timed_out, _rank_clusters, _choose_answer)
"""What `select` runs, in order (see the module doc)."""


def _is_ordered(c: Candidate) -> bool:
    if c.ordered is not None:
        return c.ordered
    return bool(c.sql) and has_outer_order_by(c.sql or "")


def majority_vote(cands: list[Candidate], db_path: str | Path, config: SelectConfig | None = None) -> str | None:
    """The baseline: plain execution-result majority (multisets of rows), ties broken by input
    order (the first candidate of the earliest-seen largest group answers)."""
    config = config or SelectConfig()
    execute_candidates(cands, db_path, config)
    groups: dict[str, list[Candidate]] = {}
    for c in cands:
        if c.result is None or not c.sql:
            continue
        groups.setdefault(result_keys(c.result)[0], []).append(c)
    if not groups:
        return None
    best = max(groups.values(), key=len)  # max keeps the first of equal sizes: input order
    return best[0].id
