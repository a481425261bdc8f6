"""Row facts: tests of one column that hold on every row a plan returns.

`row_facts(rel)` maps a column of `rel` to the comparisons with a constant (and NULL tests) that
are true on each of its rows, gathered from WHERE conjuncts and carried up through operators that
keep the column's values (projections, inner joins, GROUP BY keys, DISTINCT, ORDER BY):

    SELECT d, COUNT(*) FROM t WHERE d > 7 GROUP BY d     column 0: d > 7

A fact is a predicate of the column's *value* alone (a comparison with a literal, IS [NOT] NULL),
so it holds of every value equal to that one: the rewrites in `verify.rewrite` use this to carry a
fact across a join's `l = r` and to read a GROUP BY key fixed by WHERE as a constant.

Example:
    >>> t = ir.Scan((ir.OutCol("d", "int"),), "t")
    >>> gt7 = ir.Cmp(">", ir.Col(0, "int"), ir.Lit(7, "int"), "num")
    >>> row_facts(ir.Filter(t.columns, t, gt7)) == {0: [gt7]}
    True
"""

from __future__ import annotations

from verify import ir
from verify.blocks import map_cols, shift

Facts = dict[int, list[ir.Expr]]
VALUE_MODES = ("num", "text", "date")  # comparisons that depend on the compared values alone
EXACT_KINDS = ("int", "text", "date")  # kinds whose equal values are the same value (not 1 vs 1.0)


def row_facts(rel: ir.Rel) -> Facts:
    """Per column of `rel`, tests of that column alone true on every row of `rel` (module doc)."""
    if isinstance(rel, ir.Filter):
        out = _copy(row_facts(rel.input))
        for c in conjuncts(rel.cond):
            col = tested_column(c)
            if col is not None:
                _add(out, col, c)
        return _equated(out, rel.cond)
    if isinstance(rel, ir.Project):
        return _through(row_facts(rel.input), rel.exprs, constants=True)
    if isinstance(rel, ir.Aggregate):
        return _through(row_facts(rel.input), rel.keys) if rel.grouped else {}
    if isinstance(rel, (ir.Distinct, ir.Sort, ir.Window)):
        return row_facts(rel.input)
    if isinstance(rel, ir.Join):
        n = len(rel.left.columns)
        left = row_facts(rel.left) if rel.kind in ("inner", "cross", "left") else {}
        right = row_facts(rel.right) if rel.kind in ("inner", "cross", "right") else {}
        out = _copy(left)
        for i, fs in right.items():
            out[i + n] = [shift(f, n) for f in fs]
        return _equated(out, rel.cond) if rel.kind in ("inner", "cross") and rel.cond is not None else out
    if isinstance(rel, ir.SetOp):
        left = row_facts(rel.left)
        if rel.op in ("intersect", "except"):  # every row is a row of the left input
            return left
        right = row_facts(rel.right)
        return {i: [f for f in fs if ir.key(f) in {ir.key(g) for g in right.get(i, [])}] for i, fs in left.items()}
    if isinstance(rel, ir.Values) and len(rel.rows) == 1:
        return _through({}, rel.rows[0], constants=True)
    return {}


def conjuncts(e: ir.Expr) -> list[ir.Expr]:
    if isinstance(e, ir.BoolOp) and e.op == "and":
        return [c for a in e.args for c in conjuncts(a)]
    return [e]


def conjunction(conds: list[ir.Expr]) -> ir.Expr:
    """The AND of one or more conditions (the condition itself when there is one)."""
    return conds[0] if len(conds) == 1 else ir.BoolOp("and", tuple(conds))


def tested_column(e: ir.Expr) -> int | None:
    """The column `e` tests when it is a fact (a value comparison of one column with a non-NULL
    literal, or a NULL test of one column), else None."""
    if isinstance(e, ir.Not) and isinstance(e.arg, ir.IsNull):
        e = e.arg
    if isinstance(e, ir.IsNull):
        return e.arg.index if isinstance(e.arg, ir.Col) else None
    if isinstance(e, ir.Cmp) and e.mode in VALUE_MODES:
        for col, lit in ((e.left, e.right), (e.right, e.left)):
            if isinstance(col, ir.Col) and isinstance(lit, ir.Lit) and lit.value is not None:
                return col.index
    return None


def constant_of(facts: list[ir.Expr], col: ir.Col) -> ir.Lit | None:
    """The literal a column equals by one of its facts, when its equal values are identical
    (an INTEGER column `= 10` holds 10; a REAL one could show 10.0)."""
    if col.kind not in EXACT_KINDS:
        return None
    for f in facts:
        if isinstance(f, ir.Cmp) and f.op == "=" and f.mode in VALUE_MODES:
            lit = f.right if isinstance(f.right, ir.Lit) else f.left
            if isinstance(lit, ir.Lit) and lit.kind == col.kind and lit.value is not None:
                return lit
    return None


