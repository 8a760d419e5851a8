"""ARN and queue-URL facts shared by every SQS-reading module, in every AWS partition.

Queue URLs are built from ARNs (``https://sqs.<region>.<domain>/<acct>/<name>``), which saves a
GetQueueUrl call per queue; SQS accepts them whatever endpoint the client uses. The domain depends
on the partition: ``amazonaws.com`` for ``aws`` and ``aws-us-gov``, ``amazonaws.com.cn`` for
``aws-cn`` (AWS General Reference, "Amazon Simple Queue Service endpoints and quotas", and the
China regions' "Amazon SQS" endpoint page: ``sqs.cn-north-1.amazonaws.com.cn``).

Where a function's failures land, and how many wait there, is :func:`lambdaops.aws.dlq.region_dlqs`:
one discovery for the report, ``lambdaops dlq list`` and the TUI.
"""

from __future__ import annotations

PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
_PARTITION_DOMAIN = {"aws": "amazonaws.com", "aws-cn": "amazonaws.com.cn", "aws-us-gov": "amazonaws.com"}


def arn_parts(arn: str | None) -> tuple[str, str, str, str, str] | None:
    """(partition, service, region, account, resource) of an ARN, or None when it is not one."""
    parts = (arn or "").split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return parts[1], parts[2], parts[3], parts[4], parts[5]


def arn_service(arn: str | None) -> str:
    parts = arn_parts(arn)
    return parts[1] if parts else ""


def is_sqs_arn(arn: str | None) -> bool:
    """An SQS queue ARN in any partition (``arn:aws:``, ``arn:aws-cn:``, ``arn:aws-us-gov:``)."""
    return arn_service(arn) == "sqs"


def partition_of_region(region: str) -> str:
    """The partition a region belongs to: ``cn-*`` China, ``us-gov-*`` GovCloud, else commercial."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def sqs_domain(partition: str) -> str:
    return _PARTITION_DOMAIN.get(partition, "amazonaws.com")


def queue_url_from_arn(arn: str) -> str:
    """``arn:<partition>:sqs:<region>:<account>:<name>`` -> the queue's URL on AWS's own endpoint."""
    _, partition, _, region, account, name = arn.split(":", 5)
    return f"https://sqs.{region}.{sqs_domain(partition)}/{account}/{name}"


def queue_arn(region: str, account: str | None, name: str) -> str:
    """The ARN of queue ``name``, in the partition of ``region``."""
    return f"arn:{partition_of_region(region)}:sqs:{region}:{account or ''}:{name}"
