"""InsightsRunner.run_source: SOURCE logGroups(namePrefix: [...]) opens the query string, StartQuery
names no log groups, and a refusal is remembered for the region."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from lambdaops.aws.insights import InsightsRunner, source_query
from lambdaops.errors import ServiceError

END = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)


class FakeLogs:
    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.started: list[dict] = []

    def start_query(self, **params):
        self.started.append(params)
        if self.refuse:
            raise ClientError({"Error": {"Code": "InvalidParameterException",
                                         "Message": "more than 10,000 log groups"}}, "StartQuery")
        return {"queryId": "q"}

    def get_query_results(self, *, queryId):
        rows = [[{"field": "@log", "value": "1:/aws/lambda/a"}, {"field": "n", "value": "2"}]]
        return {"status": "Complete", "results": rows, "statistics": {"bytesScanned": 123.0, "recordsScanned": 4}}


class FakeCtx:
    profile = None

    def __init__(self, logs) -> None:
        self.logs = logs

    def client(self, service, region):
        return self.logs


def test_run_source_names_no_groups_and_counts_the_reported_bytes():
    logs = FakeLogs()
    out = InsightsRunner(FakeCtx(logs), poll_s=0.001).run_source("us-east-1", "stats count(*) as n by @log",
                                                                  ["/aws/lambda/"], END - timedelta(hours=1), END)
    (params,) = logs.started
    assert "logGroupNames" not in params and "logGroupIdentifiers" not in params
    assert params["queryString"] == "SOURCE logGroups(namePrefix: ['/aws/lambda/'])\n| stats count(*) as n by @log"
    assert out.rows == [{"@log": "1:/aws/lambda/a", "n": "2"}] and out.bytes_scanned == 123.0 and out.queries == 1


def test_a_refused_source_query_is_remembered_for_the_region():
    runner = InsightsRunner(FakeCtx(FakeLogs(refuse=True)), poll_s=0.001)
    with pytest.raises(ServiceError):
        runner.run_source("eu-west-1", "fields @log", ["/aws/lambda/"], END - timedelta(hours=1), END)
    assert "10,000" in runner.source_refused["eu-west-1"]
    with pytest.raises(ValueError):
        runner.run_source("eu-west-1", "fields @log", [f"/p{i}" for i in range(6)], END, END)


def test_source_query_quotes_prefixes():
    assert source_query("  fields @log", ["/a/", "it's"]) == "SOURCE logGroups(namePrefix: ['/a/', 'it\\'s'])\n| fields @log"
