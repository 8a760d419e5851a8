"""Never a false green (issue 13, item 8): whatever could not be fetched is in ``errors`` (region,
operation, count, message), null (never 0) and named in ``missing``, marked ``?`` in tables, and
turns into exit 254 with ``--strict``; nothing collected at all is 254 whatever the flags; every HTTP
attempt is counted, retries too; ``--raw-logs`` never presents the sum of the first lines as the total.

Faults are injected at the HTTP attempt (tests/e2e/faults/http_faults.py) so botocore's retries run and run
out as they do against AWS; one test uses the demo's own AWS quotas with concurrent runs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime

import pytest
from typer.testing import CliRunner

from lambdaops.cli.main import app
from tests.conftest import ROOT, demo_env, start_served_demo, stop_served_demo
from tests.e2e.faults.http_faults import Rule, inject, lambda_error

runner = CliRunner()
REGIONS = "us-east-1,eu-west-1"


def run(demo, *args):
    return runner.invoke(app, ["--endpoint-url", demo.endpoint, "--region", REGIONS, *args],
                         env=demo_env(demo.endpoint))


def window(demo) -> list[str]:
    w = demo.truth["window"]
    return ["--start", w["start"], "--end", w["end"]]


@pytest.mark.e2e
def test_throttled_details_are_errors_nulls_and_254_with_strict(served_demo, monkeypatch):
    # image-resize had async traffic, so the report reads its on-failure destination (collect/details.py)
    rule = Rule("lambda", lambda op, url, attempt: op == "GetFunctionEventInvokeConfig" and "/functions/image-resize" in url,
                lambda req: lambda_error(req, "TooManyRequestsException", 429))
    inject(monkeypatch, rule)

    res = run(served_demo, "report", *window(served_demo), "-o", "json")
    assert res.exit_code == 0, res.stderr  # a partial report is still a report...
    data = json.loads(res.stdout)
    errs = [e for e in data["errors"] if e["operation"] == "GetFunctionEventInvokeConfig"]
    assert errs, data["errors"]  # ...but never with empty errors
    assert sum(e["count"] for e in errs) == 1
    assert all("throttled" in e["message"] and e["region"] in REGIONS.split(",") for e in errs)
    got = {f["name"]: f for f in data["functions"]}
    # its on-failure destination is unknown: so is its DLQ depth
    assert got["image-resize"]["dlq_depth"] is None and "dlq_depth" in got["image-resize"]["missing"]
    assert got["payments-async"]["missing"] == [] and got["payments-async"]["dlq_depth"] is not None
    assert "GetFunctionEventInvokeConfig:" in res.stderr and "could not be fetched" in res.stderr
    # every attempt was throttled: 5 (standard retry mode), all counted
    assert rule.hits == 5
    assert data["api_retries"]["lambda.GetFunctionEventInvokeConfig"] == 4

    table = run(served_demo, "report", *window(served_demo), "--functions", "image-*", "--strict")
    assert table.exit_code == 254, table.stderr
    assert "INCOMPLETE" in table.stdout and " ? " in table.stdout  # the table is still written


@pytest.mark.e2e
def test_functions_and_dlq_list_surface_detail_gaps(served_demo, monkeypatch):
    # orders-*: reserved concurrency throttled; payments-*: failure destinations throttled (all
    # `dlq list` asks for)
    inject(monkeypatch, Rule("lambda", lambda op, url, a: (op == "GetFunction" and "/functions/orders-" in url)
                             or (op == "GetFunctionEventInvokeConfig" and "/functions/payments-" in url),
                             lambda req: lambda_error(req, "TooManyRequestsException", 429)))
    res = run(served_demo, "functions", "-o", "json")
    assert res.exit_code == 0
    rows = {r["name"]: r for r in json.loads(res.stdout)}
    assert rows["orders-api"]["details_error"] and rows["orders-api"]["reserved_concurrency"] is None
    assert rows["payments-async"]["details_error"] and rows["payments-async"]["on_failure_destination"] is None
    assert re.search(r": GetFunction[ :]", res.stderr) and "could not be fetched" in res.stderr
    assert run(served_demo, "functions", "--strict", "-o", "json").exit_code == 254
    table = run(served_demo, "functions", "-o", "markdown")
    line = next(x for x in table.stdout.splitlines() if "| orders-api " in x)
    assert "| ? |" in line  # reserved concurrency unknown, not "-" (none)

    res = run(served_demo, "dlq", "list", "-o", "json")
    assert res.exit_code == 0 and "GetFunctionEventInvokeConfig" in res.stderr and "may be missing" in res.stderr
    assert run(served_demo, "dlq", "list", "--strict", "-o", "json").exit_code == 254


@pytest.mark.e2e
def test_every_region_failing_is_254_with_empty_functions_and_errors(served_demo, monkeypatch):
    inject(monkeypatch, Rule("lambda", lambda op, url, a: op == "ListFunctions",
                             lambda req: lambda_error(req, "AccessDeniedException", 403, "not authorized")))
    res = run(served_demo, "report", *window(served_demo), "-o", "json", "--fail-on", "critical")
    assert res.exit_code == 254, res.stderr
    data = json.loads(res.stdout)
    assert data["functions"] == []
    assert sorted(e["region"] for e in data["errors"]) == sorted(REGIONS.split(","))
    assert all(e["operation"] == "ListFunctions" and e["count"] == 1 for e in data["errors"])
    assert "nothing could be collected" in res.stderr


@pytest.mark.e2e
def test_no_figure_fetched_is_254_even_without_strict(served_demo, monkeypatch):
    """GetMetricData and StartQuery never reach the endpoint (connection refused on every attempt):
    the functions are listed, every figure null and missing, the region's error recorded."""
    from botocore.exceptions import EndpointConnectionError

    def refuse(req):
        raise EndpointConnectionError(endpoint_url=req.url)

    inject(monkeypatch, Rule("cloudwatch", lambda op, url, a: op == "GetMetricData", refuse),
           Rule("logs", lambda op, url, a: op == "StartQuery", refuse))
    res = run(served_demo, "report", *window(served_demo), "-o", "json")
    assert res.exit_code == 254, res.stderr
    data = json.loads(res.stdout)
    assert len(data["functions"]) == len(served_demo.truth["functions"])
    for f in data["functions"]:
        assert f["invocations"] is None and f["cold_starts"] is None and f["cost_usd"] is None
        assert {"invocations", "cold_starts", "duration_p99_ms", "cost_usd"} <= set(f["missing"])
    assert sorted(e["region"] for e in data["errors"]) == sorted(REGIONS.split(","))
    assert all("cannot reach" in e["message"] for e in data["errors"])
    assert "nothing could be collected" in res.stderr


