"""The fleet poll's reads, in the app's worker thread: the inventory (each region as it answers, on a
first paint), then the sparklines and the snapshot asked at once, each posted to the app as a
message the moment it is in. The thread worker that runs it is the app's (``LambdaopsApp.fetch_fleet``).
"""

from __future__ import annotations

from typing import Any

from lambdaops.errors import error_line
from lambdaops.tui import format as fmt
from lambdaops.tui.fleet_model import FirstPaint, build_fleet_model
from lambdaops.tui.messages import FleetDone, FleetProgress, FleetRows, WorkFailed
from lambdaops.tui.quick_exit import DaemonExecutor
from lambdaops.tui.session import error_text


def fetch_fleet(app: Any, generation: int, first_paint: bool, worker: Any) -> None:
    """One poll for ``app`` (a LambdaopsApp); ``worker``: its textual worker (checked for cancelling)."""
    session, reads = app.session, app.reads
    window = session.window()
    label = fmt.window_label(session.settings.window_s)
    failed: dict[str, str] = {}  # a region that fails is flagged in the header; the others are shown

    def rows(stage: str, model, functions, sparks=None) -> None:
        app.post_message(FleetRows(generation, stage, model, functions, sparks=sparks or {}))

    try:
        if first_paint:
            # Each region's functions as its listing answers, the whole inventory once all have.
            def first_rows(part) -> None:
                rows("inventory", build_fleet_model(part.functions, window_label=label), part.functions)
                if not warmed:  # the collection's import (pandas) once rows are on screen, not before:
                    warmed.append(reads.warm_up())  # it holds the GIL the listing's answers wait on

            warmed: list = []
            inv = reads.inventory(on_region=first_rows)
            if not warmed:
                reads.warm_up()
            for err in inv.errors:
                failed.setdefault(err.region, err.message)
                app.post_message(WorkFailed(f"inventory {err.region}", err.message, generation))
            rows("inventory", build_fleet_model(inv.functions, window_label=label), inv.functions)
            functions = inv.functions
        else:
            functions = app.functions
        if worker.is_cancelled:
            return
        # The sparklines (GetMetricData) and the snapshot (GetMetricData, then Logs Insights) are
        # asked at once; a first paint shows each part as it answers (FirstPaint keeps them together).
        early = FirstPaint(functions, label, lambda stage, model, sparks: rows(stage, model, functions, sparks)) \
            if first_paint else None
        sparks_job = DaemonExecutor().submit(read_sparklines, app, generation, functions, window, early) \
            if functions else None
        snap = reads.collect(window, progress=lambda text: app.post_message(FleetProgress(generation, text)),
                             on_metrics=early.metrics_in if early is not None else None)
        sparks = sparks_job.result() if sparks_job is not None else {}
        for err in snap.errors:
            # ✖ in the header is a region that failed; a partial gap shows as ? cells and a count
            if err.get("region") in snap.failed_regions:
                failed.setdefault(err["region"], err["message"])
            app.post_message(WorkFailed(f"collect {err.get('region') or ''}".strip(), error_line(err), generation))
        records = app.without_tuning(snap.table.to_dict("records"), snap.window)
        model = build_fleet_model(snap.functions, records, sparks, window_label=label)
        app.post_message(FleetRows(generation, "snapshot", model, snap.functions, snapshot=(snap, records),
                                   sparks=sparks))
        app.post_message(FleetDone(generation, True, failed))
    except Exception as exc:  # noqa: BLE001 - shown as a notification and in the error log
        app.post_message(WorkFailed("fleet", error_text(exc), generation))
        app.post_message(FleetDone(generation, False))


def read_sparklines(app, generation: int, functions: list, window, early: FirstPaint | None) -> dict:
    """The fleet's sparklines (on a thread beside the collection); a failure leaves them out."""
    try:
        sparks = app.reads.sparklines(functions, window)
    except Exception as exc:  # noqa: BLE001 - a missing sparkline is not worth the poll
        app.post_message(WorkFailed("sparklines", error_text(exc), generation))
        sparks = {}
    if early is not None:
        early.sparks_in(sparks)
    return sparks

