"""What ``lambdaops dlq`` prints: tables and columns, one message in full, the redrive's report and
the summary of a stopped run. Data to stdout, notes to stderr (escaped for the terminal)."""

from __future__ import annotations

import sys

import typer

from lambdaops.cli.output import Column, emit, to_json
from lambdaops.errors import EXIT_INTERRUPTED, EXIT_SERVICE, LambdaopsError

EXIT_LEFT = 1  # redrive ran to its end, but some messages stay in the DLQ (refused, undecodable, unconfirmed)


def _err(text: str) -> None:
    """A line for the user on stderr. It names queues, files and AWS's own messages: escaped for the
    terminal line by line (lambdaops.safe_text), so no name or message can drive the terminal."""
    from lambdaops.safe_text import safe_text

    print("\n".join(safe_text(part, None) for part in text.split("\n")), file=sys.stderr, flush=True)


def _age(seconds) -> str:
    from lambdaops.durations import age

    return "-" if seconds is None else age(float(seconds))


def _progress_printer():
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int | None) -> None:
        text = f"\r  redriven {done:,}" + (f" / {total:,}" if total else "")
        sys.stderr.write(text)
        sys.stderr.flush()

    return show


def messages_cell(row: dict) -> str:
    """``12 (3 in flight, 1 delayed)``: every message in the queue, and those a receive cannot see yet."""
    if row.get("depth") is None:
        return "-"
    extra = [f"{row[k]:,} {label}" for k, label in (("in_flight", "in flight"), ("delayed", "delayed")) if row.get(k)]
    return f"{row['depth']:,}" + (f" ({', '.join(extra)})" if extra else "")


LIST_COLUMNS = [
    Column("name", "Queue", max_width=40),
    Column("region", "Region"),
    Column("kind", "Kind"),
    Column("functions", "Functions", max_width=40),
    Column("sources", "Sources", max_width=40),
    Column("messages", "Messages", "right"),
    Column("oldest_age_s", "Oldest", "right", fmt=_age),
    Column("fifo", "FIFO"),
    Column("note", "Note", max_width=50),
]
LIST_CSV_COLUMNS = LIST_COLUMNS[:5] + [Column(k, k) for k in ("depth", "visible", "in_flight", "delayed")] + LIST_COLUMNS[6:]


SHOW_COLUMNS = [
    Column("message_id", "Message", max_width=36),
    Column("shape", "Shape"),
    Column("function", "Function"),
    Column("request_id", "Request"),
    Column("error", "Error", max_width=60),
    Column("condition", "Condition"),
    Column("attempts", "Attempts", "right"),
    Column("receive_count", "Receives", "right"),
    Column("body_bytes", "Bytes", "right"),
    Column("event", "Event", max_width=60),
]


def _show_doc(msg: dict, decoded, fetched) -> dict:
    doc = decoded.to_dict()
    doc["body"] = msg.get("Body", "")
    if fetched is not None:
        from lambdaops.dlq.decode import decode_dynamodb_record, decode_kinesis_record

        decode = decode_kinesis_record if decoded.batch.stream == "kinesis" else decode_dynamodb_record
        doc["records"] = [decode(r) for r in fetched.records]
        doc["records_note"] = fetched.note
    return doc


def _error_text(doc: dict, width: int) -> str | None:
    """``200 TypeName: message``, without repeating a type the message already starts with."""
    from lambdaops.dlq.decode import safe_text

    message = doc.get("error_message") or ""
    etype = doc.get("error_type")
    head = [safe_text(str(x), width) for x in (doc.get("error_code"), etype if etype and not message.startswith(etype)
                                                else None) if x]
    text = " ".join(head)
    if message:
        text = f"{text}: {safe_text(message, width)}" if text and etype and not message.startswith(etype) \
            else f"{text} {safe_text(message, width)}".strip()
    return text or None


def _flat_row(doc: dict) -> dict:
    from lambdaops.dlq.decode import preview

    return {"message_id": doc["message_id"], "shape": doc["shape"], "function": doc.get("function"),
            "request_id": doc.get("request_id"), "error": _error_text(doc, 120),
            "condition": doc.get("condition"), "attempts": doc.get("attempts"),
            "receive_count": doc.get("receive_count"), "body_bytes": doc.get("body_bytes"),
            "event": preview(doc.get("event"), 120) if doc.get("batch") is None
            else f"{len(doc.get('records', []))} records" + (f" ({doc['records_note']})" if doc.get("records_note") else "")}


