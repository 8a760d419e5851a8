"""A TUI session on a frozen demo account: for ``scripts/screenshots.py`` and the TUI tests.

The clock is frozen at the most recent 12:00 UTC: the demo's traffic depends only on the time of
day and the seed, so every day gives the same figures, and the frozen instant is always less than a
day old (CloudWatch retention, which the demo applies against the real clock, keeps 1-minute data
for 15 days). No textual import here beyond the app the caller asks for.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from lambdaops.tui.reads import Reads
from lambdaops.tui.session import Session, TuiSettings

SIZE = (160, 45)


def frozen_now(real_now: datetime | None = None) -> datetime:
    real_now = real_now or datetime.now(timezone.utc)
    noon = real_now.replace(hour=12, minute=0, second=0, microsecond=0)
    return noon if noon <= real_now else noon - timedelta(days=1)


def start_demo(now: datetime | None = None, **kw):
    from lambdaops.demo.server import DemoAccount

    return DemoAccount(now=now or frozen_now(), **kw).start()


def demo_context(demo):
    from lambdaops.aws.context import AwsContext, StaticCredentials

    return AwsContext(regions=list(demo.regions), endpoint_url=demo.endpoint,
                      credentials=StaticCredentials("demo", "demo"), max_attempts=2)


def demo_tui_session(demo, *, write: bool = False, ctx=None, cls=Session) -> Session:
    ctx = ctx or demo_context(demo)
    now = demo.started_at
    return cls(lambda: ctx, clock=lambda: now, settings=TuiSettings(write=write), label="demo")


class ReplayReads(Reads):
    """The fleet's inventory, sparklines and snapshot fetched once per window and replayed: the
    screenshot script and the tests open many apps on one account, and a fleet collection takes
    seconds. Everything else (charts, logs, traces, DLQs, tuning) still goes to the account."""

    def __init__(self, session: Session, cache: dict | None = None) -> None:
        super().__init__(session)
        self.cache = {} if cache is None else cache

    @property
    def regions(self) -> list[str]:
        return self.session.regions

    def _once(self, key, fetch):
        if key not in self.cache:
            self.cache[key] = fetch()
        return self.cache[key]

    def inventory(self, on_region=None):
        """The whole inventory at once (replayed: no region answers before another)."""
        return self._once(("inventory", tuple(self.regions)), super().inventory)

    def collect(self, window, progress=None, on_metrics=None):
        """The snapshot, and each region's metric records replayed to ``on_metrics`` first."""
        def fetch():
            heard: list = []
            snap = super(ReplayReads, self).collect(window, progress, lambda r, recs: heard.append((r, recs)))
            return snap, heard

        snap, heard = self._once(("collect", tuple(self.regions), window.start, window.end), fetch)
        for region, records in heard if on_metrics is not None else ():
            on_metrics(region, [dict(r) for r in records])
        return snap

    def sparklines(self, functions, window):
        return self._once(("sparklines", tuple(self.regions), window.start, window.end),
                          lambda: super(ReplayReads, self).sparklines(functions, window))


# -- driving an app under ``run_test`` (screenshots and tests) ------------------------------------
async def settle(pilot, app, rounds: int = 3) -> None:
    """Let every worker finish and every message land (workers may start more workers)."""
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause(0.1)


async def wait_until(pilot, check, timeout: float = 60.0, what: str = "the screen's data") -> None:
    import time

    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not arrive in {timeout:.0f}s")
        await pilot.pause(0.05)


async def fleet_ready(pilot, app) -> None:
    await wait_until(pilot, lambda: app.snapshot is not None and not app.polling, what="the fleet snapshot")
    await settle(pilot, app)


async def open_function(pilot, app, name: str, tab: str | None = None) -> None:
    await fleet_ready(pilot, app)
    fn = next(f for f in app.functions if f.name == name)
    app.open_function(f"{fn.region}/{fn.name}", tab=tab)
    await settle(pilot, app)


async def open_dlqs(pilot, app):
    """The DLQ screen from the fleet, its queues read."""
    await fleet_ready(pilot, app)
    await pilot.press("d")
    await settle(pilot, app)
    return app.screen
