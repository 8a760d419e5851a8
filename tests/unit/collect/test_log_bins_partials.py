"""Open bins and the head through the store (collect.log_bins): a moving window's next run asks Logs
Insights only for the minutes after what the last run scanned (a bin once in full as it closes, and
the window's unaligned head, per second, when its start enters a new bin), and its figures equal one
query over the window. No server: the demo's Insights
engine answers, through a runner that records every time range asked."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from lambdaops.collect import log_bins
from lambdaops.collect.meter import Meter, bytes_label
from lambdaops.store import Store
from lambdaops.window import Window
from tests.unit.collect.test_log_bins import ACCOUNT, END, GROUPS, STREAMS, EngineRunner, _report, assert_same, \
    make_events

BIN = log_bins.BIN_S
T0 = int(END.timestamp())  # 12:00:07: 7 s into a bin, so a minute later no bin has closed yet


class Recording(EngineRunner):
    """Every StartQuery's [start, end) in whole seconds (its inclusive end second plus one)."""

    def __init__(self, events) -> None:
        super().__init__(events)
        self.asked: list[tuple[int, int]] = []

    def run(self, region, query, groups, start, end, **kw):
        self.asked.append((int(start.timestamp()), int(end.timestamp()) + 1))
        return super().run(region, query, groups, start, end, **kw)


@pytest.fixture(scope="module")
def events():
    return make_events()


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def window_at(now: float, hours: float = 6) -> Window:
    """The TUI's window at ``now`` (its start keeps the clock's fraction of a second)."""
    return Window(at(now + 0.4) - timedelta(hours=hours), at(now + 0.4))


def figures(runner, w: Window, store=None, now=None, meter=None) -> dict:
    out = log_bins.collect(runner, "us-east-1", GROUPS, w, store, meter=meter, now=now)
    assert not out.failed and not out.missing
    return {k: c.figures() for k, c in out.cells.items()}


def test_a_refresh_a_minute_later_asks_only_the_new_minute(events, tmp_path):
    store = Store(tmp_path / "store-p.sqlite3")
    first = Recording(events)
    w1 = window_at(T0)
    assert_same(figures(first, w1, store, now=T0 + 0.4), figures(EngineRunner(events), w1))
    assert max(b for _, b in first.asked) == T0  # [.., T0]: StartQuery's end second is T0 - 1
    assert store.info()["log_bins"]["open_bin_partials"] == 3 * 4  # 3 groups x the 4 open bins (the last cut)

    second, meter = Recording(events), Meter()
    w2 = window_at(T0 + 60)
    got = figures(second, w2, store, now=T0 + 60.4, meter=meter)
    assert_same(got, figures(EngineRunner(events), w2))
    # one query (3 groups in one batch): the head's bin is still the one the first run kept per second
    assert second.asked == [(T0, T0 + 60)]
    assert meter.scan == {"new": [(T0, T0 + 60)]}
    assert meter.scan_label() == f"Insights: 1m00s new · {bytes_label(meter.scan_bytes)}" and meter.scan_bytes > 0
    assert meter.saved() > 0 and store.info()["log_bins"]["head_suffixes"] == 3


