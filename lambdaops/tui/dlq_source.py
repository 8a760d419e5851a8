"""The DLQ screen's one wiring point to the DLQ engine (:mod:`lambdaops.aws.dlq`, :mod:`lambdaops.dlq.redrive`,
:mod:`lambdaops.dlq.decode`). No textual; every function blocks and runs in a thread worker.

- discovery, depth and oldest age: ``dlq_discovery.discover_dlqs`` (the four places failed events
  land), the same discovery as ``dlq list`` and the report's ``dlq_depth``; depth counts visible, in
  flight and delayed messages alike (all still in the queue);
- browsing: receive with a short visibility timeout, decode, then make the messages visible again
  at once (SQS has no true peek: browsing raises each message's receive count, and the screen says so);
- export: the decoded messages as JSON Lines in a local file (changes nothing in AWS);
- redrive (to the original sources, or by re-invoking for Lambda DLQs and destinations) and purge:
  the engine's, behind --write and the confirmation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BROWSE_VISIBILITY_S = 30  # long enough to read a batch; the messages are released right after
BROWSE_LIMIT = 50


@dataclass
class QueueRow:
    """One DLQ or failure destination as the screen shows it (an engine ``DlqInfo`` underneath)."""

    info: Any

    @property
    def arn(self) -> str:
        return self.info.arn

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def region(self) -> str:
        return self.info.region

    @property
    def kind(self) -> str:
        return self.info.kind

    @property
    def serves(self) -> list[str]:
        return sorted(self.info.functions)

    @property
    def depth(self) -> float | None:
        """Visible + in flight + delayed, as ``dlq list`` and the report count it."""
        return self.info.depth

    @property
    def in_flight(self) -> float | None:
        return self.info.in_flight

    @property
    def oldest_s(self) -> float | None:
        return self.info.oldest_age_s

    @property
    def error(self) -> str | None:
        return self.info.note if self.info.depth is None and self.info.url else None

    @property
    def service(self) -> str:
        return self.arn.split(":")[2] if self.arn.count(":") >= 2 else "?"

    @property
    def readable(self) -> bool:
        """An SQS queue we can browse (SNS topics, EventBridge buses, functions are not)."""
        return bool(self.info.url)


def discover(ctx, regions: list[str], now=None) -> tuple[list[QueueRow], list[str]]:
    """Every DLQ and failure destination of the fleet in ``regions``, fullest first, and the
    per-region errors; ages as of ``now`` (the backend's clock)."""
    from lambdaops.aws.dlq_discovery import discover_dlqs

    found = discover_dlqs(ctx, regions, now=now)
    rows = sorted((QueueRow(q) for q in found.queues), key=lambda q: (-(q.depth or 0), q.region, q.name))
    return rows, [f"{e.region}: {e.message}" for e in found.errors]


def queues_of(queues: list[QueueRow], fn) -> list[QueueRow]:
    return [q for q in queues if fn.name in q.serves and q.region == fn.region]


def browse(ctx, queue: QueueRow, limit: int = BROWSE_LIMIT) -> list[Any]:
    """Up to ``limit`` messages, decoded (``DecodedMessage``), made visible again straight away."""
    from lambdaops.aws import dlq
    from lambdaops.dlq.decode import decode_message

    ref = queue.info.ref()
    if ref is None:
        raise ValueError(f"{queue.name} is not an SQS queue: its messages cannot be read here")
    sqs = ctx.client("sqs", ref.region)
    msgs = dlq.receive_many(sqs, ref, limit, BROWSE_VISIBILITY_S)
    try:
        return [decode_message(m, queue.kind) for m in msgs]
    finally:
        if msgs:
            dlq.set_visibility(sqs, ref.url, [m["ReceiptHandle"] for m in msgs], 0)


def export(ctx, queue: QueueRow, directory: Path | None = None) -> str:
    """Every readable message of the queue, decoded, one JSON object a line, in a new local file."""
    messages = browse(ctx, queue, limit=None)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = (directory or Path.cwd()) / f"dlq-{queue.name}-{stamp}.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for m in messages:
            fh.write(json.dumps(m.to_dict(), default=str) + "\n")
    return f"{len(messages)} messages written to {path}"


def redrive(ctx, queue: QueueRow) -> str:
    """Back to where the messages came from: SQS-sourced DLQs to their source queues, Lambda DLQs
    and on-failure destinations by re-invoking the function."""
    from lambdaops.dlq.redrive import RedriveOptions, Redriver

    mode = "by-hand" if queue.kind == "source-dlq" else "invoke"
    result = Redriver(ctx, queue.info.ref(), RedriveOptions(mode=mode), kind=queue.kind,
                      default_function=queue.serves[0] if len(queue.serves) == 1 else None).run()
    failed = len(result.failed)
    return (f"moved {result.sent}, failed {failed}, left {result.left_visible if result.left_visible is not None else '?'}"
            + (" (failed messages stay in the DLQ)" if failed else ""))


def purge(ctx, queue: QueueRow) -> str:
    from lambdaops.aws.dlq import purge_queue

    purge_queue(ctx, queue.info.ref())
    return "purge requested (SQS deletes the messages within 60 seconds)"


def message_fields(m, serves: tuple[str, ...] | list[str] = ()) -> tuple[str, str, str, str]:
    """The list row of a decoded message: when, error, attempts, the function that failed (a queue
    can serve several). The shape (one per queue kind, nearly always) and the message id are in the
    detail pane: the list is half a screen wide, and cut to its last columns they told nothing.
    A message that does not name its function (an SQS redrive, a Lambda DLQ) failed in the one
    function its queue serves, when it serves one."""
    error = m.error_type or m.error_code or m.condition or ""
    attempts = m.attempts if m.attempts is not None else m.receive_count
    function = m.function or (serves[0] if len(serves) == 1 else "")
    return ((m.timestamp or "")[:19].replace("T", " "), error, "" if attempts is None else str(attempts), function)
