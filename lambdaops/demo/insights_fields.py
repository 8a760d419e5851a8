"""Fields Logs Insights derives from ``@message``: Lambda's discovered fields and JSON keys.

Lambda's discovered fields (``@type``, ``@requestId``, ``@duration``, ``@billedDuration``,
``@memorySize``, ``@maxMemoryUsed``, ``@initDuration``, ``@xrayTraceId``, ``@xraySegmentId``) come from
the text START/END/REPORT lines and from the JSON ``platform.start``/``platform.report`` records
alike. ``json.loads`` costs several microseconds a message, so the hot paths avoid it: a message is
classified by its prefix, platform records by their ``"type"``, and REPORT numbers are read straight
from the text (Lambda writes these records itself, in a fixed shape). Arbitrary JSON keys do parse
the message, but only where the key's name occurs in it.

Lambda's own lines are recognised as Lambda writes them: a text line by its "REPORT RequestId:"
(START, END) prefix, a JSON record by ``"type":"platform.report"`` (or ``"platform.start"``, at most
one space after the colon) near its start. An application line that imitates one is taken for one.
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
TYPE_OF_KIND = np.array([None, "REPORT", "START", "END", None, "REPORT", "START"], dtype=object)
_TEXT_KINDS = (("REPORT RequestId:", REPORT), ("START RequestId:", START), ("END RequestId:", END))
_TYPE_WITHIN = 100  # characters from the start of a platform record its "type" key is found in
_TOKEN = re.compile(r"\S*")
_JSON_SCALAR = re.compile(r'\s*:\s*("(?:[^"\\]|\\.)*"|[^,}\]\s]+)')


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


def _json_scalar(msgs: list[str], name: str) -> tuple[np.ndarray, list]:
    """(rows, raw JSON scalars) for the first ``"name": scalar`` in each platform record."""
    hit, sub, starts = _find_all(msgs, f'"{name}"')
    values = [(m.group(1) if (m := _JSON_SCALAR.match(s, p)) else None) for s, p in zip(sub, starts)]
    return hit, values


def json_number(msgs: list[str], name: str, scale: float = 1.0) -> np.ndarray:
    out = np.full(len(msgs), np.nan)
    hit, values = _json_scalar(msgs, name)
    if len(hit):
        out[hit] = _floats([v or "nan" for v in values]) * scale
    return out


def json_string(msgs: list[str], name: str) -> np.ndarray:
    out = _nulls(len(msgs))
    hit, values = _json_scalar(msgs, name)
    if len(hit):
        out[hit] = [json.loads(v) if v and v.startswith('"') else None for v in values]
    return out


def _json_tracing(msgs: list[str], part: str) -> np.ndarray:
    """X-Ray ids from ``record.tracing`` ("Root=1-...;Parent=...;Sampled=1" and ``spanId``)."""
    out = _nulls(len(msgs))
    for i in np.flatnonzero(_contains(msgs, '"tracing"')).tolist():
        tracing = dig(load_json(msgs[i]), ("record", "tracing"))
        if not isinstance(tracing, dict):
            continue
        if part == "spanId":
            out[i] = tracing.get("spanId") if isinstance(tracing.get("spanId"), str) else None
        elif isinstance(tracing.get("value"), str) and tracing["value"].startswith("Root="):
            out[i] = tracing["value"][5:].split(";", 1)[0]
    return out


# field -> (is a number, text kinds, from their messages, JSON kinds, from their messages).
# SnapStart's Restore Duration is deliberately absent: Insights does not discover it (queries parse
# the text line or read record.metrics.restoreDurationMs themselves).
DISCOVERED = {
    "@requestId": (False, (REPORT, START, END), lambda m: text_token(m, "RequestId: "),
                   (JSON_REPORT, JSON_START), lambda m: json_string(m, "requestId")),
    "@duration": (True, (REPORT,), lambda m: text_number(m, "Duration: "),
                  (JSON_REPORT,), lambda m: json_number(m, "durationMs")),
    "@billedDuration": (True, (REPORT,), lambda m: text_number(m, "Billed Duration: "),
                        (JSON_REPORT,), lambda m: json_number(m, "billedDurationMs")),
    "@memorySize": (True, (REPORT,), lambda m: text_number(m, "Memory Size: ", MB),
                    (JSON_REPORT,), lambda m: json_number(m, "memorySizeMB", MB)),
    "@maxMemoryUsed": (True, (REPORT,), lambda m: text_number(m, "Max Memory Used: ", MB),
                       (JSON_REPORT,), lambda m: json_number(m, "maxMemoryUsedMB", MB)),
    "@initDuration": (True, (REPORT,), lambda m: text_number(m, "Init Duration: "),
                      (JSON_REPORT,), lambda m: json_number(m, "initDurationMs")),
    "@xrayTraceId": (False, (REPORT,), lambda m: text_token(m, "XRAY TraceId: "),
                     (JSON_REPORT,), lambda m: _json_tracing(m, "value")),
    "@xraySegmentId": (False, (REPORT,), lambda m: text_token(m, "SegmentId: "),
                       (JSON_REPORT,), lambda m: _json_tracing(m, "spanId")),
}
DISCOVERED_FIELDS = ("@type",) + tuple(DISCOVERED)


def discover(name: str, messages: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """One discovered field for every message (float64 with NaN, or object with None)."""
    if name == "@type":
        return TYPE_OF_KIND[kind]
    is_number, text_kinds, from_text, json_kinds, from_json = DISCOVERED[name]
    out = np.full(len(messages), np.nan) if is_number else _nulls(len(messages))
    for kinds, read in ((text_kinds, from_text), (json_kinds, from_json)):
        rows = np.flatnonzero(np.isin(kind, kinds))
        if len(rows):
            out[rows] = read(messages[rows].tolist())
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


def json_field(name: str, messages: np.ndarray, kind: np.ndarray, docs: np.ndarray, parsed: np.ndarray
               ) -> np.ndarray:
    """Key ``name`` of every JSON message. ``docs``/``parsed`` cache parsed messages across calls;
    a message is parsed only when the key's last name occurs in it (or it escapes characters)."""
    path = tuple(name.split("."))
    leaf = next((p for p in reversed(path) if not p.isdigit()), name)
    rows = np.flatnonzero(np.isin(kind, JSON_KINDS))
    strs = messages[rows].tolist()
    rows = rows[_contains(strs, f'"{leaf}"') | _contains(strs, "\\u")]
    todo = rows[~parsed[rows]]
    if len(todo):
        docs[todo] = [load_json(m) for m in messages[todo].tolist()]
        parsed[todo] = True
    values = _typed([dig(d, path) for d in docs[rows].tolist()])
    out = np.full(len(messages), np.nan) if values.dtype.kind == "f" else _nulls(len(messages))
    out[rows] = values
    return out
