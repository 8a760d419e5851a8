"""Power-tuning statistics and strategy choice, on hand-computed vectors (pure, no AWS)."""

from __future__ import annotations

import math

import pytest

from lambdaops import pricing
from lambdaops.analysis.tuning_stats import (Candidate, choose, percentiles, recommend, size_stats, stddev,
                                             trimmed_mean)
from lambdaops.tuning.options import WeightedPayload, parse_memory, payload_plan
from lambdaops.errors import UsageError


def test_trimmed_mean_like_the_reference():
    assert trimmed_mean([1, 2, 3, 4, 2000], 0.2) == 3.0  # drops floor(5 x 0.2) = 1 from each end
    assert trimmed_mean([2000, 4, 1, 3, 2], 0.2) == 3.0  # order does not matter
    assert trimmed_mean([1, 2, 3, 4, 2000], 0.0) == pytest.approx(2010 / 5)
    assert trimmed_mean([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.2) == pytest.approx(5.5)  # drops 2 + 2
    assert trimmed_mean([1, 2, 3, 4, 100], 0.1) == pytest.approx(22.0)  # floor(0.5) = 0 dropped
    assert math.isnan(trimmed_mean([], 0.2))
    with pytest.raises(ValueError):
        trimmed_mean([1, 2], 0.5)


def test_percentiles_linear_and_sample_stddev():
    assert percentiles([1, 2, 3, 4, 5]) == pytest.approx([3.0, 4.6, 4.96])
    assert percentiles([10, 20]) == pytest.approx([15.0, 19.0, 19.9])
    assert stddev([2, 4, 4, 4, 5, 5, 7, 9]) == pytest.approx(math.sqrt(32 / 7))
    assert stddev([5]) == 0.0


def test_prices_and_invocation_cost():
    assert pricing.gb_second_price("us-east-1", "x86_64") == 0.0000166667
    assert pricing.gb_second_price("eu-west-1", "arm64") == 0.0000133334
    assert pricing.gb_second_price("af-south-1", "x86_64") > pricing.gb_second_price("us-east-1", "x86_64")
    # 1,000 ms at 1,024 MB = 1 GB-s, plus $0.20 per million requests
    assert pricing.invocation_cost(1000, 1024, "us-east-1", "x86_64") == pytest.approx(0.0000166667 + 0.2e-6)
    assert pricing.invocation_cost(1000, 1024, "us-east-1", "x86_64", request_charge=False) == pytest.approx(
        0.0000166667)
    assert pricing.price_per_ms(128, "us-east-1", "arm64") == pytest.approx(0.0000133334 / 8 / 1000)
    with pytest.raises(ValueError):
        pricing.gb_second_price("us-east-1", "sparc")


def test_size_stats_by_hand():
    s = size_stats(512, "x86_64", "us-east-1", durations_ms=[10, 20, 30, 40, 500], billed_ms=[11, 21, 31, 41, 900],
                   cold=[False, False, False, False, True], max_memory_mb=[60, 62, 61, 60, 70], errors=0, discard=0.2)
    assert s.duration_ms.mean_trimmed == 30.0
    assert s.duration_ms.p50 == 30.0 and s.duration_ms.p90 == pytest.approx(316.0)
    assert s.billed_ms_mean == 31.0 and s.cold_starts == 1 and s.max_memory_used_mb == 70
    expected = 31 * 0.0000166667 * 0.5 / 1000 + 0.2e-6
    assert s.cost_per_invocation_usd == pytest.approx(expected)
    assert s.cost_per_million_usd == pytest.approx(expected * 1e6)
    assert set(s.to_dict()) == {"memory_mb", "invocations", "errors", "duration_ms", "billed_ms_mean", "cold_starts",
                                "max_memory_used_mb", "cost_per_invocation_usd", "cost_per_million_usd"}
    assert set(s.to_dict()["duration_ms"]) == {"mean_trimmed", "p50", "p90", "p99", "stddev"}


def test_cost_ties_go_to_the_faster_and_speed_ties_to_the_cheaper():
    a, b, c = Candidate(128, 1e-6, 300.0), Candidate(256, 1e-6, 150.0), Candidate(512, 2e-6, 150.0)
    assert choose([a, b, c], "cost").memory_mb == 256
    assert choose([c, b, a], "speed").memory_mb == 256
    assert choose([a, c], "cost").memory_mb == 128


def test_balanced_uses_normalised_cost_and_duration():
    a, b, c = Candidate(128, 1.0, 100.0), Candidate(512, 2.0, 40.0), Candidate(1024, 4.0, 30.0)
    # w=0.5: a .5*.25+.5*1 = .625; b .5*.5+.5*.4 = .45; c .5+.15 = .65
    assert choose([a, b, c], "balanced", 0.5).memory_mb == 512
    assert choose([a, b, c], "balanced", 1.0).memory_mb == 128  # all weight on cost
    assert choose([a, b, c], "balanced", 0.0).memory_mb == 1024  # all weight on speed


def test_the_request_charge_can_flip_a_balanced_choice():
    # 128 MB for 100 ms against 1,024 MB for 40 ms, us-east-1 x86_64.
    def cand(mb, ms, with_requests):
        cost = pricing.invocation_cost(ms, mb, "us-east-1", "x86_64", request_charge=with_requests)
        return Candidate(mb, cost, float(ms))

    reference = choose([cand(128, 100, False), cand(1024, 40, False)], "balanced", 0.5)
    ours = choose([cand(128, 100, True), cand(1024, 40, True)], "balanced", 0.5)
    # Without the charge: 128 MB scores .5*.3125+.5*1 = .656 against .5*1+.5*.4 = .700. With it every
    # cost gains $2e-7, the cost spread shrinks, and speed decides.
    assert (reference.memory_mb, ours.memory_mb) == (128, 1024)


def _stats(mb, ms, arch="x86_64"):
    return size_stats(mb, arch, "us-east-1", durations_ms=[ms] * 5, billed_ms=[math.ceil(ms)] * 5, cold=[False] * 5,
                      max_memory_mb=[50] * 5)


def test_recommendation_reports_saving_and_speedup_against_the_current_setting():
    cur, small, big = _stats(1024, 100.0), _stats(256, 200.0), _stats(2048, 60.0)
    rec = recommend([small, cur, big], "cost", 0.5, cur)
    assert rec.memory_mb == 256
    assert rec.saving_pct == pytest.approx(
        round((cur.cost_per_invocation_usd - small.cost_per_invocation_usd) / cur.cost_per_invocation_usd * 100, 2))
    assert rec.speedup_pct == pytest.approx(-100.0)  # twice as slow
    fast = recommend([small, cur, big], "speed", 0.5, cur)
    assert fast.memory_mb == 2048 and fast.speedup_pct == pytest.approx(40.0) and fast.saving_pct < 0
    same = recommend([cur], "cost", 0.5, cur)
    assert same.saving_pct == 0.0 and "already the current setting" in same.reason
    assert recommend([small], "cost", 0.5, None).saving_pct is None
    assert recommend([], "cost", 0.5, None) is None


def test_memory_list_and_payload_weights():
    assert parse_memory(None) == [128, 256, 512, 1024, 1536, 3008]
    assert parse_memory("all")[:3] == [128, 192, 256] and parse_memory("all")[-1] == 3008
    assert len(parse_memory("all")) == 46
    assert parse_memory("1024, 128,128MB") == [128, 1024]
    for bad in ("64", "abc", "20000", ","):
        with pytest.raises(UsageError):
            parse_memory(bad)
    a, b = WeightedPayload(b"a", 3), WeightedPayload(b"b", 1)
    plan = payload_plan([a, b], 10)
    assert len(plan) == 10 and plan.count(b"a") == 7 and plan.count(b"b") == 3  # 1+6 and 1+2
    assert plan[:2] == [b"a", b"b"]  # interleaved
    assert payload_plan([a, b], 2) == [b"a", b"b"]
    with pytest.raises(UsageError):
        payload_plan([a, b, WeightedPayload(b"c")], 2)


def _report(line: str):
    from lambdaops.report_line import parse_report

    rep = parse_report(line)
    assert rep is not None, line
    return rep


def test_billed_ms_by_aws_rules_never_adds_the_snapstart_restore_twice():
    from lambdaops.analysis.tuning_stats import billed_ms_by_aws_rules

    # A real SnapStart line ("Monitoring for Lambda SnapStart", Lambda Developer Guide): Billed Duration 610 = Duration 306.34 + Billed Restore 303.
    snap = _report("REPORT RequestId: r1\tDuration: 306.34 ms\tBilled Duration: 610 ms\tMemory Size: 1024 MB\t"
                   "Max Memory Used: 150 MB\tRestore Duration: 398.97 ms\tBilled Restore Duration: 303 ms")
    assert billed_ms_by_aws_rules(snap) == 610
    # A container-image cold start that shows INIT inside Billed Duration: 1293.83 + 1049.63 -> 2344.
    inside = _report("REPORT RequestId: r2\tDuration: 1049.63 ms\tBilled Duration: 2344 ms\tMemory Size: 512 MB\t"
                     "Max Memory Used: 90 MB\tInit Duration: 1293.83 ms")
    assert billed_ms_by_aws_rules(inside) == 2344
    # A cold start whose line leaves INIT out (billed since 2025-08-01 all the same): ceil(Duration + Init).
    outside = _report("REPORT RequestId: r3\tDuration: 15.74 ms\tBilled Duration: 16 ms\tMemory Size: 128 MB\t"
                      "Max Memory Used: 56 MB\tInit Duration: 130.49 ms")
    assert billed_ms_by_aws_rules(outside) == 147
    exact = _report("REPORT RequestId: r4\tDuration: 100.1 ms\tBilled Duration: 101 ms\tMemory Size: 128 MB\t"
                    "Max Memory Used: 56 MB\tInit Duration: 0.9 ms")
    assert billed_ms_by_aws_rules(exact) == 101  # 100.1 + 0.9 is 101 ms, not 102 by a rounding error
    warm = _report("REPORT RequestId: r5\tDuration: 15.74 ms\tBilled Duration: 16 ms\tMemory Size: 128 MB\t"
                   "Max Memory Used: 56 MB")
    assert billed_ms_by_aws_rules(warm) == 16


def test_cold_duration_counts_init_and_restore():
    from lambdaops.analysis.tuning_stats import cold_duration_ms

    init = _report("REPORT RequestId: r1\tDuration: 15.74 ms\tBilled Duration: 147 ms\tMemory Size: 128 MB\t"
                   "Max Memory Used: 56 MB\tInit Duration: 130.49 ms")
    assert cold_duration_ms(init) == pytest.approx(146.23)
    snap = _report("REPORT RequestId: r2\tDuration: 306.34 ms\tBilled Duration: 610 ms\tMemory Size: 1024 MB\t"
                   "Max Memory Used: 150 MB\tRestore Duration: 398.97 ms\tBilled Restore Duration: 303 ms")
    assert cold_duration_ms(snap) == pytest.approx(705.31)
    warm = _report("REPORT RequestId: r3\tDuration: 15.74 ms\tBilled Duration: 16 ms\tMemory Size: 128 MB\t"
                   "Max Memory Used: 56 MB")
    assert cold_duration_ms(warm) == 15.74
