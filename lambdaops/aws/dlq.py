"""Dead-letter queues of a Lambda fleet: queue references, depth, peeking, and every AWS call the
DLQ commands make; each wrapper names the AWS CLI command it equals.

Discovery (where a fleet's failures land, for the report, ``dlq list`` and the TUI alike) is
:mod:`lambdaops.dlq.discovery`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlparse

from botocore import exceptions as bx

from lambdaops.aws.context import AwsContext
from lambdaops.aws.errors import error_code, translate
from lambdaops.aws.queues import arn_service, queue_arn, queue_url_from_arn
from lambdaops.errors import LambdaopsError, NotFoundError, UsageError

VISIBILITY_MAX_S = 43_200


def _arn_service(arn: str | None) -> str:
    return arn_service(arn)


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


def _sqs_endpoint(ctx: AwsContext) -> str | None:
    """The endpoint SQS is reached at when it is not AWS's own: ``--endpoint-url``, else
    ``AWS_ENDPOINT_URL_SQS``, else ``AWS_ENDPOINT_URL`` (botocore's order: the service's variable
    before the global one, "Service-specific endpoints", AWS SDKs and Tools Reference Guide)."""
    if ctx.endpoint_url:
        return ctx.endpoint_url
    return os.environ.get("AWS_ENDPOINT_URL_SQS") or os.environ.get("AWS_ENDPOINT_URL") or None


def known_queue_url(ctx: AwsContext, arn: str) -> str | None:
    """The URL of the queue ``arn``, built from the ARN without a GetQueueUrl call (one saved per
    queue, every refresh). On AWS's own endpoints: ``https://sqs.<region>.<domain>/<account>/<name>``
    ("Amazon SQS queue and message identifiers", SQS Developer Guide: a queue's URL is made of its
    region, account and name, so the same name after a delete and re-create has the same URL).
    Elsewhere, the endpoint's own form ``<endpoint>/<account>/<name>``: what moto's server answers
    GetQueueUrl with (``Queue.url``: the request's scheme and host, then account and name); SQS
    takes the queue from the URL's path, and with botocore's JSON protocol the request goes to the
    client's endpoint whatever host the URL names. A built URL of a queue that is gone fails on
    first use (NotFoundError), as a stale GetQueueUrl answer would. An ARN without an account is
    asked for (GetQueueUrl); None when it does not exist."""
    parts = arn.split(":")
    if len(parts) == 6 and parts[4]:
        endpoint = _sqs_endpoint(ctx)
        if endpoint is None:
            return queue_url_from_arn(arn)
        return f"{endpoint.rstrip('/')}/{parts[4]}/{parts[5]}"
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
    return QueueRef(region, account, name, url, queue_arn(region, account, name))


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


def _client_region(client) -> str | None:
    return getattr(getattr(client, "meta", None), "region_name", None)


def _translated(client, profile: str | None, fn, *args, **kwargs):
    """Run one call on ``client``; botocore failures come out as the LambdaopsError ``translate`` gives,
    so the engine above (``lambdaops.dlq``) never sees botocore."""
    try:
        return fn(*args, **kwargs)
    except (bx.ClientError, bx.BotoCoreError) as exc:
        raise translate(exc, profile=profile, region=_client_region(client)) from exc


def receive(sqs, url: str, max_messages: int, visibility_s: int, wait_s: int = 0, *,
            profile: str | None = None) -> list[dict]:
    """``aws sqs receive-message --queue-url URL --max-number-of-messages N --visibility-timeout V
    --wait-time-seconds W --message-attribute-names All --message-system-attribute-names All``."""
    return _translated(sqs, profile, sqs.receive_message, QueueUrl=url, MaxNumberOfMessages=max(1, min(10, max_messages)),
                       VisibilityTimeout=visibility_s, WaitTimeSeconds=wait_s,
                       MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]).get("Messages", [])


def queue_attributes_with(sqs, url: str, *, profile: str | None = None) -> dict[str, str]:
    """``aws sqs get-queue-attributes --queue-url URL --attribute-names All`` on a given client."""
    return _translated(sqs, profile, sqs.get_queue_attributes, QueueUrl=url,
                       AttributeNames=["All"]).get("Attributes", {})


def set_visibility(sqs, url: str, handles: list[str], visibility_s: int = 0, *,
                   profile: str | None = None) -> list[str]:
    """``aws sqs change-message-visibility-batch`` for up to 10 receipt handles at a time (0 makes the
    messages visible again). Returns the handles SQS refused (e.g. expired)."""
    failed: list[str] = []
    for start in range(0, len(handles), 10):
        chunk = handles[start:start + 10]
        resp = _translated(sqs, profile, sqs.change_message_visibility_batch, QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": visibility_s} for i, h in enumerate(chunk)])
        failed += [chunk[int(f["Id"])] for f in resp.get("Failed", [])]
    return failed


# The whole SendMessageBatch request is refused (HTTP 400) for these when any entry is at fault; the
# entries are then sent one at a time to find the one the target refuses (the others go through).
REFUSAL_CODES = {"InvalidParameterValue", "InvalidMessageContents", "MissingParameter", "InvalidAttributeValue",
                 "InvalidAttributeName", "BatchRequestTooLong", "MessageTooLong", "UnsupportedOperation"}


def send_batch(sqs, url: str, entries: list[dict], *, profile: str | None = None) -> tuple[list[dict], list[dict]]:
    """``aws sqs send-message-batch --queue-url URL --entries ...`` (<= 10 entries). Returns
    (successful, failed) entries: SQS answers HTTP 200 even when some entries failed. Some faults
    make it refuse the whole request (HTTP 400): then each entry is sent alone, so only the entry at
    fault is refused ("check for batch errors even when the call returns an HTTP status code of
    200", SendMessageBatch, Amazon SQS API Reference)."""
    try:
        resp = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        return resp.get("Successful", []), resp.get("Failed", [])
    except bx.ClientError as exc:
        code = error_code(exc) or ""
        if code not in REFUSAL_CODES:
            raise translate(exc, profile=profile, region=_client_region(sqs)) from exc
        if len(entries) == 1:
            text = exc.response.get("Error", {}).get("Message") or str(exc)
            return [], [{"Id": entries[0]["Id"], "SenderFault": True, "Code": code, "Message": text}]
    except bx.BotoCoreError as exc:
        raise translate(exc, profile=profile, region=_client_region(sqs)) from exc
    ok: list[dict] = []
    failed: list[dict] = []
    for entry in entries:
        o, f = send_batch(sqs, url, [entry], profile=profile)
        ok += o
        failed += f
    return ok, failed


def delete_batch(sqs, url: str, entries: list[dict], *, profile: str | None = None) -> tuple[list[dict], list[dict]]:
    """``aws sqs delete-message-batch --queue-url URL --entries Id=..,ReceiptHandle=..`` (<= 10)."""
    resp = _translated(sqs, profile, sqs.delete_message_batch, QueueUrl=url, Entries=entries)
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


def invoke_async(lam, function: str, payload: str, *, profile: str | None = None) -> dict:
    """``aws lambda invoke --function-name F --invocation-type Event --payload ...``: accepted when
    the status is 202. A refusal comes out as a ServiceError carrying AWS's error code."""
    resp = _translated(lam, profile, lam.invoke, FunctionName=function, InvocationType="Event",
                       Payload=payload.encode("utf-8"))
    return {"status": resp.get("StatusCode"), "function_error": resp.get("FunctionError")}


def topic_sqs_subscriptions(ctx: AwsContext, region: str, topic_arn: str, *,
                            raw: bool = True) -> list[tuple[str, bool]]:
    """``aws sns list-subscriptions-by-topic --topic-arn T``: (SQS queue ARN, raw delivery) pairs.
    ``raw=False`` skips the GetSubscriptionAttributes call per subscription (raw delivery then reads
    False): discovery only needs the queues."""
    cli = ctx.client("sns", region)
    out: list[tuple[str, str]] = []

    def pages():
        return list(cli.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn))

    for page in _translated(cli, ctx.profile, pages):
        for sub in page.get("Subscriptions", []):
            if sub.get("Protocol") == "sqs":
                out.append((sub["Endpoint"], sub.get("SubscriptionArn", "")))
    result = []
    for endpoint, sub_arn in out:
        raw = False
        if raw and sub_arn.startswith("arn:"):
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
            page = _translated(cw, ctx.profile, cw.get_metric_data, **params)
            for res in page.get("MetricDataResults", []):
                idx = int(res["Id"][1:])
                values = res.get("Values") or []
                if values and chunk[idx] not in out:
                    out[chunk[idx]] = float(values[0])
            token = page.get("NextToken")
            if not token:
                break
    return out


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
            if any(q == ref.arn for q, _ in topic_sqs_subscriptions(ctx, _arn_region(topic), topic, raw=False)):
                out.update(names)
        except (bx.ClientError, bx.BotoCoreError):
            continue
    return sorted(out)
