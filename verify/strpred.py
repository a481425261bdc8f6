"""One normal form for the string predicates that test where a constant text occurs in a value.

`x LIKE '%-%'`, `INSTR(x, '-') > 0` and `x GLOB '*-*'` agree on every value; written three
ways they would be three plans that the same-plan shortcut and the row-wise proof cannot match,
and three encodings (a regular expression, index arithmetic) that Z3's string solver may take
long to compare. The front end (`lower_scalar`) passes every LIKE/GLOB and every comparison it
builds through `normalized`, which rewrites these predicates into one of

    CONTAINS(x, c)      c occurs in x              (`Contains` in Z3)
    STARTS_WITH(x, c)   x begins with c            (`PrefixOf`)
    ENDS_WITH(x, c)     x ends with c              (`SuffixOf`)
    x = c               a text comparison (`ir.Cmp`, mode TEXT; an INTEGER's text against a
                        canonical integer literal becomes the integer comparison)

all case-sensitive, NULL on a NULL `x` (so `NOT` keeps three-valued logic), with an empty
`c` always written `CONTAINS(x, '')` (true on every non-NULL text). SQLite's case-folding LIKE
whose constant holds ASCII letters keeps its regular expression, in one normal form too: the
pattern in lower case, with `%%` collapsed and the escape character `\\` used only where
needed, the argument stripped of LOWER/UPPER (which fold only ASCII letters in SQLite, as LIKE
does); `CONTAINS(LOWER(x), 'ab')` and `LOWER(x) = 'ab'`, say, are that LIKE. (DuckDB's
`LEFT(x, n)` and `RIGHT(x, n)` are lowered as SUBSTR, so they meet these forms too.)

The rewrites are exact on the values the verifier models (a column holds values of its kind).
BLOBs are not modelled: SQLite's LIKE and GLOB are false on a BLOB while INSTR reads its bytes,
and SUBSTR of a BLOB is a BLOB. Where a rewrite is not exact, it does not fire:

- a pattern with `_`/`?`/`[`, or with `%`/`*` between two constants, is left as it is;
- SQLite's LIKE folds ASCII case only: a constant without ASCII letters gives the
  case-sensitive forms, one with them the folded LIKE above; DuckDB's ILIKE folds every letter,
  so there only a constant of ASCII non-letters gives a form (DuckDB's LIKE is case-sensitive);
- `SUBSTR(x, 1, n) = c` only where n is the length of c; `SUBSTR(x, -n) = c` (or with
  length n) only where n = len(c) ≥ 1; other start positions and lengths are left as they are;
- `x LIKE 'c'` (no wildcard) is `x = 'c'` only where `x` always holds text: a TEXT column, a
  function that returns text, or an INTEGER's text (`n LIKE '5'` is `n = 5`; `n LIKE '05'`
  stays, since `n = '05'` is `n = 5`, and 5 is not LIKE '05'). A column without a declared type
  keeps its LIKE: SQLite may store the integer 5 there, which is `LIKE '5'` but not `= '5'`;
- DuckDB's GLOB reads `\\` as an escape: a GLOB pattern with `\\` is left as it is there.

    >>> x = ir.Col(0, "text", "TEXT")
    >>> like = ir.Func(FuncName.LIKE, (x, ir.Lit("%-%", "text"), ir.Lit(None, "text")), "bool")
    >>> instr = ir.Cmp(">", ir.Func(FuncName.INSTR, (x, ir.Lit("-", "text")), "int"), ir.Lit(0, "int"), CmpMode.NUM)
    >>> normalized(like, Dialect.SQLITE) == normalized(instr, Dialect.SQLITE)
    True
    >>> normalized(like, Dialect.SQLITE).name
    'contains'
"""

from __future__ import annotations

from typing import Literal

from verify import ir
from verify.names import CmpMode, Dialect, FuncName

Where = Literal["contains", "starts", "ends", "equals"]
_FUNC: dict[str, FuncName] = {"contains": FuncName.CONTAINS, "starts": FuncName.STARTS_WITH,
                              "ends": FuncName.ENDS_WITH}
_MIRROR = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "<>": "<>", "!=": "!="}
# functions whose value is always text (or NULL), whatever their arguments hold
_TEXT_FUNCS = (FuncName.LOWER, FuncName.UPPER, FuncName.TRIM, FuncName.REPLACE, FuncName.CONCAT)
# INTEGER texts this long or shorter are exactly the integers they read as
_MAX_INT_DIGITS = 15


def normalized(e: ir.Expr, dialect: Dialect) -> ir.Expr:
    """`e` in the normal form of string predicates (module doc), or `e` itself where it is not
    one of them or a rewrite would not be exact."""
    if isinstance(e, ir.Func) and e.name in (FuncName.LIKE, FuncName.LIKE_CS, FuncName.GLOB):
        return _pattern(e, dialect) or e
    if isinstance(e, ir.Cmp):
        return _comparison(e, dialect) or e
    return e


