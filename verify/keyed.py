"""Plan rewrites that rely on the schema's keys (PRIMARY KEY, UNIQUE), run once over a whole
plan before row-wise reasoning (`verify.rowwise`) compares two plans; the key-free rewrites are
in `verify.rewrite`, and `verify.rules` applies both in order. Each keeps the result the same on
every database that satisfies the keys, and has a property test on databases larger than any
bound (`tests/test_property_soundness.py`).

- `semi_join_conjunct_as_join`: `x IN (SELECT ...)` or an uncorrelated EXISTS as a conjunct of
  a WHERE is an inner join with the subquery's distinct rows;
- `in_subquery_as_join`: `x IN (SELECT ...)` where it only filters rows is a left join marking
  the matched rows;
- `exists_as_marked_join`: an uncorrelated EXISTS is a left join with one marked row;
- `unused_left_join_removed`: a left join that can neither add nor drop rows, and whose columns
  nothing reads, is left out;
- `aggregate_before_join`: a GROUP BY over a join whose aggregates read one side is computed on
  that side first;
- `grouped_by_key`: columns of a table whose key is grouped hold one value per group;
- `aggregate_of_single_rows`: a GROUP BY whose groups each hold one input row is a projection;
- `key_self_join_removed`: a second copy of a table joined on a key equal to the first's is
  the first.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from dataclasses import replace

from verify import ir
from verify.blocks import (DERIVED, SPJ, blocks, deterministic, map_cols, one_row_always, over_join, plain, row_exprs,
                           same_plan, substitute, with_columns_of)
from verify.decorrelate import correlated, uncorrelated_in
from verify.facts import (VALUE_MODES, conjunction, conjuncts, determined_columns, equal_columns, equated_columns,
                          fixed_columns, row_facts, tested_column)
from verify.implication import always_empty
from verify.rewrite import (IDENTICAL_WHEN_EQUAL, Context, columns_read, dialect_true, one_projection, reads_only,
                            union_branches)
from verify.schema import Schema


def grouped_by_key(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """Columns of a table whose primary key is grouped hold one value per group: MIN reads them.

    An aggregate whose GROUP BY includes a table's whole primary key takes the other columns of
    that table out of its keys and out of its bare columns (`GROUP BY t.id, t.name` and
    `GROUP BY t.id` with a bare `t.name` both become `GROUP BY t.id` with `MIN(t.name)`); grouped
    by the key of its only table, each group is one row and the aggregate a projection. A key
    column is known in a group when grouped, fixed by WHERE, or matched by a condition to a known
    column without being converted itself (`facts.determined_columns`: `numeric(c.sid) = s.id`
    with the text column c.sid grouped makes s.id known).

        >>> from verify.rules import demo
        >>> print(demo("grouped_by_key", "SELECT id, name, COUNT(*) AS n FROM p GROUP BY id, name"))
        Project _key0 AS id, _key1 AS name, _agg0 AS n
          Project id AS _key0, name AS _key1, 1 AS _agg0
            Scan p(id, name, g)
    """
    schema = ctx.schema
    if not isinstance(rel, ir.Aggregate) or not rel.grouped:
        return None
    found = _widened(rel.input)
    if found is None:
        return None
    # the facts below are about all columns of the input's tables, those projected away included
    wide, exprs, origin = found
    at = [e.index if isinstance(e, ir.Col) else None for e in exprs]  # input column -> wide column
    # a table's key is known when grouped, or fixed by WHERE (then the group holds one row of it)
    fixed = fixed_columns(row_facts(wide))
    same = equal_columns(wide)  # a column equal to a grouped one on every row is known too
    grouped = {j for k in rel.keys if isinstance(k, ir.Col) and at[k.index] is not None
               for j in same.get(at[k.index], {at[k.index]})}
    # and so is one that a condition matches to a known one (`numeric(c.sid) = s.id` with c.sid grouped)
    known = {origin[i] for i in determined_columns(wide, grouped | fixed) if origin[i] is not None}
    keyed = {inst for inst, table, _ in known
             if schema.table(table).primary_key and all((inst, table, c.lower()) in known
                                                        for c in schema.table(table).primary_key)}

    def dependent(e) -> bool:  # a column of a table whose key is grouped, not part of that key
        if not isinstance(e, ir.Col) or at[e.index] is None or origin[at[e.index]] is None:
            return False
        inst, table, col = origin[at[e.index]]
        return inst in keyed and col not in {c.lower() for c in schema.table(table).primary_key}

    if keyed and len({inst for inst, _, _ in filter(None, origin)}) == 1 \
            and all(o is not None for o in origin):  # one table, grouped by its key: every group is one row
        per_row = _per_row(rel)
        if per_row is not None:
            return per_row
    items = tuple(ir.Agg("min", it.arg, False, it.kind) if isinstance(it, ir.Bare) and dependent(it.arg) else it
                  for it in rel.items)
    drop = [n for n, k in enumerate(rel.keys) if dependent(k)]
    if not drop and ir.same(items, rel.items):
        return None
    keys = tuple(k for n, k in enumerate(rel.keys) if n not in drop)
    extra = tuple(ir.Agg("min", rel.keys[n], False, rel.keys[n].kind) for n in drop)
    nk, ni = len(rel.keys), len(rel.items)
    where = [keys.index(k) if n not in drop else len(keys) + ni + drop.index(n) for n, k in enumerate(rel.keys)]
    where += [len(keys) + m for m in range(ni)]
    cols = tuple(rel.columns[n] for n in range(nk) if n not in drop) + tuple(rel.columns[nk:]) + \
        tuple(rel.columns[n] for n in drop)
    agg = replace(rel, columns=cols, keys=keys, items=items + extra)
    if not drop:
        return agg
    return ir.Project(rel.columns, agg, tuple(ir.Col(w, c.kind, c.affinity) for w, c in zip(where, rel.columns)))


def count_of_never_null(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """`COUNT(x)` of a column that is never NULL in the aggregate's input is `COUNT(*)`.

    COUNT(x) counts the rows whose x is not NULL; x is never NULL when the schema declares it NOT
    NULL or a primary key (as the encoder models them), when WHERE compares it, or when an inner
    join's condition does (`never_null`). DISTINCT counts and FILTER clauses are kept; a
    `COUNT(*)` that is then written twice is computed once (Calcite counts `COUNT(*)` and
    `COUNT(x)` side by side to decorrelate `NOT IN`).

        >>> from verify.rules import demo
        >>> print(demo("count_of_never_null", "SELECT g, COUNT(id) AS n FROM p GROUP BY g"))
        Project _key0 AS g, _agg0 AS n
          Aggregate GROUP BY g: count(*) AS _agg0
            Scan p(id, name, g)
    """
    if not isinstance(rel, ir.Aggregate):
        return None
    never = None

    def counted_rows(it):
        nonlocal never
        if not (isinstance(it, ir.Agg) and it.func == "count" and not it.distinct):
            return it
        if isinstance(it.arg, ir.Lit) and it.arg.value is not None:
            return replace(it, func="count_star", arg=None)
        if not isinstance(it.arg, ir.Col):
            return it
        if never is None:
            never = never_null(rel.input, ctx.schema)
        return replace(it, func="count_star", arg=None) if it.arg.index in never else it

    items = tuple(counted_rows(it) for it in rel.items)
    return None if ir.same(items, rel.items) else _read_once(replace(rel, items=items))


def _read_once(agg: ir.Aggregate) -> ir.Rel:
    """`agg` computing each of its aggregates once, read again where it was written twice (a
    projection over it), or `agg` itself when none is."""
    slot: dict[tuple, int] = {}  # an aggregate's position among those computed
    reads = [slot.setdefault(ir.key(it), len(slot)) for it in agg.items]
    if len(slot) == len(agg.items):
        return agg
    nk = len(agg.keys)
    firsts = [reads.index(n) for n in range(len(slot))]
    once = replace(agg, columns=agg.columns[:nk] + tuple(agg.columns[nk + m] for m in firsts),
                   items=tuple(agg.items[m] for m in firsts))
    exprs = tuple(ir.Col(i, c.kind, c.affinity) for i, c in enumerate(agg.columns[:nk])) + \
        tuple(ir.Col(nk + reads[m], c.kind, c.affinity) for m, c in enumerate(agg.columns[nk:]))
    return ir.Project(agg.columns, once, exprs)


def distinct_of_unique_dropped(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """`COUNT`, `SUM`, `TOTAL` or `AVG` of DISTINCT values of a column unique in the aggregate's input is the aggregate of all its values.

    No two rows of the input hold the same non-NULL value in the column (a primary or UNIQUE
    key, kept unique through filters, projections, groupings and joins that match each row of
    its side at most once: `_unique_on`), so within any group DISTINCT removes only NULLs, which
    these aggregates skip anyway.

        >>> from verify.rules import demo
        >>> print(demo("distinct_of_unique_dropped", "SELECT g, COUNT(DISTINCT id) AS n FROM p GROUP BY g"))
        Project _key0 AS g, _agg0 AS n
          Aggregate GROUP BY g: count(id) AS _agg0
            Scan p(id, name, g)
    """
    if not isinstance(rel, ir.Aggregate):
        return None

    def all_values(it):
        if isinstance(it, ir.Agg) and it.distinct and it.func in ("count", "sum", "total", "avg") \
                and isinstance(it.arg, ir.Col) and _unique_on(rel.input, {it.arg.index}, ctx.schema):
            return replace(it, distinct=False)
        return it

    items = tuple(all_values(it) for it in rel.items)
    return None if ir.same(items, rel.items) else replace(rel, items=items)


def equated_group_keys(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A GROUP BY key that WHERE or a join equates to another column is grouped as the first of them.

    When the input's rows hold identical values in two columns (`verify.facts.equal_columns`:
    an `a = b` of WHERE or an inner join's ON, of one kind whose equal values are the same value),
    grouping by either forms the same groups with the same key values: each key is grouped as
    the first column of its set, a key repeated so is grouped once, and MIN, MAX or a bare
    column of a key or of a column of its set (each group has a row, all with that value) is
    the key.

        >>> from verify.rules import demo
        >>> print(demo("equated_group_keys",
        ...            "SELECT q.pid, MIN(p.id) AS m, COUNT(*) AS n FROM p JOIN q ON p.id = q.pid GROUP BY q.pid"))
        Project _key0 AS pid, _agg0 AS m, _agg1 AS n
          Project _key0, _key0 AS _agg0, _agg1
            Aggregate GROUP BY id: count(*) AS _agg1
              Join inner ON id = pid
                Scan p(id, name, g)
                Scan q(qid, pid, v)
    """
    if not isinstance(rel, ir.Aggregate) or not rel.grouped or not rel.keys:
        return None
    same = equal_columns(rel.input)
    first = lambda i: min(same.get(i, (i,)))  # noqa: E731
    keys: list[ir.Expr] = []
    where: list[int] = []  # each old output column: its position among the new ones
    for k in rel.keys:
        if isinstance(k, ir.Col):
            k = replace(k, index=first(k.index))
        at = next((n for n, x in enumerate(keys) if ir.same(x, k)), None)
        if at is None:
            at = len(keys)
            keys.append(k)
        where.append(at)
    key_at = {first(k.index): n for n, k in enumerate(keys) if isinstance(k, ir.Col)}
    items: list = []
    for it in rel.items:
        arg = it.arg if isinstance(it, ir.Bare) else (
            it.arg if isinstance(it, ir.Agg) and it.func in ("min", "max") and it.filter is None else None)
        if isinstance(arg, ir.Col) and arg.kind in IDENTICAL_WHEN_EQUAL and first(arg.index) in key_at:
            where.append(key_at[first(arg.index)])
        else:
            where.append(-1 - len(items))
            items.append(it)
    if len(keys) == len(rel.keys) and not len(items) < len(rel.items) and ir.same(tuple(keys), rel.keys):
        return None
    nk = len(keys)
    where = [w if w >= 0 else nk + (-1 - w) for w in where]
    key_cols = [rel.columns[where.index(n)] for n in range(nk)]
    item_cols = [rel.columns[where.index(nk + m)] for m in range(len(items))]
    agg = replace(rel, columns=tuple(key_cols + item_cols), keys=tuple(keys), items=tuple(items))
    inner = agg.columns
    exprs = tuple(ir.Col(w, c.kind, c.affinity) for w, c in zip(where, rel.columns))
    if len(rel.columns) == len(inner) and all(w == n for n, w in enumerate(where)):
        return agg
    return ir.Project(rel.columns, agg, exprs)


