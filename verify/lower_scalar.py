"""Lowering of scalar expressions with SQLite's value rules: arithmetic, comparisons under
type affinity, CASE, CAST, and the string and date functions. A mixin of `lower.Lowerer`
(it uses the Lowerer's `expr`, `cond`, `note` and `dialect`).

Affinity rules (section 4.2 of SQLite's "Datatypes In SQLite") are decided here, statically,
and recorded in each `ir.Cmp` as its `mode`:

    >>> from verify.schema_io import schema_from_ddl
    >>> from verify.lower import lower_query
    >>> from verify.parse import parse_query
    >>> s = schema_from_ddl("CREATE TABLE t (x TEXT, n INTEGER)")
    >>> lower_query(parse_query("SELECT x FROM t WHERE x > 5"), s).rel.input.cond.mode   # 5 becomes '5'
    'text'
    >>> lower_query(parse_query("SELECT n FROM t WHERE n = '5'"), s).rel.input.cond.mode  # '5' becomes 5
    'num'
"""

from __future__ import annotations

import datetime
import re
from fractions import Fraction

from sqlglot import exp

from verify import engine, ir
from verify.errors import QueryError, Unsupported
from verify.names import CmpMode, Dialect, FuncName
from verify.schema import affinity_of, decimal_type
from verify.scope import Env
from verify.strpred import normalized

_NUMERIC_AFFINITIES = ("INTEGER", "REAL", "NUMERIC")
_SQLITE_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")
_STRFTIME_FORMATS = set("YmdHMSjws%")
# STRFTIME fields that read only the date: `strftime(f, date('now'))` is `strftime(f, 'now')` for
# them. Not for any text x: '2020-05-05 24:00' is May 5th to date() but a Wednesday (the 6th) to
# strftime('%w', ...), and date(0) is NULL where strftime('%Y', 0) is '-4713'.
_DATE_FIELDS = set("Ymdjw%")
_NUMERIC_STRFTIME = ("%Y", "%m", "%d", "%H", "%M", "%S", "%j", "%w")  # digits only: a number as text


