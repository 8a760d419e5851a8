"""Fill every DLQ and failure target of the demo fleet with the messages AWS would have left there.

Each message derives from a failed invocation of the traffic records (its request id, its time), in
the shapes the Lambda Developer Guide gives for dead-letter queues, invocation records and
event source mappings' on-failure destinations:

1. function DeadLetterConfig -> SQS: the original event, attributes RequestID / ErrorCode / ErrorMessage;
   -> SNS: published to the topic, which an archive queue (``<topic>-archive`` with "-topic" dropped,
   raw delivery) subscribes to so the messages can be inspected;
2. async on-failure destination: the invocation record (requestContext, requestPayload, responseContext,
   responsePayload);
3. SQS source queues: messages put on the SOURCE queue and received maxReceiveCount times, so that
   moto itself moves them to the redrive target (attributes, FIFO group and dedup ids as SQS keeps
   them); some healthy messages stay in the source queues;
4. stream mappings: real records put into the Kinesis stream / DynamoDB table first, then batch-info
   records pointing at them (one clickstream batch points at a shard that no longer exists: the
   "records expired" case).

Not every message of a DLQ is visible: a consumer (an alerting job, someone's script) holds some in
flight with a long visibility timeout, and one queue is a delay queue whose newest message is not
deliverable yet (see :data:`HELD` and :data:`DELAYED`). They are still in the queue: the truth
counts them, as AWS does, in the depth.

Every call is the boto3 call a producer would make, answered by moto's backends in this process
(:mod:`lambdaops.demo.seed_backends`: the same backend calls as over HTTP, without a client and a
request each), and moto's in-process event source mapping hooks are detached while seeding (see
:func:`moto_consumers_paused`). Ground truth
(exact message counts) goes to ``state.queues``; depth/age history to the metric store.
"""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from lambdaops.demo.dlq_payloads import (Failure, async_event, error_for, error_message_attribute, function_arn,
                                         iso_ms, rng_for, source_message)
from lambdaops.demo.fleet import FunctionSpec
from lambdaops.demo.seed import SeededRegion
from lambdaops.demo.seed_backends import BackendClients as Clients
from lambdaops.demo.state import DemoState, QueueTruth, publish_queue_metrics
from lambdaops.demo.traffic import MINUTE_MS, TIMEOUT

CAP = 40  # messages per failure target at most: enough to page through, small enough to seed fast
SOURCE_CAP = 30  # source queues cost maxReceiveCount receives per message
STREAM_CAP = 25  # failed batches per stream mapping
ASYNC_RETRY_MS = 3 * MINUTE_MS  # Lambda retries async events after ~1 and ~2 more minutes
SOURCE_VISIBILITY_MS = 60_000  # the demo source queues' VisibilityTimeout
SQS_BATCH_BYTES = 256 * 1024
# Messages a DLQ consumer received and did not delete: in flight for SQS's longest VisibilityTimeout
# (12 hours, "ChangeMessageVisibility", Amazon SQS API Reference), counted in
# ApproximateNumberOfMessagesNotVisible, invisible to every receive meanwhile.
HELD = {("us-east-1", "orders-stream-failures"): 3, ("us-east-1", "pdf-render-dlq-archive"): 2}
HOLD_VISIBILITY_S = 43_200
# Delay queues: the newest failure arrives while the queue's DelaySeconds (at most 900) holds it back,
# counted in ApproximateNumberOfMessagesDelayed ("Amazon SQS delay queues", SQS Developer Guide:
# changing a queue's delay is not retroactive, so setting it back leaves that message delayed).
DELAYED = {("us-east-1", "orders-stream-failures")}
DELAY_S = 900


@dataclass
class Filled:
    """What one seeding task put into one queue."""

    region: str
    name: str
    url: str
    kind: str
    arrivals_ms: list[int] = field(default_factory=list)
    delayed: int = 0  # of which sent to a delay queue (the newest)


