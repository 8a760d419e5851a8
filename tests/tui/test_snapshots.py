"""Snapshot tests: each screen rendered to SVG on the frozen demo account and compared with the
golden file in ``tests/tui/snapshots/`` after normalisation.

Normalised: Textual's per-render CSS class ids, X-Ray trace ids, request and message ids and dates
(the clock is frozen at the latest 12:00 UTC, so dates move while times of day stay), timestamps SQS
gave messages on arrival, the API call counter and the collection time (they depend on how often a
query was polled). Regenerate after a deliberate change with
``LAMBDAOPS_UPDATE_SNAPSHOTS=1 pytest tests/tui/test_snapshots.py`` and look at the SVGs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from lambdaops.tui.api_cost import ApiUsage
from lambdaops.tui.session import Session
from tests.tui.harness import ReplayReads, fleet_ready, open_function, settle
from tests.tui.conftest import SIZE

pytestmark = pytest.mark.e2e

GOLDEN = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("LAMBDAOPS_UPDATE_SNAPSHOTS") == "1"
RULES = (
    (re.compile(r"\bterminal-\d+-"), "terminal-"),
    (re.compile(r"1-[0-9a-f]{8}-[0-9a-f]{24}"), "1-TRACE"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{1,4}(?:-[0-9a-f-]*)?(?![0-9a-z])"), "UUID"),  # also cut by a column
    # Dates move with the frozen clock (times of day do not); SQS stamps some messages on arrival.
    (re.compile(r"\d{4}-\d\d-\d\d(?:T|&#160;)\d\d:\d\d:\d\d(?:\.\d+)?Z?"), "TIMESTAMP"),
    (re.compile(r"\b\d\d-\d\d(&#160;\d\d:\d\d:\d\d)"), r"MM-DD\1"),
)


class SteadySession(Session):
    """The cost in the header, which depends on timing (retries, polls), held still."""

    def usage(self) -> ApiUsage:
        return ApiUsage(calls=100, metrics=200, insights_bytes=0.0, usd=0.002)


class SteadyReads(ReplayReads):
    """The collection's elapsed time, which depends on timing, held still."""

    def collect(self, window, progress=None, on_metrics=None):
        snap = super().collect(window, progress, on_metrics)
        snap.elapsed_s = 5.0
        return snap


def normalise(svg: str) -> str:
    for rx, repl in RULES:
        svg = rx.sub(repl, svg)
    return svg


async def shoot(app, pilot, name: str) -> None:
    for inp in app.screen.query("Input"):
        inp.cursor_blink = False
    # Settled workers are not a settled screen: a DataTable sizes its columns when its queue goes
    # idle, which under load (the whole suite on 2 cores) can come after the workers finish.
    # Shoot once two frames 0.2 s apart agree.
    await pilot.pause(0.3)
    actual = normalise(app.export_screenshot())
    for _ in range(25):
        await pilot.pause(0.2)
        again = normalise(app.export_screenshot())
        if again == actual:
            break
        actual = again
    golden = GOLDEN / f"{name}.svg"
    if UPDATE or not golden.exists():
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(actual)
        if not UPDATE:
            pytest.fail(f"no golden file for {name}: written to {golden}; look at it, then run again")
        return
    if actual != golden.read_text():
        (GOLDEN / f"{name}.actual.svg").write_text(actual)
        pytest.fail(f"{name} differs from {golden} (see {name}.actual.svg beside it)")


@pytest.fixture
def steady_app(make_app):
    return lambda **kw: make_app(reads_cls=SteadyReads, session_cls=SteadySession, **kw)


async def test_fleet(steady_app):
    app = steady_app()
    async with app.run_test(size=SIZE) as pilot:
        await fleet_ready(pilot, app)
        await shoot(app, pilot, "fleet")


async def test_function_overview(steady_app):
    app = steady_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_function(pilot, app, "orders-stream-consumer")
        await shoot(app, pilot, "function")


async def test_traces(steady_app):
    app = steady_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_function(pilot, app, "checkout-api", tab="traces")
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        await shoot(app, pilot, "trace")


async def test_dlq(steady_app, monkeypatch):
    # Oldest ages come from CloudWatch over the last hour of the real clock: whether the frozen
    # window is in that hour depends on when the test runs.
    monkeypatch.setattr("lambdaops.aws.dlq.oldest_ages", lambda *a, **kw: {})
    app = steady_app()
    async with app.run_test(size=SIZE) as pilot:
        await fleet_ready(pilot, app)
        await pilot.press("d")
        await settle(pilot, app)
        await shoot(app, pilot, "dlq")


async def test_tuning_form(steady_app):
    app = steady_app()
    async with app.run_test(size=SIZE) as pilot:
        await fleet_ready(pilot, app)
        await pilot.press("u")
        await settle(pilot, app)
        await shoot(app, pilot, "tuning")


async def test_help(steady_app):
    app = steady_app()
    async with app.run_test(size=SIZE) as pilot:
        await fleet_ready(pilot, app)
        await pilot.press("question_mark")
        await shoot(app, pilot, "help")


# Issue 16: any terminal size. The fleet keeps its most needed columns (name, error %, cold %, p99,
# DLQ, cost, worst finding) at 80x24; help and modals fit there too.
@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_fleet_sizes(steady_app, size):
    app = steady_app()
    async with app.run_test(size=size) as pilot:
        await fleet_ready(pilot, app)
        await shoot(app, pilot, f"fleet-{size[0]}x{size[1]}")


async def test_help_80x24(steady_app):
    app = steady_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await fleet_ready(pilot, app)
        await pilot.press("question_mark")
        await shoot(app, pilot, "help-80x24")


async def test_function_80x24(steady_app):
    app = steady_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_function(pilot, app, "checkout-api")
        await shoot(app, pilot, "function-80x24")


async def test_fleet_filtered_80x24(steady_app):
    app = steady_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await fleet_ready(pilot, app)
        await pilot.press("slash", *"err>1", "enter")
        await shoot(app, pilot, "fleet-filtered-80x24")