class ScalarLowering:
    """Scalar-expression lowering shared by `Lowerer` (see the module docstring)."""

    dialect: Dialect

    def _text(self, e: ir.Expr, what: str) -> ir.Expr:
        """A value used as text: SQLite writes an INTEGER in decimal; NULL stays NULL."""
        if e.kind == "text":
            return e
        if e.kind == "null":
            return ir.Lit(None, "text")
        if e.kind == "bool" and self.dialect == Dialect.SQLITE:
            e = bool_to_int(e)
        if isinstance(e, ir.Lit) and e.kind in ir.NUMERIC_KINDS:
            return ir.Lit(_sqlite_number_to_text(e.value), "text")
        if e.kind == "int":
            return ir.Func(FuncName.INT2TEXT, (e,), "text")
        raise Unsupported(f"{what} of a {e.kind} value (number-to-text conversion)")

    def _int_arg(self, node: exp.Expression | None, env: Env, what: str) -> ir.Expr | None:
        if node is None:
            return None
        e = self._num(self.expr(node, env), what)
        if e.kind == "null":
            return ir.Lit(None, "int")
        return e if e.kind == "int" else ir.Func(FuncName.TOINT, (e,), "int")

    def _literal_text(self, node: exp.Expression | None, what: str) -> str | None:
        if node is None:
            return None
        if isinstance(node, exp.Literal) and node.is_string:
            return node.this
        if isinstance(node, exp.Null):
            return None
        raise Unsupported(f"{what} that is not a string literal")

    def _like(self, node: exp.Expression, env: Env) -> ir.Expr:
        escape = None
        escape_null = False  # `ESCAPE NULL` makes the result NULL
        if isinstance(node, exp.Escape):
            escape = self._literal_text(node.expression, "LIKE ... ESCAPE")
            escape_null = escape is None
            node = node.this
        negate = bool(node.args.get("negate"))
        label = "GLOB" if isinstance(node, exp.Glob) else "ILIKE" if isinstance(node, exp.ILike) else "LIKE"
        if label == "ILIKE" and self.dialect != Dialect.DUCKDB:
            raise Unsupported("ILIKE (not a SQLite operator)")
        # DuckDB's LIKE is case-sensitive (its ILIKE, and SQLite's LIKE, fold ASCII case)
        name = {"GLOB": FuncName.GLOB, "LIKE": FuncName.LIKE_CS if self.dialect == Dialect.DUCKDB else FuncName.LIKE,
                "ILIKE": FuncName.LIKE}[label]
        arg = self._text(self.expr(node.this, env), label)
        pat = self.expr(node.expression, env)  # a literal, possibly SQLite's "double-quoted" one
        if not isinstance(pat, ir.Lit):
            raise Unsupported(f"a {label} pattern that is not a string literal")
        if pat.value is None or escape_null:
            result: ir.Expr = ir.Lit(None, "bool")
        else:
            pattern = pat.value if pat.kind == "text" else _sqlite_number_to_text(pat.value)
            # one normal form for the predicates LIKE/GLOB share with INSTR and SUBSTR
            result = normalized(ir.Func(name, (arg, ir.Lit(pattern, "text"), ir.Lit(escape, "text")), "bool"),
                                self.dialect)
        return ir.Not(result) if negate else result

    def _string_function(self, node: exp.Expression, env: Env) -> ir.Expr | None:
        """SQLite string and date functions, or None if `node` is none of them."""
        if isinstance(node, exp.Substring):
            s = self._text(self.expr(node.this, env), "SUBSTR")
            start = self._int_arg(node.args.get("start"), env, "SUBSTR")
            length = self._int_arg(node.args.get("length"), env, "SUBSTR")
            return ir.Func(FuncName.SUBSTR, (s, start) + ((length,) if length is not None else ()), "text")
        if isinstance(node, (exp.Left, exp.Right)) and self.dialect == Dialect.DUCKDB:
            # DuckDB's left(x, n) is substr(x, 1, n) for n >= 0, right(x, n) substr(x, -n) for n >= 1
            what = "LEFT" if isinstance(node, exp.Left) else "RIGHT"
            s = self._text(self.expr(node.this, env), what)
            n = self._int_arg(node.expression, env, what)
            if not isinstance(n, ir.Lit) or n.value is None or n.value < (0 if what == "LEFT" else 1):
                raise Unsupported(f"{what} of a length that is not a literal {'≥ 0' if what == 'LEFT' else '≥ 1'}")
            if what == "LEFT":
                return ir.Func(FuncName.SUBSTR, (s, ir.Lit(1, "int"), n), "text")
            return ir.Func(FuncName.SUBSTR, (s, ir.Lit(-n.value, "int")), "text")
        if isinstance(node, exp.StrPosition):
            if node.args.get("position") is not None or node.args.get("occurrence") is not None:
                raise Unsupported("INSTR with a start position")
            s = self._text(self.expr(node.this, env), "INSTR")
            t = self._text(self.expr(node.args["substr"], env), "INSTR")
            return ir.Func(FuncName.INSTR, (s, t), "int")
        if isinstance(node, exp.Length):
            return ir.Func(FuncName.LENGTH, (self._text(self.expr(node.this, env), "LENGTH"),), "int")
        if isinstance(node, exp.Trim):
            where = (node.args.get("position") or "BOTH").upper()
            chars = self._literal_text(node.expression, "TRIM characters") if node.expression else " "
            if chars is None:
                return ir.Lit(None, "text")
            s = self._text(self.expr(node.this, env), "TRIM")
            return ir.Func(FuncName.TRIM, (s, ir.Lit(chars, "text"), ir.Lit(where, "text")), "text")
        if isinstance(node, (exp.Upper, exp.Lower)):
            name = FuncName.UPPER if isinstance(node, exp.Upper) else FuncName.LOWER
            return ir.Func(name, (self._text(self.expr(node.this, env), name.upper()),), "text")
        if isinstance(node, exp.Replace):
            parts = (node.this, node.expression, node.args.get("replacement"))
            return ir.Func(FuncName.REPLACE, tuple(self._text(self.expr(p, env), "REPLACE") for p in parts), "text")
        if isinstance(node, (exp.Max, exp.Min, exp.Greatest, exp.Least)) and node.expressions:
            args = [self.expr(node.this, env)] + [self.expr(a, env) for a in node.expressions]
            kind = unify_kinds([a.kind for a in args], "MAX()/MIN() of several values")
            name = FuncName.GREATEST if isinstance(node, (exp.Max, exp.Greatest)) else FuncName.LEAST
            return ir.Func(name, tuple(args), kind)
        if isinstance(node, exp.TimeToStr):
            fmt = self._literal_text(node.args.get("format"), "a STRFTIME format")
            arg = node.this
            if isinstance(arg, exp.TsOrDsToTimestamp):
                arg = arg.this
            if fmt is None:
                return ir.Lit(None, "text")
            bad = {f for f in re.findall(r"%(.)", fmt) if f not in _STRFTIME_FORMATS}
            if bad:
                raise Unsupported(f"STRFTIME format %{sorted(bad)[0]}")
            value = self._time_value(arg, env) if arg is not None else self._now()
            if _today(value) and set(re.findall(r"%(.)", fmt)) <= _DATE_FIELDS:
                value = value.args[0]  # the current instant's date fields are its date's
            return ir.Func(FuncName.STRFTIME, (ir.Lit(fmt, "text"), value), "text")
        date_names = {n.value: n for n in (FuncName.DATE, FuncName.DATETIME, FuncName.TIME, FuncName.JULIANDAY)}
        name = None
        if isinstance(node, exp.Date) and self.dialect == Dialect.DUCKDB:
            if node.expressions or node.args.get("zone"):
                raise Unsupported("DATE() with more than one argument in DuckDB")
            return self._cast(exp.Cast(this=node.this, to=exp.DataType.build("DATE")), env)  # date(x) = x::DATE
        if isinstance(node, exp.Date):
            name, args = FuncName.DATE, [a for a in [node.this, *node.expressions] if a is not None]
        elif isinstance(node, exp.Anonymous) and node.name.lower() in date_names:
            name, args = date_names[node.name.lower()], list(node.expressions)
        if name is not None:
            if len(args) > 1:
                raise Unsupported(f"{name.upper()} with modifiers")
            value = self._time_value(args[0], env) if args else self._now()  # datetime() is now
            return ir.Func(name, (value,), "real" if name == FuncName.JULIANDAY else "text")
        if isinstance(node, exp.CurrentTimestamp):
            return self._now()
        if isinstance(node, (exp.CurrentDate, exp.CurrentTime)) and self.dialect != Dialect.SQLITE:
            raise Unsupported(f"{node.sql(dialect=Dialect.DUCKDB)} in DuckDB")
        if isinstance(node, (exp.CurrentDate, exp.CurrentTime)):
            return ir.Func(FuncName.DATE if isinstance(node, exp.CurrentDate) else FuncName.TIME, (self._now(),), "text")
        if isinstance(node, (exp.Extract, exp.Year, exp.Month, exp.Day)):
            if isinstance(node, exp.Extract):
                part, arg = node.this.name.lower(), node.expression
            else:
                part, arg = node.key.lower(), node.this
            x = self.expr(arg, env)
            if x.kind != "date" or part not in ("year", "month", "day"):
                raise Unsupported(f"EXTRACT({part.upper()}) of a {x.kind} value")
            return ir.Func(FuncName("date_" + part), (x,), "int")
        if isinstance(node, exp.Round):
            x = self._num(self.expr(node.this, env), "ROUND")
            digits = self._int_arg(node.args.get("decimals"), env, "ROUND") or ir.Lit(0, "int")
            if not isinstance(digits, ir.Lit):
                raise Unsupported("ROUND to a computed number of digits")
            return ir.Func(FuncName.ROUND, (x, digits), "real")
        return None

    def _now(self) -> ir.Expr:
        """The current time (see `verify.clock`): SQLite's text 'YYYY-MM-DD HH:MM:SS', DuckDB's
        TIMESTAMP WITH TIME ZONE."""
        return ir.Func(FuncName.NOW, (), "text" if self.dialect == Dialect.SQLITE else "timestamp")

    def _time_value(self, node: exp.Expression, env: Env) -> ir.Expr:
        if isinstance(node, exp.Literal) and node.is_string and node.this.lower() == "now":
            return self._now()
        e = self.expr(node, env)
        if e.kind != "text":
            raise Unsupported(f"a {e.kind} value used as a time value (Julian day numbers)")
        return e

    def _num(self, e: ir.Expr, what: str) -> ir.Expr:
        if e.kind == "bool" and self.dialect == Dialect.SQLITE:
            return bool_to_int(e)
        if e.kind in ir.NUMERIC_KINDS + ("null",):
            return e
        if e.kind == "text" and isinstance(e, ir.Lit):
            v = _sqlite_text_to_number(e.value)
            return ir.Lit(v, "int" if isinstance(v, int) else "real")
        if self.dialect == Dialect.SQLITE and isinstance(e, ir.Func) and e.name == FuncName.STRFTIME \
                and e.args[0].value in _NUMERIC_STRFTIME:
            return ir.Func(FuncName.STRFTIME_NUM, e.args, "int")  # '%Y' is all digits: its number directly
        if e.kind == "text" and self.dialect == Dialect.SQLITE:
            return ir.Func(FuncName.TEXT2NUM, (e,), "num")  # SQLite reads the text's numeric prefix
        raise Unsupported(f"{what} on a {e.kind} value")

    def _arith(self, node: exp.Expression, env: Env) -> ir.Expr:
        op = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.Mod: "%", exp.IntDiv: "//"}[type(node)]
        if self.dialect == Dialect.DUCKDB and _constant_time_arithmetic(node):
            return _duckdb_folded(node)
        a = self._num(self.expr(node.this, env), f"arithmetic ({op})")
        b = self._num(self.expr(node.expression, env), f"arithmetic ({op})")
        kinds = {a.kind, b.kind} - {"null"}
        if not kinds:
            kind: ir.Kind = "int"
        elif kinds == {"int"}:
            kind = "int"
        elif "real" in kinds:
            kind = "real"
        else:
            kind = "num"
        if op == "/" and self.dialect == Dialect.DUCKDB:
            kind = "real"
        if op == "//":
            kind = "int" if kind == "int" else "real"
        return ir.Arith(op, a, b, kind)

    def _cmp(self, op: str, a: ir.Expr, b: ir.Expr, cast_text: bool = True) -> ir.Expr:
        """A comparison (`_affinity_cmp`), string predicates in their normal form
        (`verify.strpred`: `INSTR(x, 'c') > 0` is `x` contains 'c')."""
        return normalized(self._affinity_cmp(op, a, b, cast_text), self.dialect)

    def _affinity_cmp(self, op: str, a: ir.Expr, b: ir.Expr, cast_text: bool = True) -> ir.Expr:
        """A comparison, with SQLite's affinity rules decided here, statically. DuckDB casts a
        text to an integer for `=` and `<>` (also in CASE, NULLIF and IN lists; `cast_text`
        False: an IN subquery, where it refuses) and refuses to order a text against a number."""
        if self.dialect == Dialect.SQLITE:
            if a.kind == "bool":
                a = bool_to_int(a)
            if b.kind == "bool":
                b = bool_to_int(b)
        ka, kb = a.kind, b.kind
        if "null" in (ka, kb):
            return ir.Cmp(op, a, b, CmpMode.NUM if ka in ir.NUMERIC_KINDS or kb in ir.NUMERIC_KINDS else CmpMode.NULL)
        if ka in ir.NUMERIC_KINDS and kb in ir.NUMERIC_KINDS:
            return ir.Cmp(op, a, b, CmpMode.NUM)
        if ka == kb == "text" and self.dialect == Dialect.SQLITE:
            for col, lit, col_left in ((a, b, True), (b, a, False)):
                if affinity(col) in _NUMERIC_AFFINITIES and isinstance(lit, ir.Lit) and lit.value is not None:
                    conv = _sqlite_text_to_number(lit.value, strict=True)
                    if conv is not None:  # rule 1 turns the literal into a number
                        num = ir.Lit(conv, "int" if isinstance(conv, int) else "real")
                        return ir.Cmp(op, col, num, CmpMode.MIXED) if col_left else ir.Cmp(op, num, col, CmpMode.MIXED)
        if ka == kb:
            return ir.Cmp(op, a, b, CmpMode(ka))
        if {ka, kb} == {"date", "timestamp"}:  # DuckDB compares the date's midnight
            a, b = (ir.Func(FuncName.DATE2TS, (x,), "timestamp") if x.kind == "date" else x for x in (a, b))
            return ir.Cmp(op, a, b, CmpMode.TIMESTAMP)
        if "date" in (ka, kb):
            d, other = (a, b) if ka == "date" else (b, a)
            if isinstance(other, ir.Lit) and other.kind == "text":
                lit = ir.Lit(_date_literal(other.value), "date")
                return ir.Cmp(op, a, lit, CmpMode.DATE) if ka == "date" else ir.Cmp(op, lit, b, CmpMode.DATE)
            raise Unsupported(f"comparison of a date with a {other.kind} value")
        if self.dialect != Dialect.SQLITE:
            if {ka, kb} == {"text", "int"} and op in ("=", "<>", "!=") and cast_text:
                return ir.Cmp(op, *(ir.Func(FuncName.DUCK_TEXT2INT, (x,), "int") if x.kind == "text" else x
                                    for x in (a, b)), CmpMode.NUM)
            if "text" in (ka, kb) and {ka, kb} <= {"text", "real", "num", "bool"} and op in ("=", "<>", "!=") \
                    and cast_text:
                raise Unsupported(f"comparison of a text value with a {kb if ka == 'text' else ka} value "
                                  f"(DuckDB's implicit cast)")
            raise QueryError(f"cannot compare a {ka} value with a {kb} value")
        # SQLite, a number against a text: the affinity rules of section 4.2 of "Datatypes In
        # SQLite", in order. Column references have their column's affinity; other expressions
        # have none.
        num, txt, num_left = (a, b, True) if ka in ir.NUMERIC_KINDS else (b, a, False)

        def cmp(x: ir.Expr, y: ir.Expr, mode: CmpMode) -> ir.Cmp:  # keeps the operands' order
            return ir.Cmp(op, x, y, mode) if num_left else ir.Cmp(op, y, x, mode)

        if affinity(num) in _NUMERIC_AFFINITIES:
            # rule 1: NUMERIC affinity is applied to the text operand
            if isinstance(txt, ir.Lit):
                conv = _sqlite_text_to_number(txt.value, strict=True)
                if conv is None:
                    return cmp(num, txt, CmpMode.MIXED)
                return cmp(num, ir.Lit(conv, "int" if isinstance(conv, int) else "real"), CmpMode.NUM)
            if isinstance(txt, (ir.Col, ir.Outer)):  # the encoder lists its assumption (affinity_int_text)
                return cmp(num, ir.TextToNum(txt), CmpMode.AFFNUM)
            raise Unsupported("comparison of a numeric column with a computed text (numeric conversion)")
        if affinity(txt) == "TEXT":
            # rule 2: TEXT affinity is applied to the number
            if isinstance(num, ir.Lit):
                return cmp(ir.Lit(_sqlite_number_to_text(num.value), "text"), txt, CmpMode.TEXT)
            raise Unsupported("comparison of a TEXT column with a computed number (text conversion)")
        # rule 3: compared as they are; every number sorts before every text
        return cmp(num, txt, CmpMode.MIXED)

    def _case(self, node: exp.Case, env: Env) -> ir.Expr:
        operand = node.this
        whens = []
        for w in node.args.get("ifs") or []:
            if operand is not None:
                c = self._cmp("=", self.expr(operand, env), self.expr(w.this, env))
            else:
                c = self.cond(w.this, env)
            whens.append((c, self.expr(w.args["true"], env)))
        default = node.args.get("default")
        d = self.expr(default, env) if default is not None else ir.Lit(None, "null")
        return self._make_case(whens, d)

    def _make_case(self, whens, default: ir.Expr) -> ir.Expr:
        if self.dialect == Dialect.SQLITE:
            whens = [(c, bool_to_int(v) if v.kind == "bool" else v) for c, v in whens]
            default = bool_to_int(default) if default.kind == "bool" else default
        kind = unify_kinds([v.kind for _, v in whens] + [default.kind], "CASE")
        return ir.Case(tuple(whens), default, kind)

    def _cast(self, node: exp.Cast, env: Env) -> ir.Expr:
        arg = self.expr(node.this, env)
        to = node.args["to"]
        tname = to.sql(dialect=self.dialect).upper()
        dec = decimal_type(tname) if self.dialect == Dialect.DUCKDB else None
        if dec is not None:
            return _cast_to_decimal(arg, *dec, tname)
        if self.dialect == Dialect.DUCKDB:
            target = {"INT": "int", "INTEGER": "int", "BIGINT": "int", "SMALLINT": "int", "TINYINT": "int",
                      "DOUBLE": "real", "REAL": "real", "FLOAT": "real", "DATE": "date",
                      "BOOLEAN": "bool", "VARCHAR": "text", "TEXT": "text"}.get(tname.split("(")[0])
        else:
            aff = affinity_of(tname).value
            target = {"INTEGER": "int", "REAL": "real", "TEXT": "text", "NUMERIC": "num"}.get(aff)
        if target is None and arg.kind == "null":
            return ir.Lit(None, "null")  # a NULL of a type not modelled is still just NULL
        if target is None:
            raise Unsupported(f"CAST to {tname}")
        if arg.kind == "null":
            return ir.Lit(None, target)  # type: ignore[arg-type]
        if arg.kind == "bool" and self.dialect == Dialect.SQLITE:
            arg = bool_to_int(arg)
        if arg.kind == target:
            return arg
        if isinstance(arg, ir.Lit):
            return _cast_literal(arg, target, self.dialect)
        if arg.kind == "text" and target in ("int", "real", "num") and self.dialect == Dialect.SQLITE:
            arg = self._num(arg, "CAST")
            # SQLite reads an integer prefix for INTEGER ('20.5' → 20): under the conversion's
            # no-exponent assumption that is the number read, truncated
            return ir.Func({"real": FuncName.TOREAL, "int": FuncName.TOINT, "num": FuncName.TONUMERIC}[target], (arg,), target)
        if arg.kind == "int" and target == "text":  # decimal digits in both engines
            return ir.Func(FuncName.INT2TEXT, (arg,), "text")
        if arg.kind == "text" and target == "int":  # DuckDB: the text must read as an integer
            return ir.Func(FuncName.DUCK_TEXT2INT, (arg,), "int")
        if arg.kind in ir.NUMERIC_KINDS and target == "int":
            return ir.Func(FuncName.TOINT, (arg,), "int")
        if arg.kind in ir.NUMERIC_KINDS and target in ("real", "num"):
            return ir.Func(FuncName.TOREAL, (arg,), "real") if target == "real" else arg
        raise Unsupported(f"CAST of a {arg.kind} value to {tname}")


