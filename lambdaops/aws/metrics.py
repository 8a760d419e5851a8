"""CloudWatch GetMetricData, packed: up to 500 queries a call, pages followed, regions in parallel.

Equivalent: ``aws cloudwatch get-metric-data --metric-data-queries file://q.json --start-time ..``.
Every MetricStat is billed, so callers ask only for what they show; empty periods come back as no
datapoint, which callers read as 0 for counts (Lambda emits only non-zero datapoints). Choosing and
aligning periods is ``lambdaops.window``'s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from botocore import exceptions as bx

from lambdaops.aws.context import AwsContext
from lambdaops.aws.errors import is_throttle, translate

LAMBDA_NAMESPACE = "AWS/Lambda"  # the namespace of Lambda's own metrics
MAX_QUERIES_PER_CALL = 500


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
