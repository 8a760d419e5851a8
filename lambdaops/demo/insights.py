"""A CloudWatch Logs Insights query engine for the demo account (pure Python: pandas and numpy).

``compile_query`` validates a query string up front (``MalformedQueryException`` for anything the
engine cannot run), ``run_query`` runs it over a DataFrame of log events (``@timestamp``,
``@message``, ``@logStream``, ``@log``, ``@ingestionTime``) and answers the way GetQueryResults
does. Lambda's discovered fields come from the text REPORT/START/END lines (``discover_fields``); JSON
log events, Lambda's ``platform.*`` records included, get their own flattened keys instead; events of
Infrequent Access groups (an ``insights_eval.NO_DISCOVERY`` column) get neither, as on AWS.

Syntax lives in insights_parse, columns and expressions in insights_eval; this module runs the
commands of the pipeline and shapes the answer.
"""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd

from lambdaops.demo.insights_eval import (
    MESSAGE, Frame, as_num, as_str, evaluate, events_frame, fmt_number, fmt_times, isnull, nulls, regex_search,
    storable, str_list, truthy,
)
from lambdaops.demo.insights_fields import DISCOVERED_FIELDS
from lambdaops.demo.insights_memo import SOURCE_FIELDS, EventsMemo
from lambdaops.demo.insights_parse import (
    AGG_FUNCS, Call, CompiledQuery, Dedup, Display, Field, Fields, Filter, Limit, Parse, Sort, Star, Stats, key,
    malformed, parse_query, walk,
)

__all__ = ["CompiledQuery", "compile_query", "discover_fields", "run_query"]

MAX_RESULTS = 10_000  # GetQueryResults never returns more rows


def compile_query(query_string: str) -> CompiledQuery:
    """Parse and validate a query; ``DemoApiError("MalformedQueryException", ...)`` names the first
    problem and where it is. The result is immutable and may be run any number of times."""
    try:
        return parse_query(query_string)
    except RecursionError:
        raise malformed("query is nested too deeply") from None


def discover_fields(events: pd.DataFrame) -> pd.DataFrame:
    """``events`` with Lambda's discovered fields added as columns (numbers float, NaN when absent;
    strings None when absent)."""
    frame = events_frame(events)
    out = events.copy()
    for name in DISCOVERED_FIELDS:
        out[name] = frame.get(name)
    return out


def run_query(compiled: CompiledQuery, events: pd.DataFrame | EventsMemo, *, limit: int = MAX_RESULTS
              ) -> tuple[list[list[dict]], dict]:
    """(GetQueryResults ``results``, ``statistics``) of ``compiled`` over ``events``: at most ``limit``
    rows of ``{"field", "value"}`` entries, values as strings, null fields left out, ``@ptr`` on rows
    that are events (not stats). ``events`` may be an insights_memo.EventsMemo (slices of log
    groups whose derived columns are computed once and shared by every query)."""
    memo = events if isinstance(events, EventsMemo) else None
    frame = events_frame(events, memo)
    scanned = frame.n
    if memo is not None:
        scanned_bytes = memo.message_bytes()
    else:
        frame.get(MESSAGE)
        scanned_bytes = frame.message_bytes
    matched = frame.n  # events that pass the filters before any stats
    counting = True
    for cmd in compiled.commands:
        if isinstance(cmd, Filter):
            frame = frame.take(truthy(evaluate(cmd.expr, frame)))
            matched = frame.n if counting else matched
        elif isinstance(cmd, (Fields, Display)):
            for expr, name in cmd.items:
                already = expr.name if isinstance(expr, Field) else frame.exprcols.get(key(expr))
                if already != name:  # "fields @duration", "display count(*)" after stats: nothing to compute
                    frame.define(name, expr)
                if isinstance(cmd, Fields):
                    _show(frame, name)
            if isinstance(cmd, Display):
                frame.display = list(dict.fromkeys(name for _, name in cmd.items))
        elif isinstance(cmd, Parse):
            _parse(cmd, frame)
        elif isinstance(cmd, Stats):
            counting = False
            frame = _stats(cmd, frame)
        elif isinstance(cmd, Sort):
            frame = _sort(cmd, frame)
        elif isinstance(cmd, Limit):
            frame = _default_order(frame)
            frame = frame.take(np.arange(min(cmd.n, frame.n)))
        elif isinstance(cmd, Dedup):
            frame = _dedup(cmd, _default_order(frame))
    frame = _default_order(frame)
    frame = frame.take(np.arange(min(frame.n, max(int(limit), 0), MAX_RESULTS)))
    stats = {"recordsMatched": float(matched), "recordsScanned": float(scanned), "bytesScanned": float(scanned_bytes)}
    return _results(frame), stats


# ---------------------------------------------------------------------------------------------
# commands

def _show(frame: Frame, name: str) -> None:
    if name not in frame.shown:
        frame.shown.append(name)


