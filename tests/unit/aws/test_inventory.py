"""The AWS context and the fleet inventory against moto (mock_aws)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore import exceptions as bx
from moto import mock_aws

from lambdaops.aws.context import AwsContext, StaticCredentials, available_profiles
from lambdaops.aws.errors import translate
from lambdaops.aws.inventory import (RESERVED, DetailsCache, InventoryOptions, fleet_inventory, read_details,
                                     region_functions)
from lambdaops.aws.ratelimit import RateLimiter, control_plane, get_function
from lambdaops.errors import ConfigError, ErrorTally, NotFoundError, ServiceError
from tests.helpers import handler_zip

FAST = 1000.0  # control-plane pace: moto has no quota, and pacing is tested on its own (test_details.py)


@pytest.fixture
def aws():
    with mock_aws():
        yield AwsContext(regions=["us-east-1", "eu-west-1"], credentials=StaticCredentials("a", "b"))


def _make_fleet(region: str, n: int) -> None:
    iam = boto3.client("iam", region_name=region, aws_access_key_id="a", aws_secret_access_key="b")
    try:
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    except bx.ClientError:
        role = iam.get_role(RoleName="r")["Role"]["Arn"]
    lam = boto3.client("lambda", region_name=region, aws_access_key_id="a", aws_secret_access_key="b")
    sqs = boto3.client("sqs", region_name=region, aws_access_key_id="a", aws_secret_access_key="b")
    q = sqs.create_queue(QueueName=f"q-{region}")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for i in range(n):
        lam.create_function(FunctionName=f"fn-{i}", Runtime="python3.12", Role=role, Handler="app.handler",
                            Code={"ZipFile": handler_zip()}, MemorySize=128 * (i + 1), Architectures=["arm64"],
                            Tags={"team": "a" if i % 2 else "b"})
    lam.put_function_concurrency(FunctionName="fn-0", ReservedConcurrentExecutions=7)
    if n > 1:
        lam.put_function_event_invoke_config(FunctionName="fn-1", DestinationConfig={"OnFailure": {"Destination": qarn}})
    if n > 2:
        lam.create_event_source_mapping(FunctionName="fn-2", EventSourceArn=qarn, BatchSize=5)


def test_inventory_lists_both_regions_with_details(aws):
    _make_fleet("us-east-1", 3)
    _make_fleet("eu-west-1", 2)
    inv = fleet_inventory(aws, opts=InventoryOptions(control_plane_rps=FAST, cache_dir=None))
    assert inv.errors == []
    by = {(f.region, f.name): f for f in inv.functions}
    assert len(by) == 5
    f0 = by[("us-east-1", "fn-0")]
    assert f0.reserved_concurrency == 7 and f0.memory_mb == 128 and f0.architecture == "arm64"
    assert f0.log_group == "/aws/lambda/fn-0" and f0.tags == {"team": "b"}
    assert by[("us-east-1", "fn-1")].on_failure_destination.endswith(":q-us-east-1")
    assert [es.label() for es in by[("us-east-1", "fn-2")].event_sources] == ["sqs:q-us-east-1"]
    assert inv.api_calls["lambda.ListFunctions"] == 2
    assert inv.api_calls["lambda.ListEventSourceMappings"] == 2
    assert inv.api_calls["lambda.GetFunction"] == 5


def test_details_are_cached_on_disk(aws, tmp_path):
    _make_fleet("us-east-1", 3)
    ctx = AwsContext(regions=["us-east-1"], credentials=StaticCredentials("a", "b"))
    fleet_inventory(ctx, opts=InventoryOptions(control_plane_rps=FAST, cache_dir=tmp_path))
    again = AwsContext(regions=["us-east-1"], credentials=StaticCredentials("a", "b"))
    inv = fleet_inventory(again, opts=InventoryOptions(control_plane_rps=FAST, cache_dir=tmp_path))
    assert "lambda.GetFunction" not in inv.api_calls
    assert {f.name: f.reserved_concurrency for f in inv.functions}["fn-0"] == 7


def test_destinations_without_concurrency_and_a_partial_cache_entry_is_completed(aws, tmp_path):
    _make_fleet("us-east-1", 3)
    ctx = AwsContext(regions=["us-east-1"], credentials=StaticCredentials("a", "b"))
    inv = fleet_inventory(ctx, opts=InventoryOptions(control_plane_rps=FAST, concurrency=False, cache_dir=tmp_path))
    assert "lambda.GetFunction" not in inv.api_calls  # what DLQ discovery asks for
    assert inv.api_calls["lambda.GetFunctionEventInvokeConfig"] == 3
    assert {f.name: f.on_failure_destination for f in inv.functions}["fn-1"].endswith(":q-us-east-1")
    full = AwsContext(regions=["us-east-1"], credentials=StaticCredentials("a", "b"))
    inv = fleet_inventory(full, opts=InventoryOptions(control_plane_rps=FAST, cache_dir=tmp_path))
    assert inv.api_calls["lambda.GetFunction"] == 3  # the cached entries lacked it
    assert {f.name: f.reserved_concurrency for f in inv.functions}["fn-0"] == 7


class CountingLimiter(RateLimiter):
    def __init__(self) -> None:
        super().__init__(0)  # no pacing: only the count matters here
        self.taken = 0

    def acquire(self, stop=None) -> bool:
        self.taken += 1
        return True


def test_reserved_concurrency_is_read_through_get_function_and_its_own_bucket(aws):
    _make_fleet("us-east-1", 3)  # fn-0 reserves 7, fn-1 and fn-2 reserve nothing
    ctx = AwsContext(regions=["us-east-1"], credentials=StaticCredentials("a", "b"))
    fns = region_functions(ctx, "us-east-1")
    control, gf = CountingLimiter(), CountingLimiter()
    made = read_details(ctx, "us-east-1", {f.arn: {RESERVED: None} for f in fns}, fns, DetailsCache(None, "t"),
                        control, ErrorTally(), gf_limiter=gf)
    assert {f.name: f.reserved_concurrency for f in fns} == {"fn-0": 7, "fn-1": None, "fn-2": None}
    assert all(RESERVED not in f.details_unread and not f.details_failed for f in fns)
    assert made == 3 and gf.taken == 3 and control.taken == 0  # the 15/s bucket is left alone
    assert {k: v for k, v in ctx.calls.snapshot().items() if k.startswith("lambda.Get")} == {"lambda.GetFunction": 3}


def test_get_function_has_one_bucket_per_scope_and_region_apart_from_the_control_plane():
    one = get_function("scope-t", "us-east-1")
    assert one is get_function("scope-t", "us-east-1")  # shared, as AWS's quota is
    assert one is not control_plane("scope-t", "us-east-1") and one is not get_function("scope-t", "eu-west-1")
    assert one.rate == pytest.approx(90.0) and one.capacity == 10  # 90% of 100/s, a small burst


def test_a_zero_reservation_is_zero_not_none(aws):
    """AWS's GetFunction carries ``Concurrency`` for a 0 reservation (moto drops it, hence a stub)."""
    from botocore.stub import Stubber

    _make_fleet("us-east-1", 1)
    ctx = AwsContext(regions=["us-east-1"], credentials=StaticCredentials("a", "b"))
    fns = region_functions(ctx, "us-east-1")
    cli = ctx.client("lambda", "us-east-1")
    with Stubber(cli) as stub:
        stub.add_response("get_function", {"Concurrency": {"ReservedConcurrentExecutions": 0}},
                          {"FunctionName": "fn-0"})
        read_details(ctx, "us-east-1", {fns[0].arn: {RESERVED: None}}, fns, DetailsCache(None, "t"),
                     CountingLimiter(), ErrorTally(), gf_limiter=CountingLimiter())
    assert fns[0].reserved_concurrency == 0 and not fns[0].details_failed


