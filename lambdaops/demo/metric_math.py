"""CloudWatch metric math for the demo account: a tokenizer, a recursive-descent parser, and an
evaluator over numpy time series.

A value is a number, a ``Series`` (sorted period timestamps with values; missing periods are
simply absent, as in CloudWatch) or a ``SeriesArray`` (what ``METRICS()`` or ``[a, b]`` yields).
Series arithmetic keeps only timestamps present on both sides, scalars broadcast, and any
non-finite result (division by zero, log of a negative) drops that datapoint.

Syntax and unknown-name errors raise ``DemoApiError("ValidationError", ...)`` naming the query Id
and the 1-based column, so a client bug is reported instead of turning into an empty graph.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Callable, NamedTuple, Union

import numpy as np

from lambdaops.demo.api_errors import DemoApiError

MAX_EXPRESSION_LENGTH = 2048

# Functions CloudWatch has that the demo account does not evaluate: named apart from typos so the
# error says "not supported" rather than "unknown".
UNSUPPORTED_FUNCTIONS = frozenset({
    "SEARCH", "ANOMALY_DETECTION_BAND", "INSIGHT_RULE_METRIC", "SERVICE_QUOTA", "LAMBDA",
    "DB_PERF_INSIGHTS", "CONCAT", "SLICE", "TIME_SERIES", "DATAPOINT_COUNT", "METRIC_COUNT",
    "MINUTE", "HOUR", "DAY", "DATE", "MONTH", "YEAR", "EPOCH", "SELECT",
})


@dataclass(frozen=True)
class Series:
    ts_ms: np.ndarray  # int64, sorted, unique
    values: np.ndarray  # float64, finite
    label: str
    period_s: int

    def with_points(self, ts_ms: np.ndarray, values: np.ndarray) -> "Series":
        keep = np.isfinite(values)
        return replace(self, ts_ms=ts_ms[keep], values=values[keep].astype(np.float64))


@dataclass(frozen=True)
class SeriesArray:
    items: tuple[Series, ...]


@dataclass(frozen=True)
class _Str:
    text: str


@dataclass(frozen=True)
class _Keyword:
    name: str


Value = Union[float, Series, SeriesArray]


@dataclass
class EvalContext:
    """What an expression can see: every already-computed query value by Id, the MetricStat
    query Ids in request order (for ``METRICS()``), and the request's period grid (for FILL)."""

    values: dict[str, Value]
    metric_ids: list[str]
    grid_ms: Callable[[int], np.ndarray]  # period seconds -> every period start in the range


