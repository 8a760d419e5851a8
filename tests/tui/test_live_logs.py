"""Issue 16, live logs: the follower (StartLiveTail, else FilterLogEvents polling paced to 5 requests/s)
on fake clients, and ``lambdaops logs FUNCTION --follow`` against ``lambdaops demo serve``."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from botocore.exceptions import ClientError

from lambdaops.aws import live_logs
from lambdaops.aws.live_logs import FollowStatus, LogEvent, LogFollower
from lambdaops.log_view import COLD_MARK, is_cold_start, is_report, render
from tests.conftest import ROOT, demo_env


class FakeLogs:
    """FilterLogEvents over a growing list of events; StartLiveTail refused or streamed."""

    def __init__(self, live: list | None = None, refuse: str | None = "AccessDeniedException") -> None:
        self.events: list[dict] = []
        self.calls: list[float] = []
        self.live = live
        self.refuse = refuse

    def start_live_tail(self, **kw):
        if self.refuse:
            raise ClientError({"Error": {"Code": self.refuse, "Message": "no"}}, "StartLiveTail")
        return {"responseStream": iter(self.live or [])}

    def filter_log_events(self, **kw):
        self.calls.append(time.monotonic())
        found = [e for e in self.events if e["timestamp"] >= kw["startTime"]]
        return {"events": found}


class FakeCtx:
    endpoint_url = None

    def __init__(self, logs: FakeLogs) -> None:
        self.logs = logs

    def client(self, service, region):
        return self.logs

    def account_id(self, region=None):
        return f"acct-{id(self)}"  # its own rate budget per test


def event(ts, msg, n):
    return {"timestamp": ts, "message": msg, "logStreamName": "2026/12/01/[$LATEST]abc", "eventId": str(n)}


def test_refused_live_tail_falls_back_to_polling_without_repeating_events():
    logs = FakeLogs()
    logs.events = [event(1000, "START RequestId: a", 1), event(1010, "REPORT RequestId: a Duration: 5 ms", 2)]
    stop = threading.Event()
    follower = LogFollower(FakeCtx(logs), "us-east-1", "/aws/lambda/f", "arn", since_ms=0, stop=stop)
    out = []
    for item in follower:
        out.append(item)
        if len([i for i in out if isinstance(i, LogEvent)]) == 2 and len(logs.calls) == 1:
            logs.events.append(event(1020, "REPORT RequestId: b Init Duration: 300 ms", 3))
        if len([i for i in out if isinstance(i, LogEvent)]) == 3:
            stop.set()
    statuses = [i for i in out if isinstance(i, FollowStatus)]
    assert statuses[0].mode == "polling" and "AccessDeniedException" in statuses[0].text
    assert [e.message[:16] for e in out if isinstance(e, LogEvent)] == [
        "START RequestId:", "REPORT RequestId", "REPORT RequestId"]  # the first two once only
    assert follower.mode == "polling"


def test_live_tail_events_come_from_session_updates():
    stream = [{"sessionStart": {}},
              {"sessionUpdate": {"sessionResults": [
                  {"timestamp": 20, "message": "b", "logStreamName": "s"},
                  {"timestamp": 10, "message": "a", "logStreamName": "s"}]}},
              {"sessionUpdate": {"sessionResults": []}}]
    follower = LogFollower(FakeCtx(FakeLogs(live=stream, refuse=None)), "us-east-1", "g", "arn", since_ms=0)
    out = list(follower)
    assert [e.message for e in out if isinstance(e, LogEvent)] == ["a", "b"]
    assert out[0] == FollowStatus("live-tail", "StartLiveTail session")


def test_polling_is_paced_to_five_requests_a_second_per_account_and_region(monkeypatch):
    monkeypatch.setattr(live_logs, "POLL_EVERY_S", 0.0)  # poll as fast as the budget allows
    logs = FakeLogs()
    stop = threading.Event()
    ctx = FakeCtx(logs)
    followers = [LogFollower(ctx, "us-east-1", "g", "arn", since_ms=0, stop=stop, live_tail=False) for _ in range(2)]
    threads = [threading.Thread(target=lambda f=f: list(f)) for f in followers]
    for t in threads:
        t.start()
    time.sleep(2.0)
    stop.set()
    for t in threads:
        t.join(5)
    span = logs.calls[-1] - logs.calls[0]
    # two followers share one budget: about 5/s together, never 2 x 5/s
    assert len(logs.calls) <= 5 * span + 2, (len(logs.calls), span)
    assert len(logs.calls) >= 5


def test_report_lines_are_recognised_and_cold_starts_marked():
    text_cold = ("REPORT RequestId: x\tDuration: 5.1 ms\tBilled Duration: 6 ms\tMemory Size: 128 MB\t"
                 "Max Memory Used: 60 MB\tInit Duration: 312.4 ms")
    metrics = '"durationMs":5,"billedDurationMs":5,"memorySizeMB":128,"maxMemoryUsedMB":60'
    json_warm = '{"type":"platform.report","record":{"metrics":{%s}}}' % metrics
    json_cold = '{"type":"platform.report","record":{"metrics":{%s,"initDurationMs":300}}}' % metrics
    assert is_report(text_cold) and is_cold_start(text_cold)
    assert is_report(json_warm) and not is_cold_start(json_warm)
    assert is_cold_start(json_cold)
    assert not is_report("START RequestId: x")
    line = render(LogEvent(0, text_cold, "2026/12/01/[$LATEST]abcdef12"), color=True)
    assert line.plain.split(" ", 2)[2].startswith(f"{COLD_MARK} REPORT 5 ms, billed 6 ms, 60/128 MB, init 312 ms")
    assert any("bold" in str(span.style) for span in line.spans)
    markup = render(LogEvent(0, "[bold]not markup[/bold]", "s"), color=False)
    assert "[bold]not markup[/bold]" in markup.plain  # AWS text is never read as markup


@pytest.mark.e2e
def test_logs_follow_against_demo_serve_prints_new_report_lines(served_demo):
    # The demo refuses StartLiveTail as an account without it would (AccessDeniedException) ...
    with pytest.raises(ClientError) as err:
        import botocore.config

        import boto3

        boto3.client("logs", region_name="us-east-1", endpoint_url=served_demo.endpoint, aws_access_key_id="demo",
                     aws_secret_access_key="demo", config=botocore.config.Config(inject_host_prefix=False)
                     ).start_live_tail(logGroupIdentifiers=["arn:aws:logs:us-east-1:123456789012:log-group:x"])
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    # ... and `logs --follow` prints the REPORT lines of invocations made after it started.
    proc = subprocess.Popen([sys.executable, "-m", "lambdaops.cli.main", "--endpoint-url", served_demo.endpoint,
                             "logs", "checkout-api", "--follow", "--since", "1s"], cwd=ROOT,
                            env=demo_env(served_demo.endpoint), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        time.sleep(4)  # past lines printed, polling under way
        lam = served_demo.client("lambda")
        before = time.strftime("%H:%M:%S", time.gmtime(time.time() - 1))
        for _ in range(2):
            lam.invoke(FunctionName="checkout-api", Payload=b"{}")
        seen: list[str] = []
        reader = threading.Thread(target=lambda: seen.extend(iter(proc.stdout.readline, "")), daemon=True)
        reader.start()

        def new_reports() -> list[str]:
            # lines start with their UTC time: the REPORT lines of the two invocations above
            return [line for line in list(seen) if "report" in line.lower() and line[:8] >= before]

        deadline = time.time() + 20
        while time.time() < deadline and len(new_reports()) < 2:
            time.sleep(0.3)
    finally:
        proc.terminate()
        proc.wait(10)
    assert len(new_reports()) >= 2, seen[-5:]
    assert "polling FilterLogEvents" in proc.stderr.read()
