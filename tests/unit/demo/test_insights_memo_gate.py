"""A one-shot demo account (insights_memo=False, the CLI's) runs Insights over plain event frames; a
long-lived one (the default: demo serve, the TUI's child) over the per-group memo."""

from __future__ import annotations

from types import SimpleNamespace

import boto3
import pandas as pd
from moto import mock_aws

from lambdaops.demo.insights_memo import EventsMemo
from lambdaops.demo.log_lines import COLUMNS
from lambdaops.demo.logs_api import LogsService


@mock_aws
def test_the_account_chooses_memo_or_plain_frames(monkeypatch):
    boto3.client("logs", region_name="us-east-1", aws_access_key_id="demo",
                 aws_secret_access_key="demo").create_log_group(logGroupName="/aws/lambda/x")
    used = []
    for memo in (True, False):
        svc = LogsService(SimpleNamespace(insights_memo=memo, state=None))
        monkeypatch.setattr(svc, "events", lambda *a: used.append("memo") or EventsMemo([]))
        monkeypatch.setattr(svc, "frame", lambda *a: used.append("frame") or pd.DataFrame(columns=COLUMNS))
        body = {"logGroupNames": ["/aws/lambda/x"], "queryString": "stats count(*) as n", "startTime": 0,
                "endTime": 10}
        qid = svc.start_query(SimpleNamespace(region="us-east-1", json=lambda: body))["queryId"]
        svc._pool.shutdown(wait=True)
        assert svc._queries[qid].status == "Complete", svc._queries[qid].error
    assert used == ["memo", "frame"]