# --------------------------------------------------------------------------------------------
# parsing
# --------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<str>"[^"]*"|'[^']*')
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>>=|<=|==|!=|&&|\|\||[-+*/^(),\[\]<>!])""",
    re.X,
)
_WORD_OPERATORS = {"AND": "&&", "OR": "||", "NOT": "!"}
_KEYWORDS = frozenset({"REPEAT", "LINEAR", "ASC", "DESC", "AVG", "MIN", "MAX", "SUM", "STDDEV"})


class _Tok(NamedTuple):
    kind: str  # num str name op end
    text: str
    pos: int  # 1-based column


class Node(NamedTuple):
    kind: str  # num str id kw call list bin neg not
    pos: int
    value: object = None
    args: tuple = ()


def _tokenize(text: str, query_id: str) -> list[_Tok]:
    tokens, i = [], 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if not m:
            raise _syntax(query_id, f"Unexpected character '{text[i]}'", i + 1)
        kind = m.lastgroup
        if kind != "ws":
            word = m.group()
            if kind == "name" and word in _WORD_OPERATORS:
                kind, word = "op", _WORD_OPERATORS[word]
            tokens.append(_Tok(kind, word, i + 1))
        i = m.end()
    tokens.append(_Tok("end", "", len(text) + 1))
    return tokens


def _syntax(query_id: str, what: str, pos: int) -> DemoApiError:
    return DemoApiError(
        "ValidationError", f"Error in expression {query_id}: {what} [column {pos}]."
    )


class _Parser:
    """Precedence, loosest first: OR, AND, NOT, comparison, + -, * /, unary minus, ^."""

    def __init__(self, text: str, query_id: str) -> None:
        self.query_id = query_id
        self.tokens = _tokenize(text, query_id)
        self.i = 0

    def peek(self) -> _Tok:
        return self.tokens[self.i]

    def take(self, *ops: str) -> _Tok | None:
        tok = self.peek()
        if tok.kind == "op" and tok.text in ops:
            self.i += 1
            return tok
        return None

    def expect(self, op: str) -> _Tok:
        tok = self.take(op)
        if tok is None:
            found = self.peek().text or "end of expression"
            raise _syntax(self.query_id, f"Expected '{op}' but found '{found}'", self.peek().pos)
        return tok

    def parse(self) -> Node:
        node = self.or_()
        if self.peek().kind != "end":
            raise _syntax(self.query_id, f"Unexpected '{self.peek().text}'", self.peek().pos)
        return node

    def _left_assoc(self, sub, ops) -> Node:
        node = sub()
        while tok := self.take(*ops):
            node = Node("bin", tok.pos, tok.text, (node, sub()))
        return node

    def or_(self) -> Node:
        return self._left_assoc(self.and_, ("||",))

    def and_(self) -> Node:
        return self._left_assoc(self.not_, ("&&",))

    def not_(self) -> Node:
        if tok := self.take("!"):
            return Node("not", tok.pos, None, (self.not_(),))
        return self.comparison()

    def comparison(self) -> Node:
        node = self.additive()
        if tok := self.take(">", "<", ">=", "<=", "==", "!="):
            node = Node("bin", tok.pos, tok.text, (node, self.additive()))
        return node

    def additive(self) -> Node:
        return self._left_assoc(self.multiplicative, ("+", "-"))

    def multiplicative(self) -> Node:
        return self._left_assoc(self.unary, ("*", "/"))

    def unary(self) -> Node:
        if tok := self.take("-"):
            return Node("neg", tok.pos, None, (self.unary(),))
        if self.take("+"):
            return self.unary()
        return self.power()

    def power(self) -> Node:
        node = self.primary()
        if tok := self.take("^"):
            node = Node("bin", tok.pos, "^", (node, self.unary()))
        return node

    def primary(self) -> Node:
        tok = self.peek()
        if tok.kind == "num":
            self.i += 1
            return Node("num", tok.pos, float(tok.text))
        if tok.kind == "str":
            self.i += 1
            return Node("str", tok.pos, tok.text[1:-1])
        if tok.kind == "name":
            self.i += 1
            if self.take("("):
                return Node("call", tok.pos, tok.text, self._items(")"))
            # Query Ids start with a lower-case letter; bare upper-case words are keywords such as
            # REPEAT in FILL(m, REPEAT) or DESC in SORT(...), checked where they are used.
            return Node("id" if tok.text[0].islower() else "kw", tok.pos, tok.text)
        if self.take("("):
            node = self.or_()
            self.expect(")")
            return node
        if self.take("["):
            return Node("list", tok.pos, None, self._items("]"))
        found = tok.text or "end of expression"
        raise _syntax(self.query_id, f"Unexpected '{found}'", tok.pos)

    def _items(self, close: str) -> tuple[Node, ...]:
        items: list[Node] = []
        if self.take(close):
            return ()
        while True:
            items.append(self.or_())
            if self.take(close):
                return tuple(items)
            self.expect(",")


@dataclass(frozen=True)
class Expression:
    query_id: str
    text: str
    root: Node
    references: tuple[str, ...] = ()  # Ids in order of first use
    uses_metrics: bool = False  # METRICS() depends on every MetricStat query

    def evaluate(self, ctx: EvalContext) -> Value:
        with np.errstate(all="ignore"):
            out = _Evaluator(self.query_id, ctx).eval(self.root)
        if isinstance(out, (_Str, _Keyword)):
            raise _syntax(self.query_id, "The expression must return a number or time series", 1)
        return out


def parse_expression(text: str, query_id: str, known_ids: Collection[str]) -> Expression:
    """Parse and check names: functions exist with the right arity, referenced Ids exist."""
    root = _Parser(text, query_id).parse()
    refs: list[str] = []
    uses_metrics = False

    def walk(node: Node) -> None:
        nonlocal uses_metrics
        if node.kind == "id":
            if node.value not in known_ids:
                raise _syntax(query_id, f"Unrecognized identifier '{node.value}'", node.pos)
            if node.value not in refs:
                refs.append(node.value)
        if node.kind == "kw" and node.value not in _KEYWORDS:
            raise _syntax(query_id, f"Unrecognized identifier '{node.value}'", node.pos)
        if node.kind == "call":
            name = node.value
            if name in UNSUPPORTED_FUNCTIONS:
                raise _syntax(query_id, f"Function {name} is not supported by the demo account",
                              node.pos)
            if name not in _FUNCTIONS:
                raise _syntax(query_id, f"Unrecognized function name '{name}'", node.pos)
            lo, hi = _FUNCTIONS[name][:2]
            if not lo <= len(node.args) <= hi:
                raise _syntax(query_id, f"Function {name} takes {_arity(lo, hi)} but was given "
                                        f"{len(node.args)}", node.pos)
            uses_metrics = uses_metrics or name == "METRICS"
        for child in node.args:
            walk(child)

    walk(root)
    return Expression(query_id, text, root, tuple(refs), uses_metrics)


def _arity(lo: int, hi: int) -> str:
    n = str(lo) if lo == hi else f"{lo} to {hi}"
    return f"{n} argument{'s' if hi != 1 else ''}"


# --------------------------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------------------------

_ARITHMETIC = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "^": np.power}
_COMPARE = {">": np.greater, "<": np.less, ">=": np.greater_equal, "<=": np.less_equal,
            "==": np.equal, "!=": np.not_equal}
_LOGIC = {"&&": np.logical_and, "||": np.logical_or}


def _binary_kernel(op: str):
    if op in _ARITHMETIC:
        return _ARITHMETIC[op]
    fn = _COMPARE.get(op) or _LOGIC[op]
    return lambda a, b: fn(a, b).astype(np.float64)


def _align(a: Series, b: Series):
    ts, ia, ib = np.intersect1d(a.ts_ms, b.ts_ms, assume_unique=True, return_indices=True)
    return ts, a.values[ia], b.values[ib]


def _lookup(series: Series, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values of ``series`` at ``ts`` and whether each timestamp is present."""
    if len(series.ts_ms) == 0:
        return np.zeros(len(ts)), np.zeros(len(ts), dtype=bool)
    pos = np.minimum(np.searchsorted(series.ts_ms, ts), len(series.ts_ms) - 1)
    return series.values[pos], series.ts_ms[pos] == ts


