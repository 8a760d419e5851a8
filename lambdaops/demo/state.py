"""Everything the demo account knows beyond moto's backends: traffic, metrics, logs, traces, queues.

Built once after the resources are seeded. Live activity (Invoke, PutMetricData, PutLogEvents) is
added through the same structures, so it shows up in every filled API like seeded data.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lambdaops.demo.fleet import FunctionSpec
from lambdaops.demo.metric_store import MetricStore
from lambdaops.demo.traffic import MINUTE_MS, FunctionTraffic, generate_fleet

LAMBDA_NS = "AWS/Lambda"
SQS_NS = "AWS/SQS"


@dataclass
class QueueTruth:
    region: str
    name: str
    url: str
    kind: str  # function-dlq | on-failure | source-dlq | stream-on-failure | source | sns-dlq
    dlq_messages: int = 0  # every message in the queue: visible + in flight + delayed
    in_flight: int = 0  # of which a consumer holds (ApproximateNumberOfMessagesNotVisible)
    delayed: int = 0  # of which not deliverable yet (ApproximateNumberOfMessagesDelayed)

    @property
    def visible(self) -> int:
        return self.dlq_messages - self.in_flight - self.delayed


@dataclass
class DemoState:
    seed: int
    start_ms: int
    end_ms: int
    traffic: dict[tuple[str, str], FunctionTraffic]
    metrics: MetricStore = field(default_factory=MetricStore)
    queues: dict[tuple[str, str], QueueTruth] = field(default_factory=dict)  # (region, name)
    extra_logs: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)  # (region, group)
    lock: threading.Lock = field(default_factory=threading.Lock)
    logs: Any = None  # LogStore, attached by fillers
    traces: Any = None  # TraceStore, attached by fillers

    # -- lookups ---------------------------------------------------------------------------------
    def function(self, region: str, name: str) -> FunctionTraffic | None:
        return self.traffic.get((region, name))

    def functions_in(self, region: str) -> list[FunctionTraffic]:
        return [t for (r, _), t in self.traffic.items() if r == region]

    def function_by_log_group(self, region: str, group: str) -> FunctionTraffic | None:
        """A function logging to ``group`` (a shared group has several: see log_lines.functions_logging_to).
        A function that never ran has no group yet: Lambda creates it on the first invocation."""
        for (r, _), t in self.traffic.items():
            if r == region and t.spec.log_group_name == group and (t.spec.has_log_group or t.records().n > 0):
                return t
        return None

    # -- live activity -----------------------------------------------------------------------------
    def record_invocation(self, region: str, name: str, *, ts_ms: int, duration_ms: float, billed_ms: int,
                          init_ms: float | None, max_mem_mb: int, status: int, memory_mb: int,
                          request_id_bits: tuple[int, int], version: int = 0,
                          iterator_age_ms: float | None = None) -> None:
        """An invocation that happened now (Invoke): into the records (logs, traces derive from them)
        and into the metrics, like AWS would count it."""
        traffic = self.traffic.get((region, name))
        if traffic is None:
            return  # a function created by a client after seeding: counted in metrics only
        traffic.append(ts_ms=ts_ms, duration_ms=duration_ms, billed_ms=billed_ms,
                       init_ms=np.nan if init_ms is None else init_ms, max_mem_mb=max_mem_mb, status=status,
                       concurrency=1, iterator_age_ms=np.nan if iterator_age_ms is None else iterator_age_ms,
                       rid=request_id_bits, memory_mb=memory_mb, version=version)
        dims = {"FunctionName": name}
        one = np.array([ts_ms], dtype=np.int64)
        self.metrics.add_samples(region, LAMBDA_NS, "Invocations", dims, one, np.ones(1), "Count")
        self.metrics.add_samples(region, LAMBDA_NS, "Duration", dims, one, np.array([duration_ms]), "Milliseconds")
        self.metrics.add_samples(region, LAMBDA_NS, "ConcurrentExecutions", dims, one, np.ones(1), "Count")
        if status:
            self.metrics.add_samples(region, LAMBDA_NS, "Errors", dims, one, np.ones(1), "Count")

    def add_log_events(self, region: str, group: str, stream: str, events: list[dict]) -> None:
        """PutLogEvents from any client (after moto accepted them)."""
        with self.lock:
            bucket = self.extra_logs.setdefault((region, group), [])
            for ev in events:
                bucket.append({"@timestamp": int(ev["timestamp"]), "@message": ev["message"], "@logStream": stream})


def _per_minute_max(ts: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if ts.size == 0:
        return ts, values
    minute = ts // MINUTE_MS
    starts = np.flatnonzero(np.r_[True, minute[1:] != minute[:-1]])
    return minute[starts] * MINUTE_MS, np.maximum.reduceat(values, starts).astype(np.float64)


def publish_function_metrics(store: MetricStore, spec: FunctionSpec, traffic: FunctionTraffic) -> None:
    """AWS/Lambda metrics as Lambda emits them, from the records: one sample per invocation."""
    rec = traffic.records()
    dims = {"FunctionName": spec.name}
    r = spec.region
    ones = np.ones(rec.n)
    store.add_samples(r, LAMBDA_NS, "Invocations", dims, rec.ts_ms, ones, "Count")
    failed = rec.status != 0
    store.add_samples(r, LAMBDA_NS, "Errors", dims, rec.ts_ms[failed], ones[failed], "Count")
    store.add_samples(r, LAMBDA_NS, "Duration", dims, rec.ts_ms, rec.duration_ms, "Milliseconds")
    if rec.throttle_ts_ms.size:
        store.add_samples(r, LAMBDA_NS, "Throttles", dims, rec.throttle_ts_ms, np.ones(rec.throttle_ts_ms.size), "Count")
    mts, mconc = _per_minute_max(rec.ts_ms, rec.concurrency)
    store.add_samples(r, LAMBDA_NS, "ConcurrentExecutions", dims, mts, mconc, "Count")
    if spec.traffic == "stream":
        store.add_samples(r, LAMBDA_NS, "IteratorAge", dims, rec.ts_ms, rec.iterator_age_ms, "Milliseconds")
    if spec.is_async:
        # AsyncEventsReceived counts the events Lambda enqueued for asynchronous processing, one per
        # async invoke (AWS Compute Blog, "Introducing new asynchronous invocation metrics for AWS
        # Lambda", Feb 2023); the product reads async destinations only where it is above 0.
        store.add_samples(r, LAMBDA_NS, "AsyncEventsReceived", dims, rec.ts_ms, ones, "Count")


def publish_queue_metrics(store: MetricStore, queue: QueueTruth, arrivals_ms: np.ndarray, end_ms: int) -> None:
    """AWS/SQS depth and oldest-message age per minute for a DLQ filled at ``arrivals_ms``."""
    if arrivals_ms.size == 0:
        return
    arrivals_ms = np.sort(arrivals_ms)
    first = (arrivals_ms[0] // MINUTE_MS) * MINUTE_MS
    minutes = np.arange(first, end_ms, MINUTE_MS, dtype=np.int64)
    depth = np.searchsorted(arrivals_ms, minutes + MINUTE_MS - 1, side="right").astype(np.float64)
    age_s = np.maximum(0, (minutes + MINUTE_MS - arrivals_ms[0]) // 1000).astype(np.float64)
    dims = {"QueueName": queue.name}
    store.add_samples(queue.region, SQS_NS, "ApproximateNumberOfMessagesVisible", dims, minutes, depth, "Count")
    store.add_samples(queue.region, SQS_NS, "ApproximateAgeOfOldestMessage", dims, minutes, age_s, "Seconds")


def build_state(fleet: list[FunctionSpec], seed: int, start_ms: int, end_ms: int) -> DemoState:
    return state_from_traffic(fleet, seed, start_ms, end_ms, generate_fleet(fleet, seed, start_ms, end_ms))


def state_from_traffic(fleet: list[FunctionSpec], seed: int, start_ms: int, end_ms: int,
                       traffic: dict[tuple[str, str], FunctionTraffic]) -> DemoState:
    """The account's state from its records, generated now or loaded by demo_cache (the metrics are
    rebuilt from them: a tenth of a second)."""
    state = DemoState(seed=seed, start_ms=start_ms, end_ms=end_ms, traffic=traffic)
    for spec in fleet:
        publish_function_metrics(state.metrics, spec, traffic[(spec.region, spec.name)])
    return state