def _default_order(frame: Frame) -> Frame:
    """Events without a sort come newest first, as AWS returns them (ties: later-ingested first)."""
    if frame.ordered or not frame.events:
        return frame
    ts = np.nan_to_num(as_num(frame.get("@timestamp")), nan=-np.inf)
    out = frame.take(np.lexsort((-frame.positions(), -ts)))
    out.ordered = True
    return out


def _parse(cmd: Parse, frame: Frame) -> None:
    src = cmd.source
    if frame.memo is not None and isinstance(src, Field) and src.name in SOURCE_FIELDS and frame.ingested(src.name):
        # the same pattern over the events as ingested: matched once per log group (insights_memo)
        key = ("parse", src.name, cmd.pattern.pattern, cmd.pattern.rx.flags)
        cols = frame.memo.sparse(key, lambda f: _parse_sparse(cmd, f), len(cmd.pattern.groups), frame.rows)
        for (_, name), col in zip(cmd.pattern.groups, cols):
            frame.assign(name, col)
        return
    rows, matches = _matches(cmd, frame)
    for group, name in cmd.pattern.groups:
        col = nulls(frame.n)  # rows that do not match lose the field, as in Insights
        col[rows] = [m.group(group) for m in matches]
        frame.assign(name, col)


def _parse_sparse(cmd: Parse, frame: Frame) -> tuple[np.ndarray, list[np.ndarray]]:
    rows, matches = _matches(cmd, frame)
    return rows, [np.array([m.group(group) for m in matches] + [None], dtype=object)[:-1]
                  for group, _ in cmd.pattern.groups]


def _matches(cmd: Parse, frame: Frame):
    strs, null = str_list(evaluate(cmd.source, frame))
    rows, matches = regex_search(cmd.pattern, strs)
    keep = ~null[rows]  # a null value never matches, even a pattern that matches ""
    return rows[keep], [m for m, k in zip(matches, keep.tolist()) if k]


