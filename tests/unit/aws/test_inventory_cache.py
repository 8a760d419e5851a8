"""The kept fleet listing (lambdaops.aws.inventory_cache): used within its time-to-live, listed
afresh after it or when asked, never served to other credentials."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from lambdaops.aws.context import AwsContext, StaticCredentials
from lambdaops.aws.inventory import InventoryOptions, fleet_inventory
from lambdaops.aws.inventory_cache import InventoryCache
from lambdaops.collect.fleet import inventory_age
from tests.helpers import handler_zip
from tests.unit.aws.test_inventory import FAST, _make_fleet

LISTING = ("lambda.ListFunctions", "lambda.ListEventSourceMappings", "resourcegroupstaggingapi.GetResources")


def _ctx(key: str = "a") -> AwsContext:
    return AwsContext(regions=["us-east-1"], credentials=StaticCredentials(key, "b"))


def _listing_calls(ctx: AwsContext) -> int:
    return sum(n for op, n in ctx.calls.snapshot().items() if op in LISTING)


def _opts(tmp_path, max_age_s):
    return InventoryOptions(details=False, cache_dir=tmp_path, max_age_s=max_age_s, control_plane_rps=FAST)


def _create(name: str) -> None:
    """A function created after the first listing."""
    lam = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    role = boto3.client("iam", region_name="us-east-1").get_role(RoleName="r")["Role"]["Arn"]
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": handler_zip()})


@pytest.fixture
def moto():
    with mock_aws():
        _make_fleet("us-east-1", 3)
        yield


def test_a_kept_listing_is_used_within_its_ttl_with_what_it_listed(moto, tmp_path):
    first = fleet_inventory(_ctx(), opts=_opts(tmp_path, 300))
    ctx = _ctx()
    again = fleet_inventory(ctx, opts=_opts(tmp_path, 300))
    assert _listing_calls(ctx) == 0
    assert [f.name for f in again.functions] == [f.name for f in first.functions]
    by = {f.name: f for f in again.functions}
    assert by["fn-0"].tags == {"team": "b"} and by["fn-2"].event_sources[0].kind == "sqs"
    assert by["fn-1"].memory_mb == 256 and by["fn-1"].revision_id == {f.name: f for f in first.functions}["fn-1"].revision_id
    assert again.listed_at == first.listed_at


def test_no_ttl_or_no_cache_dir_lists_every_time(moto, tmp_path):
    fleet_inventory(_ctx(), opts=_opts(tmp_path, 300))
    for opts in (_opts(tmp_path, None), _opts(None, 300)):
        ctx = _ctx()
        fleet_inventory(ctx, opts=opts)
        assert ctx.calls.snapshot()["lambda.ListFunctions"] == 1


def test_an_expired_listing_is_listed_again_and_sees_a_new_function(moto, tmp_path):
    fleet_inventory(_ctx(), opts=_opts(tmp_path, 300))
    _create("fn-new")
    kept = fleet_inventory(_ctx(), opts=_opts(tmp_path, 300))
    assert "fn-new" not in {f.name for f in kept.functions}  # the price of the TTL, shown by the report
    ctx = _ctx()
    fresh = fleet_inventory(ctx, opts=_opts(tmp_path, 0.000001))
    assert "fn-new" in {f.name for f in fresh.functions} and _listing_calls(ctx) >= 3


def test_other_credentials_under_the_same_profile_are_not_served_the_listing(moto, tmp_path):
    fleet_inventory(_ctx("a"), opts=_opts(tmp_path, 300))
    other = _ctx("other-key")
    fleet_inventory(other, opts=_opts(tmp_path, 300))
    assert other.calls.snapshot()["lambda.ListFunctions"] == 1


def test_a_damaged_file_is_a_miss_not_a_crash(tmp_path):
    cache = InventoryCache(tmp_path, "scope")
    cache.put("us-east-1", [])
    cache.save()
    path = next(tmp_path.glob("inventory-*.json"))
    path.write_text('{"us-east-1": {"at": 1e18, "functions": [{"name": 1}]}}')
    assert InventoryCache(tmp_path, "scope").get("us-east-1", 300) is None
    path.write_text("not json")
    assert InventoryCache(tmp_path, "scope").get("us-east-1", 300) is None


def test_inventory_age_names_the_kept_regions():
    block = inventory_age({"us-east-1": 1000.0, "eu-west-1": 1100.0}, started=1090.0, max_age_s=300)
    assert block["age_s"] == 90.0 and block["kept"] == ["us-east-1"] and block["max_age_s"] == 300
    assert block["listed_at"]["us-east-1"] == "1970-01-01T00:16:40Z"
    assert inventory_age({}, 5.0, 300)["age_s"] is None


def test_max_age_zero_lists_afresh_and_keeps_that_listing(moto, tmp_path):
    fleet_inventory(_ctx(), opts=_opts(tmp_path, 300))
    lam = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    lam.delete_function(FunctionName="fn-2")
    ctx = _ctx()
    assert "fn-2" not in {f.name for f in fleet_inventory(ctx, opts=_opts(tmp_path, 0)).functions}
    assert ctx.calls.snapshot()["lambda.ListFunctions"] == 1
    after = _ctx()
    assert "fn-2" not in {f.name for f in fleet_inventory(after, opts=_opts(tmp_path, 300)).functions}
    assert _listing_calls(after) == 0


def test_a_selection_that_matches_nothing_in_a_kept_listing_lists_afresh(moto, tmp_path):
    from datetime import datetime, timedelta, timezone

    from lambdaops.collect.fleet import CollectOptions, collect_fleet
    from lambdaops.window import Window

    fleet_inventory(_ctx(), opts=_opts(tmp_path, 300))
    _create("fn-new")
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    ctx = _ctx()
    snap = collect_fleet(ctx, CollectOptions(window=Window(end - timedelta(hours=1), end), globs=["fn-new"],
                                             insights=False, cache_dir=tmp_path))
    assert [f.name for f in snap.functions] == ["fn-new"] and snap.inventory["kept"] == []


def test_a_write_forgets_the_regions_listing(moto, tmp_path):
    from lambdaops.aws.inventory import forget_listing

    fleet_inventory(_ctx(), opts=_opts(tmp_path, 300))
    forget_listing(_ctx(), tmp_path, "us-east-1")
    ctx = _ctx()
    fleet_inventory(ctx, opts=_opts(tmp_path, 300))
    assert ctx.calls.snapshot()["lambda.ListFunctions"] == 1