class _Evaluator:
    def __init__(self, query_id: str, ctx: EvalContext) -> None:
        self.query_id = query_id
        self.ctx = ctx

    def error(self, what: str, node: Node) -> DemoApiError:
        return _syntax(self.query_id, what, node.pos)

    def eval(self, node: Node):
        kind = node.kind
        if kind == "num":
            return float(node.value)
        if kind == "str":
            return _Str(node.value)
        if kind == "kw":
            return _Keyword(node.value)
        if kind == "id":
            return self.ctx.values[node.value]  # existence checked before evaluation
        if kind == "neg":
            return self.map(lambda v: -v, self.eval(node.args[0]), node)
        if kind == "not":
            return self.map(lambda v: (v == 0).astype(np.float64), self.eval(node.args[0]), node)
        if kind == "bin":
            left, right = (self.eval(a) for a in node.args)
            return self.binary(_binary_kernel(node.value), left, right, node)
        if kind == "list":
            items: list[Series] = []
            for arg in node.args:
                v = self.eval(arg)
                if isinstance(v, Series):
                    items.append(v)
                elif isinstance(v, SeriesArray):
                    items.extend(v.items)
                else:
                    raise self.error("An array may only contain time series", arg)
            return SeriesArray(tuple(items))
        if kind == "call":
            impl = _FUNCTIONS[node.value][2]
            return impl(self, node, [self.eval(a) for a in node.args])
        raise AssertionError(kind)

    # -- shape helpers ---------------------------------------------------------------------

    def numeric(self, v, node: Node):
        if isinstance(v, (_Str, _Keyword)):
            raise self.error(f"Unexpected '{getattr(v, 'name', getattr(v, 'text', ''))}'", node)
        return v

    def map(self, fn, v, node: Node):
        """Apply an element-wise numpy function to a number, series or each series of an array."""
        v = self.numeric(v, node)
        if isinstance(v, SeriesArray):
            return SeriesArray(tuple(self.map(fn, s, node) for s in v.items))
        if isinstance(v, Series):
            return v.with_points(v.ts_ms, fn(v.values))
        return float(fn(np.float64(v)))

    def binary(self, fn, left, right, node: Node):
        left, right = self.numeric(left, node), self.numeric(right, node)
        if isinstance(left, SeriesArray) and isinstance(right, SeriesArray):
            raise self.error("Cannot combine two arrays of time series", node)
        if isinstance(left, SeriesArray):
            return SeriesArray(tuple(self.binary(fn, s, right, node) for s in left.items))
        if isinstance(right, SeriesArray):
            return SeriesArray(tuple(self.binary(fn, left, s, node) for s in right.items))
        if isinstance(left, Series) and isinstance(right, Series):
            ts, a, b = _align(left, right)
            return left.with_points(ts, fn(a, b))
        if isinstance(left, Series):
            return left.with_points(left.ts_ms, fn(left.values, right))
        if isinstance(right, Series):
            return right.with_points(right.ts_ms, fn(left, right.values))
        return float(fn(np.float64(left), np.float64(right)))

    def series_arg(self, v, node: Node, what: str = "a time series") -> Series:
        if not isinstance(v, Series):
            raise self.error(f"{node.value} expects {what}", node)
        return v

    def array_arg(self, v, node: Node) -> SeriesArray:
        if isinstance(v, Series):
            return SeriesArray((v,))
        if not isinstance(v, SeriesArray):
            raise self.error(f"{node.value} expects an array of time series", node)
        return v

    def keyword(self, v, node: Node, allowed: tuple[str, ...]) -> str:
        if not isinstance(v, _Keyword) or v.name not in allowed:
            raise self.error(f"{node.value} expects one of {', '.join(allowed)}", node)
        return v.name


