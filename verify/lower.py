"""Resolve names against the schema and lower a sqlglot SELECT tree to the IR (`ir.py`).

Resolution follows SQLite: identifiers are case-insensitive; an unqualified column must name
exactly one visible column; a double-quoted token that names no column is a string literal;
ORDER BY may name a result column (by alias or position); an unqualified column of a
USING/NATURAL join names the left side's column.

Anything the IR cannot express raises `Unsupported(feature)`; bad names raise `QueryError`.

Example:
    >>> from verify.schema import Schema, Table, Column, Affinity
    >>> s = Schema(tables=[Table(name="t", columns=[Column(name="a", affinity=Affinity.INTEGER)])])
    >>> q = lower_query(parse_query("SELECT a FROM t WHERE a > 1"), s)
    >>> type(q.rel).__name__, type(q.rel.input).__name__
    ('Project', 'Filter')
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from sqlglot import exp

from verify import ir
from verify.errors import QueryError, Unsupported
from verify.parse import parse_query  # noqa: F401  (re-exported for the doctest)
from verify.lower_scalar import ScalarLowering, affinity, bool_to_int, duckdb_decimal, unify_kinds
from verify.names import CmpMode, Dialect, FuncName, JoinKind, SetOpName
from verify.schema import Affinity, Schema, scan_affinity
from verify.scope import AggCtx, Entry, Env, Scope

_AGG_FUNCS = (exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max, exp.BitwiseAndAgg, exp.BitwiseOrAgg,
              exp.LogicalAnd, exp.LogicalOr, exp.AnyValue)
# aggregates DuckDB has and SQLite lacks, by their IR name
_DUCKDB_AGGS = {"bitwiseandagg": "bit_and", "bitwiseoragg": "bit_or", "logicaland": "bool_and",
                "logicalor": "bool_or"}


def lower_query(tree: exp.Expression, schema: Schema, dialect: Dialect | str = Dialect.SQLITE) -> ir.Query:
    low = Lowerer(schema, dialect)
    rel = low.query(tree, Env(scopes=[], ctes={}))
    ordered = outer_order(tree)
    return ir.Query(rel=rel, ordered=ordered, tables=frozenset(low.tables), notes=low.notes)


def outer_order(tree: exp.Expression) -> bool:
    """The query's outermost operator is an ORDER BY."""
    while isinstance(tree, exp.Subquery):
        if tree.args.get("order"):
            return True
        tree = tree.this
    return bool(tree.args.get("order"))


