"""The local store over HTTP: a moving window's second report pays Logs Insights only for what is new
and gives the figures of a --no-cache run; ``cache info`` / ``cache clear`` show and empty it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from lambdaops.aws.insights import InsightsRunner
from lambdaops.collect import log_bins
from lambdaops.store.cells import R
from tests.conftest import demo_env
from tests.e2e.test_report import app, run, runner

LOG_FIGURES = ("cold_starts", "cold_start_rate", "memory_used_max_mb", "billed_gb_seconds", "cost_usd", "timeouts",
               "invocations", "errors", "missing")


# a shared log group (text and JSON lines), timeouts and OOMs in both forms, JSON, another region, no log group
CHOSEN = ("storefront-*", "legacy-image-meta", "checkout-api", "tax-calculator", "reports-backfill")


def report(demo, start: datetime, end: datetime, *extra: str) -> dict:
    chosen = [arg for glob in CHOSEN for arg in ("--functions", glob)]
    res = run(demo, *extra, "report", "--start", start.isoformat(), "--end", end.isoformat(), *chosen, "-o", "json")
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


def test_a_moving_window_scans_what_is_new_and_equals_no_cache(served_demo):
    truth = served_demo.truth
    start = datetime.fromisoformat(truth["window"]["start"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(truth["window"]["end"].replace("Z", "+00:00"))
    first = report(served_demo, start, end)
    moved = timedelta(minutes=30)
    second = report(served_demo, start + moved, end + moved)
    plain = report(served_demo, start + moved, end + moved, "--no-cache")
    assert first["cost"]["saved_bytes"] == 0 and plain["cost"]["saved_bytes"] == 0
    assert first["cost"]["calls"] == sum(first["api_calls"].values())
    assert second["cost"]["insights_bytes_scanned"] <= 0.10 * first["cost"]["insights_bytes_scanned"]
    assert second["cost"]["saved_bytes"] > 0.8 * plain["cost"]["insights_bytes_scanned"]
    assert second["cost"]["insights_usd"] < plain["cost"]["insights_usd"]
    got = {(f["region"], f["name"]): f for f in second["functions"]}
    want = {(f["region"], f["name"]): f for f in plain["functions"]}
    assert got.keys() == want.keys()
    for key, w in want.items():
        for fig in LOG_FIGURES:
            assert got[key][fig] == w[fig], (key, fig)
        for fig in ("init_p50_ms", "init_p99_ms"):
            assert (got[key][fig] is None) == (w[fig] is None), (key, fig)
            if w[fig] is not None:
                assert got[key][fig] == pytest.approx(w[fig], rel=(1 + R) ** 0.5 - 1), (key, fig)
    assert len(want) == 7 and sum(f["cold_starts"] or 0 for f in want.values()) > 0
    assert want[("us-east-1", "legacy-image-meta")]["timeouts"] > 0

    info = run(served_demo, "cache", "info", "-o", "json")
    assert info.exit_code == 0, info.stderr
    stores = json.loads(info.stdout)["stores"]
    assert len(stores) == 1 and stores[0]["log_bins"]["bins"] > 0
    assert stores[0]["scope"]["endpoint"] == served_demo.endpoint
    cleared = run(served_demo, "cache", "clear", "-o", "json")
    assert cleared.exit_code == 0 and stores[0]["path"] in json.loads(cleared.stdout)["removed"]
    assert json.loads(run(served_demo, "cache", "info", "-o", "json").stdout)["stores"] == []


def test_two_tui_refreshes_a_minute_apart_scan_the_new_minute_and_equal_no_cache(served_demo, tmp_path):
    """The TUI's refresh (Reads.collect) on an injected clock: the second, a minute later, asks Logs
    Insights for that minute only (the window's start is still in the bin whose end the first kept
    per second), and its figures are those of a collection without the store."""
    from lambdaops.aws.context import AwsContext, StaticCredentials
    from lambdaops.collect import fleet
    from lambdaops.collect.log_bins import BIN_S
    from lambdaops.tui.reads import Reads
    from lambdaops.tui.session import Session, TuiSettings
    from lambdaops.window import parse_duration

    truth = served_demo.truth
    end = int(datetime.fromisoformat(truth["window"]["end"].replace("Z", "+00:00")).timestamp())
    t1 = end // BIN_S * BIN_S - BIN_S + 30  # 30 s into a bin: a minute later no bin has closed
    clock = {"now": datetime.fromtimestamp(t1, tz=timezone.utc)}
    ctx = AwsContext(regions=["us-east-1"], endpoint_url=served_demo.endpoint,
                     credentials=StaticCredentials("demo", "demo"))
    settings = TuiSettings(window_s=parse_duration("1h"))
    session = Session(lambda: ctx, clock=lambda: clock["now"], settings=settings, cache_dir=tmp_path / "cache")
    reads = Reads(session)
    reads.collect(session.window())
    clock["now"] += timedelta(seconds=60)
    second = reads.collect(session.window())
    scan = session.meter.scan
    assert scan == {"new": [(t1, t1 + 60)]}
    assert session.meter.scan_label().startswith("Insights: 1m00s new · ")

    plain = fleet.collect_fleet(ctx, fleet.CollectOptions(window=session.window(), cache_dir=None))
    got, want = second.table.set_index(["region", "name"]), plain.table.set_index(["region", "name"])
    assert len(want) > 10 and want["cold_starts"].sum() > 0
    for fig in ("cold_starts", "log_invocations", "memory_used_max_mb", "billed_ms", "timeouts", "out_of_memory"):
        if fig in want:
            assert got[fig].fillna(-1).to_dict() == want[fig].fillna(-1).to_dict(), fig
    for fig in ("init_p50_ms", "init_p99_ms"):
        assert (got[fig].isna() == want[fig].isna()).all()
        assert (got[fig] - want[fig]).abs().fillna(0).le(want[fig].fillna(0) * ((1 + R) ** 0.5 - 1)).all()


# A warm report of the whole fleet: the region's Lambda groups in one SOURCE query (boto3's StartQuery
# without logGroupNames, the demo's SOURCE engine), figures equal to a --no-cache run.
def _fleet_report(demo, cache, start: datetime, end: datetime, *extra: str) -> dict:
    env = {**demo_env(demo.endpoint), "XDG_CACHE_HOME": str(cache)}  # its own store, not the module's
    res = runner.invoke(app, ["--endpoint-url", demo.endpoint, "--region", "us-east-1", *extra, "report", "--start",
                              start.isoformat(), "--end", end.isoformat(), "-o", "json"], env=env)
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


def test_a_warm_whole_fleet_report_reads_the_region_in_one_source_query(served_demo, tmp_path, monkeypatch):
    monkeypatch.setattr(log_bins, "SOURCE_MIN_GROUPS", 2)  # the test fleet has fewer than 51 groups a region
    asked: list[str] = []
    real = InsightsRunner.run_source

    def counted(self, region, *a, **kw):
        asked.append(region)
        return real(self, region, *a, **kw)

    monkeypatch.setattr(InsightsRunner, "run_source", counted)
    truth = served_demo.truth
    start = datetime.fromisoformat(truth["window"]["start"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(truth["window"]["end"].replace("Z", "+00:00"))
    _fleet_report(served_demo, tmp_path, start, end)
    assert asked == []  # cold: named batches
    moved = timedelta(minutes=2)
    warm = _fleet_report(served_demo, tmp_path, start + moved, end + moved)
    # the new minutes; a bin that closed since and the head's per-second query when the start entered
    # a new bin are queries of their own (the demo's window moves with the clock)
    assert set(asked) == {"us-east-1"} and len(asked) <= 3, asked
    plain = _fleet_report(served_demo, tmp_path, start + moved, end + moved, "--no-cache")
    got = {(f["region"], f["name"]): f for f in warm["functions"]}
    assert got.keys() == {(f["region"], f["name"]) for f in plain["functions"]}
    skip = {"findings", "init_p50_ms", "init_p99_ms"}
    for want in plain["functions"]:
        mine = got[(want["region"], want["name"])]
        assert {k: v for k, v in mine.items() if k not in skip} == {k: v for k, v in want.items() if k not in skip}
        for fig in ("init_p50_ms", "init_p99_ms"):
            assert (mine[fig] is None) == (want[fig] is None)
            assert want[fig] is None or mine[fig] == pytest.approx(want[fig], rel=(1 + R) ** 0.5 - 1), fig
    assert warm["notes"] == plain["notes"]
