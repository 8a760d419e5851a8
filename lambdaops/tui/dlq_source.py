"""The DLQ screen's one wiring point to the DLQ engine (:mod:`lambdaops.dlq`, the calls in
:mod:`lambdaops.aws.dlq`). No textual; every function blocks and runs in a thread worker.

- discovery, depth and oldest age: ``dlq_discovery.discover_dlqs`` (the four places failed events
  land), the same discovery as ``dlq list`` and the report's ``dlq_depth``; depth counts visible, in
  flight and delayed messages alike (all still in the queue);
- browsing: receive with a short visibility timeout, decode, then make the messages visible again
  at once (SQS has no true peek: browsing raises each message's receive count, and the screen says so);
- export: ``dlq export``'s (:mod:`lambdaops.dlq.export`): every message in a new, verified JSON
  Lines file, by default in the user's data directory; changes nothing in AWS;
- redrive and purge: ``dlq redrive``'s plan and engine (:mod:`lambdaops.dlq.plan`), with the same
  journal, audit log and move task, so a redrive stopped here is finished with ``dlq redrive
  --resume``; behind --write and the confirmation.
"""

from __future__ import annotations

import tempfile
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
    per-region errors; ages as of ``now`` (the session's clock)."""
    from lambdaops.dlq.discovery import discover_dlqs

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


def journal_dir(session) -> Path:
    """The redrive journal and audit log directory, the CLI's: ``$XDG_STATE_HOME/lambdaops/redrive``,
    so ``lambdaops dlq redrive --resume`` finishes what the TUI started. On the demo account (it dies
    with the session, as ``--demo`` does for the CLI) a directory of this session's own, so a demo's
    journals never block a later demo's redrive. Kept on the session: one directory a session."""
    jdir = getattr(session, "redrive_journal_dir", None)
    if jdir is None:
        from lambdaops.dlq.journal import default_journal_dir

        jdir = (Path(tempfile.mkdtemp(prefix="lambdaops-redrive-")) if getattr(session, "label", "") == "demo"
                else default_journal_dir())
        session.redrive_journal_dir = jdir
    return jdir


def default_export_file(queue: QueueRow) -> Path:
    """The file an export of ``queue`` is offered: ``QUEUE-STAMP.jsonl`` in the user's data directory
    (created only when the export goes there)."""
    from lambdaops.dlq.export import default_export_dir

    return default_export_dir() / f"{queue.name}-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}.jsonl"


def export(ctx, queue: QueueRow, jdir: Path, path: Path | None = None) -> str:
    """Every message of the queue to a new JSON Lines file, with ``dlq export``'s checks: never over an
    existing file, written privately under a temporary name, read back before it gets its name, one
    audit line a message. Without a path: the user's data directory. Nothing is deleted."""
    from lambdaops.dlq.export import default_export_path, export_queue
    from lambdaops.dlq.journal import AuditLog

    ref = _ref(queue)
    if path is None:
        path = default_export_path(queue.name, datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"))
    audit = AuditLog(jdir)
    try:
        result = export_queue(ctx, ref, path, kind=queue.kind, delete=False, audit=audit)
    finally:
        audit.close()
    return f"{result.messages} messages written to {result.file} (receive counts rose by 1)"


def plan_redrive(ctx, queue: QueueRow, jdir: Path):
    """``dlq redrive``'s plan for this queue: SQS's message move task back to the source queues for
    the DLQ of SQS queues, an async Invoke of each message's function otherwise; checked (rate,
    function, depth) before the confirmation shows it."""
    from lambdaops.dlq import EACH_FUNCTION
    from lambdaops.dlq.plan import new_plan

    invoke = None if queue.kind == "source-dlq" else EACH_FUNCTION
    return new_plan(ctx, _ref(queue), jdir, invoke=invoke, kind=queue.kind)


def start_redrive(ctx, plan):
    """The run of ``plan`` with its journal and audit log open (the CLI's): the caller runs it in a
    worker, may ``stop()`` it, and closes it."""
    from lambdaops.dlq.plan import RedriveRun

    return RedriveRun(ctx, plan)


def redrive_summary(result, resume_cmd: str) -> str:
    failed = len(result.failed)
    left = result.left_visible if result.left_visible is not None else "?"
    text = f"moved {result.deleted}, failed {failed}, left {left}" + (" (failed messages stay in the DLQ)" if failed else "")
    if result.stopped or (result.task_status and result.task_status != "COMPLETED"):
        text += f"; stopped ({result.stopped or result.task_status}): finish with {resume_cmd}"
    return text


def purge(ctx, queue: QueueRow, jdir: Path) -> str:
    from lambdaops.dlq.purge import purge as purge_queue

    res = purge_queue(ctx, _ref(queue), jdir)
    return (f"purge requested ({res.visible_before} visible, {res.in_flight_before} in flight; SQS deletes the "
            "messages within 60 seconds)")


def _ref(queue: QueueRow):
    ref = queue.info.ref()
    if ref is None:
        raise ValueError(f"{queue.name} is not an SQS queue: its messages cannot be read here")
    return ref


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
