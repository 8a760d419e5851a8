"""SQS queue facts for the fleet view: where each function's failures land, and how many wait there.

Equivalent: ``aws sqs get-queue-attributes --queue-url U --attribute-names ApproximateNumberOfMessages
RedrivePolicy``. Queue URLs are built from ARNs (``https://sqs.<region>.amazonaws.com/<acct>/<name>``),
which saves a GetQueueUrl call per queue; SQS accepts them whatever endpoint the client uses.
"""

from __future__ import annotations

import json

from botocore import exceptions as bx

from lambdaops.aws.context import AwsContext
from lambdaops.aws.models import FunctionInfo


_PARTITION_DOMAIN = {"aws-cn": "amazonaws.com.cn"}  # aws and aws-us-gov: amazonaws.com


def queue_url_from_arn(arn: str) -> str:
    _, partition, _, region, account, name = arn.split(":", 5)
    return f"https://sqs.{region}.{_PARTITION_DOMAIN.get(partition, 'amazonaws.com')}/{account}/{name}"


def is_sqs_arn(arn: str | None) -> bool:
    return bool(arn) and arn.startswith("arn:aws:sqs:")


def dlq_arns(ctx: AwsContext, region: str, fn: FunctionInfo, redrive_cache: dict[str, str | None]) -> list[str]:
    """SQS queues holding this function's failures: DeadLetterConfig, on-failure destination, stream
    on-failure destinations, and the redrive target of each SQS source queue."""
    arns = [t for t in fn.failure_targets() if is_sqs_arn(t)]
    cli = ctx.client("sqs", region)
    for es in fn.event_sources:
        if es.kind != "sqs":
            continue
        if es.source_arn not in redrive_cache:
            try:
                attrs = cli.get_queue_attributes(QueueUrl=queue_url_from_arn(es.source_arn),
                                                 AttributeNames=["RedrivePolicy"]).get("Attributes", {})
                policy = json.loads(attrs.get("RedrivePolicy") or "{}")
                redrive_cache[es.source_arn] = policy.get("deadLetterTargetArn")
            except (bx.ClientError, bx.BotoCoreError, ValueError):
                redrive_cache[es.source_arn] = None
        if redrive_cache[es.source_arn]:
            arns.append(redrive_cache[es.source_arn])
    return list(dict.fromkeys(arns))


def queue_depths(ctx: AwsContext, region: str, fns: list[FunctionInfo]) -> dict[str, float | None]:
    """Messages waiting (visible) in each function's DLQs, summed per function. None when a queue
    could not be read (shown as missing)."""
    cli = ctx.client("sqs", region)
    redrive: dict[str, str | None] = {}
    depth: dict[str, float | None] = {}
    out: dict[str, float | None] = {}
    for fn in fns:
        total: float | None = None
        targets = dlq_arns(ctx, region, fn, redrive)
        for arn in targets:
            if arn not in depth:
                try:
                    attrs = cli.get_queue_attributes(QueueUrl=queue_url_from_arn(arn),
                                                     AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
                    depth[arn] = float(attrs.get("ApproximateNumberOfMessages", 0))
                except (bx.ClientError, bx.BotoCoreError):
                    depth[arn] = None
            if depth[arn] is None:
                total = None
                break
            total = (total or 0.0) + depth[arn]
        out[fn.name] = total if targets else None
    return out