# ----------------------------------------------------------------------------- helpers
def affinity(e: ir.Expr) -> str | None:
    """The SQLite affinity an expression has in a comparison: its column's for a column (also a
    bare one, or the one column of a scalar subquery), None for anything computed."""
    if isinstance(e, (ir.Col, ir.Outer)):
        return e.affinity
    if isinstance(e, ir.Bare):
        return affinity(e.arg)
    if isinstance(e, ir.ScalarSubquery):
        return e.query.columns[0].affinity  # "(SELECT c ...)" has the affinity of c
    return None


def bool_to_int(e: ir.Expr) -> ir.Expr:
    """A truth value as SQLite shows it, 1/0 (NULL stays NULL); other values as they are."""
    if e.kind != "bool":
        return e
    if isinstance(e, ir.Lit):
        return ir.Lit(None if e.value is None else int(bool(e.value)), "int")
    return ir.Func(FuncName.BOOL2INT, (e,), "int")


def unify_kinds(kinds: list[ir.Kind], what: str) -> ir.Kind:
    """The one kind of values that meet in one column (CASE branches, UNION sides, ...): NULL
    takes the others' kind, numbers mix into `num` (or `real`); `Unsupported(what ...)` when
    other kinds mix."""
    ks = {k for k in kinds if k != "null"}
    if not ks:
        return "null"
    if len(ks) == 1:
        return ks.pop()
    if ks <= set(ir.NUMERIC_KINDS):
        return "num" if ks != {"real"} else "real"
    raise Unsupported(f"{what} mixes {' and '.join(sorted(ks))} values")


