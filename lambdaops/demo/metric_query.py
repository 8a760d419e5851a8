"""CloudWatch GetMetricData for the demo account: request validation, evaluation, pagination.

Takes the request dict as botocore sends it over the JSON protocol and returns the response dict
AWS returns. Validation mirrors CloudWatch's (codes and message shapes) so the product's error
handling is exercised by the demo; every error is a ``DemoApiError``.

All the numeric work lives in ``metric_store`` (per-period statistics) and ``metric_math``
(expressions); this module only wires a request through them, with per-request caches so a
series queried for five statistics is sliced and sorted once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from lambdaops.demo.api_errors import DemoApiError
from lambdaops.demo.metric_math import (
    MAX_EXPRESSION_LENGTH,
    EvalContext,
    Expression,
    Series,
    SeriesArray,
    Value,
    parse_expression,
)
from lambdaops.demo.metric_store import MetricStore, SeriesView
from lambdaops.demo.metric_stats import PeriodAggregator, PeriodGrid, Statistic, parse_statistic

MAX_QUERIES = 500
DEFAULT_MAX_DATAPOINTS = 100_800
MAX_FILL_POINTS = 1_000_000  # a guard for FILL over absurd ranges, not a CloudWatch limit
HIGH_RESOLUTION_PERIODS = (1, 5, 10, 20, 30)
_ID = re.compile(r"^[a-z][A-Za-z0-9_]*$")
_HOUR_MS = 3_600_000
_DAY_MS = 24 * _HOUR_MS
UNITS = frozenset({
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
    "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
    "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
    "Terabits/Second", "Count/Second", "None",
})


@dataclass
class _Query:
    id: str
    member: str  # "MetricDataQueries.member.N", for error messages
    return_data: bool
    label: str | None
    period_s: int | None  # MetricStat's Period, or the expression's (explicit or derived)
    # MetricStat
    namespace: str = ""
    metric_name: str = ""
    dimensions: dict[str, str] | None = None
    stat: Statistic | None = None
    unit: str | None = None
    # Expression
    expression_text: str = ""
    expression: Expression | None = None  # parsed once every Id in the request is known

    @property
    def is_metric(self) -> bool:
        return not self.expression_text


@dataclass
class _Request:
    queries: list[_Query]
    start_ms: int
    end_ms: int
    scan_by: str
    max_datapoints: int
    now_ms: int | None = None


@dataclass
class _Result:
    id: str
    label: str
    ts_ms: np.ndarray  # ascending
    values: np.ndarray


# --------------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------------


def get_metric_data(store: MetricStore, region: str, request: dict, now_ms: int) -> dict:
    """Answer one GetMetricData call (or one page of it). ``now_ms`` only decides which periods
    CloudWatch's retention allows for the requested StartTime."""
    req = _parse_request(request, now_ms)
    fingerprint = _fingerprint(request)
    offset = _decode_token(request.get("NextToken"), fingerprint)
    results = _cached_results(store, region, fingerprint) if offset else None
    if results is None:
        results = _evaluate(store, region, req)
    response = _page(results, offset, req, fingerprint)
    if "NextToken" in response:
        _remember_results(store, region, fingerprint, results)
    return response


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------


def _invalid(message: str) -> DemoApiError:
    return DemoApiError("InvalidParameterValue", message)


def _missing(name: str) -> DemoApiError:
    return DemoApiError("MissingParameter", f"The parameter {name} is required.")


def _constraint(value: object, where: str, constraint: str) -> DemoApiError:
    """The wording of CloudWatch's model-level (Coral) validation errors."""
    return DemoApiError(
        "ValidationError",
        f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy "
        f"constraint: {constraint}",
    )


def _timestamp_ms(request: dict, name: str) -> int:
    raw = request.get(name)
    if raw is None:
        raise _missing(name)
    try:
        if isinstance(raw, datetime):
            moment = raw if raw.tzinfo else raw.replace(tzinfo=timezone.utc)
            return round(moment.timestamp() * 1000)
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            seconds = float(raw)
        else:
            text = str(raw).strip()
            try:
                seconds = float(text)
            except ValueError:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
                moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
                seconds = moment.timestamp()
        if not math.isfinite(seconds):
            raise ValueError(raw)
        return round(seconds * 1000)
    except (ValueError, OverflowError, OSError):
        raise _invalid(f"The value {raw} for parameter {name} is not a valid timestamp.") from None


