"""Read SQL as Apache Calcite prints it: the DuckDB query that means the same.

Optimizer-rewrite benchmarks (SQLSolver's Calcite suite, VeriEQL's Calcite pairs) are written by
Calcite's SQL printer, whose SQL differs from DuckDB's in a few places. `read_calcite(sql)`
(with the schema, `read_calcite(sql, schema)`, for what depends on types) returns the DuckDB text
with Calcite's meaning and a note per difference it translated:

- **a number in GROUP BY** is that constant to Calcite (GROUP BY ordinals are off in its default
  conformance) and a column position to DuckDB: `GROUP BY 4` is read `GROUP BY CAST(4 AS INT)`,
  which DuckDB groups by as a value (one group for every row). ORDER BY numbers are positions to
  both, and are left as they are;
- **the columns of a VALUES list** are named `EXPR$0`, `EXPR$1`, ... by Calcite (`col0`, ... by
  DuckDB): a VALUES in FROM without a column list gets Calcite's names;
- **names with a `$`** (`$f0`, `EXPR$0`, which DuckDB reads as parameters or rejects) are quoted;
- **`SINGLE_VALUE(e)`**, Calcite's aggregate of a scalar subquery (NULL on no row, the value on
  one, an error on several), is read as the scalar subquery it stands for, which DuckDB
  evaluates the same way: `SELECT SINGLE_VALUE(e) AS f FROM r WHERE c` is `SELECT (SELECT e FROM
  r WHERE c) AS f`. Only a SELECT list made of SINGLE_VALUEs, without GROUP BY, HAVING, DISTINCT,
  ORDER BY or LIMIT, has that reading (`Unsupported` otherwise);
- **`COUNT(a, b)`**, Calcite's count of the rows where no argument is NULL, is read `COUNT(CASE
  WHEN a IS NOT NULL AND b IS NOT NULL THEN 1 END)`; `COUNT(DISTINCT a, b)`, its count of the
  distinct tuples without a NULL, as DuckDB's count of distinct tuples `(a, b)` that are NULL
  where a value is (the form the verifier reads as a count of tuples, `verify.lower`);
- **types**: `a / b` of two integers is an integer in Calcite (`7 / 2` is 3, `-7 / 2` is -3) and
  a DOUBLE in DuckDB: read `a // b`; `AVG` of integers is an integer in Calcite (its SUM divided
  by its COUNT in the argument's type): read `SUM(x) // COUNT(x)`. Given the schema, sqlglot's
  type annotation tells the operand types. What differs by type and has no DuckDB form here is
  `Unsupported`: a division or AVG of DECIMALs (Calcite keeps a DECIMAL, DuckDB a DOUBLE),
  STDDEV/VARIANCE of exact numbers (Calcite returns the argument's type), a CAST of a DECIMAL or
  floating-point value to an integer (Calcite truncates, DuckDB rounds), and any of these whose
  operand types are unknown;
- **NULL order**: Calcite sorts NULL as the highest value, so first under DESC, where DuckDB puts
  it last: DESC keys get NULLS FIRST;
- **an ORDER BY key that is a constant other than a number** (`ORDER BY NULL`, which Calcite
  prints for a constant column of a UNION branch) orders nothing: it is left out (DuckDB
  rejects it), and so is an ORDER BY of nothing else.

Everything else is DuckDB's reading of the text: a Calcite function DuckDB lacks
(`UNIX_TIMESTAMP`) stays an error with DuckDB's message, and integer overflow, which Calcite's
32-bit SUM can reach and DuckDB's 128-bit one does not, is not modelled. The verifier then checks
the DuckDB text, and confirms every counterexample by running it on DuckDB.

    >>> sql, notes = read_calcite("SELECT t.EXPR$0 FROM (VALUES (1), (2)) AS t GROUP BY 4")
    >>> sql
    'SELECT t."EXPR$0" FROM (VALUES (1), (2)) AS t("EXPR$0") GROUP BY CAST(4 AS INT)'
    >>> notes
    ['GROUP BY 4: the constant 4 (Calcite), not the 4th column', 'VALUES columns named EXPR$0, as Calcite names them']
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from verify.errors import QueryError, Unsupported
from verify.limits import paren_depth, too_deep
from verify.parse import parse_query
from verify.schema import Schema
from verify.verdict import Verdict, VerdictKind

__all__ = ["constant_order_keys_dropped", "read_calcite", "read_calcite_pair", "read_pair", "refused_verdict"]

# the clauses a SELECT of SINGLE_VALUEs must not have: each changes how many rows it returns
_NOT_WITH_SINGLE_VALUE = ("group", "having", "distinct", "order", "limit", "offset", "qualify", "windows")


def read_calcite(sql: str, schema: Schema | None = None) -> tuple[str, list[str]]:
    """`sql`, as Calcite reads it over `schema`, written as DuckDB SQL; and one note per
    translation made.

    Raises `QueryError` for text that does not parse, `Unsupported` for a Calcite form with no
    DuckDB reading here (SINGLE_VALUE elsewhere than a SELECT list of them, a division or AVG
    whose operand types the schema does not tell)."""
    try:
        return _read(sql, schema)
    except RecursionError:  # sqlglot's parser and optimizer recurse once per level of nesting
        raise QueryError(too_deep(paren_depth(sql))) from None


def _read(sql: str, schema: Schema | None) -> tuple[str, list[str]]:
    tree = parse_query(sql, "duckdb")
    notes: list[str] = []
    for group in list(tree.find_all(exp.Group)):
        for lit in _grouping_numbers(group):
            notes.append(f"GROUP BY {lit.this}: the constant {lit.this} (Calcite), not the {_ordinal(lit.this)} column")
            lit.replace(exp.cast(lit.copy(), exp.DataType.build("INT")))
    for values in list(tree.find_all(exp.Values)):
        alias = values.args.get("alias")
        if alias is None or alias.columns or not values.expressions:
            continue
        width = len(values.expressions[0].expressions) if isinstance(values.expressions[0], exp.Tuple) else 1
        names = [f"EXPR${i}" for i in range(width)]
        alias.set("columns", [exp.to_identifier(n, quoted=True) for n in names])
        notes.append(f"VALUES columns named {', '.join(names)}, as Calcite names them")
    for count in list(tree.find_all(exp.Count)):
        note = _count_of_several(count)
        if note:
            notes.append(note)
    for select in reversed(list(tree.find_all(exp.Select))):  # innermost first: a rewrite copies what is inside
        note = _single_values(select)
        if note:
            notes.append(note)
    for ident in tree.find_all(exp.Identifier):
        if "$" in ident.name:
            ident.set("quoted", True)
    notes += constant_order_keys_dropped(tree, "Calcite")
    notes += _typed_meaning(tree, schema)
    notes += _nulls_high(tree, sql)
    return tree.sql(dialect="duckdb"), list(dict.fromkeys(notes))


def constant_order_keys_dropped(tree: exp.Expression, reader: str) -> list[str]:
    """The ORDER BY keys of `tree` that are constants other than numbers (`ORDER BY NULL`, `ORDER
    BY 'a'`: a sort by one value orders nothing, in Calcite and in Spark; a number is a position),
    left out, and an ORDER BY left with no key with them (DuckDB rejects such keys); the notes,
    naming `reader`."""
    notes = []
    for order in list(tree.find_all(exp.Order)):
        dropped = [o for o in order.expressions if isinstance(o.this, (exp.Null, exp.Boolean))
                   or isinstance(o.this, exp.Literal) and o.this.is_string]
        for o in dropped:
            o.pop()
            notes.append(f"ORDER BY {o.this.sql()}: a constant, orders nothing ({reader})")
        if dropped and not order.expressions:
            order.pop()
    return notes


def _grouping_numbers(group: exp.Group) -> list[exp.Literal]:
    """The integer literals that stand alone as GROUP BY items, in GROUPING SETS, ROLLUP and CUBE
    too (where DuckDB also reads them as positions)."""
    found: list[exp.Literal] = []

    def items(node: exp.Expression) -> None:
        if isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit():
            found.append(node)
        elif isinstance(node, (exp.GroupingSets, exp.Rollup, exp.Cube, exp.Tuple)):
            for e in node.expressions:
                items(e)

    for key in ("expressions", "grouping_sets", "rollup", "cube"):
        for e in group.args.get(key) or []:
            items(e)
    return found


def _ordinal(digits: str) -> str:
    n = int(digits)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _count_of_several(count: exp.Count) -> str | None:
    """`COUNT(a, b)` rewritten in place as the count of the rows where no argument is NULL; the
    note, or None for a COUNT of one argument."""
    arg = count.this
    if isinstance(arg, exp.Distinct) and len(arg.expressions) > 1:
        # sqlglot writes it for DuckDB as the COUNT(DISTINCT ...) of a tuple that is NULL where
        # an argument is: the same count
        return f"COUNT(DISTINCT of {len(arg.expressions)} arguments): the distinct tuples with no NULL (Calcite)"
    if arg is None or not count.expressions:
        return None
    args = [arg, *count.expressions]
    none_null = exp.and_(*(exp.Not(this=exp.Is(this=a.copy(), expression=exp.Null())) for a in args))
    count.set("this", exp.Case(ifs=[exp.If(this=none_null, true=exp.Literal.number(1))]))
    count.set("expressions", [])
    return f"COUNT of {len(args)} arguments: the rows where none is NULL (Calcite)"


def _single_values(select: exp.Select) -> str | None:
    """A SELECT whose items are all `SINGLE_VALUE(e)` rewritten in place as the scalar subqueries
    they stand for; the note, or None when it has no SINGLE_VALUE."""
    items = select.expressions
    calls = [i for i in items if _is_single_value(i.unalias())]
    if not calls and not any(_is_single_value(n) for i in items for n in i.walk()):
        return None
    if len(calls) != len(items) or any(select.args.get(k) for k in _NOT_WITH_SINGLE_VALUE) \
            or any(len(i.unalias().expressions) != 1 for i in calls):
        raise Unsupported("SINGLE_VALUE other than as the whole SELECT list of a query without GROUP BY, "
                          "HAVING, DISTINCT, ORDER BY or LIMIT (Calcite's SINGLE_VALUE)")
    subqueries = []
    for item in items:
        inner = select.copy()
        inner.set("expressions", [item.unalias().expressions[0].copy()])
        sub: exp.Expression = exp.Subquery(this=inner)
        subqueries.append(exp.alias_(sub, item.args["alias"].copy()) if isinstance(item, exp.Alias) else sub)
    for key in list(select.args):
        if key not in ("expressions", "with"):
            select.set(key, None)
    select.set("expressions", subqueries)
    return "SINGLE_VALUE(e): the scalar subquery (SELECT e ...) (Calcite's aggregate)"


def _is_single_value(node: exp.Expression) -> bool:
    return isinstance(node, exp.Anonymous) and node.name.upper() == "SINGLE_VALUE"


def read_calcite_pair(gold: str, gen: str, schema: Schema | None = None) -> tuple[str, str, list[str]]:
    """Both queries read as Calcite's over `schema` (`read_calcite`), and the notes, each naming
    its query. A `QueryError` or `Unsupported` says which query it comes from."""
    return read_pair(gold, gen, read_calcite, schema)


def read_pair(gold: str, gen: str, reader, schema: Schema | None = None) -> tuple[str, str, list[str]]:
    """Both queries read by `reader` (`read_calcite`, `verify.spark.read_spark`: SQL text and
    schema to DuckDB text and notes), and the notes, each naming its query, with the DuckDB
    text of a query the reader changed. A `QueryError` or `Unsupported` says which query it
    comes from."""
    read, notes = [], []
    for sql, which in ((gold, "gold"), (gen, "generated")):
        try:
            text, made = reader(sql, schema)
        except QueryError as e:
            raise QueryError(f"{which} query: {e}") from None
        except Unsupported as e:
            raise Unsupported(f"{which} query: {e.feature}") from None
        read.append(text)
        notes += [f"{which}: {n}" for n in made]
        if made:
            notes.append(f"{which} query as DuckDB SQL: {text}")
    return read[0], read[1], notes


def refused_verdict(e: QueryError | Unsupported, **fields) -> Verdict:
    """The verdict of a pair a reading refused (`read_calcite_pair`, `verify.spark.read_spark_pair`):
    `error` for text that does not parse, `unsupported` for a form without a DuckDB reading here; `fields` are the
    Verdict's other fields (dialect DuckDB unless given)."""
    if isinstance(e, QueryError):
        return Verdict(verdict=VerdictKind.ERROR, reason=str(e), **{"dialect": "duckdb", **fields})
    return Verdict(verdict=VerdictKind.UNSUPPORTED, reason=f"unsupported: {e.feature}", **{"dialect": "duckdb", **fields})


