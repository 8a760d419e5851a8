"""Purging a DLQ without an export (``aws sqs purge-queue``), with its audit line: one function for
``lambdaops dlq purge --no-export`` and the TUI's purge. Purging with an export is
:func:`lambdaops.dlq.export.export_queue` with ``delete=True`` (exactly the exported messages go)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lambdaops.aws import dlq as dlqapi
from lambdaops.aws.context import AwsContext
from lambdaops.dlq.journal import AuditLog


@dataclass
class PurgeResult:
    queue: str
    visible_before: int
    in_flight_before: int

    def to_dict(self) -> dict:
        return {"queue": self.queue, "purged": True, "visible_before": self.visible_before,
                "in_flight_before": self.in_flight_before}


def purge(ctx: AwsContext, ref: dlqapi.QueueRef, journal_dir: Path, *,
          depth: tuple[int, int] | None = None) -> PurgeResult:
    """PurgeQueue, then one audit line in ``journal_dir``'s audit log. ``depth`` is the (visible, in
    flight) count the user confirmed, read again when not given. SQS deletes the messages "within 60
    seconds" after answering (PurgeQueue, Amazon SQS API Reference)."""
    visible, in_flight = depth if depth is not None else dlqapi.approximate_depth(ctx, ref)
    dlqapi.purge_queue(ctx, ref)
    audit = AuditLog(journal_dir)
    try:
        audit.write([{"action": "purge", "dlq": ref.arn, "result": f"PurgeQueue ({visible} visible, {in_flight} in flight)"}])
    finally:
        audit.close()
    return PurgeResult(ref.name, visible, in_flight)