class Lowerer(ScalarLowering):
    def __init__(self, schema: Schema, dialect: Dialect | str):
        self.schema = schema
        self.dialect = Dialect(dialect)
        self.tables: set[str] = set()
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    # ------------------------------------------------------------------ queries
    def query(self, node: exp.Expression, env: Env) -> ir.Rel:
        env = self._with_ctes(node, env)
        if isinstance(node, exp.Subquery):
            rel = self.query(node.this, env)
            return self._order_limit(node, rel, env)
        if isinstance(node, (exp.Union, exp.Intersect, exp.Except)):
            return self._setop(node, env)
        if isinstance(node, exp.Select):
            return self._select(node, env)
        if isinstance(node, exp.Values):
            return self._values(node, env)
        raise Unsupported(f"query form {node.key.upper()}")

    def _with_ctes(self, node: exp.Expression, env: Env) -> Env:
        w = node.args.get("with_") or node.args.get("with")
        if not w:
            return env
        if w.args.get("recursive"):
            raise Unsupported("WITH RECURSIVE")
        ctes = dict(env.ctes)
        for cte in w.expressions:
            inner = Env(scopes=env.scopes, ctes=ctes)
            rel = self.query(cte.this, inner)
            names = [c.name for c in cte.args["alias"].columns] if cte.args["alias"].columns else None
            if names:
                if len(names) != len(rel.columns):
                    raise QueryError(f"CTE {cte.alias!r} names {len(names)} columns but returns {len(rel.columns)}")
                rel = _rename(rel, names)
            ctes[cte.alias.lower()] = rel
        return Env(scopes=env.scopes, ctes=ctes)

    def _setop(self, node: exp.Expression, env: Env) -> ir.Rel:
        op = {exp.Union: SetOpName.UNION, exp.Intersect: SetOpName.INTERSECT, exp.Except: SetOpName.EXCEPT}[type(node)]
        left = self.query(node.this, Env(env.scopes, env.ctes))
        right = self.query(node.expression, Env(env.scopes, env.ctes))
        if len(left.columns) != len(right.columns):
            raise QueryError(
                f"{op.upper()} of queries with {len(left.columns)} and {len(right.columns)} columns"
            )
        distinct = node.args.get("distinct")
        all_ = distinct is False
        cols = tuple(
            ir.OutCol(lc.name, unify_kinds([lc.kind, rc.kind], f"{op.upper()} column {lc.name}"))
            for lc, rc in zip(left.columns, right.columns)
        )
        rel: ir.Rel = ir.SetOp(cols, op, all_, left, right)
        return self._order_limit(node, rel, env)

    def _values(self, node: exp.Values, env: Env) -> ir.Rel:
        scope = Scope(entries=[])
        rows = []
        for tup in node.expressions:
            items = tup.expressions if isinstance(tup, exp.Tuple) else [tup]
            rows.append(tuple(self.expr(i, Env([scope] + env.scopes, env.ctes)) for i in items))
        width = {len(r) for r in rows}
        if len(width) != 1:
            raise QueryError("VALUES rows have different numbers of columns")
        n = width.pop()
        alias = node.args.get("alias")
        names = [c.name for c in alias.columns] if alias is not None and alias.columns else [
            f"column{i + 1}" for i in range(n)
        ]
        if len(names) != n:
            raise QueryError(f"VALUES alias names {len(names)} columns for rows of {n}")
        cols = tuple(
            ir.OutCol(names[i], unify_kinds([r[i].kind for r in rows], f"VALUES column {i + 1}"))
            for i in range(n)
        )
        return ir.Values(cols, tuple(rows))

    # ------------------------------------------------------------------ SELECT
    def _select(self, sel: exp.Select, env: Env, absent: list[exp.Expression] | None = None) -> ir.Rel:
        """Lower one SELECT. `absent` (inside GROUPING SETS) lists keys that read as NULL; a
        SELECT given `absent` is an aggregate query even without GROUP BY."""
        for unsupported in ("windows", "qualify", "connect", "pivots", "laterals", "prewhere", "sample"):
            if sel.args.get(unsupported):
                raise Unsupported(unsupported.upper())
        if sel.args.get("distinct") and sel.args["distinct"].args.get("on"):
            raise Unsupported("DISTINCT ON")
        rel, scope = self._from(sel, env)
        inner_env = Env([scope] + env.scopes, env.ctes)
        aliases = {
            e.alias.lower(): e.this for e in sel.expressions if isinstance(e, exp.Alias) and e.alias
        }
        where = sel.args.get("where")
        if where is not None:
            scope.aliases = aliases
            cond = self.cond(where.this, inner_env)
            scope.aliases = {}
            rel = ir.Filter(rel.columns, rel, cond)

        group = sel.args.get("group")
        having = sel.args.get("having")
        order = sel.args.get("order")
        is_agg = bool(group) or having is not None or any(
            _has_aggregate(e) for e in sel.expressions
        ) or (order is not None and any(_has_aggregate(o) for o in order.expressions))
        sets = _grouping_sets(group) if group is not None else None
        if sets is not None:
            return self._grouping_sets_select(sel, sets, env)
        is_agg = is_agg or absent is not None

        select_items = self._expand_star(sel.expressions, scope)
        if is_agg:
            keys = []
            for g in (group.expressions if group is not None else []):
                g = self._select_ref(g, select_items)
                if _has_aggregate(g):
                    raise QueryError(f"aggregate in GROUP BY: {g.sql()}")
                scope.aliases = aliases
                keys.append(self.expr(g, inner_env))
                scope.aliases = {}
            agg = AggCtx(input_scope=scope, keys=keys, items=[], absent=absent or [])
            out_scope = Scope(entries=[], agg=agg, windows=[])
            out_env = Env([out_scope] + env.scopes, env.ctes)
            having_cond = None
            if having is not None:
                out_scope.aliases = aliases
                having_cond = self.cond(having.this, out_env)
                out_scope.aliases = {}
            exprs = [self.expr(item, out_env) for _, item in select_items]
            order_exprs = self._order_keys(order, select_items, exprs, out_env)
            agg_rel = self._make_aggregate(rel, agg, grouped=group is not None)
            pre: ir.Rel = agg_rel
            if having_cond is not None:
                pre = ir.Filter(pre.columns, pre, having_cond)
            win_scope = out_scope
        else:
            scope.aliases = {}
            scope.windows = []
            exprs = [self.expr(item, inner_env) for _, item in select_items]
            order_exprs = self._order_keys(order, select_items, exprs, inner_env)
            pre = rel
            win_scope = scope
        if win_scope.windows:
            funcs = tuple(win_scope.windows)
            width = len(pre.columns)
            pre = ir.Window(pre.columns + tuple(ir.OutCol(f"_win{i}", f.kind) for i, f in enumerate(funcs)),
                            pre, funcs)
            exprs = [_place_windows(e, width) for e in exprs]
            if order_exprs is not None:
                keys_, extra_ = order_exprs
                order_exprs = ([ir.SortKey(_place_windows(k.expr, width), k.desc, k.nulls_first) for k in keys_],
                               [_place_windows(e, width) for e in extra_])
        win_scope.windows = None

        names = [name for name, _ in select_items]
        out_cols = tuple(ir.OutCol(n, e.kind, affinity(e)) for n, e in zip(names, exprs))
        distinct = bool(sel.args.get("distinct"))
        limit, offset = self._limit_offset(sel)
        if order_exprs is None:
            result: ir.Rel = ir.Project(out_cols, pre, tuple(exprs))
            if distinct:
                result = ir.Distinct(out_cols, result)
            if limit is not None or offset:
                result = ir.Sort(out_cols, result, (), limit, offset)
            return result
        # ORDER BY: project the result columns plus hidden sort columns, sort, drop the hidden ones.
        keys, extra = order_exprs
        if distinct and extra:
            raise Unsupported("ORDER BY an expression that is not a result column of SELECT DISTINCT")
        all_exprs = tuple(exprs) + tuple(extra)
        all_cols = out_cols + tuple(ir.OutCol(f"_sort{i}", e.kind) for i, e in enumerate(extra))
        result = ir.Project(all_cols, pre, all_exprs)
        if distinct:
            result = ir.Distinct(all_cols, result)
        result = ir.Sort(all_cols, result, tuple(keys), limit, offset)
        if extra:
            result = ir.Project(
                out_cols, result, tuple(ir.Col(i, c.kind, c.affinity) for i, c in enumerate(out_cols))
            )
        return result

    def _grouping_sets_select(self, sel: exp.Select, sets: list[list[exp.Expression]], env: Env) -> ir.Rel:
        """GROUP BY GROUPING SETS / ROLLUP / CUBE: the UNION ALL of one grouped query per set, in
        which the keys outside the set are NULL and GROUPING(...) is a constant."""
        if sel.args.get("distinct"):
            raise Unsupported("SELECT DISTINCT with GROUPING SETS")
        all_keys = [k for st in sets for k in st]
        parts: list[ir.Rel] = []
        for st in sets:
            q = sel.copy()
            for arg in ("order", "limit", "offset"):
                q.set(arg, None)
            present = {k.sql() for k in st}
            q.set("group", exp.Group(expressions=[k.copy() for k in st]) if st else None)
            parts.append(self._select(q, env, absent=[k for k in all_keys if k.sql() not in present]))
        rel = parts[0]
        for p in parts[1:]:
            cols = tuple(
                ir.OutCol(a.name, unify_kinds([a.kind, b.kind], "GROUPING SETS column"))
                for a, b in zip(rel.columns, p.columns)
            )
            rel = ir.SetOp(cols, SetOpName.UNION, True, rel, p)
        return self._order_limit(sel, rel, env)

    def _absent_key(self, node: exp.Expression, agg: AggCtx, input_env: Env) -> ir.Expr | None:
        """Inside one grouping set: a key of another set reads as NULL."""
        for k in agg.absent:
            if node.sql() == k.sql():
                lowered = self._expr(node, input_env)
                return ir.Lit(None, lowered.kind)
        return None

    def _grouping_call(self, node: exp.Expression, agg: AggCtx) -> ir.Expr:
        args = node.expressions
        absent = {k.sql() for k in agg.absent}
        bits = 0
        for a in args:
            bits = bits * 2 + (1 if a.sql() in absent else 0)
        return ir.Lit(bits, "int")

    def _make_aggregate(self, rel: ir.Rel, agg: AggCtx, grouped: bool) -> ir.Aggregate:
        cols = [ir.OutCol(f"_key{i}", k.kind) for i, k in enumerate(agg.keys)]
        cols += [ir.OutCol(f"_agg{i}", it.kind) for i, it in enumerate(agg.items)]
        aggs = [it for it in agg.items if isinstance(it, ir.Agg)]
        bare_from: tuple = ("last",)
        if any(isinstance(it, ir.Bare) for it in agg.items):
            extremes = [a for a in aggs if a.func in ("min", "max")]
            if len(extremes) == 1 and self.dialect == Dialect.SQLITE:
                bare_from = (extremes[0].func, agg.items.index(extremes[0]))
                self.note(
                    "a column that is neither grouped nor aggregated takes its value from a row "
                    f"holding the {extremes[0].func}() (the first such row when several do)"
                )
            else:
                if self.dialect == Dialect.DUCKDB:
                    raise QueryError("a selected column must appear in GROUP BY or in an aggregate")
                self.note(
                    "a column that is neither grouped nor aggregated takes its value from the "
                    "last row of its group (SQLite's scan order)"
                )
        return ir.Aggregate(
            tuple(cols), rel, tuple(agg.keys), tuple(agg.items), bare_from=bare_from, grouped=grouped
        )

    def _limit_offset(self, node: exp.Expression) -> tuple[int | None, int]:
        limit = offset = None
        lim = node.args.get("limit")
        fetch = node.args.get("fetch")
        if isinstance(lim, exp.Fetch):
            lim, fetch = None, lim
        if lim is not None:
            limit = self._const_int(lim.expression, "LIMIT")
        if fetch is not None:
            count = fetch.args.get("count")
            limit = self._const_int(count, "FETCH") if count is not None else 1
        off = node.args.get("offset")
        if off is not None:
            offset = self._const_int(off.expression, "OFFSET")
        if limit is not None and limit < 0:
            limit = None  # SQLite: a negative LIMIT means no limit
        return limit, max(offset or 0, 0)

    def _const_int(self, node: exp.Expression, what: str) -> int:
        if isinstance(node, exp.Literal) and not node.is_string:
            try:
                return int(node.this)
            except ValueError:
                pass
        if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
            return -int(node.this.this)
        raise Unsupported(f"{what} that is not an integer constant")

    def _order_limit(self, node: exp.Expression, rel: ir.Rel, env: Env) -> ir.Rel:
        """The ORDER BY / LIMIT / OFFSET of `node` (a compound or parenthesized query) over its
        result `rel`: the sort keys name `rel`'s columns."""
        order = node.args.get("order")
        limit, offset = self._limit_offset(node)
        if order is None and limit is None and not offset:
            return rel
        keys = []
        entries = [
            Entry(None, c.name.lower(), i, c.kind, c.affinity) for i, c in enumerate(rel.columns)
        ]
        scope = Scope(entries=entries)
        for o in (order.expressions if order is not None else []):
            target = o.this
            if isinstance(target, exp.Literal) and not target.is_string:
                pos = int(target.this)
                if not 1 <= pos <= len(rel.columns):
                    raise QueryError(f"ORDER BY position {pos} is out of range (1..{len(rel.columns)})")
                e: ir.Expr = ir.Col(pos - 1, rel.columns[pos - 1].kind)
            else:
                if isinstance(target, exp.Column):
                    target = exp.column(target.name)  # compound ORDER BY names result columns
                e = self.expr(target, Env([scope] + env.scopes, env.ctes))
            keys.append(ir.SortKey(e, bool(o.args.get("desc")), self._nulls_first(o)))
        return ir.Sort(rel.columns, rel, tuple(keys), limit, offset)

    def _nulls_first(self, o: exp.Ordered) -> bool:
        nf = o.args.get("nulls_first")
        if nf is None:
            desc = bool(o.args.get("desc"))
            return (not desc) if self.dialect == Dialect.SQLITE else False
        return bool(nf)

    def _order_keys(self, order, select_items, exprs, env: Env):
        """Sort keys over [result columns + extra hidden columns]; None without ORDER BY."""
        if order is None:
            return None
        keys: list[ir.SortKey] = []
        extra: list[ir.Expr] = []
        names = [n.lower() for n, _ in select_items]
        for o in order.expressions:
            target = o.this
            e: ir.Expr
            if isinstance(target, exp.Literal) and not target.is_string:
                pos = int(target.this)
                if not 1 <= pos <= len(exprs):
                    raise QueryError(f"ORDER BY position {pos} is out of range (1..{len(exprs)})")
                e = ir.Col(pos - 1, exprs[pos - 1].kind)
            elif (
                isinstance(target, exp.Column)
                and not target.table
                and target.name.lower() in names
                and _is_alias_name(target.name, select_items)
            ):
                i = names.index(target.name.lower())
                e = ir.Col(i, exprs[i].kind)
            else:
                lowered = self.expr(target, env)
                if lowered in exprs:
                    i = exprs.index(lowered)
                    e = ir.Col(i, lowered.kind)
                else:
                    e = ir.Col(len(exprs) + len(extra), lowered.kind)
                    extra.append(lowered)
            keys.append(ir.SortKey(e, bool(o.args.get("desc")), self._nulls_first(o)))
        return keys, extra

    def _select_ref(self, g: exp.Expression, select_items):
        """GROUP BY 1 names the first result column."""
        if isinstance(g, exp.Literal) and not g.is_string:
            pos = int(g.this)
            if not 1 <= pos <= len(select_items):
                raise QueryError(f"GROUP BY position {pos} is out of range")
            return select_items[pos - 1][1]
        return g

    def _expand_star(self, items, scope: Scope) -> list[tuple[str, exp.Expression]]:
        out: list[tuple[str, exp.Expression]] = []
        for item in items:
            if isinstance(item, exp.Star):
                vis = [e for e in scope.entries if not e.hidden]
                if not vis:
                    raise QueryError("SELECT * with no table in FROM")
                out += [(e.display or e.name, _entry_column(e)) for e in vis]
            elif isinstance(item, exp.Column) and isinstance(item.this, exp.Star):
                t = item.table.lower()
                vis = [e for e in scope.entries if e.alias == t]
                if not vis:
                    raise QueryError(f"unknown table {item.table!r} in {item.sql()}")
                out += [(e.display or e.name, _entry_column(e)) for e in vis]
            elif isinstance(item, exp.Alias):
                out.append((item.alias, item.this))
            else:
                out.append((item.alias_or_name or item.sql(), item))
        return out

    # ------------------------------------------------------------------ FROM
    def _from(self, sel: exp.Select, env: Env) -> tuple[ir.Rel, Scope]:
        frm = sel.args.get("from_") or sel.args.get("from")
        if frm is None:
            if sel.args.get("joins"):
                raise QueryError("JOIN without FROM")
            return ir.Values((), ((),)), Scope(entries=[])
        rel, entries = self._source(frm.this, env)
        for j in sel.args.get("joins") or []:
            rel, entries = self._join(rel, entries, j, env)
        return rel, Scope(entries=entries)

    def _source(self, node: exp.Expression, env: Env) -> tuple[ir.Rel, list[Entry]]:
        alias_node = node.args.get("alias")
        alias = alias_node.name if alias_node is not None and alias_node.name else None
        col_aliases = [c.name for c in alias_node.columns] if alias_node is not None and alias_node.args.get("columns") else []
        if isinstance(node, exp.Table):
            if node.args.get("db") or node.args.get("catalog"):
                raise Unsupported("schema-qualified table names")
            name = node.name
            if name.lower() in env.ctes:
                rel = env.ctes[name.lower()]
            elif self.schema.has_table(name):
                t = self.schema.table(name)
                collated = [c for c in t.columns if c.collation]
                if collated:  # text would compare, group and sort another way than the encoder's BINARY
                    c = collated[0]
                    raise Unsupported(f"column {t.name}.{c.name} declared with COLLATE {c.collation}")
                self.tables.add(t.name.lower())
                rel = ir.Scan(tuple(ir.OutCol(c.name, c.kind, scan_affinity(c, self.dialect)) for c in t.columns),
                              t.name)
                if any(c.affinity == Affinity.BLOB for c in t.columns):
                    self.note(f"columns of {t.name} without a declared type are modelled as holding text")
                if any(c.affinity == Affinity.NUMERIC and c.kind == "text" for c in t.columns):
                    self.note("columns declared as dates or times hold text values")
            else:
                raise QueryError(f"unknown table {name!r}")
            alias = alias or name
        elif isinstance(node, exp.Subquery) and isinstance(node.this, (exp.Table, exp.Subquery, exp.Values)) \
                and node.this.args.get("joins"):  # a parenthesized join: `(t AS x JOIN (SELECT ...) AS y ON ...)`
            if alias:
                raise Unsupported("an alias on a parenthesized join")
            inner = node.this.copy()
            joins = inner.args.pop("joins")
            rel, entries = self._source(inner, env)
            for j in joins:
                rel, entries = self._join(rel, entries, j, env)
            return rel, entries
        elif isinstance(node, exp.Subquery):
            rel = self.query(node.this, Env(env.scopes, env.ctes))
            rel = self._order_limit(node, rel, env)
        elif isinstance(node, exp.Values):
            rel = self._values(node, env)
            col_aliases = []
        elif isinstance(node, (exp.Select, exp.Union, exp.Intersect, exp.Except)):
            rel = self.query(node, Env(env.scopes, env.ctes))
        else:
            raise Unsupported(f"FROM item {node.key.upper()}")
        if col_aliases:
            if len(col_aliases) != len(rel.columns):
                raise QueryError(f"alias {alias!r} names {len(col_aliases)} columns for {len(rel.columns)}")
            rel = _rename(rel, col_aliases)
        a = alias.lower() if alias else None
        names = _deduplicated([c.name for c in rel.columns], self.dialect)
        entries = [
            Entry(a, n.lower(), i, c.kind, c.affinity, display=n) for i, (n, c) in enumerate(zip(names, rel.columns))
        ]
        return rel, entries

    def _join(self, left: ir.Rel, lentries: list[Entry], j: exp.Join, env: Env):
        lateral = isinstance(j.this, exp.Lateral)
        if lateral:
            # the right side may read the left side's row: it sees the left entries as an
            # enclosing scope (Outer depth 1)
            lat = j.this
            if lat.args.get("view") or lat.args.get("outer") or not isinstance(lat.this, exp.Subquery):
                raise Unsupported("LATERAL other than a subquery")
            sub = lat.this.copy()
            sub.set("alias", lat.args.get("alias"))
            right, rentries = self._source(sub, Env([Scope(entries=lentries)] + env.scopes, env.ctes))
        else:
            right, rentries = self._source(j.this, env)
        dup = {e.alias for e in lentries} & {e.alias for e in rentries} - {None}
        if dup:
            raise QueryError(f"table name or alias {dup.pop()!r} is used twice in FROM")
        side = (j.side or "").lower()
        kind_word = (j.kind or "").lower()
        method = str(j.args.get("method") or "").lower()  # sqlglot keeps DuckDB's ASOF and POSITIONAL here
        if method in ("asof", "positional"):
            raise Unsupported(f"{method.upper()} JOIN")
        if kind_word in ("semi", "anti") and not lateral:
            return self._semi_join(left, lentries, right, rentries, j, env, anti=kind_word == "anti"), lentries
        if kind_word in ("semi", "anti", "asof", "positional"):
            raise Unsupported(f"{kind_word.upper()} JOIN" + (" LATERAL" if lateral else ""))
        n = len(left.columns)
        for e in rentries:
            e.index += n
        entries = lentries + rentries
        scope = Scope(entries=entries)
        join_env = Env([scope] + env.scopes, env.ctes)
        on = j.args.get("on")
        using = [u.name for u in j.args.get("using") or []]
        if kind_word == "natural" or j.args.get("method", "") == "NATURAL":
            lnames = {e.name for e in lentries if not e.hidden}
            using = [e.name for e in rentries if e.name in lnames]
        cond: ir.Expr | None = None
        if using:
            conds = []
            for u in using:
                ls = [e for e in lentries if e.name == u.lower() and not e.hidden]
                rs = [e for e in rentries if e.name == u.lower()]
                if len(ls) != 1 or len(rs) != 1:
                    raise QueryError(f"USING column {u!r} must appear once on each side of the join")
                conds.append(self._cmp("=", _entry_col(ls[0]), _entry_col(rs[0])))
                rs[0].hidden = True
            cond = conds[0] if len(conds) == 1 else ir.BoolOp("and", tuple(conds))
        elif on is not None:
            cond = self.cond(on, join_env)
        if side in ("left", "right", "full"):
            kind = JoinKind(side)
        elif cond is None:
            kind = JoinKind.CROSS
        else:
            kind = JoinKind.INNER
        if kind in (JoinKind.RIGHT, JoinKind.FULL) and using:
            raise Unsupported(f"{kind.upper()} JOIN with USING")
        if kind in (JoinKind.LEFT, JoinKind.RIGHT, JoinKind.FULL) and cond is None:
            cond = ir.Lit(True, "bool")
        cols = left.columns + right.columns
        if lateral:
            if kind not in (JoinKind.INNER, JoinKind.CROSS, JoinKind.LEFT):
                raise Unsupported(f"{kind.upper()} JOIN LATERAL")
            kind = JoinKind.LATERAL_LEFT if kind == JoinKind.LEFT else JoinKind.LATERAL
        return ir.Join(cols, kind, left, right, cond), entries

    def _semi_join(self, left: ir.Rel, lentries: list[Entry], right: ir.Rel, rentries: list[Entry], j: exp.Join,
                   env: Env, anti: bool) -> ir.Rel:
        """DuckDB's `left SEMI JOIN right ON cond` keeps each row of `left` (once, with `left`'s
        columns only) for which some row of `right` makes `cond` true: `left` filtered by
        EXISTS (SELECT * FROM right WHERE cond), `left`'s columns read as outer references.
        ANTI JOIN keeps the other rows of `left` (NOT EXISTS: a NULL comparison is no match)."""
        kind = "ANTI JOIN" if anti else "SEMI JOIN"
        if j.args.get("using") or j.args.get("method"):
            raise Unsupported(f"{kind} with USING or NATURAL")
        on = j.args.get("on")
        if on is None:
            raise Unsupported(f"{kind} without ON")
        inner = Env([Scope(entries=rentries), Scope(entries=lentries)] + env.scopes, env.ctes)
        exists: ir.Expr = ir.Exists(ir.Filter(right.columns, right, self.cond(on, inner)))
        return ir.Filter(left.columns, left, ir.Not(exists) if anti else exists)

    # ------------------------------------------------------------------ expressions
    def cond(self, node: exp.Expression, env: Env) -> ir.Expr:
        return self.truth(self.expr(node, env))

    def truth(self, e: ir.Expr) -> ir.Expr:
        """A value used as a condition: SQLite treats a non-zero number as true."""
        if e.kind == "bool":
            return e
        if e.kind == "null":
            return ir.Lit(None, "bool")
        if e.kind in ir.NUMERIC_KINDS:
            return ir.Cmp("<>", e, ir.Lit(0, "int"), CmpMode.NUM)
        if e.kind == "text" and self.dialect == Dialect.SQLITE:
            return ir.Cmp("<>", self._num(e, "a condition"), ir.Lit(0, "int"), CmpMode.NUM)
        raise Unsupported(f"a {e.kind} value used as a condition")

    def expr(self, node: exp.Expression, env: Env) -> ir.Expr:
        scope = env.scopes[0] if env.scopes else None
        if scope is not None and scope.agg is not None:
            handled = self._agg_expr(node, env)
            if handled is not None:
                return handled
        return self._expr(node, env)

    def _agg_expr(self, node: exp.Expression, env: Env) -> ir.Expr | None:
        agg = env.scopes[0].agg
        assert agg is not None
        input_env = Env([agg.input_scope] + env.scopes[1:], env.ctes)
        if isinstance(node, exp.IgnoreNulls) and isinstance(node.this, exp.AnyValue):
            node = node.this  # DuckDB's ANY_VALUE skips NULLs anyway
        if isinstance(node, _AGG_FUNCS) and _is_aggregate_call(node):
            a = self._aggregate(node, input_env)
            return self._agg_item(agg, a)
        if isinstance(node, exp.Func) and node.sql_name().upper() == "GROUPING" or (
            isinstance(node, exp.Anonymous) and node.name.upper() == "GROUPING"
        ):
            return self._grouping_call(node, agg)
        if agg.absent and not _has_aggregate(node):
            absent = self._absent_key(node, agg, input_env)
            if absent is not None:
                return absent
        if isinstance(node, exp.Filter) and isinstance(node.this, _AGG_FUNCS):
            a = self._aggregate(node.this, input_env)
            cond = self.cond(node.expression.this, input_env)
            if a.func == "count_star":
                a = ir.Agg("count", ir.Lit(1, "int"), False, "int")
            return self._agg_item(agg, ir.Agg(a.func, a.arg, a.distinct, a.kind, cond))
        if isinstance(node, exp.Anonymous) and node.name.lower() == "total":
            if len(node.expressions) != 1:
                raise QueryError("TOTAL takes one argument")
            arg = self.expr(node.expressions[0], input_env)
            return self._agg_item(agg, ir.Agg("total", arg, False, "real"))
        if isinstance(node, (exp.Subquery, exp.Exists, exp.Literal, exp.Null, exp.Boolean)):
            return None
        if not _has_aggregate(node):
            # a select alias used in HAVING/ORDER BY
            if isinstance(node, exp.Column) and not node.table and node.name.lower() in env.scopes[0].aliases:
                if not agg.input_scope.lookup(node.name, None):
                    return self.expr(env.scopes[0].aliases[node.name.lower()], env)
            try:
                lowered = self._expr(node, input_env)
            except (QueryError, Unsupported):
                lowered = None
            if lowered is not None:
                if lowered in agg.keys:
                    i = agg.keys.index(lowered)
                    return ir.Col(i, lowered.kind, affinity(lowered))
                if isinstance(node, exp.Column):
                    return self._agg_item(agg, ir.Bare(lowered, lowered.kind))
                if not _mentions_columns(node):
                    return None
        return None

    def _agg_item(self, agg: AggCtx, item) -> ir.Expr:
        if (isinstance(item, ir.Agg) and item.func == "count" and item.distinct and item.filter is None
                and item.arg in agg.keys):
            # COUNT(DISTINCT k) of a grouping key k: one value per group, 0 when it is NULL
            k = agg.keys.index(item.arg)
            col = ir.Col(k, item.arg.kind, affinity(item.arg))
            return ir.Case(((ir.IsNull(col), ir.Lit(0, "int")),), ir.Lit(1, "int"), "int")
        key = item
        if key not in agg.item_index:
            agg.item_index[key] = len(agg.items)
            agg.items.append(item)
        i = len(agg.keys) + agg.item_index[key]
        aff = affinity(item.arg) if isinstance(item, ir.Bare) else None
        return ir.Col(i, item.kind, aff)

    def _count_of_tuples(self, parts: list[exp.Expression], env: Env) -> ir.Agg:
        """COUNT(DISTINCT) of the tuples of `parts` without a NULL part."""
        return ir.Agg("count", ir.Func(FuncName.TUPLE, tuple(self.expr(x, env) for x in parts), "null"), True, "int")

    def _aggregate(self, node: exp.Expression, env: Env, window: bool = False) -> ir.Agg:
        """An aggregate call. In a window over an aggregate query (`SUM(SUM(x)) OVER (...)`)
        the argument may itself hold aggregates: it is evaluated on the grouped rows."""
        func = type(node).__name__.lower()
        arg_node = node.this
        distinct = False
        if isinstance(arg_node, exp.Distinct):
            distinct = True
            if len(arg_node.expressions) != 1:
                if func != "count":
                    raise Unsupported(f"{func.upper()}(DISTINCT with several arguments)")
                return self._count_of_tuples(arg_node.expressions, env)
            arg_node = arg_node.expressions[0]
            tuple_parts = _tuple_without_null(arg_node) if func == "count" else None
            if tuple_parts is not None:
                return self._count_of_tuples(tuple_parts, env)
        if func == "count" and (arg_node is None or isinstance(arg_node, exp.Star)):
            return ir.Agg("count_star", None, False, "int")
        if node.expressions and func in ("min", "max"):
            raise Unsupported(f"{func.upper()} with several arguments")
        grouped_rows = window and bool(env.scopes) and env.scopes[0].agg is not None
        if _has_aggregate(arg_node) and not grouped_rows:
            raise QueryError(f"nested aggregate in {node.sql()}")
        arg = self.expr(arg_node, env)
        if arg.kind == "bool" and self.dialect == Dialect.SQLITE:
            arg = bool_to_int(arg)
        if func == "count":
            return ir.Agg("count", arg, distinct, "int")
        if func in ("sum", "avg", "total") and arg.kind not in ir.NUMERIC_KINDS + ("null",):
            arg = self._num(arg, func.upper())
        if func == "sum":
            kind: ir.Kind = "int" if arg.kind in ("int", "null") else arg.kind
            if self.dialect == Dialect.DUCKDB and kind == "num":
                kind = "real"
            return ir.Agg("sum", arg, distinct, kind)
        if func == "avg":
            return ir.Agg("avg", arg, distinct, "real")
        if func == "anyvalue":
            if self.dialect != Dialect.DUCKDB:
                raise Unsupported("aggregate ANY_VALUE (not a SQLite function)")
            return ir.Agg("any_value", arg, False, arg.kind)
        if func in _DUCKDB_AGGS:
            name = _DUCKDB_AGGS[func]
            want = "int" if name.startswith("bit") else "bool"
            if self.dialect != Dialect.DUCKDB:
                raise Unsupported(f"aggregate {name.upper()} (not a SQLite function)")
            if arg.kind not in (want, "null"):
                raise Unsupported(f"{name.upper()} of a {arg.kind} value")
            return ir.Agg(name, arg, False, want)  # DISTINCT changes neither
        return ir.Agg(func, arg, distinct, arg.kind)

    def _expr(self, node: exp.Expression, env: Env) -> ir.Expr:  # noqa: C901 - a dispatch table
        if isinstance(node, exp.Paren):
            return self.expr(node.this, env)
        if isinstance(node, exp.Column):
            return self._column(node, env)
        if isinstance(node, exp.Literal):
            return self._literal(node)
        if isinstance(node, exp.Null):
            return ir.Lit(None, "null")
        if isinstance(node, exp.Boolean):
            v = bool(node.this)
            return ir.Lit(v, "bool") if self.dialect == Dialect.DUCKDB else ir.Lit(int(v), "int")
        if isinstance(node, exp.Neg):
            a = self._num(self.expr(node.this, env), "unary minus")
            if isinstance(a, ir.Lit) and a.value is not None:
                return ir.Lit(-a.value, a.kind)
            return ir.Neg(a, a.kind if a.kind != "null" else "int")
        if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.IntDiv)):
            return self._arith(node, env)
        if isinstance(node, exp.DPipe):
            a, b = self._text(self.expr(node.this, env), "||"), self._text(self.expr(node.expression, env), "||")
            return ir.Func(FuncName.CONCAT, (a, b), "text")
        if isinstance(node, (exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE, exp.NullSafeEQ, exp.NullSafeNEQ)):
            op = {exp.EQ: "=", exp.NEQ: "<>", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">="}.get(type(node))
            if op is None:
                same = ir.Func(FuncName.SAME, (self.expr(node.this, env), self.expr(node.expression, env)), "bool")
                return same if isinstance(node, exp.NullSafeEQ) else ir.Not(same)
            return self._cmp(op, self.expr(node.this, env), self.expr(node.expression, env))
        if isinstance(node, exp.And):
            return ir.BoolOp("and", (self.cond(node.this, env), self.cond(node.expression, env)))
        if isinstance(node, exp.Or):
            return ir.BoolOp("or", (self.cond(node.this, env), self.cond(node.expression, env)))
        if isinstance(node, exp.Not):
            return ir.Not(self.cond(node.this, env))
        if isinstance(node, exp.Is):
            rhs = node.expression
            if isinstance(rhs, exp.Null):
                return ir.IsNull(self.expr(node.this, env))
            if isinstance(rhs, exp.Boolean):
                v = self.cond(node.this, env)
                t = ir.BoolOp("and", (ir.Not(ir.IsNull(v)), v if rhs.this else ir.Not(v)))
                return t
            raise Unsupported("IS with a value other than NULL/TRUE/FALSE")
        if isinstance(node, exp.Between):
            x = node.this
            lo = self._cmp(">=", self.expr(x, env), self.expr(node.args["low"], env))
            hi = self._cmp("<=", self.expr(x, env), self.expr(node.args["high"], env))
            return ir.BoolOp("and", (lo, hi))
        if isinstance(node, exp.In):
            return self._in(node, env)
        if isinstance(node, exp.Exists):
            return ir.Exists(_rows_only(self._subquery(node.this, env)))
        if isinstance(node, exp.Subquery):
            rel = self._subquery(node, env)
            if len(rel.columns) != 1:
                raise QueryError(f"scalar subquery returns {len(rel.columns)} columns")
            return ir.ScalarSubquery(rel, rel.columns[0].kind)
        if isinstance(node, exp.Case):
            return self._case(node, env)
        if isinstance(node, exp.If):
            cond = self.cond(node.this, env)
            t = self.expr(node.args["true"], env)
            f = self.expr(node.args["false"], env) if node.args.get("false") is not None else ir.Lit(None, "null")
            return self._make_case([(cond, t)], f)
        if isinstance(node, (exp.Coalesce,)):
            args = [self.expr(node.this, env)] + [self.expr(a, env) for a in node.expressions]
            return ir.Func(FuncName.COALESCE, tuple(args), unify_kinds([a.kind for a in args], "COALESCE"))
        if isinstance(node, exp.Nullif):
            a, b = self.expr(node.this, env), self.expr(node.expression, env)
            return ir.Func(FuncName.NULLIF, (a, b, self._cmp("=", a, b)), a.kind)
        if isinstance(node, exp.Abs):
            a = self._num(self.expr(node.this, env), "ABS")
            return ir.Func(FuncName.ABS, (a,), a.kind if a.kind != "null" else "int")
        if isinstance(node, exp.Cast):
            return self._cast(node, env)
        if isinstance(node, (exp.Anonymous,)) and node.name.lower() == "iif":
            c, t, f = node.expressions
            return self._make_case([(self.cond(c, env), self.expr(t, env))], self.expr(f, env))
        if isinstance(node, _AGG_FUNCS) or (isinstance(node, exp.Anonymous) and node.name.lower() == "total"):
            raise QueryError(f"aggregate {node.sql()} is not allowed here")
        if isinstance(node, exp.Tuple):
            raise Unsupported("row values (tuples)")
        if isinstance(node, exp.Window):
            return self._window(node, env)
        if isinstance(node, (exp.Like, exp.ILike, exp.Glob, exp.Escape)):
            return self._like(node, env)
        string_fn = self._string_function(node, env)
        if string_fn is not None:
            return string_fn
        if isinstance(node, exp.Func):
            return self._unsupported_func(node)
        raise Unsupported(f"expression {node.key.upper()}")

    def _window(self, node: exp.Window, env: Env) -> ir.Expr:
        scope = env.scopes[0] if env.scopes else None
        if scope is None or scope.windows is None:
            raise Unsupported("a window function outside SELECT/ORDER BY")
        if node.args.get("alias"):
            raise Unsupported("named windows")
        frame = _frame(node.args.get("spec"), bool(node.args.get("order")))
        f = node.this
        if isinstance(f, exp.IgnoreNulls) or isinstance(f, exp.RespectNulls):
            raise Unsupported("IGNORE/RESPECT NULLS")
        if isinstance(f, exp.Filter):
            raise Unsupported("FILTER on a window function")
        name = (f.name if isinstance(f, exp.Anonymous) else type(f).__name__).lower()
        partition = tuple(self.expr(p, env) for p in node.args.get("partition_by") or [])
        order = node.args.get("order")
        keys = tuple(ir.SortKey(self.expr(o.this, env), bool(o.args.get("desc")), self._nulls_first(o))
                     for o in (order.expressions if order is not None else []))
        if name in ("rownumber", "row_number", "rank", "denserank", "dense_rank"):
            func = {"rownumber": "row_number", "denserank": "dense_rank"}.get(name, name)
            if func == "row_number" and keys:
                self.note("ROW_NUMBER() numbers rows that tie under its ORDER BY in one fixed order")
            wf = ir.WinFunc(func, None, partition, keys, "int", "range")
        elif isinstance(f, _AGG_FUNCS) and _is_aggregate_call(f):
            # lower the aggregate's argument in this (row) context
            a = self._aggregate(f, env, window=True)
            if a.distinct:
                raise Unsupported("DISTINCT aggregate in a window")
            if frame == "rows":
                self.note("a ROWS window frame orders rows that tie under its ORDER BY in one fixed order")
            wf = ir.WinFunc(a.func, a.arg, partition, keys, a.kind, frame)
        else:
            raise Unsupported(f"window function {name.upper()}")
        scope.windows.append(wf)
        return ir.WinRef(len(scope.windows) - 1, wf.kind)

    def _unsupported_func(self, node: exp.Func) -> ir.Expr:
        name = node.name if isinstance(node, exp.Anonymous) else node.key
        raise Unsupported(f"function {name.upper()}")

    def _column(self, node: exp.Column, env: Env) -> ir.Expr:
        name = node.name
        table = node.table or None
        for depth, scope in enumerate(env.scopes):
            found = scope.lookup(name, table)
            if len(found) > 1:
                raise QueryError(f"ambiguous column name {node.sql()!r}")
            if found:
                e = found[0]
                if depth == 0:
                    return ir.Col(e.index, e.kind, e.affinity)
                if scope.agg is not None:
                    raise Unsupported("correlated subquery inside an aggregate query's SELECT/HAVING")
                return ir.Outer(depth, e.index, e.kind, e.affinity)
            if depth == 0 and table is None and name.lower() in scope.aliases:
                return self.expr(scope.aliases[name.lower()], env)
            if scope.agg is not None:
                found = scope.agg.input_scope.lookup(name, table)
                if found and depth > 0:
                    raise Unsupported("correlated subquery inside an aggregate query's SELECT/HAVING")
        ident = node.this
        if table is None and isinstance(ident, exp.Identifier) and ident.quoted and self.dialect == Dialect.SQLITE:
            if _is_double_quoted(node):
                return ir.Lit(name, "text")
        if table is not None:
            known = any(e.alias == table.lower() for s in env.scopes for e in s.entries)
            if not known:
                raise QueryError(f"unknown table or alias {table!r} in {node.sql()!r}")
        raise QueryError(f"unknown column {(table + '.' if table else '') + name!r}")

    def _literal(self, node: exp.Literal) -> ir.Lit:
        if node.is_string:
            return ir.Lit(node.this, "text")
        text = node.this
        try:
            return ir.Lit(int(text), "int")
        except ValueError:
            value = float(text)
        if self.dialect == Dialect.DUCKDB and not _decimal_literal_kept(text, value):
            raise Unsupported(f"the DECIMAL literal {text} (more significant digits than a double keeps)")
        return ir.Lit(value, "real")

    def _in(self, node: exp.In, env: Env) -> ir.Expr:
        lhs_node = node.this
        q = node.args.get("query")
        if isinstance(lhs_node, exp.Tuple):
            if q is None:
                raise Unsupported("row-value IN a list")
            lhs_list = [self.expr(x, env) for x in lhs_node.expressions]
        else:
            lhs_list = [self.expr(lhs_node, env)]
        lhs = lhs_list[0]
        if q is not None:
            rel = self._subquery(q, env)
            n = len(lhs_list)
            if len(rel.columns) != n:
                raise QueryError(f"IN compares {n} value(s) with a subquery of {len(rel.columns)} column(s)")
            # the probe compares one row [lhs..., subquery row...] with the rules of '='
            eqs = tuple(
                self._cmp("=", ir.Col(i, x.kind, affinity(x)), ir.Col(n + i, c.kind, c.affinity), cast_text=False)
                for i, (x, c) in enumerate(zip(lhs_list, rel.columns))
            )
            probe = eqs[0] if n == 1 else ir.BoolOp("and", eqs)
            return ir.InSubquery(tuple(lhs_list) + (probe,), rel)
        if node.args.get("unnest") or node.args.get("field"):
            raise Unsupported("IN UNNEST")
        items = [self.expr(i, env) for i in node.expressions]
        if not items:
            return ir.Lit(0, "int") if self.dialect == Dialect.SQLITE else ir.Lit(False, "bool")
        return ir.BoolOp("or", tuple(self._cmp("=", lhs, i) for i in items)) if len(items) > 1 else self._cmp("=", lhs, items[0])

    def _subquery(self, q: exp.Expression, env: Env) -> ir.Rel:
        if isinstance(q, exp.Subquery):
            rel = self.query(q.this, env)
            return self._order_limit(q, rel, env)
        return self.query(q, env)