def test_a_bin_is_asked_once_in_full_when_it_closes(events, tmp_path):
    store = Store(tmp_path / "store-c.sqlite3")
    figures(Recording(events), window_at(T0), store, now=T0 + 0.4)
    later = T0 + 300  # the bin that ended 15 minutes before 12:05 has closed since
    runner, meter = Recording(events), Meter()
    w = window_at(later)
    assert_same(figures(runner, w, store, now=later + 0.4, meter=meter), figures(EngineRunner(events), w))
    closing = ((T0 - 7) - log_bins.INGEST_DELAY_S, (T0 - 7) - log_bins.INGEST_DELAY_S + BIN)
    assert meter.scan["closed"] == [closing] and meter.scan["new"] == [(T0, later)]
    s2 = int(w.start.timestamp())  # the window's start has entered the next bin: its head is asked
    head = (s2, -(-s2 // BIN) * BIN)
    assert sorted(runner.asked) == sorted([closing, (T0, later), head]) and meter.scan["head"] == [head]
    info = store.info()["log_bins"]
    assert info["open_bin_partials"] == 3 * 4  # the closed bin's partial was replaced by the bin


def test_without_a_refresh_for_a_while_the_open_bins_are_extended_not_rescanned(events, tmp_path):
    store = Store(tmp_path / "store-w.sqlite3")
    figures(Recording(events), window_at(T0), store, now=T0 + 0.4)
    for step in (60, 120, 180):
        runner = Recording(events)
        w = window_at(T0 + step)
        assert_same(figures(runner, w, store, now=T0 + step + 0.4), figures(EngineRunner(events), w))
        assert runner.asked == [(T0 + step - 60, T0 + step)]


def test_a_window_that_ends_earlier_than_the_stored_beginning_asks_the_bin_whole(events, tmp_path):
    store = Store(tmp_path / "store-b.sqlite3")
    figures(Recording(events), window_at(T0), store, now=T0 + 0.4)
    runner = Recording(events)
    w = window_at(T0 - 120)  # the partial of the last bin reaches T0: past this window's end
    assert_same(figures(runner, w, store, now=T0 + 0.4), figures(EngineRunner(events), w))
    assert (T0 - 7, T0 - 120) not in runner.asked
    assert any(a <= T0 - 7 - BIN and b == T0 - 120 for a, b in runner.asked)  # the cut bin from its start


def test_a_timeout_across_the_edge_of_what_was_scanned_counts_once(tmp_path):
    group, stream = GROUPS[0], STREAMS[GROUPS[0]][0]
    ms = T0 * 1000
    rows = [(ms - 1, "req-x Task timed out after 3.00 seconds"),  # the last millisecond of run 1
            (ms, _report("req-x", 3000.2, None, 80, "Status: timeout")),  # the first of run 2
            (ms - 30_000, _report("req-y", 12.0, 150.0, 70)), (ms + 20_000, _report("req-z", 14.0, None, 72))]
    df = pd.DataFrame([(t, m, stream, f"{ACCOUNT}:{group}") for t, m in rows],
                      columns=["@timestamp", "@message", "@logStream", "@log"])
    df["@ingestionTime"] = df["@timestamp"]
    store = Store(tmp_path / "store-x.sqlite3")
    one = figures(Recording(df), Window(at(T0 - 600), at(T0)), store, now=T0)
    assert one[(group, "")]["timeouts"] == 1.0 and one[(group, "")]["log_invocations"] == 1.0
    runner = Recording(df)
    w = Window(at(T0 - 600 + 60), at(T0 + 60))
    got = figures(runner, w, store, now=T0 + 60)
    assert (T0, T0 + 60) in runner.asked
    assert got == figures(EngineRunner(df), w)
    assert got[(group, "")]["timeouts"] == 1.0 and got[(group, "")]["log_invocations"] == 3.0


def test_plan():
    # window [100, 1300) at 10,000: bins 300..900 closed; 300 stored; 1200 cut by the window's end
    assert log_bins.plan(100, 1300, [300, 600, 900], {300}, {1200: 1250}) == [
        ("head", 100, 300), ("closed", 600, 900), ("closed", 900, 1200), ("new", 1250, 1300)]
    # open bins 600 and 900 (now 1900): 600's beginning reaches its end, 900's does not, 1200 has none
    assert log_bins.plan(300, 1250, [300], {300}, {600: 900, 900: 1000}) == [("new", 1000, 1200),
                                                                                ("new", 1200, 1250)]
    assert log_bins.spans_of([("new", 1000, 1200), ("new", 1200, 1250)]) == [(1000, 1250)]
    assert log_bins.plan(300, 1250, [], set(), {600: 1300}) == [("new", 300, 600), ("new", 600, 900),
                                                                ("new", 900, 1200), ("new", 1200, 1250)]


def test_the_head_kept_per_second_serves_every_start_inside_its_bin(events, tmp_path, monkeypatch):
    store = Store(tmp_path / "store-h.sqlite3")
    s0 = T0 - 6 * 3600
    edge = -(-s0 // BIN) * BIN
    figures(Recording(events), window_at(T0), store, now=T0 + 0.4)  # its head [s0, edge) kept per second
    for start in (s0 + 1, edge - 1):  # windows of other lengths, starting later in the same bin
        runner = Recording(events)
        w = Window(at(start), at(T0))
        assert_same(figures(runner, w, store, now=T0 + 0.4), figures(EngineRunner(events), w))
        assert runner.asked == []
    earlier = Recording(events)
    w = Window(at(s0 - 1), at(T0))  # starts before what was kept: its head is asked again
    assert_same(figures(earlier, w, store, now=T0 + 0.4), figures(EngineRunner(events), w))
    assert earlier.asked == [(s0 - 1, edge)]
    # a head too busy for one result per second is asked as one piece (and not kept)
    monkeypatch.setattr(log_bins, "MAX_ROWS", 3)
    busy = Recording(events)
    got = log_bins.collect(busy, "us-east-1", ["/aws/lambda/api"], Window(at(edge + 100), at(edge + 300)),
                           Store(tmp_path / "store-busy.sqlite3"), now=T0)
    assert busy.asked == [(edge + 100, edge + 300)] * 2 and not got.failed
    monkeypatch.setattr(log_bins, "MAX_ROWS", 10_000)
    want = figures(EngineRunner(events), Window(at(edge + 100), at(edge + 300)))
    assert {k: c.figures() for k, c in got.cells.items()} == {k: v for k, v in want.items() if k[0] == "/aws/lambda/api"}