def _print_message(stream, n: int, total: int, doc: dict, width: int) -> None:
    """One message for a human. Every field came from the message (ids, timestamps, ARNs, record
    keys: a record's JSON holds what its sender wrote), so each line is escaped for the terminal as
    a whole, once, on its way out."""
    from lambdaops.dlq.decode import attribute_preview, preview, safe_text

    class _Out:
        def write(self, text: str) -> None:
            stream.write("".join(safe_text(part, None) + "\n" for part in text.rstrip("\n").split("\n")))

    out = _Out()
    head = f"── {n}/{total}  {safe_text(doc['message_id'], 100)}  {doc['shape']}"
    if doc.get("timestamp"):
        head += f"  {safe_text(doc['timestamp'], 60)}"
    out.write(head + "\n")

    def line(label: str, value) -> None:
        if value not in (None, "", [], {}):
            out.write(f"   {label:<10} {safe_text(str(value), width + 200)}\n")

    line("function", safe_text(doc.get("function"), 120) if doc.get("function") else None)
    line("request", doc.get("request_id"))
    line("error", _error_text(doc, width))
    line("condition", doc.get("condition"))
    line("attempts", doc.get("attempts"))
    line("receives", doc.get("receive_count"))
    if doc.get("group_id"):
        line("group", f"{safe_text(doc['group_id'], 80)}  dedup {safe_text(doc.get('dedup_id'), 80)}")
    line("source", doc.get("source_arn"))
    for name, attr in sorted((doc.get("attributes") or {}).items()):
        line("attribute", f"{safe_text(name, 60)} = {attribute_preview(attr, 80)}")
    for note in doc.get("notes") or []:
        line("note", safe_text(note, width))
    batch = doc.get("batch")
    if batch:
        line("batch", f"{batch['stream']} {batch['stream_arn']} {batch['shard_id']} "
                      f"{batch['start_sequence_number']}..{batch['end_sequence_number']} ({batch['batch_size']} records)")
        records = doc.get("records") or []
        if doc.get("records_note"):
            line("records", f"{len(records)} read back; {doc['records_note']}")
        else:
            line("records", f"{len(records)} read back from the stream")
        for rec in records[:20]:
            if batch["stream"] == "kinesis":
                data = rec["data"]
                shown = preview(data.get("value"), width) if data["format"] != "binary" \
                    else f"<binary {data['bytes']} bytes, base64 {data['base64'][:32]}…>"
                out.write(f"     {rec['sequenceNumber']}  key={safe_text(rec.get('partitionKey'), 40)}  {shown}\n")
            else:
                ddb = rec["dynamodb"]
                out.write(f"     {rec['sequenceNumber']}  {rec.get('eventName')}  keys={preview(ddb.get('Keys'), 60)}  "
                          f"new={preview(ddb.get('NewImage'), width // 2)}\n")
        if len(records) > 20:
            out.write(f"     … {len(records) - 20} more (-o json shows all)\n")
    else:
        kind = doc.get("body_format")
        line("event", f"({kind}, {doc.get('body_bytes'):,} bytes) {preview(doc.get('event'), width)}")


EXPORT_COLUMNS = [Column("queue", "Queue"), Column("file", "File"), Column("messages", "Messages", "right"),
                  Column("bytes", "Bytes", "right"), Column("deleted", "Deleted", "right"),
                  Column("left_visible", "Left visible", "right")]


REDRIVE_COLUMNS = [Column("dlq", "DLQ"), Column("target", "Target"), Column("mode", "Mode"),
                   Column("selected", "Selected", "right"), Column("sent", "Sent", "right"),
                   Column("deleted", "Deleted", "right"), Column("skipped", "Skipped", "right"),
                   Column("failed", "Failed", "right"), Column("refused", "Refused", "right"),
                   Column("returned", "Returned", "right"), Column("in_flight", "In flight", "right"),
                   Column("left_visible", "Left visible", "right"), Column("task_status", "Task")]


