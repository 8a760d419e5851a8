"""Cells merge exactly, and INIT percentiles from the histogram stay within the documented bound."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from lambdaops.store.cells import R, ZERO_BUCKET, Cell, bucket_of, bucket_value, parse_bucket

BOUND = math.sqrt(1 + R) - 1  # 0.499%: the module's documented error bound


def cell_of(values: list[float], **kw) -> Cell:
    c = Cell(invocations=float(len(values)), cold_starts=float(len(values)), **kw)
    for v in values:
        b = bucket_of(v)
        c.hist[b] = c.hist.get(b, 0) + 1
    return c


@pytest.mark.parametrize("n,seed", [(1, 1), (2, 2), (3, 3), (17, 4), (100, 5), (2_000, 6)])
def test_percentiles_within_the_bound_of_numpys_linear_percentile(n, seed):
    rng = np.random.default_rng(seed)
    values = list(rng.lognormal(mean=5.5, sigma=1.0, size=n))  # INIT-like: ~250 ms, long tail
    c = cell_of(values)
    for q in (50, 99):
        exact = float(np.percentile(values, q))
        assert abs(c.percentile(q) - exact) / exact <= BOUND + 1e-12, (n, q)


def test_two_far_apart_values_interpolate_like_pct():
    # A nearest-rank histogram would say 100 or 1000; Insights' pct (linear) says 550.
    c = cell_of([100.0, 1000.0])
    assert c.percentile(50) == pytest.approx(550, rel=BOUND)


def test_merge_is_exact_in_any_order():
    rng = random.Random(9)
    parts = []
    for i in range(12):
        vals = [rng.uniform(50, 3000) for _ in range(rng.randint(0, 20))]
        c = cell_of(vals, billed_ms=float(rng.randint(0, 10_000)) if vals else None,
                    max_memory_mb=float(rng.randint(40, 900)) if vals else None)
        c.timeout_ids = {f"req-{rng.randint(0, 5)}"}  # the same request in several bins
        parts.append(c)
    one = Cell()
    for p in parts:
        one.merge(p)
    shuffled = Cell()
    for p in rng.sample(parts, len(parts)):
        shuffled.merge(p)
    assert one == shuffled
    assert one.invocations == sum(p.invocations for p in parts)
    assert one.billed_ms == sum(p.billed_ms or 0 for p in parts)
    assert one.max_memory_mb == max(p.max_memory_mb for p in parts if p.max_memory_mb is not None)
    assert one.figures()["timeouts"] == len(set().union(*(p.timeout_ids for p in parts)))
    assert sum(one.hist.values()) == one.cold_starts


def test_a_request_in_two_bins_is_counted_once():
    # An older runtime's "Task timed out" line at 12:04:59.9 and its REPORT line at 12:05:00.1.
    a, b = Cell(timeout_ids={"r1"}), Cell(invocations=1.0, timeout_ids={"r1"})
    assert Cell().merge(a).merge(b).figures()["timeouts"] == 1.0


def test_no_cold_start_no_percentile_and_nulls_stay_null():
    f = Cell(invocations=3.0).figures()
    assert f["init_p50_ms"] is None and f["billed_ms"] is None and f["memory_used_max_mb"] is None


def test_bucket_text_as_insights_prints_it():
    assert parse_bucket(None) is None and parse_bucket("") is None
    assert parse_bucket("523") == 523 and parse_bucket("523.0") == 523
    assert parse_bucket("-Infinity") == ZERO_BUCKET and bucket_value(ZERO_BUCKET) == 0.0
    assert bucket_of(0) == ZERO_BUCKET


def test_json_round_trip():
    c = cell_of([120.0, 130.0], billed_ms=5.0, max_memory_mb=70.0)
    c.oom_ids = {"x"}
    assert Cell.from_json(c.to_json()) == c