def _sqlite_text_to_number(text: str, strict: bool = False) -> int | float | None:
    """SQLite's conversion of a text literal under numeric affinity. With strict=True, text that
    is not a well-formed number gives None (it stays text); otherwise it gives its numeric prefix
    or 0, as arithmetic does."""
    if _SQLITE_NUMBER.match(text):
        s = text.strip()
        try:
            return int(s)
        except ValueError:
            f = float(s)
            return int(f) if f.is_integer() and abs(f) < 2**63 and strict else f
    if strict:
        return None
    m = re.match(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text)
    if not m:
        return 0
    s = m.group(0).strip()
    try:
        return int(s)
    except ValueError:
        return float(s)


def _sqlite_number_to_text(v) -> str:
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, int):
        return str(v)
    r = f"{v:.15g}"
    if "." not in r and "e" not in r and "inf" not in r:
        r += ".0"
    return r


# the nodes of a constant expression DuckDB may fold (no column, subquery, clock or aggregate)
_CONSTANT_NODES = (exp.Literal, exp.Cast, exp.Interval, exp.Add, exp.Sub, exp.Mul, exp.Paren, exp.DataType,
                   exp.DataTypeParam, exp.Var, exp.Neg, exp.Date, exp.Null)


def _constant_time_arithmetic(node: exp.Expression) -> bool:
    """Is `node` arithmetic on constants that involves a date or an interval (`DATE '1993-01-01'
    + INTERVAL '3' MONTH`)? Such an expression has one value, which DuckDB computes."""
    nodes = list(node.walk())
    if not all(isinstance(n, _CONSTANT_NODES) for n in nodes):
        return False
    return any(isinstance(n, exp.Interval) or (isinstance(n, exp.Cast) and n.to.is_type(*exp.DataType.TEMPORAL_TYPES))
               or isinstance(n, exp.Date) for n in nodes)


