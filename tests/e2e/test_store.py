"""The local store over HTTP: a moving window's second report pays Logs Insights only for what is new
and gives the figures of a --no-cache run; ``cache info`` / ``cache clear`` show and empty it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from lambdaops.store.cells import R
from tests.e2e.test_report import run

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
