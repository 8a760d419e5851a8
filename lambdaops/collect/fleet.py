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

import fnmatch
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pandas as pd

from lambdaops.analysis.fleet import FIGURES, analyze, iterator_age_growth
from lambdaops.analysis.thresholds import Thresholds
from lambdaops.aws.context import AwsContext
from lambdaops.aws.insights import InsightsRunner
from lambdaops.aws.inventory import DESTINATIONS, InventoryOptions, details_cache, fleet_inventory
from lambdaops.aws.metrics import MAX_QUERIES_PER_CALL, MetricQuery, get_metric_data
from lambdaops.models import FunctionInfo, Inventory, RegionError, arn_name
from lambdaops.dlq.discovery import function_depths, region_dlqs
from lambdaops.aws.report_logs import fetch_reports
from lambdaops.aws.errors import call_translated
from lambdaops.collect import details as on_need, query as insights
from lambdaops.collect.meter import Meter, add
from lambdaops.errors import ErrorTally, LambdaopsError, UsageError
from lambdaops.query_files import load as load_query
from lambdaops.window import Window, fit_period, periods

LAMBDA = "AWS/Lambda"
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
SPARK_POINTS = 12


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
        fetched = (set(METRIC_FIGURES) | set(_LOG_FIGURES)) & set(FIGURES)
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
    inv = fleet_inventory(ctx, opts=InventoryOptions(details=False, cache_dir=opts.cache_dir))
    cache = details_cache(ctx, opts.cache_dir)
    errors = [e.to_dict() for e in inv.errors] + list(inv.detail_errors)
    tally = ErrorTally()  # this collection's failures, per region and operation
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
                records[key] = {**_identity(fn), **{f: None for f in (*METRIC_FIGURES, *_LOG_FIGURES)},
                                "dlq_depth": None, "iterator_age_max_ms": None}
                missing[key] = set(METRIC_FIGURES) | set(_LOG_FIGURES) | {"dlq_depth"} | (
                    {"iterator_age_max_ms"} if fn.is_stream_consumer else set())
                if opts.compare_previous:
                    previous[key] = dict(records[key])

    def collect_region(region: str) -> None:
        fns = by_region[region]
        say(f"{region}: metrics for {len(fns)} functions")
        queries = [q for fn in fns for q in (*_metric_queries(fn, period, age_period),
                                             *on_need.metric_queries(fn, period))]
        metrics = get_metric_data(ctx, region, queries, query_start, query_end)
        add(opts.meter, metrics=len(queries))
        _tally_metric_failures(tally, region, metrics)
        details = on_need.DetailsJob(ctx, region, fns, metrics.results, metrics.failed, cache, tally)
        say(f"{region}: Logs Insights over {len(fns)} log groups")
        failed_groups: set[str] = set()
        logs, logs_prev = _log_figures(ctx, region, fns, win, opts, tally, notes, failed_groups)
        done = details.wait()  # the destinations the DLQ depths need
        notes.extend(done.notes)
        if done.error is not None:
            raise done.error
        dlq = _dlq_depths(ctx, region, fns, tally, notes)
        sharing = _group_users(fns)
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

    with ThreadPoolExecutor(max_workers=max(1, len(regions)), thread_name_prefix="collect") as pool:
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
                         failed_regions=sorted({e.region for e in inv.errors} | broken))


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
        out.update(_LOG_FIGURES)
    return out


def _with_derived(figures: set[str]) -> set[str]:
    return figures | {d for d, inputs in DERIVED_FROM.items() if any(i in figures for i in inputs)}


def _identity(fn: FunctionInfo) -> dict[str, Any]:
    return {"name": fn.name, "region": fn.region, "runtime": fn.runtime or fn.package_type.lower(),
            "architecture": fn.architecture, "memory_mb": fn.memory_mb, "timeout_s": fn.timeout_s,
            "ephemeral_storage_mb": fn.ephemeral_storage_mb}


_LOG_FIGURES = ("cold_starts", "init_p50_ms", "init_p99_ms", "memory_used_max_mb", "billed_ms", "timeouts",
                "out_of_memory", "log_invocations")


def _unknown_logs() -> dict[str, Any]:
    return {k: None for k in _LOG_FIGURES}