def _duckdb_folded(node: exp.Expression) -> ir.Lit:
    """The literal DuckDB computes for the constant `node` (see `_constant_time_arithmetic`)."""
    sql = node.sql(dialect=Dialect.DUCKDB)
    try:
        value = engine.duckdb_constant(sql)
    except engine.EngineError as e:
        raise QueryError(f"DuckDB cannot compute {sql} ({e})") from None
    if value is None:
        return ir.Lit(None, "null")
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            raise Unsupported(f"{sql}: a time zone-aware value")
        return ir.Lit(value, "timestamp")
    if isinstance(value, datetime.date):
        return ir.Lit(value, "date")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Unsupported(f"{sql}: a constant of type {type(value).__name__}")
    return ir.Lit(value, "int" if isinstance(value, int) else "real")


def _date_literal(text: str) -> datetime.date:
    """A text DuckDB reads as a DATE (a cast, or a comparison with a DATE), read as DuckDB does;
    a text it cannot read makes the query fail wherever the value is computed: a QueryError
    with DuckDB's message."""
    try:
        return engine.duckdb_date(text)
    except engine.EngineError as e:
        raise QueryError(f"DuckDB cannot read {text!r} as a DATE ({e})") from None


def duckdb_decimal(value: float) -> Fraction:
    """The exact value DuckDB gives the decimal literal the IR holds as the float `value`: its
    shortest decimal form (`repr`), which is the literal as written for up to 15 significant
    digits (`lower._decimal_literal_kept` refuses longer ones).

        >>> duckdb_decimal(0.06) - duckdb_decimal(0.01) == Fraction(1, 20)
        True
    """
    return Fraction(repr(value))