def _check_period(period: object, where: str, start_ms: int, now_ms: int) -> int:
    """CloudWatch's valid periods, and the coarser ones its retention forces on older data."""
    if isinstance(period, bool) or not isinstance(period, (int, float)) or period != int(period):
        raise _invalid(f"The value {period} for parameter {where} is not a valid integer.")
    period = int(period)
    if period <= 0 or (period not in HIGH_RESOLUTION_PERIODS and period % 60):
        raise _invalid(
            f"The value {period} for parameter {where} is not valid. "
            "The period must be 1, 5, 10, 20, 30, or a multiple of 60."
        )
    age_ms = now_ms - start_ms
    for older_than_ms, multiple, horizon in (
        (63 * _DAY_MS, 3600, "63 days"),
        (15 * _DAY_MS, 300, "15 days"),
        (3 * _HOUR_MS, 60, "3 hours"),
    ):
        if age_ms > older_than_ms:
            if period % multiple:
                raise _invalid(
                    f"The parameter {where} must be a multiple of {multiple} for a StartTime "
                    f"more than {horizon} ago."
                )
            break
    return period


def _parse_request(request: dict, now_ms: int) -> _Request:
    raw_queries = request.get("MetricDataQueries")
    if raw_queries is None:
        raise _missing("MetricDataQueries")
    if not isinstance(raw_queries, list) or not raw_queries:
        raise _constraint("[]", "metricDataQueries", "Member must have length greater than or "
                                                     "equal to 1")
    if len(raw_queries) > MAX_QUERIES:
        raise _constraint(f"[{len(raw_queries)} items]", "metricDataQueries",
                          f"Member must have length less than or equal to {MAX_QUERIES}")
    start_ms = _timestamp_ms(request, "StartTime")
    end_ms = _timestamp_ms(request, "EndTime")
    if start_ms == end_ms:
        raise DemoApiError("ValidationError",
                           "The parameter StartTime must not equal parameter EndTime.")
    if end_ms < start_ms:
        raise DemoApiError("ValidationError", "The parameter EndTime must be greater than StartTime.")
    scan_by = request.get("ScanBy") or "TimestampDescending"
    if scan_by not in ("TimestampDescending", "TimestampAscending"):
        raise _constraint(scan_by, "scanBy", "Member must satisfy enum value set: "
                                             "[TimestampDescending, TimestampAscending]")
    max_points = request.get("MaxDatapoints", DEFAULT_MAX_DATAPOINTS)
    if isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 1:
        raise _invalid(f"The value {max_points} for parameter MaxDatapoints is not valid. "
                       "It must be a positive integer.")

    queries = [_parse_query(q, i, start_ms, now_ms) for i, q in enumerate(raw_queries, 1)]
    seen: dict[str, str] = {}
    for q in queries:
        if q.id in seen:
            raise _invalid(f"The value {q.id} for parameter {q.member}.Id is not unique: it is "
                           f"already used by {seen[q.id]}.")
        seen[q.id] = q.member
    if not any(q.return_data for q in queries):
        raise DemoApiError("ValidationError",
                           "At least one of the MetricDataQueries must have ReturnData set to true.")
    _parse_expressions(queries)
    return _Request(queries, start_ms, end_ms, scan_by, max_points, now_ms)