def _sort_key(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind != "O":
        return storable(a)
    nums = as_num(a)
    if np.array_equal(np.isnan(nums), isnull(a)):
        return nums  # every present value is a number: sort numerically
    return as_str(a)


def _sort(cmd: Sort, frame: Frame) -> Frame:
    if frame.n:
        table = pd.DataFrame({i: _sort_key(evaluate(expr, frame)) for i, (expr, _) in enumerate(cmd.keys)})
        order = table.sort_values(list(table.columns), ascending=[not desc for _, desc in cmd.keys],
                                  na_position="last", kind="stable").index.to_numpy()
        frame = frame.take(order)
    frame.ordered = True
    return frame


def _dedup(cmd: Dedup, frame: Frame) -> Frame:
    if not frame.n:
        return frame
    keys = [evaluate(expr, frame) for expr in cmd.items]
    has_null = np.logical_or.reduce([isnull(k) for k in keys])
    dup = pd.DataFrame({i: k for i, k in enumerate(keys)}).duplicated(keep="first").to_numpy()
    return frame.take(~(dup & ~has_null))  # null values are never duplicates (AWS)


def _group(keys: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """(group code per row, first row of each group), groups ordered by their key values."""
    if not keys:
        return np.zeros(n, dtype=np.int64), np.zeros(1 if n else 0, dtype=np.int64)
    codes = None
    for k in keys:
        c, uniques = pd.factorize(k, use_na_sentinel=False)
        codes = c if codes is None else pd.factorize(codes * len(uniques) + c)[0]
    # factorize numbers groups in order of appearance: a group starts where a new highest code shows
    seen = np.maximum.accumulate(np.concatenate(([-1], codes[:-1])))
    first = np.flatnonzero(codes > seen)
    table = pd.DataFrame({i: _sort_key(k[first]) for i, k in enumerate(keys)})
    order = table.sort_values(list(table.columns), na_position="last", kind="stable").index.to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[codes], first[order]


def _reindexed(result: pd.Series, groups: int) -> np.ndarray:
    return result.reindex(range(groups)).to_numpy()


def _aggregate(call: Call, frame: Frame, codes: np.ndarray, groups: int) -> np.ndarray:
    name, args = call.name, call.args
    if name == "count":
        if not args or isinstance(args[0], Star):
            return np.bincount(codes, minlength=groups).astype(float)
        present = ~isnull(evaluate(args[0], frame))
        return np.bincount(codes, weights=present.astype(float), minlength=groups)
    values = evaluate(args[0], frame)
    if name == "count_distinct":
        return _reindexed(pd.Series(values).groupby(codes).nunique(), groups).astype(float)
    if name in ("earliest", "latest"):
        return _earliest_latest(values, frame, codes, groups, latest=name == "latest")
    if name in ("min", "max") and (values.dtype.kind == "M" or _only_strings(values)):
        present = ~isnull(values)
        kept = pd.Series(values if values.dtype.kind == "M" else as_str(values))[present]
        grouped = kept.groupby(codes[present])
        return _reindexed(grouped.min() if name == "min" else grouped.max(), groups)
    grouped = pd.Series(as_num(values)).groupby(codes)
    if name == "sum":
        result = grouped.sum(min_count=1)
    elif name == "avg":
        result = grouped.mean()
    elif name == "min":
        result = grouped.min()
    elif name == "max":
        result = grouped.max()
    elif name == "stddev":
        result = grouped.std()  # sample standard deviation
    elif name == "pct":
        result = grouped.quantile(args[1].value / 100.0)  # linear interpolation, nulls skipped
    else:  # pragma: no cover - the parser only lets AGG_FUNCS through
        raise malformed(f"unsupported aggregation {call.src!r}")
    return _reindexed(result, groups).astype(float)


def _only_strings(values: np.ndarray) -> bool:
    """Object values none of which reads as a number: min/max compare them as strings."""
    if values.dtype.kind != "O":
        return False
    present = ~isnull(values)
    return bool(present.any()) and bool(np.isnan(as_num(values)[present]).all())


def _earliest_latest(values: np.ndarray, frame: Frame, codes: np.ndarray, groups: int, *, latest: bool):
    rows = np.flatnonzero(~isnull(values))
    out = np.full(groups, np.nan) if values.dtype.kind == "f" else (
        np.full(groups, np.datetime64("NaT"), dtype=values.dtype) if values.dtype.kind == "M" else nulls(groups))
    if not len(rows):
        return out
    ts = frame.get("@timestamp") if frame.events or "@timestamp" in frame.cols else None
    when = ts[rows].view(np.int64) if ts is not None and ts.dtype.kind == "M" else rows
    order = rows[np.lexsort((when, codes[rows]))]
    ordered_codes = codes[order]
    edge = np.flatnonzero(np.diff(ordered_codes)) + (0 if latest else 1)
    pick = np.concatenate(([0], edge)) if not latest else np.concatenate((edge, [len(order) - 1]))
    out[ordered_codes[pick]] = values[order[pick]]
    return out


def _stats(cmd: Stats, frame: Frame) -> Frame:
    keys = [evaluate(expr, frame) for expr, _ in cmd.by]
    codes, first = _group(keys, frame.n)
    groups = len(first)
    out = Frame(groups)
    for (expr, name), k in zip(cmd.by, keys):
        out.cols[name] = storable(k[first])
        out.exprcols[key(expr)] = name
    calls = {key(node): node for expr, _ in cmd.aggs for node in walk(expr)
             if isinstance(node, Call) and node.name in AGG_FUNCS}
    for k, call in calls.items():
        out.cols["\0" + k] = _aggregate(call, frame, codes, groups)
        out.exprcols[k] = "\0" + k
    for expr, name in cmd.aggs:
        out.cols[name] = storable(evaluate(expr, out))
    for k in calls:  # the aggregations' own columns were only a step towards the items
        del out.cols["\0" + k]
        del out.exprcols[k]
    for expr, name in cmd.aggs:
        out.exprcols[key(expr)] = name
    out.shown = list(dict.fromkeys([name for _, name in cmd.by] + [name for _, name in cmd.aggs]))
    out.ordered = True
    return out


# ---------------------------------------------------------------------------------------------
# the answer

def _display_strings(a: np.ndarray) -> list[str | None]:
    k = a.dtype.kind
    if k == "M":
        return fmt_times(a).tolist()
    if k in "fiu":
        return [fmt_number(v) for v in a.astype(float).tolist()]
    s = as_str(a)
    return [None if n else v for v, n in zip(s.tolist(), isnull(s).tolist())]


def _pointers(frame: Frame) -> list[str]:
    """Opaque like AWS's @ptr, but decodable: log group, stream, timestamp (ms) and row of the event in
    the frame the query scanned, as ingested (whatever the query renamed)."""
    rows = frame.positions()
    parts = [frame.source[c].to_numpy()[rows].tolist() if c in frame.source.columns else [""] * len(rows)
             for c in ("@log", "@logStream", "@timestamp")]
    return [base64.urlsafe_b64encode(f"{g}\n{s}\n{t}\n{r}".encode()).decode().rstrip("=")
            for g, s, t, r in zip(*parts, rows.tolist())]


def _results(frame: Frame) -> list[list[dict]]:
    if frame.display is not None:
        names = frame.display
    elif frame.shown:
        names = frame.shown
    else:
        names = ["@timestamp", "@message"] if frame.events else []
    columns = [(name, _display_strings(frame.get(name))) for name in names]
    pointers = _pointers(frame) if frame.events and frame.n else None
    rows = []
    for i in range(frame.n):
        row = [{"field": name, "value": values[i]} for name, values in columns if values[i] is not None]
        if pointers is not None:
            row.append({"field": "@ptr", "value": pointers[i]})
        rows.append(row)
    return rows