# the most decimal digits a DuckDB integer column below HUGEINT holds (UBIGINT: 20)
_INTEGER_DIGITS = 20


def _cast_to_decimal(arg: ir.Expr, precision: int, scale: int, tname: str) -> ir.Expr:
    """DuckDB's `CAST(arg AS DECIMAL(precision, scale))` where it keeps `arg`'s value: a column
    declared DECIMAL(p, s) with s <= scale and p - s <= precision - scale (a widening cast), an
    integer column below HUGEINT with at least 20 integer digits to spare, a literal that fits.
    A cast that may round (fewer decimals) or fail (too few integer digits) is Unsupported.

        >>> _cast_to_decimal(ir.Col(0, "real", "DECIMAL(15,2)"), 21, 7, "DECIMAL(21, 7)")
        Col(index=0, kind='real', affinity='DECIMAL(15,2)')
    """
    whole = precision - scale
    if arg.kind == "null":
        return ir.Lit(None, "real")
    if isinstance(arg, ir.Lit) and arg.kind in ir.NUMERIC_KINDS and not isinstance(arg.value, bool):
        v = duckdb_decimal(arg.value) if isinstance(arg.value, float) else Fraction(arg.value)
        if (v * 10 ** scale).denominator == 1 and abs(v) < 10 ** whole and float(v) == v:
            return ir.Lit(float(v), "real")
    if isinstance(arg, (ir.Col, ir.Outer)):
        dec = decimal_type(arg.affinity) if arg.kind == "real" else None
        if dec is not None and dec[1] <= scale and dec[0] - dec[1] <= whole:
            return arg
        if arg.kind == "int" and arg.affinity == "INTEGER" and whole >= _INTEGER_DIGITS:
            return ir.Func(FuncName.TOREAL, (arg,), "real")
    raise Unsupported(f"CAST to {tname} that may round or overflow (only a cast that keeps every value of its "
                      f"operand's declared type is modelled)")


def _cast_literal(arg: ir.Lit, target: str, dialect: Dialect) -> ir.Lit:
    v = arg.value
    if target == "text":
        return ir.Lit(_sqlite_number_to_text(v) if not isinstance(v, str) else v, "text")
    if target == "date":
        if isinstance(v, str):
            return ir.Lit(_date_literal(v), "date")
        raise Unsupported(f"CAST of {arg.kind} to DATE")
    if isinstance(v, str):
        v = _sqlite_text_to_number(v)
    if target == "int":
        if dialect == Dialect.DUCKDB and isinstance(v, float):
            return ir.Lit(int(round(v)), "int")
        return ir.Lit(int(v), "int")
    if target == "real":
        return ir.Lit(float(v), "real")
    if target == "bool":
        return ir.Lit(bool(v), "bool")
    return ir.Lit(v, "int" if isinstance(v, int) else "real")


def _today(e: ir.Expr) -> bool:
    """Is `e` SQLite's `date('now')` (also `CURRENT_DATE`): the current instant's date?"""
    return (isinstance(e, ir.Func) and e.name == FuncName.DATE and len(e.args) == 1
            and isinstance(e.args[0], ir.Func) and e.args[0].name == FuncName.NOW)
