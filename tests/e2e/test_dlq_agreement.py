"""One DLQ discovery, three views: `dlq list -o json`, `report -o json` (dlq_depth) and the TUI's DLQ
source agree on every queue and depth, and all of them equal the demo's truth, which counts what
AWS counts (visible + in flight + delayed). The demo holds messages in flight and a delayed one, and
an SNS topic DLQ with a queue subscribed to it, so a view reading only visible messages, or only
SQS DeadLetterConfig targets, fails here."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lambdaops.aws.context import AwsContext, StaticCredentials
from lambdaops.cli.main import app
from lambdaops.tui import dlq_source
from tests.conftest import demo_env

pytestmark = pytest.mark.e2e
runner = CliRunner()
REGIONS = ["us-east-1", "eu-west-1"]


def run(demo, *args):
    res = runner.invoke(app, ["--endpoint-url", demo.endpoint, "--region", ",".join(REGIONS), *args],
                        env=demo_env(demo.endpoint))
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def views(served_demo):
    truth = served_demo.truth
    listed = run(served_demo, "dlq", "list", "-o", "json")
    report = run(served_demo, "report", "--start", truth["window"]["start"], "--end", truth["window"]["end"],
                 "-o", "json")
    ctx = AwsContext(regions=REGIONS, endpoint_url=served_demo.endpoint, credentials=StaticCredentials("demo", "demo"))
    rows, errors = dlq_source.discover(ctx, REGIONS)
    assert errors == []
    return truth, listed, report, rows


def test_every_queue_has_the_truths_depth_in_dlq_list_and_the_tui(views):
    truth, listed, _, rows = views
    by_list = {(q["region"], q["name"]): q for q in listed}
    by_tui = {(q.region, q.name): q for q in rows}
    for t in truth["queues"]:
        key = (t["region"], t["name"])
        row = by_list[key]
        assert (row["depth"], row["visible"], row["in_flight"], row["delayed"]) == \
            (t["dlq_messages"], t["visible"], t["in_flight"], t["delayed"]), key
        assert by_tui[key].depth == row["depth"] and by_tui[key].in_flight == row["in_flight"], key
    assert set(by_tui) == set(by_list)
    # the demo's awkward cases are really there
    assert any(t["in_flight"] for t in truth["queues"]) and any(t["delayed"] for t in truth["queues"])
    archive = by_list[("us-east-1", "pdf-render-dlq-archive")]
    assert archive["kind"] == "sns-dlq" and archive["functions"] == ["pdf-render"]
    assert archive["sources"] == ["pdf-render-dlq-topic"] and archive["in_flight"] > 0


def test_the_report_counts_every_function_dlq_as_aws_does(views):
    truth, listed, report, _ = views
    got = {(f["region"], f["name"]): f for f in report["functions"]}
    for t in truth["functions"]:
        f = got[(t["region"], t["name"])]
        assert f["dlq_depth"] == t["dlq_depth"], (t["name"], f["dlq_depth"], t["dlq_depth"])
        serving = [q for q in listed if t["name"] in q["functions"] and q["region"] == t["region"]]
        if t["dlq_depth"] is None:
            assert not serving, t["name"]
            continue
        assert f["dlq_depth"] == sum(q["depth"] for q in serving), t["name"]
        assert f["dlq_in_flight"] == sum(q["in_flight"] for q in serving), t["name"]
    pdf = got[("us-east-1", "pdf-render")]
    assert pdf["dlq_depth"] and pdf["dlq_in_flight"]  # an SNS topic DLQ, seen through its queue
    stream = got[("us-east-1", "orders-stream-consumer")]
    assert stream["dlq_depth"] > stream["dlq_in_flight"] > 0
