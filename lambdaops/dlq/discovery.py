"""Where a Lambda fleet's failed events land, and how many wait there: the ONE discovery behind the
report's ``dlq_depth``, ``lambdaops dlq list`` and the TUI's DLQ screen (they showed different
numbers when each had its own).

Failure targets (AWS Lambda Developer Guide: "Dead-letter queues", "Adding a destination", and the
event source mappings' on-failure destinations), from the inventory's bulk answers:

1. function ``DeadLetterConfig.TargetArn``: an SQS queue, or an SNS topic. A topic keeps nothing: its
   messages can only be counted in the SQS queues subscribed to it (``ListSubscriptionsByTopic``);
   a topic with no queue subscribed is listed with depth null ("messages are not retained");
2. async on-failure destinations (``GetFunctionEventInvokeConfig``): SQS, SNS (as above), or Lambda,
   EventBridge, S3, which are listed as destinations with depth null and the reason;
3. SQS event sources: the source queue's RedrivePolicy ``deadLetterTargetArn``;
4. stream (Kinesis, DynamoDB, Kafka) mappings' on-failure destinations (SQS, SNS, S3).

ARNs may be in any partition (``aws``, ``aws-cn``, ``aws-us-gov``); queue URLs are built from ARNs
on AWS's own endpoints (:func:`lambdaops.aws.dlq.known_queue_url`).

Depth is what is in the queue: ``ApproximateNumberOfMessages`` (visible) +
``ApproximateNumberOfMessagesNotVisible`` (in flight: a consumer, a browse or a redrive holds them) +
``ApproximateNumberOfMessagesDelayed`` (not deliverable yet), kept apart in :class:`DlqInfo`
("GetQueueAttributes", Amazon SQS API Reference).

Calls: one GetQueueAttributes per SQS event-source queue (its RedrivePolicy), one
ListSubscriptionsByTopic per SNS topic, one GetQueueAttributes per target queue; ``dlq list`` adds
ListDeadLetterSourceQueues per queue (``sources=True``) and one GetMetricData per region for ages.
No per-function call beyond the inventory's.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from lambdaops.aws.context import AwsContext
from lambdaops.aws import dlq as _dlq
from lambdaops.aws.dlq import QueueRef, _ref_from_url, dead_letter_sources, known_queue_url, topic_sqs_subscriptions
from lambdaops.aws.inventory import _MISS, DetailsCache, InventoryOptions, fleet_inventory
from lambdaops.models import FunctionInfo, RegionError, arn_name
from lambdaops.aws.queues import arn_parts, arn_service
from lambdaops.errors import LambdaopsError, NotFoundError

KIND_ORDER = ("source-dlq", "function-dlq", "sns-dlq", "on-failure", "stream-on-failure")
DEPTH_ATTRIBUTES = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed", "FifoQueue"]
REDRIVE = "redrive_target"  # an SQS source queue's deadLetterTargetArn, in the details cache (None: none)
SUBSCRIBED = "sqs_subscribers"  # the SQS queues subscribed to an SNS topic, in the details cache
NOT_RETAINED = "SNS topic with no SQS queue subscribed: messages are not retained, nothing to count"


def _region(arn: str) -> str:
    parts = arn_parts(arn)
    return parts[2] if parts else ""


@dataclass
class DlqInfo:
    region: str
    name: str
    arn: str
    url: str | None
    kinds: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    visible: int | None = None
    in_flight: int | None = None
    delayed: int | None = None
    oldest_age_s: float | None = None
    fifo: bool = False
    note: str | None = None
    # False: an SQS source queue whose RedrivePolicy could not be read (another account's queue, a
    # denied GetQueueAttributes): its functions' DLQ is unknown, the row says why.
    resolved: bool = True

    @property
    def kind(self) -> str:
        return min(self.kinds, key=KIND_ORDER.index) if self.kinds else "unknown"

    @property
    def service(self) -> str:
        return arn_service(self.arn) or "?"

    @property
    def depth(self) -> int | None:
        """Every message in the queue: visible + in flight + delayed; None when it was not read."""
        if self.visible is None or self.in_flight is None or self.delayed is None:
            return None
        return self.visible + self.in_flight + self.delayed

    def add(self, kind: str, function: str | None = None, source: str | None = None) -> None:
        if kind not in self.kinds:
            self.kinds.append(kind)
        if function and function not in self.functions:
            self.functions.append(function)
        if source and source not in self.sources:
            self.sources.append(source)

    def merge(self, other: "DlqInfo") -> None:
        for mine, theirs in ((self.kinds, other.kinds), (self.functions, other.functions),
                             (self.sources, other.sources)):
            mine.extend(x for x in theirs if x not in mine)

    def ref(self) -> QueueRef | None:
        if not self.url:
            return None
        base = _ref_from_url(self.region, self.url)
        return QueueRef(base.region, base.account, base.name, base.url, self.arn)

    def to_row(self) -> dict[str, Any]:
        return {"name": self.name, "region": self.region, "queue_url": self.url, "queue_arn": self.arn,
                "service": self.service, "kind": self.kind, "kinds": sorted(self.kinds, key=KIND_ORDER.index),
                "functions": sorted(self.functions), "sources": sorted(self.sources),
                "depth": self.depth, "visible": self.visible, "in_flight": self.in_flight, "delayed": self.delayed,
                "oldest_age_s": self.oldest_age_s, "fifo": self.fifo, "note": self.note}


@dataclass
class DlqDiscovery:
    queues: list[DlqInfo]
    errors: list[RegionError]
    regions: list[str]
    api_calls: dict[str, int]
    # functions whose failure destinations could not be read (their DLQs may be missing from
    # ``queues``): the inventory's ErrorTally entries
    detail_errors: list[dict[str, Any]] = field(default_factory=list)


class _Targets:
    def __init__(self, kept: DetailsCache | None = None) -> None:
        self.by_arn: dict[str, DlqInfo] = {}
        self.topics: dict[str, list[str] | str] = {}  # topic ARN -> subscribed queue ARNs, or why unknown
        self.kept = kept  # settings read by a recent run (RedrivePolicy, a topic's queues), see region_dlqs

    def add(self, arn: str, kind: str, function: str | None = None, source: str | None = None) -> DlqInfo:
        info = self.by_arn.get(arn)
        if info is None:
            name = arn_name(arn) or arn
            info = self.by_arn[arn] = DlqInfo(_region(arn), name, arn, None, fifo=name.endswith(".fifo"))
        info.add(kind, function, source)
        return info


def _topic_queues(ctx: AwsContext, targets: _Targets, topic: str) -> list[str] | str:
    """The SQS queues subscribed to ``topic`` (once per topic), or why they could not be listed."""
    hit = targets.kept.get(topic, SUBSCRIBED) if targets.kept is not None else _MISS
    if topic not in targets.topics and isinstance(hit, list):
        targets.topics[topic] = hit
    if topic not in targets.topics:
        try:
            targets.topics[topic] = [q for q, _ in topic_sqs_subscriptions(ctx, _region(topic), topic, raw=False)]
            if targets.kept is not None:
                targets.kept.put(topic, SUBSCRIBED, targets.topics[topic])
        except LambdaopsError as exc:
            targets.topics[topic] = "its subscriptions could not be listed: " + exc.one_line()
    return targets.topics[topic]


def _describe_target(ctx: AwsContext, targets: _Targets, arn: str, kind: str, function: str,
                     source: str | None, sns_kind: str) -> None:
    """An SQS queue is a target itself; an SNS topic through the SQS queues subscribed to it; other
    destinations (EventBridge, Lambda, S3) are listed but hold nothing we can count."""
    service = arn_service(arn)
    if service == "sqs":
        targets.add(arn, kind, function, source)
    elif service == "sns":
        subs = _topic_queues(ctx, targets, arn)
        if isinstance(subs, list):
            for queue_arn in subs:
                targets.add(queue_arn, sns_kind, function, arn_name(arn))
        if not subs or isinstance(subs, str):
            info = targets.add(arn, sns_kind, function, source)
            info.note = NOT_RETAINED if not subs else f"SNS topic: {subs}"
    else:
        info = targets.add(arn, kind, function, source)
        what = {"events": "EventBridge event bus", "lambda": "Lambda function", "s3": "S3 bucket"}.get(
            service, f"{service or 'unknown'} destination")
        info.note = f"{what}: not a queue, its messages cannot be counted here"


def _region_targets(ctx: AwsContext, functions: Iterable[FunctionInfo], kept: DetailsCache | None = None
                    ) -> list[DlqInfo]:
    targets = _Targets(kept)
    sqs_sources: dict[str, list[str]] = {}
    for fn in functions:
        if fn.dead_letter_target:
            _describe_target(ctx, targets, fn.dead_letter_target, "function-dlq", fn.name, None, "sns-dlq")
        if fn.on_failure_destination:
            _describe_target(ctx, targets, fn.on_failure_destination, "on-failure", fn.name, None, "on-failure")
        for es in fn.event_sources:
            if es.kind == "sqs":
                sqs_sources.setdefault(es.source_arn, []).append(fn.name)
            if es.on_failure:
                _describe_target(ctx, targets, es.on_failure, "stream-on-failure", fn.name, es.name,
                                 "stream-on-failure")
    for src_arn, fns in sqs_sources.items():
        hit = kept.get(src_arn, REDRIVE) if kept is not None else _MISS
        if hit is not _MISS:  # read by a recent run: a RedrivePolicy is a setting like a destination
            for fn in fns if hit else ():
                targets.add(hit, "source-dlq", fn, arn_name(src_arn))
            continue
        try:
            src_url = known_queue_url(ctx, src_arn)
            if not src_url:
                continue
            attrs = ctx.call("sqs", _region(src_arn), "get_queue_attributes", QueueUrl=src_url,
                             AttributeNames=["RedrivePolicy"]).get("Attributes", {})
        except NotFoundError:
            continue  # a mapping whose queue is gone has no DLQ to list
        except LambdaopsError as exc:  # this source's DLQ is unknown; the others are not
            for fn in fns:
                info = targets.add(src_arn, "source-dlq", fn, arn_name(src_arn))
            info.resolved = False
            info.note = f"source queue: its RedrivePolicy could not be read, its DLQ is unknown ({exc.one_line()})"
            continue
        try:
            dlq_arn = json.loads(attrs.get("RedrivePolicy") or "{}").get("deadLetterTargetArn")
        except ValueError:
            dlq_arn = None
        if kept is not None:
            kept.put(src_arn, REDRIVE, dlq_arn)
        if dlq_arn:
            for fn in fns:
                targets.add(dlq_arn, "source-dlq", fn, arn_name(src_arn))
    return list(targets.by_arn.values())


def depth_from_attributes(attrs: dict[str, str]) -> tuple[int, int, int]:
    """(visible, in flight, delayed) from a GetQueueAttributes answer."""
    return (int(attrs.get("ApproximateNumberOfMessages", 0)), int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
            int(attrs.get("ApproximateNumberOfMessagesDelayed", 0)))


def _fill_depth(ctx: AwsContext, info: DlqInfo, sources: bool = True) -> None:
    """Depth (and, with ``sources``, the source queues SQS knows of) of one SQS target; a queue that is
    gone or cannot be read keeps depth None and says why."""
    if arn_service(info.arn) != "sqs" or not info.resolved:
        return
    attrs = None
    try:
        info.url = known_queue_url(ctx, info.arn)
        if info.url is not None:
            attrs = ctx.call("sqs", info.region, "get_queue_attributes", QueueUrl=info.url,
                             AttributeNames=DEPTH_ATTRIBUTES).get("Attributes", {})
    except NotFoundError:
        info.url = None
    except LambdaopsError as exc:  # access denied, throttled past retries: this queue only
        info.note = f"depth unknown: {exc.one_line()}"
        return
    if attrs is None:
        info.note = "the queue does not exist (a stale configuration?)"
        return
    info.visible, info.in_flight, info.delayed = depth_from_attributes(attrs)
    info.fifo = attrs.get("FifoQueue") == "true" or info.fifo
    if sources:
        try:
            for src_url in dead_letter_sources(ctx, info.ref()):
                info.add("source-dlq", None, src_url.rstrip("/").rsplit("/", 1)[-1])
        except LambdaopsError:
            pass  # the source list is a nicety next to the depth


def region_dlqs(ctx: AwsContext, region: str, functions: Iterable[FunctionInfo], *, sources: bool = True,
                workers: int = 8, kept: DetailsCache | None = None) -> list[DlqInfo]:
    """Every failure target of ``functions`` (all of one region) with its depth. With ``kept`` (the
    report's and the TUI's details cache) an SQS source queue's RedrivePolicy and an SNS topic's SQS
    subscriptions read within the cache's TTL are taken from it; the depths are always read
    (GetQueueAttributes: the queue as it is now)."""
    found = _region_targets(ctx, [f for f in functions if f.region == region], kept)
    if found:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"dlq-{region}") as pool:
            list(pool.map(lambda i: _fill_depth(ctx, i, sources), found))
    return found


@dataclass(frozen=True)
class FunctionDepth:
    """The messages waiting in one function's failure queues (None: not countable, ``note`` says why)."""

    depth: int | None
    in_flight: int | None
    delayed: int | None
    note: str | None = None
    unread: bool = False  # a queue could not be read: a gap, not "no queue to count"