def unused_left_join_removed(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A left join that matches each row at most once, and whose right columns nothing reads, is left out.

    Below a projection or an aggregate, along the left inputs of joins, `A LEFT JOIN B ON ...`
    where each row of A matches at most one row of B is A: every row of A appears once in the
    join, matched or padded, so the rows above are the same.

        >>> from verify.rules import demo
        >>> print(demo("unused_left_join_removed", "SELECT q.v FROM q LEFT JOIN p ON q.pid = p.id"))
        Project v
          Scan q(qid, pid, v)
    """
    if isinstance(rel, ir.Project):
        rel = one_projection(rel)  # a projection of projections (a RIGHT join turned LEFT) as one
        reads = rel.exprs
    elif isinstance(rel, ir.Aggregate):
        reads = _aggregate_reads(rel)
    else:
        return None
    if not plain(reads):  # a subquery's columns belong to other scopes
        return None
    inner, where = _drop_joins(rel.input, columns_read(reads), ctx.schema)
    if inner is rel.input:
        return None
    renumber = lambda e: map_cols(e, lambda c: replace(c, index=where[c.index]))  # noqa: E731
    if isinstance(rel, ir.Project):
        return replace(rel, input=inner, exprs=tuple(renumber(e) for e in rel.exprs))
    items = tuple(replace(it, arg=None if it.arg is None else renumber(it.arg),
                          **({"filter": renumber(it.filter)} if getattr(it, "filter", None) is not None else {}))
                  for it in rel.items)
    return replace(rel, input=inner, keys=tuple(renumber(k) for k in rel.keys), items=items)


def _aggregate_reads(agg: ir.Aggregate) -> tuple[ir.Expr, ...]:
    """The expressions over its input that an aggregate reads: keys, arguments, FILTER clauses."""
    return agg.keys + tuple(x for it in agg.items for x in (it.arg, getattr(it, "filter", None)) if x is not None)


def _drop_joins(rel: ir.Rel, read: set[int], schema: Schema) -> tuple[ir.Rel, list[int | None]]:
    """`rel` without the left joins of its left spine whose right columns nobody reads (`read`:
    the columns the consumer reads), and where each old column now is (None: dropped)."""
    same = (rel, list(range(len(rel.columns))))
    if not isinstance(rel, ir.Join) or rel.kind not in ("inner", "cross", "left") or not plain(
            () if rel.cond is None else (rel.cond,)):
        return same
    n = len(rel.left.columns)
    if rel.kind == "left" and all(i < n for i in read) and _at_most_one_match(rel, schema):
        return rel.left, list(range(n)) + [None] * len(rel.right.columns)
    on = columns_read(() if rel.cond is None else (rel.cond,))
    left, where = _drop_joins(rel.left, {i for i in read | on if i < n}, schema)
    if left is rel.left:
        return same
    nl = len(left.columns)
    where = where + [nl + j for j in range(len(rel.right.columns))]
    cond = None if rel.cond is None else map_cols(rel.cond, lambda c: replace(c, index=where[c.index]))
    return replace(rel, columns=tuple(left.columns) + tuple(rel.right.columns), left=left, cond=cond), where


def parent_join_removed(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A parent table joined on the whole key a foreign key references, whose other columns nothing reads, is left out.

    In a select-project-join block whose condition equates (by `=`, on integers, text, dates;
    directly or through other columns) each column of a foreign key of one table to the key
    column it references in a copy of the parent table, a tuple of the other tables passes with
    exactly one parent row when the foreign key is not NULL (the schema's foreign key and key)
    and with none when it is, so the parent adds neither rows nor values: its key is read as the
    foreign key (`fk = k` becomes `fk = fk`, which rejects NULLs the same way). Under an
    aggregate, the columns the aggregate does not read count as not read. The block is rebuilt
    as a filter of the cross product of the remaining tables.

        >>> from verify.rules import demo
        >>> print(demo("parent_join_removed", "SELECT r.rid, p.id FROM r, p WHERE r.pid = p.id"))
        Project rid, pid AS id
          Filter pid = pid
            Scan r(rid, pid)
    """
    if isinstance(rel, ir.Aggregate):
        reads = _aggregate_reads(rel)
        if not plain(reads):
            return None
        below = _parent_free(rel.input, columns_read(reads), ctx.schema)
        return None if below is None else replace(rel, input=below)
    if isinstance(rel, (ir.Project, ir.Filter, ir.Join)):
        return _parent_free(rel, set(range(len(rel.columns))), ctx.schema)
    return None


def _parent_free(rel: ir.Rel, read: set[int], schema: Schema) -> ir.Rel | None:
    """`rel` (one SPJ block) without the parent tables `parent_join_removed` leaves out, given
    the output columns its consumer reads (`read`; the others become NULL), or None."""
    found = _one_block(rel)
    if found is None:
        return None
    block = SPJ(found.tables, found.cond, [e if n in read else ir.Lit(None, e.kind) for n, e in enumerate(found.exprs)])
    return _shrunk(rel, block, lambda b: _without_one_parent(b, schema))


_BLOCKS_FOUND: contextvars.ContextVar[dict[tuple[int, bool], tuple] | None] = contextvars.ContextVar(
    "blocks_found", default=None)


@contextlib.contextmanager
def blocks_remembered() -> Iterator[None]:
    """Within the block, `_one_block` keeps what it found for each operator (by identity, the
    operator kept alive with it): the plan rules that read blocks ask it of the same operator
    once each, and of every operator below the one they rewrite again (`verify.rules.plan_rewritten`)."""
    token = _BLOCKS_FOUND.set({})
    try:
        yield
    finally:
        _BLOCKS_FOUND.reset(token)


def _one_block(rel: ir.Rel, leaves: dict[int, ir.Rel] | None = None) -> SPJ | None:
    """The select-project-join block `rel` is (a projection, filter or join over one block, not
    a union of several), or None; with `leaves`, its other operators taken as derived tables
    (`blocks(opaque=...)`), which it adds to `leaves`."""
    if not isinstance(rel, (ir.Project, ir.Filter, ir.Join)):
        return None
    memo, key = _BLOCKS_FOUND.get(), (id(rel), leaves is not None)
    if memo is not None and key in memo and memo[key][0] is rel:
        _, one, found_leaves = memo[key]
        if leaves is not None:
            leaves.update(found_leaves)
        return one
    found = blocks(rel, lambda r: False, leaves)
    one = found[0] if found is not None and len(found) == 1 else None
    if memo is not None:
        memo[key] = (rel, one, dict(leaves) if leaves is not None else None)
    return one


def _shrunk(rel: ir.Rel, block: SPJ, without_one: Callable[[SPJ], SPJ | None],
            leaves: dict[int, ir.Rel] | None = None) -> ir.Rel | None:
    """`rel` (whose one SPJ block is `block`) rebuilt as a filter of the cross product of the
    tables left once `without_one` has removed all it can, one table at a time; None when it
    removes none. A derived table is the operator `leaves` maps it to (`blocks`' `opaque`)."""
    removed = False
    while True:
        smaller = without_one(block)
        if smaller is None:
            break
        block, removed = smaller, True
    if not removed:
        return None
    tables = [(leaves or {}).get(id(t), t) for t in block.tables]
    source: ir.Rel = tables[0]
    for t in tables[1:]:
        source = ir.Join(source.columns + t.columns, "cross", source, t, None)
    conds = [c for c in conjuncts(block.cond) if not (isinstance(c, ir.Lit) and c.value is True)]
    cond = conjunction(conds) if conds else ir.Lit(True, "bool")
    return ir.Project(rel.columns, ir.Filter(source.columns, source, cond), tuple(block.exprs))


def _equated_classes(block: SPJ) -> tuple[list[int], Callable[[int], int]]:
    """Where each table of `block` starts among its columns (and where the last ends), and a
    function naming each column's class of columns the condition equates (`a = b` conjuncts)."""
    starts = [0]
    for t in block.tables:
        starts.append(starts[-1] + len(t.columns))
    parent = list(range(starts[-1]))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in equated_columns(block.cond):
        parent[find(a)] = find(b)
    return starts, find


def _without_one_parent(block: SPJ, schema: Schema) -> SPJ | None:
    """`block` without one parent table that `parent_join_removed` finds redundant, or None."""
    starts, find = _equated_classes(block)
    read = columns_read((block.cond, *block.exprs))
    for j, tj in enumerate(block.tables):  # the parent
        if tj.table == DERIVED or not schema.has_table(tj.table):
            continue
        ptable = schema.table(tj.table)
        for i, ti in enumerate(block.tables):  # the child
            if i == j or ti.table == DERIVED or not schema.has_table(ti.table):
                continue
            child = schema.table(ti.table)
            for fk in child.foreign_keys:
                if fk.ref_table.lower() != ptable.name.lower():
                    continue
                pairs = {starts[j] + ptable.index(r): starts[i] + child.index(c) for c, r in zip(fk.columns, fk.ref_columns)}
                if not _unique_on(tj, {p - starts[j] for p in pairs}, schema):
                    continue
                if any(find(p) != find(c) or tj.columns[p - starts[j]].kind not in IDENTICAL_WHEN_EQUAL
                       or tj.columns[p - starts[j]].kind != ti.columns[c - starts[i]].kind
                       or tj.columns[p - starts[j]].affinity != ti.columns[c - starts[i]].affinity
                       for p, c in pairs.items()):
                    continue
                if any(starts[j] <= x < starts[j + 1] and x not in pairs for x in read):
                    continue  # another column of the parent is read
                return _without_table(block, starts, j, pairs)
    return None


def _without_table(block: SPJ, starts: list[int], j: int, at: dict[int, int]) -> SPJ:
    """`block` without its table `j`, each column of that table read from the column `at` maps
    it to (one of another table), the columns after it moved back."""
    end = starts[j] + len(block.tables[j].columns)

    def moved(col: ir.Col) -> ir.Col:
        x = at.get(col.index, col.index)
        return replace(col, index=x - (end - starts[j]) if x >= end else x)

    return SPJ(block.tables[:j] + block.tables[j + 1:], map_cols(block.cond, moved),
               [map_cols(e, moved) for e in block.exprs])


def _at_most_one_match(j: ir.Join, schema: Schema, of: str = "left") -> bool:
    """Each row of `j.left` (`of="right"`: of `j.right`) matches at most one row of the other
    side: the ON condition equates a set of that side's columns, on which no two of its rows
    agree, to values of the row."""
    if _at_most_one_row(j.right if of == "left" else j.left):
        return True
    n, width = len(j.left.columns), len(j.columns)
    mine, other = (range(n), range(n, width)) if of == "left" else (range(n, width), range(n))
    equated = set()
    for c in conjuncts(j.cond) if j.cond is not None else []:
        if not (isinstance(c, ir.Cmp) and c.op == "="):
            continue
        for there, here in ((c.left, c.right), (c.right, c.left)):
            if isinstance(there, ir.Col) and there.index in other and reads_only(here, mine) \
                    and c.mode == _EQUALITY_MODE.get(there.kind):
                equated.add(there.index - other.start)
    return bool(equated) and _unique_on(j.right if of == "left" else j.left, equated, schema)


_EQUALITY_MODE = {"int": "num", "real": "num", "num": "num", "text": "text", "date": "date"}


def _at_most_one_row(rel: ir.Rel) -> bool:
    """`rel` never has two rows: an aggregate without GROUP BY (the counts a decorrelated IN
    is joined to), under filters and projections."""
    while isinstance(rel, (ir.Filter, ir.Project)):
        rel = rel.input
    return isinstance(rel, ir.Aggregate) and not rel.grouped


def key_self_join_removed(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A table joined again on its whole primary or UNIQUE key, equal to an earlier copy's, is that copy: it is left out.

    In a select-project-join block whose condition equates (by `=`, on integers, text, dates)
    every column of a key of table T in two of its copies, a tuple passes only when both copies
    hold the same row (a key value names one row), so the second copy adds neither rows nor
    values: its columns are read from the first copy instead. The block is rebuilt as a filter
    of the cross product of the remaining tables.

        >>> from verify.rules import demo
        >>> print(demo("key_self_join_removed",
        ...            "SELECT q.v, r.name FROM q JOIN p ON q.pid = p.id JOIN p AS r ON q.pid = r.id"))
        Project v, name#7 AS name
          Project qid, pid, v, id, name, g, id, name, g
            Filter (pid = id AND pid = id)
              Join cross
                Scan q(qid, pid, v)
                Scan p(id, name, g)
    """
    leaves: dict[int, ir.Rel] = {}
    found = _one_block(rel, leaves)
    return None if found is None else _shrunk(rel, found, lambda b: _without_one_copy(b, ctx.schema), leaves)


def _without_one_copy(block: SPJ, schema: Schema) -> SPJ | None:
    """`block` without one copy of a table that `key_self_join_removed` finds redundant, or None."""
    starts, find = _equated_classes(block)
    for j, tj in enumerate(block.tables):
        if tj.table == DERIVED or not schema.has_table(tj.table):
            continue
        table = schema.table(tj.table)
        position = {c.name.lower(): n for n, c in enumerate(table.columns)}
        keys = [[position[c.lower()] for c in k] for k in [table.primary_key, *table.unique] if k]
        for i, ti in enumerate(block.tables[:j]):
            if ti.table.lower() != tj.table.lower():
                continue
            if not any(all(tj.columns[n].kind in IDENTICAL_WHEN_EQUAL and find(starts[i] + n) == find(starts[j] + n)
                           for n in key) for key in keys):
                continue
            return _without_table(block, starts, j, {starts[j] + n: starts[i] + n for n in range(len(tj.columns))})
    return None


def repeated_unique_join_removed(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A derived table joined again on columns it is unique on, equal to an earlier copy's, is that copy: it is left out.

    In a select-project-join block (its other operators taken as derived tables) that reads one
    derived table twice (the same plan, deterministic), whose condition equates (by `=`, on
    integers, text, dates; directly or through other columns) a set of columns on which no two
    of its rows agree (`_unique_on`: the keys of a GROUP BY, ...) with the same columns of the
    other copy, a tuple passes only when both copies hold the same row, so the second copy adds
    neither rows nor values: its columns are read from the first copy. This is the semi join a
    query writes once per joined table (TPC-H Q18 as Spark plans it: the orders with a large
    total, and again their line items). The block is rebuilt as a filter of the cross product
    of the remaining tables.

        >>> from verify.rules import demo
        >>> print(demo("repeated_unique_join_removed",
        ...            "SELECT p.name FROM p JOIN (SELECT pid, SUM(v) AS s FROM q GROUP BY pid) AS a ON p.id = a.pid "
        ...            "JOIN q ON q.pid = p.id JOIN (SELECT pid, SUM(v) AS s FROM q GROUP BY pid) AS b "
        ...            "ON q.pid = b.pid WHERE a.s > 1 AND b.s > 1"))
        Project name
          Filter (s#4 > 1 AND s#9 > 1)
            Project id, name, g, _key0 AS pid, _agg0 AS s, qid, pid, v, _key0 AS pid, _agg0 AS s
              Filter (id = _key0 AND pid = id AND pid = _key0)
                Join cross
                  Join cross
                    Scan p(id, name, g)
                    Aggregate GROUP BY pid: sum(v) AS _agg0
                      Scan q(qid, pid, v)
                  Scan q(qid, pid, v)
    """
    leaves: dict[int, ir.Rel] = {}
    found = _one_block(rel, leaves)
    if found is None or len(leaves) < 2:
        return None
    return _shrunk(rel, found, lambda b: _without_one_repeated(b, leaves, ctx.schema), leaves)


def _without_one_repeated(block: SPJ, leaves: dict[int, ir.Rel], schema: Schema) -> SPJ | None:
    """`block` without one derived table that `repeated_unique_join_removed` finds redundant, or None."""
    starts, find = _equated_classes(block)
    for j, tj in enumerate(block.tables):
        dj = leaves.get(id(tj))
        if dj is None or not deterministic(dj):
            continue
        for i, ti in enumerate(block.tables[:j]):
            di = leaves.get(id(ti))
            if di is None or not same_plan(di, dj):
                continue
            equated = {n for n, c in enumerate(tj.columns)
                       if c.kind in IDENTICAL_WHEN_EQUAL and find(starts[i] + n) == find(starts[j] + n)}
            if equated and _unique_on(dj, equated, schema):
                return _without_table(block, starts, j, {starts[j] + n: starts[i] + n for n in range(len(tj.columns))})
    return None


def semi_join_implied_by_join(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """The distinct values of some columns of a table, joined on all of them to a copy of that table, are that copy's values: the join with them is left out.

    In a select-project-join block (its other operators taken as derived tables) that joins
    `DISTINCT` columns c1..cn of a table T (no filter below the DISTINCT) and also a copy of T,
    whose condition equates (by `=`, on integers, text, dates; directly or through other columns)
    each ci of the DISTINCT to the same column of the copy, a tuple of the other tables passes
    with exactly one DISTINCT row, the copy's own c1..cn (values equal to the copy's are that
    row, and it is among T's values), and with none when the copy's values fail the condition.
    So the DISTINCT adds neither rows nor values: its columns are read from the copy. This is the
    semi-join `x IN (SELECT c FROM T)` of a query that joins T on `x = T.c` anyway. The block is
    rebuilt as a filter of the cross product of the remaining tables.

        >>> from verify.rules import demo
        >>> print(demo("semi_join_implied_by_join",
        ...            "SELECT p.name FROM p JOIN (SELECT DISTINCT pid FROM q) AS d ON p.id = d.pid "
        ...            "JOIN q ON q.pid = p.id"))
        Project name
          Project id, name, g, pid, qid, pid, v
            Filter (id = pid AND pid = id)
              Join cross
                Scan p(id, name, g)
                Scan q(qid, pid, v)
    """
    leaves: dict[int, ir.Rel] = {}
    found = _one_block(rel, leaves)
    if found is None or not leaves:
        return None
    return _shrunk(rel, found, lambda b: _without_one_distinct_copy(b, leaves), leaves)


def _distinct_columns(rel: ir.Rel) -> tuple[ir.Scan, list[int]] | None:
    """`rel` as `DISTINCT` columns of one table: the table and the positions of the columns."""
    if not isinstance(rel, ir.Distinct):
        return None
    inner = rel.input
    if isinstance(inner, ir.Scan):
        return (inner, list(range(len(inner.columns)))) if inner.table != DERIVED else None
    if isinstance(inner, ir.Project) and isinstance(inner.input, ir.Scan) and inner.input.table != DERIVED \
            and all(isinstance(e, ir.Col) for e in inner.exprs):
        return inner.input, [e.index for e in inner.exprs]
    return None


def _without_one_distinct_copy(block: SPJ, leaves: dict[int, ir.Rel]) -> SPJ | None:
    """`block` without one DISTINCT that `semi_join_implied_by_join` finds redundant, or None."""
    starts, find = _equated_classes(block)
    for j, tj in enumerate(block.tables):
        shape = _distinct_columns(leaves.get(id(tj), tj))
        if shape is None:
            continue
        table, cols = shape
        for i, ti in enumerate(block.tables):
            if i == j or ti.table.lower() != table.table.lower() or ti.columns != table.columns:
                continue
            at = {starts[j] + n: starts[i] + c for n, c in enumerate(cols)}
            if not all(ti.columns[c].kind in IDENTICAL_WHEN_EQUAL and find(d) == find(starts[i] + c)
                       for d, c in zip(at, cols)):
                continue
            return _without_table(block, starts, j, at)
    return None


def never_tie(rel: ir.Rel, keys: tuple[ir.SortKey, ...], schema: Schema) -> bool:
    """No two rows of `rel` tie under the sort `keys`: no two rows agree on all the key columns,
    NULL agreeing with NULL as it ties with NULL (`_one_row_per_group`: the keys of a GROUP BY
    or DISTINCT below, or never-NULL columns holding a key of the table they come from)."""
    cols = {k.expr.index for k in keys if isinstance(k.expr, ir.Col)}
    return bool(cols) and _one_row_per_group(rel, cols, schema)


def _unique_on(rel: ir.Rel, cols: set[int], schema: Schema) -> bool:
    """No two rows of `rel` hold equal non-NULL values in all of `cols`."""
    if isinstance(rel, ir.Scan):
        if rel.table == DERIVED or not schema.has_table(rel.table):
            return False
        t = schema.table(rel.table)
        position = {c.name.lower(): i for i, c in enumerate(t.columns)}
        return any(k and all(position.get(x.lower()) in cols for x in k) for k in [t.primary_key, *t.unique])
    if isinstance(rel, ir.Filter) and isinstance(rel.input, ir.Join) and rel.input.kind in ("inner", "cross"):
        j = rel.input  # a filter of an inner join is a join on both conditions
        return _unique_on(replace(j, kind="inner", cond=rel.cond if j.cond is None else
                                  ir.BoolOp("and", (j.cond, rel.cond))), cols, schema)
    if isinstance(rel, ir.Filter):  # its rows agree on the columns it fixes to one value
        return _unique_on(rel.input, cols | fixed_columns(row_facts(rel)), schema)
    if isinstance(rel, ir.Sort):
        return _unique_on(rel.input, cols, schema)
    if isinstance(rel, ir.Project):
        return _unique_on(rel.input, {rel.exprs[c].index for c in cols if isinstance(rel.exprs[c], ir.Col)}, schema)
    if isinstance(rel, ir.Aggregate):
        return not rel.grouped or set(range(len(rel.keys))) <= cols
    if isinstance(rel, ir.Distinct):
        return set(range(len(rel.columns))) <= cols or _unique_on(rel.input, cols, schema)
    if isinstance(rel, ir.Join) and rel.kind in ("inner", "cross", "left"):
        # each row of one side is in at most one row of the join (a left join's NULL padding
        # agrees with nothing): that side's unique columns stay unique
        n = len(rel.left.columns)
        left, right = {c for c in cols if c < n}, {c - n for c in cols if c >= n}
        return bool(left) and _unique_on(rel.left, left, schema) and _at_most_one_match(rel, schema) or \
            bool(right) and _unique_on(rel.right, right, schema) and _at_most_one_match(rel, schema, of="right")
    return False


def aggregate_of_single_rows(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A GROUP BY whose groups each hold one row of its input is a projection of that input.

    When no two input rows agree on the grouped columns (the input is itself grouped or DISTINCT
    on some of them, NULLs agreeing as GROUP BY has them agree, or a never-NULL unique key of
    its table is among them), every group is one row: COUNT(*) is 1, COUNT(x) is 1 or 0, and
    SUM/MIN/MAX/BIT_AND/BIT_OR/BOOL_AND/BOOL_OR/ANY_VALUE of x (DISTINCT or not) are x where
    they keep x's kind; under `FILTER (WHERE f)`
    they are those values where f is true, else 0 (counts) or NULL. A GROUP BY over no rows
    has no groups, as the projection of no rows has no rows; an aggregate without GROUP BY is
    left alone (it has a row also over no rows).

        >>> from verify.rules import demo
        >>> print(demo("aggregate_of_single_rows", "SELECT g, SUM(DISTINCT n) AS s FROM "
        ...            "(SELECT g, COUNT(*) AS n FROM p GROUP BY g) AS x GROUP BY g"))
        Project _key0 AS g, _agg0 AS s
          Project g AS _key0, n AS _agg0
            Project _key0 AS g, _agg0 AS n
              Aggregate GROUP BY g: count(*) AS _agg0
                Scan p(id, name, g)
    """
    if not isinstance(rel, ir.Aggregate) or not rel.grouped:
        return None
    keys = {k.index for k in rel.keys if isinstance(k, ir.Col)}
    if not keys or not _one_row_per_group(rel.input, keys, ctx.schema):
        return None
    return _per_row(rel)


def counted_union_as_intersect(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """Rows of n UNION ALL branches, each branch's rows all different, grouped and kept where COUNT(*) is n, are the INTERSECT of the branches.

    In `SELECT k FROM (B1 UNION ALL ... UNION ALL Bn) GROUP BY k HAVING COUNT(*) = n`, no two
    rows of one branch agree on the grouped columns k (each branch is grouped or DISTINCT on
    them, or a never-NULL key of its table is among them), so a group counts one row of each
    branch holding its value of k: n exactly where every branch holds it, which is
    `B1 INTERSECT ... INTERSECT Bn` on k (GROUP BY and the set operations both take NULL as
    equal to NULL). Calcite writes INTERSECT so. Done at a projection reading the grouped
    columns only.

        >>> from verify.rules import demo
        >>> print(demo("counted_union_as_intersect", "SELECT a FROM (SELECT a, COUNT(*) AS n FROM t GROUP BY a "
        ...            "UNION ALL SELECT pid, 1 FROM q GROUP BY pid) AS u GROUP BY a HAVING COUNT(*) = 2"))
        Project _key0 AS a
          Intersect
            Project a AS _key0
              Project _key0 AS a, _agg0 AS n
                Aggregate GROUP BY a: count(*) AS _agg0
                  Scan t(a, b)
            Project pid AS _key0
              Project _key0 AS pid, 1 AS "1"
                Aggregate GROUP BY pid
                  Scan q(qid, pid, v)
    """
    if not (isinstance(rel, ir.Project) and plain(rel.exprs) and isinstance(rel.input, ir.Filter)
            and isinstance(rel.input.input, ir.Aggregate)):
        return None
    having, agg = rel.input, rel.input.input
    nk = len(agg.keys)
    if not agg.grouped or not nk or not all(isinstance(k, ir.Col) for k in agg.keys) \
            or not columns_read(rel.exprs) <= set(range(nk)):
        return None
    keys = [k.index for k in agg.keys]
    branches = union_branches(agg.input)
    if len(set(keys)) != nk or len(branches) < 2 or _count_equal_to(having.cond, agg) != len(branches):
        return None
    if any(agg.input.columns[i].kind not in IDENTICAL_WHEN_EQUAL or b.columns[i].kind != agg.input.columns[i].kind
           for b in branches for i in keys):
        return None  # a UNION that unifies kinds converts values
    if not all(_one_row_per_group(b, set(keys), ctx.schema) for b in branches):
        return None
    cols = agg.columns[:nk]
    parts = [ir.Project(cols, b, tuple(ir.Col(i, b.columns[i].kind, b.columns[i].affinity) for i in keys))
             for b in branches]
    common = parts[0]
    for part in parts[1:]:
        common = ir.SetOp(cols, "intersect", False, common, part)
    return replace(rel, input=common)


def _count_equal_to(cond: ir.Expr, agg: ir.Aggregate) -> int | None:
    """n where `cond` (a HAVING over `agg`) is `COUNT(*) = n`, else None."""
    if not (isinstance(cond, ir.Cmp) and cond.op == "="):
        return None
    for col, lit in ((cond.left, cond.right), (cond.right, cond.left)):
        if isinstance(col, ir.Col) and isinstance(lit, ir.Lit) and type(lit.value) is int \
                and col.index >= len(agg.keys):
            item = agg.items[col.index - len(agg.keys)]
            if isinstance(item, ir.Agg) and item.func == "count_star" and item.filter is None:
                return lit.value
    return None


def rows_distinct(rel: ir.Rel, schema: Schema) -> bool:
    """No two rows of `rel` are the same (NULL the same as NULL, as DISTINCT compares them)."""
    return _one_row_per_group(rel, set(range(len(rel.columns))), schema)


def distinct_of_distinct_rows_dropped(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A DISTINCT of rows no two of which are the same is left out.

    Its input is grouped or DISTINCT on its columns, or a never-NULL unique key of the table its
    rows come from is among them (`_one_row_per_group`), so the DISTINCT keeps every row.

        >>> from verify.rules import demo
        >>> print(demo("distinct_of_distinct_rows_dropped", "SELECT DISTINCT id, g FROM p WHERE g > 2"))
        Project id, g
          Filter g > 2
            Scan p(id, name, g)
    """
    if not isinstance(rel, ir.Distinct) or not rows_distinct(rel.input, ctx.schema):
        return None
    return rel.input


def _one_row_per_group(rel: ir.Rel, cols: set[int], schema: Schema) -> bool:
    """No two rows of `rel` agree on all of `cols`, NULL agreeing with NULL (as GROUP BY and
    DISTINCT compare them)."""
    if isinstance(rel, ir.Aggregate):
        return not rel.grouped or set(range(len(rel.keys))) <= cols
    if isinstance(rel, ir.Distinct) and set(range(len(rel.columns))) <= cols:
        return True
    if isinstance(rel, ir.Filter):
        # two of its rows agreeing on `cols` agree on the columns it fixes to one value too
        if _one_row_per_group(rel.input, cols | fixed_columns(row_facts(rel)), schema):
            return True
    elif isinstance(rel, (ir.Sort, ir.Distinct)):
        return _one_row_per_group(rel.input, cols, schema)
    if isinstance(rel, ir.Project):
        inner = {rel.exprs[c].index for c in cols if isinstance(rel.exprs[c], ir.Col)}
        return _one_row_per_group(rel.input, inner, schema)
    if isinstance(rel, ir.Join) and rel.kind in ("inner", "cross", "left"):
        # a row of one side, in at most one joined row, keeps that side's groups apart
        n = len(rel.left.columns)
        left, right = {c for c in cols if c < n}, {c - n for c in cols if c >= n}
        if left and _at_most_one_match(rel, schema) and _one_row_per_group(rel.left, left, schema) or \
                right and rel.kind != "left" and _at_most_one_match(rel, schema, of="right") and \
                _one_row_per_group(rel.right, right, schema):
            return True
    present = cols & never_null(rel, schema)  # no NULL there: agreeing is being equal
    return bool(present) and _unique_on(rel, present, schema)


# aggregates whose value over one row is that row's value (of the same kind)
_VALUE_OF_ONE_ROW = ("sum", "min", "max", "bit_and", "bit_or", "bool_and", "bool_or", "any_value")


def _per_row(agg: ir.Aggregate) -> ir.Rel | None:
    """`agg` when each of its groups is one row: a projection of its input (COUNT(*) is 1,
    COUNT(x) is 1 or 0, SUM/MIN/MAX/BIT_AND/BIT_OR/BOOL_AND/BOOL_OR/ANY_VALUE(x) and a bare x
    are x; with `FILTER (WHERE f)`, the row counts only where f is true: COUNT(*) is 1 or 0,
    the others x or NULL)."""
    exprs = list(agg.keys)
    for it in agg.items:
        if isinstance(it, ir.Bare):
            exprs.append(it.arg)
            continue
        if not isinstance(it, ir.Agg):
            return None
        if it.func in _VALUE_OF_ONE_ROW and it.kind == it.arg.kind:
            value, otherwise = it.arg, ir.Lit(None, it.kind)
        elif it.func == "count_star":
            value, otherwise = ir.Lit(1, "int"), ir.Lit(0, "int")
        elif it.func == "count" and not (isinstance(it.arg, ir.Func) and it.arg.name == "tuple"):
            value, otherwise = ir.Case(((ir.IsNull(it.arg), ir.Lit(0, "int")),), ir.Lit(1, "int"), "int"), \
                ir.Lit(0, "int")
        else:
            return None
        # CASE WHEN takes the THEN branch only where the condition is true, as FILTER keeps a row
        exprs.append(value if it.filter is None else ir.Case(((it.filter, value),), otherwise, value.kind))
    return ir.Project(agg.columns, agg.input, tuple(exprs))


def _widened(rel: ir.Rel) -> tuple[ir.Rel, list[ir.Expr], list[tuple[int, str, str] | None]] | None:
    """`rel` (one SPJ block, its operators that are not blocks taken as derived tables) as the
    rows of its tables' cross product that pass its conditions, every table column kept; the
    expressions computing `rel`'s columns from those; and for each of those columns the (table
    position in the block, table, column) it is, or None for a column of a derived table (an
    aggregate, a DISTINCT: it has no declared key)."""
    bs = blocks(rel, always_empty, opaque={})
    if not bs or len(bs) != 1:
        return None
    b = bs[0]
    if not b.tables:
        return None
    product: ir.Rel = b.tables[0]
    for t in b.tables[1:]:
        product = ir.Join(product.columns + t.columns, "cross", product, t, None)
    wide = ir.Filter(product.columns, product, b.cond)
    origin: list[tuple[int, str, str] | None] = []
    for inst, t in enumerate(b.tables):
        origin += [None if t.table == DERIVED else (inst, t.table, c.name.lower()) for c in t.columns]
    return wide, b.exprs, origin


def semi_join_conjunct_as_join(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """Uncorrelated `x IN (SELECT ...)` and `EXISTS (SELECT ...)` conjuncts of a WHERE are inner joins with the subquery's distinct rows.

    A row passes an IN conjunct exactly when some subquery row compares equal to it (a NULL or
    FALSE IN drops it as a failed join does), and it meets at most one row of the subquery's
    distinct rows: those are kept only when the subquery's rows are not already unique, and
    only kinds whose equal values are identical are joined (`IDENTICAL_WHEN_EQUAL`), so two
    distinct rows cannot both equal one probe. An EXISTS reading nothing of the row is a join
    with one constant row when the subquery has rows and with none otherwise (`_one_row_if_any`).
    The other conjuncts filter the joined rows: they read only the input's columns, which keep
    their places (the joined columns come after them), so a correlated subquery among them sees
    the values it saw.

        >>> from verify.rules import demo
        >>> print(demo("semi_join_conjunct_as_join", "SELECT name FROM p WHERE g > 1 AND id IN (SELECT pid FROM q)"))
        Project name
          Project id, name, g
            Filter g > 1
              Join inner ON id = pid
                Scan p(id, name, g)
                Distinct
                  Project pid
                    Scan q(qid, pid, v)
    """
    if not isinstance(rel, ir.Filter):
        return None
    joined: list[ir.InSubquery | ir.Exists] = []
    rest = []
    for c in conjuncts(rel.cond):
        found = _joinable_in(rel, (c,), ctx.schema) if isinstance(c, ir.InSubquery) else None
        (joined if found is c or _uncorrelated_exists(c) else rest).append(c)
    if not joined:
        return None
    out: ir.Rel = rel.input
    for found in joined:
        if isinstance(found, ir.Exists):
            sub = _one_row_if_any(found.query, ctx.dialect)
            out = ir.Join(tuple(out.columns) + sub.columns, "cross", out, sub, None)
        else:
            sub = _distinct_rows(found.query, ctx.schema)
            out = ir.Join(tuple(out.columns) + sub.columns, "inner", out, sub, _in_comparison(found, len(out.columns)))
    if rest:
        out = ir.Filter(out.columns, out, conjunction(rest))
    return ir.Project(rel.columns, out, tuple(ir.Col(i, c.kind, c.affinity) for i, c in enumerate(rel.input.columns)))


def exists_of_one_row_true(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """An EXISTS whose subquery always returns a row (an aggregate without GROUP BY or HAVING) is TRUE.

    `SELECT COUNT(*) FROM ... WHERE ...` has its one row also over no rows, whatever the row
    the subquery is correlated with, so the EXISTS holds on every row.

        >>> from verify.rules import demo
        >>> print(demo("exists_of_one_row_true",
        ...            "SELECT id FROM p WHERE EXISTS (SELECT COUNT(*) FROM q WHERE q.pid = p.id)"))
        Project id
          Filter TRUE
            Scan p(id, name, g)
    """
    exprs = row_exprs(rel)
    if exprs is None:
        return None

    def true_if_one_row(n):
        return ir.Lit(True, "bool") if isinstance(n, ir.Exists) and one_row_always(n.query) else n
    new = tuple(ir.transform(e, true_if_one_row, into_subqueries=False) for e in exprs)
    if all(a is b for a, b in zip(new, exprs)):
        return None
    return replace(rel, cond=new[0]) if isinstance(rel, ir.Filter) else replace(rel, exprs=new)


def limited_row_tested_as_exists(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """`(SELECT e FROM r ... LIMIT 1) IS [NOT] NULL`, where `e` is never NULL, is [NOT] EXISTS (SELECT ... FROM r ...).

    LIMIT 1 keeps a row whenever there is one (whichever row, under any ORDER BY), and its one
    value is not NULL: the subquery is NULL exactly when its input has no row, which is what
    NOT EXISTS asks (neither is ever NULL). Spark writes EXISTS in this form. Each such test in
    a WHERE or SELECT list, outside other subqueries; the subquery may read the enclosing row,
    which EXISTS then reads alike.

        >>> from verify.rules import demo
        >>> print(demo("limited_row_tested_as_exists",
        ...            "SELECT a FROM t WHERE (SELECT 1 FROM q WHERE q.pid = t.a LIMIT 1) IS NOT NULL"))
        Project a
          Filter EXISTS $1
            $1:
              Filter pid = outer1.#0
                Scan q(qid, pid, v)
            Scan t(a, b)
    """
    exprs = row_exprs(rel)
    if exprs is None:
        return None

    made: set[int] = set()  # the NOT EXISTS written here: under a NOT, EXISTS

    def as_exists(n):
        if isinstance(n, ir.IsNull) and isinstance(n.arg, ir.ScalarSubquery):
            q = n.arg.query
            sort = q
            while isinstance(sort, ir.Project):  # an ORDER BY key not selected sorts below the SELECT list
                sort = sort.input
            if isinstance(sort, ir.Sort) and sort.limit == 1 and not sort.offset and 0 in never_null(
                    q if q is not sort else sort.input, ctx.schema):
                rows = sort.input
                while isinstance(rows, ir.Project) and plain(rows.exprs, params=True):
                    rows = rows.input  # what EXISTS asks of the rows, as the lowering writes it: no SELECT list
                out = ir.Not(ir.Exists(rows))
                made.add(id(out))
                return out
        if isinstance(n, ir.Not) and id(n.arg) in made:
            return n.arg.arg
        return n
    new = ir.transform(exprs, as_exists, into_subqueries=False)
    if ir.same(new, exprs):
        return None
    return replace(rel, exprs=new) if isinstance(rel, ir.Project) else replace(rel, cond=new[0])


def exists_as_marked_join(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """An `EXISTS (SELECT ...)` uncorrelated, or correlated only by equalities, is a left join with a marker that is NULL when no row matched.

    Uncorrelated, the subquery's rows reduced to one row holding TRUE if there are any
    (`_one_row_if_any`) are joined to every row. Correlated by equalities `r.x = t.a`, it asks
    whether `t.a` is among the values `r.x` of the rows passing the rest of its WHERE
    (`verify.decorrelate.uncorrelated_in`): those rows' distinct values, marked with TRUE, are
    joined on that comparison. Either way the EXISTS is TRUE exactly when the marker is not
    NULL, and never NULL itself, so this holds wherever the EXISTS stands in a WHERE or a SELECT
    list (under NOT too; not inside another subquery); each row meets at most one row, so the
    rows are the same.

        >>> from verify.rules import demo
        >>> print(demo("exists_as_marked_join", "SELECT a, EXISTS (SELECT 1 FROM q WHERE v > 2) AS e FROM t"))
        Project a, NOT _in IS NULL AS e
          Join left ON TRUE
            Scan t(a, b)
            Distinct
              Project 1 AS _in
                Filter v > 2
                  Scan q(qid, pid, v)
    """
    exprs = row_exprs(rel)
    if exprs is None:
        return None
    na = len(rel.input.columns)
    for found in ir.walk(exprs, into_subqueries=False):
        if _uncorrelated_exists(found):
            marked: ir.Rel = _one_row_if_any(found.query, ctx.dialect, "_in")
            on: ir.Expr = ir.Lit(True, "bool")
            break
        as_in = uncorrelated_in(found) if isinstance(found, ir.Exists) else None
        if as_in is not None and _joinable(as_in):
            marked = _marked(_distinct_rows(as_in.query, ctx.schema), ctx.dialect)
            on = _in_comparison(as_in, na)
            break
    else:
        return None
    return _marker_tested(rel, exprs, found, marked, on)


def _uncorrelated_exists(e) -> bool:
    """`e` is an EXISTS whose subquery reads nothing of an enclosing row."""
    return isinstance(e, ir.Exists) and not correlated(e.query)


def _one_row_if_any(query: ir.Rel, dialect: str, name: str = "_c0") -> ir.Rel:
    """One row holding TRUE when `query` has rows, none otherwise (`SELECT DISTINCT TRUE FROM ...`)."""
    true = dialect_true(dialect)
    column = ir.OutCol(name, true.kind)
    return ir.Distinct((column,), ir.Project((column,), query, (true,)))


def _marked(sub: ir.Rel, dialect: str) -> ir.Project:
    """`sub`'s rows with a last column `_in` holding TRUE: NULL after a left join exactly on the
    rows that met none of them."""
    true = dialect_true(dialect)
    return ir.Project(tuple(sub.columns) + (ir.OutCol("_in", true.kind),), sub,
                      tuple(ir.Col(j, c.kind, c.affinity) for j, c in enumerate(sub.columns)) + (true,))


def in_subquery_as_join(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """An uncorrelated `x IN (SELECT ...)` that only filters rows is a left join marking the matched rows.

    The subquery's rows, marked with TRUE, are left-joined on the IN's own comparison: the IN is
    TRUE exactly when the row found a match. Where it is not TRUE, the IN is FALSE or NULL and the
    join's test FALSE, so this is done only where the two cannot differ: in a WHERE under AND/OR
    only (a NULL drops the row as FALSE does), or anywhere when neither x nor the subquery's
    columns can be NULL. Each row matches at most one subquery row when the subquery's rows are
    unique (else its DISTINCT rows are joined), so the rows are the same.

        >>> from verify.rules import demo
        >>> print(demo("in_subquery_as_join", "SELECT name FROM p WHERE id IN (SELECT pid FROM q)"))
        Project name
          Project id, name, g
            Filter NOT _in IS NULL
              Join left ON id = pid
                Scan p(id, name, g)
                Project pid, 1 AS _in
                  Distinct
                    Project pid
                      Scan q(qid, pid, v)
    """
    schema, dialect = ctx.schema, ctx.dialect
    exprs = row_exprs(rel)
    if exprs is None:
        return None
    found = _joinable_in(rel, exprs, schema)
    if found is None:
        return None
    marked = _marked(_distinct_rows(found.query, schema), dialect)
    return _marker_tested(rel, exprs, found, marked, _in_comparison(found, len(rel.input.columns)))


def in_subquery_as_counted_join(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """An `x IN (SELECT y ...)`, uncorrelated or correlated only by equalities, anywhere, is a join with the subquery's counts and a left join marking the matched rows.

    The IN is FALSE on no subquery row, else NULL when x is NULL, TRUE when a row matches, NULL
    when no row matches but some y is NULL, else FALSE. So the row is joined to the subquery's
    `COUNT(*)` and `COUNT(y)` (per correlation key, by a left join: no group is no row; without
    correlation, one row by a cross join) and left-joined, as `in_subquery_as_join` does, to the
    subquery's distinct rows marked TRUE, and the IN is the CASE that tells these apart (the form
    Calcite decorrelates IN and NOT IN to). Only an IN on one value.

        >>> from verify.rules import demo
        >>> print(demo("in_subquery_as_counted_join", "SELECT id, g IN (SELECT v FROM q) AS f FROM p"))
        Project id, CASE WHEN c = 0 THEN FALSE WHEN g IS NULL THEN NULL WHEN NOT _in IS NULL THEN TRUE WHEN ck < c THEN NULL ELSE FALSE END AS f
          Join left ON g = v
            Join cross
              Scan p(id, name, g)
              Aggregate: count(*) AS c, count(v) AS ck
                Project v
                  Scan q(qid, pid, v)
            Project v, 1 AS _in
              Distinct
                Project v
                  Scan q(qid, pid, v)
    """
    return _in_as_joins(rel, ctx, certain_only=False)


def never_null_in_as_marked_join(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """An `x IN (SELECT y ...)` where neither x nor y can be NULL, uncorrelated or correlated only by equalities, anywhere, is a left join marking the matched rows.

    The IN is then TRUE when a subquery row matches and FALSE otherwise (also when there is no
    row), which is whether the row found a match in a left join to the subquery's distinct rows
    marked TRUE (on x = y and the correlation's equalities): `in_subquery_as_counted_join`
    without the counts, which only tell NULLs apart.

        >>> from verify.rules import demo
        >>> print(demo("never_null_in_as_marked_join", "SELECT p.id, p.id NOT IN (SELECT r.pid FROM r "
        ...            "WHERE r.rid = p.g) AS f FROM p"))
        Project id, NOT NOT _in IS NULL AS f
          Join left ON (id = _c0 AND _c1 = g)
            Scan p(id, name, g)
            Project _c0, 1 AS _in, _c1
              Project pid AS _c0, rid AS _c1
                Scan r(rid, pid)
    """
    return _in_as_joins(rel, ctx, certain_only=True)


def _in_as_joins(rel: ir.Rel, ctx: Context, certain_only: bool) -> ir.Rel | None:
    """`in_subquery_as_counted_join`, or with `certain_only` `never_null_in_as_marked_join`."""
    exprs = row_exprs(rel)
    if exprs is None:
        return None
    for found, _ in _in_subqueries(exprs, isinstance(rel, ir.Filter)):
        flat = found if not correlated(found.query) else uncorrelated_in(found)
        if len(found.arg) == 2 and flat is not None and _joinable(flat) and (
                not certain_only or _never_null_in(flat, rel.input, ctx.schema)):
            break
    else:
        return None
    width, keys = len(rel.input.columns), len(flat.arg) - 2  # the row's width, correlation keys
    sub = flat.query  # its columns: y, then the correlation keys
    probes = conjuncts(flat.arg[-1]) if keys else [flat.arg[-1]]  # x against y, then each key's test
    if len(probes) != keys + 1:
        return None
    key_cols = tuple(ir.Col(1 + j, c.kind, c.affinity) for j, c in enumerate(sub.columns[1:]))
    y = ir.Col(0, sub.columns[0].kind, sub.columns[0].affinity)
    counts = ir.Aggregate(sub.columns[1:] + (ir.OutCol("c", "int"), ir.OutCol("ck", "int")), sub, key_cols,
                          (ir.Agg("count_star", None, False, "int"), ir.Agg("count", y, False, "int")),
                          grouped=keys > 0)

    def read(probe: ir.Expr, sub_at: Callable[[int], int]) -> ir.Expr:  # a probe over the joined row
        return map_cols(probe, lambda c: flat.arg[c.index] if c.index < keys + 1 else
                        ir.Col(sub_at(c.index - keys - 1), c.kind, c.affinity))
    x, certain = flat.arg[0], certain_only  # neither x nor y NULL: the counts are not needed
    counted = rel.input if certain else ir.Join(
        rel.input.columns + counts.columns, "left" if keys else "cross", rel.input, counts,
        conjunction([read(p, lambda j: width + j - 1) for p in probes[1:]]) if keys else None)
    # the marker right after y, as Calcite writes it: y, TRUE, the correlation keys
    distinct = _distinct_rows(sub, ctx.schema)
    true = dialect_true(ctx.dialect)
    marked = ir.Project((sub.columns[0], ir.OutCol("_in", true.kind)) + sub.columns[1:], distinct,
                        (y, true) + key_cols)
    at = len(counted.columns)
    join = ir.Join(counted.columns + marked.columns, "left", counted, marked,
                   conjunction([read(p, lambda j: at + j + (j > 0)) for p in probes]))
    c, ck = (ir.Col(width + keys + n, "int") for n in (0, 1))
    matched = ir.Not(ir.IsNull(ir.Col(at + 1, true.kind)))
    false, null = ir.Lit(False, "bool"), ir.Lit(None, "bool")
    # correlated, a key with no subquery row has no counts (c is NULL): the IN is FALSE, also for
    # a NULL x; no row matches it then, so the tests after x's are right as they are
    null_x = ir.Case(((ir.IsNull(c), false),), null, "bool") if keys else null
    truth = matched if certain else ir.Case(
        ((ir.Cmp("=", c, ir.Lit(0, "int"), "num"), false), (ir.IsNull(x), null_x), (matched, ir.Lit(True, "bool")),
         (ir.Cmp("<", ck, c, "num"), null)), false, "bool")
    # the same IN written again (Calcite's CASE tests one IN twice) reads the same joins
    def alike(n) -> bool:  # the same IN, up to the subquery's output names
        return isinstance(n, ir.InSubquery) and ir.same(n.arg, found.arg) and same_plan(n.query, found.query) \
            and deterministic(found.query)
    new = tuple(ir.transform(e, lambda n: truth if alike(n) else n, into_subqueries=False) for e in exprs)
    inner: ir.Rel | None = over_join(rel, join, new)
    if not plain(new):  # another IN there: read by joins of its own, else left as it was
        inner = _in_as_joins(inner, ctx, certain_only)
        if inner is None:
            return None
    return with_columns_of(rel, inner)


def _never_null_in(flat: ir.InSubquery, row: ir.Rel, schema: Schema) -> bool:
    """The IN `flat` (uncorrelated) compares a never-NULL column of `row` with a never-NULL y."""
    x = flat.arg[0]
    return isinstance(x, ir.Col) and x.index in never_null(row, schema) and 0 in never_null(flat.query, schema)


def _marker_tested(rel: ir.Filter | ir.Project, exprs: tuple, found: ir.Expr, marked: ir.Rel,
                   on: ir.Expr) -> ir.Rel | None:
    """`rel` reading its input left-joined on `on` to `marked` (whose last column is a never-NULL
    marker), with the subquery `found` in its condition or SELECT list replaced by "the marker
    is not NULL"; None when another subquery there would then see a wider row."""
    join = ir.Join(tuple(rel.input.columns) + marked.columns, "left", rel.input, marked, on)
    matched = ir.Not(ir.IsNull(ir.Col(len(join.columns) - 1, marked.columns[-1].kind)))
    new = tuple(_replaced(e, found, matched) for e in exprs)
    if not plain(new):
        return None
    return with_columns_of(rel, over_join(rel, join, new))


def _distinct_rows(sub: ir.Rel, schema: Schema) -> ir.Rel:
    """The subquery's rows made unique (DISTINCT), unless they already are."""
    return sub if _unique_on(sub, set(range(len(sub.columns))), schema) else ir.Distinct(sub.columns, sub)


def _in_comparison(found: ir.InSubquery, width: int) -> ir.Expr:
    """The IN's comparison as a join condition: its probes read from the row, the subquery's
    columns placed after the row's `width` columns."""
    lhs = list(found.arg[:-1])
    return map_cols(found.arg[-1], lambda c: lhs[c.index] if c.index < len(lhs) else
                    ir.Col(width + c.index - len(lhs), c.kind, c.affinity))


def _joinable(found: ir.InSubquery) -> bool:
    """The IN's probes read only the row, its subquery no enclosing row, and equal values of the
    subquery's columns are identical (so its distinct rows meet a probe at most once)."""
    return plain(found.arg[:-1]) and not correlated(found.query) and \
        all(c.kind in IDENTICAL_WHEN_EQUAL for c in found.query.columns)


def _joinable_in(rel: ir.Filter | ir.Project, exprs: tuple, schema: Schema) -> ir.InSubquery | None:
    """The first IN subquery of `exprs` that `in_subquery_as_join` may read as a join."""
    never = never_null(rel.input, schema)
    for found, positive in _in_subqueries(exprs, isinstance(rel, ir.Filter)):
        sub = found.query
        if not _joinable(found):
            continue
        null_free = all((isinstance(x, ir.Col) and x.index in never) or (isinstance(x, ir.Lit) and x.value is not None)
                        for x in found.arg[:-1]) and never_null(sub, schema) >= set(range(len(sub.columns)))
        if positive or null_free:
            return found
    return None


def _in_subqueries(e, positive: bool):
    """The IN subqueries in expression(s) `e` (not inside other subqueries), each with whether it
    stands under AND/OR only, in a condition (`positive` at the top)."""
    if isinstance(e, ir.InSubquery):
        yield e, positive
    elif isinstance(e, tuple) or (isinstance(e, ir.Expr) and not isinstance(e, (ir.Exists, ir.ScalarSubquery))):
        inner = positive and (isinstance(e, tuple) or isinstance(e, ir.BoolOp))
        for x in ir.children(e):
            yield from _in_subqueries(x, inner)


def _replaced(e, old: ir.Expr, new: ir.Expr):
    """Expression(s) `e` with the node `old` (by identity) replaced by `new`."""
    return ir.transform(e, lambda n: new if n is old else n, into_subqueries=False)


def never_null(rel: ir.Rel, schema: Schema) -> set[int]:
    """Columns of `rel` that hold no NULL on any database satisfying the schema (NOT NULL and
    primary-key columns, as the encoder models them, carried through operators that keep
    values, plus columns a WHERE compares with a literal)."""
    if isinstance(rel, ir.Scan):
        if rel.table == DERIVED or not schema.has_table(rel.table):
            return set()
        t = schema.table(rel.table)
        pk = {c.lower() for c in t.primary_key}
        return {i for i, c in enumerate(t.columns) if c.not_null or c.name.lower() in pk}
    if isinstance(rel, ir.Filter):
        tested = {tested_column(c) for c in conjuncts(rel.cond) if not isinstance(c, ir.IsNull)}
        return never_null(rel.input, schema) | (tested - {None}) | _compared_columns(rel.cond)
    if isinstance(rel, (ir.Project, ir.Aggregate)):
        inner = never_null(rel.input, schema)
        exprs = rel.exprs if isinstance(rel, ir.Project) else rel.keys
        out = {k for k, e in enumerate(exprs) if (isinstance(e, ir.Col) and e.index in inner)
               or (isinstance(e, ir.Lit) and e.value is not None)}
        if isinstance(rel, ir.Aggregate):
            out |= {len(rel.keys) + m for m, it in enumerate(rel.items)
                    if isinstance(it, ir.Agg) and it.func in ("count", "count_star")}
        return out
    if isinstance(rel, ir.Join):
        n = len(rel.left.columns)
        left = never_null(rel.left, schema) if rel.kind in ("inner", "cross", "left") else set()
        right = never_null(rel.right, schema) if rel.kind in ("inner", "cross") else set()
        on = _compared_columns(rel.cond) if rel.kind in ("inner", "cross") and rel.cond is not None else set()
        return left | {n + i for i in right} | on
    if isinstance(rel, (ir.Distinct, ir.Sort)):
        return never_null(rel.input, schema)
    return set()


def _compared_columns(cond: ir.Expr) -> set[int]:
    """Columns that a conjunct of `cond` compares with another column by value: a row passing
    `cond` has no NULL there (a comparison with NULL is NULL, which no filter passes)."""
    return {x.index for c in conjuncts(cond) if isinstance(c, ir.Cmp) and c.mode in VALUE_MODES
            and isinstance(c.left, ir.Col) and isinstance(c.right, ir.Col) for x in (c.left, c.right)}


# aggregates over a join whose other side repeats each row c times: the value times c, or the same
_TIMES_COPIES = ("sum", "count", "count_star")
_SAME_UNDER_COPIES = ("min", "max", "avg", "bool_and", "bool_or", "bit_and", "bit_or")


def counted_rows_expanded(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """An aggregate over a join with rows counted per key (`GROUP BY k` with `COUNT(*)`), reading the count only as a SUM's factor, reads the counted rows themselves.

    Each group row (k, c) stands for the c rows of its input with that k: joined instead of it,
    they give c copies of each joined row, each counting 1, so `SUM(c * e)` and `SUM(c)` are
    `SUM(e)` and `SUM(1)` over the copies, and MIN, MAX, BIT/BOOL and DISTINCT aggregates
    read the same values (the inverse of eager aggregation, as Calcite writes it). Only where
    equal keys are identical values, and no other aggregate counts rows.

        >>> from verify.rules import demo
        >>> print(demo("counted_rows_expanded", "SELECT SUM(x.n * t.b) AS s FROM (SELECT pid, COUNT(*) AS n "
        ...            "FROM q GROUP BY pid) AS x JOIN t ON x.pid = t.a"))
        Project _agg0 AS s
          Aggregate: sum(b) AS _agg0
            Join inner ON pid = a
              Project pid, 1 AS n
                Scan q(qid, pid, v)
              Scan t(a, b)
    """
    if not (isinstance(rel, ir.Aggregate) and isinstance(rel.input, ir.Join) and rel.input.kind in ("inner", "cross")
            and plain(rel.keys) and (rel.input.cond is None or plain((rel.input.cond,)))):
        return None
    j = rel.input
    n = len(j.left.columns)
    for side, offset in (("left", 0), ("right", n)):
        counted = _counted_rows(getattr(j, side))
        if counted is None:
            continue
        c = offset + counted[1]
        reads_c = lambda e: e is not None and c in columns_read((e,))  # noqa: E731
        if reads_c(j.cond) or any(reads_c(k) for k in rel.keys) or not all(_sum_factor_only(it, c) for it in rel.items):
            continue
        items = tuple(replace(it, arg=_without_factor(it.arg, c)) if it.arg is not None else it for it in rel.items)
        out = replace(rel, input=replace(j, **{side: counted[0]}), items=items)
        return counted_rows_expanded(out, ctx) or out  # the other side may count its rows too
    return None


def _without_factor(arg: ir.Expr, c: int) -> ir.Expr:
    """A SUM's argument with the count `c`, 1 on each counted row, read as 1: `c * e` is e."""
    if isinstance(arg, ir.Col) and arg.index == c:
        return ir.Lit(1, arg.kind)
    if isinstance(arg, ir.Arith) and arg.op == "*":
        for f, other in ((arg.left, arg.right), (arg.right, arg.left)):
            if isinstance(f, ir.Col) and f.index == c and other.kind == arg.kind:
                return other
    return arg


def _counted_rows(side: ir.Rel) -> tuple[ir.Rel, int] | None:
    """`side` (a GROUP BY whose one aggregate is COUNT(*), under a projection of its columns) as
    the rows it counts, each with count 1, and the position of the count; else None."""
    top = one_projection(side)
    exprs = top.exprs if isinstance(top, ir.Project) else None
    agg = top.input if isinstance(top, ir.Project) else top
    if not (isinstance(agg, ir.Aggregate) and agg.grouped and agg.keys and len(agg.items) == 1
            and isinstance(agg.items[0], ir.Agg) and agg.items[0].func == "count_star"
            and agg.items[0].filter is None and plain(agg.keys)
            and all(k.kind in IDENTICAL_WHEN_EQUAL for k in agg.keys)):
        return None
    per_row = list(agg.keys) + [ir.Lit(1, agg.items[0].kind)]  # the group's columns on each counted row
    if exprs is None:
        exprs = tuple(ir.Col(i, c.kind, c.affinity) for i, c in enumerate(agg.columns))
    if not all(isinstance(e, ir.Col) for e in exprs):
        return None
    at = [i for i, e in enumerate(exprs) if e.index == len(agg.keys)]
    if len(at) != 1:
        return None
    return ir.Project(side.columns, agg.input, tuple(per_row[e.index] for e in exprs)), at[0]


def _sum_factor_only(it, c: int) -> bool:
    """The aggregate item reads column `c` only as a factor of a SUM (`SUM(c)`, `SUM(c * e)`),
    or does not read it and is the same over copies of its rows."""
    if not isinstance(it, ir.Agg) or it.filter is not None:
        return False
    reads = it.arg is not None and c in columns_read((it.arg,))
    if not reads:
        return it.distinct or it.func in ("min", "max", "bool_and", "bool_or", "bit_and", "bit_or")
    if it.func != "sum" or it.distinct:
        return False
    arg = it.arg
    if isinstance(arg, ir.Col):
        return arg.index == c
    if isinstance(arg, ir.Arith) and arg.op == "*":
        factors = [arg.left, arg.right]
        return any(isinstance(f, ir.Col) and f.index == c for f in factors) and \
            sum(c in columns_read((f,)) for f in factors) == 1
    return False


def _over_inner_join(agg: ir.Aggregate) -> ir.Aggregate:
    """`agg` reading the inner join below its projections of columns (SELECT lists of plain
    columns) and filters, the filters' conditions added to the join's ON: the same rows,
    grouped and aggregated alike; `agg` itself where no inner join lies below them."""
    node, keys, items, conds = agg.input, agg.keys, agg.items, ()
    while isinstance(node, ir.Project) and all(isinstance(e, ir.Col) for e in node.exprs) \
            or isinstance(node, ir.Filter) and plain((node.cond,)):
        if isinstance(node, ir.Project):
            keys, items, conds = (substitute(x, list(node.exprs)) for x in (keys, items, conds))
        else:
            conds += (node.cond,)
        node = node.input
    if node is agg.input or not (isinstance(node, ir.Join) and node.kind == "inner" and node.cond is not None):
        return agg
    return replace(agg, input=replace(node, cond=conjunction([node.cond, *conds])), keys=keys, items=items)


def aggregate_before_join(rel: ir.Rel, ctx: Context) -> ir.Rel | None:
    """A GROUP BY over `A JOIN B` whose aggregates read only A is computed on A, then joined to B.

    The keys must include every A column the join equates to B: the A rows of one group then all
    meet the same B rows. When B has at most one row per join value the aggregates are unchanged;
    otherwise B is counted per join value and SUM/COUNT are multiplied by that count (MIN, MAX,
    AVG and DISTINCT aggregates stay). Projections of plain columns and filters between the
    GROUP BY and the join are read through (`_over_inner_join`): the filters' conditions join
    the ON, and those reading only A filter A before it is grouped.

        >>> from verify.rules import demo
        >>> print(demo("aggregate_before_join",
        ...            "SELECT q.pid, SUM(q.v) AS s FROM q JOIN p ON q.pid = p.id GROUP BY q.pid"))
        Project _key0 AS pid, _agg0 AS s
          Project pid AS _key0, _agg0
            Join inner ON pid = id
              Aggregate GROUP BY pid: sum(v) AS _agg0
                Scan q(qid, pid, v)
              Scan p(id, name, g)
    """
    schema = ctx.schema
    if not (isinstance(rel, ir.Aggregate) and rel.grouped):
        return None
    rel = _over_inner_join(rel)
    if not isinstance(rel.input, ir.Join):
        return None
    j = rel.input
    if j.kind != "inner" or j.cond is None or not plain((j.cond,)):
        return None
    n = len(j.left.columns)
    items = rel.items
    if any(not isinstance(it, ir.Agg) or not (it.distinct or it.func in _TIMES_COPIES + _SAME_UNDER_COPIES)
           or not columns_read([x for x in (it.arg, it.filter) if x is not None]) <= set(range(n)) for it in items):
        return None
    # which of several equal values (1 and 1.0) a group key or MIN/MAX shows may depend on the
    # rows' order, which the join changes: only kinds whose equal values are identical
    if any(k.kind not in IDENTICAL_WHEN_EQUAL for k in rel.keys) or any(
            it.func in ("min", "max") and it.kind not in IDENTICAL_WHEN_EQUAL for it in items):
        return None
    pairs: dict[int, int] = {}  # B column -> the A column the join equates it to
    a_only: list[ir.Expr] = []
    b_only: list[ir.Expr] = []
    for c in conjuncts(j.cond):
        eq = [(a, b) for a, b in equated_columns(c) if a < n <= b or b < n <= a]
        if eq and c.left.kind in IDENTICAL_WHEN_EQUAL:
            a, b = sorted(eq[0])
            if pairs.setdefault(b - n, a) != a:  # one B column equated to two A columns: not this shape
                return None
        elif columns_read((c,)) <= set(range(n)):
            a_only.append(c)  # filters A's rows before they are grouped
        elif min(columns_read((c,))) >= n:
            b_only.append(c)
        else:
            return None
    keys_a: list[int] = []  # the grouping, on A's columns
    for k in rel.keys:
        if not isinstance(k, ir.Col) or (k.index >= n and k.index - n not in pairs):
            return None
        a = k.index if k.index < n else pairs[k.index - n]
        if a not in keys_a:
            keys_a.append(a)
    if not pairs or not set(pairs.values()) <= set(keys_a):
        return None
    ys = sorted(pairs)
    unique = _unique_on(j.right, set(ys), schema)
    inner_cols = tuple(ir.OutCol(j.left.columns[a].name, j.left.columns[a].kind) for a in keys_a) + \
        tuple(rel.columns[len(rel.keys):])
    col_of = lambda side, i, at: ir.Col(at, side.columns[i].kind, side.columns[i].affinity)  # noqa: E731
    source = j.left if not a_only else ir.Filter(j.left.columns, j.left, conjunction(a_only))
    inner = ir.Aggregate(inner_cols, source, tuple(col_of(j.left, a, a) for a in keys_a), items)
    w = len(inner_cols)
    if unique:
        right = j.right
        at = {y: w + y for y in ys}
        extra = [map_cols(c, lambda col: replace(col, index=col.index - n + w)) for c in b_only]
    else:  # B's join values (after its own conditions), counted where SUM/COUNT need the copies
        cols_b = j.right.columns
        filtered = j.right if not b_only else ir.Filter(cols_b, j.right, ir.BoolOp("and", tuple(
            map_cols(c, lambda col: replace(col, index=col.index - n)) for c in b_only)) if len(b_only) > 1
            else map_cols(b_only[0], lambda col: replace(col, index=col.index - n)))
        counted = any(it.func in _TIMES_COPIES and not it.distinct for it in items)
        right = ir.Aggregate(tuple(cols_b[y] for y in ys) + ((ir.OutCol("_copies", "int"),) if counted else ()),
                             filtered, tuple(ir.Col(y, cols_b[y].kind, cols_b[y].affinity) for y in ys),
                             (ir.Agg("count_star", None, False, "int"),) if counted else ())
        at = {y: w + i for i, y in enumerate(ys)}
        extra = []
    cols = inner_cols + tuple(right.columns)
    on = [ir.Cmp("=", col_of(j.left, pairs[y], keys_a.index(pairs[y])), col_of(j.right, y, at[y]),
                 _EQUALITY_MODE[j.right.columns[y].kind]) for y in ys]
    joined = ir.Join(cols, "inner", inner, right, ir.BoolOp("and", tuple(on + extra)) if len(on + extra) > 1 else on[0])
    copies = None if unique or not counted else ir.Col(len(cols) - 1, "int")
    exprs: list[ir.Expr] = []
    for k in rel.keys:
        exprs.append(ir.Col(keys_a.index(k.index) if k.index < n else at[k.index - n], k.kind, k.affinity))
    for m, it in enumerate(items):
        val = ir.Col(len(keys_a) + m, it.kind)
        if copies is not None and it.func in _TIMES_COPIES and not it.distinct:
            val = ir.Arith("*", val, copies, it.kind)
        exprs.append(val)
    return ir.Project(rel.columns, joined, tuple(exprs))