def _no_logs() -> dict[str, Any]:
    """A function whose logs hold no REPORT line while CloudWatch counted no invocation either."""
    return {"log_invocations": 0.0, "cold_starts": 0.0, "init_p50_ms": None, "init_p99_ms": None,
            "memory_used_max_mb": None, "billed_ms": 0.0, "timeouts": 0.0, "out_of_memory": 0.0}


def _num(value: str | None) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _group_users(fns: list[FunctionInfo]) -> dict[str, int]:
    users: dict[str, int] = {}
    for f in fns:
        users[f.log_group] = users.get(f.log_group, 0) + 1
    return users


@dataclass
class LogResult:
    """Log-derived figures of one region and window, per (log group, function named in the stream:
    "" for the streams of a function's own group), and the groups that could not be read."""
    figures: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)  # log group -> why
    failed: dict[str, str] = field(default_factory=dict)
    region: str = ""

    def for_function(self, fn: FunctionInfo, sharing: dict[str, int], invocations: float | None,
                     notes: list[str], when: str) -> dict[str, Any]:
        """``fn``'s figures: its own rows of a shared group; null with a note when its group is missing
        or the logs hold nothing although CloudWatch counted invocations (never 0 invocations / $0)."""
        group = fn.log_group
        if group in self.missing:
            notes.append(f"{when}{fn.region} {fn.name}: log figures unknown: log group {group} does not exist "
                         f"(a function that never ran has none)")
            return _unknown_logs()
        if group in self.failed:  # the error is reported with the region's errors
            return _unknown_logs()
        found = self.figures.get((group, fn.name))
        if found is None and sharing.get(group, 0) == 1:
            found = self.figures.get((group, ""))
        if found is not None and found.get("log_invocations"):
            return dict(found)
        if invocations == 0:
            return _no_logs()
        counted = "an unknown number of" if invocations is None else f"{invocations:,.0f}"
        notes.append(f"{when}{fn.region} {fn.name}: log figures unknown: no REPORT line of {fn.name} in {group} "
                     f"although CloudWatch counted {counted} invocations")
        return _unknown_logs()


def _log_figures(ctx: AwsContext, region: str, fns: list[FunctionInfo], win: Window, opts: CollectOptions,
                 errors: ErrorTally, notes: list, failed: set[str]) -> tuple[LogResult, LogResult]:
    """Per function: cold starts, init p50/p99, peak memory, billed ms, timeouts, OOMs. The groups
    whose figures could not be fetched (or only in part) are added to ``failed``."""
    groups = sorted({f.log_group for f in fns})
    windows = [win] + ([win.previous()] if opts.compare_previous else [])
    results: list[LogResult] = []
    runner = InsightsRunner(ctx, concurrency=opts.insights_concurrency)  # remembers missing groups
    for i, w in enumerate(windows):
        gaps = failed if i == 0 else set()  # the previous window's gaps show as its nulls only
        if opts.insights:
            results.append(_insights_figures(runner, region, groups, w, errors, gaps, opts.meter))
        else:
            results.append(_raw_figures(ctx, region, groups, w, opts, errors, notes, gaps))
    return results[0], (results[1] if len(results) > 1 else LogResult(region=region))


