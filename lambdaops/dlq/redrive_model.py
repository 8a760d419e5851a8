"""What a redrive is asked to do and what it did: options, result, and the pure helpers (filter,
batch sizing) the redrive uses. No AWS calls here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import jmespath

from lambdaops.aws import dlq as dlqapi
from lambdaops.dlq.decode import DecodedMessage
from lambdaops.errors import UsageError

UNCONFIRMED = "DedupWindowPassed"  # failure code: a FIFO resend SQS might not recognise as a duplicate


@dataclass
class RedriveOptions:
    mode: str = "by-hand"  # move-task | by-hand | invoke
    target: dlqapi.QueueRef | None = None  # --to; None: each message's original source queue
    function: str | None = None  # --invoke FUNCTION; None: each message's own function
    filter: str | None = None  # JMESPath over the decoded message
    max_messages: int | None = None
    rate: float | None = None  # messages per second
    dry_run: bool = False
    workers: int = 4
    visibility_s: int = 300  # held messages stay hidden this long (the whole run, normally)
    empty_wait_s: int = 1  # long poll once before deciding the DLQ is empty (short polls sample)
    retries: int = 3
    retry_delay_s: float = 0.2
    poll_s: float = 1.0  # move task progress polling
    retry_refused: bool = False  # resume: send again what the target refused before
    resend_unconfirmed: bool = False  # resume: resend FIFO messages outside the deduplication interval


@dataclass
class RedriveResult:
    mode: str
    dlq: str
    target: str
    dry_run: bool = False
    received: int = 0  # distinct messages looked at
    selected: int = 0
    sent: int = 0  # sent (or invoked) by this run
    deleted: int = 0
    resumed: int = 0  # confirmed sent by an earlier run: only deleted now
    skipped: int = 0  # not matching --filter
    failed: list[dict] = field(default_factory=list)  # {id, code, message, refused}: left in the DLQ
    delete_failed: int = 0  # sent but not deleted: the journal knows, --resume deletes them
    skipped_refused: int = 0  # resume: refused by the target in an earlier run, not tried again
    returned: int = 0  # received and made visible again in the DLQ (not taken, failed, interrupted)
    in_flight: int = 0  # received, not deleted, and SQS would not make them visible: back after visibility_s
    visibility_s: int = 0
    interrupted: bool = False
    stopped: str | None = None  # why the run ended early (interrupted, an error), None when it ran to its end
    task_status: str | None = None
    task_failure: str | None = None
    left_visible: int | None = None  # DLQ depth at the end
    # In flight or delayed in the DLQ at the end, not held by this run (another reader, a killed run
    # whose handles were unknown): not redriven, and not to be mistaken for an empty DLQ.
    left_hidden: int | None = None
    journal: str | None = None
    audit: str | None = None
    plan: list[dict] = field(default_factory=list)  # dry run: what would happen to each message

    @property
    def refused(self) -> int:
        return sum(1 for f in self.failed if f.get("refused"))

    @property
    def unconfirmed(self) -> int:
        return sum(1 for f in self.failed if f.get("code") == UNCONFIRMED)

    @property
    def complete(self) -> bool:
        """Ran to its end with every message it received moved, refused or returned."""
        return (self.stopped is None and not self.interrupted and self.in_flight == 0
                and self.delete_failed == 0 and self.unconfirmed == 0)

    def to_dict(self) -> dict[str, Any]:
        return {"dlq": self.dlq, "target": self.target, "mode": self.mode, "dry_run": self.dry_run,
                "received": self.received, "selected": self.selected, "sent": self.sent,
                "deleted": self.deleted, "resumed": self.resumed, "skipped": self.skipped,
                "failed": len(self.failed), "refused": self.refused, "skipped_refused": self.skipped_refused,
                "unconfirmed": self.unconfirmed, "delete_failed": self.delete_failed,
                "returned": self.returned, "in_flight": self.in_flight, "interrupted": self.interrupted,
                "stopped": self.stopped, "complete": self.complete,
                "task_status": self.task_status, "task_failure": self.task_failure,
                "left_visible": self.left_visible, "left_hidden": self.left_hidden, "journal": self.journal, "audit": self.audit,
                "failures": self.failed, **({"plan": self.plan} if self.dry_run else {})}


class RedriveInterrupted(KeyboardInterrupt):
    """A second Ctrl-C: the run was left at once. ``result`` says what was done by then; messages
    not deleted are still in the DLQ (some in flight until their visibility timeout ends)."""

    def __init__(self, result: RedriveResult) -> None:
        super().__init__("interrupted")
        self.result = result


@dataclass
class _Target:
    ref: dlqapi.QueueRef
    fifo: bool
    max_bytes: int


def compile_filter(expr: str | None):
    if not expr:
        return None
    try:
        return jmespath.compile(expr)
    except jmespath.exceptions.JMESPathError as exc:
        raise UsageError(f"--filter: not a valid JMESPath expression: {exc}".splitlines()[0]) from None


def matches(compiled, decoded: DecodedMessage) -> bool:
    if compiled is None:
        return True
    try:
        value = compiled.search(decoded.to_dict())
    except jmespath.exceptions.JMESPathError:
        return False
    # JMESPath truthiness: null, false and empty strings, lists and objects are false; 0 is true.
    if value is None or value is False:
        return False
    return not (isinstance(value, (str, list, dict)) and not value)


def entry_size(entry: dict) -> int:
    size = len(entry["MessageBody"].encode("utf-8"))
    for name, attr in (entry.get("MessageAttributes") or {}).items():
        size += len(name.encode()) + len(attr["DataType"].encode())
        value = attr.get("StringValue")
        size += len(value.encode("utf-8")) if value is not None else len(attr.get("BinaryValue") or b"")
    return size


def batches(items: list, size_of: Callable[[Any], int], max_bytes: int, max_count: int = 10) -> list[list]:
    """Split ``items`` in order into SQS batches: at most ``max_count`` entries and ``max_bytes``."""
    out: list[list] = []
    cur: list = []
    total = 0
    for item in items:
        size = size_of(item)
        if cur and (len(cur) >= max_count or total + size > max_bytes):
            out.append(cur)
            cur, total = [], 0
        cur.append(item)
        total += size
    if cur:
        out.append(cur)
    return out