# ----------------------------------------------------------------------------- helpers
def _frame(spec: exp.WindowSpec | None, ordered: bool) -> str:
    """'range' (up to the current row's peers; the default with ORDER BY), 'rows' (up to the
    current row), or 'all' (the whole partition; the default without ORDER BY)."""
    if spec is None:
        return "range" if ordered else "all"
    kind = (spec.args.get("kind") or "").upper()
    start = (str(spec.args.get("start") or "")).upper()
    start_side = (str(spec.args.get("start_side") or "")).upper()
    end = (str(spec.args.get("end") or "")).upper()
    end_side = (str(spec.args.get("end_side") or "")).upper()
    if start == "UNBOUNDED" and start_side == "PRECEDING":
        if end == "CURRENT ROW" and kind in ("RANGE", "ROWS"):
            return ("range" if kind == "RANGE" else "rows") if ordered else "all"
        if end == "UNBOUNDED" and end_side == "FOLLOWING":
            return "all"
    raise Unsupported(f"window frame {spec.sql()}")


def _place_windows(e: ir.Expr, width: int) -> ir.Expr:
    """Replace each WinRef(i) by Col(width + i): the Window node appends its columns."""
    def place(n: Any) -> Any:
        return ir.Col(width + n.index, n.kind) if isinstance(n, ir.WinRef) else n

    return ir.transform(e, place, into_subqueries=False)


