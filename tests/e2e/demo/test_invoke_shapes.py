"""Invoke's log tail (LogType=Tail) writes the same line shapes as the demo's logs: INIT inside Billed
Duration or left out, SnapStart's billed restore inside it, an old runtime's separate timeout and
``signal: killed`` lines. One in-process account with the whole fleet for the module."""

from __future__ import annotations

import base64
import json
import math

import boto3
import pytest

from lambdaops.demo.server import DemoAccount
from tests.e2e.demo.test_log_records import OLD_OOM_RE, REPORT_RE, TIMEOUT_RE

from tests.helpers import lambda_client

pytestmark = pytest.mark.e2e

US, EU = "us-east-1", "eu-west-1"


@pytest.fixture(scope="module")
def account():
    # Its own account: invokes write log records, metrics and DLQ messages the shared account's readers
    # compare with the truth file.
    acct = DemoAccount().start()
    yield acct
    acct.stop()


@pytest.fixture(scope="module")
def lam(account):
    def make(region):
        return lambda_client(account, region)
    return {US: make(US), EU: make(EU)}


def tail(cli, name, **kw):
    resp = cli.invoke(FunctionName=name, LogType="Tail", Payload=b"{}", **kw)
    resp["body"] = json.loads(resp["Payload"].read() or b"null")
    # the REPORT message ends with its own tab; the tail joins messages with newlines
    resp["lines"] = base64.b64decode(resp["LogResult"]).decode().split("\n")
    return resp


def report(lines):
    (m,) = [REPORT_RE.match(x + "\n") for x in lines if x.startswith("REPORT")]
    assert m, lines
    return m


def configure(cli, name, **cfg):
    cli.update_function_configuration(FunctionName=name, **cfg)
    cli.get_waiter("function_updated_v2").wait(FunctionName=name)


def test_cold_start_bills_init_unless_the_function_leaves_it_out(lam):
    orders = report(tail(lam[US], "orders-api")["lines"])  # first invoke of the account: cold
    geo = report(tail(lam[EU], "geo-lookup")["lines"])
    assert orders["i"] and geo["i"]
    assert int(orders["b"]) == math.ceil(round(float(orders["d"]) + float(orders["i"]), 6))
    assert int(geo["b"]) == math.ceil(float(geo["d"]))


def test_json_snapstart_restore_is_billed_inside_billed_duration(lam):
    resp = tail(lam[EU], "fx-rates-api", Qualifier="live")
    records = [json.loads(x) for x in resp["lines"] if x.startswith("{")]
    assert records[0]["type"] == "platform.restoreStart"
    met = records[-1]["record"]["metrics"]
    assert 0 < met["billedRestoreDurationMs"] < met["restoreDurationMs"]
    assert met["billedDurationMs"] == math.ceil(round(met["durationMs"] + met["billedRestoreDurationMs"], 6))


def test_old_runtime_dies_of_oom_as_signal_killed_after_its_report(account):
    # 128 MB is Lambda's minimum and the function's working set fits it on Invoke: render the death directly.
    from lambdaops.demo.invoke_api import Outcome, _error_payload, render_log_tail
    from lambdaops.demo.traffic import OOM

    sim = account.invoke_simulator
    target = sim.resolve(US, "legacy-image-meta", None)
    out = Outcome(hi=0x1234, lo=0x5678, start_ms=1_790_000_000_000, duration_ms=812.4, billed_ms=813, init_ms=None,
                  max_mem_mb=128, status=OOM)
    assert _error_payload(target, out)["errorType"] == "Runtime.ExitError"
    lines = render_log_tail(target, out).split("\n")
    rep = report(lines)
    assert rep["st"] is None and "Runtime.OutOfMemory" not in "\n".join(lines)
    after = "\n".join(lines[next(i for i, x in enumerate(lines) if x.startswith("REPORT")) + 1:]).strip("\n")
    assert OLD_OOM_RE.match(after) and OLD_OOM_RE.match(after)["rid"] == rep["rid"] == out.request_id


def test_old_runtime_times_out_with_a_separate_line_and_no_status(lam):
    cli = lam[US]
    configure(cli, "legacy-image-meta", Timeout=1)  # about 1.7 s of work
    try:
        resp = tail(cli, "legacy-image-meta")
    finally:
        configure(cli, "legacy-image-meta", Timeout=3)
    lines = resp["lines"]
    rep = report(lines)
    assert rep["st"] is None and float(rep["d"]) == 1000.0
    i = next(i for i, x in enumerate(lines) if x.startswith("REPORT"))
    m = TIMEOUT_RE.match(lines[i + 1])
    assert m and m["rid"] == rep["rid"] and m["s"] == "1.00"


def test_the_first_invoke_of_a_function_that_never_ran_creates_its_log_group(account, lam):
    logs = boto3.client("logs", region_name=US, endpoint_url=account.endpoint, aws_access_key_id="demo",
                        aws_secret_access_key="demo")
    group = "/aws/lambda/reports-backfill"
    listed = lambda: [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]]  # noqa: E731
    assert listed() == []
    rep = report(tail(lam[US], "reports-backfill")["lines"])
    assert listed() == [group]
    (ev,) = [e for e in logs.filter_log_events(logGroupName=group)["events"] if e["message"].startswith("REPORT")]
    assert rep["rid"] in ev["message"]
