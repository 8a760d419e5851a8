"""The rows of a Logs Insights query in flight, and vectorised expression evaluation over them.

A ``Frame`` materialises a column only when a command first reads it, and only for the rows still in
play: the events' own columns, Lambda's discovered fields (``@type``, ``@duration``...) and JSON keys.
So ``filter @type = "REPORT" | stats count(@initDuration) ...`` classifies every message by its
prefix once, then reads "Init Duration" from the REPORT lines alone.

Values are numpy arrays: float64 for numbers (NaN is null), datetime64[ms] for times (NaT is null),
object for strings and JSON values of mixed types (None is null), bool only for predicates.
"""

from __future__ import annotations

import copy
import re
from itertools import repeat

import numpy as np
import pandas as pd

from lambdaops.demo import insights_fields as fields
from lambdaops.demo.insights_memo import SOURCE_FIELDS
from lambdaops.demo.insights_parse import (
    AGG_FUNCS, Binary, Call, Field, In, Like, Lit, Node, Regex, Unary, key, malformed, walk,
)

TIME = np.dtype("datetime64[ms]")
NAT = np.iinfo(np.int64).min
TIME_COLUMNS = ("@timestamp", "@ingestionTime")
# internal columns ("\0" cannot appear in a query's field names): the message as ingested (discovery
# reads it even where a query redefines @message), message kinds, parsed JSON cache
MESSAGE, KIND, DOCS, PARSED = "\0message", "\0kind", "\0json", "\0parsed"
# an optional boolean column of the events: True for events of a log group in the Infrequent Access
# class, which get no field discovery at all ("Field discovery is supported only for log groups in the
# Standard log class", CloudWatch Logs user guide, "Log classes")
NO_DISCOVERY = "\0noDiscovery"


# ---------------------------------------------------------------------------------------------
# value helpers

def nulls(n: int) -> np.ndarray:
    return np.full(n, None, dtype=object)


def isnull(a: np.ndarray) -> np.ndarray:
    k = a.dtype.kind
    if k == "f":
        return np.isnan(a)
    if k == "M":
        return np.isnat(a)
    if k in "biu":
        return np.zeros(len(a), dtype=bool)
    return pd.isna(a)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def as_num(a):
    """Numbers as float64 (strings such as parsed "130.49" convert; anything else is null)."""
    if not isinstance(a, np.ndarray):
        if _is_number(a):
            return float(a)
        try:
            return float(a)
        except (TypeError, ValueError):
            return np.nan
    k = a.dtype.kind
    if k == "f":
        return a
    if k in "biu":
        return a.astype(float)
    if k == "M":
        out = a.view(np.int64).astype(float)
        out[np.isnat(a)] = np.nan
        return out
    if len(a) and pd.api.types.infer_dtype(a, skipna=True) == "boolean":
        return np.array([np.nan if v is None else float(v) for v in a])
    try:
        return pd.to_numeric(pd.Series(a, dtype=object), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):  # values of several JSON types at once
        return np.array([as_num(v) if v is not None else np.nan for v in a], dtype=float)


def fmt_number(x: float) -> str | None:
    if x != x or x in (np.inf, -np.inf):
        return None
    if float(x).is_integer() and abs(x) < 2**63:
        return str(int(x))
    return repr(float(x))


def fmt_times(a: np.ndarray) -> np.ndarray:
    if not len(a):
        return nulls(0)
    out = np.char.replace(np.datetime_as_string(a, unit="ms"), "T", " ").astype(object)
    out[np.isnat(a)] = None
    return out


def _fmt_value(v) -> str | None:
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, np.datetime64):
        return None if np.isnat(v) else fmt_times(np.array([v], dtype=TIME))[0]
    if isinstance(v, (int, float, np.number)):
        return fmt_number(float(v))
    return str(v)


def as_str(a):
    """Strings as an object array (None is null); numbers and times in their display form."""
    if not isinstance(a, np.ndarray):
        return _fmt_value(a)
    k = a.dtype.kind
    if k == "O":
        if not len(a) or pd.api.types.infer_dtype(a, skipna=True) in ("string", "empty"):
            return a
        return np.array([_fmt_value(v) for v in a], dtype=object)
    if k == "M":
        return fmt_times(a)
    if k == "b":
        return np.where(a, "1", "0").astype(object)
    return np.array([fmt_number(v) for v in a.astype(float)], dtype=object)


