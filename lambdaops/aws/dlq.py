"""Dead-letter queues of a Lambda fleet: discovery, depth, peeking, and every AWS call the DLQ
commands make. The only module of the feature that talks to AWS; each wrapper names the AWS CLI
command it equals.

Discovery starts from :func:`lambdaops.aws.inventory.fleet_inventory` and follows the four places
failed events land (aws-facts.md section 5): function DeadLetterConfig (SQS, or SNS and the SQS
queues subscribed to it), async on-failure destinations, SQS sources' RedrivePolicy, and stream
mappings' on-failure destinations. ``ListDeadLetterSourceQueues`` adds sources no function consumes.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable
from urllib.parse import urlparse

from botocore import exceptions as bx

from lambdaops.aws.context import AwsContext
from lambdaops.aws.dlq_decode import StreamBatch, sequence_key
from lambdaops.aws.errors import error_code, translate
from lambdaops.aws.inventory import InventoryOptions, fleet_inventory
from lambdaops.aws.models import RegionError, arn_name
from lambdaops.aws.queues import queue_url_from_arn
from lambdaops.errors import LambdaopsError, NotFoundError, UsageError

KIND_ORDER = ("source-dlq", "function-dlq", "sns-dlq", "on-failure", "stream-on-failure")
VISIBILITY_MAX_S = 43_200


def _arn_service(arn: str | None) -> str:
    parts = (arn or "").split(":")
    return parts[2] if len(parts) > 2 else ""


def _arn_region(arn: str) -> str:
    return arn.split(":")[3]


# --------------------------------------------------------------------------------------------
# queue references


@dataclass(frozen=True)
class QueueRef:
    region: str
    account: str | None
    name: str
    url: str
    arn: str

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")


def parse_queue(text: str) -> tuple[str | None, str | None, str, str | None]:
    """A queue given as a name, URL or ARN -> (region, account, name, url); any may be None but name."""
    text = text.strip()
    if text.startswith("arn:"):
        parts = text.split(":")
        if len(parts) != 6 or parts[2] != "sqs" or not parts[5]:
            raise UsageError(f"{text!r} is not an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)")
        return parts[3], parts[4], parts[5], None
    if "://" in text:
        url = urlparse(text)
        path = [p for p in url.path.split("/") if p]
        if len(path) != 2:
            raise UsageError(f"{text!r} is not an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)")
        host = url.hostname or ""
        region = None
        if host.startswith("sqs.") and host.count(".") >= 3:
            region = host.split(".")[1]
        elif host.count(".") >= 3 and ".queue.amazonaws.com" in host:
            region = host.split(".")[0]
        return region, path[0], path[1], text
    if "/" in text or ":" in text or not text:
        raise UsageError(f"{text!r} is not a queue name, URL or ARN")
    return None, None, text, None


def _aws_endpoints(ctx: AwsContext) -> bool:
    """Whether SQS is reached at AWS's own endpoints (no --endpoint-url, no AWS_ENDPOINT_URL*)."""
    return ctx.endpoint_url is None and not any(os.environ.get(v) for v in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS"))


def known_queue_url(ctx: AwsContext, arn: str) -> str | None:
    """The URL of the queue ``arn``: built from the ARN on AWS's own endpoints (the format is fixed:
    a GetQueueUrl call saved per queue, every refresh), asked with GetQueueUrl elsewhere (another
    endpoint may use another format). None when GetQueueUrl says it does not exist; a built URL of a
    queue that is gone fails on first use instead (NotFoundError)."""
    parts = arn.split(":")
    if _aws_endpoints(ctx) and len(parts) == 6 and parts[4]:
        return queue_url_from_arn(arn)
    return get_queue_url(ctx, parts[3], parts[5], parts[4] or None)


def get_queue_url(ctx: AwsContext, region: str, name: str, account: str | None = None) -> str | None:
    """``aws sqs get-queue-url --queue-name NAME [--queue-owner-aws-account-id ACCOUNT]``; None if absent."""
    params: dict[str, Any] = {"QueueName": name}
    if account:
        params["QueueOwnerAWSAccountId"] = account
    try:
        return ctx.client("sqs", region).get_queue_url(**params)["QueueUrl"]
    except bx.ClientError as exc:
        if error_code(exc) in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            return None
        raise translate(exc, profile=ctx.profile, region=region) from exc
    except bx.BotoCoreError as exc:
        raise translate(exc, profile=ctx.profile, region=region) from exc


def _ref_from_url(region: str, url: str) -> QueueRef:
    path = [p for p in urlparse(url).path.split("/") if p]
    account, name = (path[0], path[1]) if len(path) == 2 else (None, path[-1])
    return QueueRef(region, account, name, url, f"arn:aws:sqs:{region}:{account or ''}:{name}")


def resolve_queue(ctx: AwsContext, text: str, regions: list[str] | None = None) -> QueueRef:
    """QUEUE as the user typed it -> a reference to an existing queue. A bare name is looked up in
    every selected region; found in more than one, the user must say which."""
    region, account, name, url = parse_queue(text)
    if url and region and account:  # an AWS queue URL says everything
        return _ref_from_url(region, url)
    search = [region] if region else list(regions or ctx.require_regions())
    found: list[QueueRef] = []
    for r in search:
        got = get_queue_url(ctx, r, name, account)
        if got:
            found.append(_ref_from_url(r, got))
    if not found:
        where = region or ", ".join(search)
        raise NotFoundError(f"queue {name!r} does not exist in {where}", code="QueueDoesNotExist")
    if len(found) > 1:
        raise UsageError(f"queue {name!r} exists in {', '.join(q.region for q in found)}: "
                         "pass --region or the queue's ARN")
    return found[0]


# --------------------------------------------------------------------------------------------
# thin wrappers


def _call(ctx: AwsContext, service: str, region: str, op: str, **params: Any) -> dict:
    return ctx.call(service, region, op, **params)


def queue_attributes(ctx: AwsContext, ref: QueueRef) -> dict[str, str]:
    """``aws sqs get-queue-attributes --queue-url URL --attribute-names All``."""
    return _call(ctx, "sqs", ref.region, "get_queue_attributes", QueueUrl=ref.url,
                 AttributeNames=["All"]).get("Attributes", {})


def dead_letter_sources(ctx: AwsContext, ref: QueueRef) -> list[str]:
    """``aws sqs list-dead-letter-source-queues --queue-url URL`` (all pages): source queue URLs."""
    out: list[str] = []
    token = None
    while True:
        params: dict[str, Any] = {"QueueUrl": ref.url, "MaxResults": 1000}
        if token:
            params["NextToken"] = token
        page = _call(ctx, "sqs", ref.region, "list_dead_letter_source_queues", **params)
        out += page.get("queueUrls", [])
        token = page.get("NextToken")
        if not token:
            return out


def receive(sqs, url: str, max_messages: int, visibility_s: int, wait_s: int = 0) -> list[dict]:
    """``aws sqs receive-message --queue-url URL --max-number-of-messages N --visibility-timeout V
    --wait-time-seconds W --message-attribute-names All --message-system-attribute-names All``."""
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=max(1, min(10, max_messages)),
                               VisibilityTimeout=visibility_s, WaitTimeSeconds=wait_s,
                               MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]).get("Messages", [])


