"""Per-function details only on need (collect/details.py): which functions get which call, the
pacing under Lambda's control-plane quota, and the rule for functions without async traffic."""

from __future__ import annotations

from datetime import datetime, timezone

import boto3
import pytest
from moto import mock_aws

from lambdaops.aws import inventory
from lambdaops.aws.context import AwsContext, StaticCredentials
from lambdaops.aws.inventory import DESTINATIONS, RESERVED, DetailsCache, region_functions
from lambdaops.aws.metrics import MetricResult
from lambdaops.aws.ratelimit import CONTROL_PLANE_RPS, PACE_FRACTION, BURST, RateLimiter
from lambdaops.collect import details
from lambdaops.collect.details import AccountPool, Usage, plan, usage_from
from lambdaops.errors import ErrorTally
from lambdaops.models import FunctionInfo
from tests.helpers import handler_zip

R = "us-east-1"
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
POOL = AccountPool(limit=1000, unreserved=900)


def fn(name: str) -> FunctionInfo:
    return FunctionInfo(name=name, region=R, arn=f"arn:aws:lambda:{R}:1:function:{name}", runtime="python3.12",
                        architecture="x86_64", memory_mb=128, timeout_s=3, last_modified=None)


# -- the decision (pure) ---------------------------------------------------------------------------

def test_throttles_and_async_traffic_are_read_quiet_functions_are_not():
    assert plan(fn("t"), Usage(throttles=3, peak_concurrency=10, async_events=0), POOL) == {
        RESERVED: None, DESTINATIONS: "not read (no async invocation in the window)"}
    assert plan(fn("a"), Usage(throttles=0, peak_concurrency=10, async_events=5), POOL)[DESTINATIONS] is None
    quiet = plan(fn("q"), Usage(throttles=0, peak_concurrency=10, async_events=0), POOL)
    assert quiet[RESERVED] == "not read (no throttles; peak 10, unreserved pool 900)"
    assert quiet[DESTINATIONS].startswith("not read")


def test_approaching_the_unreserved_pool_is_80_percent_of_it():
    assert plan(fn("f"), Usage(0, 720, 0), POOL)[RESERVED] is None  # 720 = 80% of 900
    assert plan(fn("f"), Usage(0, 719, 0), POOL)[RESERVED] is not None


def test_a_region_without_reservations_needs_no_concurrency_call():
    assert RESERVED not in plan(fn("f"), Usage(throttles=50, peak_concurrency=1000, async_events=0),
                                AccountPool(1000, 1000))


def test_unknown_figures_mean_read():
    assert plan(fn("f"), Usage(None, None, None), POOL) == {RESERVED: None, DESTINATIONS: None}
    # the pool could not be read: every function that ran may be near it
    assert plan(fn("f"), Usage(0, 1, 0), None)[RESERVED] is None
    assert plan(fn("f"), Usage(0, 0, 0), None)[RESERVED] is not None


def test_usage_reads_no_datapoint_as_zero_but_a_partial_or_failed_answer_as_unknown():
    f = fn("f")
    results = {(R, "f", "throttles"): MetricResult(),  # Lambda emits no datapoint for 0
               (R, "f", "max_concurrency"): MetricResult([T0], [4.0]),
               (R, "f", details.ASYNC): MetricResult(complete=False)}
    assert usage_from(f, results, {}) == Usage(0.0, 4.0, None)
    assert usage_from(f, results, {(R, "f", "throttles"): "AccessDenied"}).throttles is None


# -- pacing (fake clock) ---------------------------------------------------------------------------

class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.now += s


