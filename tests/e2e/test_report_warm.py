"""A report right after another (kept listing, details, account pool, RedrivePolicy, topic queues)
gives exactly the figures of a --no-cache run, every function and figure, DLQ depths included, and
makes none of the listing, per-function or queue-URL calls again."""

from __future__ import annotations

import json

import pytest

from lambdaops.store.cells import R
from tests.e2e.test_report import run

LISTING_AND_SETTINGS = ("lambda.ListFunctions", "lambda.ListEventSourceMappings", "resourcegroupstaggingapi.GetResources",
                        "lambda.GetAccountSettings", "lambda.GetFunction",
                        "lambda.GetFunctionEventInvokeConfig", "sns.ListSubscriptionsByTopic", "sqs.GetQueueUrl")


# a DLQ with async destinations, an SQS source (RedrivePolicy), an SNS topic DLQ, a stream on-failure
# queue, and a busy API: every kept setting is used; fewer log groups keep the test short
CHOSEN = ("payments-async", "order-queue-worker", "pdf-render", "orders-stream-consumer", "checkout-api")


def _report(demo, *extra):
    truth = demo.truth
    chosen = [arg for name in CHOSEN for arg in ("--functions", name)]
    res = run(demo, *extra, "report", "--start", truth["window"]["start"], "--end", truth["window"]["end"], *chosen,
              "-o", "json")
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


def test_a_warm_report_equals_no_cache_and_lists_nothing_again(served_demo):
    cold = _report(served_demo)
    warm = _report(served_demo)
    plain = _report(served_demo, "--no-cache")
    assert not any(op in warm["api_calls"] for op in LISTING_AND_SETTINGS), warm["api_calls"]
    assert "sqs.GetQueueUrl" not in cold["api_calls"] and "sqs.GetQueueUrl" not in plain["api_calls"]
    assert warm["inventory"]["kept"] == ["eu-west-1", "us-east-1"] and warm["inventory"]["age_s"] >= 0
    assert plain["inventory"]["kept"] == [] and cold["inventory"]["kept"] == []
    # compared apart: the same codes and severities; INIT percentiles come from the Insights store's
    # histogram, within its bucket width (tests/e2e/test_store.py)
    skip = {"findings", "init_p50_ms", "init_p99_ms"}
    got = {(f["region"], f["name"]): f for f in warm["functions"]}
    for want in plain["functions"]:
        mine = got[(want["region"], want["name"])]
        assert {k: v for k, v in mine.items() if k not in skip} == {k: v for k, v in want.items() if k not in skip}
        assert [(x["code"], x["severity"]) for x in mine["findings"]] == \
            [(x["code"], x["severity"]) for x in want["findings"]]
        for fig in ("init_p50_ms", "init_p99_ms"):
            assert (mine[fig] is None) == (want[fig] is None)
            assert want[fig] is None or mine[fig] == pytest.approx(want[fig], rel=(1 + R) ** 0.5 - 1), fig
    assert len(got) == len(plain["functions"]) == len(CHOSEN)
    assert sum(1 for f in plain["functions"] if f["dlq_depth"]) >= 3
    assert warm["notes"] == plain["notes"]