def set_visibility(sqs, url: str, handles: list[str], visibility_s: int = 0) -> list[str]:
    """``aws sqs change-message-visibility-batch`` for up to 10 receipt handles at a time (0 makes the
    messages visible again). Returns the handles SQS refused (e.g. expired)."""
    failed: list[str] = []
    for start in range(0, len(handles), 10):
        chunk = handles[start:start + 10]
        resp = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": visibility_s} for i, h in enumerate(chunk)])
        failed += [chunk[int(f["Id"])] for f in resp.get("Failed", [])]
    return failed


def send_batch(sqs, url: str, entries: list[dict]) -> tuple[list[dict], list[dict]]:
    """``aws sqs send-message-batch --queue-url URL --entries ...`` (<= 10 entries). Returns
    (successful, failed) entries: SQS answers HTTP 200 even when some entries failed."""
    resp = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    return resp.get("Successful", []), resp.get("Failed", [])


def delete_batch(sqs, url: str, entries: list[dict]) -> tuple[list[dict], list[dict]]:
    """``aws sqs delete-message-batch --queue-url URL --entries Id=..,ReceiptHandle=..`` (<= 10)."""
    resp = sqs.delete_message_batch(QueueUrl=url, Entries=entries)
    return resp.get("Successful", []), resp.get("Failed", [])


def purge_queue(ctx: AwsContext, ref: QueueRef) -> None:
    """``aws sqs purge-queue --queue-url URL``."""
    _call(ctx, "sqs", ref.region, "purge_queue", QueueUrl=ref.url)


