"""Fields Logs Insights derives from ``@message``: Lambda's discovered fields and JSON keys.

Lambda's discovered fields (``@type``, ``@requestId``, ``@duration``, ``@billedDuration``,
``@memorySize``, ``@maxMemoryUsed``, ``@initDuration``, ``@xrayTraceId``, ``@xraySegmentId``) come from
the text START/END/REPORT lines only. JSON log events (the ``platform.*`` records of functions with
``LogFormat=JSON`` included) get their own keys, flattened with dots (``type``,
``record.metrics.durationMs``), as Insights discovers any JSON log event. Log groups in the
Infrequent Access class get neither (the caller marks their events ``OTHER``). ``json.loads`` costs
several microseconds a message, so the hot paths avoid it: a message is classified by its prefix and
REPORT numbers are read straight from the text (Lambda writes these lines itself, in a fixed shape).
JSON keys parse the message, but only where the key's name occurs in it.
"""

from __future__ import annotations

import json
import operator
import re
from itertools import repeat

import numpy as np
import pandas as pd

MB = 1_000_000  # Insights reports @memorySize and @maxMemoryUsed in bytes, 10^6 to the MB

OTHER, REPORT, START, END, JSON_OTHER, JSON_REPORT, JSON_START = range(7)
JSON_KINDS = (JSON_OTHER, JSON_REPORT, JSON_START)
TYPE_OF_KIND = np.array([None, "REPORT", "START", "END", None, None, None], dtype=object)  # JSON: no @type
_TEXT_KINDS = (("REPORT RequestId:", REPORT), ("START RequestId:", START), ("END RequestId:", END))
_TYPE_WITHIN = 100  # characters from the start of a platform record its "type" key is found in
_TOKEN = re.compile(r"\S*")


def _nulls(n: int) -> np.ndarray:
    return np.full(n, None, dtype=object)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _contains(strs: list[str], needle: str) -> np.ndarray:
    return np.fromiter(map(str.__contains__, strs, repeat(needle)), dtype=bool, count=len(strs))


def classify(messages: np.ndarray, strs: list[str]) -> np.ndarray:
    """The kind of each message (OTHER, REPORT, ... JSON_START); ``strs`` is ``messages.tolist()``."""
    kind = np.zeros(len(messages), dtype=np.int8)
    prefixes = tuple(p for p, _ in _TEXT_KINDS) + ("{",)
    # one pass finds the candidates; their first characters (REPORT, START, END, "{") then tell
    # them apart at numpy speed
    cand = np.flatnonzero(np.fromiter(map(str.startswith, strs, repeat(prefixes)), dtype=bool, count=len(strs)))
    heads = "".join(map(operator.itemgetter(0), messages[cand].tolist()))
    first = np.frombuffer(heads.encode("latin-1", "replace"), dtype=np.uint8)
    for (prefix, code) in _TEXT_KINDS + (("{", JSON_OTHER),):
        kind[cand[first == ord(prefix[0])]] = code
    json_rows = cand[first == ord("{")]
    # Only Lambda writes platform records, always as {"time":...,"type":"platform.x",...}: "type" is
    # looked for near the start only, and its value read in place (no parse)
    strs = messages[json_rows]
    at = np.fromiter(map(str.find, strs.tolist(), repeat('"type":'), repeat(0), repeat(_TYPE_WITHIN)),
                     dtype=np.int64, count=len(strs))
    rows = np.flatnonzero(at >= 0)
    sub, at = strs[rows].tolist(), (at[rows] + len('"type":')).tolist()
    for code, value in ((JSON_REPORT, '"platform.report"'), (JSON_START, '"platform.start"')):
        values = (value, " " + value)
        is_it = np.fromiter(map(str.startswith, sub, repeat(values), at), dtype=bool, count=len(sub))
        kind[json_rows[rows[is_it]]] = code
    return kind


# ---------------------------------------------------------------------------------------------
# values read from the text of a line

def _floats(values: list[str]) -> np.ndarray:
    try:
        return np.fromiter(map(float, values), dtype=float, count=len(values))
    except ValueError:
        return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=float)


def _find_all(msgs: list[str], label: str) -> tuple[np.ndarray, list[str], list[int]]:
    """(rows holding ``label``, their messages, where the value after it starts)."""
    pos = np.fromiter(map(str.find, msgs, repeat(label)), dtype=np.int64, count=len(msgs))
    hit = np.flatnonzero(pos >= 0)
    return hit, [msgs[i] for i in hit.tolist()], (pos[hit] + len(label)).tolist()


def text_number(msgs: list[str], label: str, scale: float = 1.0) -> np.ndarray:
    """The number after ``label`` up to its unit ("Duration: 15.74 ms"), NaN where absent."""
    out = np.full(len(msgs), np.nan)
    hit, sub, starts = _find_all(msgs, label)
    if len(hit):
        values = [m[s:e if (e := m.find(" ", s)) >= 0 else None] for m, s in zip(sub, starts)]
        out[hit] = _floats(values) * scale
    return out


def text_token(msgs: list[str], label: str) -> np.ndarray:
    """The run of non-blank characters after ``label`` ("RequestId: 8f5e..."), None where absent."""
    out = _nulls(len(msgs))
    hit, sub, starts = _find_all(msgs, label)
    if len(hit):
        out[hit] = [_TOKEN.match(m, s).group() or None for m, s in zip(sub, starts)]
    return out


