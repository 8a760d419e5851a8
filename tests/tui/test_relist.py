"""The TUI's ``r`` on the fleet lists the functions afresh once; the automatic refresh takes a
listing kept a few minutes (lambdaops.aws.inventory_cache)."""

from __future__ import annotations

from types import SimpleNamespace

from lambdaops.aws import inventory
from lambdaops.aws.inventory_cache import INVENTORY_TTL_S
from lambdaops.collect import fleet
from lambdaops.collect.meter import Meter
from lambdaops.tui.reads import Reads


def test_r_makes_the_next_fleet_read_list_afresh_and_only_that_one(monkeypatch):
    asked = []
    monkeypatch.setattr(inventory, "fleet_inventory",
                        lambda ctx, regions, opts: asked.append(("list", opts.max_age_s)))
    monkeypatch.setattr(fleet, "collect_fleet", lambda ctx, opts: asked.append(("collect", opts.inventory_max_age_s)))
    settings = SimpleNamespace(thresholds=None, insights_concurrency=4)
    ctx = SimpleNamespace(require_regions=lambda: ["us-east-1"])
    reads = Reads(SimpleNamespace(ctx=ctx, cache_dir=None, settings=settings, meter=Meter(), now=lambda: None))
    reads.collect(window=None)
    reads.relist_next = True  # what action_refresh sets on the fleet screen
    reads.inventory()
    reads.collect(window=None)  # the same poll's collection takes the listing just made
    reads.relist_next = True
    reads.collect(window=None)  # a poll without a first paint lists in its collection
    assert asked == [("collect", INVENTORY_TTL_S), ("list", 0), ("collect", INVENTORY_TTL_S), ("collect", 0)]
