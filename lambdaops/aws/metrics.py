"""CloudWatch GetMetricData, packed: up to 500 queries a call, pages followed, regions in parallel.

Equivalent: ``aws cloudwatch get-metric-data --metric-data-queries file://q.json --start-time ..``.
Every MetricStat is billed, so callers ask only for what they show; empty periods come back as no
datapoint, which callers read as 0 for counts (Lambda emits only non-zero datapoints).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterable

from botocore import exceptions as bx

from lambdaops.aws.context import AwsContext
from lambdaops.aws.errors import is_throttle, translate

MAX_QUERIES_PER_CALL = 500
RETENTION = ((timedelta(days=15), 60), (timedelta(days=63), 300), (timedelta(days=455), 3600))


@dataclass(frozen=True)
class MetricQuery:
    """One MetricStat. ``key`` is the caller's handle (e.g. (function, figure))."""

    key: tuple
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str
    period: int


@dataclass
class MetricResult:
    timestamps: list[datetime] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    complete: bool = True

    def total(self) -> float:
        return float(sum(self.values))

    def maximum(self) -> float | None:
        return max(self.values) if self.values else None

    def at(self, ts: datetime) -> float | None:
        for t, v in zip(self.timestamps, self.values):
            if t == ts:
                return v
        return None


@dataclass
class MetricBatchOutcome:
    results: dict[tuple, MetricResult]
    failed: dict[tuple, str]  # key -> why (shown as missing, never as zero)
    calls: int


def minimum_period(start: datetime, now: datetime | None = None) -> int:
    """The smallest period CloudWatch still has data for at ``start`` (GetMetricData, Amazon CloudWatch API Reference: 60 s data kept 15 days, 300 s 63 days, 3600 s 455 days)."""
    now = now or datetime.now(timezone.utc)
    age = now - start
    for limit, period in RETENTION:
        if age <= limit:
            return period
    raise ValueError(f"{start.isoformat()} is beyond CloudWatch's 455-day retention")


def fit_period(seconds: float, minimum: int = 60) -> int:
    """Round a span up to a valid period: a multiple of ``minimum`` (60, 300 or 3600)."""
    return max(minimum, int(-(-int(seconds) // minimum) * minimum))


def align_start(start: datetime, minimum: int) -> datetime:
    """CloudWatch rounds StartTime down (minute, 5 minutes, hour by age): do it first so our
    period boundaries are the ones it uses."""
    epoch = int(start.timestamp())
    return datetime.fromtimestamp(epoch - epoch % minimum, tz=timezone.utc)


def _query_dict(qid: str, q: MetricQuery) -> dict:
    return {"Id": qid, "ReturnData": True, "MetricStat": {
        "Metric": {"Namespace": q.namespace, "MetricName": q.metric,
                   "Dimensions": [{"Name": k, "Value": v} for k, v in q.dimensions]},
        "Period": q.period, "Stat": q.stat}}


def _chunks(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def get_metric_data(ctx: AwsContext, region: str, queries: list[MetricQuery], start: datetime, end: datetime,
                    *, max_retries: int = 5) -> MetricBatchOutcome:
    """Run ``queries`` in ceil(len/500) calls (plus pages). Throttling is retried with backoff on top
    of botocore's own retries; a batch that still fails marks its figures as failed."""
    cli = ctx.client("cloudwatch", region)
    results: dict[tuple, MetricResult] = {}
    failed: dict[tuple, str] = {}
    calls = 0
    for chunk in _chunks(queries, MAX_QUERIES_PER_CALL):
        ids = {f"q{i}": q for i, q in enumerate(chunk)}
        request = {"MetricDataQueries": [_query_dict(qid, q) for qid, q in ids.items()],
                   "StartTime": start, "EndTime": end, "ScanBy": "TimestampAscending"}
        token = None
        attempt = 0
        while True:
            params = dict(request)
            if token:
                params["NextToken"] = token
            try:
                calls += 1
                page = cli.get_metric_data(**params)
            except bx.ClientError as exc:
                if is_throttle(exc) and attempt < max_retries:
                    attempt += 1
                    time.sleep(min(8.0, 0.5 * 2 ** attempt))
                    continue
                why = translate(exc, profile=ctx.profile, region=region).one_line()
                for q in ids.values():
                    failed.setdefault(q.key, why)
                break
            for r in page.get("MetricDataResults", []):
                q = ids.get(r["Id"])
                if q is None:
                    continue
                res = results.setdefault(q.key, MetricResult())
                res.timestamps.extend(r.get("Timestamps", []))
                res.values.extend(float(v) for v in r.get("Values", []))
                if r.get("StatusCode") == "InternalError":
                    res.complete = False
            token = page.get("NextToken")
            if not token:
                break
    for q in queries:
        if q.key not in failed:
            results.setdefault(q.key, MetricResult())
    return MetricBatchOutcome(results, failed, calls)