def _rows_only(rel: ir.Rel) -> ir.Rel:
    """The part of an EXISTS subquery that decides it: whether any row comes out does not depend
    on the SELECT list (a projection keeps every row) or on DISTINCT (it keeps one of each), so
    `EXISTS (SELECT 1 FROM t WHERE c)` and `EXISTS (SELECT DISTINCT * FROM t WHERE c)` are both
    the plan of `t` filtered by `c`."""
    while isinstance(rel, (ir.Project, ir.Distinct)):
        rel = rel.input
    return rel


def _rename(rel: ir.Rel, names: list[str]) -> ir.Rel:
    """`rel` with its columns renamed (a column list on a CTE or a derived table)."""
    cols = tuple(ir.OutCol(n, c.kind, c.affinity) for n, c in zip(names, rel.columns))
    return ir.Project(cols, rel, tuple(ir.Col(i, c.kind, c.affinity) for i, c in enumerate(rel.columns)))


def _deduplicated(names: list[str], dialect: Dialect) -> list[str]:
    """A derived table's column names as the engine exposes them: a name that repeats an
    earlier one becomes `name:1`, `name:2`, ... in SQLite and `name_1`, ... in DuckDB, so a
    reference to the name means its first column.

        >>> _deduplicated(["a", "b", "A", "a"], "sqlite"), _deduplicated(["a", "a"], "duckdb")
        (['a', 'b', 'A:1', 'a:2'], ['a', 'a_1'])
    """
    sep = ":" if dialect == Dialect.SQLITE else "_"
    seen: dict[str, int] = {}
    out = []
    for n in names:
        count = seen.get(n.lower(), 0)
        seen[n.lower()] = count + 1
        out.append(n if count == 0 else f"{n}{sep}{count}")
    return out