def start_move_task(ctx: AwsContext, ref: QueueRef, destination_arn: str | None, rate: int | None) -> str:
    """``aws sqs start-message-move-task --source-arn DLQ [--destination-arn Q]
    [--max-number-of-messages-per-second N]``; returns the task handle."""
    params: dict[str, Any] = {"SourceArn": ref.arn}
    if destination_arn:
        params["DestinationArn"] = destination_arn
    if rate is not None:
        # MaxNumberOfMessagesPerSecond is an integer 1..500 (StartMessageMoveTask, SQS API Reference):
        # never round a fraction into a rate the user did not ask for.
        if isinstance(rate, bool) or rate != int(rate) or not 1 <= rate <= 500:
            from lambdaops.errors import UsageError

            raise UsageError(f"MaxNumberOfMessagesPerSecond must be a whole number from 1 to 500, not {rate!r}")
        params["MaxNumberOfMessagesPerSecond"] = int(rate)
    return _call(ctx, "sqs", ref.region, "start_message_move_task", **params)["TaskHandle"]


def list_move_tasks(ctx: AwsContext, ref: QueueRef, max_results: int = 10) -> list[dict]:
    """``aws sqs list-message-move-tasks --source-arn DLQ --max-results N`` (newest first)."""
    return _call(ctx, "sqs", ref.region, "list_message_move_tasks", SourceArn=ref.arn,
                 MaxResults=max_results).get("Results", [])


def cancel_move_task(ctx: AwsContext, region: str, handle: str) -> int:
    """``aws sqs cancel-message-move-task --task-handle H``; returns messages moved so far."""
    return int(_call(ctx, "sqs", region, "cancel_message_move_task", TaskHandle=handle)
               .get("ApproximateNumberOfMessagesMoved", 0))


def invoke_async(lam, function: str, payload: str) -> dict:
    """``aws lambda invoke --function-name F --invocation-type Event --payload ...``: accepted when
    the status is 202."""
    resp = lam.invoke(FunctionName=function, InvocationType="Event", Payload=payload.encode("utf-8"))
    return {"status": resp.get("StatusCode"), "function_error": resp.get("FunctionError")}


def topic_sqs_subscriptions(ctx: AwsContext, region: str, topic_arn: str) -> list[tuple[str, bool]]:
    """``aws sns list-subscriptions-by-topic --topic-arn T``: (SQS queue ARN, raw delivery) pairs."""
    cli = ctx.client("sns", region)
    out: list[tuple[str, str]] = []
    for page in cli.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        for sub in page.get("Subscriptions", []):
            if sub.get("Protocol") == "sqs":
                out.append((sub["Endpoint"], sub.get("SubscriptionArn", "")))
    result = []
    for endpoint, sub_arn in out:
        raw = False
        if sub_arn.startswith("arn:"):
            try:  # ``aws sns get-subscription-attributes``
                attrs = cli.get_subscription_attributes(SubscriptionArn=sub_arn).get("Attributes", {})
                raw = attrs.get("RawMessageDelivery") == "true"
            except (bx.ClientError, bx.BotoCoreError):
                pass
        result.append((endpoint, raw))
    return result


def oldest_ages(ctx: AwsContext, region: str, names: list[str], end: datetime | None = None) -> dict[str, float]:
    """``aws cloudwatch get-metric-data``: latest ApproximateAgeOfOldestMessage (Maximum, 1 min) per
    queue over the hour before ``end`` (default now), 500 queues per call. Missing data -> absent."""
    out: dict[str, float] = {}
    end = end or datetime.now(timezone.utc)
    cw = ctx.client("cloudwatch", region)
    for start in range(0, len(names), 500):
        chunk = names[start:start + 500]
        queries = [{"Id": f"q{i}", "ReturnData": True, "MetricStat": {
            "Metric": {"Namespace": "AWS/SQS", "MetricName": "ApproximateAgeOfOldestMessage",
                       "Dimensions": [{"Name": "QueueName", "Value": n}]},
            "Period": 60, "Stat": "Maximum"}} for i, n in enumerate(chunk)]
        token = None
        while True:
            params: dict[str, Any] = {"MetricDataQueries": queries, "StartTime": end - timedelta(hours=1),
                                      "EndTime": end, "ScanBy": "TimestampDescending"}
            if token:
                params["NextToken"] = token
            page = cw.get_metric_data(**params)
            for res in page.get("MetricDataResults", []):
                idx = int(res["Id"][1:])
                values = res.get("Values") or []
                if values and chunk[idx] not in out:
                    out[chunk[idx]] = float(values[0])
            token = page.get("NextToken")
            if not token:
                break
    return out


