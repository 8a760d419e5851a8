"""One query a region (collect.log_bins, SOURCE logGroups(namePrefix: [...])): a warm run of the whole
fleet asks its Lambda groups' new minutes in one query, drops other groups' rows, counts the bytes the
query reports; a cold run, a selection, a full result or a refusal keep 50 groups a query. And a log
group that does not exist is remembered in the store, not asked again each run. No server: the demo's
Insights engine answers through a runner that records every query."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from lambdaops.aws.insights import InsightsOutcome, source_query
from lambdaops.collect import log_bins
from lambdaops.collect.meter import Meter
from lambdaops.errors import ServiceError
from lambdaops.store import Store
from lambdaops.store import db as store_db
from lambdaops.window import Window
from tests.unit.collect.test_log_bins import ACCOUNT, END, EngineRunner, _report, assert_same

FLEET = [f"/aws/lambda/fn-{i:02d}" for i in range(60)] + ["/app/shared"]
OUTSIDE = "/aws/lambda/deleted-fn"  # under the prefix, not in the fleet: SOURCE reads it, we drop it


def make_events() -> pd.DataFrame:
    rows = []
    start_ms = int((END - timedelta(hours=7)).timestamp() * 1000)
    end_ms = int((END + timedelta(hours=1)).timestamp() * 1000)
    for k, group in enumerate(FLEET + [OUTSIDE]):
        stream = "2026/11/28/left[$LATEST]aaa" if group == "/app/shared" else "2026/11/28/[$LATEST]aaa"
        for n, t in enumerate(range(start_ms + 7_000 * k, end_ms, 97_000)):
            init = 300.0 + k if n % 7 == 0 else None
            rows.append((t, _report(f"r{k}-{n}", 10.0 + n % 50, init, 100 + k), stream, f"{ACCOUNT}:{group}"))
    df = pd.DataFrame(rows, columns=["@timestamp", "@message", "@logStream", "@log"])
    df["@ingestionTime"] = df["@timestamp"]
    return df.sort_values("@timestamp", kind="stable").reset_index(drop=True)


class Fleet(EngineRunner):
    """StartQuery over named groups or SOURCE name prefixes; groups in ``absent`` do not exist."""

    def __init__(self, events, absent=(), refuse: str | None = None) -> None:
        super().__init__(events)
        self.absent, self.refuse = set(absent), refuse
        self.named: list[list[str]] = []
        self.sourced: list[str] = []
        self.source_refused: dict[str, str] = {}
        self.bytes = 0.0

    def run(self, region, query, groups, start, end, **kw):
        self.named.append(list(groups))
        gone = {g: f"Log group '{g}' does not exist" for g in groups if g in self.absent}
        out = super().run(region, query, [g for g in groups if g not in gone], start, end, **kw)
        out.missing_groups = gone
        self.bytes += out.bytes_scanned
        return out

    def run_source(self, region, query, prefixes, start, end, *, limit=10000):
        self.sourced.append(source_query(query, prefixes))
        if self.refuse:
            self.source_refused[region] = self.refuse
            raise ServiceError(self.refuse, code="InvalidParameterException")
        under = [g for g in self.group.unique() if g.startswith(tuple(prefixes)) and g not in self.absent]
        out = super().run(region, query, under, start, end, limit=limit)
        self.bytes += out.bytes_scanned
        return InsightsOutcome(rows=out.rows, queries=1, bytes_scanned=out.bytes_scanned)


@pytest.fixture(scope="module")
def events():
    return make_events()


def collect(runner, w, store=None, prefix="/aws/lambda/", meter=None, groups=FLEET, revisions=None):
    return log_bins.collect(runner, "us-east-1", groups, w, store, meter=meter, source_prefix=prefix,
                            revisions=revisions)


def cells(out) -> dict:
    return {k: c.figures() for k, c in out.cells.items()}


FIRST = Window(END - timedelta(hours=6), END)
MOVED = Window(FIRST.start + timedelta(minutes=2), FIRST.end + timedelta(minutes=2))  # its head is stored


def test_a_warm_run_asks_the_fleets_lambda_groups_in_one_source_query(events, tmp_path):
    store = Store(tmp_path / "store-a.sqlite3")
    cold = Fleet(events)
    want_first = cells(collect(cold, FIRST))
    assert_same(cells(collect(cold := Fleet(events), FIRST, store)), want_first)
    assert not cold.sourced  # cold: 6 hours over groups outside the fleet would be billed
    warm, meter = Fleet(events), Meter()
    out = collect(warm, MOVED, store, meter=meter)
    assert len(warm.sourced) == 1 and warm.sourced[0].startswith("SOURCE logGroups(namePrefix: ['/aws/lambda/'])\n| ")
    assert warm.named == [["/app/shared"]]  # a custom group keeps its named query
    assert not any(g == OUTSIDE for g, _ in out.cells)  # the deleted function's rows are dropped
    assert_same(cells(out), cells(collect(Fleet(events), MOVED)))
    assert out.bytes_scanned == meter.insights_bytes == warm.bytes > 0  # what the queries reported
    # 20 minutes on, the window's start enters a new bin: its head per second is one query more
    later = Window(FIRST.start + timedelta(minutes=20), FIRST.end + timedelta(minutes=20))
    head = Fleet(events)
    assert_same(cells(collect(head, later, store)), cells(collect(Fleet(events), later)))
    assert len(head.sourced) == 2 and sum("bin(1s)" in q for q in head.sourced) == 1
    assert head.named == [["/app/shared"], ["/app/shared"]]


def test_a_selection_or_a_long_span_keeps_named_batches(events, tmp_path):
    store = Store(tmp_path / "store-b.sqlite3")
    collect(Fleet(events), FIRST, store)
    sel = Fleet(events)
    assert_same(cells(collect(sel, MOVED, store, prefix=None)), cells(collect(Fleet(events), MOVED)))
    assert not sel.sourced and len(sel.named) >= 2
    later = Window(FIRST.start + timedelta(hours=2), FIRST.end + timedelta(hours=2))  # 2 hours new: too long
    long = Fleet(events)
    collect(long, later, store)
    assert not long.sourced
    assert not log_bins.source_fits([("closed", 0, 3600)], 60) and log_bins.source_fits([("new", 0, 600)], 60)
    assert not log_bins.source_fits([("new", 0, 600)], 1001)  # 1001 groups x 2 bins: more than one result


def test_a_full_source_result_falls_back_to_named_batches_and_stays_exact(events, tmp_path, monkeypatch):
    store = Store(tmp_path / "store-c.sqlite3")
    collect(Fleet(events), FIRST, store)
    monkeypatch.setattr(log_bins, "MAX_ROWS", 61)  # SOURCE's rows (61 groups, one bin) fill it
    warm = Fleet(events)
    got = cells(collect(warm, MOVED, store))
    assert len(warm.sourced) == 1 and len(warm.named) >= 3
    monkeypatch.setattr(log_bins, "MAX_ROWS", 10_000)
    assert_same(got, cells(collect(Fleet(events), MOVED)))


def test_a_refused_source_query_is_asked_by_name_and_not_again_this_run(events, tmp_path):
    store = Store(tmp_path / "store-d.sqlite3")
    collect(Fleet(events), FIRST, store)
    why = "The query selects more than 10,000 log groups"
    warm = Fleet(events, refuse=why)
    got = cells(collect(warm, MOVED, store))
    assert len(warm.sourced) == 1 and sum(len(b) for b in warm.named) == len(FLEET)
    assert_same(got, cells(collect(Fleet(events), MOVED)))
    assert warm.source_refused == {"us-east-1": why}
    collect(warm, Window(MOVED.start + timedelta(minutes=1), MOVED.end + timedelta(minutes=1)), store)
    assert len(warm.sourced) == 1  # remembered for the run


def test_a_missing_group_is_remembered_until_its_function_changes_or_the_memory_ends(events, tmp_path,
                                                                                       monkeypatch):
    store = Store(tmp_path / "store-e.sqlite3")
    gone = "/aws/lambda/never-ran"
    groups = FLEET[:3] + [gone]
    revs = {g: f"{g}@r1" for g in groups}
    first = Fleet(events, absent={gone})
    out = collect(first, FIRST, store, groups=groups, revisions=revs)
    assert gone in out.missing and any(gone in b for b in first.named)
    again = Fleet(events, absent={gone})
    out = collect(again, MOVED, store, groups=groups, revisions=revs)
    assert out.missing == {gone: f"Log group '{gone}' does not exist"}
    assert not any(gone in b for b in again.named)  # no failed StartQuery this time
    changed = Fleet(events, absent={gone})
    collect(changed, MOVED, store, groups=groups, revisions={**revs, gone: f"{gone}@r2"})
    assert any(gone in b for b in changed.named)  # the function changed: it may log now
    real = store_db.time.time
    monkeypatch.setattr(store_db.time, "time", lambda: real() + store_db.MISSING_KEEP_S + 1)
    late = Fleet(events, absent={gone})
    collect(late, MOVED, store, groups=groups, revisions={**revs, gone: f"{gone}@r2"})
    assert any(gone in b for b in late.named)