def _entry_column(e: Entry) -> exp.Expression:
    col = exp.column(e.name, table=e.alias) if e.alias else exp.column(e.name)
    return col


def _entry_col(e: Entry) -> ir.Col:
    return ir.Col(e.index, e.kind, e.affinity)


def _is_alias_name(name: str, select_items) -> bool:
    return any(n.lower() == name.lower() for n, _ in select_items)


def _grouping_sets(group: exp.Group) -> list[list[exp.Expression]] | None:
    """The grouping sets of a GROUP BY, or None for a plain GROUP BY."""
    sets: list[list[exp.Expression]] = [[]]
    special = False
    for g in group.expressions:
        if isinstance(g, exp.Rollup):
            special = True
            items = list(g.expressions)
            options = [items[:i] for i in range(len(items), -1, -1)]
        elif isinstance(g, exp.Cube):
            special = True
            items = list(g.expressions)
            options = [[x for b, x in enumerate(items) if mask >> (len(items) - 1 - b) & 1]
                       for mask in range(2 ** len(items) - 1, -1, -1)]
        elif isinstance(g, exp.GroupingSets):
            special = True
            options = []
            for st in g.expressions:
                if isinstance(st, exp.Tuple):
                    options.append(list(st.expressions))
                elif isinstance(st, exp.Paren):
                    options.append([st.this])
                else:
                    options.append([st])
        else:
            options = [[g]]
        sets = [a + b for a in sets for b in options]
    for arg in ("rollup", "cube", "grouping_sets"):
        if group.args.get(arg):
            raise Unsupported(f"GROUP BY {arg.upper()} in this form")
    return sets if special else None