def test_a_failing_region_is_reported_and_the_others_listed(aws, monkeypatch):
    _make_fleet("us-east-1", 2)
    real = aws.client

    def client(service, region):
        cli = real(service, region)
        if region == "eu-west-1" and service == "lambda":
            def denied(**kw):
                raise bx.ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}},
                                     "ListFunctions")
            monkeypatch.setattr(cli, "get_paginator", lambda name: type("P", (), {"paginate": lambda self, **k: denied()})())
        return cli

    monkeypatch.setattr(aws, "client", client)
    inv = fleet_inventory(aws, opts=InventoryOptions(control_plane_rps=FAST, cache_dir=None))
    assert [f.name for f in inv.functions] == ["fn-0", "fn-1"]
    assert len(inv.errors) == 1 and inv.errors[0].region == "eu-west-1"
    assert "access denied" in inv.errors[0].message and inv.errors[0].exit_code == 254


def test_calls_are_counted_and_logged_with_debug(aws):
    lines = []
    ctx = AwsContext(regions=["us-east-1"], credentials=StaticCredentials("a", "b"), debug=True,
                     debug_sink=lines.append)
    ctx.client("lambda", "us-east-1").list_functions()
    assert ctx.calls.snapshot() == {"lambda.ListFunctions": 1}
    assert lines and lines[0].startswith("[debug] lambda.ListFunctions us-east-1 -> 200")


@pytest.mark.parametrize("exc, kind, needle", [
    (bx.NoCredentialsError(), ConfigError, "no AWS credentials"),
    (bx.ProfileNotFound(profile="x"), ConfigError, "'x'"),
    (bx.NoRegionError(), ConfigError, "no AWS region"),
    (bx.SSOTokenLoadError(error_msg="gone"), ConfigError, "aws sso login --profile p"),
    (bx.ClientError({"Error": {"Code": "ExpiredTokenException", "Message": "m"}}, "ListFunctions"), ConfigError, "expired"),
    (bx.ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "Function not found: x"}}, "GetFunction"),
     NotFoundError, "Function not found"),
    (bx.ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "GetMetricData"), ServiceError,
     "throttled GetMetricData"),
])
def test_translate(exc, kind, needle):
    err = translate(exc, profile="p", region="us-east-1")
    assert isinstance(err, kind) and needle in err.one_line()
    assert "\n" not in err.one_line()
    assert err.exit_code == (253 if kind is ConfigError else 254)


def test_inventory_json_rows_are_snake_case(aws):
    _make_fleet("us-east-1", 1)
    inv = fleet_inventory(aws, regions=["us-east-1"], opts=InventoryOptions(control_plane_rps=FAST, cache_dir=None))
    row = inv.functions[0].to_row()
    assert all(k == k.lower() for k in row)
    json.dumps(row)


def test_available_profiles_reads_config_and_credentials(tmp_path, monkeypatch):
    (tmp_path / "config").write_text("[default]\nregion = us-east-1\n[profile prod]\nregion = eu-west-1\n")
    (tmp_path / "credentials").write_text("[staging]\naws_access_key_id = a\naws_secret_access_key = b\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    assert available_profiles() == ["default", "prod", "staging"]