def test_the_control_plane_pace_never_exceeds_aws_quota_in_any_second():
    clock = FakeClock()
    lim = RateLimiter(CONTROL_PLANE_RPS * PACE_FRACTION, burst=BURST, clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(300):
        lim.acquire()
        sent.append(clock.now)
    # AWS's bucket holds 15 and refills 15/s: any span of s seconds admits at most 15 + 15*s requests
    for i, t in enumerate(sent):
        for j in range(i + 1, len(sent)):
            assert j - i + 1 <= CONTROL_PLANE_RPS + CONTROL_PLANE_RPS * (sent[j] - t) + 1e-9
    assert sent[-1] == pytest.approx((300 - BURST) / (CONTROL_PLANE_RPS * PACE_FRACTION))  # and no slower


# -- the calls (moto) ------------------------------------------------------------------------------

@pytest.fixture
def ctx(monkeypatch):
    with mock_aws():
        monkeypatch.setattr(details, "region_limiter", lambda c, r: RateLimiter(10_000, burst=100))
        iam = boto3.client("iam", region_name=R, aws_access_key_id="a", aws_secret_access_key="b")
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        lam = boto3.client("lambda", region_name=R, aws_access_key_id="a", aws_secret_access_key="b")
        for name in ("throttled", "async", "quiet"):
            lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                                Code={"ZipFile": handler_zip()})
        lam.put_function_concurrency(FunctionName="throttled", ReservedConcurrentExecutions=2)
        lam.put_function_event_invoke_config(FunctionName="async", DestinationConfig={
            "OnFailure": {"Destination": f"arn:aws:sqs:{R}:123456789012:async-failures"}})
        lam.put_function_event_invoke_config(FunctionName="quiet", DestinationConfig={
            "OnFailure": {"Destination": f"arn:aws:sqs:{R}:123456789012:quiet-failures"}})
        yield AwsContext(regions=[R], credentials=StaticCredentials("a", "b"))


def metrics(traffic: dict[str, tuple[float, float, float]]) -> dict:
    """name -> (throttles, peak concurrency, async events) as GetMetricData results."""
    out = {}
    for name, values in traffic.items():
        for figure, v in zip(("throttles", "max_concurrency", details.ASYNC), values):
            out[(R, name, figure)] = MetricResult([T0], [v]) if v else MetricResult()
    return out


TRAFFIC = {"throttled": (7, 2, 0), "async": (0, 3, 40), "quiet": (0, 1, 0)}


def test_each_call_is_made_only_for_the_functions_that_need_it(ctx, monkeypatch):
    monkeypatch.setattr(details, "account_concurrency", lambda c, r, lim: (1000, 998))
    fns = region_functions(ctx, R)
    before = ctx.calls.snapshot()
    out = details.fill_region(ctx, R, fns, metrics(TRAFFIC), {}, DetailsCache(None, "t"), ErrorTally())
    calls = {k: v - before.get(k, 0) for k, v in ctx.calls.snapshot().items() if v - before.get(k, 0)}
    assert calls == {"lambda.GetFunction": 1, "lambda.GetFunctionEventInvokeConfig": 1}
    assert out.calls == 2
    by = {f.name: f for f in fns}
    assert by["throttled"].reserved_concurrency == 2 and DESTINATIONS in by["throttled"].details_unread
    assert by["async"].on_failure_destination.endswith(":async-failures")
    assert RESERVED in by["async"].details_unread and RESERVED in by["quiet"].details_unread


def test_functions_narrows_every_per_function_call(ctx):
    """collect_fleet with --functions async: both others had async traffic too, neither is asked about."""
    from datetime import timedelta

    from lambdaops.collect.fleet import CollectOptions, collect_fleet
    from lambdaops.window import Window

    cw = boto3.client("cloudwatch", region_name=R, aws_access_key_id="a", aws_secret_access_key="b")
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    for name in ("throttled", "async", "quiet"):
        cw.put_metric_data(Namespace="AWS/Lambda", MetricData=[{
            "MetricName": "AsyncEventsReceived", "Dimensions": [{"Name": "FunctionName", "Value": name}],
            "Timestamp": end - timedelta(minutes=30), "Value": 3}])
    snap = collect_fleet(ctx, CollectOptions(window=Window(end - timedelta(hours=1), end), globs=["async"],
                                             insights=False))
    assert snap.api_calls["lambda.GetFunctionEventInvokeConfig"] == 1
    assert [f.on_failure_destination for f in snap.functions] == [f"arn:aws:sqs:{R}:123456789012:async-failures"]


