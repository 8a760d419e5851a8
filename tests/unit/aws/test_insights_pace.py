"""InsightsRunner's pace: StartQuery and GetQueryResults stay under their 5 requests/s quota per region
however many queries run at once (a throttled call waited a second or more), and a query is polled
soon, then less and less often."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

from lambdaops.aws.insights import QUERY_RPS, InsightsRunner

END = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)


class TimedLogs:
    """Every call's time; a query is Complete on its ``polls_needed``-th GetQueryResults."""

    def __init__(self, polls_needed: int = 1) -> None:
        self.polls_needed = polls_needed
        self.times: dict[str, list[float]] = {"StartQuery": [], "GetQueryResults": []}
        self.polled: dict[str, int] = {}
        self._lock = threading.Lock()

    def start_query(self, **_):
        with self._lock:
            self.times["StartQuery"].append(time.monotonic())
            qid = f"q{len(self.times['StartQuery'])}"
            self.polled[qid] = 0
        return {"queryId": qid}

    def get_query_results(self, *, queryId):
        with self._lock:
            self.times["GetQueryResults"].append(time.monotonic())
            self.polled[queryId] += 1
            done = self.polled[queryId] >= self.polls_needed
        return {"status": "Complete" if done else "Running", "results": [], "statistics": {}}


class Ctx:
    profile = None

    def __init__(self, logs, endpoint: str) -> None:
        self.logs, self.endpoint_url = logs, endpoint

    def client(self, service, region):
        return self.logs


def throttled(times: list[float], rate: float = QUERY_RPS) -> int:
    """How many of these calls a token bucket of ``rate`` tokens, refilled at ``rate`` a second and
    full at first (the quota's model, as the demo's ``--quotas aws`` enforces it), would refuse."""
    tokens, last, refused = rate, None, 0
    for t in sorted(times):
        tokens = tokens if last is None else min(rate, tokens + (t - last) * rate)
        last = t
        if tokens >= 1:
            tokens -= 1
        else:
            refused += 1
    return refused


def test_many_queries_at_once_stay_under_the_quota(request):
    logs = TimedLogs()
    runner = InsightsRunner(Ctx(logs, f"http://{request.node.name}"), concurrency=10)
    groups = [f"/aws/lambda/fn-{i:03d}" for i in range(400)]  # 8 queries of 50, all started at once
    out = runner.run("us-east-1", "fields @log", groups, END - timedelta(hours=1), END)
    assert out.queries == 8 and not out.failed_groups
    for op, times in logs.times.items():
        assert len(times) == 8 and throttled(times) == 0, op
        assert throttled(times, rate=2.0) > 0  # the check can fail: at 2/s these would have been


def test_polls_start_soon_and_grow(request):
    logs = TimedLogs(polls_needed=4)
    runner = InsightsRunner(Ctx(logs, f"http://{request.node.name}"))
    t0 = time.monotonic()
    runner.run("us-east-1", "fields @log", ["/aws/lambda/a"], END - timedelta(hours=1), END)
    at = [t - t0 for t in logs.times["GetQueryResults"]]
    gaps = [b - a for a, b in zip(at, at[1:])]
    assert len(at) == 4 and at[0] < 0.5  # 0.1 s, then 0.15, 0.225, 0.34 later
    assert all(1.3 * a < b < 1.8 * a for a, b in zip(gaps, gaps[1:])), gaps  # POLL_GROWTH