_TAG = "calcite_arithmetic"  # marks the nodes whose meaning hangs on types, in a tree's typed copies (node.meta)
_INTEGERS = exp.DataType.INTEGER_TYPES
_DECIMALS = exp.DataType.REAL_TYPES - exp.DataType.FLOAT_TYPES
_SPREADS = (exp.Stddev, exp.StddevPop, exp.StddevSamp, exp.Variance, exp.VariancePop)
_UNKNOWN = exp.DataType.Type.UNKNOWN


def _typed_meaning(tree: exp.Expression, schema: Schema | None) -> list[str]:
    """Calcite's arithmetic where its types give it another meaning than DuckDB's, rewritten in
    place: `a / b` of two integers is an integer (truncated toward zero, DuckDB's `a // b`), and
    so is `AVG(x)` of integers (Calcite computes it as SUM(x) / COUNT(x) in the argument's type:
    `SUM(x) // COUNT(x)`). Where no DuckDB form is written here, `Unsupported`: a division or AVG
    of DECIMALs (Calcite keeps a DECIMAL of a derived scale, DuckDB computes a DOUBLE), STDDEV and
    VARIANCE of exact numbers (Calcite returns the argument's type), a CAST of a DECIMAL or
    floating-point value to an integer (Calcite truncates, DuckDB rounds), and any of these whose
    operand types are unknown. The types come from sqlglot's annotation of a qualified copy over
    `schema`, innermost first (an outer division divides what the inner ones give). The notes
    of what changed."""
    targets = [n for n in tree.walk() if isinstance(n, (exp.Div, exp.Avg, *_SPREADS))
               or isinstance(n, exp.Cast) and n.to.this in _INTEGERS]
    if not targets:
        return []
    for i, node in enumerate(targets):
        node.meta[_TAG] = i
    tables = {t.name: {c.name: c.type or "UNKNOWN" for c in t.columns} for t in schema.tables} if schema else {}
    notes: list[str] = []
    left = dict(enumerate(targets))
    # Rewriting only makes values integers, so a division or AVG that is not one of integers may
    # become one once those it reads are rewritten (inside it, or in a derived table whose column
    # it reads): rewrite until nothing changes, then judge what is left on its final types.
    while True:
        found = _typed_nodes(tree, tables)
        rewritten = [i for i, n in left.items() if isinstance(n, (exp.Div, exp.Avg)) and i in found
                     and all(k in _INTEGERS for k in _operand_kinds(n, found[i]))]
        if not rewritten:
            break
        for i in rewritten:
            notes.append(_as_integer(left.pop(i)))
    for i, node in left.items():
        _refuse_if_typed_apart(node, found.get(i))
    return notes


