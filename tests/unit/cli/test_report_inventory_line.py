"""A report made from a kept function listing says how old it is (a function created since is
missing from it); a fresh listing adds nothing."""

from __future__ import annotations

from lambdaops.cli.report_render import _summary_lines


def _env(inventory):
    return {"functions": [], "regions": ["us-east-1"], "window": {"start": "2026-12-02T00:00:00Z",
                                                                  "end": "2026-12-02T06:00:00Z"},
            "api_calls": {}, "api_retries": {}, "errors": [], "inventory": inventory}


def test_a_kept_listing_is_named_with_its_age():
    lines = _summary_lines(_env({"listed_at": {}, "age_s": 130.0, "kept": ["us-east-1"], "max_age_s": 300}))
    assert lines[-1] == "inventory as of 2m10s ago (us-east-1: listing kept up to 5m00s; --no-cache lists afresh)"


def test_a_fresh_listing_says_nothing():
    fresh = _summary_lines(_env({"listed_at": {}, "age_s": 0.0, "kept": [], "max_age_s": 300}))
    assert not any("inventory" in line for line in fresh)
    assert _summary_lines(_env({})) == fresh
