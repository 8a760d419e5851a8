"""What the screens read from AWS, bound to the session: its context, window settings and meter.

Each method is one call into ``lambdaops.collect`` (blocking, for thread workers); the reading itself
lives there, shared with the CLI. One object per app, so tests and the screenshot script can replay
or fail a read by overriding a method.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from lambdaops.tui.fleet_model import row_key

# collect/ imports pandas, boto3 and the AWS layer, slow to import: the worker that first reads does.
if TYPE_CHECKING:
    from lambdaops.models import FunctionInfo, Inventory
    from lambdaops.aws.xray import Trace
    from lambdaops.collect.fleet import FleetSnapshot
    from lambdaops.collect.function import ChartData, ColdStartSeries
    from lambdaops.collect.query import QueryRun
    from lambdaops.tui.session import Session
    from lambdaops.window import Window


class Reads:
    def __init__(self, session: "Session") -> None:
        self.session = session
        # Set by ``r`` on the fleet: the next fleet read lists the functions afresh instead of taking
        # a listing kept a few minutes (lambdaops.aws.inventory_cache); the automatic refresh keeps it.
        self.relist_next = False

    def _listing_max_age(self) -> float:
        from lambdaops.aws.inventory_cache import INVENTORY_TTL_S

        fresh, self.relist_next = self.relist_next, False
        return 0 if fresh else INVENTORY_TTL_S

    def warm_up(self) -> None:
        """Import the collection (pandas and the analysis, a quarter of a second of CPU) on a thread
        of its own while the account connects: the snapshot's first read would import it after the
        rows are on screen, before its first GetMetricData call."""
        import threading

        threading.Thread(target=_import_collection, name="warm-up", daemon=True).start()

    # -- fleet -----------------------------------------------------------------------------
    def inventory(self, on_region: Callable[["Inventory"], None] | None = None) -> "Inventory":
        """Functions without the per-function details: a few calls per region, for the first paint.
        Each region is listed on a thread of its own; ``on_region(so_far)`` is called as each region
        but the last answers, with the regions listed so far (in the watched regions' order)."""
        # aws.inventory, not collect.fleet: the same listing without the pandas import (a third of
        # a second this early, while the rows wait).
        from lambdaops.aws.inventory import InventoryOptions, fleet_inventory

        ctx = self.session.ctx
        regions = list(ctx.require_regions())
        opts = InventoryOptions(details=False, cache_dir=self.session.cache_dir, max_age_s=self._listing_max_age())
        if on_region is None or len(regions) < 2:
            return fleet_inventory(ctx, regions, opts)
        from concurrent.futures import as_completed

        from lambdaops.tui.quick_exit import DaemonExecutor

        # Without details nothing is written to the details cache, so the regions' lists cannot race.
        pool = DaemonExecutor()
        futures = {pool.submit(fleet_inventory, ctx, [region], opts): region for region in regions}
        parts: dict[str, "Inventory"] = {}
        for done in as_completed(futures):
            parts[futures[done]] = done.result()  # a failing region is in its Inventory's errors
            if len(parts) < len(regions):
                on_region(merged([parts[r] for r in regions if r in parts], ctx))
        return merged([parts[r] for r in regions], ctx)

    def collect(self, window: "Window", progress: Callable[[str], None] | None = None,
                on_metrics: Callable[[str, list[dict]], None] | None = None) -> "FleetSnapshot":
        """The fleet snapshot; ``on_metrics(region, records)`` as each region's metrics arrive,
        before its Logs Insights query (see ``CollectOptions.on_metrics``)."""
        from lambdaops.collect import fleet

        s = self.session
        s.meter.begin_scan()  # the header shows what this refresh scanned in Logs Insights
        return fleet.collect_fleet(s.ctx, fleet.CollectOptions(
            window=window, thresholds=s.settings.thresholds, insights_concurrency=s.settings.insights_concurrency,
            cache_dir=s.cache_dir, progress=progress, meter=s.meter, on_metrics=on_metrics, now=s.now(),
            inventory_max_age_s=self._listing_max_age()))

    def sparklines(self, functions: list["FunctionInfo"], window: "Window") -> dict[str, list[float]]:
        """Invocations per function (by row key) in a few periods."""
        from lambdaops.collect.sparklines import sparklines  # no pandas: asked right after the listing

        found = sparklines(self.session.ctx, functions, window, meter=self.session.meter)
        return {row_key(region, name): values for (region, name), values in found.items()}

    # -- one function ----------------------------------------------------------------------
    def charts(self, fn: "FunctionInfo", window: "Window") -> "ChartData":
        from lambdaops.collect import function

        return function.charts(self.session.ctx, fn, window, meter=self.session.meter)

    def cold_starts(self, fn: "FunctionInfo", window: "Window") -> "ColdStartSeries":
        from lambdaops.collect import function

        return function.cold_starts(self.session.ctx, fn, window, meter=self.session.meter,
                                    concurrency=self.session.settings.insights_concurrency)

    def query(self, fn: "FunctionInfo", text: str, window: "Window", *, limit: int = 1000,
              source: str | None = None) -> "QueryRun":
        """A Logs Insights query over ``fn``'s log group (the Logs tab)."""
        from lambdaops.collect.query import query_functions

        return query_functions(self.session.ctx, [fn], text, window, limit=limit, source=source,
                               concurrency=self.session.settings.insights_concurrency, meter=self.session.meter)

    def aliases(self, fn: "FunctionInfo") -> list[tuple[str, str]]:
        from lambdaops.collect import function

        return function.aliases(self.session.ctx, fn)

    def details(self, fn: "FunctionInfo") -> "FunctionInfo":
        from lambdaops.collect import function

        return function.details(self.session.ctx, fn, self.session.cache_dir)

    def traces(self, fn: "FunctionInfo", window: "Window", top: int = 10) -> tuple[list["Trace"], list["Trace"]]:
        from lambdaops.collect import function

        return function.traces(self.session.ctx, fn, window, top=top)

    def trace(self, region: str, trace_id: str) -> "Trace":
        from lambdaops.collect import function

        return function.trace(self.session.ctx, region, trace_id)


def merged(parts: list["Inventory"], ctx) -> "Inventory":
    """One inventory of several regions' (each listed alone)."""
    from lambdaops.models import Inventory

    return Inventory(functions=[f for p in parts for f in p.functions], errors=[e for p in parts for e in p.errors],
                     api_calls=ctx.calls.snapshot(), regions=[r for p in parts for r in p.regions],
                     detail_errors=[e for p in parts for e in p.detail_errors],
                     listed_at={r: t for p in parts for r, t in p.listed_at.items()})


def _import_collection() -> None:
    import lambdaops.collect.fleet  # noqa: F401 - imported for its side effect: loaded once, here
