"""`lambdaops demo serve` in a subprocess, used by boto3 and by `lambdaops --endpoint-url` from others."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, demo_env, start_served_demo, stop_served_demo

pytestmark = pytest.mark.e2e


def test_serve_answers_other_processes_then_exits_cleanly(tmp_path):
    # Its own `demo serve` (here and below): the command's start and stop are what these tests check.
    demo = start_served_demo(tmp_path, "--seed", "3", truth=False)
    try:
        assert demo.endpoint.startswith("http://127.0.0.1:")
        lam = demo.client("lambda", "eu-west-1")
        names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
        assert "checkout-api-eu" in names
        out = subprocess.run([sys.executable, "-m", "lambdaops.cli.main", "--endpoint-url", demo.endpoint,
                              "functions", "--region", "us-east-1,eu-west-1", "-o", "json"],
                             capture_output=True, text=True, env=demo_env(demo.endpoint), cwd=ROOT, timeout=120)
        assert out.returncode == 0, out.stderr
        rows = json.loads(out.stdout)
        assert len(rows) >= 20 and {r["region"] for r in rows} == {"us-east-1", "eu-west-1"}
    finally:
        code = stop_served_demo(demo)
    assert code == 0, demo.stderr()[-3000:]


def test_serve_refuses_non_loopback(tmp_path):
    out = subprocess.run([sys.executable, "-m", "lambdaops.cli.main", "demo", "serve", "--host", "0.0.0.0"],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 2 and "loopback" in out.stderr


def test_early_serve_lists_the_fleet_first_and_holds_telemetry_until_it_exists(tmp_path):
    """--early (what the TUI's --demo uses) answers the inventory before the traffic is generated;
    a metrics request waits for the traffic instead of getting empty answers."""
    from datetime import datetime, timedelta, timezone

    demo = start_served_demo(tmp_path, "--early", truth=False)
    try:
        assert "traffic still being generated" in demo.readline()
        lam = demo.client("lambda", "us-east-1")
        names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
        assert "checkout-api" in names
        cw = demo.client("cloudwatch", "us-east-1")
        now = datetime.now(timezone.utc)
        resp = cw.get_metric_data(
            MetricDataQueries=[{"Id": "inv", "MetricStat": {"Metric": {
                "Namespace": "AWS/Lambda", "MetricName": "Invocations",
                "Dimensions": [{"Name": "FunctionName", "Value": "checkout-api"}]}, "Period": 3600, "Stat": "Sum"}}],
            StartTime=now - timedelta(hours=6), EndTime=now)
        assert sum(resp["MetricDataResults"][0]["Values"]) > 0
    finally:
        code = stop_served_demo(demo)
    assert code == 0, demo.stderr()[-3000:]


def test_the_tuis_demo_account_stops_when_its_parent_goes(demo_cache_dir, tmp_path, monkeypatch):
    """The TUI's child account watches its stdin: when the TUI quits or dies (kill -9, a crash) the
    pipe closes and the account stops instead of holding its memory and port, having first written
    what its queries computed to the demo cache (a session closed as soon as its figures were in
    leaves the next one warm)."""
    import shutil
    import time

    import boto3

    from lambdaops.demo.launch import DemoProcess

    cache = tmp_path / "demo-cache"  # the suite's entry (when written already) without its Insights columns
    shutil.copytree(demo_cache_dir, cache, ignore=shutil.ignore_patterns("*.columns.pickle", "*.tmp"))
    cache.chmod(0o700)
    monkeypatch.setenv("LAMBDAOPS_DEMO_CACHE_DIR", str(cache))
    demo = DemoProcess()
    try:
        endpoint = demo.wait()
        assert endpoint.startswith("http://127.0.0.1:") and "us-east-1" in demo.regions
        logs = boto3.client("logs", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="demo",
                            aws_secret_access_key="demo")
        now = int(time.time())
        qid = logs.start_query(logGroupNames=["/aws/lambda/checkout-api"], startTime=now - 3600, endTime=now,
                               queryString="filter @message like /REPORT/ | stats count(*) as n")["queryId"]
        while logs.get_query_results(queryId=qid)["status"] != "Complete":
            time.sleep(0.05)
        assert not list(cache.glob("*.columns.pickle"))  # not yet: a session writes them after 2 s idle
        assert demo.proc.poll() is None
        demo.proc.stdin.close()  # what the OS does when the parent exits
        assert demo.proc.wait(timeout=60) == 0
        assert len(list(cache.glob("*.columns.pickle"))) == 1
    finally:
        demo.stop()