# --------------------------------------------------------------------------------------------
# stream records


@dataclass
class FetchedRecords:
    records: list[dict]
    note: str | None = None  # why some or all records could not be read back

    @property
    def complete(self) -> bool:
        return self.note is None


def fetch_batch_records(ctx: AwsContext, batch: StreamBatch, *, max_calls: int = 20) -> FetchedRecords:
    """Read a failed batch back from its stream: ``aws kinesis get-shard-iterator
    --shard-iterator-type AT_SEQUENCE_NUMBER`` + ``get-records`` (or ``aws dynamodbstreams ...``)
    until past the end sequence number. Records gone (retention, reshard) are reported, not raised."""
    region = _arn_region(batch.stream_arn) if batch.stream_arn.count(":") >= 5 else None
    if not region:
        return FetchedRecords([], f"no stream ARN in the batch info ({batch.stream_arn!r})")
    service = "kinesis" if batch.stream == "kinesis" else "dynamodbstreams"
    cli = ctx.client(service, region)
    start, end = sequence_key(batch.start_sequence_number), sequence_key(batch.end_sequence_number)
    try:
        if service == "kinesis":
            it = cli.get_shard_iterator(StreamARN=batch.stream_arn, ShardId=batch.shard_id,
                                        ShardIteratorType="AT_SEQUENCE_NUMBER",
                                        StartingSequenceNumber=batch.start_sequence_number)["ShardIterator"]
        else:
            it = cli.get_shard_iterator(StreamArn=batch.stream_arn, ShardId=batch.shard_id,
                                        ShardIteratorType="AT_SEQUENCE_NUMBER",
                                        SequenceNumber=batch.start_sequence_number)["ShardIterator"]
    except bx.ClientError as exc:
        code = error_code(exc)
        if code in ("ResourceNotFoundException", "TrimmedDataAccessException", "InvalidArgumentException",
                    "ExpiredIteratorException"):
            return FetchedRecords([], f"records no longer readable ({code}): the stream's retention passed, "
                                      "or the shard or stream is gone")
        raise translate(exc, profile=ctx.profile, region=region) from exc
    except bx.BotoCoreError as exc:
        raise translate(exc, profile=ctx.profile, region=region) from exc
    records: list[dict] = []
    want = batch.batch_size or 10_000
    for _ in range(max_calls):
        try:
            params: dict[str, Any] = {"ShardIterator": it, "Limit": min(1000, max(want - len(records), 1))}
            if service == "kinesis":
                params["StreamARN"] = batch.stream_arn
            page = cli.get_records(**params)
        except bx.ClientError as exc:
            if error_code(exc) in ("TrimmedDataAccessException", "ExpiredIteratorException", "ResourceNotFoundException"):
                return FetchedRecords(records, f"records no longer readable ({error_code(exc)})")
            raise translate(exc, profile=ctx.profile, region=region) from exc
        got = page.get("Records", [])
        done = False
        for rec in got:
            seq = rec["SequenceNumber"] if service == "kinesis" else rec.get("dynamodb", {}).get("SequenceNumber")
            if sequence_key(str(seq)) > end:
                done = True
                break
            records.append(rec)
        it = page.get("NextShardIterator")
        if done or len(records) >= want or not it or not got:
            break
    if not records:
        return FetchedRecords([], "records no longer in the stream (retention passed?)")
    first_seq = records[0]["SequenceNumber"] if service == "kinesis" else records[0]["dynamodb"]["SequenceNumber"]
    if sequence_key(str(first_seq)) != start:
        return FetchedRecords(records, "the first records of the batch have expired")
    if batch.batch_size and len(records) < batch.batch_size:
        return FetchedRecords(records, f"only {len(records)} of {batch.batch_size} records could be read")
    return FetchedRecords(records)


# --------------------------------------------------------------------------------------------
# discovery


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

    @property
    def kind(self) -> str:
        return min(self.kinds, key=KIND_ORDER.index) if self.kinds else "unknown"

    def add(self, kind: str, function: str | None = None, source: str | None = None) -> None:
        if kind not in self.kinds:
            self.kinds.append(kind)
        if function and function not in self.functions:
            self.functions.append(function)
        if source and source not in self.sources:
            self.sources.append(source)

    def ref(self) -> QueueRef | None:
        return _ref_from_url(self.region, self.url) if self.url else None

    def to_row(self) -> dict[str, Any]:
        return {"name": self.name, "region": self.region, "queue_url": self.url, "queue_arn": self.arn,
                "kind": self.kind, "kinds": sorted(self.kinds, key=KIND_ORDER.index),
                "functions": sorted(self.functions), "sources": sorted(self.sources),
                "visible": self.visible, "in_flight": self.in_flight,
                "oldest_age_s": self.oldest_age_s, "fifo": self.fifo, "note": self.note}


