"""The demo account checked against its own ground truth, through boto3 only (as a client would),
and its filled APIs erring like AWS on bad input."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.e2e


def _window(truth):
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return parse(truth["window"]["start"]), parse(truth["window"]["end"])


def _stat(cw, fn, metric, stat, start, end, period=None):
    start = start.replace(second=0)
    period = period or int(-(-(end - start).total_seconds() // 60) * 60)
    r = cw.get_metric_data(MetricDataQueries=[{"Id": "m", "MetricStat": {"Metric": {
        "Namespace": "AWS/Lambda", "MetricName": metric, "Dimensions": [{"Name": "FunctionName", "Value": fn}]},
        "Period": period, "Stat": stat}}], StartTime=start, EndTime=end)["MetricDataResults"][0]
    return r["Values"]


def _insights(logs, groups, start, end, query):
    qid = logs.start_query(logGroupNames=groups, startTime=int(start.timestamp()), endTime=int(end.timestamp()),
                           queryString=query)["queryId"]
    seen = set()
    for _ in range(200):
        r = logs.get_query_results(queryId=qid)
        seen.add(r["status"])
        if r["status"] in ("Complete", "Failed", "Cancelled"):
            return r, seen
        time.sleep(0.05)
    raise AssertionError("query never finished")


def test_metrics_match_truth_for_every_function(served_demo):
    truth = served_demo.truth
    start, end = _window(truth)
    for t in truth["functions"]:
        cw = served_demo.client("cloudwatch", t["region"])
        assert sum(_stat(cw, t["name"], "Invocations", "Sum", start, end)) == t["invocations"], t["name"]
        assert sum(_stat(cw, t["name"], "Errors", "Sum", start, end)) == t["errors"], t["name"]
        assert sum(_stat(cw, t["name"], "Throttles", "Sum", start, end)) == t["throttles"], t["name"]
        if t["invocations"]:
            (p99,) = _stat(cw, t["name"], "Duration", "p99", start, end)
            assert p99 == pytest.approx(t["duration_ms"]["p99"], rel=1e-6), t["name"]
            (mx,) = _stat(cw, t["name"], "ConcurrentExecutions", "Maximum", start, end)
            assert mx == t["max_concurrency"]
        if t["iterator_age_max_ms"] is not None:
            assert max(_stat(cw, t["name"], "IteratorAge", "Maximum", start, end)) == t["iterator_age_max_ms"]


def test_p99_duration_series_per_function(served_demo):
    truth = served_demo.truth
    start, end = _window(truth)
    cw = served_demo.client("cloudwatch")
    series = _stat(cw, "checkout-api", "Duration", "p99", start, end, period=300)
    assert 70 <= len(series) <= 74 and all(v > 0 for v in series)


def test_cold_starts_from_logs_insights_equal_truth(served_demo):
    """Lambda's discovered fields exist for text REPORT lines in Standard-class groups only (JSON records are
    discovered as their own keys; Infrequent Access groups get no discovery): checked where they apply, one
    function per group (a shared group is split by stream in test_log_records)."""
    truth = served_demo.truth
    start, end = _window(truth)
    for region in truth["regions"]:
        fns = [t for t in truth["functions"] if t["region"] == region and t["log_group_exists"]
               and t["log_format"] == "Text" and t["log_group_class"] == "STANDARD" and not t["log_group_shared"]]
        logs = served_demo.client("logs", region)
        r, seen = _insights(logs, [t["log_group"] for t in fns], start, end,
                            'filter @type = "REPORT" | stats count(*) as n, count(@initDuration) as cold, '
                            'pct(@initDuration, 99) as p99 by @log')
        assert r["status"] == "Complete" and "Running" in seen
        rows = {c["value"].split(":", 1)[1]: {x["field"]: x["value"] for x in row}
                for row in r["results"] for c in row if c["field"] == "@log"}
        for t in fns:
            row = rows.get(t["log_group"], {"n": "0", "cold": "0"})
            assert int(row["n"]) == t["invocations"], t["name"]
            if "quote-service" != t["name"]:  # SnapStart restores are not @initDuration
                assert int(row["cold"]) == t["cold_starts"], t["name"]
                if t["init_ms"]["p99"] is not None:
                    assert float(row["p99"]) == pytest.approx(t["init_ms"]["p99"], rel=1e-4)


def test_dlq_depths_equal_truth(served_demo):
    for q in served_demo.truth["queues"]:
        sqs = served_demo.client("sqs", q["region"])
        attrs = sqs.get_queue_attributes(QueueUrl=q["queue_url"], AttributeNames=["All"])["Attributes"]
        counts = [int(attrs[f"ApproximateNumberOfMessages{k}"]) for k in ("", "NotVisible", "Delayed")]
        assert counts == [q["visible"], q["in_flight"], q["delayed"]], q["name"]
        assert sum(counts) == q["dlq_messages"], q["name"]


def test_filled_apis_err_like_aws(served_demo):
    cw = served_demo.client("cloudwatch")
    now = datetime.now(timezone.utc)
    q = {"Id": "m", "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Duration"},
                                   "Period": 60, "Stat": "p999x"}}
    with pytest.raises(ClientError) as err:
        cw.get_metric_data(MetricDataQueries=[q], StartTime=now - timedelta(hours=1), EndTime=now)
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"
    many = [{"Id": f"m{i}", "MetricStat": {**q["MetricStat"], "Stat": "Sum"}} for i in range(501)]
    with pytest.raises(ClientError):
        cw.get_metric_data(MetricDataQueries=many, StartTime=now - timedelta(hours=1), EndTime=now)
    logs = served_demo.client("logs")
    with pytest.raises(ClientError) as err:
        logs.start_query(logGroupNames=["/aws/lambda/orders-api"], startTime=0, endTime=10, queryString="frob x")
    assert err.value.response["Error"]["Code"] == "MalformedQueryException"
    with pytest.raises(ClientError) as err:
        logs.start_query(logGroupNames=[f"/g{i}" for i in range(51)], startTime=0, endTime=10, queryString="fields @message")
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as err:
        logs.start_query(logGroupNames=["/nope"], startTime=0, endTime=10, queryString="fields @message")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    xray = served_demo.client("xray")
    with pytest.raises(ClientError) as err:
        xray.get_trace_summaries(StartTime=now - timedelta(hours=1), EndTime=now, FilterExpression="duration >>> 3")
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"
    with pytest.raises(ClientError):
        xray.get_trace_summaries(StartTime=now - timedelta(hours=7), EndTime=now)


def test_client_data_shows_up_like_seeded_data(served_demo):
    cw = served_demo.client("cloudwatch")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    cw.put_metric_data(Namespace="Team/Checkout", MetricData=[
        {"MetricName": "Latency", "Value": v, "Timestamp": now - timedelta(seconds=30)} for v in (10.0, 20.0, 30.0, 40.0)])
    r = cw.get_metric_data(MetricDataQueries=[{"Id": "p", "MetricStat": {"Metric": {"Namespace": "Team/Checkout",
                           "MetricName": "Latency"}, "Period": 300, "Stat": "p50"}}],
                           StartTime=now - timedelta(minutes=10), EndTime=now + timedelta(minutes=5))
    assert r["MetricDataResults"][0]["Values"] == [25.0]
    logs = served_demo.client("logs")
    logs.create_log_group(logGroupName="/team/app")
    logs.create_log_stream(logGroupName="/team/app", logStreamName="s")
    t = int(now.timestamp() * 1000)
    logs.put_log_events(logGroupName="/team/app", logStreamName="s", logEvents=[
        {"timestamp": t, "message": "REPORT RequestId: 11111111-2222-4333-a444-555555555555\tDuration: 12.50 ms\t"
                                    "Billed Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 99.00 ms"}])
    r, _ = _insights(logs, ["/team/app"], now - timedelta(minutes=5), now + timedelta(minutes=5),
                     'filter @type = "REPORT" | stats count(@initDuration) as cold, max(@duration) as d')
    row = {c["field"]: c["value"] for c in r["results"][0]}
    assert row == {"cold": "1", "d": "12.5"}
    ev = logs.filter_log_events(logGroupName="/team/app", filterPattern='"Init Duration"')["events"]
    assert len(ev) == 1