def _all_strings(a: np.ndarray) -> bool:
    return a.dtype.kind == "O" and pd.api.types.infer_dtype(a, skipna=False) == "string"


def str_list(a: np.ndarray) -> tuple[list[str], np.ndarray]:
    """(strings with "" for null, null mask): the shape fast C-level ``map(str.method, ...)`` needs."""
    if _all_strings(a):  # @message and the like: no null to look for
        return a.tolist(), np.zeros(len(a), dtype=bool)
    s = as_str(a)
    null = isnull(s)
    if null.any():
        s = s.copy()
        s[null] = ""
    return s.tolist(), null


def truthy(a: np.ndarray) -> np.ndarray:
    k = a.dtype.kind
    if k == "b":
        return a
    if k == "f":
        return ~np.isnan(a) & (a != 0)
    if k in "iu":
        return a != 0
    if k == "M":
        return ~np.isnat(a)
    return np.fromiter((bool(v) and v == v for v in a), dtype=bool, count=len(a))


def storable(a: np.ndarray) -> np.ndarray:
    """Booleans become 1/0 once they are a field, as Insights shows them (and so sum() counts them)."""
    return a.astype(float) if a.dtype.kind == "b" else a


def to_time(ms) -> np.ndarray:
    ms = np.asarray(ms, dtype=float)
    bad = np.isnan(ms)
    out = np.where(bad, 0, ms).astype(np.int64)
    out[bad] = NAT
    return out.view(TIME)


def time_ms(a: np.ndarray) -> np.ndarray:
    """Milliseconds since the epoch as float (null: NaN), from a time or a number."""
    return as_num(a)


# ---------------------------------------------------------------------------------------------
# the frame

