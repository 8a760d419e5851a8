"""``CollectOptions.on_metrics``: each region's metric figures reach the caller before its Logs
Insights query runs (the TUI fills its metric columns then). CloudWatch is moto's (mock_aws); the
inventory is given (the functions need not exist for their metrics to be read)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
from moto import mock_aws

from lambdaops.aws.context import AwsContext, StaticCredentials
from lambdaops.collect import fleet
from lambdaops.models import FunctionInfo, Inventory
from lambdaops.window import since


def fn(name: str) -> FunctionInfo:
    return FunctionInfo(name=name, region="us-east-1", arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
                        runtime="python3.12", architecture="x86_64", memory_mb=128, timeout_s=3, last_modified=None)


def test_metric_records_come_per_region_before_logs_insights(monkeypatch):
    monkeypatch.setattr(fleet, "fleet_inventory", lambda ctx, opts: Inventory(
        [fn("api"), fn("worker")], [], {}, ["us-east-1"]))
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    events: list = []
    with mock_aws():
        boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="a",
                     aws_secret_access_key="b").put_metric_data(Namespace="AWS/Lambda", MetricData=[
                         {"MetricName": "Invocations", "Dimensions": [{"Name": "FunctionName", "Value": "api"}],
                          "Timestamp": now - timedelta(minutes=30), "Value": 42.0, "Unit": "Count"}])
        ctx = AwsContext(regions=["us-east-1"], credentials=StaticCredentials("a", "b"))
        fleet.collect_fleet(ctx, fleet.CollectOptions(
            window=since(3600, now), progress=events.append, insights=False,
            on_metrics=lambda region, records: events.append((region, records))))
    heard = [e for e in events if isinstance(e, tuple)]
    assert [region for region, _ in heard] == ["us-east-1"]
    insights = next(i for i, e in enumerate(events) if isinstance(e, str) and "Logs Insights" in e)
    assert events.index(heard[0]) < insights
    records = {r["name"]: r for r in heard[0][1]}
    assert records["api"]["invocations"] == 42.0 and records["worker"]["invocations"] == 0.0
    assert "cold_starts" not in records["api"] and records["api"]["missing"] == []
    assert "dlq_depth" not in records["api"]  # still to come: it needs the destinations read beside Insights