def _insights_figures(runner: InsightsRunner, region, groups, w: Window, errors: ErrorTally,
                      failed: set[str], meter: Meter | None) -> LogResult:
    query = load_query("cold-starts")
    outcome = insights.run(runner, region, query.text, groups, w, source=str(query.path), meter=meter)
    failed.update(outcome.failed_groups)
    by_why: dict[str, int] = {}
    for why in outcome.failed_groups.values():
        by_why[why] = by_why.get(why, 0) + 1
    for why, n in sorted(by_why.items()):  # a query covers up to 50 groups
        errors.add(region, "StartQuery", f"Logs Insights: {why} ({n} log groups missing)", code=why,
                   count=-(-n // 50))
    res = LogResult(missing=dict(outcome.missing_groups), failed=dict(outcome.failed_groups), region=region)
    for row in outcome.rows:
        group = row.get("@log", "").split(":", 1)[-1]
        used = _num(row.get("maxMemoryUsedMB"))
        res.figures[(group, row.get("streamFunction") or "")] = {
            "log_invocations": _num(row.get("invocations")),
            "cold_starts": _num(row.get("coldStarts")) or 0.0,
            "init_p50_ms": _num(row.get("initP50")),
            "init_p99_ms": _num(row.get("initP99")),
            "memory_used_max_mb": None if used is None else int(used),
            "billed_ms": _num(row.get("billedMs")),
            "timeouts": _num(row.get("timeouts")) or 0.0,
            "out_of_memory": _num(row.get("outOfMemory")) or 0.0,
        }
    return res


def _raw_figures(ctx, region, groups, w: Window, opts: CollectOptions, errors: ErrorTally, notes: list,
                 failed: set[str]) -> LogResult:
    import numpy as np

    lines = fetch_reports(ctx, region, groups, w.start, w.end, row_limit=opts.raw_row_limit or None)
    for g, why in sorted(lines.failed.items()):
        errors.add(region, "FilterLogEvents", f"{g}: {why}", code=why)
    failed.update(lines.failed)
    for g, n in sorted(lines.truncated.items()):
        # A sum over the first lines is not the total: the group's figures are null, not smaller.
        notes.append(f"{region} {g}: raw-log figures left out (null): {n:,} log lines read, the row limit of "
                     f"{opts.raw_row_limit:,} was reached before the end of the window (raise --raw-row-limit, "
                     f"0 reads every line, or use Logs Insights)")
        failed.add(g)
    res = LogResult(missing=dict(lines.missing), failed={**lines.failed, **{g: "row limit" for g in lines.truncated}},
                    region=region)
    for g, per_function in lines.figures.items():
        if g in lines.truncated:
            continue
        for name, figs in per_function.items():
            cold = np.array(figs.cold_ms, dtype=float)
            res.figures[(g, name)] = {
                "log_invocations": float(figs.invocations),
                "cold_starts": float(cold.size),
                "init_p50_ms": float(np.percentile(cold, 50)) if cold.size else None,
                "init_p99_ms": float(np.percentile(cold, 99)) if cold.size else None,
                "memory_used_max_mb": figs.max_memory_mb,
                "billed_ms": float(figs.billed_ms),
                "timeouts": float(len(figs.timeout_ids)),
                "out_of_memory": float(len(figs.oom_ids)),
            }
    return res


def _dlq_depths(ctx: AwsContext, region: str, fns: list[FunctionInfo], errors: ErrorTally,
                notes: list) -> dict:
    """Per function name: its FunctionDepth from the one DLQ discovery ``dlq list`` and the TUI use
    (depth, in flight, delayed); a depth that cannot be counted is None and a note says why."""
    try:
        found = function_depths(region_dlqs(ctx, region, fns, sources=False), fns)
    except LambdaopsError as exc:
        errors.add_error(exc, region=region)
        return {}
    for name, d in found.items():
        if d.depth is None and d.note:
            notes.append(f"{region} {name}: DLQ depth unknown ({d.note})")
    return found


def failure_targets(fn: FunctionInfo) -> list[str]:
    return [arn_name(t) for t in fn.failure_targets() if t]


def functions(ctx: AwsContext, cache_dir: Any = None) -> Inventory:
    """The functions of every region without their per-function details: a few calls per region."""
    return fleet_inventory(ctx, opts=InventoryOptions(details=False, cache_dir=cache_dir))


def sparklines(ctx: AwsContext, fns: list[FunctionInfo], window: Window, *, points: int = SPARK_POINTS,
               meter: Meter | None = None) -> dict[tuple[str, str], list[float]]:
    """Invocations per (region, function) in about ``points`` periods (0 where CloudWatch has no
    datapoint); functions whose metric could not be fetched are left out."""
    cut = periods(window, points)
    out: dict[tuple[str, str], list[float]] = {}
    for region in sorted({f.region for f in fns}):
        in_region = [f for f in fns if f.region == region]
        queries = [MetricQuery((f.name,), LAMBDA, "Invocations", (("FunctionName", f.name),), "Sum", cut.period)
                   for f in in_region]
        res = get_metric_data(ctx, region, queries, cut.start, window.end)
        add(meter, metrics=len(queries))
        for f in in_region:
            if (f.name,) in res.failed:
                continue
            r = res.results[(f.name,)]
            values = dict(zip((t.timestamp() for t in r.timestamps), r.values))
            out[(region, f.name)] = [values.get(t.timestamp(), 0.0) for t in cut.grid()]
    return out


__all__ = ["CollectOptions", "FleetSnapshot", "collect_fleet", "functions", "sparklines", "RegionError"]