class Frame:
    def __init__(self, n: int, cols: dict | None = None, source: pd.DataFrame | None = None,
                 memo=None) -> None:
        self.n = n
        # the source's derived columns computed once per log group (insights_memo), or None
        self.memo = memo
        self.redefined: set[str] = set()  # fields a command gave new values: no longer as ingested
        self.cols: dict[str, np.ndarray] = cols if cols is not None else {}
        self.source = source  # the log events, while rows are events (None once stats ran)
        self.rows: np.ndarray | None = None  # positions of these rows in source; None: all, in order
        self.exprcols: dict[str, str] = {}  # key(expression) -> column, for what stats computed
        # fields defined but not computed yet: name -> (expression, names it reads). Every function
        # is row-wise, so computing one after filter/sort/limit gives the same values, for fewer rows.
        self.pending: dict[str, tuple[Node, set]] = {}
        self.ordered = False
        self.shown: list[str] = []  # output columns in order (fields, stats)
        self.display: list[str] | None = None
        self.message_bytes = 0
        self._message_list: list[str] | None = None  # MESSAGE as a list, while rows are unchanged

    @property
    def events(self) -> bool:
        return self.source is not None

    def positions(self) -> np.ndarray:
        return np.arange(self.n) if self.rows is None else self.rows

    def take(self, idx: np.ndarray) -> Frame:
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        out = copy.copy(self)
        out.n = len(idx)
        out.cols = {k: v[idx] for k, v in self.cols.items()}
        if self.source is not None:
            out.rows = idx if self.rows is None else self.rows[idx]
        out.exprcols, out.shown, out.pending = dict(self.exprcols), list(self.shown), dict(self.pending)
        out.redefined = set(self.redefined)
        out._message_list = None
        return out

    def get(self, name: str) -> np.ndarray:
        arr = self.cols.get(name)
        if arr is None:
            pending = self.pending.pop(name, None)
            arr = storable(evaluate(pending[0], self)) if pending else self._load(name)
            self.cols[name] = arr
        return arr

    def ingested(self, name: str) -> bool:
        """``name`` still holds the events' own values (no command redefined it)."""
        return self.source is not None and name not in self.redefined and name not in self.pending

    def assign(self, name: str, values: np.ndarray) -> None:
        self.redefined.add(name)
        self._freeze_readers(name)
        self.pending.pop(name, None)
        self.cols[name] = values

    def define(self, name: str, expr: Node) -> None:
        """``fields expr as name``, computed when first read."""
        reads = {n.name for n in walk(expr) if isinstance(n, Field)}
        if any(isinstance(n, Call) and n.name == "bin" for n in walk(expr)):
            reads.add("@timestamp")
        self.redefined.add(name)
        if name in reads:  # "x + 1 as x" reads the old x: compute it now
            self.assign(name, storable(evaluate(expr, self)))
            return
        self._freeze_readers(name)
        self.cols.pop(name, None)
        self.pending[name] = (expr, reads)

    def _freeze_readers(self, name: str) -> None:
        """Compute pending fields that read ``name`` before it changes."""
        for other, (_, reads) in list(self.pending.items()):
            if name in reads and other in self.pending:
                self.get(other)

    def _load(self, name: str) -> np.ndarray:
        if self.source is None:
            return nulls(self.n)
        if name in (MESSAGE, "@message"):
            if name == "@message":
                return self.get(MESSAGE)
            return self._messages()
        if name in self.source.columns:
            return self._source_column(name)
        if name in TIME_COLUMNS:
            return np.full(self.n, np.datetime64("NaT"), dtype=TIME)
        if self.memo is not None and name not in (DOCS, PARSED):
            return self.memo.field(name, self.rows)  # kind, discovered field or JSON key: per group, once
        if name == KIND:
            messages = self.get(MESSAGE)
            kind = fields.classify(messages, self._message_list or messages.tolist())
            if NO_DISCOVERY in self.source.columns:
                kind[self._source_column(NO_DISCOVERY).astype(bool)] = fields.OTHER
            return kind
        if name in (DOCS, PARSED):
            self.cols[DOCS], self.cols[PARSED] = nulls(self.n), np.zeros(self.n, dtype=bool)
            return self.cols[name]
        if name in fields.DISCOVERED_FIELDS:
            return fields.discover(name, self.get(MESSAGE), self.get(KIND))
        return fields.json_field(name, self.get(MESSAGE), self.get(KIND), self.get(DOCS), self.get(PARSED))

    def _source_column(self, name: str) -> np.ndarray:
        values = source_rows(self.source, name, self.rows)
        k = values.dtype.kind
        if name in TIME_COLUMNS and k in "iu":
            return values.astype(np.int64).view(TIME)
        if k == "M":
            return values.astype(TIME)
        if k in "iufb":
            return values.astype(float)
        return np.asarray(values, dtype=object)

    def _messages(self) -> np.ndarray:
        """@message as ingested, "" where missing. Summing the lengths (bytesScanned) doubles as the
        check that every message is a string; the list is kept for the classification that follows."""
        if "@message" not in self.source.columns:
            values = np.full(self.n, "", dtype=object)
        else:
            values = self._source_column("@message")
        strs = values.tolist()
        try:
            self.message_bytes = sum(map(len, strs))
        except TypeError:
            values = np.array([v if isinstance(v, str) else "" for v in strs], dtype=object)
            strs = values.tolist()
            self.message_bytes = sum(map(len, strs))
        self._message_list = strs
        return values


def source_rows(source, name: str, rows) -> np.ndarray:
    """Column ``name`` of ``source`` (a DataFrame or a stand-in) at ``rows`` (index array, slice or None:
    all). A source with ``column_rows`` (moved_events) makes only the rows asked."""
    some = getattr(source, "column_rows", None)
    if some is not None:
        return some(name, rows)
    values = source[name].to_numpy()
    return values if rows is None else values[rows]


def events_frame(events: pd.DataFrame, memo=None) -> Frame:
    return Frame(len(events), source=events, memo=memo)


# ---------------------------------------------------------------------------------------------
# expressions

_CMP = {"=": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater,
        ">=": np.greater_equal}
_ARITH = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide, "%": np.fmod, "^": np.power}


def _numeric_kind(v) -> bool:
    if isinstance(v, np.ndarray):
        return v.dtype.kind in "fiubM"
    return _is_number(v)


