"""Read SQL as Apache Calcite prints it: the DuckDB query that means the same.

Optimizer-rewrite benchmarks (SQLSolver's Calcite suite, VeriEQL's Calcite pairs) are written by
Calcite's SQL printer, whose SQL differs from DuckDB's in a few places. `read_calcite(sql)`
returns the DuckDB text with Calcite's meaning and a note per difference it translated:

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
  where a value is (which the engine runs; the verifier does not model tuples: `unsupported`,
  after its random search).

Everything else is DuckDB's reading of the text: a Calcite function DuckDB lacks
(`UNIX_TIMESTAMP`) stays an error with DuckDB's message, and operators keep DuckDB's meaning,
notably `/` of two integers, which Calcite computes as an integer (`7 / 2` is 3) and DuckDB as a
DOUBLE (3.5), and `AVG` of integers (an INTEGER in Calcite, a DOUBLE in DuckDB). The verifier then
checks the DuckDB text, and confirms every counterexample by running it on DuckDB.

    >>> sql, notes = read_calcite("SELECT t.EXPR$0 FROM (VALUES (1), (2)) AS t GROUP BY 4")
    >>> sql
    'SELECT t."EXPR$0" FROM (VALUES (1), (2)) AS t("EXPR$0") GROUP BY CAST(4 AS INT)'
    >>> notes
    ['GROUP BY 4: the constant 4 (Calcite), not the 4th column', 'VALUES columns named EXPR$0, as Calcite names them']
"""

from __future__ import annotations

from sqlglot import exp

from verify.errors import QueryError, Unsupported
from verify.parse import parse_query

__all__ = ["read_calcite", "read_calcite_pair"]

# the clauses a SELECT of SINGLE_VALUEs must not have: each changes how many rows it returns
_NOT_WITH_SINGLE_VALUE = ("group", "having", "distinct", "order", "limit", "offset", "qualify", "windows")


def read_calcite(sql: str) -> tuple[str, list[str]]:
    """`sql`, as Calcite reads it, written as DuckDB SQL; and one note per translation made.

    Raises `QueryError` for text that does not parse, `Unsupported` for a Calcite form with no
    DuckDB reading here (SINGLE_VALUE elsewhere than a SELECT list of them)."""
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
    for select in list(tree.find_all(exp.Select)):
        note = _single_values(select)
        if note:
            notes.append(note)
    for ident in tree.find_all(exp.Identifier):
        if "$" in ident.name:
            ident.set("quoted", True)
    return tree.sql(dialect="duckdb"), list(dict.fromkeys(notes))


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


def read_calcite_pair(gold: str, gen: str) -> tuple[str, str, list[str]]:
    """Both queries read as Calcite's (`read_calcite`), and the notes, each naming its query.
    A `QueryError` or `Unsupported` says which query it comes from."""
    read, notes = [], []
    for sql, which in ((gold, "gold"), (gen, "generated")):
        try:
            text, made = read_calcite(sql)
        except QueryError as e:
            raise QueryError(f"{which} query: {e}") from None
        except Unsupported as e:
            raise Unsupported(f"{which} query: {e.feature}") from None
        read.append(text)
        notes += [f"{which}: {n}" for n in made]
        if made:
            notes.append(f"{which} query as DuckDB SQL: {text}")
    return read[0], read[1], notes
