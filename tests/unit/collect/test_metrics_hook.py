"""``CollectOptions.on_metrics``: each region's metric figures reach the caller as soon as GetMetricData
answers, while its Logs Insights queries (started with it, not after it) still run: the TUI fills its
metric columns then. CloudWatch is moto's (mock_aws); the inventory is given (the functions need not
exist for their metrics to be read)."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import boto3
import pandas as pd
from moto import mock_aws

from lambdaops.aws.context import AwsContext, StaticCredentials
from lambdaops.collect import fleet
from lambdaops.collect.log_figures import LogResult
from lambdaops.models import FunctionInfo, Inventory
from lambdaops.window import since


def fn(name: str) -> FunctionInfo:
    return FunctionInfo(name=name, region="us-east-1", arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
                        runtime="python3.12", architecture="x86_64", memory_mb=128, timeout_s=3, last_modified=None)


def test_metric_records_come_per_region_while_logs_insights_runs(monkeypatch):
    monkeypatch.setattr(fleet, "fleet_inventory", lambda ctx, opts: Inventory(
        [fn("api"), fn("worker")], [], {}, ["us-east-1"]))
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    events: list = []
    real_metrics, real_logs = fleet.get_metric_data, fleet.log_figures
    logs_started, metrics_answered = threading.Event(), threading.Event()

    def slow_metrics(*args, **kwargs):
        out = real_metrics(*args, **kwargs)
        # GetMetricData answers only once the region's Insights queries are under way (else, after 2 s)
        events.append(("queries already running", logs_started.wait(2.0)))
        metrics_answered.set()
        return out

    def logs(*args, **kwargs):
        logs_started.set()
        events.append("logs started")
        out = real_logs(*args, **kwargs)
        events.append(("metrics answered before logs ended", metrics_answered.wait(2.0)))
        return out

    monkeypatch.setattr(fleet, "get_metric_data", slow_metrics)
    monkeypatch.setattr(fleet, "log_figures", logs)
    with mock_aws():
        boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="a",
                     aws_secret_access_key="b").put_metric_data(Namespace="AWS/Lambda", MetricData=[
                         {"MetricName": "Invocations", "Dimensions": [{"Name": "FunctionName", "Value": "api"}],
                          "Timestamp": now - timedelta(minutes=30), "Value": 42.0, "Unit": "Count"}])
        ctx = AwsContext(regions=["us-east-1"], credentials=StaticCredentials("a", "b"))
        t0 = time.monotonic()
        snap = fleet.collect_fleet(ctx, fleet.CollectOptions(
            window=since(3600, now), progress=events.append, insights=False,
            on_metrics=lambda region, records: events.append((region, records))))
    assert time.monotonic() - t0 < 2.0  # neither waited on the other to finish
    assert ("queries already running", True) in events and ("metrics answered before logs ended", True) in events
    heard = [e for e in events if isinstance(e, tuple) and e[0] == "us-east-1"]
    assert len(heard) == 1
    records = {r["name"]: r for r in heard[0][1]}
    assert records["api"]["invocations"] == 42.0 and records["worker"]["invocations"] == 0.0
    assert "cold_starts" not in records["api"] and records["api"]["missing"] == []
    assert "dlq_depth" not in records["api"]  # still to come: it needs the destinations read beside Insights
    assert snap.table.set_index("name").loc["api", "invocations"] == 42.0


def test_a_failed_metrics_read_waits_for_the_regions_queries(monkeypatch):
    """The region fails (every figure missing), and its Insights queries have ended before the
    collection returns: no call of this collection runs after it."""
    monkeypatch.setattr(fleet, "fleet_inventory", lambda ctx, opts: Inventory([fn("api")], [], {}, ["us-east-1"]))
    ended = threading.Event()

    def logs(*args, **kwargs):
        time.sleep(0.3)
        ended.set()
        return LogResult(region="us-east-1"), LogResult(region="us-east-1")

    def broken_metrics(*args, **kwargs):
        raise fleet.LambdaopsError("GetMetricData failed: endpoint went away")

    monkeypatch.setattr(fleet, "log_figures", logs)
    monkeypatch.setattr(fleet, "get_metric_data", broken_metrics)
    ctx = AwsContext(regions=["us-east-1"], credentials=StaticCredentials("a", "b"))
    snap = fleet.collect_fleet(ctx, fleet.CollectOptions(window=since(3600), insights=False))
    assert ended.is_set()
    assert snap.failed_regions == ["us-east-1"]
    assert pd.isna(snap.table.set_index("name").loc["api", "invocations"])