def _scalar_or_array(node: Node, frame: Frame):
    """Literals stay scalars in comparisons: comparing a million values to one string is then a
    single numpy call."""
    return node.value if isinstance(node, Lit) else evaluate(node, frame)


def _broadcast(a, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(a), (n,)).copy() if np.ndim(a) == 0 else a


def _time_literal(v, other):
    """A string compared with a time is a date: ``@timestamp > "2026-11-22 10:00"`` (UTC)."""
    if isinstance(v, str) and isinstance(other, np.ndarray) and other.dtype.kind == "M":
        try:
            ts = pd.Timestamp(v)
        except ValueError:
            return np.nan  # not a date: compares like a number with a word, matching nothing
        if ts.tz is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        return float(ts.value // 1_000_000)
    return v


def compare(op: str, a, b, n: int) -> np.ndarray:
    """Numbers compare numerically (a side that is a number makes it so), strings as strings; a null
    on either side never matches."""
    a, b = _time_literal(a, b), _time_literal(b, a)
    with np.errstate(invalid="ignore"):
        if _numeric_kind(a) or _numeric_kind(b):
            x, y = as_num(a), as_num(b)
            return _broadcast(_CMP[op](x, y) & ~np.isnan(x) & ~np.isnan(y), n)
        x, y = as_str(a), as_str(b)
        if op == "=" and isinstance(y, str) and isinstance(x, np.ndarray):
            return np.asarray(np.equal(x, y), dtype=bool)  # a null (None, NaN) never equals a string
        valid = np.ones(n, dtype=bool)
        if isinstance(x, np.ndarray):
            nx = isnull(x)
            valid &= ~nx
            x = np.where(nx, "", x)
        elif x is None:
            return np.zeros(n, dtype=bool)
        if isinstance(y, np.ndarray):
            ny = isnull(y)
            valid &= ~ny
            y = np.where(ny, "", y)
        elif y is None:
            return np.zeros(n, dtype=bool)
        return _broadcast(np.asarray(_CMP[op](x, y), dtype=bool), n) & valid


def regex_search(rx: Regex, strs: list[str]) -> tuple[np.ndarray, list[re.Match]]:
    """(rows where ``rx`` matches, their matches); the regex only runs on rows holding its literal
    prefix, a C-speed substring test."""
    if rx.prefix:
        cand = np.flatnonzero(np.fromiter(map(str.__contains__, strs, repeat(rx.prefix)), dtype=bool,
                                          count=len(strs)))
        for lit in rx.literals:  # the rarest literal is not always the longest: all must be there
            if lit != rx.prefix and len(cand):
                sub = [strs[i] for i in cand.tolist()]
                cand = cand[np.fromiter(map(str.__contains__, sub, repeat(lit)), dtype=bool, count=len(sub))]
        found = list(map(rx.rx.search, [strs[i] for i in cand.tolist()]))
    elif rx.any_of:
        hit = np.zeros(len(strs), dtype=bool)
        for lit in rx.any_of:
            hit |= np.fromiter(map(str.__contains__, strs, repeat(lit)), dtype=bool, count=len(strs))
        cand = np.flatnonzero(hit)
        found = list(map(rx.rx.search, [strs[i] for i in cand.tolist()]))
    else:
        cand, found = np.arange(len(strs)), list(map(rx.rx.search, strs))
    keep = np.fromiter((m is not None for m in found), dtype=bool, count=len(found))
    return cand[keep], [m for m in found if m is not None]


def regex_hits(rx: Regex, strs: list[str]) -> np.ndarray:
    hit = np.zeros(len(strs), dtype=bool)
    hit[regex_search(rx, strs)[0]] = True
    return hit


def _like(node: Like, frame: Frame) -> np.ndarray:
    if frame.memo is not None and isinstance(node.arg, Field) and node.arg.name in SOURCE_FIELDS \
            and frame.ingested(node.arg.name):
        pattern = node.pattern
        key = ("like", node.arg.name, pattern.value if isinstance(pattern, Lit) else (pattern.pattern, pattern.rx.flags))
        hit = frame.memo.derived(key, lambda f: _like(Like(node.arg, pattern), f), frame.rows)
        return ~hit if node.negate else hit  # an ingested @message/@logStream is never null
    strs, null = str_list(evaluate(node.arg, frame))
    if isinstance(node.pattern, Lit):
        hit = np.fromiter(map(str.__contains__, strs, repeat(node.pattern.value)), dtype=bool, count=len(strs))
    else:
        hit = regex_hits(node.pattern, strs)
    return (~hit if node.negate else hit) & ~null


def _in(node: In, frame: Frame) -> np.ndarray:
    values = evaluate(node.arg, frame)
    nums = [float(v) for v in node.values if _is_number(v)]
    strs = [v for v in node.values if isinstance(v, str)]
    hit = np.zeros(frame.n, dtype=bool)
    if nums:
        hit |= np.isin(as_num(values), nums)
    if strs:
        s = as_str(values)
        hit |= pd.Series(s, dtype=object).isin(strs).to_numpy() & ~isnull(s)
    return (~hit if node.negate else hit) & ~isnull(values)


def evaluate(node: Node, frame: Frame) -> np.ndarray:
    if isinstance(node, Field):
        return frame.get(node.name)
    if isinstance(node, Lit):
        return np.full(frame.n, node.value, dtype=float if _is_number(node.value) else object)
    if isinstance(node, Call):
        col = frame.exprcols.get(key(node))
        if col is not None:
            return frame.get(col)
        if node.name in AGG_FUNCS:
            raise malformed(f"aggregation {node.src!r} cannot be evaluated here")
        return FUNCTIONS[node.name](frame, node)
    if isinstance(node, Unary):
        if node.op == "not":
            return ~truthy(evaluate(node.arg, frame))
        return -as_num(evaluate(node.arg, frame))
    if isinstance(node, Binary):
        if node.op == "and":
            return truthy(evaluate(node.left, frame)) & truthy(evaluate(node.right, frame))
        if node.op == "or":
            return truthy(evaluate(node.left, frame)) | truthy(evaluate(node.right, frame))
        if node.op in _CMP:
            return compare(node.op, _scalar_or_array(node.left, frame), _scalar_or_array(node.right, frame), frame.n)
        with np.errstate(all="ignore"):
            out = _ARITH[node.op](as_num(evaluate(node.left, frame)), as_num(evaluate(node.right, frame)))
        out[np.isinf(out)] = np.nan
        return out
    if isinstance(node, Like):
        return _like(node, frame)
    if isinstance(node, In):
        return _in(node, frame)
    raise malformed(f"{node.src!r} cannot be evaluated here")


# ---------------------------------------------------------------------------------------------
# scalar functions: fn(frame, call) -> array

def _arg(frame: Frame, call: Call, i: int) -> np.ndarray:
    return evaluate(call.args[i], frame)


def _map_str(frame: Frame, call: Call, fn, number: bool = False) -> np.ndarray:
    s = as_str(_arg(frame, call, 0))
    if number:
        return np.array([np.nan if v is None else fn(v) for v in s], dtype=float)
    return np.array([None if v is None else fn(v) for v in s], dtype=object)


def _round(frame: Frame, call: Call) -> np.ndarray:
    x = as_num(_arg(frame, call, 0))
    scale = 10.0 ** (int(call.args[1].value) if len(call.args) > 1 else 0)
    return np.sign(x) * np.floor(np.abs(x) * scale + 0.5) / scale  # half away from zero, like Java


def _concat(frame: Frame, call: Call) -> np.ndarray:
    parts = [as_str(evaluate(a, frame)) for a in call.args]
    return np.array([None if all(p is None for p in ps) else "".join(p for p in ps if p is not None)
                     for ps in zip(*parts)], dtype=object)


def _substr(frame: Frame, call: Call) -> np.ndarray:
    s = as_str(_arg(frame, call, 0))
    start = as_num(_arg(frame, call, 1))
    length = as_num(_arg(frame, call, 2)) if len(call.args) > 2 else np.full(frame.n, np.nan)
    out = nulls(frame.n)
    for i, (v, st, ln) in enumerate(zip(s, start, length)):
        if v is not None and st == st:
            st = max(int(st), 0)
            out[i] = v[st:] if ln != ln else v[st:st + max(int(ln), 0)]
    return out


def _replace(frame: Frame, call: Call) -> np.ndarray:
    s, a, b = (as_str(evaluate(x, frame)) for x in call.args)
    return np.array([None if v is None else v if old is None else v.replace(old, new or "")
                     for v, old, new in zip(s, a, b)], dtype=object)


def _strcontains(frame: Frame, call: Call) -> np.ndarray:
    strs, null = str_list(_arg(frame, call, 0))
    needle = call.args[1]
    if isinstance(needle, Lit):
        hit = np.fromiter(map(str.__contains__, strs, repeat(as_str(needle.value))), dtype=bool, count=len(strs))
    else:
        subs = as_str(_arg(frame, call, 1))
        hit = np.array([sub is not None and sub in v for v, sub in zip(strs, subs)], dtype=bool)
    return (hit & ~null).astype(float)


def _coalesce(frame: Frame, call: Call) -> np.ndarray:
    arrays = [evaluate(a, frame) for a in call.args]
    kinds = {a.dtype.kind for a in arrays}
    if not (kinds <= {"f"} or kinds == {"M"}):  # mixed types: keep each value as it is
        arrays = [fmt_times(a) if a.dtype.kind == "M" else a.astype(object) for a in arrays]
    out = arrays[0].copy()
    for a in arrays[1:]:
        null = isnull(out)
        if not null.any():
            break
        out[null] = a[null]
    return out


def _datefloor(ms: np.ndarray, period_ms: int) -> np.ndarray:
    return to_time(np.floor(ms / period_ms) * period_ms)


def _minmax(frame: Frame, call: Call, ufunc) -> np.ndarray:
    arrays = [evaluate(a, frame) for a in call.args]
    with np.errstate(invalid="ignore"):
        out = ufunc.reduce([as_num(a) for a in arrays])
    return to_time(out) if all(a.dtype.kind == "M" for a in arrays) else out


def _isblank(frame: Frame, call: Call) -> np.ndarray:
    s = as_str(_arg(frame, call, 0))
    return np.array([v is None or not v.strip() for v in s], dtype=bool)


FUNCTIONS = {
    "abs": lambda f, c: np.abs(as_num(_arg(f, c, 0))),
    "ceil": lambda f, c: np.ceil(as_num(_arg(f, c, 0))),
    "floor": lambda f, c: np.floor(as_num(_arg(f, c, 0))),
    "round": _round,
    "strlen": lambda f, c: _map_str(f, c, len, number=True),
    "toupper": lambda f, c: _map_str(f, c, str.upper),
    "tolower": lambda f, c: _map_str(f, c, str.lower),
    "concat": _concat,
    "substr": _substr,
    "replace": _replace,
    "strcontains": _strcontains,
    "ispresent": lambda f, c: ~isnull(_arg(f, c, 0)),
    "isempty": lambda f, c: np.array([v is None or v == "" for v in as_str(_arg(f, c, 0))], dtype=bool),
    "isblank": _isblank,
    "coalesce": _coalesce,
    "datefloor": lambda f, c: _datefloor(time_ms(_arg(f, c, 0)), c.args[1].ms),
    "bin": lambda f, c: _datefloor(time_ms(f.get("@timestamp")), c.args[0].ms),
    "frommillis": lambda f, c: to_time(as_num(_arg(f, c, 0))),
    "tomillis": lambda f, c: time_ms(_arg(f, c, 0)),
    "greatest": lambda f, c: _minmax(f, c, np.fmax),
    "least": lambda f, c: _minmax(f, c, np.fmin),
    "log": lambda f, c: _unary(np.log, as_num(_arg(f, c, 0))),
    "sqrt": lambda f, c: _unary(np.sqrt, as_num(_arg(f, c, 0))),
}


def _unary(fn, x: np.ndarray) -> np.ndarray:
    """A numeric function of one argument; null stays null. The demo answers -Infinity for log(0)
    and null (NaN) for a negative argument: AWS does not document either case."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return fn(x)
