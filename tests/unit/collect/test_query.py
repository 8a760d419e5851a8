"""Logs Insights through ``lambdaops.collect.query``: the window's exclusive end becomes StartQuery's
inclusive endTime one second earlier, for the report, ``lambdaops query`` and the TUI alike."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from typer.testing import CliRunner

from lambdaops.aws.insights import InsightsOutcome
from lambdaops.models import FunctionInfo, Inventory
from lambdaops.collect import fleet, log_figures, query
from lambdaops.collect.meter import Meter
from lambdaops.errors import ErrorTally
from lambdaops.window import Window

START = datetime(2026, 11, 22, 6, tzinfo=timezone.utc)
END = datetime(2026, 11, 22, 9, tzinfo=timezone.utc)


class RecordingRunner:
    """Stands in for InsightsRunner: records each run's time range, answers with a canned outcome."""

    calls: list[tuple] = []

    def __init__(self, ctx=None, *, concurrency: int = 10, outcome: InsightsOutcome | None = None) -> None:
        self.outcome = outcome

    def run(self, region, text, groups, start, end, *, limit=10000, source=None):
        RecordingRunner.calls.append((region, tuple(groups), start, end, limit))
        return self.outcome or InsightsOutcome(
            rows=[{"@log": f"123456789012:{groups[0]}", "invocations": "3"}], bytes_scanned=2048.0,
            missing_groups={g: "does not exist" for g in groups if "ghost" in g})


def _fn(name: str, region: str = "us-east-1") -> FunctionInfo:
    return FunctionInfo(name=name, region=region, arn=f"arn:aws:lambda:{region}:123456789012:function:{name}",
                        runtime="python3.12", architecture="x86_64", memory_mb=128, timeout_s=3,
                        last_modified=None, log_group=f"/aws/lambda/{name}")


def test_query_functions_stops_one_second_before_the_end(monkeypatch):
    monkeypatch.setattr(query, "InsightsRunner", RecordingRunner)
    RecordingRunner.calls = []
    meter = Meter()
    run = query.query_functions(None, [_fn("a"), _fn("ghost", "eu-west-1")], "stats count()", Window(START, END),
                                meter=meter)
    assert [(c[0], c[2], c[3]) for c in RecordingRunner.calls] == [
        ("eu-west-1", START, END - timedelta(seconds=1)), ("us-east-1", START, END - timedelta(seconds=1))]
    assert {r["region"]: r["@log"] for r in run.rows} == {"eu-west-1": "/aws/lambda/ghost", "us-east-1": "/aws/lambda/a"}
    assert not run.complete and run.problems() == [
        "eu-west-1: log group /aws/lambda/ghost does not exist (a function that never ran has none)"]
    assert meter.read() == (0, 4096.0)


def test_the_report_uses_the_same_range_and_counts_the_bytes():
    RecordingRunner.calls = []
    meter = Meter()
    log_figures.insights_figures(RecordingRunner(), "us-east-1", ["/aws/lambda/a"], Window(START, END), ErrorTally(),
                            set(), meter)
    assert RecordingRunner.calls[0][2:4] == (START, END - timedelta(seconds=1))
    assert meter.read() == (0, 2048.0)


def test_lambdaops_query_uses_the_same_range(monkeypatch):
    """``lambdaops query`` passed the window's end as is: an event in the end second was counted
    again by the next window."""
    from lambdaops.cli.main import app

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setattr(query, "InsightsRunner", RecordingRunner)
    monkeypatch.setattr(fleet, "functions", lambda ctx, cache_dir=None: Inventory(
        functions=[_fn("a")], errors=[], api_calls={}, regions=["us-east-1"]))
    RecordingRunner.calls = []
    res = CliRunner().invoke(app, ["-o", "json", "query", "cold-starts", "--start", "2026-11-22T06:00:00Z",
                                   "--end", "2026-11-22T09:00:00Z", "--limit", "50"])
    assert res.exit_code == 0, res.output
    assert RecordingRunner.calls == [("us-east-1", ("/aws/lambda/a",), START, END - timedelta(seconds=1), 50)]
    assert json.loads(res.stdout) == [{"function": "a", "region": "us-east-1", "@log": "/aws/lambda/a", "invocations": 3}]
