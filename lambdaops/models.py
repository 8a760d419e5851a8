"""Typed models the AWS layer returns and every other layer reads. Plain dataclasses: no boto3 types leak
past lambdaops/aws/, and screens use them without importing aws/."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


def arn_name(arn: str | None) -> str | None:
    """Last path element of an ARN: queue, topic, function, table/stream names."""
    if not arn:
        return None
    tail = arn.split(":", 5)[-1]
    if "/stream/" in tail:  # arn:aws:dynamodb:r:a:table/T/stream/2024-...
        return tail.split("/")[1]
    return tail.split("/")[-1].split(":")[-1]


def source_kind(arn: str | None) -> str:
    if not arn:
        return "other"
    service = arn.split(":")[2] if arn.count(":") >= 2 else ""
    if service == "dynamodb":
        return "dynamodb"
    return {"sqs": "sqs", "kinesis": "kinesis", "kafka": "kafka", "mq": "mq", "docdb": "docdb"}.get(service, "other")


@dataclass(frozen=True)
class EventSource:
    uuid: str
    kind: str  # sqs | kinesis | dynamodb | kafka | mq | docdb | other
    source_arn: str
    state: str
    batch_size: int | None = None
    on_failure: str | None = None  # stream mappings' on-failure destination ARN

    @property
    def name(self) -> str:
        return arn_name(self.source_arn) or self.source_arn

    def label(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass
class FunctionInfo:
    name: str
    region: str
    arn: str
    runtime: str | None
    architecture: str
    memory_mb: int
    timeout_s: int
    last_modified: str | None
    handler: str | None = None
    package_type: str = "Zip"
    log_format: str = "Text"
    log_group: str = ""
    snapstart: bool = False
    tracing: str = "PassThrough"
    dead_letter_target: str | None = None
    on_failure_destination: str | None = None
    on_success_destination: str | None = None
    reserved_concurrency: int | None = None
    event_sources: list[EventSource] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    ephemeral_storage_mb: int = 512  # EphemeralStorage.Size: above 512 MB it is billed
    details_error: str | None = None  # per-function calls that failed: shown, never hidden as "none"
    revision_id: str | None = None  # RevisionId from ListFunctions: what the details cache is keyed by
    # Details read only on need (lambdaops.collect.details): detail -> why it was not read, so a
    # reader never takes "not read" for "none" ("reserved_concurrency", "destinations").
    details_unread: dict[str, str] = field(default_factory=dict)
    details_failed: list[str] = field(default_factory=list)  # the details whose call failed

    @property
    def is_stream_consumer(self) -> bool:
        return any(es.kind in ("kinesis", "dynamodb", "kafka", "docdb") for es in self.event_sources)

    def failure_targets(self) -> list[str]:
        targets = [t for t in (self.dead_letter_target, self.on_failure_destination) if t]
        targets += [es.on_failure for es in self.event_sources if es.on_failure]
        return targets

    def to_row(self) -> dict[str, Any]:
        """Flat snake_case record for JSON/CSV/tables."""
        return {
            "name": self.name,
            "region": self.region,
            "runtime": self.runtime or self.package_type.lower(),
            "architecture": self.architecture,
            "memory_mb": self.memory_mb,
            "timeout_s": self.timeout_s,
            "ephemeral_storage_mb": self.ephemeral_storage_mb,
            "last_modified": self.last_modified,
            "reserved_concurrency": self.reserved_concurrency,
            "log_format": self.log_format,
            "log_group": self.log_group,
            "snapstart": self.snapstart,
            "triggers": [es.label() for es in self.event_sources],
            "dead_letter_target": arn_name(self.dead_letter_target),
            "on_failure_destination": arn_name(self.on_failure_destination),
            "stream_on_failure": [arn_name(es.on_failure) for es in self.event_sources if es.on_failure],
            "arn": self.arn,
            "tags": dict(self.tags),
            "details_error": self.details_error,
            # which reads failed: a null reserved_concurrency is "unreserved" unless named here
            "details_failed": list(self.details_failed),
            "details_unread": dict(self.details_unread),
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RegionError:
    region: str
    message: str
    exit_code: int = 254
    operation: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """An ``errors`` entry (the shape of lambdaops.errors.ErrorTally's): the region failed once."""
        return {"region": self.region, "operation": self.operation, "count": 1, "message": self.message,
                "exit_code": self.exit_code}


@dataclass
class Inventory:
    functions: list[FunctionInfo]
    errors: list[RegionError]
    api_calls: dict[str, int]
    regions: list[str]
    # per-function calls that failed in regions that were listed: ErrorTally entries, one per
    # (region, operation, error code) with how many failed; those functions carry details_error
    detail_errors: list[dict[str, Any]] = field(default_factory=list)
    # region -> when (epoch seconds) its functions were listed: earlier than now when a kept
    # listing was used (lambdaops.aws.inventory_cache), which the report and the TUI show
    listed_at: dict[str, float] = field(default_factory=dict)


@dataclass
class StreamBatch:
    """Where a failed stream batch sits: enough to read its records back."""

    stream: str  # kinesis | dynamodb
    stream_arn: str
    shard_id: str
    start_sequence_number: str
    end_sequence_number: str
    batch_size: int | None
    first_arrival: str | None = None
    last_arrival: str | None = None
