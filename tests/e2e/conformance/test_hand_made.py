"""Functions created by hand in a running ``lambdaops demo serve`` with plain boto3, their REPORT lines
put with PutLogEvents in several of the corpus's shapes: ``lambdaops report -o json`` must give each
the right cold starts, billed GB-seconds and timeouts; a function in a shared custom group only its
own lines; a function without a log group null log figures with a note, changing nobody else's.

This starts its own demo account: the functions it adds must not show up in the session's."""

from __future__ import annotations

import json
import math
import time
from datetime import datetime, timezone

import pytest
from typer.testing import CliRunner

from lambdaops.cli.main import app
from lambdaops.store.cells import R
from tests.helpers import handler_zip
from tests.unit.conformance.corpus import CASES
from tests.conftest import demo_env, start_served_demo, stop_served_demo

pytestmark = pytest.mark.e2e
runner = CliRunner()
ROLE = "arn:aws:iam::123456789012:role/lambdaops-demo-execution"
SHARED = "/hand/shared-app"
DAY = datetime.now(timezone.utc).strftime("%Y/%m/%d")
CASE = {c.name: c for c in CASES}

# function -> (memory MB, log group or None, stream, corpus cases written there)
HAND = {
    "hand-own-text": (128, "/aws/lambda/hand-own-text", f"{DAY}/[$LATEST]0a0b0c0d",
                      ["text warm", "text cold, INIT left out of Billed Duration: billed anyway",
                       "text timeout, old form (separate Task timed out line, no Status)",
                       "text timeout in both forms for one invocation: counted once",
                       "text out of memory, old form (signal: killed)"]),
    "hand-own-json": (1024, "/aws/lambda/hand-own-json", f"{DAY}/[$LATEST]1a1b1c1d",
                      ["JSON cold, INIT inside billedDurationMs", "JSON traced, timeout and out of memory"]),
    "hand-shared-a": (2048, SHARED, f"{DAY}/hand-shared-a[$LATEST]2a2b2c2d",
                      ["text SnapStart restores: Billed Duration already holds the billed restore"]),
    "hand-shared-b": (512, SHARED, f"{DAY}/hand-shared-b[4]3a3b3c3d",
                      ["text with spaces instead of tabs", "JSON SnapStart restore"]),
    "hand-rare": (256, "/hand/infrequent", f"{DAY}/hand-rare[$LATEST]4a4b4c4d",
                  ["text warm and cold with X-Ray lines"]),
    "hand-never-ran": (128, None, None, []),
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    # Its own account: it creates functions and log groups that the shared account's readers would count.
    served = start_served_demo(tmp_path_factory.mktemp("hand"), truth=False)
    try:
        lam, logs = served.client("lambda"), served.client("logs")
        now_ms = int(time.time() * 1000) - 10 * 60_000
        for name, (memory, group, stream, cases) in HAND.items():
            params = dict(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                          Code={"ZipFile": handler_zip()}, MemorySize=memory)
            params["LoggingConfig"] = {"LogFormat": "Text", "LogGroup": group or f"/aws/lambda/{name}"}
            lam.create_function(**params)
            if group is None:
                continue  # never ran: Lambda never created its group
            existing = {g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]}
            if group not in existing:
                extra = {"logGroupClass": "INFREQUENT_ACCESS"} if group == "/hand/infrequent" else {}
                logs.create_log_group(logGroupName=group, **extra)
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
            lines = [line for c in cases for line in CASE[c].lines]
            logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
                {"timestamp": now_ms + k, "message": line} for k, line in enumerate(lines)])
        yield served
    finally:
        stop_served_demo(served)


def report(demo, *globs: str, raw: bool = False) -> dict:
    args = ["--endpoint-url", demo.endpoint, "--region", "us-east-1", "report", "--since", "1h", "-o", "json"]
    args += ["--raw-logs"] if raw else []
    for g in globs:
        args += ["--functions", g]
    res = runner.invoke(app, args, env=demo_env(demo.endpoint))
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


def want(name: str) -> dict:
    memory, _, _, cases = HAND[name]
    cs = [CASE[c] for c in cases]
    billed = sum(c.billed_ms for c in cs)
    return {"cold_starts": sum(c.cold_starts for c in cs), "timeouts": sum(c.timeouts for c in cs),
            "billed_gb_seconds": round(billed / 1000 * memory / 1024, 3),
            "memory_used_max_mb": max(c.max_memory_mb for c in cs)}