def _tuple_without_null(node: exp.Expression) -> list[exp.Expression] | None:
    """The parts of `CASE WHEN a IS NULL THEN NULL WHEN b IS NULL THEN NULL ELSE (a, b) END`, the
    row value that is NULL when a part is (how sqlglot writes `COUNT(DISTINCT a, b)` for DuckDB,
    which has no COUNT of several arguments): counted DISTINCT, it is the count of distinct tuples
    without a NULL (`ir.Agg` of a `FuncName.TUPLE`). Else None: a row value with NULL parts is
    not NULL, and tuples are not modelled otherwise."""
    if not isinstance(node, exp.Case) or node.this is not None or not isinstance(node.args.get("default"), exp.Tuple):
        return None
    parts = node.args["default"].expressions
    tested = []
    for branch in node.args.get("ifs") or []:
        cond = branch.this
        if not (isinstance(branch.args.get("true"), exp.Null) and isinstance(cond, exp.Is)
                and isinstance(cond.expression, exp.Null)):
            return None
        tested.append(cond.this)
    if len(parts) < 2 or len(tested) != len(parts) or any(a != b for a, b in zip(tested, parts)):
        return None
    return parts


def _has_aggregate(node: exp.Expression | None) -> bool:
    if node is None:
        return False
    for n in node.walk():
        if isinstance(n, (exp.Subquery, exp.Exists)) and n is not node:
            continue
        is_agg = (isinstance(n, _AGG_FUNCS) and _is_aggregate_call(n)) or (
            isinstance(n, exp.Anonymous) and n.name.lower() == "total"
        )
        if is_agg and (n is node or not _inside_subquery(n, node)):
            return True
    return False