# field -> (is a number, from the text REPORT/START/END lines). Only the text lines get them: "the
# discovered Lambda fields come from the text REPORT line"; a JSON platform.report record is discovered
# as its own keys (type, record.metrics.durationMs, ...) like any JSON log event (Lambda developer
# guide, "Using CloudWatch Logs Insights with Lambda" / "Configuring JSON and plain text log formats").
# SnapStart's Restore Duration is not discovered either: queries parse it.
DISCOVERED = {
    "@requestId": (False, (REPORT, START, END), lambda m: text_token(m, "RequestId: ")),
    "@duration": (True, (REPORT,), lambda m: text_number(m, "Duration: ")),
    "@billedDuration": (True, (REPORT,), lambda m: text_number(m, "Billed Duration: ")),
    "@memorySize": (True, (REPORT,), lambda m: text_number(m, "Memory Size: ", MB)),
    "@maxMemoryUsed": (True, (REPORT,), lambda m: text_number(m, "Max Memory Used: ", MB)),
    "@initDuration": (True, (REPORT,), lambda m: text_number(m, "Init Duration: ")),
    "@xrayTraceId": (False, (REPORT,), lambda m: text_token(m, "XRAY TraceId: ")),
    "@xraySegmentId": (False, (REPORT,), lambda m: text_token(m, "SegmentId: ")),
}
DISCOVERED_FIELDS = ("@type",) + tuple(DISCOVERED)


def discover(name: str, messages: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """One discovered field for every message (float64 with NaN, or object with None)."""
    if name == "@type":
        return TYPE_OF_KIND[kind]
    is_number, text_kinds, from_text = DISCOVERED[name]
    out = np.full(len(messages), np.nan) if is_number else _nulls(len(messages))
    rows = np.flatnonzero(np.isin(kind, text_kinds))
    if len(rows):
        out[rows] = from_text(messages[rows].tolist())
    return out


# ---------------------------------------------------------------------------------------------
# JSON keys, by their flattened dotted names ("record.metrics.durationMs", "stackTrace.0")

def load_json(m: str):
    try:
        doc = json.loads(m)
    except (ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def dig(doc, path: tuple):
    for part in path:
        if isinstance(doc, dict):
            doc = doc.get(part)
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            return None
    return doc


def _typed(values: list) -> np.ndarray:
    """JSON leaves as float64 when every present one is a number, else as objects (objects and arrays
    themselves are not fields: Insights flattens them into their leaves)."""
    if all(v is None or _is_number(v) for v in values):
        return np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    return np.array([None if isinstance(v, (dict, list)) else v for v in values], dtype=object)


_MISS = object()  # the in-place read could not tell: parse the message
_TYPE_AT = len('{"time":"2026-11-22T10:00:00.123Z') + len('","type":')  # where a platform record's type is


def _platform_type(m: str):
    """Top-level "type" of a platform record as Lambda writes it ({"time":"<ISO>","type":"platform.x",...})."""
    if m.startswith('","type":"', _TYPE_AT - 9) and m.startswith('{"time":"'):
        end = m.find('"', _TYPE_AT + 1)
        if end > 0 and "\\" not in m[_TYPE_AT:end]:
            return m[_TYPE_AT + 1:end]
    return _MISS


def _report_metric(m: str, label: str):
    """``record.metrics.<name>`` of a platform.report record, read in place: Lambda writes the metrics
    as one flat object of numbers ("metrics":{"durationMs":92.61,...}); None where the key is absent."""
    start = m.find('"metrics":{')
    if start < 0:
        return _MISS
    end = m.find("}", start)
    at = m.find(label, start, end)
    if at < 0:
        return None
    at += len(label)
    stop = min((i for i in (m.find(",", at, end), end) if i >= 0), default=end)
    try:
        return float(m[at:stop])
    except ValueError:
        return _MISS


def _in_place(path: tuple, rows: np.ndarray, kind: np.ndarray, strs: list[str]) -> list:
    """Values of the key at ``path`` read without parsing where Lambda's own records fix the shape
    (json.loads costs several microseconds a message and these keys are read for every invocation),
    _MISS elsewhere."""
    if path == ("type",):
        return [_platform_type(m) if k != JSON_OTHER else _MISS for m, k in zip(strs, kind[rows].tolist())]
    if len(path) == 3 and path[:2] == ("record", "metrics"):
        label = f'"{path[2]}":'
        return [_report_metric(m, label) if k == JSON_REPORT else _MISS for m, k in zip(strs, kind[rows].tolist())]
    return [_MISS] * len(strs)


def json_field(name: str, messages: np.ndarray, kind: np.ndarray, docs: np.ndarray, parsed: np.ndarray
               ) -> np.ndarray:
    """Key ``name`` of every JSON message. ``docs``/``parsed`` cache parsed messages across calls;
    a message is parsed only when the key's last name occurs in it (or it escapes characters), and
    not at all where Lambda's platform records can be read in place (:func:`_in_place`)."""
    path = tuple(name.split("."))
    leaf = next((p for p in reversed(path) if not p.isdigit()), name)
    rows = np.flatnonzero(np.isin(kind, JSON_KINDS))
    strs = messages[rows].tolist()
    escaped = _contains(strs, "\\u")
    keep = _contains(strs, f'"{leaf}"') | escaped
    rows, strs, escaped = rows[keep], [m for m, k in zip(strs, keep.tolist()) if k], escaped[keep]
    found = _in_place(path, rows, kind, strs)
    found = [_MISS if e else v for v, e in zip(found, escaped.tolist())]
    slow = np.fromiter((v is _MISS for v in found), dtype=bool, count=len(found))
    todo = rows[slow & ~parsed[rows]]
    if len(todo):
        docs[todo] = [load_json(m) for m in messages[todo].tolist()]
        parsed[todo] = True
    for i, d in zip(np.flatnonzero(slow).tolist(), docs[rows[slow]].tolist()):
        found[i] = dig(d, path)
    values = _typed(found)
    out = np.full(len(messages), np.nan) if values.dtype.kind == "f" else _nulls(len(messages))
    out[rows] = values
    return out
