"""X-Ray calls against a botocore Stubber: every page of GetTraceSummaries in windows of at most 6 hours,
and BatchGetTraces followed through NextToken and UnprocessedTraceIds (X-Ray API reference)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.stub import Stubber

from lambdaops.aws import xray

T0 = datetime(2026, 11, 30, 0, 0, tzinfo=timezone.utc)


class Ctx:
    profile = None

    def __init__(self, client):
        self._client = client

    def client(self, service, region, **kw):
        assert service == "xray"
        return self._client


@pytest.fixture
def stubbed():
    cli = boto3.client("xray", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(cli) as stub:
        yield cli, stub
        stub.assert_no_pending_responses()


def summary(trace_id, seconds=0.5):
    return {"Id": trace_id, "Duration": seconds, "ResponseTime": seconds, "HasFault": False, "HasError": False,
            "StartTime": T0}


def trace_doc(trace_id, cold, extra_segment=False):
    start = 1700000000.0
    subs = [{"name": "Invocation", "start_time": start + 0.2, "end_time": start + 0.5}]
    if cold:
        subs.insert(0, {"name": "Initialization", "start_time": start, "end_time": start + 0.2})
    segs = [{"Id": f"{trace_id}-f", "Document": json.dumps({
        "name": "fn", "origin": "AWS::Lambda::Function", "start_time": start, "end_time": start + 0.5,
        "subsegments": subs})}]
    if extra_segment:
        segs = [{"Id": f"{trace_id}-s", "Document": json.dumps({
            "name": "fn", "origin": "AWS::Lambda", "start_time": start, "end_time": start + 0.6})}]
    return {"Id": trace_id, "Duration": 0.5, "Segments": segs}


def test_summaries_follow_next_token_in_windows_of_at_most_six_hours(stubbed):
    cli, stub = stubbed
    end = T0 + timedelta(hours=13)
    expr = 'service("fn")'
    # window 1 (0-6 h) has two pages; window 2 (6-12 h) one; window 3 (12-13 h) one, repeating a trace
    stub.add_response("get_trace_summaries", {"TraceSummaries": [summary("1-a")], "NextToken": "p2"},
                      {"StartTime": T0, "EndTime": T0 + timedelta(hours=6), "FilterExpression": expr})
    stub.add_response("get_trace_summaries", {"TraceSummaries": [summary("1-b")]},
                      {"StartTime": T0, "EndTime": T0 + timedelta(hours=6), "FilterExpression": expr,
                       "NextToken": "p2"})
    stub.add_response("get_trace_summaries", {"TraceSummaries": [summary("1-c")]},
                      {"StartTime": T0 + timedelta(hours=6), "EndTime": T0 + timedelta(hours=12),
                       "FilterExpression": expr})
    stub.add_response("get_trace_summaries", {"TraceSummaries": [summary("1-c"), summary("1-d")]},
                      {"StartTime": T0 + timedelta(hours=12), "EndTime": end, "FilterExpression": expr})
    got = xray.summaries(Ctx(cli), "us-east-1", "fn", T0, end)
    assert [t.trace_id for t in got] == ["1-a", "1-b", "1-c", "1-d"]


def test_windows_never_exceed_six_hours():
    ws = xray.windows(T0, T0 + timedelta(hours=18, minutes=1))
    assert len(ws) == 4 and all(b - a <= timedelta(hours=6) for a, b in ws)
    assert ws[0][0] == T0 and ws[-1][1] == T0 + timedelta(hours=18, minutes=1)
    assert all(ws[i][1] == ws[i + 1][0] for i in range(len(ws) - 1))


def test_batch_get_traces_follows_next_token_and_retries_unprocessed_ids(stubbed):
    cli, stub = stubbed
    ids = ["1-a", "1-b", "1-c"]
    # page 1: a (cold); page 2: b's segments only; c unprocessed -> asked again, then answered
    stub.add_response("batch_get_traces", {"Traces": [trace_doc("1-a", cold=True)], "NextToken": "n2",
                                           "UnprocessedTraceIds": ["1-c"]}, {"TraceIds": ids})
    stub.add_response("batch_get_traces", {"Traces": [trace_doc("1-b", cold=False)]},
                      {"TraceIds": ids, "NextToken": "n2"})
    stub.add_response("batch_get_traces", {"Traces": [], "UnprocessedTraceIds": ["1-c"]}, {"TraceIds": ["1-c"]})
    stub.add_response("batch_get_traces", {"Traces": [trace_doc("1-c", cold=True)]}, {"TraceIds": ["1-c"]})
    traces = [xray.Trace(i, 0.0, 0.0, 0.0) for i in ids]
    pauses = []
    missing = xray.fill_documents(Ctx(cli), "us-east-1", traces, sleep=pauses.append)
    assert missing == []
    assert [t.cold_start for t in traces] == [True, False, True]
    assert traces[0].init_ms == pytest.approx(200.0, abs=0.01)
    assert len(pauses) == 2 and pauses[0] < pauses[1]


def test_ids_still_unprocessed_after_the_retries_stay_unknown(stubbed):
    cli, stub = stubbed
    stub.add_response("batch_get_traces", {"Traces": [trace_doc("1-a", cold=False)],
                                           "UnprocessedTraceIds": ["1-b"]}, {"TraceIds": ["1-a", "1-b"]})
    for _ in range(xray.UNPROCESSED_RETRIES):
        stub.add_response("batch_get_traces", {"Traces": [], "UnprocessedTraceIds": ["1-b"]}, {"TraceIds": ["1-b"]})
    traces = [xray.Trace("1-a", 0.0, 0.0, 0.0), xray.Trace("1-b", 0.0, 0.0, 0.0)]
    missing = xray.fill_documents(Ctx(cli), "us-east-1", traces, sleep=lambda s: None)
    assert missing == ["1-b"]
    assert traces[0].cold_start is False and traces[1].cold_start is None  # unknown, not "warm"


def test_segments_of_one_trace_split_over_pages_are_read_together(stubbed):
    cli, stub = stubbed
    stub.add_response("batch_get_traces", {"Traces": [trace_doc("1-a", cold=True, extra_segment=True)],
                                           "NextToken": "n2"}, {"TraceIds": ["1-a"]})
    stub.add_response("batch_get_traces", {"Traces": [trace_doc("1-a", cold=True)]},
                      {"TraceIds": ["1-a"], "NextToken": "n2"})
    t = xray.Trace("1-a", 0.0, 0.0, 0.0)
    xray.fill_documents(Ctx(cli), "us-east-1", [t], sleep=lambda s: None)
    assert t.cold_start is True and {s.kind for s in t.spans} >= {"service", "function", "Initialization"}
