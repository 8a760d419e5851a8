"""The log-derived figures of the fleet collection, per (log group, function named in the stream):
cold starts, INIT p50/p99, peak memory, billed time, timeouts and OOMs, from one Logs Insights run of
``queries/cold-starts`` per region and window (per closed bin through the store, see log_bins), or
from raw REPORT lines (``--raw-logs``). A group that could not be read leaves its functions' figures
null, never 0."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lambdaops.aws.context import AwsContext
from lambdaops.aws.insights import InsightsRunner
from lambdaops.aws.report_logs import fetch_reports
from lambdaops.collect import log_bins, query as insights
from lambdaops.collect.meter import Meter
from lambdaops.errors import ErrorTally
from lambdaops.models import FunctionInfo
from lambdaops.query_files import load as load_query
from lambdaops.store import Store
from lambdaops.window import Window

if TYPE_CHECKING:  # the options are the fleet collection's
    from lambdaops.collect.fleet import CollectOptions


LOG_FIGURES = ("cold_starts", "init_p50_ms", "init_p99_ms", "memory_used_max_mb", "billed_ms", "timeouts",
                "out_of_memory", "log_invocations")


def unknown_logs() -> dict[str, Any]:
    return {k: None for k in LOG_FIGURES}


def no_logs() -> dict[str, Any]:
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


def group_users(fns: list[FunctionInfo]) -> dict[str, int]:
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
            return unknown_logs()
        if group in self.failed:  # the error is reported with the region's errors
            return unknown_logs()
        found = self.figures.get((group, fn.name))
        if found is None and sharing.get(group, 0) == 1:
            found = self.figures.get((group, ""))
        if found is not None and found.get("log_invocations"):
            return dict(found)
        if invocations == 0:
            return no_logs()
        counted = "an unknown number of" if invocations is None else f"{invocations:,.0f}"
        notes.append(f"{when}{fn.region} {fn.name}: log figures unknown: no REPORT line of {fn.name} in {group} "
                     f"although CloudWatch counted {counted} invocations")
        return unknown_logs()


def log_figures(ctx: AwsContext, region: str, fns: list[FunctionInfo], win: Window, opts: CollectOptions,
                 errors: ErrorTally, notes: list, failed: set[str],
                 store: Store | None = None) -> tuple[LogResult, LogResult]:
    """Per function: cold starts, init p50/p99, peak memory, billed ms, timeouts, OOMs. The groups
    whose figures could not be fetched (or only in part) are added to ``failed``."""
    groups = sorted({f.log_group for f in fns})
    windows = [win] + ([win.previous()] if opts.compare_previous else [])
    results: list[LogResult] = []
    runner = InsightsRunner(ctx, concurrency=opts.insights_concurrency)  # remembers missing groups
    # the whole region's fleet (no --functions/--tag): its Lambda groups may be read in one query
    prefix = None if (opts.globs or opts.tags) else "/aws/lambda/"
    revisions: dict[str, list[str]] = {}
    for f in fns:
        revisions.setdefault(f.log_group, []).append(f"{f.name}@{f.revision_id or ''}@{f.last_modified or ''}")
    for i, w in enumerate(windows):
        gaps = failed if i == 0 else set()  # the previous window's gaps show as its nulls only
        if opts.insights:
            results.append(insights_figures(runner, region, groups, w, errors, gaps, opts.meter, store=store,
                                             concurrency=opts.insights_concurrency, notes=notes,
                                             now=opts.now, source_prefix=prefix,
                                             revisions={g: " ".join(sorted(r)) for g, r in revisions.items()}))
        else:
            results.append(raw_figures(ctx, region, groups, w, opts, errors, notes, gaps))
    return results[0], (results[1] if len(results) > 1 else LogResult(region=region))


def insights_figures(runner: InsightsRunner, region, groups, w: Window, errors: ErrorTally,
                      failed: set[str], meter: Meter | None, *, store: Store | None = None,
                      concurrency: int = 10, notes: list | None = None, now=None,
                      source_prefix: str | None = None, revisions: dict[str, str] | None = None) -> LogResult:
    """With a store: closed bins and open bins' beginnings from it, the rest from Insights
    (log_bins; ``now``, a datetime, judges which bins are closed: default the wall clock); without:
    one query over the window."""
    if store is not None:
        binned = log_bins.collect(runner, region, groups, w, store, meter=meter, concurrency=concurrency,
                                  now=None if now is None else now.timestamp(), source_prefix=source_prefix,
                                  revisions=revisions)
        if notes is not None:
            notes.extend(binned.notes)
        tally_insights_failures(errors, region, binned.failed)
        failed.update(binned.failed)
        res = LogResult(missing=dict(binned.missing), failed=dict(binned.failed), region=region)
        res.figures = {k: c.figures() for k, c in binned.cells.items()}
        return res
    query = load_query("cold-starts")
    outcome = insights.run(runner, region, query.text, groups, w, source=str(query.path), meter=meter)
    failed.update(outcome.failed_groups)
    tally_insights_failures(errors, region, outcome.failed_groups)
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


def tally_insights_failures(errors: ErrorTally, region: str, failed_groups: dict[str, str]) -> None:
    by_why: dict[str, int] = {}
    for why in failed_groups.values():
        by_why[why] = by_why.get(why, 0) + 1
    for why, n in sorted(by_why.items()):  # a query covers up to 50 groups
        errors.add(region, "StartQuery", f"Logs Insights: {why} ({n} log groups missing)", code=why,
                   count=-(-n // 50))


def raw_figures(ctx, region, groups, w: Window, opts: CollectOptions, errors: ErrorTally, notes: list,
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