def function_depths(queues: Iterable[DlqInfo], functions: Iterable[FunctionInfo]) -> dict[str, FunctionDepth]:
    """Per function name (one region's): the sum over its readable failure queues. A queue that could
    not be read makes the sum unknown; destinations that are not queues add nothing and are named in
    the note, and when they are all a function has, its depth is unknown. Functions without any
    failure target are absent."""
    queues = list(queues)
    out: dict[str, FunctionDepth] = {}
    for fn in functions:
        mine = [q for q in queues if fn.name in q.functions]
        if not mine:
            continue
        counted = [q for q in mine if q.depth is not None]
        unread = [q for q in mine if q.depth is None and q.service == "sqs"]
        elsewhere = [q for q in mine if q.service != "sqs"]
        notes = [f"{q.name}: {q.note}" for q in unread + elsewhere if q.note]
        note = "; ".join(notes) or None
        if unread or not counted:
            out[fn.name] = FunctionDepth(None, None, None, note, unread=bool(unread))
        else:
            out[fn.name] = FunctionDepth(sum(q.depth for q in counted), sum(q.in_flight for q in counted),
                                         sum(q.delayed for q in counted), note)
    return out


def discover_dlqs(ctx: AwsContext, regions: Iterable[str] | None = None, *, cache_dir=None,
                  ages: bool = True, workers: int = 8, now: datetime | None = None) -> DlqDiscovery:
    """Every DLQ and failure target of the fleet in ``regions``, with depth and oldest age (as of
    ``now``: the caller's clock, frozen in the TUI's screenshots)."""
    regions = list(regions or ctx.require_regions())
    # Reserved concurrency is no business of discovery: no GetFunction per function.
    inv = fleet_inventory(ctx, regions, InventoryOptions(details=True, concurrency=False, cache_dir=cache_dir))
    errors = list(inv.errors)
    failed_regions = {e.region for e in errors}

    def one_region(region: str) -> list[DlqInfo] | RegionError:
        try:
            found = region_dlqs(ctx, region, inv.functions, workers=workers)
            if ages:
                names = [i.name for i in found if i.url and i.depth]
                try:
                    got = _dlq.oldest_ages(ctx, region, names, now) if names else {}
                except LambdaopsError:
                    got = {}  # the age is a nicety: CloudWatch refusing must not hide the queues
                for info in found:
                    if info.name in got and info.depth:
                        info.oldest_age_s = got[info.name]
            return found
        except LambdaopsError as exc:  # aws/ translated every botocore failure
            return RegionError(region, exc.one_line(), exc.exit_code, getattr(exc, "operation", None))

    todo = [r for r in regions if r not in failed_regions]
    by_arn: dict[str, DlqInfo] = {}
    with ThreadPoolExecutor(max_workers=max(1, len(todo)), thread_name_prefix="dlq") as pool:
        for result in pool.map(one_region, todo):
            if isinstance(result, RegionError):
                errors.append(result)
                continue
            for info in result:  # a queue serving functions of two regions is one queue
                if info.arn in by_arn:
                    by_arn[info.arn].merge(info)
                else:
                    by_arn[info.arn] = info
    queues = sorted(by_arn.values(),
                    key=lambda q: (q.region, KIND_ORDER.index(q.kind) if q.kind in KIND_ORDER else 99, q.name))
    return DlqDiscovery(queues, errors, regions, ctx.calls.snapshot(), inv.detail_errors)
