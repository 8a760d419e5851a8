"""The header's optional texts are kept by priority when the terminal is narrow: what the last
refresh scanned (issue 15) before the call count, a kept listing's age before what the store saved."""

from __future__ import annotations

from lambdaops.tui.widgets.status_header import fitting

EXTRAS = [(1, "   API 79 calls ~$0.0067"), (3, " (Insights 43.5 MB scanned, 43.3 MB saved)"),
          (0, "  Insights: 1m04s new · 0 B"), (2, "  inventory 2m old (r lists)")]


def test_everything_is_shown_in_order_when_it_fits():
    assert fitting(EXTRAS, 500) == [t for _, t in EXTRAS]


def test_a_narrow_header_keeps_the_scan_first_then_the_calls_then_the_listing_age():
    scan, calls, age = EXTRAS[2][1], EXTRAS[0][1], EXTRAS[3][1]
    assert fitting(EXTRAS, len(scan)) == [scan]
    assert fitting(EXTRAS, len(scan) + len(calls)) == [calls, scan]
    assert fitting(EXTRAS, len(scan) + len(calls) + len(age)) == [calls, scan, age]
    assert fitting(EXTRAS, 3) == []