def failures(state: DemoState, spec: FunctionSpec, cap: int) -> list[Failure]:
    """Failed invocations of ``spec``, evenly sampled down to ``cap`` (oldest first)."""
    traffic = state.traffic.get((spec.region, spec.name))
    if traffic is None:
        return []
    rec = traffic.records()
    idx = np.flatnonzero(rec.status != 0)
    if idx.size > cap:
        idx = idx[np.unique(np.linspace(0, idx.size - 1, cap).round().astype(int))]
    return [Failure(rec.request_id(int(i)), int(rec.ts_ms[i]), int(rec.status[i]), float(rec.duration_ms[i]))
            for i in idx]


# --------------------------------------------------------------------------------------------
# SQS helpers


def _entry_size(entry: dict) -> int:
    size = len(entry["MessageBody"].encode("utf-8"))
    for name, attr in (entry.get("MessageAttributes") or {}).items():
        size += len(name) + len(attr["DataType"])
        size += len(attr.get("StringValue", "").encode("utf-8")) + len(attr.get("BinaryValue", b""))
    return size


def send_all(sqs, url: str, entries: list[dict]) -> None:
    """SendMessageBatch in batches of at most 10 entries and 256 KiB; a failed entry is a seeding bug."""
    batch: list[dict] = []
    size = 0

    def flush() -> None:
        if not batch:
            return
        resp = sqs.send_message_batch(QueueUrl=url, Entries=[dict(e, Id=str(i)) for i, e in enumerate(batch)])
        if resp.get("Failed"):
            raise RuntimeError(f"seeding {url}: {resp['Failed'][0]}")
        batch.clear()

    for entry in entries:
        esize = _entry_size(entry)
        if batch and (len(batch) == 10 or size + esize > SQS_BATCH_BYTES):
            flush()
            size = 0
        batch.append(entry)
        size += esize
    flush()


def _clip(values: list[int], state: DemoState) -> list[int]:
    return [min(max(v, state.start_ms), state.end_ms - 1) for v in values]


# --------------------------------------------------------------------------------------------
# 1. function DeadLetterConfig


def _dlq_attributes(spec: FunctionSpec, fail: Failure, rng: random.Random) -> dict:
    return {"RequestID": {"DataType": "String", "StringValue": fail.request_id},
            # ErrorCode is the HTTP status of the last attempt: 200 for function errors and timeouts.
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": error_message_attribute(spec, fail, rng)}}


def seed_function_dlq(clients: Clients, spec: FunctionSpec, seeded: SeededRegion, state: DemoState) -> Filled:
    sqs = clients("sqs", spec.region)
    rng = rng_for(state.seed, spec.name, "dlq")
    fails = failures(state, spec, CAP)
    entries = [{"MessageBody": json.dumps(async_event(spec, f, rng, n)), "MessageAttributes": _dlq_attributes(spec, f, rng)}
               for n, f in enumerate(fails)]
    url = seeded.queue_urls[spec.dlq]
    send_all(sqs, url, entries)
    arrivals = [f.ts_ms + ASYNC_RETRY_MS + int(3 * f.duration_ms) for f in fails]
    return Filled(spec.region, spec.dlq, url, "function-dlq", _clip(arrivals, state))


def send_last_delayed(sqs, url: str, entries: list[dict]) -> int:
    """Send ``entries``; the last one while the queue is a delay queue (DelaySeconds 900). Returns how
    many are delayed."""
    send_all(sqs, url, entries[:-1])
    if not entries:
        return 0
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": str(DELAY_S)})
    try:
        sqs.send_message(QueueUrl=url, **entries[-1])
    finally:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "0"})
    return 1


def archive_queue_name(topic: str) -> str:
    base = topic[:-len("-topic")] if topic.endswith("-topic") else topic
    return f"{base}-archive"


