"""Never a false green in the TUI (issue 13, item 8): a figure that could not be fetched is marked
``?`` in its cell, apart from a real 0 and from "-" (no data), and the header counts them."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from lambdaops.tui.app import LambdaopsApp
from tests.tui.harness import ReplayReads, demo_context, demo_tui_session, fleet_ready
from lambdaops.tui.widgets.status_header import StatusHeader
from lambdaops.tui.widgets.virtual_table import VirtualTable

pytestmark = pytest.mark.e2e


class GapReads(ReplayReads):
    """The demo's snapshot, as if the GetMetricData call for checkout-api's throttles and the
    Insights query for its log group had failed: nulls, named in ``missing``."""

    def collect(self, window, progress=None, on_metrics=None):
        snap = super().collect(window, progress, on_metrics)
        table = snap.table.copy()
        i = table.index[table["name"] == "checkout-api"][0]
        for fig in ("throttles", "throttle_rate", "cold_starts", "cold_start_rate"):
            table.at[i, fig] = None
        table["missing"] = [["cold_start_rate", "cold_starts", "throttle_rate", "throttles"] if j == i else []
                            for j in table.index]
        return dataclasses.replace(snap, table=table)  # the shared replayed snapshot stays as it was


def test_failed_figures_are_marked_and_counted_in_the_header(demo, replay_cache):
    async def scenario():
        session = demo_tui_session(demo, ctx=demo_context(demo))
        app = LambdaopsApp(session, reads=GapReads(session, cache=replay_cache), auto_poll=False)
        async with app.run_test(size=(160, 45)) as pilot:
            await fleet_ready(pilot, app)
            table = app.screen.query_one("#fleet", VirtualTable)
            model = table.model
            col = {c.key: n for n, c in enumerate(model.columns)}
            row = model.cells[model.row_of("us-east-1/checkout-api")]
            assert row[col["throttles"]] == "?" and row[col["cold_start_rate"]] == "?"
            other = model.cells[model.row_of("us-east-1/orders-api")]
            assert other[col["throttles"]] != "?"  # fetched: a number (0 is shown as 0)
            assert app.missing_figures == 4
            header = app.screen.query_one(StatusHeader).render().plain
            assert "? 4 missing" in header

    asyncio.run(scenario())
