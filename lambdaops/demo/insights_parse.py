"""Logs Insights query text -> a validated pipeline of commands (syntax only; insights_eval runs it).

Everything the demo engine cannot run is rejected here with ``MalformedQueryException`` naming the
token and its line/column, so StartQuery fails up front the way AWS does instead of a query
silently answering something else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lambdaops.demo.api_errors import DemoApiError
from lambdaops.demo.insights_regex import branch_literals, literal_prefix, required_literals

COMMANDS = ("fields", "display", "filter", "where", "stats", "sort", "limit", "dedup", "parse")  # where = filter
# Real Insights commands the demo does not implement: named as such rather than "unknown".
UNSUPPORTED_COMMANDS = ("source", "unmask", "pattern", "diff", "anomaly", "filterindex", "lookup", "join",
                        "unnest", "fieldsummary")
# name -> (min args, max args or None for any number)
SCALAR_FUNCS = {
    "abs": (1, 1), "ceil": (1, 1), "floor": (1, 1), "round": (1, 2),
    "strlen": (1, 1), "toupper": (1, 1), "tolower": (1, 1), "concat": (1, None), "substr": (2, 3),
    "replace": (3, 3), "strcontains": (2, 2),
    "ispresent": (1, 1), "isempty": (1, 1), "isblank": (1, 1), "coalesce": (1, None),
    "datefloor": (2, 2), "bin": (1, 1), "frommillis": (1, 1), "tomillis": (1, 1),
    "greatest": (1, None), "least": (1, None),
    # natural log and square root ("Numeric operators", CloudWatch Logs Insights query syntax)
    "log": (1, 1), "sqrt": (1, 1),
}
AGG_FUNCS = {
    "count": (0, 1), "count_distinct": (1, 1), "sum": (1, 1), "avg": (1, 1), "min": (1, 1), "max": (1, 1),
    "pct": (2, 2), "stddev": (1, 1), "earliest": (1, 1), "latest": (1, 1),
}
# Calendar units (mo, q, y) are not fixed lengths; the demo only bins by fixed periods.
PERIOD_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
MAX_LIMIT = 10_000

_WS = re.compile(r"(?:\s+|#[^\n]*)+")
_NUM = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"[A-Za-z_]\w*")
_IDENT = re.compile(r"[A-Za-z_@$][\w@$.]*")
_OPS = ("=~", "!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "%", "^")
_PUNCT = "|,()[]"
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}
# Java-style named groups; the names may hold characters Python's re refuses (e.g. "@transId").
_NAMED_GROUP = re.compile(r"(?<!\\)\(\?<([A-Za-z_@$][\w@$.]*)>")
_REGEX_META = set("\\^$.|?*+()[]{}")


def malformed(message: str) -> DemoApiError:
    return DemoApiError("MalformedQueryException", message)


# ---------------------------------------------------------------------------------------------
# syntax tree: expressions compare structurally (src, the text as written, is only a display name)

@dataclass(frozen=True)
class Node:
    src: str = field(default="", compare=False, repr=False, kw_only=True)


@dataclass(frozen=True)
class Lit(Node):
    value: float | str


@dataclass(frozen=True)
class Period(Node):
    ms: int


@dataclass(frozen=True)
class Regex(Node):
    pattern: str  # the literal as written between the slashes
    rx: re.Pattern = field(compare=False, repr=False)
    groups: tuple = field(default=(), compare=False, repr=False)  # (python group, field name)
    prefix: str = field(default="", compare=False, repr=False)  # literal every match contains
    literals: tuple = field(default=(), compare=False, repr=False)  # all the literals every match contains
    any_of: tuple = field(default=(), compare=False, repr=False)  # top-level alternation: one per branch


@dataclass(frozen=True)
class Field(Node):
    name: str


@dataclass(frozen=True)
class Star(Node):
    pass


@dataclass(frozen=True)
class Call(Node):
    name: str  # lower case
    args: tuple


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "not" | "-"
    arg: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str  # arithmetic, comparison, "and", "or"
    left: Node
    right: Node


@dataclass(frozen=True)
class Like(Node):
    arg: Node
    pattern: Lit | Regex
    negate: bool = False


@dataclass(frozen=True)
class In(Node):
    arg: Node
    values: tuple
    negate: bool = False


def key(node: Node) -> str:
    """Identity of an expression across commands: ``sort bin(5m)`` finds the column ``stats ... by
    bin(5m)`` produced however either was spaced or cased."""
    return repr(node)


def walk(node: Node):
    yield node
    for child in _children(node):
        yield from walk(child)


def _children(node: Node) -> tuple:
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Unary):
        return (node.arg,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, (Like, In)):
        return (node.arg,)
    return ()


# ---------------------------------------------------------------------------------------------
# commands

@dataclass(frozen=True)
class Fields:
    items: tuple  # (expr, output name)


@dataclass(frozen=True)
class Display:
    items: tuple  # (expr, output name)


@dataclass(frozen=True)
class Filter:
    expr: Node


@dataclass(frozen=True)
class Stats:
    aggs: tuple  # (expr, output name)
    by: tuple  # (expr, output name)


@dataclass(frozen=True)
class Sort:
    keys: tuple  # (expr, descending)


@dataclass(frozen=True)
class Limit:
    n: int


@dataclass(frozen=True)
class Dedup:
    items: tuple  # expressions


@dataclass(frozen=True)
class Parse:
    source: Node
    pattern: Regex  # glob patterns are compiled to a regex too


@dataclass(frozen=True)
class CompiledQuery:
    text: str
    commands: tuple

    @property
    def has_stats(self) -> bool:
        return any(isinstance(c, Stats) for c in self.commands)


# ---------------------------------------------------------------------------------------------
# lexer: driven by the parser, because "/" is a regex where an operand is expected and division
# elsewhere

@dataclass(frozen=True)
class Token:
    kind: str  # word | field | number | period | string | regex | op | punct | eof
    text: str  # as written
    value: object
    pos: int
    end: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.value.lower() in words


def _where(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"line {line}, column {col}"


def _describe(tok: Token) -> str:
    return "end of query" if tok.kind == "eof" else repr(tok.text)


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.last_end = 0
        self._cache: tuple | None = None

    def error(self, pos: int, message: str) -> DemoApiError:
        return malformed(f"{message} at {_where(self.text, pos)}")

    def peek(self, regex: bool = False) -> Token:
        if self._cache and self._cache[0] == (self.pos, regex):
            return self._cache[1]
        tok = self._lex(regex)
        self._cache = ((self.pos, regex), tok)
        return tok

    def next(self, regex: bool = False) -> Token:
        tok = self.peek(regex)
        self.pos = tok.end
        if tok.kind != "eof":
            self.last_end = tok.end
        return tok

    def _lex(self, regex: bool) -> Token:
        text = self.text
        m = _WS.match(text, self.pos)
        pos = m.end() if m else self.pos
        if pos >= len(text):
            return Token("eof", "", None, pos, pos)
        ch = text[pos]
        if ch in "\"'":
            return self._string(pos, ch)
        if ch == "`":
            close = text.find("`", pos + 1)
            if close < 0:
                raise self.error(pos, "unterminated backquoted field name")
            return Token("field", text[pos:close + 1], text[pos + 1:close], pos, close + 1)
        if ch == "/" and regex:
            return self._regex(pos)
        if ch.isdigit():
            num = _NUM.match(text, pos)
            end, raw = num.end(), num.group()
            unit = _WORD.match(text, end)
            value = int(raw) if raw.isdigit() else float(raw)
            if unit:
                u = unit.group()
                if u not in PERIOD_MS:
                    raise self.error(pos, f"invalid number or time period {text[pos:unit.end()]!r} (time units "
                                          f"supported: {', '.join(PERIOD_MS)})")
                ms = value * PERIOD_MS[u]
                if ms <= 0 or ms != int(ms):
                    raise self.error(pos, f"invalid time period {text[pos:unit.end()]!r}")
                return Token("period", text[pos:unit.end()], int(ms), pos, unit.end())
            return Token("number", raw, value, pos, end)
        ident = _IDENT.match(text, pos)
        if ident:
            return Token("word", ident.group(), ident.group(), pos, ident.end())
        for op in _OPS:
            if text.startswith(op, pos):
                return Token("op", op, op, pos, pos + len(op))
        if ch in _PUNCT:
            return Token("punct", ch, ch, pos, pos + 1)
        raise self.error(pos, f"unexpected character {ch!r}")

    def _string(self, pos: int, quote: str) -> Token:
        text, i, out = self.text, pos + 1, []
        while i < len(text):
            c = text[i]
            if c == "\\" and i + 1 < len(text):
                out.append(_ESCAPES.get(text[i + 1], "\\" + text[i + 1]))
                i += 2
                continue
            if c == quote:
                return Token("string", text[pos:i + 1], "".join(out), pos, i + 1)
            out.append(c)
            i += 1
        raise self.error(pos, "unterminated string literal")

    def _regex(self, pos: int) -> Token:
        text, i = self.text, pos + 1
        while i < len(text):
            c = text[i]
            if c == "\\":
                i += 2
                continue
            if c == "/":
                return Token("regex", text[pos:i + 1], text[pos + 1:i].replace("\\/", "/"), pos, i + 1)
            if c == "\n":
                break
            i += 1
        raise self.error(pos, "unterminated regular expression (missing closing '/')")


# ---------------------------------------------------------------------------------------------
# parser

def compile_regex(source: str, where: str) -> Regex:
    groups: list[tuple[str, str]] = []

    def rename(m: re.Match) -> str:
        py = f"g{len(groups)}"
        groups.append((py, m.group(1)))
        return f"(?P<{py}>"

    py_source = _NAMED_GROUP.sub(rename, source)
    try:
        rx = re.compile(py_source, re.DOTALL)
    except re.error as err:
        raise malformed(f"invalid regular expression /{source}/ at {where}: {err}") from None
    return Regex(source, rx=rx, groups=tuple(groups), prefix=literal_prefix(source), literals=required_literals(source),
                 any_of=branch_literals(source), src=f"/{source}/")


def _glob_regex(glob: str, names: list[str], where: str) -> Regex:
    parts = glob.split("*")
    if len(parts) - 1 != len(names):
        raise malformed(f"parse pattern {glob!r} at {where} has {len(parts) - 1} '*' but {len(names)} field "
                        f"name(s) after 'as'")
    body = []
    for i, part in enumerate(parts):
        body.append(re.escape(part))
        if i < len(names):
            # the last wildcard of a pattern ending in '*' takes the rest of the value
            greedy = i == len(names) - 1 and parts[-1] == ""
            body.append(f"(?P<g{i}>.*)" if greedy else f"(?P<g{i}>.*?)")
    rx = re.compile("".join(body), re.DOTALL)
    return Regex(glob, rx=rx, groups=tuple((f"g{i}", n) for i, n in enumerate(names)), prefix=parts[0],
                 src=repr(glob))


class _Parser:
    def __init__(self, text: str) -> None:
        self.lx = _Lexer(text)
        self.text = text

    def error(self, tok: Token, message: str) -> DemoApiError:
        return self.lx.error(tok.pos, message)

    def expect(self, text: str, what: str) -> Token:
        tok = self.lx.next()
        if tok.text != text or tok.kind not in ("punct", "op"):
            raise self.error(tok, f"expected {text!r} {what}, found {_describe(tok)}")
        return tok

    # -- pipeline ------------------------------------------------------------------------------
    def query(self) -> list:
        commands = []
        while True:
            tok = self.lx.next()
            if tok.kind == "eof":
                raise self.error(tok, "empty query" if not commands else "empty command after '|'")
            if tok.kind == "punct" and tok.text == "|":
                raise self.error(tok, "empty command before '|'")
            commands.append(self.command(tok))
            tok = self.lx.next()
            if tok.kind == "eof":
                return commands
            if not (tok.kind == "punct" and tok.text == "|"):
                raise self.error(tok, f"unexpected {_describe(tok)} after {type(commands[-1]).__name__.lower()} "
                                      f"command (expected '|' or end of query)")

    def command(self, tok: Token):
        word = tok.value.lower() if tok.kind == "word" else None
        if word in UNSUPPORTED_COMMANDS:
            raise self.error(tok, f"command {tok.text!r} is not supported by the demo account (supported: "
                                  f"{', '.join(COMMANDS)})")
        if word not in COMMANDS:
            raise self.error(tok, f"unknown command {_describe(tok)} (expected one of {', '.join(COMMANDS)})")
        return getattr(self, "cmd_" + word)()

    def cmd_fields(self) -> Fields:
        return Fields(tuple(self.named_list(allow_alias=True)))

    def cmd_display(self) -> Display:
        return Display(tuple(self.named_list(allow_alias=False)))

    def cmd_filter(self) -> Filter:
        return Filter(self.expr())

    cmd_where = cmd_filter

    def cmd_stats(self) -> Stats:
        aggs = self.named_list(allow_alias=True)
        by = []
        if self.lx.peek().is_word("by"):
            self.lx.next()
            by = self.named_list(allow_alias=True)
        return Stats(tuple(aggs), tuple(by))

    def cmd_sort(self) -> Sort:
        keys = []
        while True:
            expr = self.expr()
            desc = False
            nxt = self.lx.peek()
            if nxt.is_word("asc", "desc"):
                desc = self.lx.next().value.lower() == "desc"
            keys.append((expr, desc))
            if not self.comma():
                return Sort(tuple(keys))

    def cmd_limit(self) -> Limit:
        num = self.lx.next()
        if num.kind != "number" or not isinstance(num.value, int) or not 1 <= num.value <= MAX_LIMIT:
            raise self.error(num, f"limit takes a whole number from 1 to {MAX_LIMIT}, found {_describe(num)}")
        return Limit(num.value)

    def cmd_dedup(self) -> Dedup:
        items = []
        for expr, _ in self.named_list(allow_alias=False):
            if not isinstance(expr, Field):
                raise malformed(f"dedup takes field names, not the expression {expr.src!r}")
            items.append(expr)
        return Dedup(tuple(items))

    def cmd_parse(self) -> Parse:
        nxt = self.lx.peek(regex=True)
        source: Node = Field("@message", src="@message")
        if nxt.kind not in ("string", "regex"):
            source = self.primary()
            nxt = self.lx.peek(regex=True)
        pat = self.lx.next(regex=True)
        where = _where(self.text, pat.pos)
        if pat.kind == "regex":
            if self.lx.peek().is_word("as"):
                raise self.error(self.lx.peek(), "parse with a regular expression names its fields with "
                                                 "(?<name>...) groups, not 'as'")
            rx = compile_regex(pat.value, where)
            if not rx.groups:
                raise self.error(pat, f"parse regular expression {pat.text} has no named group (?<name>...)")
            return Parse(source, rx)
        if pat.kind != "string":
            raise self.error(pat, f"parse expects a \"glob * pattern\" or a /regex/, found {_describe(pat)}")
        as_tok = self.lx.next()
        if not as_tok.is_word("as"):
            raise self.error(as_tok, f"expected 'as' and field names after the parse pattern, found "
                                     f"{_describe(as_tok)}")
        names = []
        while True:
            names.append(self.name())
            if not self.comma():
                break
        return Parse(source, _glob_regex(pat.value, names, where))

    # -- lists and names -----------------------------------------------------------------------
    def comma(self) -> bool:
        tok = self.lx.peek()
        if tok.kind == "punct" and tok.text == ",":
            self.lx.next()
            return True
        return False

    def name(self) -> str:
        tok = self.lx.next()
        if tok.kind == "field" or (tok.kind == "word" and not tok.is_word(*_RESERVED)):
            return tok.value
        raise self.error(tok, f"expected a field name, found {_describe(tok)}")

    def named_list(self, allow_alias: bool) -> list[tuple[Node, str]]:
        items = []
        while True:
            expr = self.expr()
            name = expr.name if isinstance(expr, Field) else expr.src
            if self.lx.peek().is_word("as"):
                as_tok = self.lx.next()
                if not allow_alias:
                    raise self.error(as_tok, "'as' is not allowed here")
                name = self.name()
            items.append((expr, name))
            if not self.comma():
                return items

    # -- expressions (lowest precedence first) -------------------------------------------------
    def _finish(self, node: Node, start: int) -> Node:
        object.__setattr__(node, "src", self.text[start:self.lx.last_end].strip())
        return node

    def expr(self) -> Node:
        start = self.lx.peek(regex=True).pos
        node = self.and_expr()
        while self.lx.peek().is_word("or"):
            self.lx.next()
            node = self._finish(Binary("or", node, self.and_expr()), start)
        return node

    def and_expr(self) -> Node:
        start = self.lx.peek(regex=True).pos
        node = self.not_expr()
        while self.lx.peek().is_word("and"):
            self.lx.next()
            node = self._finish(Binary("and", node, self.not_expr()), start)
        return node

    def not_expr(self) -> Node:
        tok = self.lx.peek(regex=True)
        if tok.is_word("not"):
            self.lx.next()
            return self._finish(Unary("not", self.not_expr()), tok.pos)
        return self.comparison()

    def comparison(self) -> Node:
        start = self.lx.peek(regex=True).pos
        left = self.additive()
        tok = self.lx.peek()
        negate = False
        if tok.is_word("not"):
            self.lx.next()
            tok = self.lx.peek()
            if not tok.is_word("like", "in"):
                raise self.error(tok, f"expected 'like' or 'in' after 'not', found {_describe(tok)}")
            negate = True
        if tok.is_word("like"):
            self.lx.next()
            pat = self.lx.next(regex=True)
            if pat.kind == "string":
                pattern = Lit(pat.value, src=pat.text)
            elif pat.kind == "regex":
                pattern = compile_regex(pat.value, _where(self.text, pat.pos))
            else:
                raise self.error(pat, f"like expects a \"string\" or a /regex/, found {_describe(pat)}")
            return self._finish(Like(left, pattern, negate), start)
        if tok.is_word("in"):
            self.lx.next()
            return self._finish(In(left, self.literal_list(), negate), start)
        if tok.kind == "op" and tok.text == "=~":
            self.lx.next()
            pat = self.lx.next(regex=True)
            if pat.kind != "regex":
                raise self.error(pat, f"=~ expects a /regex/, found {_describe(pat)}")
            pattern = compile_regex(pat.value, _where(self.text, pat.pos))
            return self._finish(Like(left, pattern), start)
        if tok.kind == "op" and tok.text in ("=", "!=", "<", "<=", ">", ">="):
            self.lx.next()
            return self._finish(Binary(tok.text, left, self.additive()), start)
        return left

    def literal_list(self) -> tuple:
        self.expect("[", "after 'in'")
        values = []
        while True:
            tok = self.lx.next()
            sign = 1
            if tok.kind == "op" and tok.text == "-":
                sign, tok = -1, self.lx.next()
            if tok.kind == "string" and sign == 1:
                values.append(tok.value)
            elif tok.kind == "number":
                values.append(sign * tok.value)
            else:
                raise self.error(tok, f"'in [...]' takes string or number literals, found {_describe(tok)}")
            tok = self.lx.next()
            if tok.kind == "punct" and tok.text == "]":
                return tuple(values)
            if not (tok.kind == "punct" and tok.text == ","):
                raise self.error(tok, f"expected ',' or ']' in the 'in' list, found {_describe(tok)}")

    def additive(self) -> Node:
        start = self.lx.peek(regex=True).pos
        node = self.term()
        while (tok := self.lx.peek()).kind == "op" and tok.text in ("+", "-"):
            self.lx.next()
            node = self._finish(Binary(tok.text, node, self.term()), start)
        return node

    def term(self) -> Node:
        start = self.lx.peek(regex=True).pos
        node = self.unary()
        while (tok := self.lx.peek()).kind == "op" and tok.text in ("*", "/", "%"):
            self.lx.next()
            node = self._finish(Binary(tok.text, node, self.unary()), start)
        return node

    def unary(self) -> Node:
        tok = self.lx.peek(regex=True)
        if tok.kind == "op" and tok.text == "-":
            self.lx.next()
            return self._finish(Unary("-", self.unary()), tok.pos)
        node = self.primary()
        nxt = self.lx.peek()
        if nxt.kind == "op" and nxt.text == "^":
            self.lx.next()
            node = self._finish(Binary("^", node, self.unary()), tok.pos)
        return node

    def primary(self) -> Node:
        tok = self.lx.next(regex=True)
        if tok.kind == "number":
            return Lit(float(tok.value), src=tok.text)
        if tok.kind == "string":
            return Lit(tok.value, src=tok.text)
        if tok.kind == "period":
            return Period(tok.value, src=tok.text)
        if tok.kind == "regex":
            raise self.error(tok, f"a regular expression {tok.text} is only allowed after 'like', '=~' or in parse")
        if tok.kind == "field":
            return Field(tok.value, src=tok.text)
        if tok.kind == "punct" and tok.text == "(":
            node = self.expr()
            self.expect(")", f"to close the '(' at {_where(self.text, tok.pos)}")
            return node
        if tok.kind == "op" and tok.text == "*":
            return Star(src="*")
        if tok.kind == "word" and not tok.is_word(*_RESERVED):
            nxt = self.lx.peek()
            if nxt.kind == "punct" and nxt.text == "(":
                return self.call(tok)
            return Field(tok.value, src=tok.text)
        raise self.error(tok, f"expected a field, literal or function, found {_describe(tok)}")

    def call(self, name_tok: Token) -> Node:
        name = name_tok.value.lower()
        if name not in SCALAR_FUNCS and name not in AGG_FUNCS:
            raise self.error(name_tok, f"unknown or unsupported function {name_tok.value!r}")
        self.lx.next()  # (
        args = []
        tok = self.lx.peek(regex=True)
        if not (tok.kind == "punct" and tok.text == ")"):
            while True:
                args.append(self.expr())
                if not self.comma():
                    break
        self.expect(")", f"to close {name_tok.value}( at {_where(self.text, name_tok.pos)}")
        return self._finish(Call(name, tuple(args)), name_tok.pos)


_RESERVED = ("and", "or", "not", "like", "in", "as", "by", "asc", "desc")


# ---------------------------------------------------------------------------------------------
# validation: what parses but cannot run

def _check_call(call: Call, ctx: str, stats_keys: set) -> None:
    name = call.name
    if name in AGG_FUNCS:
        if ctx != "agg_item":
            if key(call) in stats_keys:
                return  # refers to a column an earlier stats produced
            where = "inside another aggregation" if ctx == "agg_arg" else "outside stats"
            raise malformed(f"aggregation function {call.src!r} is not allowed {where}")
    lo, hi = AGG_FUNCS.get(name) or SCALAR_FUNCS[name]
    if not lo <= len(call.args) <= (hi if hi is not None else len(call.args)):
        want = f"{lo}" if lo == hi else f"{lo} or more" if hi is None else f"{lo} to {hi}"
        raise malformed(f"{name}() takes {want} argument(s): {call.src!r}")
    args = call.args
    for i, arg in enumerate(args):
        if isinstance(arg, Star) and not (name == "count" and i == 0):
            raise malformed(f"'*' is only allowed as count(*): {call.src!r}")
        if isinstance(arg, Period) and not ((name == "bin" and i == 0) or (name == "datefloor" and i == 1)):
            raise malformed(f"the time period {arg.src!r} is only allowed in bin() or datefloor(): {call.src!r}")
    if name == "bin" and not isinstance(args[0], Period):
        raise malformed(f"bin() takes a time period such as 5m: {call.src!r}")
    if name == "datefloor" and not isinstance(args[1], Period):
        raise malformed(f"datefloor() takes a time period such as 5m as its second argument: {call.src!r}")
    if name == "pct" and not (isinstance(args[1], Lit) and isinstance(args[1].value, float)
                              and 0 <= args[1].value <= 100):
        raise malformed(f"pct() takes a percentile from 0 to 100 as its second argument: {call.src!r}")
    if name == "round" and len(args) == 2 and not (isinstance(args[1], Lit) and isinstance(args[1].value, float)
                                                   and args[1].value.is_integer()):
        raise malformed(f"round() takes a whole number of digits as its second argument: {call.src!r}")


def _check_expr(node: Node, ctx: str, stats_keys: set) -> bool:
    """Validate ``node`` in a context (row | agg_item | agg_arg); True when it holds an aggregation."""
    if isinstance(node, Call):
        if ctx != "agg_item" and key(node) in stats_keys:
            return False
        _check_call(node, ctx, stats_keys)
        if node.name in AGG_FUNCS:
            for arg in node.args:
                if not isinstance(arg, Star):  # count(*), checked with the call
                    _check_expr(arg, "agg_arg", stats_keys)
            return True
        return any([_check_expr(a, ctx, stats_keys) for a in node.args if not isinstance(a, Period)])
    if isinstance(node, Star):
        raise malformed("'*' is only allowed as count(*)")
    if isinstance(node, Period):
        raise malformed(f"the time period {node.src!r} is only allowed in bin() or datefloor()")
    if isinstance(node, Field) and ctx == "agg_item":
        raise malformed(f"field {node.name!r} in stats must be inside an aggregation function such as "
                        f"count({node.name})")
    return any([_check_expr(c, ctx, stats_keys) for c in _children(node)])


def _validate(commands: list) -> None:
    stats_keys: set = set()
    after_dedup = False
    for cmd in commands:
        if after_dedup and not isinstance(cmd, Limit):
            raise malformed(f"only limit may follow dedup, found {type(cmd).__name__.lower()}")
        after_dedup = after_dedup or isinstance(cmd, Dedup)
        if isinstance(cmd, Stats):
            for expr, name in cmd.aggs:
                if not _check_expr(expr, "agg_item", stats_keys):
                    raise malformed(f"stats item {expr.src!r} has no aggregation function such as count(*)")
            for expr, _ in cmd.by:
                _check_expr(expr, "row", stats_keys)
            stats_keys = {key(e) for e, _ in cmd.aggs + cmd.by}
        elif isinstance(cmd, (Fields, Display, Sort, Dedup, Filter, Parse)):
            exprs = ([e for e, _ in cmd.items] if isinstance(cmd, (Fields, Display)) else
                     [e for e, _ in cmd.keys] if isinstance(cmd, Sort) else
                     list(cmd.items) if isinstance(cmd, Dedup) else
                     [cmd.expr] if isinstance(cmd, Filter) else [cmd.source])
            for e in exprs:
                _check_expr(e, "row", stats_keys)


def parse_query(text: str) -> CompiledQuery:
    commands = _Parser(text).query()
    _validate(commands)
    return CompiledQuery(text, tuple(commands))