# ----------------------------------------------------------------------------- LIKE and GLOB
def _pattern(e: ir.Func, dialect: Dialect) -> ir.Expr | None:
    x, pat, esc = e.args
    if not (isinstance(pat, ir.Lit) and isinstance(pat.value, str) and isinstance(esc, ir.Lit)):
        return None
    if e.name == FuncName.GLOB:
        if dialect == Dialect.DUCKDB and "\\" in pat.value:
            return None
        shape = _shape(pat.value, None, any_="*", one="?", special="[")
    else:
        shape = _shape(pat.value, esc.value, any_="%", one="_", special="")
    if shape is None:
        return None
    where, c = shape
    if e.name != FuncName.LIKE or _case_free(c, dialect):
        return _form(where, x, c, dialect)
    if dialect != Dialect.SQLITE:
        return None  # DuckDB's ILIKE with letters: it folds more than ASCII
    return _folded_like(where, x, c)


def _shape(pattern: str, escape: str | None, any_: str, one: str, special: str) -> tuple[Where, str] | None:
    """(where, c) for a pattern `c`, `c<any>`, `<any>c` or `<any>c<any>` (runs of `<any>`
    count as one; an empty c always as "contains"), or None for any other pattern.

        >>> _shape("%%a\\\\%b%", "\\\\", "%", "_", "")
        ('contains', 'a%b')
        >>> _shape("a_b", None, "%", "_", "") is None
        True
    """
    if escape is not None and len(escape) != 1:
        return None
    lead = trail = False
    chars: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if escape is not None and ch == escape:
            if i + 1 == len(pattern) or trail:
                return None  # a pattern ending in its escape character, or a constant after `c%`
            chars.append(pattern[i + 1])
            i += 2
            continue
        if ch == one or (special and ch in special):
            return None
        if ch == any_:
            trail, lead = trail or bool(chars), lead or not chars
        elif trail:
            return None  # a constant after the wildcard that follows another constant
        else:
            chars.append(ch)
        i += 1
    c = "".join(chars)
    if lead and not c:
        return "contains", ""
    if lead and trail:
        return "contains", c
    return ("ends" if lead else "starts" if trail else "equals"), c


def _case_free(c: str, dialect: Dialect) -> bool:
    """Folding case cannot change which texts contain `c`: SQLite folds ASCII letters only;
    DuckDB's ILIKE folds every letter, so there `c` must be ASCII."""
    if dialect == Dialect.SQLITE:
        return not any(ch.isascii() and ch.isalpha() for ch in c)
    return all(ch.isascii() and not ch.isalpha() for ch in c)


def _folded_like(where: Where, x: ir.Expr, c: str) -> ir.Expr:
    """SQLite's case-folding LIKE in its normal form: lower-case pattern, no LOWER/UPPER on `x`."""
    while isinstance(x, ir.Func) and x.name in (FuncName.LOWER, FuncName.UPPER):
        x = x.args[0]
    lit = _ascii_lower(c)
    escape = "\\" if any(ch in "%_\\" for ch in lit) else None
    body = "".join("\\" + ch if escape and ch in "%_\\" else ch for ch in lit)
    pattern = {"contains": f"%{body}%", "starts": f"{body}%", "ends": f"%{body}", "equals": body}[where]
    return ir.Func(FuncName.LIKE, (x, ir.Lit(pattern, "text"), ir.Lit(escape, "text")), "bool")


def _form(where: Where, x: ir.Expr, c: str, dialect: Dialect) -> ir.Expr | None:
    """The case-sensitive normal form of "`x` <where> `c`", or None where it is not exact."""
    if where == "equals":
        return _text_equals(x, c, dialect)
    if dialect == Dialect.SQLITE and isinstance(x, ir.Func) and x.name == FuncName.LOWER and _lower_letters(c):
        return _folded_like(where, x.args[0], c)  # LOWER(y) holds c: y LIKE c, folded
    name = _FUNC["contains" if not c else where]
    return ir.Func(name, (x, ir.Lit(c, "text")), "bool")