def _inside_subquery(n: exp.Expression, root: exp.Expression) -> bool:
    """`n` belongs to a nested query or a window function below `root`."""
    p = n.parent
    while p is not None:
        if isinstance(p, exp.Window):
            return True
        if p is root:
            return False
        if isinstance(p, (exp.Subquery, exp.Exists, exp.Select)):
            return True
        p = p.parent
    return False


def _is_aggregate_call(node: exp.Expression) -> bool:
    """MAX(a, b) with several arguments is SQLite's scalar max, not an aggregate."""
    if isinstance(node, (exp.Min, exp.Max)) and node.expressions:
        return False
    return True


def _mentions_columns(node: exp.Expression) -> bool:
    return any(isinstance(n, exp.Column) for n in node.walk())


def _is_double_quoted(node: exp.Column) -> bool:
    """Written "name" (not `name` or [name], which SQLite never reads as a string)."""
    return node.this.meta.get("quote") == '"'


def _decimal_literal_kept(text: str, value: float) -> bool:
    """Does the float `value` read from the literal `text` keep its decimal value exactly, as its
    shortest form (`repr`)? DuckDB reads a literal with a decimal point and no exponent as a
    DECIMAL, exactly (`0.06 - 0.01` is 0.05); the encoder gives a DuckDB literal the value of
    the float's shortest form (`lower_scalar.duckdb_decimal`), which is the literal's own for up
    to 15 significant digits. A literal with an exponent is a DOUBLE in DuckDB.

        >>> _decimal_literal_kept("0.06", 0.06), _decimal_literal_kept("0.12345678901234567891", 0.12345678901234568)
        (True, False)
    """
    if "e" in text.lower() or not math.isfinite(value):
        return True
    return duckdb_decimal(value) == Fraction(text)