def test_no_async_traffic_takes_a_cached_destination_or_says_it_was_not_read(ctx, monkeypatch, tmp_path):
    monkeypatch.setattr(details, "account_concurrency", lambda c, r, lim: (1000, 1000))
    # `dlq list` read every destination a minute ago: the cache holds the quiet function's
    listed = inventory.fleet_inventory(ctx, [R], inventory.InventoryOptions(concurrency=False, cache_dir=tmp_path,
                                                                          control_plane_rps=10_000))
    assert {f.name: f.on_failure_destination for f in listed.functions}["quiet"].endswith(":quiet-failures")
    warm = AwsContext(regions=[R], credentials=StaticCredentials("a", "b"))
    fns = region_functions(warm, R)
    out = details.fill_region(warm, R, fns, metrics(TRAFFIC), {}, inventory.details_cache(warm, tmp_path), ErrorTally())
    assert {f.name: f.on_failure_destination for f in fns}["quiet"].endswith(":quiet-failures")
    assert "lambda.GetFunctionEventInvokeConfig" not in warm.calls.snapshot()  # "async" was cached too
    assert out.notes == []

    cold = AwsContext(regions=[R], credentials=StaticCredentials("a", "b"))
    fns = region_functions(cold, R)
    out = details.fill_region(cold, R, fns, metrics(TRAFFIC), {}, DetailsCache(None, "t"), ErrorTally())
    quiet = {f.name: f for f in fns}["quiet"]
    assert quiet.on_failure_destination is None and DESTINATIONS in quiet.details_unread
    assert len(out.notes) == 1 and "2 functions not read (quiet, throttled)" in out.notes[0]
    assert "no async invocation" in out.notes[0] and "dlq list" in out.notes[0]
    assert all(RESERVED not in f.details_unread and f.reserved_concurrency is None for f in fns
               if f.name != "throttled")  # no reservation in the region: known, not "not read"


def test_a_failed_call_is_counted_and_leaves_only_that_detail_unknown(ctx, monkeypatch):
    from tests.e2e.faults.http_faults import Rule, inject, lambda_error

    monkeypatch.setattr(details, "account_concurrency", lambda c, r, lim: (1000, 998))
    inject(monkeypatch, Rule("lambda", lambda op, url, a: op == "GetFunction",
                             lambda req: lambda_error(req, "AccessDeniedException", 403, "no")))
    fns = region_functions(ctx, R)
    tally = ErrorTally()
    details.fill_region(ctx, R, fns, metrics(TRAFFIC), {}, DetailsCache(None, "t"), tally)
    by = {f.name: f for f in fns}
    assert by["throttled"].details_failed == [RESERVED] and by["throttled"].details_error
    assert by["async"].details_failed == [] and by["async"].on_failure_destination
    assert [(e["operation"], e["count"]) for e in tally.entries()] == [("GetFunction", 1)]


def test_a_listing_or_dlq_discovery_never_reads_as_unreserved(ctx):
    assert all(set(f.details_unread) == {RESERVED, DESTINATIONS} for f in region_functions(ctx, R))
    inv = inventory.fleet_inventory(ctx, [R], inventory.InventoryOptions(concurrency=False, control_plane_rps=10_000))
    assert all(RESERVED in f.details_unread and DESTINATIONS not in f.details_unread for f in inv.functions)


def test_the_account_pool_is_kept_with_the_details_ttl(ctx, monkeypatch, tmp_path):
    asked = []
    monkeypatch.setattr(details, "account_concurrency", lambda c, r, lim: asked.append(r) or (1000, 998))
    for _ in range(2):
        cache = inventory.details_cache(ctx, tmp_path)
        details.fill_region(ctx, R, region_functions(ctx, R), metrics(TRAFFIC), {}, cache, ErrorTally())
        cache.save()
    assert asked == [R]
    expired = inventory.DetailsCache(tmp_path, inventory.scope_of(ctx), ttl_s=0)
    details.fill_region(ctx, R, region_functions(ctx, R), metrics(TRAFFIC), {}, expired, ErrorTally())
    assert asked == [R, R]


def test_async_events_are_not_requested_where_the_destinations_are_cached(ctx, tmp_path):
    fns = {f.name: f for f in region_functions(ctx, R)}
    cache = DetailsCache(tmp_path, "t")
    cache.put(inventory.cache_key(fns["async"]), DESTINATIONS, {"on_failure": None, "on_success": None})
    assert details.metric_queries(fns["async"], 60, cache) == []
    assert [q.metric for q in details.metric_queries(fns["quiet"], 60, cache)] == ["AsyncEventsReceived"]
    assert len(details.metric_queries(fns["async"], 60)) == 1