# -- functions --------------------------------------------------------------------------------


def _elementwise(fn):
    return lambda ev, node, args: ev.map(fn, args[0], node)


def _per_series(fn):
    """A function of one series (RATE, DIFF...) applied to a series or to each of an array."""

    def impl(ev: _Evaluator, node: Node, args):
        v = ev.numeric(args[0], node)
        if isinstance(v, SeriesArray):
            return SeriesArray(tuple(fn(s) for s in v.items))
        return fn(ev.series_arg(v, node))

    return impl


def _reduce_values(name: str, values: np.ndarray) -> float:
    if len(values) == 0:
        return float("nan")  # no datapoint: drops out of whatever it is combined with
    return float({"SUM": np.sum, "AVG": np.mean, "MIN": np.min, "MAX": np.max,
                  "STDDEV": np.std}[name](values))


def _reduce_across(name: str, array: SeriesArray) -> Series:
    """Per-timestamp aggregate of an array, over the series that have a value there."""
    if not array.items:
        return Series(np.empty(0, np.int64), np.empty(0), "", 60)
    ts = np.concatenate([s.ts_ms for s in array.items])
    values = np.concatenate([s.values for s in array.items])
    keys, inverse = np.unique(ts, return_inverse=True)
    count = np.bincount(inverse, minlength=len(keys)).astype(np.float64)
    total = np.bincount(inverse, weights=values, minlength=len(keys))
    if name in ("MIN", "MAX"):
        out = np.full(len(keys), np.inf if name == "MIN" else -np.inf)
        (np.minimum if name == "MIN" else np.maximum).at(out, inverse, values)
    elif name == "SUM":
        out = total
    elif name == "AVG":
        out = total / count
    else:  # STDDEV, population
        mean = total / count
        out = np.sqrt(np.bincount(inverse, weights=(values - mean[inverse]) ** 2,
                                  minlength=len(keys)) / count)
    return array.items[0].with_points(keys, out)


