"""The limits on what `check_pair` accepts: option values and the size of a query.

Every limit is checked before any work that grows with it, so that bad or absurd input is an
`error` naming the limit at once instead of a hang, a run past `--timeout` or a traceback. The
query limits sit well above every query of Spider, BIRD, VeriEQL and SQLSolver (at most 1,446
characters, 469 expression nodes and 32 levels of nesting).

Example:
    >>> check_options(bound=4, timeout=float("inf"))
    '--timeout must be a finite number of seconds, at most 86400, not inf'
    >>> import sqlglot
    >>> query_size_problem(sqlglot.parse_one("SELECT a FROM t WHERE a IN (1, 2)")) is None
    True
"""

from __future__ import annotations

import math

from sqlglot import exp

__all__ = ["MAX_BOUND", "MAX_TIMEOUT", "MAX_QUERY_CHARS", "MAX_QUERY_NODES", "MAX_QUERY_DEPTH",
           "check_options", "check_run_options", "text_size_problem", "query_size_problem", "too_deep", "nesting_depth", "paren_depth",
           "tree_depth"]

MAX_BOUND = 1000
"""Rows per table: far beyond what the SMT search reaches in any time limit."""

MAX_TIMEOUT = 86400.0
"""Seconds (a day): the solver's time limit is an integer number of milliseconds."""

MAX_QUERY_CHARS = 100_000
"""Characters of one query's text: parsing stays well under a second below it."""

MAX_QUERY_NODES = 2_000
"""Expression nodes of one query (a literal of an IN list is one): the symbolic stages build
formulas over every node, at a cost that would outrun a short `--timeout` above it."""

MAX_QUERY_DEPTH = 40
"""Levels of expression nesting (`nesting_depth`: parentheses, subqueries, function calls; a
chain of one operator such as `a = 1 OR a = 2 OR ...` is one level): the verifier's passes
recurse over the tree, and Python's recursion limit stops them not far above this."""


def check_options(*, bound: int, timeout: float) -> str | None:
    """The problem with `bound` or `timeout` as a one-line message, or None when both are fine."""
    if not isinstance(bound, int) or not 1 <= bound <= MAX_BOUND:
        return f"--bound must be a whole number from 1 to {MAX_BOUND}, not {bound}"
    if not math.isfinite(timeout) or timeout > MAX_TIMEOUT:
        return f"--timeout must be a finite number of seconds, at most {MAX_TIMEOUT:g}, not {timeout}"
    if not timeout > 0:
        return f"--timeout must be a positive number of seconds, not {timeout}"
    return None


def check_run_options(*, workers: int, limit: int | None, seconds: dict[str, float]) -> str | None:
    """The problem with a benchmark run's options as a one-line message, or None: `workers` and
    `limit` (None: no limit) at least 1, and each of `seconds` (option name → value, such as
    `{"--ex-timeout": 30.0}`) a finite number of seconds from 0 to `MAX_TIMEOUT`."""
    if workers < 1:
        return f"--workers must be at least 1, not {workers}"
    if limit is not None and limit < 1:
        return f"--limit must be at least 1 (leave it out for every question), not {limit}"
    for option, value in seconds.items():
        if not math.isfinite(value) or not 0 <= value <= MAX_TIMEOUT:
            return f"{option} must be a finite number of seconds from 0 to {MAX_TIMEOUT:g}, not {value}"
    return None


def text_size_problem(sql: str) -> str | None:
    """The problem with a query text too long to parse, or None."""
    if len(sql) > MAX_QUERY_CHARS:
        return (f"the query is {len(sql):,} characters long; the verifier reads queries of at most "
                f"{MAX_QUERY_CHARS:,} characters")
    return None


def query_size_problem(tree: exp.Expression) -> str | None:
    """The problem with a parsed query too large or too deeply nested to verify, or None."""
    nodes = sum(1 for _ in tree.walk())
    if nodes > MAX_QUERY_NODES:
        return (f"the query has {nodes:,} expression nodes (an IN list has one per value); the verifier "
                f"handles at most {MAX_QUERY_NODES:,}")
    depth = nesting_depth(tree)
    if depth > MAX_QUERY_DEPTH:
        return too_deep(depth)
    return None


def too_deep(depth: int) -> str:
    """The message for a query nested `depth` levels deep."""
    return f"the query nests {depth} levels deep; the verifier handles at most {MAX_QUERY_DEPTH} levels of nesting"


def tree_depth(tree: exp.Expression) -> int:
    """The depth of the parse tree (1 for a lone node), computed without recursion."""
    best, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        best = max(best, depth)
        stack.extend((child, depth + 1) for child in node.iter_expressions())
    return best


def nesting_depth(tree: exp.Expression) -> int:
    """How deep `tree` nests, an operand that continues a chain of its parent's operator (the
    `a OR b` inside `a OR b OR c`, the `x + y` inside `x + y + z`) counting no extra level:
    long chains are common in real queries, and the verifier follows the ones the node limit
    lets through. Computed without recursion.

        >>> import sqlglot
        >>> nesting_depth(sqlglot.parse_one("SELECT 1 WHERE a = 1 OR a = 2 OR a = 3")) == \\
        ...     nesting_depth(sqlglot.parse_one("SELECT 1 WHERE a = 1 OR a = 2"))
        True
    """
    best, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        best = max(best, depth)
        for child in node.iter_expressions():
            chained = isinstance(node, exp.Binary) and type(child) is type(node)
            stack.append((child, depth if chained else depth + 1))
    return best


def paren_depth(sql: str) -> int:
    """How deep the parentheses of `sql` nest outside quotes: the nesting of a text too deep to
    parse into a tree."""
    depth = best = 0
    quote: str | None = None
    for ch in sql:
        if quote is not None:
            quote = None if ch == quote else quote
        elif ch in "'\"`[":
            quote = "]" if ch == "[" else ch
        elif ch == "(":
            depth += 1
            best = max(best, depth)
        elif ch == ")":
            depth = max(0, depth - 1)
    return best


MAX_EFFORT = 1000.0
"""The largest multiple of the default work budget (`verify.budget`) a command accepts."""


def effort_problem(effort: float) -> str | None:
    """The problem with an `--effort` value (a multiple of the default work budget), or None."""
    if not (math.isfinite(effort) and 0 < effort <= MAX_EFFORT):
        return f"--effort must be a positive number, at most {MAX_EFFORT:g}, not {effort}"
    return None
