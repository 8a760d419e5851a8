"""Everything the TUI reads from AWS, as blocking calls for thread workers (no textual here).

The screens never touch the AWS layer themselves: they start a worker that calls one method of
:class:`Backend` and posts the result back as a message. The backend owns the clock (frozen in
screenshots and tests), the AWS context (connected lazily: the demo account starts in a worker while
the first frame is already on screen) and the count of what watching has cost so far.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable

from lambdaops.analysis.thresholds import Thresholds
from lambdaops.config import REFRESH_FLOOR_S, parse_duration
from lambdaops.errors import ConfigError, LambdaopsError, ServiceError
from lambdaops.tui.api_cost import ApiUsage, estimate
from lambdaops.tui.fleet_model import row_key

# pandas, boto3 and the AWS layer take about 1.5 s to import: they are imported by the worker that
# first needs them, not before the first frame.
if TYPE_CHECKING:
    import pandas as pd

    from lambdaops.aws.context import AwsContext
    from lambdaops.aws.insights import InsightsOutcome
    from lambdaops.aws.models import FunctionInfo, Inventory
    from lambdaops.aws.xray import Trace
    from lambdaops.snapshot import FleetSnapshot, Window

LAMBDA = "AWS/Lambda"
SPARK_POINTS = 12
CHART_POINTS = 60
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
class TuiSettings:
    window_s: int = 3 * 3600
    refresh_s: int = 60
    write: bool = False
    thresholds: Thresholds = field(default_factory=Thresholds)
    insights_concurrency: int = 10

    @classmethod
    def from_state(cls, state) -> "TuiSettings":
        s = state.settings()
        return cls(window_s=parse_duration(s.window), refresh_s=max(REFRESH_FLOOR_S, int(s.refresh)),
                   write=bool(s.write), thresholds=Thresholds.from_config(s.thresholds),
                   insights_concurrency=int(s.insights_concurrency))


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


class Backend:
    def __init__(self, connect: Callable[[], "AwsContext"], *, clock: Callable[[], datetime] | None = None,
                 settings: TuiSettings | None = None, cache_dir: Any = None, label: str = "",
                 for_profile: Callable[[str, list[str]], "AwsContext"] | None = None,
                 profiles: Callable[[], list[str]] | None = None) -> None:
        self._connect = connect
        # ``R`` may switch profiles where these are given (a real account; the demo has one):
        # ``for_profile(name, regions)`` resolves and checks a context, ``profiles()`` lists the names.
        self._for_profile = for_profile
        self._profiles = profiles
        self._ctx: AwsContext | None = None
        self._lock = threading.Lock()
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.settings = settings or TuiSettings()
        self.cache_dir = cache_dir
        self.label = label  # e.g. "demo": shown beside the account id
        self._account: str | None = None
        self._metrics = 0
        self._insights_bytes = 0.0

    # -- connection ------------------------------------------------------------------------
    @property
    def ctx(self) -> "AwsContext":
        """The AWS context, connecting on first use (the demo account starts here: seconds)."""
        with self._lock:
            if self._ctx is None:
                self._ctx = self._connect()
            return self._ctx

    @property
    def connected(self) -> bool:
        return self._ctx is not None

    def account_id(self) -> str | None:
        if self._account is None:
            self._account = self.ctx.account_id()
        return self._account

    @property
    def regions(self) -> list[str]:
        return list(self._ctx.regions) if self._ctx is not None else []

    @property
    def can_switch_profile(self) -> bool:
        return self._for_profile is not None

    @property
    def profile(self) -> str | None:
        return self._ctx.profile if self._ctx is not None else None

    def profiles(self) -> list[str]:
        return self._profiles() if self._profiles is not None else []

    def switch_profile(self, profile: str, regions: list[str] | None = None) -> str | None:
        """Resolve ``profile`` (credentials checked: an expired SSO token fails here, in one line)
        for ``regions`` (default: those watched now), then watch it; the old context stays if this
        raises. Returns the new account id. What watching cost is counted afresh: it is another
        account's bill."""
        if self._for_profile is None:
            raise ConfigError("this session cannot switch profiles (the demo account has one)")
        ctx = self._for_profile(profile, list(regions or self.regions))
        account = ctx.account_id()
        with self._lock:
            self._ctx, self._account = ctx, account
            self._metrics, self._insights_bytes = 0, 0.0
            self.label = profile
        return account

    def set_regions(self, regions: list[str]) -> None:
        # A new list, not an in-place edit: a worker iterating the old one keeps a consistent view.
        self.ctx.regions = list(regions)

    def now(self) -> datetime:
        return self.clock()

    def window(self, seconds: int | None = None) -> "Window":
        from lambdaops.snapshot import Window

        end = self.now()
        return Window(end - timedelta(seconds=seconds or self.settings.window_s), end)

    def usage(self) -> ApiUsage:
        calls = self._ctx.calls.snapshot() if self._ctx is not None else {}
        with self._lock:
            return estimate(calls, self._metrics, self._insights_bytes)

    def _count(self, metrics: int = 0, insights_bytes: float = 0.0) -> None:
        with self._lock:
            self._metrics += metrics
            self._insights_bytes += insights_bytes

    # -- fleet -----------------------------------------------------------------------------
    def inventory(self) -> "Inventory":
        """Functions without the per-function details: a few calls per region, for the first paint."""
        from lambdaops.aws.inventory import InventoryOptions, fleet_inventory

        return fleet_inventory(self.ctx, opts=InventoryOptions(details=False, cache_dir=self.cache_dir))

    def collect(self, window: "Window", progress: Callable[[str], None] | None = None) -> "FleetSnapshot":
        from lambdaops.snapshot import CollectOptions, collect_fleet

        s = self.settings
        snap = collect_fleet(self.ctx, CollectOptions(window=window, thresholds=s.thresholds,
                                                      insights_concurrency=s.insights_concurrency,
                                                      cache_dir=self.cache_dir, progress=progress))
        self._count(metrics=sum(8 + f.is_stream_consumer for f in snap.functions))
        return snap

    def sparklines(self, functions: list["FunctionInfo"], window: "Window") -> dict[str, list[float]]:
        """Invocations per function in SPARK_POINTS periods: one metric per function, packed 500 a call."""
        from lambdaops.aws.metrics import MetricQuery, align_start, fit_period, get_metric_data, minimum_period

        floor = minimum_period(window.start)
        start = align_start(window.start, floor)
        period = fit_period((window.end - start).total_seconds() / SPARK_POINTS, floor)
        out: dict[str, list[float]] = {}
        for region in sorted({f.region for f in functions}):
            fns = [f for f in functions if f.region == region]
            queries = [MetricQuery((f.name,), LAMBDA, "Invocations", (("FunctionName", f.name),), "Sum", period)
                       for f in fns]
            res = get_metric_data(self.ctx, region, queries, start, window.end)
            self._count(metrics=len(queries))
            grid = _grid(start, window.end, period)
            for f in fns:
                if (f.name,) in res.failed:
                    continue
                r = res.results[(f.name,)]
                values = dict(zip((t.timestamp() for t in r.timestamps), r.values))
                out[row_key(region, f.name)] = [values.get(t.timestamp(), 0.0) for t in grid]
        return out

    # -- one function ----------------------------------------------------------------------
    def charts(self, fn: "FunctionInfo", window: "Window") -> ChartData:
        import pandas as pd

        from lambdaops.analysis.fleet import time_series
        from lambdaops.aws.metrics import MetricQuery, align_start, fit_period, get_metric_data, minimum_period

        floor = max(300, minimum_period(window.start))  # 5-minute multiples: the cold-start bins' grid too
        start = align_start(window.start, floor)
        period = fit_period((window.end - start).total_seconds() / CHART_POINTS, floor)
        dims = (("FunctionName", fn.name),)
        queries = [MetricQuery((label,), LAMBDA, metric, dims, stat, period) for _, label, metric, stat in CHART_METRICS]
        if fn.is_stream_consumer:
            queries.append(MetricQuery(("iterator_age",), LAMBDA, "IteratorAge", dims, "Maximum", period))
        res = get_metric_data(self.ctx, fn.region, queries, start, window.end)
        self._count(metrics=len(queries))
        points = {q.key[0]: (res.results[q.key].timestamps, res.results[q.key].values)
                  for q in queries if q.key not in res.failed}
        frame = time_series(points, counts=COUNT_SERIES)
        frame = frame.reindex(pd.DatetimeIndex(_grid(start, window.end, period)))
        for c in COUNT_SERIES:
            if c in frame:
                frame[c] = frame[c].fillna(0.0)
        return ChartData(frame, period, {q.key[0]: why for q, why in
                                         ((q, res.failed.get(q.key)) for q in queries) if why})

    def cold_starts(self, fn: "FunctionInfo", window: "Window") -> ColdStartSeries:
        """Cold-start rate and INIT p99 in 5-minute bins (``queries/cold-starts-over-time``)."""
        import pandas as pd

        from lambdaops.query_files import load as load_query

        query = load_query("cold-starts-over-time")
        out = self.run_insights(fn, query.text, window, source=str(query.path))
        if out.failed_groups or out.missing_groups:
            why = {**out.failed_groups, **out.missing_groups}
            return ColdStartSeries(pd.DataFrame(), next(iter(why.values())))
        rows = []
        for r in out.rows:
            ts = pd.Timestamp(r.get("bin(5m)"), tz="UTC")
            inv, cold = _num(r.get("invocations")) or 0.0, _num(r.get("coldStarts")) or 0.0
            rows.append({"t": ts, "invocations": inv, "cold_starts": cold,
                         "cold_rate": cold / inv * 100 if inv else 0.0, "init_p99": _num(r.get("initP99"))})
        frame = pd.DataFrame(rows).set_index("t").sort_index() if rows else pd.DataFrame()
        return ColdStartSeries(frame)

    def run_insights(self, fn: "FunctionInfo", text: str, window: "Window", *, limit: int = 1000,
                     source: str | None = None) -> "InsightsOutcome":
        from lambdaops.aws.insights import InsightsRunner

        runner = InsightsRunner(self.ctx, concurrency=self.settings.insights_concurrency)
        # Insights' endTime is inclusive to the second: stop one second before the (exclusive) end.
        out = runner.run(fn.region, text, [fn.log_group], window.start, window.end - timedelta(seconds=1),
                         limit=limit, source=source)
        self._count(insights_bytes=out.bytes_scanned)
        return out

    def aliases(self, fn: "FunctionInfo") -> list[tuple[str, str]]:
        """``aws lambda list-aliases``: (alias, version) pairs."""
        resp = self.ctx.call("lambda", fn.region, "list_aliases", FunctionName=fn.name)
        return [(a["Name"], a.get("FunctionVersion", "?")) for a in resp.get("Aliases", [])]

    def traces(self, fn: "FunctionInfo", window: "Window", top: int = 10) -> tuple[list["Trace"], list["Trace"]]:
        from lambdaops.aws import xray

        return xray.slow_and_cold(self.ctx, fn.region, fn.name, window.start, window.end, top=top)

    def trace(self, region: str, trace_id: str) -> "Trace":
        from lambdaops.aws import xray

        t = xray.Trace(trace_id, 0.0, 0.0, 0.0)
        xray.fill_documents(self.ctx, region, [t])
        if not t.spans:
            raise ServiceError(f"trace {trace_id} not found (X-Ray keeps traces 30 days)", region=region)
        t.start = min(s.start for s in t.spans)
        t.duration_ms = (max(s.end for s in t.spans) - t.start) * 1000
        return t


def _num(value: Any) -> float | None:
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def _grid(start: datetime, end: datetime, period: int) -> list[datetime]:
    out, t = [], start
    while t < end:
        out.append(t)
        t += timedelta(seconds=period)
    return out


def error_text(exc: BaseException) -> str:
    """One line for a notification: our errors say it themselves; anything else is named."""
    if isinstance(exc, LambdaopsError):
        return exc.one_line()
    return f"{type(exc).__name__}: {exc}"