def _parse_query(raw: object, index: int, start_ms: int, now_ms: int) -> _Query:
    member = f"MetricDataQueries.member.{index}"
    if not isinstance(raw, dict):
        raise _invalid(f"The value for parameter {member} is not a structure.")
    qid = raw.get("Id")
    if not qid:
        raise _missing(f"{member}.Id")
    if not isinstance(qid, str) or len(qid) > 255 or not _ID.match(qid):
        raise _invalid(f"The value {qid} for parameter {member}.Id is not valid. The Id must "
                       "start with a lowercase letter and contain only letters, numbers and "
                       "underscores.")
    return_data = raw.get("ReturnData")
    return_data = True if return_data is None else return_data
    if not isinstance(return_data, bool):
        raise _invalid(f"The value {return_data} for parameter {member}.ReturnData is not a "
                       "boolean.")
    label = raw.get("Label")
    if label is not None and not isinstance(label, str):
        raise _invalid(f"The value {label} for parameter {member}.Label is not a string.")
    has_stat, has_expr = raw.get("MetricStat") is not None, raw.get("Expression") is not None
    if has_stat and has_expr:
        raise DemoApiError(
            "InvalidParameterCombination",
            f"The parameters {member}.MetricStat and {member}.Expression are mutually "
            "exclusive and you have specified both.",
        )
    if not has_stat and not has_expr:
        raise DemoApiError("ValidationError", f"The parameter {member}.MetricStat is required.")
    query = _Query(qid, member, return_data, label, None)
    if has_expr:
        text = raw["Expression"]
        if not isinstance(text, str) or not text.strip():
            raise DemoApiError("ValidationError", f"The parameter {member}.Expression must not "
                                                  "be empty.")
        if len(text) > MAX_EXPRESSION_LENGTH:
            raise _constraint(f"{text[:40]}...", f"metricDataQueries.{index}.member.expression",
                              f"Member must have length less than or equal to "
                              f"{MAX_EXPRESSION_LENGTH}")
        if raw.get("Period") is not None:
            query.period_s = _check_period(raw["Period"], f"{member}.Period", start_ms, now_ms)
        query.expression_text = text
        return query

    stat = raw["MetricStat"]
    if not isinstance(stat, dict):
        raise _invalid(f"The value for parameter {member}.MetricStat is not a structure.")
    metric = stat.get("Metric")
    if not isinstance(metric, dict):
        raise _missing(f"{member}.MetricStat.Metric")
    for field in ("Namespace", "MetricName"):
        if not metric.get(field):
            raise _missing(f"{member}.MetricStat.Metric.{field}")
    dimensions: dict[str, str] = {}
    raw_dims = metric.get("Dimensions") or []
    if len(raw_dims) > 30:
        raise _constraint(f"[{len(raw_dims)} items]",
                          f"metricDataQueries.{index}.member.metricStat.metric.dimensions",
                          "Member must have length less than or equal to 30")
    for j, dim in enumerate(raw_dims, 1):
        where = f"{member}.MetricStat.Metric.Dimensions.member.{j}"
        for field in ("Name", "Value"):
            if not isinstance(dim, dict) or dim.get(field) is None:
                raise _missing(f"{where}.{field}")
        if dim["Name"] in dimensions:
            raise _invalid(f"The value {dim['Name']} for parameter {where}.Name is duplicated.")
        dimensions[dim["Name"]] = str(dim["Value"])
    if stat.get("Period") is None:
        raise _missing(f"{member}.MetricStat.Period")
    if not stat.get("Stat"):
        raise _missing(f"{member}.MetricStat.Stat")
    try:
        parsed_stat = parse_statistic(str(stat["Stat"]))
    except ValueError:
        raise _invalid(f"The value {stat['Stat']} for parameter {member}.MetricStat.Stat is not "
                       "a valid statistic.") from None
    unit = stat.get("Unit")
    if unit is not None and unit not in UNITS:
        raise _constraint(unit, f"metricDataQueries.{index}.member.metricStat.unit",
                          "Member must satisfy enum value set: [" + ", ".join(sorted(UNITS)) + "]")
    query.namespace, query.metric_name = str(metric["Namespace"]), str(metric["MetricName"])
    query.dimensions, query.stat, query.unit = dimensions, parsed_stat, unit
    query.period_s = _check_period(stat["Period"], f"{member}.MetricStat.Period", start_ms, now_ms)
    return query


