"""The time window every command and screen looks at, in one place: the type, reading ``3h`` and
ISO-8601 times, resolving ``--since`` / ``--start`` / ``--end``, and aligning CloudWatch periods.

A window is ``[start, end)``: start inclusive, end exclusive, as CloudWatch's GetMetricData reads
StartTime and EndTime (GetMetricData, Amazon CloudWatch API Reference). Logs Insights reads its endTime as inclusive; that rule
is applied where Insights is called (``lambdaops.collect.query``), not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from lambdaops.errors import UsageError

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# CloudWatch keeps 1-minute datapoints 15 days, 5-minute ones 63 days, hourly ones 455 days, so the
# smallest period a query can ask for grows with the age of its start ("Metrics retention" in
# "Amazon CloudWatch concepts", Amazon CloudWatch User Guide).
RETENTION = ((timedelta(days=15), 60), (timedelta(days=63), 300), (timedelta(days=455), 3600))


@dataclass
class Window:
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def previous(self) -> "Window":
        """The window of the same length just before this one."""
        length = self.end - self.start
        return Window(self.start - length, self.start)

    def to_dict(self) -> dict[str, str]:
        return {"start": iso(self.start), "end": iso(self.end)}


def iso(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def since(seconds: float, now: datetime | None = None) -> Window:
    """The ``seconds`` ending at ``now`` (default: the current time)."""
    now = now or datetime.now(timezone.utc)
    return Window(now - timedelta(seconds=seconds), now)


def parse_duration(text: str) -> int:
    """'90m', '3h', '2d' -> seconds. Raises ValueError with a readable message."""
    m = _DURATION_RE.match(str(text))
    if not m:
        raise ValueError(f"not a duration: {text!r} (use a number and s, m, h, d or w, e.g. 3h)")
    seconds = int(float(m.group(1)) * _UNIT_S[m.group(2)])
    if seconds <= 0:
        raise ValueError(f"duration must be positive: {text!r}")
    return seconds


def parse_time(text: str, flag: str) -> datetime:
    """An ISO-8601 time for ``flag``; without an offset it is read as UTC."""
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not an ISO-8601 timestamp (e.g. 2026-11-22T06:00:00Z)") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


def resolve(since_text: str | None, start: str | None, end: str | None, default: str,
            now: datetime | None = None) -> Window:
    """The window of ``--since`` or ``--start``/``--end`` (``--end`` defaults to now), else the
    configured ``default`` duration ending now."""
    if start or end:
        if since_text:
            raise UsageError("use either --since or --start/--end, not both")
        if not start:
            raise UsageError("--end needs --start")
        s = parse_time(start, "--start")
        e = parse_time(end, "--end") if end else (now or datetime.now(timezone.utc))
        if e <= s:
            raise UsageError("--end must be after --start")
        return Window(s, e)
    try:
        return since(parse_duration(since_text or default), now)
    except ValueError as exc:
        raise UsageError(f"--since: {exc}") from None


# -- CloudWatch periods ------------------------------------------------------------------------
def minimum_period(start: datetime, now: datetime | None = None) -> int:
    """The smallest period CloudWatch still has data for at ``start``. ``now`` is the real time:
    retention runs on AWS's clock, not on a frozen one."""
    now = now or datetime.now(timezone.utc)
    age = now - start
    for limit, period in RETENTION:
        if age <= limit:
            return period
    raise ValueError(f"{start.isoformat()} is beyond CloudWatch's 455-day retention")


def fit_period(seconds: float, minimum: int = 60) -> int:
    """Round a span up to a valid period: a multiple of ``minimum`` (60, 300 or 3600)."""
    return max(minimum, int(-(-int(seconds) // minimum) * minimum))


def align_start(start: datetime, minimum: int) -> datetime:
    """CloudWatch rounds StartTime down (minute, 5 minutes, hour by age): do it first so our
    period boundaries are the ones it uses."""
    epoch = int(start.timestamp())
    return datetime.fromtimestamp(epoch - epoch % minimum, tz=timezone.utc)


@dataclass(frozen=True)
class Periods:
    """A window cut into CloudWatch periods: the aligned first period's start, the period, and the
    floor (the smallest period CloudWatch allows for data that old)."""

    start: datetime
    end: datetime
    period: int
    floor: int

    def grid(self) -> list[datetime]:
        """The start of every period from ``start`` up to (not including) ``end``."""
        out, t = [], self.start
        while t < self.end:
            out.append(t)
            t += timedelta(seconds=self.period)
        return out


def periods(window: Window, points: int = 1, *, oldest: datetime | None = None, at_least: int = 60) -> Periods:
    """``window`` in about ``points`` periods (one period covers it all with 1). ``oldest`` is the
    earliest time the same queries also ask for (a previous window), which sets the floor; periods
    are multiples of ``at_least`` too (a multiple of 60)."""
    floor = max(at_least, minimum_period(oldest or window.start))
    start = align_start(window.start, floor)
    return Periods(start, window.end, fit_period((window.end - start).total_seconds() / points, floor), floor)
