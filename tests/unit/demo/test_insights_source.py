"""The demo's SOURCE logGroups(...) (insights_source; AWS: "SOURCE - Amazon CloudWatch Logs"): name
prefixes select the region's Standard groups, StartQuery names none, and AWS's limits are errors."""

from __future__ import annotations

from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from lambdaops.demo import insights_source
from lambdaops.demo.api_errors import DemoApiError
from lambdaops.demo.insights_memo import EventsMemo
from lambdaops.demo.insights_source import Source, select_groups, split_source
from lambdaops.demo.logs_api import LogsService


def test_split_source_reads_prefixes_and_class_and_keeps_the_rest():
    src, rest = split_source("SOURCE logGroups(namePrefix: ['/aws/lambda/', \"/app/x\"])\n| stats count(*) as n")
    assert src == Source(("/aws/lambda/", "/app/x"), ("STANDARD",)) and rest == "stats count(*) as n"
    src, rest = split_source("source logGroups(class: ['INFREQUENT_ACCESS'], namePrefix: ['a']) | fields @message")
    assert src.classes == ("INFREQUENT_ACCESS",) and src.prefixes == ("a",) and rest == "fields @message"
    assert split_source("SOURCE logGroups() | fields @message")[0] == Source()
    assert split_source("fields @message") == (None, "fields @message")
    # not logGroups(...): left to the query parser, which names SOURCE as unsupported
    assert split_source("SOURCE '/aws/lambda/x' | fields @message")[0] is None


@pytest.mark.parametrize("qs, code, words", [
    ("SOURCE logGroups(namePrefix: ['a','b','c','d','e','f']) | fields @message", "InvalidParameterException",
     "as many as 5 prefixes"),
    ("SOURCE logGroups(accountIdentifiers: ['111122223333']) | fields @message", "InvalidParameterException",
     "monitoring account"),
    ("SOURCE logGroups(class: ['COLD']) | fields @message", "InvalidParameterException", "class"),
    ("SOURCE logGroups(namePrefix: ['a']) fields @message", "MalformedQueryException", "'|'"),
    ("SOURCE logGroups(namePrefix: ['a'])", "MalformedQueryException", "needs a query"),
    ("SOURCE logGroups(namePrefix: [a]) | fields @message", "MalformedQueryException", "quoted"),
    ("SOURCE logGroups(name: ['a']) | fields @message", "MalformedQueryException", "unknown keyword"),
])
def test_split_source_rejects_what_aws_rejects(qs, code, words):
    with pytest.raises(DemoApiError) as err:
        split_source(qs)
    assert err.value.code == code and words in err.value.message


def test_select_groups_by_prefix_and_class_and_the_10000_limit(monkeypatch):
    groups = [("/aws/lambda/a", "STANDARD"), ("/aws/lambda/b", "INFREQUENT_ACCESS"), ("/app/c", "STANDARD")]
    assert select_groups(Source(("/aws/lambda/",)), groups) == ["/aws/lambda/a"]
    assert select_groups(Source(), groups) == ["/app/c", "/aws/lambda/a"]
    assert select_groups(Source((), ("INFREQUENT_ACCESS",)), groups) == ["/aws/lambda/b"]
    monkeypatch.setattr(insights_source, "MAX_SOURCE_GROUPS", 1)
    with pytest.raises(DemoApiError, match="more than 1 log groups"):
        select_groups(Source(), groups)


def _start(svc, body):
    return svc.start_query(SimpleNamespace(region="us-east-1", json=lambda: body))


@mock_aws
def test_start_query_with_source_reads_every_group_under_the_prefix_and_names_none(monkeypatch):
    logs = boto3.client("logs", region_name="us-east-1", aws_access_key_id="demo", aws_secret_access_key="demo")
    for g in ["/aws/lambda/x", "/aws/lambda/y", "/other/z"] + [f"/aws/lambda/f{i}" for i in range(60)]:
        logs.create_log_group(logGroupName=g)
    svc = LogsService(SimpleNamespace(insights_memo=True, state=None))
    read = []
    monkeypatch.setattr(svc, "events", lambda region, groups, *a: read.append(groups) or EventsMemo([]))
    qs = "SOURCE logGroups(namePrefix: ['/aws/lambda/']) | stats count(*) as n"
    qid = _start(svc, {"queryString": qs, "startTime": 0, "endTime": 10})["queryId"]
    svc._pool.shutdown(wait=True)
    assert svc._queries[qid].status == "Complete", svc._queries[qid].error
    assert len(read[0]) == 62 and "/other/z" not in read[0]  # more than 50: SOURCE is not held to the list's limit
    with pytest.raises(DemoApiError, match="cannot also specify"):
        _start(svc, {"queryString": qs, "logGroupNames": ["/aws/lambda/x"], "startTime": 0, "endTime": 10})
    with pytest.raises(DemoApiError, match="at least one log group"):
        _start(svc, {"queryString": "stats count(*) as n", "startTime": 0, "endTime": 10})