def seed_sns_dlq(clients: Clients, spec: FunctionSpec, seeded: SeededRegion, state: DemoState) -> Filled:
    """Publish to the SNS DLQ topic; an archive queue subscribed with raw message delivery keeps what
    was published. Lambda publishes the event as the message with the RequestID / ErrorCode /
    ErrorMessage attributes ("Dead-letter queues", Lambda Developer Guide); raw delivery puts the
    message as the SQS body and the SNS message attributes as SQS message attributes ("Amazon SNS raw
    message delivery", SNS Developer Guide), so the archive holds what an SQS DLQ would. A topic keeps
    nothing itself: only subscribed queues can be counted."""
    sqs = clients("sqs", spec.region)
    sns = clients("sns", spec.region)
    topic_arn = seeded.topic_arns[spec.dlq]
    name = archive_queue_name(spec.dlq)
    url = sqs.create_queue(QueueName=name, Attributes={"MessageRetentionPeriod": str(14 * 86400)})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    seeded.queue_urls[name], seeded.queue_arns[name] = url, arn
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    rng = rng_for(state.seed, spec.name, "dlq")
    fails = failures(state, spec, CAP)
    for start in range(0, len(fails), 10):
        chunk = fails[start:start + 10]
        resp = sns.publish_batch(TopicArn=topic_arn, PublishBatchRequestEntries=[
            {"Id": str(i), "Message": json.dumps(async_event(spec, f, rng, start + i)),
             "MessageAttributes": _dlq_attributes(spec, f, rng)} for i, f in enumerate(chunk)])
        if resp.get("Failed"):
            raise RuntimeError(f"seeding {topic_arn}: {resp['Failed'][0]}")
    arrivals = [f.ts_ms + ASYNC_RETRY_MS + int(3 * f.duration_ms) for f in fails]
    return Filled(spec.region, name, url, "sns-dlq", _clip(arrivals, state))


# --------------------------------------------------------------------------------------------
# 2. async on-failure destination


def seed_on_failure(clients: Clients, spec: FunctionSpec, seeded: SeededRegion, state: DemoState) -> Filled:
    sqs = clients("sqs", spec.region)
    rng = rng_for(state.seed, spec.name, "on-failure")
    fails = failures(state, spec, CAP)
    entries, arrivals = [], []
    for n, f in enumerate(fails):
        # Every 7th event waited out its maximum age in the async queue (throttling, a backlog).
        aged = n % 7 == 3
        arrival = f.ts_ms + (int(f.duration_ms) + 1_000 if aged else ASYNC_RETRY_MS + int(3 * f.duration_ms))
        etype, msg, trace = error_for(spec, f, rng)
        payload = {"errorMessage": msg} if f.status == TIMEOUT else {"errorMessage": msg, "errorType": etype, "stackTrace": trace}
        record = {
            "version": "1.0",
            "timestamp": iso_ms(min(arrival, state.end_ms - 1)),
            "requestContext": {"requestId": f.request_id, "functionArn": function_arn(spec, "$LATEST"),
                               "condition": "EventAgeExceeded" if aged else "RetriesExhausted",
                               "approximateInvokeCount": 1 if aged else 3},
            "requestPayload": async_event(spec, f, rng, n),
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": payload,
        }
        entries.append({"MessageBody": json.dumps(record)})
        arrivals.append(arrival)
    url = seeded.queue_urls[spec.on_failure]
    send_all(sqs, url, entries)
    return Filled(spec.region, spec.on_failure, url, "on-failure", _clip(arrivals, state))


# --------------------------------------------------------------------------------------------
# 3. SQS source queues and their redrive targets


def _drive_to_dlq(sqs, url: str, fifo: bool, max_calls: int) -> None:
    """Receive until moto has moved every message past maxReceiveCount to the DLQ. VisibilityTimeout=0
    makes each message visible again at once (a consumer failing fast); on FIFO queues the batch is
    also released explicitly, or moto keeps the message group locked."""
    for _ in range(max_calls):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
        if not got:
            # An empty answer is not an empty queue: a message released in the same millisecond it
            # was received is not visible yet, and stopping then left 29 of 30 in a FIFO DLQ now
            # and then (the demo's figures must not depend on luck).
            if not _messages_left(sqs, url):
                return
            time.sleep(0.005)
            continue
        if fifo:
            sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for i, m in enumerate(got)])
    raise RuntimeError(f"seeding {url}: messages did not reach the DLQ")