@pytest.mark.e2e
def test_api_calls_count_retried_attempts(served_demo, monkeypatch):
    # the first attempt of each ListFunctions call is throttled; the retry succeeds
    rule = Rule("lambda", lambda op, url, attempt: op == "ListFunctions" and attempt == 1,
                lambda req: lambda_error(req, "TooManyRequestsException", 429))
    inject(monkeypatch, rule)
    res = run(served_demo, "report", *window(served_demo), "-o", "json")
    assert res.exit_code == 0, res.stderr  # retried in time: nothing missing
    data = json.loads(res.stdout)
    assert rule.hits == 2  # one page per region
    assert data["api_calls"]["lambda.ListFunctions"] == 4
    assert data["api_retries"] == {"lambda.ListFunctions": 2}
    assert data["errors"] == [] and all(f["missing"] == [] for f in data["functions"])


@pytest.mark.e2e
def test_raw_logs_over_the_row_limit_is_null_with_a_note(served_demo):
    from lambdaops.aws.context import AwsContext, StaticCredentials
    from lambdaops.collect.fleet import CollectOptions, collect_fleet
    from lambdaops.window import Window

    truth = {t["name"]: t for t in served_demo.truth["functions"]}
    busiest = max(truth.values(), key=lambda t: t["invocations"])
    assert busiest["invocations"] > 10_000  # more than one FilterLogEvents page (10,000 events)
    w = served_demo.truth["window"]
    win = Window(*(datetime.fromisoformat(w[k].replace("Z", "+00:00")) for k in ("start", "end")))

    def collect(limit: int):
        ctx = AwsContext(regions=[busiest["region"]], endpoint_url=served_demo.endpoint,
                         credentials=StaticCredentials("demo", "demo"))
        return collect_fleet(ctx, CollectOptions(window=win, globs=[busiest["name"]], insights=False,
                                                 raw_row_limit=limit))

    snap = collect(5_000)
    row = snap.table.to_dict("records")[0]
    for fig in ("cold_starts", "timeouts", "init_p99_ms", "memory_used_max_mb"):
        assert row[fig] is None or row[fig] != row[fig], (fig, row[fig])  # None or NaN, never a partial sum
    assert "cold_starts" in row["missing"] and "billed_gb_seconds" in row["missing"] and "cost_usd" in row["missing"]
    assert any("10,000 log lines read" in n and "row limit" in n for n in snap.notes), snap.notes
    assert snap.has_gaps()

    full = collect(0)  # 0: follow nextToken to the end of the window
    row = full.table.to_dict("records")[0]
    assert row["missing"] == [] and not [n for n in full.notes if "row limit" in n or "log figures" in n]
    assert row["cold_starts"] == busiest["cold_starts"]