def test_the_infrequent_access_class_is_kept(demo):
    groups = demo.client("logs").describe_log_groups(logGroupNamePrefix="/hand/")["logGroups"]
    assert {g["logGroupName"]: g["logGroupClass"] for g in groups} == {
        "/hand/infrequent": "INFREQUENT_ACCESS", SHARED: "STANDARD"}


def insights(demo, groups: list[str], query: str) -> list[dict]:
    logs = demo.client("logs")
    now = int(time.time())
    qid = logs.start_query(logGroupNames=groups, startTime=now - 3600, endTime=now, queryString=query)["queryId"]
    for _ in range(200):
        r = logs.get_query_results(queryId=qid)
        if r["status"] == "Complete":
            return [{c["field"]: c["value"] for c in row if c["field"] != "@ptr"} for row in r["results"]]
        time.sleep(0.05)
    raise AssertionError("query never finished")


def test_insights_on_the_demo_behaves_like_aws(demo):
    # Infrequent Access: no discovered fields at all, though the query runs
    assert insights(demo, ["/hand/infrequent"], 'filter @type = "REPORT" | stats count(*) as n') == []
    assert insights(demo, ["/hand/infrequent"], "stats count(*) as n") == [{"n": "2"}]
    # JSON platform.report records: their own keys, no @type
    own_json = ["/aws/lambda/hand-own-json"]
    assert insights(demo, own_json, 'filter @type = "REPORT" | stats count(*) as n') == []
    assert insights(demo, own_json, 'filter type = "platform.report" | stats count(*) as n, '
                                    'max(`record.metrics.maxMemoryUsedMB`) as mb') == [{"n": "3", "mb": "300"}]
    # one missing group fails the whole request
    with pytest.raises(Exception) as err:
        insights(demo, own_json + ["/aws/lambda/hand-never-ran"], "stats count(*)")
    assert "ResourceNotFoundException" in str(err.value) and "hand-never-ran" in str(err.value)


def test_hand_made_functions_get_aws_figures(demo):
    out = report(demo, "hand-*")
    got = {f["name"]: f for f in out["functions"]}
    assert set(got) == set(HAND)
    for name in HAND:
        if name == "hand-never-ran":
            continue
        f = got[name]
        assert {k: f[k] for k in want(name)} == want(name), name
    # timeouts counted once per invocation, whichever form; JSON SnapStart and text in one shared group
    assert got["hand-own-text"]["timeouts"] == 2 and got["hand-own-json"]["timeouts"] == 1
    gone = got["hand-never-ran"]
    assert {k: gone[k] for k in ("cold_starts", "billed_gb_seconds", "cost_usd", "timeouts",
                                 "memory_used_max_mb")} == dict.fromkeys(
        ("cold_starts", "billed_gb_seconds", "cost_usd", "timeouts", "memory_used_max_mb"))
    assert any("hand-never-ran" in n and "does not exist" in n for n in out["notes"])
    assert not out["errors"]
    # the missing group cost one failed StartQuery and nothing else (the other two: the window, and
    # its unaligned head per second, which collect.log_bins keeps for the next window)
    assert out["api_calls"]["logs.StartQuery"] == 3 and "logs.DescribeLogGroups" not in out["api_calls"]


def test_a_function_without_a_log_group_changes_nobody_else(demo):
    with_it = {f["name"]: f for f in report(demo, "hand-*")["functions"]}
    without = {f["name"]: f for f in report(demo, "hand-own-*", "hand-shared-*", "hand-rare")["functions"]}
    for name, f in without.items():
        assert with_it[name] == f, name


def test_raw_logs_give_the_same_figures(demo):
    insights = {f["name"]: f for f in report(demo, "hand-*")["functions"]}
    out = report(demo, "hand-*", raw=True)
    raw = {f["name"]: f for f in out["functions"]}
    for name in HAND:
        for k in ("cold_starts", "billed_gb_seconds", "timeouts", "memory_used_max_mb"):
            assert raw[name][k] == insights[name][k], (name, k)
        for k in ("init_p50_ms", "init_p99_ms"):  # Insights through the store: its histogram's 0.5% bound
            assert (raw[name][k] is None and insights[name][k] is None) or math.isclose(
                raw[name][k], insights[name][k], rel_tol=(1 + R) ** 0.5 - 1), (name, k)
    assert any("hand-never-ran" in n and "does not exist" in n for n in out["notes"])
