"""Log figures per closed bin (collect.log_bins): with the store, a moving window gives the figures of
one query over the window and scans only what is new. No server: the demo's Insights engine (pure
pandas) answers the queries over synthetic Lambda log lines, text and JSON, with timeouts and
out-of-memory deaths written in both forms, some across a bin edge."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from lambdaops.aws.insights import InsightsOutcome, rows_to_dicts
from lambdaops.collect import log_bins
from lambdaops.collect.log_figures import insights_figures
from lambdaops.collect.meter import Meter
from lambdaops.demo.insights import compile_query, run_query
from lambdaops.errors import ErrorTally
from lambdaops.store import Store
from lambdaops.store.cells import R
from lambdaops.window import Window

ACCOUNT = "123456789012"
END = datetime(2026, 11, 28, 12, 0, 7, tzinfo=timezone.utc)  # days ago: every bin is closed
GROUPS = ["/aws/lambda/api", "/aws/lambda/jsonfn", "/app/shared"]
STREAMS = {"/aws/lambda/api": ["2026/11/28/[$LATEST]aaa"], "/aws/lambda/jsonfn": ["2026/11/28/[$LATEST]bbb"],
           "/app/shared": ["2026/11/28/left[$LATEST]ccc", "2026/11/28/right[$LATEST]ddd"]}


def _report(rid: str, dur: float, init: float | None, mem: int, status: str = "") -> str:
    line = (f"REPORT RequestId: {rid}\tDuration: {dur:.2f} ms\tBilled Duration: {int(dur) + 1} ms\t"
            f"Memory Size: 512 MB\tMax Memory Used: {mem} MB\t")
    if init is not None:
        line += f"Init Duration: {init:.2f} ms\t"
    return line + status


def _json_report(rid: str, dur: float, init: float | None, mem: int, status: str = "success") -> str:
    metrics = f'"durationMs": {dur:.2f}, "billedDurationMs": {int(dur) + 1}, "maxMemoryUsedMB": {mem}'
    if init is not None:
        metrics += f', "initDurationMs": {init:.2f}'
    return (f'{{"time": "x", "type": "platform.report", "record": {{"requestId": "{rid}", '
            f'"metrics": {{{metrics}}}, "status": "{status}"}}}}')


def make_events(hours: float = 7.0, seed: int = 3) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    start_ms = int((END - timedelta(hours=hours)).timestamp() * 1000)
    end_ms = int((END + timedelta(hours=1)).timestamp() * 1000)
    n = 0
    for group, streams in STREAMS.items():
        for stream in streams:
            t = start_ms + rng.randint(0, 30_000)
            while t < end_ms:
                n += 1
                rid = f"req-{n}"
                init = rng.lognormvariate(5.5, 0.8) if rng.random() < 0.15 else None
                dur, mem = rng.uniform(5, 900), rng.randint(60, 400)
                kind = rng.random()
                msgs = []
                if kind < 0.02:  # an older runtime's timeout: its own line, then a REPORT without Status
                    msgs = [(t - 400, f"2026-11-28T00:00:00Z {rid} Task timed out after 3.00 seconds"),
                            (t, _report(rid, 3000.5, init, mem))]
                elif kind < 0.04:  # both forms for one request
                    msgs = [(t - 200, f"{rid} Task timed out after 3.00 seconds"),
                            (t, _report(rid, 3001.0, init, mem, "Status: timeout"))]
                elif kind < 0.05:
                    msgs = [(t - 50, f"RequestId: {rid} Error: Runtime exited with error: signal: killed"),
                            (t, _report(rid, dur, init, mem, "Status: error\tError Type: Runtime.OutOfMemory"))]
                elif group == "/aws/lambda/jsonfn":
                    msgs = [(t, _json_report(rid, dur, init, mem))]
                else:
                    msgs = [(t, _report(rid, dur, init, mem))]
                rows += [(ts, m, stream, f"{ACCOUNT}:{group}") for ts, m in msgs]
                t += rng.randint(5_000, 60_000)
    # a timeout whose two lines sit on either side of a bin edge
    edge = int((END - timedelta(hours=3)).timestamp()) // 300 * 300 * 1000
    rows += [(edge - 150, "req-edge Task timed out after 3.00 seconds", STREAMS["/aws/lambda/api"][0],
              f"{ACCOUNT}:/aws/lambda/api"),
             (edge + 100, _report("req-edge", 3000.9, None, 99, "Status: timeout"), STREAMS["/aws/lambda/api"][0],
              f"{ACCOUNT}:/aws/lambda/api")]
    df = pd.DataFrame(rows, columns=["@timestamp", "@message", "@logStream", "@log"])
    df["@ingestionTime"] = df["@timestamp"]
    return df.sort_values("@timestamp", kind="stable").reset_index(drop=True)


class EngineRunner:
    """InsightsRunner's ``run`` answered by the demo engine, with StartQuery's inclusive seconds."""

    def __init__(self, events: pd.DataFrame) -> None:
        self.events = events
        self.group = events["@log"].str.split(":", n=1).str[1]
        self.queries = 0

    def run(self, region, query, groups, start, end, *, limit=10000, source=None):
        self.queries += 1
        lo, hi = int(start.timestamp()) * 1000, int(end.timestamp()) * 1000 + 999
        ts = self.events["@timestamp"]
        part = self.events[self.group.isin(groups) & (ts >= lo) & (ts <= hi)].reset_index(drop=True)
        rows, stats = run_query(compile_query(query), part, limit=limit)
        return InsightsOutcome(rows=rows_to_dicts(rows), queries=1, bytes_scanned=stats["bytesScanned"])


@pytest.fixture(scope="module")
def events():
    return make_events()


def figures(runner, window, store=None, meter=None):
    errors, failed = ErrorTally(), set()
    res = insights_figures(runner, "us-east-1", GROUPS, window, errors, failed, meter, store=store, notes=[])
    assert not failed and not errors.entries()
    return res.figures


def assert_same(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for key, w in want.items():
        for fig, value in w.items():
            if fig in ("init_p50_ms", "init_p99_ms") and value is not None:
                assert got[key][fig] == pytest.approx(value, rel=(1 + R) ** 0.5 - 1), (key, fig)
            else:
                assert got[key][fig] == value, (key, fig, got[key][fig], value)


def test_a_moving_window_from_the_store_equals_one_query_and_scans_only_what_is_new(events, tmp_path):
    runner = EngineRunner(events)
    store = Store(tmp_path / "store-x.sqlite3")
    first = Window(END - timedelta(hours=6), END)
    cold = Meter()
    assert_same(figures(runner, first, store, cold), figures(runner, first))
    assert cold.saved() == 0
    # 20 minutes later, the window's start not on a second either (the TUI's "last 6h")
    moved = Window(first.start + timedelta(minutes=20, microseconds=250_000), END + timedelta(minutes=20))
    warm, plain = Meter(), Meter()
    want = figures(runner, moved, meter=plain)
    got = figures(runner, moved, store, warm)
    assert_same(got, want)
    assert got[("/aws/lambda/api", "")]["timeouts"] >= 1 and got[("/app/shared", "left")]["log_invocations"] > 0
    assert warm.read()[1] <= 0.10 * plain.read()[1]  # the new 20 minutes and the unaligned head
    assert warm.saved() == pytest.approx(plain.read()[1] - warm.read()[1], rel=0.10)


def test_the_edge_timeout_is_counted_once(events, tmp_path):
    runner = EngineRunner(events)
    edge = datetime.fromtimestamp(int((END - timedelta(hours=3)).timestamp()) // 300 * 300, tz=timezone.utc)
    w = Window(edge - timedelta(minutes=10), edge + timedelta(minutes=10))
    got = figures(runner, w, Store(tmp_path / "store-e.sqlite3"))
    want = figures(runner, w)
    assert_same(got, want)
    ids = log_bins.collect(runner, "us-east-1", ["/aws/lambda/api"], w, Store(tmp_path / "store-f.sqlite3"))
    assert "req-edge" in ids.cells[("/aws/lambda/api", "")].timeout_ids


def test_full_results_are_split_and_still_exact(events, tmp_path, monkeypatch):
    runner = EngineRunner(events)
    w = Window(END - timedelta(hours=2), END)
    monkeypatch.setattr(log_bins, "MAX_ROWS", 60)
    monkeypatch.setattr(log_bins, "ROWS_PER_QUERY", 10_000)  # planned as one query; the answer is full
    got = figures(runner, w, Store(tmp_path / "store-s.sqlite3"))
    assert runner.queries > 3
    monkeypatch.setattr(log_bins, "MAX_ROWS", 10_000)
    assert_same(got, figures(runner, w))


def test_a_bin_too_big_for_one_result_is_missing_not_partial(events, tmp_path, monkeypatch):
    monkeypatch.setattr(log_bins, "MAX_ROWS", 1)
    out = log_bins.collect(EngineRunner(events), "us-east-1", ["/aws/lambda/api"],
                           Window(END - timedelta(minutes=10), END), Store(tmp_path / "store-t.sqlite3"))
    assert out.failed == {"/aws/lambda/api": log_bins.TOO_MANY_ROWS} and not out.cells


def test_an_unwritable_store_costs_a_note_not_the_figures(events, tmp_path):
    (tmp_path / "file").write_text("x")
    store = Store(tmp_path / "file" / "store-u.sqlite3")  # its directory cannot be created
    w = Window(END - timedelta(hours=1), END)
    out = log_bins.collect(EngineRunner(events), "us-east-1", GROUPS, w, store)
    assert out.notes and "not read" in out.notes[0] and "not written" in out.notes[1]
    assert_same({k: c.figures() for k, c in out.cells.items()}, figures(EngineRunner(events), w))


def test_planning():
    assert log_bins.closed_bins(100, 1300, now=10_000) == [300, 600, 900]
    assert log_bins.closed_bins(100, 1300, now=900 + 900) == [300, 600]  # the bin ending at 900 is closed at 1800
    assert log_bins.needed_spans(100, 1300, [300, 600, 900], {300, 900}) == [(100, 300), (600, 900), (1200, 1300)]
    assert log_bins.seconds_of(Window(datetime.fromtimestamp(10.5, timezone.utc),
                                      datetime.fromtimestamp(20.5, timezone.utc))) == (10, 20)
    text, qid = log_bins.binned_query()
    assert "bin(5m)" in text and "log(1.01)" in text and len(qid) == 16
    assert len(text) <= 10_000  # StartQuery's limit on queryString