def _messages_left(sqs, url: str) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def _source_entry(msg) -> dict:
    entry = {"MessageBody": msg.body, "MessageAttributes": msg.attributes}
    if msg.group_id:
        entry["MessageGroupId"] = msg.group_id
        entry["MessageDeduplicationId"] = msg.dedup_id
    return entry


def seed_source_dlq(clients: Clients, spec: FunctionSpec, seeded: SeededRegion, state: DemoState) -> Filled:
    src = spec.source
    sqs = clients("sqs", spec.region)
    rng = rng_for(state.seed, spec.name, "source")
    fails = failures(state, spec, SOURCE_CAP)
    src_url, dlq_url = seeded.queue_urls[src.name], seeded.queue_urls[src.dlq]
    fifo = src.name.endswith(".fifo")
    msgs = [source_message(spec, f, rng, n, big=(n == 1 and src.name.startswith("orders")),
                           text=(n == 2 and src.name.startswith("email"))) for n, f in enumerate(fails)]
    send_all(sqs, src_url, [_source_entry(m) for m in msgs])
    _drive_to_dlq(sqs, src_url, fifo, max_calls=(src.max_receive_count + 2) * (len(msgs) + 10))
    depth = int(sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
                ["Attributes"]["ApproximateNumberOfMessages"])
    # Healthy traffic still waiting in the source queue (not part of the DLQ).
    healthy = [source_message(spec, None, rng, 1000 + n) for n in range(rng.randint(3, 8))]
    send_all(sqs, src_url, [_source_entry(m) for m in healthy])
    arrivals = [f.ts_ms + src.max_receive_count * SOURCE_VISIBILITY_MS for f in fails][:depth]
    return Filled(spec.region, src.dlq, dlq_url, "source-dlq", _clip(arrivals, state))


# --------------------------------------------------------------------------------------------
# orchestration (4. stream event source mappings: lambdaops.demo.dlq_seed_streams)

Task = Callable[[str, FunctionSpec, SeededRegion, DemoState], Filled]


def seeding_tasks(fleet: list[FunctionSpec]) -> list[tuple[Task, FunctionSpec]]:
    from lambdaops.demo.dlq_seed_streams import seed_ddb_on_failure, seed_kinesis_on_failure

    tasks: list[tuple[Task, FunctionSpec]] = []
    for spec in fleet:
        if spec.dlq:
            tasks.append((seed_sns_dlq if spec.dlq_kind == "sns" else seed_function_dlq, spec))
        if spec.on_failure:
            tasks.append((seed_on_failure, spec))
        src = spec.source
        if src is None:
            continue
        if src.kind.startswith("sqs") and src.dlq:
            tasks.append((seed_source_dlq, spec))
        elif src.on_failure and src.kind == "kinesis":
            tasks.append((seed_kinesis_on_failure, spec))
        elif src.on_failure and src.kind == "dynamodb":
            tasks.append((seed_ddb_on_failure, spec))
    return tasks


@contextmanager
def moto_consumers_paused(account_id: str, regions: list[str]) -> Iterator[None]:
    """Detach moto's in-process event source mapping hooks while seeding.

    moto runs a mapping synchronously inside the producer's call: an SQS message is invoked and
    deleted the moment it is sent (it could never fail its way to the DLQ), and a DynamoDB stream is
    emptied once its records were handed to the function (AWS keeps stream records 24 h whoever
    reads them). The mappings themselves, as the API shows them, are untouched.
    """
    from moto.dynamodb.models import dynamodb_backends
    from moto.kinesis.models import kinesis_backends
    from moto.sqs.models import sqs_backends

    holders = []
    for region in regions:
        holders += list(sqs_backends[account_id][region].queues.values())
        holders += list(kinesis_backends[account_id][region].streams.values())
        holders += list(dynamodb_backends[account_id][region].tables.values())
    saved = []
    for holder in holders:
        hooks = getattr(holder, "lambda_event_source_mappings", None)
        if hooks:
            saved.append((hooks, dict(hooks)))
            hooks.clear()
    try:
        yield
    finally:
        for hooks, content in saved:
            hooks.update(content)