def _parse_expressions(queries: list[_Query]) -> None:
    """Parse every expression, reject reference cycles, and give period-less ones a period."""
    by_id = {q.id: q for q in queries}
    for q in queries:
        if not q.is_metric:
            q.expression = parse_expression(q.expression_text, q.id, by_id)
    metric_periods = [q.period_s for q in queries if q.is_metric]
    state: dict[str, str] = {}  # "visiting" | "done"

    def resolve(q: _Query, path: list[str]) -> int | None:
        if q.is_metric or state.get(q.id) == "done":
            return q.period_s
        if state.get(q.id) == "visiting":
            cycle = " -> ".join(path[path.index(q.id):] + [q.id])
            raise DemoApiError("ValidationError",
                               f"Circular dependency between expressions: {cycle}.")
        state[q.id] = "visiting"
        derived = [resolve(by_id[r], path + [q.id]) for r in q.expression.references]
        if q.period_s is None:
            # CloudWatch uses the period of the metrics an expression references.
            # With none (only METRICS() or numbers), the request's first metric period.
            q.period_s = next((p for p in derived if p), None) or next(iter(metric_periods), 60)
        state[q.id] = "done"
        return q.period_s

    for q in queries:
        resolve(q, [])


# --------------------------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------------------------


def _aligned_grid(req: _Request, period_s: int, now_ms: int | None = None) -> PeriodGrid:
    """Periods start at StartTime rounded down the way CloudWatch documents it: to the whole minute
    when StartTime is under 15 days ago, to 5 minutes up to 63 days, to the hour beyond (and to the
    second for high-resolution periods) -- not to a multiple of the period."""
    period_ms = period_s * 1000
    now_ms = now_ms if now_ms is not None else req.now_ms
    age_ms = (now_ms if now_ms is not None else req.start_ms) - req.start_ms
    if period_s < 60:
        unit = 1000
    elif age_ms < 15 * _DAY_MS:
        unit = 60_000
    elif age_ms < 63 * _DAY_MS:
        unit = 300_000
    else:
        unit = _HOUR_MS
    return PeriodGrid((req.start_ms // unit) * unit, req.end_ms, period_ms)


class _RequestCache:
    """Per-request memo: one snapshot per series, one aggregator per (series, grid)."""

    def __init__(self, store: MetricStore, region: str) -> None:
        self.store, self.region = store, region
        self.views: dict[tuple, SeriesView | None] = {}
        self.aggregators: dict[tuple, PeriodAggregator] = {}
        self.stats: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def view(self, q: _Query) -> SeriesView | None:
        key = (q.namespace, q.metric_name, tuple(sorted(q.dimensions.items())))
        if key not in self.views:
            self.views[key] = self.store.series(self.region, q.namespace, q.metric_name,
                                                q.dimensions)
        return self.views[key]

    def compute(self, view: SeriesView, grid: PeriodGrid, stat: Statistic):
        agg_key = (view.uid, view.version, grid)
        key = (agg_key, stat.text)
        if key not in self.stats:
            agg = self.aggregators.get(agg_key)
            if agg is None:
                agg = self.aggregators[agg_key] = PeriodAggregator(view, grid)
            self.stats[key] = agg.compute(stat)
        return self.stats[key]


def _metric_series(q: _Query, req: _Request, cache: _RequestCache) -> Series:
    label = q.label if q.label is not None else q.metric_name
    view = cache.view(q)
    # CloudWatch does not convert units: asking for another unit than the data's returns nothing.
    if view is None or (q.unit is not None and q.unit != (view.unit or "None")):
        return Series(np.empty(0, np.int64), np.empty(0), label, q.period_s)
    ts, values = cache.compute(view, _aligned_grid(req, q.period_s), q.stat)
    return Series(ts, values, label, q.period_s)


def _evaluate(store: MetricStore, region: str, req: _Request) -> list[_Result]:
    cache = _RequestCache(store, region)
    values: dict[str, Value] = {}
    metric_ids = [q.id for q in req.queries if q.is_metric]
    for q in req.queries:
        if q.is_metric:
            values[q.id] = _metric_series(q, req, cache)

    def grid_ms(period_s: int) -> np.ndarray:
        grid = _aligned_grid(req, period_s)
        if grid.count > MAX_FILL_POINTS:
            raise DemoApiError("ValidationError", f"FILL over {grid.count} periods exceeds the "
                                                  f"demo account's limit of {MAX_FILL_POINTS}.")
        return grid.timestamps_ms()

    ctx = EvalContext(values, metric_ids, grid_ms)
    by_id = {q.id: q for q in req.queries}

    def evaluate(q: _Query) -> Value:
        if q.id not in values:
            for ref in q.expression.references:  # cycles were rejected while parsing
                evaluate(by_id[ref])
            values[q.id] = q.expression.evaluate(ctx)
        return values[q.id]

    results = []
    for q in req.queries:
        if q.return_data:
            results.extend(_to_results(q, evaluate(q), ctx))
    return results


def _to_results(q: _Query, value: Value, ctx: EvalContext) -> list[_Result]:
    if isinstance(value, SeriesArray):
        # One result per series, all under the query's Id, as CloudWatch does for SEARCH.
        return [
            _Result(q.id, f"{q.label} {s.label}" if q.label else s.label, s.ts_ms, s.values)
            for s in value.items
        ]
    label = q.label if q.label is not None else (q.metric_name if q.is_metric else q.id)
    if isinstance(value, Series):
        return [_Result(q.id, label, value.ts_ms, value.values)]
    # A number is a flat line across the requested range.
    ts = ctx.grid_ms(q.period_s) if math.isfinite(value) else np.empty(0, np.int64)
    return [_Result(q.id, label, ts, np.full(len(ts), float(value)))]


# --------------------------------------------------------------------------------------------
# pagination
# --------------------------------------------------------------------------------------------


def _fingerprint(request: dict) -> str:
    """Identity of a request across its pages (everything but the paging parameters)."""
    stable = {k: v for k, v in request.items() if k not in ("NextToken", "MaxDatapoints")}
    blob = json.dumps(stable, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def _encode_token(fingerprint: str, offset: int) -> str:
    blob = json.dumps({"f": fingerprint, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(blob).decode()


def _decode_token(token: object, fingerprint: str) -> int:
    if token is None or token == "":
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(str(token).encode()))
        offset = data["o"]
        if data["f"] != fingerprint or not isinstance(offset, int) or offset < 0:
            raise ValueError
        return offset
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise DemoApiError("InvalidNextToken", "The NextToken is not valid for this "
                                               "request.") from None


def _epoch_seconds(ts_ms: np.ndarray) -> list:
    if len(ts_ms) and np.all(ts_ms % 1000 == 0):
        return (ts_ms // 1000).tolist()
    return (ts_ms / 1000.0).tolist()


def _page(results: list[_Result], offset: int, req: _Request, fingerprint: str) -> dict:
    """Datapoints ``[offset, offset + MaxDatapoints)`` of the results laid end to end, each
    result's points in ScanBy order. The first page lists every result (even empty ones); later
    pages only those with points on them."""
    limit = req.max_datapoints
    descending = req.scan_by == "TimestampDescending"
    out, position = [], 0
    for r in results:
        n = len(r.ts_ms)
        lo = min(max(offset - position, 0), n)
        hi = min(max(offset + limit - position, 0), n)
        if offset == 0 or hi > lo:
            ts, values = (r.ts_ms[::-1], r.values[::-1]) if descending else (r.ts_ms, r.values)
            out.append({
                "Id": r.id,
                "Label": r.label,
                "Timestamps": _epoch_seconds(ts[lo:hi]),
                "Values": values[lo:hi].tolist(),
                "StatusCode": "PartialData" if hi < n else "Complete",
            })
        position += n
    response: dict = {"MetricDataResults": out, "Messages": []}
    if offset + limit < position:
        response["NextToken"] = _encode_token(fingerprint, offset + limit)
    return response


# Results of paginated requests, so the follow-up pages neither recompute nor see data that the
# demo's traffic generator appended meanwhile: the pages of one request form one snapshot. Keyed
# per store (weakly); the oldest requests are forgotten, and then simply recomputed.
_PAGED: "weakref.WeakKeyDictionary[MetricStore, OrderedDict]" = weakref.WeakKeyDictionary()
_PAGED_LOCK = threading.Lock()
_PAGED_KEEP = 4


def _remember_results(store: MetricStore, region: str, fingerprint: str, results) -> None:
    with _PAGED_LOCK:
        memo = _PAGED.setdefault(store, OrderedDict())
        memo[(region, fingerprint)] = results
        memo.move_to_end((region, fingerprint))
        while len(memo) > _PAGED_KEEP:
            memo.popitem(last=False)


def _cached_results(store: MetricStore, region: str, fingerprint: str):
    with _PAGED_LOCK:
        return _PAGED.get(store, {}).get((region, fingerprint))
