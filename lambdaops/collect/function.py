"""What lambdaops reads from AWS about one function: its charts, cold starts over time, aliases,
the details the fleet collection left unread, and X-Ray traces. Blocking calls, for the TUI's thread workers and the CLI alike; what they cost beyond
API requests goes to an optional :class:`~lambdaops.collect.meter.Meter`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lambdaops.collect.meter import Meter, add
from lambdaops.errors import NotFoundError
from lambdaops.window import Window, periods

# pandas, boto3 and the AWS layer are slow to import: the TUI's first frame must not wait for them,
# so they are imported by the call that first needs them.
if TYPE_CHECKING:
    import pandas as pd

    from lambdaops.aws.context import AwsContext
    from lambdaops.models import FunctionInfo
    from lambdaops.aws.xray import Trace

CHART_POINTS = 60
COLD_START_QUERY = "cold-starts-over-time"
# (chart, series label, metric, stat): what the function screen draws from CloudWatch.
CHART_METRICS = (
    ("traffic", "invocations", "Invocations", "Sum"),
    ("traffic", "errors", "Errors", "Sum"),
    ("traffic", "throttles", "Throttles", "Sum"),
    ("duration", "p50", "Duration", "p50"),
    ("duration", "p90", "Duration", "p90"),
    ("duration", "p99", "Duration", "p99"),
    ("concurrency", "concurrency", "ConcurrentExecutions", "Maximum"),
)
COUNT_SERIES = ("invocations", "errors", "throttles")


@dataclass
class ChartData:
    """One function's series over the window, on one time grid (counts filled with 0)."""

    frame: "pd.DataFrame"  # index: period start (UTC); columns: the series labels of CHART_METRICS (+ iterator_age)
    period_s: int
    failed: dict[str, str] = field(default_factory=dict)  # series -> why


@dataclass
class ColdStartSeries:
    frame: "pd.DataFrame"  # index: 5-minute bins; columns: invocations, cold_starts, cold_rate, init_p99
    error: str | None = None


def charts(ctx: "AwsContext", fn: "FunctionInfo", window: Window, *, points: int = CHART_POINTS,
           meter: Meter | None = None) -> ChartData:
    """The function's CloudWatch series in about ``points`` periods, one GetMetricData request."""
    import pandas as pd

    from lambdaops.analysis.fleet import time_series
    from lambdaops.aws.metrics import LAMBDA_NAMESPACE as LAMBDA, MetricQuery, get_metric_data

    cut = periods(window, points, at_least=300)  # 5-minute multiples: the cold-start bins' grid too
    dims = (("FunctionName", fn.name),)
    queries = [MetricQuery((label,), LAMBDA, metric, dims, stat, cut.period) for _, label, metric, stat in CHART_METRICS]
    if fn.is_stream_consumer:
        queries.append(MetricQuery(("iterator_age",), LAMBDA, "IteratorAge", dims, "Maximum", cut.period))
    res = get_metric_data(ctx, fn.region, queries, cut.start, window.end)
    add(meter, metrics=len(queries))
    series = {q.key[0]: (res.results[q.key].timestamps, res.results[q.key].values)
              for q in queries if q.key not in res.failed}
    frame = time_series(series, counts=COUNT_SERIES)
    frame = frame.reindex(pd.DatetimeIndex(cut.grid()))
    for c in COUNT_SERIES:
        if c in frame:
            frame[c] = frame[c].fillna(0.0)
    return ChartData(frame, cut.period, {q.key[0]: why for q, why in
                                         ((q, res.failed.get(q.key)) for q in queries) if why})


def cold_starts(ctx: "AwsContext", fn: "FunctionInfo", window: Window, *, concurrency: int = 10,
                meter: Meter | None = None) -> ColdStartSeries:
    """Cold-start rate and INIT p99 in 5-minute bins (``queries/cold-starts-over-time``)."""
    import pandas as pd

    from lambdaops.collect.query import query_functions
    from lambdaops.query_files import load as load_query

    query = load_query(COLD_START_QUERY)
    out = query_functions(ctx, [fn], query.text, window, source=str(query.path), concurrency=concurrency,
                          meter=meter)
    if not out.complete:
        return ColdStartSeries(pd.DataFrame(), out.first_problem())
    rows = []
    for r in out.rows:
        ts = pd.Timestamp(r.get("bin(5m)"), tz="UTC")
        inv, cold = _num(r.get("invocations")) or 0.0, _num(r.get("coldStarts")) or 0.0
        rows.append({"t": ts, "invocations": inv, "cold_starts": cold,
                     "cold_rate": cold / inv * 100 if inv else 0.0, "init_p99": _num(r.get("initP99"))})
    frame = pd.DataFrame(rows).set_index("t").sort_index() if rows else pd.DataFrame()
    return ColdStartSeries(frame)


def aliases(ctx: "AwsContext", fn: "FunctionInfo") -> list[tuple[str, str]]:
    """``aws lambda list-aliases``: (alias, version) pairs."""
    resp = ctx.call("lambda", fn.region, "list_aliases", FunctionName=fn.name)
    return [(a["Name"], a.get("FunctionVersion", "?")) for a in resp.get("Aliases", [])]


def details(ctx: "AwsContext", fn: "FunctionInfo", cache_dir: Any = None) -> "FunctionInfo":
    """The reserved concurrency and async destinations the fleet collection read only on need
    (collect/details.py), read now for one function (``aws lambda get-function-concurrency``,
    ``get-function-event-invoke-config``; the details cache first). Fills ``fn`` in place; a failed
    call leaves the detail unknown with its reason (``details_error``), as in the fleet."""
    from lambdaops.aws.inventory import DESTINATIONS, RESERVED, details_cache, read_details, region_limiter
    from lambdaops.errors import ErrorTally

    unread = {d: None for d in (RESERVED, DESTINATIONS) if d in fn.details_unread}
    if unread:
        cache = details_cache(ctx, cache_dir)
        read_details(ctx, fn.region, {fn.arn: unread}, [fn], cache, region_limiter(ctx, fn.region), ErrorTally())
        cache.save()  # the next fleet collection finds them
    return fn


def traces(ctx: "AwsContext", fn: "FunctionInfo", window: Window, top: int = 10) -> tuple[list["Trace"], list["Trace"]]:
    """The ``top`` slowest and the ``top`` cold-start traces of the window."""
    from lambdaops.aws import xray

    return xray.slow_and_cold(ctx, fn.region, fn.name, window.start, window.end, top=top)


def trace(ctx: "AwsContext", region: str, trace_id: str) -> "Trace":
    """One trace with its spans, its start and duration taken from them."""
    from lambdaops.aws import xray

    t = xray.Trace(trace_id, 0.0, 0.0, 0.0)
    xray.fill_documents(ctx, region, [t])
    if not t.spans:
        # "X-Ray retains trace data for 30 days" (AWS X-Ray concepts, AWS X-Ray Developer Guide)
        raise NotFoundError(f"trace {trace_id} not found (X-Ray keeps traces 30 days)", region=region)
    t.start = min(s.start for s in t.spans)
    t.duration_ms = (max(s.end for s in t.spans) - t.start) * 1000
    return t


def _num(value: Any) -> float | None:
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None
