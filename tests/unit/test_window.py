"""The one window module: durations, ISO times, --since/--start/--end, CloudWatch periods."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from lambdaops.errors import UsageError
from lambdaops.window import Window, parse_time, periods, resolve

NOW = datetime(2026, 11, 22, 9, 7, 31, tzinfo=timezone.utc)


def test_since_ends_now_and_the_default_applies():
    assert resolve("90m", None, None, "3h", now=NOW) == Window(NOW - timedelta(minutes=90), NOW)
    assert resolve(None, None, None, "3h", now=NOW) == Window(NOW - timedelta(hours=3), NOW)


def test_start_end_and_a_time_without_offset_is_utc():
    w = resolve(None, "2026-11-22T06:00:00", "2026-11-22T09:00:00+01:00", "3h", now=NOW)
    assert w.start == datetime(2026, 11, 22, 6, tzinfo=timezone.utc)
    assert w.end == datetime(2026, 11, 22, 8, tzinfo=timezone.utc)
    assert resolve(None, "2026-11-22T06:00:00Z", None, "3h", now=NOW).end == NOW
    assert parse_time("2026-11-22T06:00:00Z", "--start").tzinfo is not None


@pytest.mark.parametrize("args, words", [
    (("3h", "2026-11-22T06:00:00Z", None), "either --since"),
    ((None, None, "2026-11-22T06:00:00Z"), "--end needs --start"),
    ((None, "2026-11-22T06:00:00Z", "2026-11-22T06:00:00Z"), "after --start"),
    ((None, "yesterday", None), "not an ISO-8601"),
    (("3 hours", None, None), "--since"),
])
def test_bad_windows_are_usage_errors(args, words):
    with pytest.raises(UsageError, match=words):
        resolve(*args, "3h", now=NOW)


def test_previous_is_the_same_length_just_before():
    w = Window(NOW - timedelta(hours=3), NOW)
    assert w.previous() == Window(NOW - timedelta(hours=6), NOW - timedelta(hours=3))


def test_periods_align_to_the_floor_and_cover_the_window():
    w = Window(NOW - timedelta(hours=3), NOW)
    cut = periods(w, 60)
    assert cut.floor == 60 and cut.start == datetime(2026, 11, 22, 6, 7, tzinfo=timezone.utc)
    assert cut.period == 180  # 3 h in about 60 periods, a multiple of the floor
    grid = cut.grid()
    assert grid[0] == cut.start and grid[-1] < NOW <= grid[-1] + timedelta(seconds=cut.period)
    one = periods(w)
    assert one.grid() == [one.start]  # one period covers the whole window


def test_an_older_previous_window_sets_a_coarser_floor():
    now = datetime.now(timezone.utc)
    w = Window(now - timedelta(days=10), now)
    assert periods(w).floor == 60
    cut = periods(w, oldest=w.previous().start)  # 20 days ago: 5-minute data only
    assert cut.floor == 300 and cut.period % 300 == 0 and int(cut.start.timestamp()) % 300 == 0