def test_tui_marks_failed_cells_apart_from_zero_and_no_data():
    from lambdaops.models import FunctionInfo
    from lambdaops.tui.fleet_model import FAILED, build_fleet_model, missing_figures

    fn = FunctionInfo(name="f", region="us-east-1", arn="arn:aws:lambda:us-east-1:1:function:f", runtime="python3.12",
                      architecture="arm64", memory_mb=128, timeout_s=3, last_modified=None)
    rows = [{"name": "f", "region": "us-east-1", "invocations": 0.0, "error_rate": 0.0, "throttles": None,
             "cold_start_rate": None, "dlq_depth": None, "cost_usd": None, "findings": [],
             "missing": ["throttles", "cost_usd"]}]
    model = build_fleet_model([fn], rows)
    cell = {c.key: model.cells[0][i] for i, c in enumerate(model.columns)}
    assert cell["throttles"] == FAILED == "?" and cell["cost_usd"] == "?"
    assert cell["invocations"] == "0" and cell["dlq_depth"] == "-"  # a real 0, and no DLQ: not marked
    assert cell["cold_start_rate"] == "-"
    assert missing_figures(rows) == 2
    assert [model.keys[i] for i in model.view("missing")] == ["us-east-1/f"]


@pytest.mark.e2e
def test_concurrent_runs_under_aws_quotas_never_exit_green_with_gaps(tmp_path):
    """The issue's reproduction: three concurrent runs against a 300-function account with AWS's
    control-plane quota (15 requests/s shared); retries run out for some functions' details."""
    # Its own account: 300 functions under AWS's quotas, unlike the shared one.
    demo = start_served_demo(tmp_path, "--functions", "300", "--quotas", "aws", truth=False)
    try:
        env = demo_env(demo.endpoint)
        env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
        cmd = [sys.executable, "-m", "lambdaops.cli.main", "--endpoint-url", demo.endpoint, "--region", REGIONS,
               "functions", "--strict", "-o", "json"]
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
                 for _ in range(3)]
        outs = [(p.communicate(timeout=600), p.returncode) for p in procs]
    finally:
        stop_served_demo(demo)
    gaps = 0
    for (out, err), code in outs:
        rows = json.loads(out)
        assert len(rows) == 300
        lost = [r for r in rows if r["details_error"]]
        gaps += len(lost)
        if lost:
            assert code == 254, err
            assert "GetFunction" in err and f"details of {len(lost)} of 300 functions" in err
            assert all(r["details_failed"] for r in lost)  # each names the read that failed...
            # ...and a failed reserved-concurrency read is null, never a value from elsewhere
            assert all(r["reserved_concurrency"] is None for r in lost if "reserved_concurrency" in r["details_failed"])
        else:
            assert code == 0, err
    assert gaps > 0  # three runs at 15 requests/s each against one 15/s quota: some retries run out


def test_a_call_answered_without_http_still_counts_once():
    """botocore's Stubber answers in before-call: no HTTP attempt, still one call (and no retry)."""
    import botocore.exceptions
    from botocore.stub import Stubber

    from lambdaops.aws.context import AwsContext, StaticCredentials

    ctx = AwsContext(regions=["us-east-1"], credentials=StaticCredentials("a", "b"))
    cli = ctx.client("lambda", "us-east-1")
    with Stubber(cli) as stub:
        stub.add_response("list_functions", {"Functions": []})
        stub.add_client_error("get_function", "TooManyRequestsException", http_status_code=429)
        cli.list_functions()
        with pytest.raises(botocore.exceptions.ClientError):
            cli.get_function(FunctionName="f")
    assert ctx.calls.snapshot() == {"lambda.GetFunction": 1, "lambda.ListFunctions": 1}
    assert ctx.calls.retries() == {}


def test_inventory_counts_failed_detail_calls_per_region_and_operation(monkeypatch):
    """No server: moto behind the HTTP-attempt fault. Two of three functions lose their details."""
    import boto3
    from moto import mock_aws

    from lambdaops.aws.context import AwsContext, StaticCredentials
    from lambdaops.aws.inventory import InventoryOptions, fleet_inventory
    from tests.helpers import handler_zip

    inject(monkeypatch, Rule("lambda", lambda op, url, a: op == "GetFunction" and "/functions/slow-" in url,
                             lambda req: lambda_error(req, "TooManyRequestsException", 429)))
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        lam = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
        for name in ("slow-a", "slow-b", "fine"):
            lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                                Code={"ZipFile": handler_zip()})
        ctx = AwsContext(regions=["us-east-1"], credentials=StaticCredentials("a", "b"))
        inv = fleet_inventory(ctx, opts=InventoryOptions(cache_dir=None))
    assert inv.errors == []  # the region itself was listed
    assert [(e["region"], e["operation"], e["count"]) for e in inv.detail_errors] == [
        ("us-east-1", "GetFunction", 2)]
    assert "retries ran out" in inv.detail_errors[0]["message"]
    by = {f.name: f for f in inv.functions}
    assert by["slow-a"].details_error and by["slow-a"].reserved_concurrency is None
    assert by["fine"].details_error is None
    assert ctx.calls.retries() == {"lambda.GetFunction": 8}  # 5 attempts each, 4 of them retries
