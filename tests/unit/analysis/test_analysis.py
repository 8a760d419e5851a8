"""Analysis (pure pandas) on small hand-made inputs with hand-computed answers."""

from __future__ import annotations

import math

import pytest

from lambdaops.analysis.fleet import analyze, iterator_age_growth, time_series, to_records
from lambdaops.analysis.thresholds import Thresholds
from lambdaops.errors import ConfigError


def rec(name, **kw):
    base = {"name": name, "region": "us-east-1", "runtime": "python3.12", "architecture": "x86_64",
            "memory_mb": 1024, "timeout_s": 10, "invocations": 1000.0, "errors": 0.0, "throttles": 0.0,
            "duration_p50_ms": 40.0, "duration_p90_ms": 80.0, "duration_p99_ms": 200.0, "duration_max_ms": 900.0,
            "max_concurrency": 5.0, "iterator_age_max_ms": None, "dlq_depth": None, "cold_starts": 10.0,
            "log_invocations": 1000.0, "init_p50_ms": 300.0, "init_p99_ms": 700.0, "memory_used_max_mb": 500,
            "billed_ms": 1_000_000.0, "timeouts": 0.0, "out_of_memory": 0.0}
    base.update(kw)
    return base


def by_name(df):
    return {r["name"]: r for r in to_records(df)}


def test_rates_cost_and_no_findings_for_a_healthy_function():
    r = by_name(analyze([rec("ok")]))["ok"]
    assert r["error_rate"] == 0.0 and r["throttle_rate"] == 0.0
    assert r["cold_start_rate"] == pytest.approx(0.01)
    assert r["billed_gb_seconds"] == pytest.approx(1000.0)  # 1,000 s x 1 GB
    # us-east-1 x86_64: 1000 GB-s x $0.0000166667 + 1000 requests x $0.20/M
    assert r["cost_usd"] == pytest.approx(1000 * 0.0000166667 + 1000 * 0.2 / 1e6, rel=1e-6)
    assert r["findings"] == []
    assert isinstance(r["invocations"], int)


def test_arm64_is_cheaper():
    x86 = by_name(analyze([rec("a")]))["a"]["cost_usd"]
    arm = by_name(analyze([rec("a", architecture="arm64")]))["a"]["cost_usd"]
    assert arm == pytest.approx(1000 * 0.0000133334 + 1000 * 0.2 / 1e6, rel=1e-6) and arm < x86


def test_each_finding_and_its_severity():
    rows = [
        rec("errors-warn", errors=20.0),
        rec("errors-crit", errors=60.0),
        rec("throttled", throttles=5.0),
        rec("cold", cold_starts=200.0),
        rec("lagging", iterator_age_max_ms=420_000.0, iterator_age_growth=30.0),
        rec("dlq", dlq_depth=150.0),
        rec("oom-risk", memory_used_max_mb=1000),
        rec("oom", memory_used_max_mb=1024, out_of_memory=3.0),
        rec("fat", memory_mb=3008, memory_used_max_mb=300),
        rec("timeouts", timeouts=12.0, duration_p99_ms=9500.0),
    ]
    out = by_name(analyze(rows))
    codes = {name: [(f["severity"], f["code"]) for f in r["findings"]] for name, r in out.items()}
    assert codes["errors-warn"] == [("warning", "high_error_rate")]
    assert codes["errors-crit"] == [("critical", "high_error_rate")]
    # 5 of 1,005 attempts = 0.5%: any throttle warns, 1% is critical
    assert codes["throttled"] == [("warning", "throttling")]
    assert out["throttled"]["throttle_rate"] == pytest.approx(5 / 1005, abs=1e-6)  # rates keep 6 decimals
    assert codes["cold"] == [("critical", "cold_start_rate")]
    assert codes["lagging"] == [("critical", "iterator_age")]
    assert codes["dlq"] == [("critical", "dlq_not_empty")]
    messages = {name: [f["message"] for f in r["findings"]] for name, r in out.items()}
    assert messages["dlq"] == ["DLQ holds 150 messages"]
    one = [f["message"] for f in by_name(analyze([rec("one", dlq_depth=1.0, timeouts=1.0)]))["one"]["findings"]]
    assert "DLQ holds 1 message" in one and "1 invocation timed out (0.10%)" in one
    assert codes["oom-risk"] == [("warning", "memory_near_limit")]  # 1000/1024 = 97.7%: warn >= 90%, critical >= 98%
    assert codes["oom"] == [("critical", "memory_near_limit")]
    assert codes["fat"] == [("warning", "memory_overprovisioned")]
    assert ("critical", "timeouts") in codes["timeouts"] and ("warning", "duration_near_timeout") in codes["timeouts"]


def test_sorted_worst_first_and_missing_stays_missing():
    df = analyze([rec("b"), rec("a", errors=90.0), rec("c", invocations=None, errors=None)])
    assert list(df["name"][:1]) == ["a"]
    c = by_name(df)["c"]
    assert c["invocations"] is None and c["error_rate"] is None and c["cost_usd"] is None


def test_rates_need_enough_invocations():
    out = by_name(analyze([rec("tiny", invocations=10.0, errors=5.0, cold_starts=5.0, log_invocations=10.0)]))
    assert out["tiny"]["error_rate"] == 0.5 and out["tiny"]["findings"] == []


def test_thresholds_from_config():
    t = Thresholds.from_config({"error_rate_warning": 0.001, "min_invocations": 1})
    out = by_name(analyze([rec("e", errors=2.0)], t))
    assert out["e"]["findings"][0]["code"] == "high_error_rate"
    with pytest.raises(ConfigError, match="unknown threshold"):
        Thresholds.from_config({"nope": 1})
    with pytest.raises(ConfigError, match="must be a number"):
        Thresholds.from_config({"error_rate_warning": "high"})


def test_compare_previous_change():
    now = analyze([rec("a", cold_starts=31.0)])
    before = analyze([rec("a", cold_starts=10.0)])
    r = to_records(now, before)[0]
    assert r["previous"]["cold_starts"] == 10 and r["change"]["cold_starts"] == 3.1


def test_iterator_age_growth_and_series():
    assert iterator_age_growth([100, 120, 110, 900, 4000, 9000]) == pytest.approx(9000 / 120)
    assert iterator_age_growth([5, 5]) is None
    df = time_series({"invocations": ([0, 60_000_000_000], [3.0, 4.0]), "duration_p99_ms": ([60_000_000_000], [9.5])})
    assert list(df["invocations"]) == [3.0, 4.0] and math.isnan(df["duration_p99_ms"].iloc[0])
