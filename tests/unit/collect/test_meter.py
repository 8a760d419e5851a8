"""The run's cost block and the TUI's store label: paid now and saved by the store, per run and in total."""

from __future__ import annotations

from lambdaops.collect.meter import Meter, run_cost, store_label


def test_a_run_meter_adds_to_the_session_meter_and_prices_at_half_a_cent_per_gb():
    session = Meter()
    for _ in range(2):  # two refreshes
        run = Meter(parent=session)
        run.add(metrics=10, insights_bytes=2e9, saved_bytes=8e9)
        cost = run_cost(40, run)
        assert cost == {"calls": 40, "insights_bytes_scanned": 2e9, "insights_usd": 0.01,
                        "saved_bytes": 8e9, "saved_usd": 0.04}
    assert session.read() == (20, 4e9) and session.saved() == 16e9
    assert store_label(session) == "Insights 4.0 GB scanned, 16.0 GB saved"
    session.reset()
    assert store_label(session) == "Insights 0 B scanned, 0 B saved"


def test_the_scan_label_says_what_the_last_refresh_scanned_once_per_minute_asked():
    m = Meter()
    assert m.scan_label() is None
    m.add_scan("new", [(600, 660)])
    m.add_scan("new", [(600, 660)])  # the same minute in another region: the span is counted once
    m.add_scan("closed", [(0, 300)])
    m.add_scan("head", [(10, 40)])
    m.add(insights_bytes=4e5)
    assert m.scan_label() == "Insights: 1m00s new + 5m00s closed + 30s head · 400.0 KB"
    m.begin_scan()  # the next refresh
    m.add_scan("new", [(660, 700), (690, 720)])
    assert m.scan_label() == "Insights: 1m00s new · 0 B" and m.read()[1] == 4e5  # totals stay