def _typed_nodes(tree: exp.Expression, tables: dict) -> dict[int, exp.Expression]:
    """The tagged nodes of a typed copy of `tree` (`_typed_copy`), by tag."""
    return {n.meta[_TAG]: n for n in _typed_copy(tree, tables).walk() if _TAG in n.meta}


def _operand_kinds(node: exp.Expression, typed: exp.Expression) -> list[exp.DataType.Type]:
    """The types of `node`'s operands (a division's two, a function's argument), read from its
    typed copy; a NULL literal reads alike in both engines and counts as an integer."""
    operands = (typed.this, typed.expression) if isinstance(node, exp.Div) else (typed.this,)
    return [exp.DataType.Type.INT if isinstance(o, exp.Null) else _kind(o) for o in operands]


def _as_integer(node: exp.Expression) -> str:
    """A division or AVG of integers rewritten as Calcite computes it; the note."""
    if isinstance(node, exp.Div):
        node.replace(exp.IntDiv(this=node.this, expression=node.expression))
        return "a / b of integers: an integer, truncated (Calcite), a // b"
    _avg_as_integer(node)  # type: ignore[arg-type]
    return "AVG of integers: an integer (Calcite), SUM(x) // COUNT(x)"


def _refuse_if_typed_apart(node: exp.Expression, typed: exp.Expression | None) -> None:
    """`Unsupported` when `node` (left as DuckDB reads it) means another thing in Calcite by its
    operand types, or its operand types are unknown (`_typed_meaning`)."""
    shown = node.sql(dialect="duckdb")[:60]
    if typed is None:
        raise Unsupported(f"{shown}: its meaning in Calcite depends on types that could not be told")
    kinds = _operand_kinds(node, typed)
    if _UNKNOWN in kinds:
        raise Unsupported(f"{shown}: its meaning in Calcite depends on the operand types, which are not known "
                          "(give the schema)")
    if isinstance(node, exp.Cast):
        if any(k in exp.DataType.REAL_TYPES for k in kinds):
            raise Unsupported(f"{shown}: Calcite truncates a non-integer cast to an integer, DuckDB rounds")
    elif any(k in _DECIMALS for k in kinds) or isinstance(node, _SPREADS) and kinds[0] in _INTEGERS:
        raise Unsupported(f"{shown}: Calcite computes it in the type of its DECIMAL or integer operands, "
                          "DuckDB as a DOUBLE")


