"""The one collection step shared by the TUI and ``lambdaops report``.

For a window and a selection of functions across regions: the inventory, then per region in
parallel one packed GetMetricData run (every metric figure, and with ``compare_previous`` the
preceding window in the same calls), one Logs Insights run of ``queries/cold-starts`` (50 log groups
per query), and SQS depth for the DLQs; then the pure analysis. What fails is recorded per region
or per figure and shown as missing, never as zero: each failure is an ``errors`` entry (region,
operation, how many failed, one line), each figure it left unknown is null and named in the table's
``missing`` column, so no report is green while figures are missing. Every API request is counted,
retries too.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import time
from concurrent.futures import ThreadPoolExecutor, wait as wait_futures
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pandas as pd

from lambdaops.analysis.fleet import FIGURES, analyze, iterator_age_growth
from lambdaops.analysis.thresholds import Thresholds
from lambdaops.aws.context import AwsContext
from lambdaops.aws.inventory import DESTINATIONS, InventoryOptions, details_cache, fleet_inventory
from lambdaops.aws.inventory_cache import INVENTORY_TTL_S
from lambdaops.aws.metrics import LAMBDA_NAMESPACE as LAMBDA, MAX_QUERIES_PER_CALL, MetricQuery, get_metric_data
from lambdaops.models import FunctionInfo, Inventory, RegionError, arn_name
from lambdaops.dlq.discovery import function_depths, region_dlqs
from lambdaops.aws.errors import call_translated
from lambdaops.collect import details as on_need, log_bins
from lambdaops.collect.log_figures import LOG_FIGURES, group_users, log_figures
from lambdaops.collect.meter import Meter, add, run_cost
from lambdaops.errors import ErrorTally, LambdaopsError, UsageError
from lambdaops.window import Window, fit_period, periods

# figure -> (metric, stat); IteratorAge only for stream consumers, fetched as a short series.
METRIC_FIGURES = {
    "invocations": ("Invocations", "Sum"),
    "errors": ("Errors", "Sum"),
    "throttles": ("Throttles", "Sum"),
    "duration_p50_ms": ("Duration", "p50"),
    "duration_p90_ms": ("Duration", "p90"),
    "duration_p99_ms": ("Duration", "p99"),
    "duration_max_ms": ("Duration", "Maximum"),
    "max_concurrency": ("ConcurrentExecutions", "Maximum"),
}
COUNT_FIGURES = {"invocations", "errors", "throttles"}
# Report figures computed from others: missing when an input is.
DERIVED_FROM = {
    "error_rate": ("invocations", "errors"),
    "throttle_rate": ("invocations", "throttles"),
    "cold_start_rate": ("cold_starts", "log_invocations"),
    "billed_gb_seconds": ("billed_ms",),
    "cost_usd": ("billed_ms", "invocations"),
}
AGE_POINTS = 6  # IteratorAge as a short series: enough to see a consumer falling behind


@dataclass
class CollectOptions:
    window: Window
    globs: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    compare_previous: bool = False
    insights: bool = True  # False: raw REPORT lines through FilterLogEvents instead
    insights_concurrency: int = 10
    raw_row_limit: int = 50_000  # REPORT lines per log group with --raw-logs; 0: read every line
    thresholds: Thresholds = field(default_factory=Thresholds)
    cache_dir: Any = None
    progress: Callable[[str], None] | None = None
    meter: Meter | None = None  # metrics requested and bytes Insights scanned (the TUI's cost header)
    now: datetime | None = None  # the clock Insights bins are judged closed by (the TUI's); None: the wall clock
    # Per region, once its metrics and DLQ depths are in and before Logs Insights runs (the TUI fills
    # its metric columns then): (region, one record per function: identity, metric figures,
    # dlq_depth, and ``missing``: the figures that could not be fetched). Called from worker threads.
    on_metrics: Callable[[str, list[dict[str, Any]]], None] | None = None
    # A listing kept this long (seconds) is used instead of listing again; 0: list afresh (the TUI's
    # ``r``). Only with ``cache_dir`` (``--no-cache`` always lists). See lambdaops.aws.inventory_cache.
    inventory_max_age_s: float = INVENTORY_TTL_S


@dataclass
class FleetSnapshot:
    window: Window
    regions: list[str]
    functions: list[FunctionInfo]
    table: pd.DataFrame  # analysis output, one row per function
    previous: pd.DataFrame | None
    errors: list[dict[str, Any]]
    api_calls: dict[str, int]
    notes: list[str] = field(default_factory=list)
    generated_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    elapsed_s: float = 0.0
    api_retries: dict[str, int] = field(default_factory=dict)  # of api_calls, the retried attempts
    failed_regions: list[str] = field(default_factory=list)  # regions whose inventory or collection failed
    cost: dict[str, Any] = field(default_factory=dict)  # this run: calls, Insights bytes paid and saved (meter.run_cost)
    inventory: dict[str, Any] = field(default_factory=dict)  # how old the listing is (inventory_age)

    def missing_count(self) -> int:
        """Figures that could not be fetched (the table's ``missing`` column, summed)."""
        if "missing" not in self.table:
            return 0
        return int(sum(len(m) for m in self.table["missing"]))

    def nothing_collected(self) -> bool:
        """Every region failed, or no figure of any function could be fetched."""
        if self.regions and len(set(self.failed_regions)) >= len(self.regions):
            return True
        if not len(self.table) or "missing" not in self.table:
            return False
        fetched = (set(METRIC_FIGURES) | set(LOG_FIGURES)) & set(FIGURES)
        return all(fetched <= set(m) for m in self.table["missing"])

    def has_gaps(self) -> bool:
        return bool(self.errors) or self.missing_count() > 0


def select(functions: list[FunctionInfo], globs: list[str], tags: dict[str, str]) -> list[FunctionInfo]:
    chosen = functions
    if globs:
        chosen = [f for f in chosen if any(fnmatch.fnmatchcase(f.name, g) for g in globs)]
    if tags:
        chosen = [f for f in chosen if all(f.tags.get(k) == v for k, v in tags.items())]
    return chosen


def _metric_queries(fn: FunctionInfo, period: int, age_period: int) -> list[MetricQuery]:
    dims = (("FunctionName", fn.name),)
    qs = [MetricQuery((fn.region, fn.name, fig), LAMBDA, metric, dims, stat, period)
          for fig, (metric, stat) in METRIC_FIGURES.items()]
    if fn.is_stream_consumer:
        qs.append(MetricQuery((fn.region, fn.name, "iterator_age"), LAMBDA, "IteratorAge", dims, "Maximum", age_period))
    return qs


def _figures_from_metrics(results, failed, fn: FunctionInfo, period_start: datetime) -> dict[str, Any]:
    """The value of each figure for the period starting at ``period_start`` (None when the figure
    could not be fetched; 0 for counts with no datapoint)."""
    out: dict[str, Any] = {}
    for fig in METRIC_FIGURES:
        key = (fn.region, fn.name, fig)
        if key in failed:
            out[fig] = None
            continue
        value = results[key].at(period_start)
        out[fig] = (0.0 if fig in COUNT_FIGURES else None) if value is None else value
    if out.get("invocations") == 0 and out.get("max_concurrency") is None \
            and (fn.region, fn.name, "max_concurrency") not in failed:
        # Lambda emits a datapoint only when non-zero: with no invocation nothing ran at once.
        out["max_concurrency"] = 0.0
    return out


def collect_fleet(ctx: AwsContext, opts: CollectOptions) -> FleetSnapshot:
    t0 = time.perf_counter()
    opts = dataclasses.replace(opts, meter=Meter(parent=opts.meter))  # this run's cost, added to the caller's meter
    calls_before = ctx.calls.total  # the TUI's context counts every refresh
    say = opts.progress or (lambda msg: None)
    win = opts.window
    try:
        # One period covering the whole (aligned) window: each figure is one datapoint; with
        # compare_previous the same queries start one window earlier and return two datapoints.
        cut = periods(win, oldest=win.previous().start if opts.compare_previous else None)
    except ValueError as exc:
        raise UsageError(f"window starts too long ago: {exc}") from None
    say("listing functions")
    # Bulk calls only: per-function details come after the metrics, for the chosen functions that need them.
    started = time.time()
    inv = fleet_inventory(ctx, opts=InventoryOptions(details=False, cache_dir=opts.cache_dir,
                                                     max_age_s=opts.inventory_max_age_s))
    cache = details_cache(ctx, opts.cache_dir)
    errors = [e.to_dict() for e in inv.errors] + list(inv.detail_errors)
    tally = ErrorTally()  # this collection's failures, per region and operation
    chosen = select(inv.functions, opts.globs, opts.tags)
    if (opts.globs or opts.tags) and not chosen and any(t < started for t in inv.listed_at.values()):
        # nothing matches in a kept listing: the function may be newer than it, so list afresh once
        inv = fleet_inventory(ctx, opts=InventoryOptions(details=False, cache_dir=opts.cache_dir, max_age_s=0))
        chosen = select(inv.functions, opts.globs, opts.tags)
    if (opts.globs or opts.tags) and not chosen and inv.functions:
        what = " ".join(opts.globs + [f"{k}={v}" for k, v in opts.tags.items()])
        raise UsageError(f"no function matches {what} (in {', '.join(inv.regions)}; {len(inv.functions)} functions)")
    start, period = cut.start, cut.period
    query_start = start - timedelta(seconds=period) if opts.compare_previous else start
    # EndTime is exclusive and clips the last period: nothing after the window leaks in.
    query_end = win.end
    age_period = fit_period(period / AGE_POINTS, cut.floor)
    regions = sorted({f.region for f in chosen})
    by_region = {r: [f for f in chosen if f.region == r] for r in regions}
    records: dict[tuple[str, str], dict[str, Any]] = {}
    previous: dict[tuple[str, str], dict[str, Any]] = {}
    notes: list[str] = []
    missing: dict[tuple[str, str], set[str]] = {}  # figures that could not be fetched, per function
    broken: set[str] = set()  # regions whose collection failed part-way
    store = log_bins.store_for(ctx, chosen, opts.cache_dir) if opts.insights else None  # not for --raw-logs

    def one_region(region: str) -> None:
        """A region whose collection fails part-way (e.g. an endpoint that stops answering) keeps
        its functions in the report with every figure missing, and its error is recorded."""
        try:
            call_translated(collect_region, region, region=region)
        except LambdaopsError as err:
            tally.add_error(err, region=region)
            broken.add(region)
            for fn in by_region[region]:
                key = (fn.region, fn.name)
                records[key] = {**_identity(fn), **{f: None for f in (*METRIC_FIGURES, *LOG_FIGURES)},
                                "dlq_depth": None, "iterator_age_max_ms": None}
                missing[key] = set(METRIC_FIGURES) | set(LOG_FIGURES) | {"dlq_depth"} | (
                    {"iterator_age_max_ms"} if fn.is_stream_consumer else set())
                if opts.compare_previous:
                    previous[key] = dict(records[key])

    def collect_region(region: str) -> None:
        fns = by_region[region]
        say(f"{region}: metrics and Logs Insights for {len(fns)} functions")
        # Logs Insights needs nothing from the metrics: its queries start with GetMetricData, not after
        # it, so they run while it answers (a query takes seconds on AWS, GetMetricData well under one).
        failed_groups: set[str] = set()
        log_notes: list[str] = []
        logs_job = logs_pool.submit(call_translated, log_figures, ctx, region, fns, win, opts, tally, log_notes,
                                    failed_groups, store, region=region)
        try:
            queries = [q for fn in fns for q in (*_metric_queries(fn, period, age_period),
                                                 *on_need.metric_queries(fn, period, cache))]
            metrics = get_metric_data(ctx, region, queries, query_start, query_end)
            add(opts.meter, metrics=len(queries))
            _tally_metric_failures(tally, region, metrics)
            details = on_need.DetailsJob(ctx, region, fns, metrics.results, metrics.failed, cache, tally)
            if opts.on_metrics is not None:  # the DLQ depths follow: they need the destinations read with Insights
                opts.on_metrics(region, [_metrics_record(fn, metrics, start) for fn in fns])
        finally:
            # A failed metrics read fails the region; its queries are still waited for, so no call of
            # this collection runs after it returns.
            wait_futures([logs_job])
        logs, logs_prev = logs_job.result()
        notes.extend(log_notes)
        done = details.wait()  # the destinations the DLQ depths need
        notes.extend(done.notes)
        if done.error is not None:
            raise done.error
        dlq = _dlq_depths(ctx, region, fns, tally, notes, cache)
        sharing = group_users(fns)
        for fn in fns:
            key = (fn.region, fn.name)
            rec = _identity(fn)
            rec.update(_figures_from_metrics(metrics.results, metrics.failed, fn, start))
            missing[key] = _missing_figures(fn, rec, metrics, failed_groups)
            age_key = (fn.region, fn.name, "iterator_age")
            if age_key in metrics.results:
                series = metrics.results[age_key]
                in_window = [v for t, v in zip(series.timestamps, series.values) if t >= start]
                rec["iterator_age_max_ms"] = max(in_window) if in_window else None
                rec["iterator_age_growth"] = iterator_age_growth(in_window)
            if "iterator_age_max_ms" in missing[key]:
                rec["iterator_age_max_ms"] = None
            depth = dlq.get(fn.name)
            rec["dlq_depth"], rec["dlq_in_flight"] = (depth.depth, depth.in_flight) if depth else (None, None)
            if DESTINATIONS in fn.details_failed or (depth is not None and depth.unread):
                # its on-failure destination is unknown, or a queue could not be read: a gap, not "no DLQ"
                rec["dlq_depth"] = rec["dlq_in_flight"] = None
                missing[key].add("dlq_depth")
            rec.update(logs.for_function(fn, sharing, rec.get("invocations"), notes, ""))
            records[key] = rec
            if opts.compare_previous:
                prev = _identity(fn)
                prev.update(_figures_from_metrics(metrics.results, metrics.failed, fn, query_start))
                if age_key in metrics.results:
                    series = metrics.results[age_key]
                    before = [v for t, v in zip(series.timestamps, series.values) if t < start]
                    prev["iterator_age_max_ms"] = max(before) if before else None
                prev.update(logs_prev.for_function(fn, sharing, prev.get("invocations"), notes, "previous window: "))
                previous[key] = prev

    with ThreadPoolExecutor(max_workers=max(1, len(regions)), thread_name_prefix="collect") as pool, \
            ThreadPoolExecutor(max_workers=max(1, len(regions)), thread_name_prefix="collect-logs") as logs_pool:
        list(pool.map(one_region, regions))
    cache.save()
    order = [(f.region, f.name) for f in chosen]
    table = analyze([records[k] for k in order], opts.thresholds)
    table["missing"] = [sorted(f for f in _with_derived(missing.get((r, n), set())) if f in FIGURES)
                        for r, n in zip(table["region"], table["name"])]
    prev_table = analyze([previous[k] for k in order], opts.thresholds) if opts.compare_previous else None
    return FleetSnapshot(window=win, regions=inv.regions, functions=chosen, table=table, previous=prev_table,
                         errors=errors + tally.entries(), api_calls=ctx.calls.snapshot(), notes=notes,
                         elapsed_s=time.perf_counter() - t0, api_retries=ctx.calls.retries(),
                         failed_regions=sorted({e.region for e in inv.errors} | broken),
                         cost=run_cost(ctx.calls.total - calls_before, opts.meter),
                         inventory=inventory_age(inv.listed_at, started, opts.inventory_max_age_s if opts.cache_dir else 0))


def _tally_metric_failures(tally: ErrorTally, region: str, metrics) -> None:
    """One entry per reason: the failed GetMetricData calls (a call carries up to 500 figures)."""
    by_why: dict[str, int] = {}
    for why in metrics.failed.values():
        by_why[why] = by_why.get(why, 0) + 1
    for why, n in sorted(by_why.items()):
        calls = -(-n // MAX_QUERIES_PER_CALL)
        tally.add(region, "GetMetricData", f"{why} ({n} figures missing)", code=why, count=calls)
    partial = sum(1 for r in metrics.results.values() if not r.complete)
    if partial:
        tally.add(region, "GetMetricData", f"CloudWatch answered InternalError for {partial} figures "
                  "(their values are incomplete)", count=partial)


def _missing_figures(fn: FunctionInfo, rec: dict[str, Any], metrics, failed_groups: set[str]) -> set[str]:
    """The report figures of ``fn`` that could not be fetched (not those that do not apply)."""
    out = {fig for fig in METRIC_FIGURES if (fn.region, fn.name, fig) in metrics.failed}
    for fig in METRIC_FIGURES:
        res = metrics.results.get((fn.region, fn.name, fig))
        if res is not None and not res.complete:
            out.add(fig)
            rec[fig] = None
    age_key = (fn.region, fn.name, "iterator_age")
    if age_key in metrics.failed or (age_key in metrics.results and not metrics.results[age_key].complete):
        out.add("iterator_age_max_ms")
    if fn.log_group in failed_groups:
        out.update(LOG_FIGURES)
    return out


def _metrics_record(fn: FunctionInfo, metrics, start: datetime) -> dict[str, Any]:
    """``fn``'s figures known before Logs Insights answers, for ``CollectOptions.on_metrics`` (no
    log figure and no DLQ depth yet: a key left out is one still to come)."""
    rec = {**_identity(fn), **_figures_from_metrics(metrics.results, metrics.failed, fn, start)}
    missing = _missing_figures(fn, rec, metrics, set())
    rec["missing"] = sorted(f for f in _with_derived(missing) if f in FIGURES)
    return rec


def _with_derived(figures: set[str]) -> set[str]:
    return figures | {d for d, inputs in DERIVED_FROM.items() if any(i in figures for i in inputs)}


def _identity(fn: FunctionInfo) -> dict[str, Any]:
    return {"name": fn.name, "region": fn.region, "runtime": fn.runtime or fn.package_type.lower(),
            "architecture": fn.architecture, "memory_mb": fn.memory_mb, "timeout_s": fn.timeout_s,
            "ephemeral_storage_mb": fn.ephemeral_storage_mb}


def _dlq_depths(ctx: AwsContext, region: str, fns: list[FunctionInfo], errors: ErrorTally,
                notes: list, kept=None) -> dict:
    """Per function name: its FunctionDepth from the one DLQ discovery ``dlq list`` and the TUI use
    (depth, in flight, delayed); a depth that cannot be counted is None and a note says why.

    Depths are GetQueueAttributes every run (one call per queue, not per function), not CloudWatch's
    AWS/SQS ApproximateNumberOfMessages* folded into the metric batch: SQS reports those only for
    active queues ("Available CloudWatch metrics for Amazon SQS", SQS Developer Guide), and an empty
    DLQ nobody touches is not active, so most DLQs would need the call anyway; a datapoint is a
    sampled minute that trails a redrive, and AWS asks for several consecutive zero datapoints before
    a queue is taken for empty ("Confirming that a queue is empty"); and the report would disagree
    with ``dlq list``. What is kept (``kept``) are settings: RedrivePolicy, a topic's queues."""
    try:
        found = function_depths(region_dlqs(ctx, region, fns, sources=False, kept=kept), fns)
    except LambdaopsError as exc:
        errors.add_error(exc, region=region)
        return {}
    for name, d in found.items():
        if d.depth is None and d.note:
            notes.append(f"{region} {name}: DLQ depth unknown ({d.note})")
    return found


def inventory_age(listed_at: dict[str, float], started: float, max_age_s: float) -> dict[str, Any]:
    """The report's ``inventory`` block: when each region was listed, the oldest listing's age at
    the run's start, and which regions' listings were kept from an earlier run (a function created
    since is missing from them until they expire after ``max_age_s``)."""
    def iso(t: float) -> str:
        return datetime.fromtimestamp(t, tz=timezone.utc).isoformat().replace("+00:00", "Z")

    oldest = min(listed_at.values()) if listed_at else None
    return {"listed_at": {r: iso(t) for r, t in sorted(listed_at.items())},
            "age_s": None if oldest is None else round(max(0.0, started - oldest), 1),
            "kept": sorted(r for r, t in listed_at.items() if t < started), "max_age_s": max_age_s}


def failure_targets(fn: FunctionInfo) -> list[str]:
    return [arn_name(t) for t in fn.failure_targets() if t]


def functions(ctx: AwsContext, cache_dir: Any = None, max_age_s: float = INVENTORY_TTL_S) -> Inventory:
    """The functions of every region without their per-function details: a few calls per region,
    none when a listing younger than ``max_age_s`` is kept (0: list afresh)."""
    return fleet_inventory(ctx, opts=InventoryOptions(details=False, cache_dir=cache_dir, max_age_s=max_age_s))


__all__ = ["CollectOptions", "FleetSnapshot", "collect_fleet", "functions", "RegionError"]
