"""Logs Insights runs over a window: the one place a window becomes StartQuery's time range, and the
query loop of ``lambdaops query`` and the TUI's Logs tab (one query file or typed query over the log
groups of the chosen functions, region by region).

StartQuery's ``endTime`` is inclusive ("The range is inclusive, so the specified end time is included
in the query", StartQuery, Amazon CloudWatch Logs API Reference) and counted in whole seconds, while a
window's end is exclusive: every run stops one second before the window's end, so an event at the end
second is not counted in two adjacent windows (the report's compare-previous, a refresh).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from lambdaops.aws.insights import InsightsOutcome, InsightsRunner
from lambdaops.collect.meter import Meter, add

if TYPE_CHECKING:
    from lambdaops.aws.context import AwsContext
    from lambdaops.models import FunctionInfo
    from lambdaops.window import Window


def time_range(window: "Window") -> tuple[datetime, datetime]:
    """StartQuery's (startTime, endTime) for ``window``: both inclusive, so the end is pulled back."""
    return window.start, window.end - timedelta(seconds=1)


def run(runner: InsightsRunner, region: str, text: str, groups: list[str], window: "Window", *,
        limit: int = 10000, source: str | None = None, meter: Meter | None = None) -> InsightsOutcome:
    """One query over ``groups`` of one region for ``window`` (batches of 50 groups, see InsightsRunner)."""
    start, end = time_range(window)
    out = runner.run(region, text, groups, start, end, limit=limit, source=source)
    add(meter, insights_bytes=out.bytes_scanned)
    return out


@dataclass
class QueryRun:
    """Rows of every region, each with its ``region`` and the bare log group name in ``@log``; the
    groups that failed or do not exist, per (region, group)."""

    rows: list[dict[str, str]] = field(default_factory=list)
    failed: dict[tuple[str, str], str] = field(default_factory=dict)
    missing: dict[tuple[str, str], str] = field(default_factory=dict)
    records_scanned: float = 0.0
    bytes_scanned: float = 0.0

    @property
    def complete(self) -> bool:
        return not self.failed and not self.missing

    def problems(self) -> list[str]:
        """One line per distinct failure (per region) and per missing log group."""
        lines: list[str] = []
        for region in sorted({r for r, _ in (*self.failed, *self.missing)}):
            for why in sorted({w for (r, _), w in self.failed.items() if r == region}):
                lines.append(f"{region}: {why}")
            for group in sorted(g for r, g in self.missing if r == region):  # the other groups were still queried
                lines.append(f"{region}: log group {group} does not exist (a function that never ran has none)")
        return lines

    def first_problem(self) -> str | None:
        why = [*self.failed.values(), *self.missing.values()]
        return why[0] if why else None


def query_functions(ctx: "AwsContext", functions: list["FunctionInfo"], text: str, window: "Window", *,
                    limit: int = 1000, source: str | None = None, concurrency: int = 10,
                    meter: Meter | None = None) -> QueryRun:
    """Run ``text`` over the log groups of ``functions``, region by region."""
    runner = InsightsRunner(ctx, concurrency=concurrency)
    result = QueryRun()
    for region in sorted({f.region for f in functions}):
        groups = sorted({f.log_group for f in functions if f.region == region})
        out = run(runner, region, text, groups, window, limit=limit, source=source, meter=meter)
        result.failed.update({(region, g): why for g, why in out.failed_groups.items()})
        result.missing.update({(region, g): why for g, why in out.missing_groups.items()})
        result.records_scanned += out.records_scanned
        result.bytes_scanned += out.bytes_scanned
        for r in out.rows:
            r = {"region": region, **r}
            if "@log" in r:  # "account-id:group" -> group
                r["@log"] = r["@log"].split(":", 1)[-1]
            result.rows.append(r)
    return result