@dataclass
class DlqDiscovery:
    queues: list[DlqInfo]
    errors: list[RegionError]
    regions: list[str]
    api_calls: dict[str, int]


class _Targets:
    def __init__(self) -> None:
        self.by_arn: dict[str, DlqInfo] = {}

    def add(self, arn: str, kind: str, function: str | None = None, source: str | None = None) -> DlqInfo:
        info = self.by_arn.get(arn)
        if info is None:
            name = arn_name(arn) or arn
            info = self.by_arn[arn] = DlqInfo(_arn_region(arn), name, arn, None, fifo=name.endswith(".fifo"))
        info.add(kind, function, source)
        return info


def _describe_target(ctx: AwsContext, targets: _Targets, arn: str, kind: str, function: str,
                     source: str | None, sns_kind: str) -> None:
    """An SQS queue is a target itself; an SNS topic through the SQS queues subscribed to it; other
    destinations (EventBridge, Lambda, S3) are listed but cannot be read as queues."""
    service = _arn_service(arn)
    if service == "sqs":
        targets.add(arn, kind, function, source)
    elif service == "sns":
        region = _arn_region(arn)
        subs = topic_sqs_subscriptions(ctx, region, arn)
        for queue_arn, _raw in subs:
            targets.add(queue_arn, sns_kind, function, arn_name(arn))
        if not subs:
            info = targets.add(arn, sns_kind, function, source)
            info.note = "SNS topic with no SQS subscription: its messages cannot be inspected"
    else:
        info = targets.add(arn, kind, function, source)
        info.note = f"{service or 'unknown'} destination: not a queue, nothing to inspect"


def _region_targets(ctx: AwsContext, region: str, functions) -> list[DlqInfo]:
    targets = _Targets()
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
        src_url = known_queue_url(ctx, src_arn)
        if not src_url:
            continue
        try:
            attrs = ctx.call("sqs", _arn_region(src_arn), "get_queue_attributes", QueueUrl=src_url,
                             AttributeNames=["RedrivePolicy"]).get("Attributes", {})
        except NotFoundError:
            continue  # a mapping whose queue is gone has no DLQ to list
        try:
            dlq_arn = json.loads(attrs.get("RedrivePolicy") or "{}").get("deadLetterTargetArn")
        except ValueError:
            dlq_arn = None
        if dlq_arn:
            for fn in fns:
                targets.add(dlq_arn, "source-dlq", fn, arn_name(src_arn))
    return list(targets.by_arn.values())


def _fill_depth(ctx: AwsContext, info: DlqInfo) -> None:
    if _arn_service(info.arn) != "sqs":
        return
    info.url = known_queue_url(ctx, info.arn)
    attrs = None
    if info.url is not None:
        try:
            attrs = queue_attributes(ctx, info.ref())
        except NotFoundError:
            info.url = None
    if attrs is None:
        info.note = "the queue does not exist (a stale configuration?)"
        return
    ref = info.ref()
    info.visible = int(attrs.get("ApproximateNumberOfMessages", 0))
    info.in_flight = int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0))
    info.delayed = int(attrs.get("ApproximateNumberOfMessagesDelayed", 0))
    info.fifo = attrs.get("FifoQueue") == "true" or info.fifo
    for src_url in dead_letter_sources(ctx, ref):
        info.add("source-dlq", None, src_url.rstrip("/").rsplit("/", 1)[-1])