def _interrupted_summary(result, resume_cmd: str, *, hard: bool) -> None:
    """What a stopped run did, on stderr: moved, left, in flight, and how to finish it."""
    how = "left at once (second Ctrl-C)" if hard else ("stopped (Ctrl-C)" if result.interrupted else
                                                         f"stopped ({result.stopped or 'error'})")
    _err(f"redrive of {result.dlq} {how}: moved {result.deleted:,} (sent {result.sent:,}), "
         f"refused {result.refused:,}, returned to the DLQ {result.returned:,}, in flight {result.in_flight:,}"
         + (f" (back in the DLQ within {result.visibility_s}s)" if result.in_flight else ""))
    if hard:
        _err("nothing was lost: messages not deleted are still in the DLQ (those in hand come back when their "
             "visibility timeout ends); the journal knows which copies were already sent")
    if result.journal:
        _err(f"journal: {result.journal}")
        _err(f"to finish: {resume_cmd}")


def held_behind_groups(result) -> int:
    """Messages of a FIFO DLQ a by-hand dry run could not look at (0 when none, or not a FIFO queue)."""
    if result.mode == "move-task" or not str(result.dlq).endswith(".fifo") or result.left_visible is None:
        return 0
    return max(0, result.left_visible - len(result.plan))


def _report_redrive(result, fmt: str, dry_run: bool, resume_cmd: str = "") -> None:
    doc = result.to_dict()
    if dry_run:
        _err("dry run: nothing was sent, deleted or started"
             + ("; the messages looked at were made visible again (receive counts rose by 1)" if result.received else ""))
        hidden = held_behind_groups(result)
        if hidden:
            _err(f"note: {len(result.plan):,} of the {len(result.plan) + hidden:,} messages in {result.dlq} are "
                 "planned: a FIFO queue hands out the next message of a group only after the one before it is "
                 f"deleted, so a dry run cannot see the {hidden:,} held behind them (a real run moves them too)")
        if fmt == "json":
            sys.stdout.write(to_json(doc))
        else:
            cols = [Column("id", "Message"), Column("shape", "Shape"), Column("action", "Action"),
                    Column("target", "Target"), Column("group_id", "Group"), Column("note", "Note")]
            if result.mode == "move-task":
                cols = [Column("action", "Action"), Column("source_arn", "Source"),
                        Column("destination_arn", "Destination"), Column("messages", "Messages", "right"),
                        Column("rate", "Rate", "right")]
            emit(result.plan, cols, fmt)
        return
    emit([doc], REDRIVE_COLUMNS, fmt, json_data=doc)
    if result.interrupted:
        _interrupted_summary(result, resume_cmd, hard=False)
        raise typer.Exit(EXIT_INTERRUPTED)
    if result.journal:
        _err(f"journal: {result.journal}")
    if result.left_hidden:
        _err(f"note: {result.left_hidden:,} more message(s) in {result.dlq} are in flight or delayed (another reader, "
             "or a run killed before it could note them) and were not redriven: run again once they are visible")
    if result.task_status == "FAILED":
        raise LambdaopsError(f"the message move task failed: {result.task_failure}", exit_code=EXIT_SERVICE)
    if result.delete_failed or result.in_flight:
        raise LambdaopsError(f"{result.delete_failed} message(s) were sent but could not be deleted from {result.dlq}, "
                             f"{result.in_flight} are still in flight: finish with {resume_cmd} (nothing is sent twice)",
                             exit_code=EXIT_SERVICE)
    if result.failed or result.skipped_refused:
        first = result.failed[0] if result.failed else None
        parts = []
        if result.refused:
            parts.append(f"{result.refused} refused by the target")
        if result.unconfirmed:
            parts.append(f"{result.unconfirmed} FIFO message(s) may already be in the target (check it, then "
                         "--resume --resend-unconfirmed)")
        other = len(result.failed) - result.refused - result.unconfirmed
        if other:
            parts.append(f"{other} failed")
        if result.skipped_refused:
            parts.append(f"{result.skipped_refused} refused before and not tried again (--retry-refused)")
        _err(f"{len(result.failed) + result.skipped_refused} message(s) stay in {result.dlq}: " + "; ".join(parts)
             + (f" (first: {first['code']}: {first['message'][:120]})" if first else "") + "; see the audit log")
        raise typer.Exit(EXIT_LEFT)


