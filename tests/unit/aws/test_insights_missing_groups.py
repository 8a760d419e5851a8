"""InsightsRunner against a log service that behaves like StartQuery on AWS: any missing group fails
the whole request with ResourceNotFoundException. A missing group costs only its own figures, and
the runner pays as few calls as it can to find out."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from botocore.exceptions import ClientError

from lambdaops.aws.insights import InsightsRunner


class FakeLogs:
    def __init__(self, existing: set[str], *, names_the_group: bool = True) -> None:
        self.existing = existing
        self.names_the_group = names_the_group
        self.calls: list[str] = []
        self._queries: dict[str, list[str]] = {}

    def start_query(self, *, logGroupNames, **_):
        self.calls.append("StartQuery")
        gone = [g for g in logGroupNames if g not in self.existing]
        if gone:
            msg = f"Log group '{gone[0]}' does not exist" if self.names_the_group else "The specified log group does not exist."
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": msg}}, "StartQuery")
        qid = f"q{len(self._queries)}"
        self._queries[qid] = list(logGroupNames)
        return {"queryId": qid}

    def get_query_results(self, *, queryId):
        self.calls.append("GetQueryResults")
        rows = [[{"field": "@log", "value": f"1:{g}"}, {"field": "n", "value": "1"}] for g in self._queries[queryId]]
        return {"status": "Complete", "results": rows, "statistics": {}}

    def describe_log_groups(self, **params):
        self.calls.append("DescribeLogGroups")
        names = sorted(g for g in self.existing if g.startswith(params.get("logGroupNamePrefix", "")))
        return {"logGroups": [{"logGroupName": g} for g in names]}


class FakeCtx:
    profile = None

    def __init__(self, logs: FakeLogs) -> None:
        self.logs = logs

    def client(self, service, region):
        return self.logs


GROUPS = [f"/aws/lambda/fn-{i:02d}" for i in range(10)]
END = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)


def run(logs: FakeLogs, runner: InsightsRunner | None = None):
    runner = runner or InsightsRunner(FakeCtx(logs), poll_s=0.001)
    return runner, runner.run("us-east-1", "fields @log", GROUPS, END - timedelta(hours=1), END)


def test_a_named_missing_group_is_dropped_and_the_batch_retried():
    logs = FakeLogs(set(GROUPS) - {GROUPS[3]})
    runner, out = run(logs)
    assert sorted(r["@log"].split(":")[1] for r in out.rows) == sorted(set(GROUPS) - {GROUPS[3]})
    assert list(out.missing_groups) == [GROUPS[3]] and not out.failed_groups
    assert logs.calls.count("StartQuery") == 2 and "DescribeLogGroups" not in logs.calls
    # a second window does not pay again for what is known
    logs.calls.clear()
    _, again = run(logs, runner)
    assert list(again.missing_groups) == [GROUPS[3]] and logs.calls.count("StartQuery") == 1


def test_many_missing_groups_are_found_with_one_listing():
    logs = FakeLogs(set(GROUPS[:4]))
    _, out = run(logs)
    assert sorted(out.missing_groups) == GROUPS[4:] and not out.failed_groups
    assert len(out.rows) == 4
    # two dropped by name, then one listing finds the other four
    assert logs.calls.count("StartQuery") == 4 and logs.calls.count("DescribeLogGroups") == 1


def test_a_message_without_the_name_falls_back_to_the_listing():
    logs = FakeLogs(set(GROUPS) - {GROUPS[0]}, names_the_group=False)
    _, out = run(logs)
    assert list(out.missing_groups) == [GROUPS[0]] and len(out.rows) == 9
    assert logs.calls.count("StartQuery") == 2 and logs.calls.count("DescribeLogGroups") == 1