def _kind(operand: exp.Expression) -> exp.DataType.Type:
    """The type sqlglot gave `operand`, a number literal with a point being a DECIMAL (as in
    Calcite and DuckDB; sqlglot says DOUBLE)."""
    if isinstance(operand, exp.Literal) and not operand.is_string and not operand.this.isdigit():
        return exp.DataType.Type.DOUBLE if "e" in operand.this.lower() else exp.DataType.Type.DECIMAL
    return operand.type.this if operand.type is not None else _UNKNOWN


def _typed_copy(tree: exp.Expression, tables: dict) -> exp.Expression:
    """A copy of `tree`, qualified and annotated with types over `tables` (its nodes keep their
    `meta`); `Unsupported` when sqlglot cannot."""
    try:
        copy = qualify(tree.copy(), schema=tables, dialect="duckdb", validate_qualify_columns=False,
                       quote_identifiers=False)
        return annotate_types(copy, schema=tables, dialect="duckdb")
    except (SqlglotError, KeyError, ValueError) as e:
        raise Unsupported(f"Calcite's integer arithmetic: the operand types could not be told ({e})") from None


def _avg_as_integer(avg: exp.Avg) -> None:
    """`AVG([DISTINCT] x)` (under a FILTER or an OVER, which both parts keep) replaced by
    `SUM([DISTINCT] x) // COUNT([DISTINCT] x)`."""
    call: exp.Expression = avg
    wrappers = []
    while isinstance(call.parent, (exp.Filter, exp.Window)) and call.arg_key == "this":
        call = call.parent
        wrappers.append(call)

    def wrapped(agg: exp.Expression) -> exp.Expression:
        for w in wrappers:
            outer = w.copy()
            outer.set("this", agg)
            agg = outer
        return agg

    quotient = exp.IntDiv(this=wrapped(exp.Sum(this=avg.this.copy())),
                          expression=wrapped(exp.Count(this=avg.this.copy())))
    call.replace(exp.Paren(this=quotient))


def _nulls_high(tree: exp.Expression, sql: str) -> list[str]:
    """Calcite sorts NULL as the highest value: first under DESC, where DuckDB puts it last (both
    put it last under ASC). Each DESC key of an ORDER BY (windows' included) that does not say
    where NULLs go is given NULLS FIRST; a query that says so for some keys is `Unsupported`
    (sqlglot's tree does not tell which keys it says it for)."""
    desc = [o for o in tree.find_all(exp.Ordered) if o.args.get("desc")]
    if not desc:
        return []
    if any(t.token_type.name not in ("STRING", "IDENTIFIER") and t.text.upper() == "NULLS" for t in _tokens(sql)):
        raise Unsupported("ORDER BY ... DESC in a query that places NULLs explicitly for some keys: Calcite "
                          "puts NULLs first under DESC unless told, which the reading cannot tell apart")
    for o in desc:
        o.set("nulls_first", True)
    return ["ORDER BY ... DESC: NULLs first (Calcite sorts NULL as the highest value)"]


def _tokens(sql: str) -> list:
    from sqlglot.dialects.duckdb import DuckDB

    try:
        return DuckDB().tokenize(sql)
    except SqlglotError:
        return []