def backdate_sent_timestamps(account_id: str, merged: dict[tuple[str, str], Filled], single: set) -> None:
    """moto stamps SentTimestamp when the seeding sends; AWS stamps it when the failed event reached the
    queue. Give each message its arrival time so that "failed at" and ages read as they would.

    A queue filled by one task got its messages in the order of its arrivals; where several tasks
    filled one queue concurrently, the sorted arrivals go to the messages in queue order."""
    from moto.sqs.models import sqs_backends

    for (region, name), f in merged.items():
        queue = sqs_backends[account_id][region].queues.get(name)
        if queue is None or not f.arrivals_ms:
            continue
        arrivals = f.arrivals_ms if (region, name) in single else sorted(f.arrivals_ms)
        # Source DLQs got their messages from SQS's own redrive, in an order the arrivals do not follow.
        if f.kind == "source-dlq":
            arrivals = sorted(arrivals)
        # Never older than the queue keeps messages (a long --window on a 4-day source queue).
        floor = int(time.time() * 1000) - (int(queue.message_retention_period) - 3600) * 1000
        for message, ts in zip(queue._messages, arrivals):
            message.sent_timestamp = max(int(ts), floor)


def hold_in_flight(clients: Clients, region: str, url: str, n: int) -> int:
    """A consumer receives ``n`` messages and keeps them (no delete, no visibility change)."""
    if n <= 0:
        return 0
    sqs = clients("sqs", region)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=n, VisibilityTimeout=HOLD_VISIBILITY_S).get("Messages", [])
    if len(got) != n:
        raise RuntimeError(f"seeding {url}: a consumer received {len(got)} of {n} messages")
    return n


def failure_queues(spec: FunctionSpec) -> list[str]:
    """The SQS queues holding ``spec``'s failures (an SNS DLQ: its archive queue)."""
    names = []
    if spec.dlq:
        names.append(archive_queue_name(spec.dlq) if spec.dlq_kind == "sns" else spec.dlq)
    if spec.on_failure:
        names.append(spec.on_failure)
    if spec.source:
        names += [n for n in (spec.source.dlq, spec.source.on_failure) if n]
    return names


def seed_dlqs(account, state: DemoState) -> None:
    """Fill the fleet's failure targets in moto's backends; record truth and SQS metrics."""
    seeded: dict[str, SeededRegion] = account.seeded or {}
    tasks = [(task, spec) for task, spec in seeding_tasks(account.fleet) if spec.region in seeded]
    if not tasks:
        return
    regions = sorted({spec.region for _, spec in tasks})
    # The queue each message was first sent to, as the gateway records it for an SQS send over HTTP.
    clients = Clients(account.endpoint, getattr(getattr(account, "move_tasks", None), "origins", None))
    with moto_consumers_paused(account.account_id, regions):
        with ThreadPoolExecutor(max_workers=min(8, len(tasks)), thread_name_prefix="dlq-seed") as pool:
            filled = list(pool.map(lambda t: t[0](clients, t[1], seeded[t[1].region], state), tasks))
    merged: dict[tuple[str, str], Filled] = {}
    for f in filled:
        into = merged.setdefault((f.region, f.name), Filled(f.region, f.name, f.url, f.kind))
        into.arrivals_ms += f.arrivals_ms
        into.delayed += f.delayed
    backdate_sent_timestamps(account.account_id, merged, single={(f.region, f.name) for f in filled
                                                               if sum(g.name == f.name and g.region == f.region
                                                                      for g in filled) == 1})
    # A queue whose window left fewer failures than HELD names (another seed, another hour) has them all held.
    held = {key: hold_in_flight(clients, key[0], merged[key].url,
                                min(n, len(merged[key].arrivals_ms) - merged[key].delayed))
            for key, n in HELD.items() if key in merged}
    for (region, name), f in merged.items():
        truth = QueueTruth(region, name, f.url, f.kind, dlq_messages=len(f.arrivals_ms),
                           in_flight=held.get((region, name), 0), delayed=f.delayed)
        state.queues[(region, name)] = truth
        publish_queue_metrics(state.metrics, truth, np.array(f.arrivals_ms, dtype=np.int64), state.end_ms)