def discover_dlqs(ctx: AwsContext, regions: Iterable[str] | None = None, *, cache_dir=None,
                  ages: bool = True, workers: int = 8, now: datetime | None = None) -> DlqDiscovery:
    """Every DLQ and failure target of the fleet in ``regions``, with depth and oldest age (as of
    ``now``: the caller's clock, frozen in the TUI's screenshots)."""
    regions = list(regions or ctx.require_regions())
    inv = fleet_inventory(ctx, regions, InventoryOptions(details=True, concurrency=False, cache_dir=cache_dir))
    errors = list(inv.errors)
    failed_regions = {e.region for e in errors}
    queues: list[DlqInfo] = []

    def one_region(region: str) -> list[DlqInfo] | RegionError:
        try:
            found = _region_targets(ctx, region, [f for f in inv.functions if f.region == region])
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"dlq-{region}") as pool:
                list(pool.map(lambda i: _fill_depth(ctx, i), found))
            if ages:
                names = [i.name for i in found if i.url and (i.visible or i.in_flight)]
                try:
                    got = oldest_ages(ctx, region, names, now) if names else {}
                except (bx.ClientError, bx.BotoCoreError):
                    got = {}  # the age is a nicety: CloudWatch refusing must not hide the queues
                for info in found:
                    if info.name in got and (info.visible or info.in_flight):
                        info.oldest_age_s = got[info.name]
            return found
        except LambdaopsError as exc:
            return RegionError(region, exc.one_line(), exc.exit_code, getattr(exc, "operation", None))
        except (bx.ClientError, bx.BotoCoreError) as exc:
            err = translate(exc, profile=ctx.profile, region=region)
            return RegionError(region, err.one_line(), err.exit_code, getattr(err, "operation", None))

    todo = [r for r in regions if r not in failed_regions]
    with ThreadPoolExecutor(max_workers=max(1, len(todo)), thread_name_prefix="dlq") as pool:
        for result in pool.map(one_region, todo):
            if isinstance(result, RegionError):
                errors.append(result)
            else:
                queues.extend(result)
    queues.sort(key=lambda q: (q.region, KIND_ORDER.index(q.kind) if q.kind in KIND_ORDER else 99, q.name))
    return DlqDiscovery(queues, errors, regions, ctx.calls.snapshot())


def queue_kind(ctx: AwsContext, ref: QueueRef, *, cache_dir=None) -> DlqInfo | None:
    """The discovery entry of one queue (its kind, functions, sources), or None if no function of
    the queue's region sends failures to it."""
    found = discover_dlqs(ctx, [ref.region], cache_dir=cache_dir, ages=False)
    for info in found.queues:
        if info.url and info.name == ref.name:
            return info
    return None


def approximate_depth(ctx: AwsContext, ref: QueueRef) -> tuple[int, int]:
    """(visible, in flight) from ``aws sqs get-queue-attributes``."""
    attrs = queue_attributes(ctx, ref)
    return int(attrs.get("ApproximateNumberOfMessages", 0)), int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0))



def receive_many(sqs, ref: QueueRef, limit: int | None, visibility_s: int, *, wait_s: int = 0) -> list[dict]:
    """Receive up to ``limit`` distinct messages (all when None), keeping each hidden for
    ``visibility_s`` so that no message comes twice; the caller makes them visible again or deletes
    them. A message seen again (its visibility ran out) keeps only its newest receipt handle."""
    got: dict[str, dict] = {}
    stale = 0
    while limit is None or len(got) < limit:
        want = 10 if limit is None else min(10, limit - len(got))
        msgs = receive(sqs, ref.url, want, visibility_s, 0)
        if not msgs and wait_s:
            msgs = receive(sqs, ref.url, want, visibility_s, wait_s)
        if not msgs:
            break
        new = 0
        for m in msgs:
            if m["MessageId"] not in got:
                new += 1
            got[m["MessageId"]] = m
        stale = 0 if new else stale + 1
        if stale >= 3:
            break
    return list(got.values())


def dlq_functions(ctx: AwsContext, ref: QueueRef) -> list[str]:
    """Functions whose DeadLetterConfig points at ``ref``, directly or through an SNS topic ``ref`` is
    subscribed to (``aws lambda list-functions`` + ``aws sns list-subscriptions-by-topic``): Lambda's
    DLQ messages do not say which function they failed in."""
    from lambdaops.aws.inventory import list_functions

    try:
        configs = list_functions(ctx, ref.region)
    except (bx.ClientError, bx.BotoCoreError, LambdaopsError):
        return []
    out = set()
    topics: dict[str, list[str]] = {}
    for c in configs:
        target = (c.get("DeadLetterConfig") or {}).get("TargetArn")
        if target == ref.arn:
            out.add(c["FunctionName"])
        elif _arn_service(target) == "sns":
            topics.setdefault(target, []).append(c["FunctionName"])
    for topic, names in topics.items():  # an SNS DLQ: the queues subscribed to the topic
        try:
            if any(q == ref.arn for q, _ in topic_sqs_subscriptions(ctx, _arn_region(topic), topic)):
                out.update(names)
        except (bx.ClientError, bx.BotoCoreError):
            continue
    return sorted(out)
