"""Export a DLQ to JSON lines, and delete only what the written file verifiably holds.

Each line: the queue ARN, message id, body, MD5 of the body, every message attribute (binary as
base64, as the AWS CLI prints them), every system attribute, and the decoded fields. Each chunk is
flushed to disk and read back (each body's MD5 equal to what SQS computed) before ``delete`` removes
exactly those messages from the queue. A file that already exists is never touched.

The export is written to a temporary file next to the target (``.NAME.partial-...``) and gets its
name only once complete, so a killed export never leaves a file that looks complete. If messages
were already deleted when it stopped, that partial file is their only copy: it is kept, and the
error names it. Files are created 0600 (they hold full message bodies).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from lambdaops.aws import dlq as dlqapi
from lambdaops.aws.context import AwsContext
from lambdaops.dlq.decode import decode_message, json_safe_attributes
from lambdaops.dlq.journal import AuditLog, now_iso, open_private
from lambdaops.errors import LambdaopsError, UsageError

EXPORT_VISIBILITY_S = 900  # messages stay hidden while the file is written and checked


def default_export_dir() -> Path:
    """Where an export goes when no file is named (the TUI): the user's data directory
    (``$XDG_DATA_HOME/lambdaops/exports``, XDG Base Directory Specification), never the working
    directory the TUI happened to start in."""
    from lambdaops.paths import data_dir

    return data_dir() / "exports"


def default_export_path(queue_name: str, stamp: str, directory: Path | None = None) -> Path:
    """``DIR/QUEUE-STAMP.jsonl``; the directory is created private (exports hold message bodies)."""
    directory = directory or default_export_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory / f"{queue_name}-{stamp}.jsonl"


@dataclass
class ExportResult:
    queue: str
    file: str
    messages: int
    bytes: int
    deleted: int = 0
    delete_failed: int = 0
    left_visible: int | None = None

    def to_dict(self) -> dict:
        return {"queue": self.queue, "file": self.file, "messages": self.messages, "bytes": self.bytes,
                "deleted": self.deleted, "delete_failed": self.delete_failed, "left_visible": self.left_visible}


def export_line(ref: dlqapi.QueueRef, msg: dict, kind: str | None, exported_at: str) -> dict:
    decoded = decode_message(msg, kind)
    return {"queue_arn": ref.arn, "message_id": msg["MessageId"], "md5_of_body": msg.get("MD5OfBody"),
            "body": msg.get("Body", ""), "message_attributes": json_safe_attributes(msg.get("MessageAttributes")),
            "attributes": dict(msg.get("Attributes") or {}), "decoded": decoded.to_dict(), "exported_at": exported_at}


def verify_export(path: Path, expected: dict[str, str | None], offset: int = 0) -> set[str]:
    """Message ids whose line is in ``path`` (from byte ``offset``) intact: body MD5 as SQS computed it."""
    good: set[str] = set()
    with open(path, encoding="utf-8") as fh:
        fh.seek(offset)
        for line in fh:
            doc = json.loads(line)
            mid = doc["message_id"]
            md5 = hashlib.md5(doc["body"].encode("utf-8")).hexdigest()  # noqa: S324 - SQS's own checksum
            if mid in expected and (expected[mid] is None or expected[mid] == md5):
                good.add(mid)
    return good


def export_queue(ctx: AwsContext, ref: dlqapi.QueueRef, path: Path, *, kind: str | None = None,
                 delete: bool = False, limit: int | None = None, audit: AuditLog | None = None,
                 sqs=None) -> ExportResult:
    """Export in chunks of one receive: write, flush to disk, read back and check, then (``delete``)
    delete exactly the checked messages before receiving more. Chunking is what lets a FIFO queue be
    exported whole: its message groups stay locked while their messages are in flight. Without
    ``delete`` the messages stay hidden until the end, then are made visible again."""
    path = Path(path)
    if path.exists():
        raise UsageError(f"{path} already exists: choose another file (an export never overwrites)")
    if not path.parent.is_dir():
        raise UsageError(f"directory {path.parent} does not exist")
    sqs = sqs or ctx.client("sqs", ref.region)
    at = now_iso()
    result = ExportResult(ref.name, str(path), 0, 0)
    hidden: dict[str, dict] = {}  # exported, kept hidden until the end (no --delete)
    tmp = path.parent / f".{path.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    try:
        fh = os.fdopen(open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL), "w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot create a file in {path.parent}: {exc.strerror or exc}") from None
    try:
        with fh:
            stale = 0
            while limit is None or result.messages < limit:
                want = 10 if limit is None else min(10, limit - result.messages)
                msgs = dlqapi.receive(sqs, ref.url, want, EXPORT_VISIBILITY_S, 0, profile=ctx.profile) or \
                    dlqapi.receive(sqs, ref.url, want, EXPORT_VISIBILITY_S, 1, profile=ctx.profile)
                fresh = [m for m in msgs if m["MessageId"] not in hidden]
                for m in msgs:  # seen again (its visibility ran out): keep only the newest handle
                    if m["MessageId"] in hidden:
                        hidden[m["MessageId"]] = m
                if not fresh:
                    stale += 1 if msgs else 3
                    if stale >= 3:
                        break
                    continue
                stale = 0
                offset = fh.tell()
                for m in fresh:
                    line = json.dumps(export_line(ref, m, kind, at), ensure_ascii=False) + "\n"
                    fh.write(line)
                    result.bytes += len(line.encode("utf-8"))
                fh.flush()
                os.fsync(fh.fileno())
                good = verify_export(tmp, {m["MessageId"]: m.get("MD5OfBody") for m in fresh}, offset)
                if len(good) != len(fresh):
                    raise LambdaopsError(f"the export file failed its check ({len(good)} of {len(fresh)} messages "
                                         "intact); these were not deleted")
                result.messages += len(fresh)
                if delete:
                    _delete(sqs, ref, fresh, result, audit, str(path))
                else:
                    hidden.update({m["MessageId"]: m for m in fresh})
        _publish(tmp, path)
    except BaseException as exc:
        _release(sqs, ref, list(hidden.values()))
        if not result.deleted:
            try:
                tmp.unlink()
            except OSError:
                pass
        elif isinstance(exc, Exception):
            raise LambdaopsError(f"the export stopped ({exc}); the {result.deleted} message(s) already deleted from "
                                 f"{ref.name} are in {tmp}") from exc
        raise
    if not delete:
        _release(sqs, ref, list(hidden.values()))
        if audit:
            audit.write([{"action": "export", "dlq": ref.arn, "message_id": m["MessageId"], "md5": m.get("MD5OfBody"),
                          "result": f"exported to {path}"} for m in hidden.values()])
    result.left_visible = dlqapi.approximate_depth(ctx, ref)[0]
    return result


def _publish(tmp: Path, path: Path) -> None:
    """Give the complete export its name, never over an existing file (a hard link fails if the
    name exists; rename is the fallback where links are not supported), and make that durable."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise LambdaopsError(f"{path} appeared while exporting: the export is in {tmp}") from None
    except OSError:
        if path.exists():
            raise LambdaopsError(f"{path} appeared while exporting: the export is in {tmp}") from None
        os.replace(tmp, path)
    else:
        os.unlink(tmp)
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _release(sqs, ref: dlqapi.QueueRef, msgs: list[dict]) -> None:
    try:
        dlqapi.set_visibility(sqs, ref.url, [m["ReceiptHandle"] for m in msgs], 0)
    except LambdaopsError:
        pass  # they become visible when their visibility timeout ends


def _delete(sqs, ref: dlqapi.QueueRef, msgs: list[dict], result: ExportResult, audit: AuditLog | None,
            where: str) -> None:
    for start in range(0, len(msgs), 10):
        chunk = msgs[start:start + 10]
        ok, failed = dlqapi.delete_batch(sqs, ref.url, [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                         for i, m in enumerate(chunk)])
        done = {s["Id"] for s in ok}
        result.deleted += len(done)
        result.delete_failed += len(failed)
        if audit:
            audit.write([{"action": "export-delete", "dlq": ref.arn, "message_id": m["MessageId"],
                          "md5": m.get("MD5OfBody"),
                          "result": (f"exported to {where} and deleted" if str(i) in done
                                     else f"exported to {where}; delete failed")}
                         for i, m in enumerate(chunk)])