def _aggregate(name: str):
    """MIN(m) etc.: a number for one series, a series for an array (CloudWatch's two forms)."""

    def impl(ev: _Evaluator, node: Node, args):
        v = ev.numeric(args[0], node)
        if isinstance(v, SeriesArray):
            return _reduce_across(name, v)
        if isinstance(v, Series):
            return _reduce_values(name, v.values)
        return 0.0 if name == "STDDEV" else v

    return impl


def _fill(ev: _Evaluator, node: Node, args):
    target, how = ev.numeric(args[0], node), args[1]
    if isinstance(how, _Keyword):
        mode = ev.keyword(how, node, ("REPEAT", "LINEAR"))
    elif isinstance(how, float):
        mode = how
    else:
        raise ev.error("FILL's second argument must be a number, REPEAT or LINEAR", node)

    def fill_one(s: Series) -> Series:
        grid = np.union1d(ev.ctx.grid_ms(s.period_s), s.ts_ms)
        values, present = _lookup(s, grid)
        if isinstance(mode, float):
            if not np.isfinite(mode):
                return s
            return s.with_points(grid, np.where(present, values, mode))
        if len(s.ts_ms) == 0:
            return s
        if mode == "LINEAR":
            # np.interp holds the edge values flat before the first and after the last point.
            return s.with_points(grid, np.interp(grid, s.ts_ms, s.values))
        # REPEAT: carry the last seen value forward; leading gaps take the first value.
        last_seen = np.maximum.accumulate(np.where(present, np.arange(len(grid)), -1))
        first = np.flatnonzero(present)[0]
        return s.with_points(grid, values[np.where(last_seen < 0, first, last_seen)])

    if isinstance(target, SeriesArray):
        return SeriesArray(tuple(fill_one(s) for s in target.items))
    if isinstance(target, Series):
        return fill_one(target)
    return target  # a number has no gaps


def _if(ev: _Evaluator, node: Node, args):
    cond = ev.numeric(args[0], node)
    yes = ev.numeric(args[1], node)
    no = ev.numeric(args[2], node) if len(args) == 3 else None
    if any(isinstance(v, SeriesArray) for v in (yes, no)) and not isinstance(cond, SeriesArray):
        raise ev.error("IF cannot return an array unless its condition is one", node)
    if isinstance(cond, SeriesArray):
        return SeriesArray(tuple(_if(ev, node, [c, *args[1:]]) for c in cond.items))
    if not isinstance(cond, Series):
        if cond != 0:
            return yes
        return no if no is not None else Series(np.empty(0, np.int64), np.empty(0), "", 60)

    def branch(v, ts):
        if v is None:
            return np.zeros(len(ts)), np.zeros(len(ts), dtype=bool)
        if isinstance(v, Series):
            return _lookup(v, ts)
        return np.full(len(ts), v), np.ones(len(ts), dtype=bool)

    truth = cond.values != 0
    a, has_a = branch(yes, cond.ts_ms)
    b, has_b = branch(no, cond.ts_ms)
    keep = np.where(truth, has_a, has_b)
    return cond.with_points(cond.ts_ms[keep], np.where(truth, a, b)[keep])