def _text_equals(x: ir.Expr, c: str, dialect: Dialect, op: str = "=") -> ir.Expr | None:
    """`x = c` as the front end writes it, where `x` always holds text (module doc)."""
    if isinstance(x, ir.Func) and x.name == FuncName.INT2TEXT:
        n = _canonical_int(c)
        if n is not None:
            return ir.Cmp(op, x.args[0], ir.Lit(n, "int"), CmpMode.NUM)
        return ir.Cmp(op, x, ir.Lit(c, "text"), CmpMode.TEXT)
    always_text = (isinstance(x, (ir.Col, ir.Outer)) and x.kind == "text"
                   and (x.affinity == "TEXT" or dialect == Dialect.DUCKDB)) \
        or (isinstance(x, ir.Func) and x.name in _TEXT_FUNCS)
    if not always_text:
        return None
    if dialect == Dialect.SQLITE and isinstance(x, ir.Func) and x.name == FuncName.LOWER and _lower_letters(c) \
            and op == "=":
        return _folded_like("equals", x.args[0], c)
    return ir.Cmp(op, x, ir.Lit(c, "text"), CmpMode.TEXT)


def _ascii_lower(c: str) -> str:
    """`c` with its ASCII letters in lower case (SQLite's LIKE and LOWER touch no other).

        >>> _ascii_lower("AbÉ")
        'abÉ'
    """
    return "".join(ch.lower() if ch.isascii() else ch for ch in c)


def _lower_letters(c: str) -> bool:
    """`c` holds ASCII letters, all in lower case: LOWER(y) can hold it, as y folded can."""
    return any(ch.isascii() and ch.isalpha() for ch in c) and c == _ascii_lower(c)


def _canonical_int(c: str) -> int | None:
    """The integer whose decimal text is exactly `c` (no sign '+', no leading zero), if any.

        >>> _canonical_int("-12"), _canonical_int("012"), _canonical_int("1.0"), _canonical_int("0")
        (-12, None, None, 0)
    """
    digits = c[1:] if c.startswith("-") else c
    if not (digits.isascii() and digits.isdigit()) or len(digits) > _MAX_INT_DIGITS:
        return None
    if (digits.startswith("0") and digits != "0") or c == "-0":
        return None
    return int(c)


# ----------------------------------------------------------------------------- comparisons
def _comparison(e: ir.Cmp, dialect: Dialect) -> ir.Expr | None:
    a, b, op = e.left, e.right, e.op
    if isinstance(a, ir.Lit) and not isinstance(b, ir.Lit):
        a, b, op = b, a, _MIRROR[op]
    if not isinstance(b, ir.Lit) or b.value is None or not isinstance(a, ir.Func):
        return None
    if a.name == FuncName.INSTR and e.mode == CmpMode.NUM:
        return _instr(a, op, b, dialect)
    if a.name == FuncName.SUBSTR and e.mode == CmpMode.TEXT and op in ("=", "<>", "!="):
        form = _substr(a, b.value, dialect)
        return None if form is None else form if op == "=" else ir.Not(form)
    if a.name == FuncName.INT2TEXT and e.mode == CmpMode.TEXT and op in ("=", "<>", "!="):
        n = _canonical_int(b.value)
        return None if n is None else ir.Cmp(op, a.args[0], ir.Lit(n, "int"), CmpMode.NUM)
    if a.name == FuncName.LOWER and e.mode == CmpMode.TEXT and op == "=" and dialect == Dialect.SQLITE:
        return _text_equals(a, b.value, dialect)
    return None


def _instr(f: ir.Func, op: str, k: ir.Lit, dialect: Dialect) -> ir.Expr | None:
    """`INSTR(x, c) <op> k`: > 0, >= 1, <> 0 test that c occurs; = 0, < 1, <= 0 that it does
    not; = 1 that x starts with c (<> 1: that it does not)."""
    x, t = f.args
    if not (isinstance(t, ir.Lit) and isinstance(t.value, str)) or k.kind != "int" or isinstance(k.value, bool):
        return None
    sign = {(">", 0): True, (">=", 1): True, ("<>", 0): True, ("!=", 0): True,
            ("=", 0): False, ("<", 1): False, ("<=", 0): False}.get((op, k.value))
    if sign is None and not (k.value == 1 and op in ("=", "<>", "!=")):
        return None
    form = _form("contains" if sign is not None else "starts", x, t.value, dialect)
    assert form is not None  # only "equals" may be refused
    return form if sign or (sign is None and op == "=") else ir.Not(form)


def _substr(f: ir.Func, c: str, dialect: Dialect) -> ir.Expr | None:
    """`SUBSTR(x, 1, len(c)) = c` is "starts with c"; `SUBSTR(x, -len(c)[, len(c)]) = c` "ends
    with c" (a shorter x gives all of x, which is not c)."""
    x, start, *rest = f.args
    length = rest[0] if rest else None
    if not isinstance(start, ir.Lit) or start.kind != "int" or start.value is None:
        return None
    if length is not None and (not isinstance(length, ir.Lit) or length.kind != "int" or length.value is None):
        return None
    n = len(c)
    if start.value == 1 and length is not None and length.value == n:
        return _form("starts", x, c, dialect)
    if n >= 1 and start.value == -n and (length is None or length.value == n):
        return _form("ends", x, c, dialect)
    return None
