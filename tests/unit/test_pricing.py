"""The price table against figures written here from the documented prices
(https://aws.amazon.com/lambda/pricing/, US East (N. Virginia)): duration x86 $0.0000166667 and Arm
$0.0000133334 per GB-s, requests $0.20 per million, ephemeral storage $0.0000000309 per GB-s above
512 MB, provisioned concurrency $0.0000041667 per GB-s configured and $0.0000097222 per GB-s of
duration it serves (x86)."""

from __future__ import annotations

import pytest

from lambdaops import pricing
from lambdaops.analysis.fleet import analyze, cost, to_records


def test_us_east_1_figures():
    assert pricing.gb_second_price("us-east-1", "x86_64") == 0.0000166667
    assert pricing.gb_second_price("us-east-1", "arm64") == 0.0000133334
    assert pricing.request_price("us-east-1") == pytest.approx(0.20 / 1e6)
    assert pricing.ephemeral_gb_second_price("us-east-1") == 0.0000000309
    assert pricing.provisioned_concurrency_price("us-east-1", "x86_64") == 0.0000041667
    assert pricing.provisioned_duration_price("us-east-1", "x86_64") == 0.0000097222
    assert pricing.provisioned_duration_price("us-east-1", "arm64") == 0.0000077778
    assert pricing.currency("us-east-1") == "USD"


def test_every_row_names_its_source_and_date():
    for region in ("us-east-1", "eu-west-1", "ap-northeast-3", "af-south-1", "cn-north-1", "cn-northwest-1"):
        row = pricing.region_price(region)
        assert row.source.startswith("https://") and row.checked == pricing.PRICES_CHECKED, region
        assert all("(check, " in mark for mark in row.check_marks())
    assert pricing.region_price("ap-northeast-3").unconfirmed  # not confirmed: says so


def test_regions_that_cost_more():
    base = pricing.gb_second_price("us-east-1", "x86_64")
    osaka = pricing.gb_second_price("ap-northeast-3", "x86_64")
    assert osaka == pytest.approx(1.3 * base, rel=1e-3)  # about 30% above us-east-1
    assert pricing.gb_second_price("ap-northeast-3", "arm64") == pytest.approx(1.3 * 0.0000133334, rel=1e-3)
    for region in ("af-south-1", "ap-east-1", "eu-south-1", "me-south-1", "me-central-1"):
        assert pricing.gb_second_price(region, "x86_64") > base, region


def test_china_is_priced_in_cny_and_never_summed_as_usd():
    assert pricing.currency("cn-north-1") == pricing.currency("cn-northwest-1") == "CNY"
    got = pricing.function_cost(1000, 1, 1024, "cn-northwest-1", "x86_64")
    assert got.currency == "CNY" and got.amount == pytest.approx(0.000113477 + 1.36 / 1e6)
    usd, note = cost(1000, 1, 1024, "cn-north-1", "x86_64")
    assert usd is None and "CNY" in note


def test_a_region_without_a_price_has_no_cost():
    usd, note = cost(1000, 1, 1024, "us-gov-west-1", "x86_64")
    assert usd is None and "no Lambda price for us-gov-west-1" in note
    assert pricing.region_price("us-gov-west-1") is None


def test_ephemeral_storage_above_512_mb_is_charged_for_the_billed_duration():
    # 2,000 invocations of 1,000 billed ms at 1,024 MB with 10,240 MB of /tmp: 2,000 GB-s of duration,
    # 9.5 GB x 2,000 s = 19,000 GB-s of storage
    got = pricing.function_cost(2_000_000, 2000, 1024, "us-east-1", "x86_64", ephemeral_storage_mb=10240)
    assert got.amount == pytest.approx(2000 * 0.0000166667 + 19_000 * 0.0000000309 + 2000 * 0.20 / 1e6)
    plain = pricing.function_cost(2_000_000, 2000, 1024, "us-east-1", "x86_64", ephemeral_storage_mb=512)
    assert plain.amount == pytest.approx(2000 * 0.0000166667 + 2000 * 0.20 / 1e6)
    # a region whose storage price is unknown: None with the reason, not the duration alone
    unknown = pricing.function_cost(2_000_000, 2000, 1024, "af-south-1", "x86_64", ephemeral_storage_mb=1024)
    assert unknown.amount is None and "ephemeral" in unknown.note


def test_provisioned_concurrency():
    # 1,024 MB with 2 environments provisioned for an hour (7,200 GB-s), serving 1,000 invocations of
    # 100 ms (100 GB-s at the provisioned duration price); 50 more at on-demand price (5 GB-s)
    got = pricing.function_cost(105_000, 1050, 1024, "us-east-1", "x86_64", provisioned_billed_ms=100_000,
                                provisioned_gb_seconds=7200)
    want = 7200 * 0.0000041667 + 100 * 0.0000097222 + 5 * 0.0000166667 + 1050 * 0.20 / 1e6
    assert got.amount == pytest.approx(want)
    assert pricing.function_cost(1, 1, 128, "ap-northeast-3", provisioned_gb_seconds=1).amount is None


def _rec(**kw):
    rec = {"name": "f", "region": "us-east-1", "runtime": "python3.12", "architecture": "x86_64", "memory_mb": 1024,
           "timeout_s": 3, "invocations": 1000.0, "errors": 0.0, "throttles": 0.0, "billed_ms": 1_000_000.0}
    rec.update(kw)
    return rec


def test_the_report_cost_uses_ephemeral_storage_and_explains_a_missing_cost():
    rows = {r["name"]: r for r in to_records(analyze([
        _rec(name="plain"), _rec(name="big-tmp", ephemeral_storage_mb=4608),
        _rec(name="beijing", region="cn-north-1"), _rec(name="gov", region="us-gov-east-1")]))}
    base = 1000 * 0.0000166667 + 1000 * 0.20 / 1e6
    assert rows["plain"]["cost_usd"] == pytest.approx(base, abs=1e-8) and rows["plain"]["cost_note"] is None
    assert rows["big-tmp"]["cost_usd"] == pytest.approx(base + 1000 * 4 * 0.0000000309, abs=1e-8)
    assert rows["big-tmp"]["ephemeral_storage_mb"] == 4608
    assert rows["beijing"]["cost_usd"] is None and "CNY" in rows["beijing"]["cost_note"]
    assert rows["gov"]["cost_usd"] is None and "us-gov-east-1" in rows["gov"]["cost_note"]


def test_the_inventory_reads_ephemeral_storage(monkeypatch):
    import boto3
    from moto import mock_aws

    from lambdaops.aws.context import AwsContext, StaticCredentials
    from lambdaops.aws.inventory import InventoryOptions, fleet_inventory
    from tests.helpers import handler_zip

    kw = {"region_name": "us-east-1", "aws_access_key_id": "a", "aws_secret_access_key": "b"}
    with mock_aws():
        role = boto3.client("iam", **kw).create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        lam = boto3.client("lambda", **kw)
        for name, size in (("big-tmp", 4096), ("plain", None)):
            extra = {"EphemeralStorage": {"Size": size}} if size else {}
            lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                                Code={"ZipFile": handler_zip()}, **extra)
        ctx = AwsContext(regions=["us-east-1"], credentials=StaticCredentials("a", "b"))
        inv = fleet_inventory(ctx, opts=InventoryOptions(details=False))
    assert {f.name: f.ephemeral_storage_mb for f in inv.functions} == {"big-tmp": 4096, "plain": 512}