def equated_columns(cond: ir.Expr) -> list[tuple[int, int]]:
    """Pairs of columns that `cond` requires to hold equal values (`a = b` conjuncts between
    two columns of one kind, compared by value)."""
    return [(c.left.index, c.right.index) for c in conjuncts(cond)
            if isinstance(c, ir.Cmp) and c.op == "=" and c.mode in VALUE_MODES and isinstance(c.left, ir.Col)
            and isinstance(c.right, ir.Col) and c.left.kind == c.right.kind]


def identical_pairs(cond: ir.Expr) -> list[tuple[int, int]]:
    """Pairs of columns that `cond` requires to hold identical values: `a = b` conjuncts between
    two columns of one kind whose equal values are the same value (`EXACT_KINDS`: not 1 and 1.0)
    and of one affinity (so that the value also compares the same way elsewhere)."""
    return [(c.left.index, c.right.index) for c in conjuncts(cond)
            if isinstance(c, ir.Cmp) and c.op == "=" and c.mode in VALUE_MODES and isinstance(c.left, ir.Col)
            and isinstance(c.right, ir.Col) and c.left.kind == c.right.kind and c.left.kind in EXACT_KINDS
            and c.left.affinity == c.right.affinity]


def equal_columns(rel: ir.Rel) -> dict[int, frozenset[int]]:
    """For each column of `rel` that holds the same value as another column on every row, the
    set of those columns (itself included): the `a = b` of WHERE and inner-join conditions
    (`identical_pairs`), carried through operators that keep values. A padded NULL on the right
    of a left join is NULL in every column of a set alike, so the right input's sets hold too.

        >>> t = ir.Scan((ir.OutCol("a", "int"), ir.OutCol("b", "int")), "t")
        >>> eq = ir.Cmp("=", ir.Col(0, "int"), ir.Col(1, "int"), "num")
        >>> equal_columns(ir.Filter(t.columns, t, eq))
        {0: frozenset({0, 1}), 1: frozenset({0, 1})}
    """
    pairs = _equal_pairs(rel)
    parent = {}

    def root(i: int) -> int:
        while parent.get(i, i) != i:
            i = parent[i]
        return i

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, set[int]] = {}
    for i in {i for p in pairs for i in p}:
        groups.setdefault(root(i), set()).add(i)
    return {i: frozenset(g) for g in groups.values() if len(g) > 1 for i in g}


def determined_columns(rel: ir.Rel, known: set[int]) -> set[int]:
    """The columns of `rel` that hold one value on all rows agreeing on the columns `known`
    (those included): closed under the `f(a) = b` conjuncts of WHERE and inner-join conditions
    (`_determining_pairs`) whose `a` is already among them.

    A row's b compares equal to f(a); when b's kind has no two different values that compare
    equal (`EXACT_KINDS`, BINARY text) and no conversion is applied to b, all b's equal to one
    value are the same value. So `numeric(t.x) = s.id` with t.x known makes s.id known, while
    `t.id = numeric(s.x)` does not make s.x known ('1' and '01' both match 1).

        >>> t = ir.Scan((ir.OutCol("a", "text"), ir.OutCol("b", "int")), "t")
        >>> eq = ir.Cmp("=", ir.TextToNum(ir.Col(0, "text")), ir.Col(1, "int"), "affnum")
        >>> sorted(determined_columns(ir.Filter(t.columns, t, eq), {0})), sorted(determined_columns(ir.Filter(t.columns, t, eq), {1}))
        ([0, 1], [1])
    """
    pairs = _determining_pairs(rel)
    out = set(known)
    changed = True
    while changed:
        changed = False
        for a, b in pairs:
            if a in out and b not in out:
                out.add(b)
                changed = True
    return out


def _determining_pairs(rel: ir.Rel) -> list[tuple[int, int]]:
    """(a, b): on every row of `rel`, b's value follows from a's (see `determined_columns`)."""
    if isinstance(rel, ir.Filter):
        return _determining_pairs(rel.input) + _determining_conjuncts(rel.cond)
    if isinstance(rel, ir.Join) and rel.kind in ("inner", "cross", "left"):
        n = len(rel.left.columns)
        out = _determining_pairs(rel.left)
        if rel.kind != "left":  # a padded row holds NULL on the right whatever its left values
            out += [(a + n, b + n) for a, b in _determining_pairs(rel.right)]
            if rel.cond is not None:
                out += _determining_conjuncts(rel.cond)
        return out
    if isinstance(rel, (ir.Distinct, ir.Sort)):
        return _determining_pairs(rel.input)
    if isinstance(rel, ir.Project):
        at: dict[int, list[int]] = {}
        for j, e in enumerate(rel.exprs):
            if isinstance(e, ir.Col):
                at.setdefault(e.index, []).append(j)
        inner = _determining_pairs(rel.input) + [(i, i) for i in at]
        return [(x, y) for a, b in inner for x in at.get(a, ()) for y in at.get(b, ()) if x != y]
    return []


