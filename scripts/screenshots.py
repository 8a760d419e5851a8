"""Generate ``screenshots/*.svg``: every TUI screen on the demo account, 160x45 (and 80x24), seed 7, clock frozen.

    /work/venv/bin/python scripts/screenshots.py [--out screenshots] [--only fleet,function]

Each shot starts the app on the same in-process demo account, drives it with the keys a person
would press, waits for the workers to finish and saves an SVG. The figures are the same every day
(see tests/tui/harness.py); trace ids embed the date and differ.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lambdaops.tui.app import LambdaopsApp  # noqa: E402
from tests.tui.harness import (SIZE, ReplayReads, demo_tui_session, demo_context, fleet_ready,  # noqa: E402
                               open_function, settle, start_demo, wait_until)


async def shot_fleet(pilot, app):
    await fleet_ready(pilot, app)


async def shot_fleet_filtered(pilot, app):
    await fleet_ready(pilot, app)
    await pilot.press("slash", *"orders", "enter", "s", "s", "s", "s", "s", "s")
    await settle(pilot, app)


async def shot_function(pilot, app):
    await open_function(pilot, app, "orders-stream-consumer")


async def shot_logs(pilot, app):
    await open_function(pilot, app, "checkout-api", tab="logs")
    await pilot.press("i", "enter")  # i edits the query; enter runs the selected query file (slowest)
    await settle(pilot, app)


async def shot_traces(pilot, app):
    await open_function(pilot, app, "checkout-api", tab="traces")
    await settle(pilot, app)


async def shot_trace(pilot, app):
    await shot_traces(pilot, app)
    await pilot.press("down", "down", "down", "down", "down", "down", "down", "down", "down", "down", "enter")
    await settle(pilot, app)


async def shot_dlq(pilot, app):
    await fleet_ready(pilot, app)
    fn = next(f for f in app.functions if f.name == "order-queue-worker")
    app.open_dlq(f"{fn.region}/{fn.name}")
    await settle(pilot, app)


async def shot_tuning(pilot, app):
    await fleet_ready(pilot, app)
    fn = next(f for f in app.functions if f.name == "image-resize")
    app.open_tuning(f"{fn.region}/{fn.name}")
    await settle(pilot, app)
    screen = app.screen
    screen.query_one("#memory").value = "512,1024,1536,2048"
    screen.query_one("#invocations").value = "5"
    await pilot.press("ctrl+s")
    await pilot.pause(0.3)
    await pilot.press("y")  # the confirmation (focus starts on Cancel: y confirms)
    await wait_until(pilot, lambda: screen.outcome is not None or "failed" in str(screen.query_one("#tuning-status").render()), 180)
    await settle(pilot, app)


async def shot_confirm(pilot, app):
    await shot_dlq(pilot, app)
    fn = next(f for f in app.functions if f.name == "image-resize")
    app.open_tuning(f"{fn.region}/{fn.name}")
    await settle(pilot, app)
    await pilot.press("ctrl+s")
    await pilot.pause(0.5)


async def shot_fleet_filter_expr(pilot, app):
    await fleet_ready(pilot, app)
    await pilot.press("slash", *"err>1 region:us-east-1", "enter")
    await settle(pilot, app)


class HeldReads(ReplayReads):
    """Each region's metrics arrive, Logs Insights never answers: the fleet as it looks meanwhile."""

    def collect(self, window, progress=None, on_metrics=None):
        import threading

        super().collect(window, progress, on_metrics)
        threading.Event().wait()  # a daemon worker thread: it ends with the script


async def shot_fleet_loading(pilot, app):
    await wait_until(pilot, lambda: getattr(app.fleet_screen, "rows_stage", None) == "metrics",
                     what="the metric columns")
    await pilot.pause(0.5)  # every region's (they are replayed one after the other)


async def shot_export(pilot, app):
    await shot_dlq(pilot, app)
    await pilot.press("x")
    await pilot.pause(0.3)


async def shot_help(pilot, app):
    await fleet_ready(pilot, app)
    await pilot.press("question_mark")
    await pilot.pause(0.3)


SHOTS = {
    "fleet": (shot_fleet, False),
    "fleet-filtered": (shot_fleet_filtered, False),
    "function": (shot_function, False),
    "logs": (shot_logs, False),
    "traces": (shot_traces, False),
    "trace": (shot_trace, False),
    "dlq": (shot_dlq, False),
    "tuning": (shot_tuning, True),
    "confirm": (shot_confirm, True),
    "help": (shot_help, False),
    # issue 16: an 80x24 terminal
    "fleet-80x24": (shot_fleet, False, (80, 24)),
    "fleet-filter-80x24": (shot_fleet_filter_expr, False, (80, 24)),
    "function-80x24": (shot_function, False, (80, 24)),
    "help-80x24": (shot_help, False, (80, 24)),
    # issue 18: metric columns before Logs Insights answers; issue 16: export asks where
    "fleet-loading-80x24": (shot_fleet_loading, False, (80, 24)),
    "export": (shot_export, False),
}
READS = {"fleet-loading-80x24": HeldReads}


async def take(name: str, demo, ctx, cache: dict, out: Path) -> Path:
    drive, write, *size = SHOTS[name]
    session = demo_tui_session(demo, write=write, ctx=ctx)
    app = LambdaopsApp(session, reads=READS.get(name, ReplayReads)(session, cache), auto_poll=False)
    async with app.run_test(size=size[0] if size else SIZE) as pilot:
        await drive(pilot, app)
        for inp in app.screen.query("Input"):
            inp.cursor_blink = False  # a blinking cursor would make two runs differ
        await pilot.pause(0.2)
        path = out / f"{name}.svg"
        app.save_screenshot(str(path))
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "screenshots"))
    ap.add_argument("--only", default="", help="comma-separated shot names: " + ", ".join(SHOTS))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = [n for n in args.only.split(",") if n] or list(SHOTS)
    demo = start_demo()
    try:
        ctx = demo_context(demo)
        cache: dict = {}
        for name in names:
            t0 = time.perf_counter()
            path = asyncio.run(take(name, demo, ctx, cache, out))
            print(f"{path}  ({time.perf_counter() - t0:.1f}s)")
    finally:
        demo.stop()


if __name__ == "__main__":
    main()
