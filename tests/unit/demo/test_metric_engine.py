"""The demo account's metric store and GetMetricData engine, against hand-computed answers."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import numpy as np
import pytest

from lambdaops.demo.api_errors import DemoApiError
from lambdaops.demo.metric_query import get_metric_data
from lambdaops.demo.metric_store import MetricStore
from lambdaops.demo.metric_stats import parse_statistic

R = "us-east-1"
NS = "AWS/Lambda"
FN = {"FunctionName": "orders"}
T0 = 1_700_006_400_000  # an hour boundary, in ms
T0_S = T0 // 1000
MIN = 60_000
NOW = T0 + 3_600_000  # "now" one hour after T0: every period is allowed


def metric(qid, name="Duration", stat="Sum", period=300, dims=FN, **extra):
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {"Namespace": NS, "MetricName": name,
                       "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()]},
            "Period": period,
            "Stat": stat,
        },
        **extra,
    }


def expr(qid, text, **extra):
    return {"Id": qid, "Expression": text, **extra}


def call(store, queries, start=T0_S, end=T0_S + 3600, now=NOW, **extra):
    request = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end,
               "ScanBy": "TimestampAscending", **extra}
    return get_metric_data(store, R, request, now)


def result(response, qid):
    (r,) = [r for r in response["MetricDataResults"] if r["Id"] == qid]
    return r["Timestamps"], r["Values"]


def add(store, name, ts_ms, values, dims=FN, unit=None):
    store.add_samples(R, NS, name, dims, np.asarray(ts_ms), np.asarray(values, dtype=float), unit)


def api_error(code, fn, *args, **kwargs) -> DemoApiError:
    with pytest.raises(DemoApiError) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, info.value.message
    assert info.value.status == 400
    return info.value


@pytest.fixture
def store():
    return MetricStore()


@pytest.fixture
def counts(store):
    """Invocations and Errors with a hole: periods 0, 1 and 3 of the hour have invocations,
    only period 1 has errors."""
    add(store, "Invocations", [T0 + 1000, T0 + 2000, T0 + 5 * MIN + 1, T0 + 15 * MIN], [1, 1, 1, 1])
    add(store, "Errors", [T0 + 5 * MIN + 1], [1])
    return store


# ---------------------------------------------------------------------------------------------
# statistics
# ---------------------------------------------------------------------------------------------


def test_basic_statistics_per_period(store):
    add(store, "Duration", [T0, T0 + 10, T0 + 20, T0 + 5 * MIN], [3.0, 1.0, 8.0, 5.0])
    queries = [metric(s.lower(), stat=s) for s in
               ("Sum", "Average", "Minimum", "Maximum", "SampleCount")]
    resp = call(store, queries)
    assert result(resp, "sum") == ([T0_S, T0_S + 300], [12.0, 5.0])
    assert result(resp, "average") == ([T0_S, T0_S + 300], [4.0, 5.0])
    assert result(resp, "minimum") == ([T0_S, T0_S + 300], [1.0, 5.0])
    assert result(resp, "maximum") == ([T0_S, T0_S + 300], [8.0, 5.0])
    assert result(resp, "samplecount") == ([T0_S, T0_S + 300], [3.0, 1.0])
    assert all(r["StatusCode"] == "Complete" for r in resp["MetricDataResults"])


@pytest.mark.parametrize("q", [0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100])
def test_percentiles_match_numpy_exactly(store, q):
    rng = np.random.default_rng(int(q * 100))
    # Periods of very different sizes, including 1 and 2 samples and an empty one.
    sizes = [1, 2, 3, 7, 100, 0, 1000, 5]
    ts, values, slices = [], [], []
    for k, n in enumerate(sizes):
        t = np.sort(rng.integers(T0 + k * 5 * MIN, T0 + (k + 1) * 5 * MIN, n))
        v = rng.lognormal(4, 1.5, n)
        ts.append(t)
        values.append(v)
        slices.append(v)
    add(store, "Duration", np.concatenate(ts), np.concatenate(values))
    stat = f"p{q:g}"
    got_ts, got = result(call(store, [metric("m", stat=stat)]), "m")
    expected = [float(np.percentile(v, q)) for v in slices if len(v)]
    assert got_ts == [T0_S + k * 300 for k, n in enumerate(sizes) if n]
    assert got == expected  # bit-identical, not approximately


def test_percentiles_share_one_sort_with_duplicates_and_unsorted_arrival(store):
    rng = np.random.default_rng(3)
    ts = rng.integers(T0, T0 + 3_600_000, 5000)  # unsorted, many equal values
    values = rng.integers(0, 20, 5000).astype(float)
    add(store, "Duration", ts[:2500], values[:2500])
    add(store, "Duration", ts[2500:], values[2500:])
    stats = ["p50", "p90", "p99", "p99.9"]
    resp = call(store, [metric(f"m{i}", stat=s) for i, s in enumerate(stats)])
    period = (ts - T0) // (5 * MIN)
    for i, s in enumerate(stats):
        _, got = result(resp, f"m{i}")
        assert got == [float(np.percentile(values[period == k], float(s[1:])))
                       for k in range(12)]


@pytest.mark.parametrize("stat, expected", [
    ("TM(10%:90%)", 5.5),   # drops 1 and 10
    ("tm90", 5.0),          # drops the top 10%: 1..9
    ("TM(:90%)", 5.0),
    ("TM(20%:)", 6.5),      # drops 1, 2
    ("IQM", 5.5),           # ranks 2..7 of 10: 3..8
    ("TM(2:5)", 4.0),       # 2 < v <= 5: 3, 4, 5
    ("WM(10%:90%)", 5.5),   # clipped to [2, 9]
    ("wm90", 5.4),          # 10 becomes 9
    ("TC(2:5)", 3.0),
    ("tc90", 9.0),
    ("TS(2:5)", 12.0),
    ("ts90", 45.0),
    ("PR(:5)", 50.0),
    ("PR(2:5)", 30.0),
    ("p50", 5.5),
])
def test_trimmed_and_rank_statistics(store, stat, expected):
    add(store, "Duration", T0 + np.arange(10) * 1000, np.arange(1, 11))
    assert result(call(store, [metric("m", stat=stat)]), "m") == ([T0_S], [pytest.approx(expected)])


def test_trimmed_mean_with_nothing_left_has_no_datapoint(store):
    add(store, "Duration", [T0, T0 + 1], [1.0, 2.0])
    assert result(call(store, [metric("m", stat="TM(5:10)")]), "m") == ([], [])
    assert result(call(store, [metric("m", stat="TC(5:10)")]), "m") == ([T0_S], [0.0])


def test_statistic_sets_combine_but_give_no_percentiles(store):
    add(store, "Duration", [T0, T0 + 5 * MIN], [10.0, 30.0])
    store.add_statistic_set(R, NS, "Duration", FN, T0 + 1000, sample_count=4, total=20.0,
                            minimum=1.0, maximum=9.0)
    resp = call(store, [metric("s", stat="Sum"), metric("c", stat="SampleCount"),
                        metric("a", stat="Average"), metric("lo", stat="Minimum"),
                        metric("hi", stat="Maximum"), metric("p", stat="p50"),
                        metric("t", stat="TM(10%:90%)")])
    assert result(resp, "s") == ([T0_S, T0_S + 300], [30.0, 30.0])
    assert result(resp, "c") == ([T0_S, T0_S + 300], [5.0, 1.0])
    assert result(resp, "a") == ([T0_S, T0_S + 300], [6.0, 30.0])
    assert result(resp, "lo") == ([T0_S, T0_S + 300], [1.0, 30.0])
    assert result(resp, "hi") == ([T0_S, T0_S + 300], [10.0, 30.0])
    # The first period holds a statistic set: no percentile there; the second is raw only.
    assert result(resp, "p") == ([T0_S + 300], [30.0])
    assert result(resp, "t") == ([T0_S + 300], [30.0])
    # Only statistic-set periods: no percentile at all.
    resp = call(store, [metric("p", stat="p50"), metric("w", stat="WM(10%:90%)")],
                end=T0_S + 300)
    assert result(resp, "p") == result(resp, "w") == ([], [])


def test_statistic_set_of_one_sample_is_a_raw_sample(store):
    store.add_statistic_set(R, NS, "Duration", FN, T0, 1, 7.0, 7.0, 7.0)
    assert result(call(store, [metric("p", stat="p99")]), "p") == ([T0_S], [7.0])


@pytest.mark.parametrize("text", ["p101", "P50", "p", "Avg", "sum", "TM(10%:500)", "TM(90%:10%)",
                                  "PR(10%:20%)", "TM()", "TM(:)", "tm", "p50.", "WM(a:b)",
                                  "TM(10%:90%", "p-1"])
def test_malformed_statistics_are_rejected(text):
    with pytest.raises(ValueError):
        parse_statistic(text)


# ---------------------------------------------------------------------------------------------
# periods
# ---------------------------------------------------------------------------------------------


def test_periods_align_to_start_and_end_is_exclusive(store):
    end = T0 + 15 * MIN
    add(store, "Invocations", [T0 - 1, T0 + 10_000, T0 + 5 * MIN - 1, T0 + 5 * MIN, end - 1, end],
        [100, 1, 2, 4, 8, 200])
    # StartTime 2m10s into the first period: CloudWatch rounds it down to the whole minute (data under
    # 15 days old), not to a multiple of the period, and periods run from there.
    resp = call(store, [metric("m", name="Invocations")], start=T0_S + 130, end=end // 1000)
    assert result(resp, "m") == ([T0_S + 120, T0_S + 720], [6.0, 8.0])


def test_empty_periods_are_omitted_not_zero(counts):
    resp = call(counts, [metric("i", name="Invocations"), metric("e", name="Errors")])
    assert result(resp, "i") == ([T0_S, T0_S + 300, T0_S + 900], [2.0, 1.0, 1.0])
    assert result(resp, "e") == ([T0_S + 300], [1.0])


def test_exact_dimension_match_and_unknown_metric_is_empty(store):
    add(store, "Invocations", [T0], [1], dims={"FunctionName": "orders", "Resource": "orders:1"})
    resp = call(store, [metric("m", name="Invocations"), metric("n", name="Nope")])
    assert result(resp, "m") == ([], [])
    assert result(resp, "n") == ([], [])


def test_unit_filter(store):
    add(store, "Duration", [T0], [5.0], unit="Milliseconds")
    same = metric("a", stat="Sum")
    same["MetricStat"]["Unit"] = "Milliseconds"
    other = metric("b", stat="Sum")
    other["MetricStat"]["Unit"] = "Seconds"
    resp = call(store, [same, other])
    assert result(resp, "a") == ([T0_S], [5.0])
    assert result(resp, "b") == ([], [])  # CloudWatch does not convert units


def test_time_formats(store):
    add(store, "Invocations", [T0 + 1000], [1])
    iso = datetime.fromtimestamp(T0_S, tz=timezone.utc)
    for start, end in ((iso, iso.replace(hour=iso.hour + 1)),
                       (iso.isoformat().replace("+00:00", "Z"), str(T0_S + 3600)),
                       (float(T0_S), T0_S + 3600.0)):
        assert result(call(store, [metric("m", name="Invocations")], start=start, end=end),
                      "m") == ([T0_S], [1.0])


def test_labels_and_return_data(counts):
    resp = call(counts, [metric("i", name="Invocations", ReturnData=False),
                         metric("e", name="Errors", Label="errs"),
                         metric("d", name="Invocations"),
                         expr("x", "e * 2")])
    assert [(r["Id"], r["Label"]) for r in resp["MetricDataResults"]] == [
        ("e", "errs"), ("d", "Invocations"), ("x", "x")]
    assert resp["Messages"] == []


# ---------------------------------------------------------------------------------------------
# metric math
# ---------------------------------------------------------------------------------------------


def test_fill_with_a_value_covers_the_whole_range(counts):
    resp = call(counts, [metric("e", name="Errors", ReturnData=False), expr("f", "FILL(e, 0)")])
    assert result(resp, "f") == ([T0_S + 300 * k for k in range(12)],
                                 [0.0, 1.0] + [0.0] * 10)


def test_error_rate_expression(counts):
    resp = call(counts, [metric("i", name="Invocations", ReturnData=False),
                         metric("e", name="Errors", ReturnData=False),
                         expr("rate", "100*FILL(e,0)/i")])
    # Periods without invocations stay absent (i is missing there), the others get a rate.
    assert result(resp, "rate") == ([T0_S, T0_S + 300, T0_S + 900], [0.0, 100.0, 0.0])


def test_fill_repeat_and_linear(store):
    add(store, "Duration", [T0 + 5 * MIN, T0 + 15 * MIN], [10.0, 30.0])
    resp = call(store, [metric("m", ReturnData=False), expr("r", "FILL(m, REPEAT)"),
                        expr("l", "FILL(m, LINEAR)")], end=T0_S + 1500)
    assert result(resp, "r") == ([T0_S + 300 * k for k in range(5)], [10, 10, 10, 30, 30])
    assert result(resp, "l") == ([T0_S + 300 * k for k in range(5)], [10, 10, 20, 30, 30])


def test_if_comparisons_and_logic(store):
    add(store, "Duration", T0 + np.arange(4) * 5 * MIN, [1.0, 5.0, 10.0, 20.0])
    resp = call(store, [
        metric("m", ReturnData=False),
        expr("a", "IF(m > 4, m, 0)"),
        expr("b", "IF(m >= 5 AND m < 20, 1)"),
        expr("c", "IF(NOT (m == 5) OR m != 5, m * -1, m)"),
        expr("d", "(m > 4) + (m <= 1)"),
    ], end=T0_S + 1200)
    ts = [T0_S + 300 * k for k in range(4)]
    assert result(resp, "a") == (ts, [0.0, 5.0, 10.0, 20.0])
    assert result(resp, "b") == (ts[1:3], [1.0, 1.0])
    assert result(resp, "c") == (ts, [-1.0, 5.0, -10.0, -20.0])
    assert result(resp, "d") == (ts, [1.0, 1.0, 1.0, 1.0])


def test_arithmetic_precedence_alignment_and_division_by_zero(store):
    add(store, "Invocations", T0 + np.arange(3) * 5 * MIN, [2.0, 0.0, 4.0])
    add(store, "Errors", T0 + np.arange(1, 4) * 5 * MIN, [1.0, 1.0, 1.0])
    resp = call(store, [
        metric("i", name="Invocations", ReturnData=False),
        metric("e", name="Errors", ReturnData=False),
        expr("p", "1 + 2 * 3 - -(4 - 2) / 2 ^ 1"),
        expr("q", "e / i"),
        expr("s", "i + e"),
    ], end=T0_S + 1200)
    assert result(resp, "p") == ([T0_S + 300 * k for k in range(4)], [8.0] * 4)
    assert result(resp, "q") == ([T0_S + 600], [0.25])  # e/0 at +300 dropped
    assert result(resp, "s") == ([T0_S + 300, T0_S + 600], [1.0, 5.0])


def test_metrics_function_and_array_aggregates(store):
    add(store, "Errors", [T0, T0 + 5 * MIN], [1.0, 2.0])
    add(store, "Throttles", [T0 + 5 * MIN], [10.0])
    add(store, "Invocations", [T0], [100.0])
    resp = call(store, [
        metric("err_a", name="Errors", ReturnData=False),
        metric("err_b", name="Throttles", ReturnData=False),
        metric("inv", name="Invocations", ReturnData=False),
        expr("all", "METRICS()"),
        expr("errs", 'SUM(METRICS("err"))'),
        expr("top", "MAX([err_a, err_b])"),
        expr("scaled", "err_a / MAX(err_a)"),
        expr("first", "FIRST(SORT(METRICS(), MAX, DESC))"),
    ])
    labels = [r["Label"] for r in resp["MetricDataResults"] if r["Id"] == "all"]
    assert labels == ["Errors", "Throttles", "Invocations"]
    assert result(resp, "errs") == ([T0_S, T0_S + 300], [1.0, 12.0])
    assert result(resp, "top") == ([T0_S, T0_S + 300], [1.0, 10.0])
    assert result(resp, "scaled") == ([T0_S, T0_S + 300], [0.5, 1.0])
    assert result(resp, "first") == ([T0_S], [100.0])


def test_rate_diff_period_and_unary_functions(store):
    add(store, "Invocations", [T0, T0 + 5 * MIN, T0 + 15 * MIN], [10.0, 40.0, 10.0])
    resp = call(store, [
        metric("m", name="Invocations", ReturnData=False),
        expr("r", "RATE(m)"),
        expr("d", "DIFF(m)"),
        expr("p", "PERIOD(m)"),
        expr("a", "ABS(DIFF(m)) + CEIL(0.2) + FLOOR(0.7)"),
        expr("k", "5"),
    ], end=T0_S + 1200)
    assert result(resp, "r") == ([T0_S + 300, T0_S + 900], [0.1, -0.05])
    assert result(resp, "d") == ([T0_S + 300, T0_S + 900], [30.0, -30.0])
    assert result(resp, "p") == ([T0_S, T0_S + 300, T0_S + 900], [300.0] * 3)
    assert result(resp, "a") == ([T0_S + 300, T0_S + 900], [31.0, 31.0])
    # A number is a flat line over the range, at the request's metric period.
    assert result(resp, "k") == ([T0_S + 300 * k for k in range(4)], [5.0] * 4)


def test_expressions_can_use_expressions(counts):
    resp = call(counts, [metric("i", name="Invocations", ReturnData=False),
                         expr("double", "i * 2", ReturnData=False),
                         expr("quad", "double + double")])
    assert result(resp, "quad") == ([T0_S, T0_S + 300, T0_S + 900], [8.0, 4.0, 4.0])


@pytest.mark.parametrize("text, fragment", [
    ("FOO(m)", "Unrecognized function name 'FOO' [column 1]"),
    ("m +", "Unexpected 'end of expression' [column 4]"),
    ("(m * 2", "Expected ')'"),
    ("m $ 2", "Unexpected character '$' [column 3]"),
    ("m + nope", "Unrecognized identifier 'nope' [column 5]"),
    ("FILL(m)", "FILL takes 2 arguments but was given 1"),
    ("FILL(m, SIDEWAYS)", "Unrecognized identifier 'SIDEWAYS' [column 9]"),
    ("SEARCH('{AWS/Lambda}', 'Sum', 300)", "not supported"),
    ("METRICS() + METRICS()", "Cannot combine two arrays"),
])
def test_expression_errors(store, text, fragment):
    err = api_error("ValidationError", call, store, [metric("m", ReturnData=False),
                                                     expr("e", text)])
    assert fragment in err.message and "expression e" in err.message


def test_expression_cycles_are_rejected(store):
    err = api_error("ValidationError", call, store, [expr("a", "b + 1"), expr("b", "a * 2")])
    assert "Circular" in err.message


# ---------------------------------------------------------------------------------------------
# ordering and pagination
# ---------------------------------------------------------------------------------------------


def _pagination_fixture(store):
    rng = np.random.default_rng(5)
    for name in ("Invocations", "Duration", "Errors"):
        ts = np.sort(rng.integers(T0, T0 + 3_600_000, 300))
        add(store, name, ts, rng.random(300))
    add(store, "Throttles", [T0], [1.0])  # one datapoint
    return [metric("i", name="Invocations"), metric("d", name="Duration", stat="p90"),
            metric("e", name="Errors", ReturnData=False), metric("t", name="Throttles"),
            metric("z", name="Nothing"), expr("x", "FILL(e, 0) * 2")]


@pytest.mark.parametrize("scan_by", ["TimestampAscending", "TimestampDescending"])
@pytest.mark.parametrize("page_size", [1, 5, 7, 12, 1000])
def test_pagination_round_trip(store, scan_by, page_size):
    queries = _pagination_fixture(store)
    full = call(store, queries, ScanBy=scan_by)
    assert "NextToken" not in full
    merged: dict[tuple, tuple[list, list]] = {}
    token, pages = None, 0
    while True:
        extra = {"MaxDatapoints": page_size, "ScanBy": scan_by}
        if token:
            extra["NextToken"] = token
        page = call(store, queries, **extra)
        pages += 1
        assert sum(len(r["Values"]) for r in page["MetricDataResults"]) <= page_size
        for r in page["MetricDataResults"]:
            ts, vs = merged.setdefault((r["Id"], r["Label"]), ([], []))
            ts += r["Timestamps"]
            vs += r["Values"]
            assert r["StatusCode"] in ("Complete", "PartialData")
        token = page.get("NextToken")
        if not token:
            assert all(r["StatusCode"] == "Complete" for r in page["MetricDataResults"])
            break
    total = sum(len(r["Values"]) for r in full["MetricDataResults"])
    assert pages == -(-total // page_size)
    assert merged == {(r["Id"], r["Label"]): (r["Timestamps"], r["Values"])
                      for r in full["MetricDataResults"]}


def test_scan_by_orders(store):
    add(store, "Invocations", T0 + np.arange(3) * 5 * MIN, [1.0, 2.0, 3.0])
    q = [metric("m", name="Invocations")]
    asc = call(store, q, ScanBy="TimestampAscending")
    desc = call(store, q, ScanBy="TimestampDescending")
    default = get_metric_data(store, R, {"MetricDataQueries": q, "StartTime": T0_S,
                                         "EndTime": T0_S + 3600}, NOW)
    assert result(asc, "m") == ([T0_S, T0_S + 300, T0_S + 600], [1.0, 2.0, 3.0])
    assert result(desc, "m") == ([T0_S + 600, T0_S + 300, T0_S], [3.0, 2.0, 1.0])
    assert default == desc


def test_partial_status_and_bad_tokens(store):
    add(store, "Invocations", T0 + np.arange(3) * 5 * MIN, [1.0, 2.0, 3.0])
    q = [metric("m", name="Invocations")]
    page = call(store, q, MaxDatapoints=2)
    assert page["MetricDataResults"][0]["StatusCode"] == "PartialData"
    api_error("InvalidNextToken", call, store, q, NextToken="garbage")
    # A token only continues the request that issued it.
    api_error("InvalidNextToken", call, store, q, end=T0_S + 1800,
              NextToken=page["NextToken"])


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------


def _bad_period_query(period):
    return [metric("m", period=period)]


@pytest.mark.parametrize("queries, kwargs, code, fragment", [
    ([metric(f"m{i}") for i in range(501)], {}, "ValidationError", "less than or equal to 500"),
    ([], {}, "ValidationError", "greater than or equal to 1"),
    ([metric("M1")], {}, "InvalidParameterValue", "MetricDataQueries.member.1.Id"),
    ([metric("1m")], {}, "InvalidParameterValue", "Id is not valid"),
    ([metric("m-1")], {}, "InvalidParameterValue", "Id is not valid"),
    ([metric("a"), metric("a")], {}, "InvalidParameterValue", "member.2.Id is not unique"),
    ([{**metric("a"), "Expression": "1"}], {}, "InvalidParameterCombination",
     "mutually exclusive"),
    ([{"Id": "a"}], {}, "ValidationError", "member.1.MetricStat is required"),
    ([{"MetricStat": metric("a")["MetricStat"]}], {}, "MissingParameter", "member.1.Id"),
    (_bad_period_query(45), {}, "InvalidParameterValue", "multiple of 60"),
    (_bad_period_query(0), {}, "InvalidParameterValue", "multiple of 60"),
    (_bad_period_query(90), {}, "InvalidParameterValue", "multiple of 60"),
    (_bad_period_query("60"), {}, "InvalidParameterValue", "not a valid integer"),
    ([metric("m", stat="p101")], {}, "InvalidParameterValue", "not a valid statistic"),
    ([metric("m", stat="Avg")], {}, "InvalidParameterValue", "not a valid statistic"),
    ([metric("m", ReturnData=False)], {}, "ValidationError", "ReturnData"),
    ([expr("e", "1" + " + 1" * 1024)], {}, "ValidationError", "2048"),
    ([metric("m")], {"end": T0_S}, "ValidationError", "must not equal"),
    ([metric("m")], {"end": T0_S - 60}, "ValidationError", "EndTime must be greater"),
    ([metric("m")], {"start": "yesterday"}, "InvalidParameterValue", "StartTime"),
    ([metric("m")], {"ScanBy": "Sideways"}, "ValidationError", "scanBy"),
    ([metric("m")], {"MaxDatapoints": 0}, "InvalidParameterValue", "MaxDatapoints"),
])
def test_validation_errors(store, queries, kwargs, code, fragment):
    err = api_error(code, call, store, queries, **kwargs)
    assert fragment in err.message


def test_missing_parameters(store):
    api_error("MissingParameter", get_metric_data, store, R, {"StartTime": 1, "EndTime": 2}, NOW)
    api_error("MissingParameter", get_metric_data, store, R,
              {"MetricDataQueries": [metric("m")], "EndTime": T0_S}, NOW)
    for field in ("Period", "Stat"):
        q = metric("m")
        del q["MetricStat"][field]
        err = api_error("MissingParameter", call, store, [q])
        assert f"MetricStat.{field}" in err.message
    q = metric("m")
    del q["MetricStat"]["Metric"]["Namespace"]
    api_error("MissingParameter", call, store, [q])


@pytest.mark.parametrize("age_days, period, ok", [
    (0.1, 10, True),     # high resolution within 3 hours
    (0.2, 10, False),    # ...but not beyond
    (0.2, 60, True),
    (14, 60, True),
    (20, 60, False),     # 15-63 days: multiples of 300
    (20, 300, True),
    (70, 300, False),    # beyond 63 days: multiples of 3600
    (70, 3600, True),
])
def test_period_must_match_retention(store, age_days, period, ok):
    start_ms = T0 - int(age_days * 86_400_000)
    start_ms -= start_ms % 3_600_000
    kwargs = {"start": start_ms // 1000, "end": start_ms // 1000 + 3600, "now": T0}
    if ok:
        call(store, [metric("m", period=period)], **kwargs)
    else:
        err = api_error("InvalidParameterValue", call, store, [metric("m", period=period)],
                        **kwargs)
        assert "must be a multiple of" in err.message
        # The same rule applies to an expression's own Period.
        api_error("InvalidParameterValue", call, store, [expr("e", "1", Period=period)],
                  **kwargs)


# ---------------------------------------------------------------------------------------------
# store
# ---------------------------------------------------------------------------------------------


def test_store_sorts_late_batches_and_snapshots_are_stable(store):
    add(store, "Invocations", [T0 + 3000, T0 + 4000], [3, 4])
    before = store.series(R, NS, "Invocations", FN)
    add(store, "Invocations", [T0 + 1000, T0 + 5000, T0 + 2000], [1, 5, 2])
    after = store.series(R, NS, "Invocations", FN)
    assert before.ts_ms.tolist() == [T0 + 3000, T0 + 4000]
    assert after.ts_ms.tolist() == [T0 + k * 1000 for k in range(1, 6)]
    assert after.values.tolist() == [1, 2, 3, 4, 5]
    assert not after.values.flags.writeable
    assert store.series(R, NS, "Invocations", {"FunctionName": "other"}) is None
    assert store.series("eu-west-1", NS, "Invocations", FN) is None
    with pytest.raises(ValueError):
        add(store, "Invocations", [T0], [float("nan")])


def test_concurrent_writes_and_reads(store):
    def writer():
        for k in range(300):
            add(store, "Invocations", T0 + np.array([k * 1000 + 500, k * 1000]), [1.0, 1.0])

    thread = threading.Thread(target=writer)
    thread.start()
    seen = 0
    while thread.is_alive() or seen < 600:
        view = store.series(R, NS, "Invocations", FN)
        if view is not None:
            assert len(view.ts_ms) >= seen and np.all(np.diff(view.ts_ms) >= 0)
            seen = len(view.ts_ms)
    thread.join()
    assert seen == 600


def test_list_metrics(store):
    add(store, "Invocations", [T0], [1])
    add(store, "Invocations", [T0], [1], dims={"FunctionName": "orders", "Resource": "orders:live"})
    add(store, "Errors", [T0], [1], dims={"FunctionName": "billing"})
    store.add_samples(R, "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": "q"},
                      np.array([T0]), np.array([3.0]))
    assert len(store.list_metrics(R)) == 4
    assert len(store.list_metrics(R, namespace="AWS/Lambda")) == 3
    assert len(store.list_metrics(R, metric_name="Invocations")) == 2
    filtered = store.list_metrics(R, dimensions_filter=[{"Name": "Resource"}])
    assert filtered == [{"Namespace": NS, "MetricName": "Invocations",
                         "Dimensions": [{"Name": "FunctionName", "Value": "orders"},
                                        {"Name": "Resource", "Value": "orders:live"}]}]
    assert len(store.list_metrics(R, dimensions_filter={"FunctionName": "billing"})) == 1
    assert store.list_metrics("eu-west-1") == []


# ---------------------------------------------------------------------------------------------
# speed
# ---------------------------------------------------------------------------------------------


def test_speed_500_queries_over_10m_samples():
    """100 functions x (Invocations Sum, Duration Average/p50/p90/p99), 24 h at 300 s."""
    day_ms = 86_400_000
    start = T0 - day_ms
    rng = np.random.default_rng(11)
    store = MetricStore()
    built = time.perf_counter()
    total, durations = 0, {}
    for f in range(100):
        dims = {"FunctionName": f"fn-{f:03d}"}
        n = 48_000
        ts = np.sort(rng.integers(start, T0, n))
        durations[f] = (ts, rng.lognormal(4.0, 1.0, n))
        store.add_samples(R, NS, "Invocations", dims, ts, np.ones(n))
        store.add_samples(R, NS, "Duration", dims, ts, durations[f][1])
        errors = ts[::20]
        store.add_samples(R, NS, "Errors", dims, errors, np.ones(len(errors)))
        minutes = start + np.arange(1440) * MIN
        store.add_samples(R, NS, "ConcurrentExecutions", dims, minutes,
                          rng.integers(0, 50, 1440))
        total += 2 * n + len(errors) + 1440
    built = time.perf_counter() - built
    queries = []
    for f in range(100):
        dims = {"FunctionName": f"fn-{f:03d}"}
        for j, (name, stat) in enumerate([("Invocations", "Sum"), ("Duration", "Average"),
                                          ("Duration", "p50"), ("Duration", "p90"),
                                          ("Duration", "p99")]):
            queries.append(metric(f"q{f}_{j}", name=name, stat=stat, dims=dims))
    request = {"MetricDataQueries": queries, "StartTime": start // 1000, "EndTime": T0 // 1000,
               "MaxDatapoints": 200_000}
    began = time.perf_counter()
    response = get_metric_data(store, R, request, T0)
    elapsed = time.perf_counter() - began
    print(f"\n{total:,} samples built in {built:.2f} s; 500 queries x 288 periods in "
          f"{elapsed:.3f} s")
    results = response["MetricDataResults"]
    assert total >= 9_900_000 and len(results) == 500
    assert sum(len(r["Values"]) for r in results) == 500 * 288
    # Spot-check one function's p99 against numpy on the raw slices.
    ts, values = durations[42]
    r = next(r for r in results if r["Id"] == "q42_4")
    newest = r["Timestamps"][0] * 1000  # descending by default
    in_period = (ts >= newest) & (ts < newest + 5 * MIN)
    assert r["Values"][0] == float(np.percentile(values[in_period], 99))