def _determining_conjuncts(cond: ir.Expr) -> list[tuple[int, int]]:
    def source(e: ir.Expr) -> int | None:  # a column, or a text column read as a number
        if isinstance(e, ir.TextToNum) and isinstance(e.arg, ir.Col) and e.arg.kind == "text":
            return e.arg.index
        return e.index if isinstance(e, ir.Col) else None

    out = []
    for c in conjuncts(cond):
        if not (isinstance(c, ir.Cmp) and c.op == "=" and c.mode in VALUE_MODES + ("affnum",)):
            continue
        for src, dst in ((c.left, c.right), (c.right, c.left)):
            a = source(src)
            if a is not None and isinstance(dst, ir.Col) and dst.kind in EXACT_KINDS:
                out.append((a, dst.index))
    return out


def _equal_pairs(rel: ir.Rel) -> list[tuple[int, int]]:
    if isinstance(rel, ir.Filter):
        return _equal_pairs(rel.input) + identical_pairs(rel.cond)
    if isinstance(rel, ir.Join) and rel.kind in ("inner", "cross", "left"):
        n = len(rel.left.columns)
        out = _equal_pairs(rel.left) + [(a + n, b + n) for a, b in _equal_pairs(rel.right)]
        if rel.kind == "inner" and rel.cond is not None:
            out += identical_pairs(rel.cond)
        return out
    if isinstance(rel, (ir.Project, ir.Aggregate)):
        exprs = rel.exprs if isinstance(rel, ir.Project) else rel.keys
        if isinstance(rel, ir.Aggregate) and not rel.grouped:
            return []
        classes = equal_columns(rel.input)
        out = []
        for j, e in enumerate(exprs):
            for k, f in enumerate(exprs[:j]):
                if isinstance(e, ir.Col) and isinstance(f, ir.Col) and e.kind == f.kind and \
                        e.affinity == f.affinity and (e.index == f.index or f.index in classes.get(e.index, ())):
                    out.append((k, j))
        return out
    if isinstance(rel, (ir.Distinct, ir.Sort)):
        return _equal_pairs(rel.input)
    if isinstance(rel, ir.SetOp):  # each row comes from the left input, or (UNION) from the right
        left = equal_columns(rel.left)
        if rel.op in ("except", "intersect"):
            return [(i, j) for i, js in left.items() for j in js if i < j]
        right = equal_columns(rel.right)
        return [(i, j) for i, js in left.items() for j in js if i < j and j in right.get(i, ())]
    return []


def fixed_columns(facts: Facts) -> set[int]:
    """Columns equal to a literal on every row (one value, up to equality)."""
    return {i for i, fs in facts.items() for f in fs if isinstance(f, ir.Cmp) and f.op == "="}


def _equated(facts: Facts, cond: ir.Expr) -> Facts:
    """`facts` of the rows that also satisfy `cond`: a fact of a column holds of every column
    `cond` equates it to (to a fixed point, so `a = b AND b = c` carries a's facts to c)."""
    pairs = equated_columns(cond)
    changed = bool(pairs)
    while changed:
        changed = False
        for a, b in pairs:
            for src, dst in ((a, b), (b, a)):
                for f in list(facts.get(src, [])):
                    g = moved(f, dst)
                    if ir.key(g) not in {ir.key(h) for h in facts.get(dst, [])}:
                        _add(facts, dst, g)
                        changed = True
    return facts


def moved(fact: ir.Expr, to: int) -> ir.Expr:
    """`fact` about another column: the one at position `to`."""
    return map_cols(fact, lambda c: ir.Col(to, c.kind, c.affinity))


def _through(inner: Facts, exprs, constants: bool = False) -> Facts:
    """Facts of the columns `exprs` compute from a relation with facts `inner`: a column passed
    through keeps its facts; a constant (when `constants`) equals itself."""
    out: Facts = {}
    for k, e in enumerate(exprs):
        if isinstance(e, ir.Col):
            for f in inner.get(e.index, []):
                _add(out, k, moved(f, k))
        elif constants and isinstance(e, ir.Lit) and e.kind in EXACT_KINDS and e.value is not None:
            mode = {"int": "num", "text": "text", "date": "date"}[e.kind]
            _add(out, k, ir.Cmp("=", ir.Col(k, e.kind), e, mode))
    return out


def _add(facts: Facts, col: int, fact: ir.Expr) -> None:
    have = facts.setdefault(col, [])
    if ir.key(fact) not in {ir.key(f) for f in have}:
        have.append(fact)


def _copy(facts: Facts) -> Facts:
    return {i: list(fs) for i, fs in facts.items()}