def _metrics(ev: _Evaluator, node: Node, args):
    if args and not isinstance(args[0], _Str):
        raise ev.error("METRICS expects a quoted string", node)
    needle = args[0].text if args else ""
    return SeriesArray(tuple(ev.ctx.values[i] for i in ev.ctx.metric_ids if needle in i))


def _sort(ev: _Evaluator, node: Node, args):
    array = ev.array_arg(ev.numeric(args[0], node), node)
    by = ev.keyword(args[1], node, ("AVG", "MIN", "MAX", "SUM", "STDDEV"))
    order = ev.keyword(args[2], node, ("ASC", "DESC"))
    keyed = [(_reduce_values(by, s.values), i) for i, s in enumerate(array.items)]
    # Series without datapoints sort last either way.
    keyed.sort(key=lambda k: (np.isnan(k[0]), -k[0] if order == "DESC" else k[0], k[1]))
    items = [array.items[i] for _, i in keyed]
    if len(args) == 4:
        limit = args[3]
        if not isinstance(limit, float) or limit < 0:
            raise ev.error("SORT's limit must be a non-negative number", node)
        items = items[: int(limit)]
    return SeriesArray(tuple(items))


def _pick(last: bool):
    def impl(ev: _Evaluator, node: Node, args):
        array = ev.array_arg(ev.numeric(args[0], node), node)
        if not array.items:
            return Series(np.empty(0, np.int64), np.empty(0), "", 60)
        return array.items[-1 if last else 0]

    return impl


def _remove_empty(ev: _Evaluator, node: Node, args):
    array = ev.array_arg(ev.numeric(args[0], node), node)
    return SeriesArray(tuple(s for s in array.items if len(s.ts_ms)))


def _diff(s: Series) -> Series:
    return s.with_points(s.ts_ms[1:], np.diff(s.values))


def _diff_time(s: Series) -> Series:
    return s.with_points(s.ts_ms[1:], np.diff(s.ts_ms) / 1000.0)


def _rate(s: Series) -> Series:
    return s.with_points(s.ts_ms[1:], np.diff(s.values) / (np.diff(s.ts_ms) / 1000.0))


def _running_sum(s: Series) -> Series:
    return s.with_points(s.ts_ms, np.cumsum(s.values))


def _period(s: Series) -> Series:
    return s.with_points(s.ts_ms, np.full(len(s.ts_ms), float(s.period_s)))


# name -> (min args, max args, implementation(evaluator, call node, evaluated args))
_FUNCTIONS: dict[str, tuple[int, int, Callable]] = {
    "ABS": (1, 1, _elementwise(np.abs)),
    "CEIL": (1, 1, _elementwise(np.ceil)),
    "FLOOR": (1, 1, _elementwise(np.floor)),
    "LOG": (1, 1, _elementwise(np.log)),
    "LOG10": (1, 1, _elementwise(np.log10)),
    "MIN": (1, 1, _aggregate("MIN")),
    "MAX": (1, 1, _aggregate("MAX")),
    "SUM": (1, 1, _aggregate("SUM")),
    "AVG": (1, 1, _aggregate("AVG")),
    "STDDEV": (1, 1, _aggregate("STDDEV")),
    "FILL": (2, 2, _fill),
    "IF": (2, 3, _if),
    "METRICS": (0, 1, _metrics),
    "RATE": (1, 1, _per_series(_rate)),
    "DIFF": (1, 1, _per_series(_diff)),
    "DIFF_TIME": (1, 1, _per_series(_diff_time)),
    "RUNNING_SUM": (1, 1, _per_series(_running_sum)),
    "PERIOD": (1, 1, _per_series(_period)),
    "SORT": (3, 4, _sort),
    "FIRST": (1, 1, _pick(last=False)),
    "LAST": (1, 1, _pick(last=True)),
    "REMOVE_EMPTY": (1, 1, _remove_empty),
}

SUPPORTED_FUNCTIONS = tuple(sorted(_FUNCTIONS))
