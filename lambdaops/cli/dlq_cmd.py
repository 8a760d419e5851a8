"""``lambdaops dlq``: find, read, export, redrive and purge the fleet's dead-letter queues.

Data goes to stdout (in ``-o`` format), prompts, notes and progress to stderr. Anything that changes
a queue asks first (account, region, source, target, count) unless ``--yes``; with no terminal to
ask on and no ``--yes`` it refuses with exit 2 instead of hanging.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer
from typer.core import TyperCommand

from lambdaops.cli.output import Column, emit, to_json
from lambdaops.dlq import EACH_FUNCTION  # noqa: F401 - --invoke without a value; tests import it from here
from lambdaops.errors import EXIT_INTERRUPTED, EXIT_SERVICE, LambdaopsError, UsageError

dlq_app = typer.Typer(help="Dead-letter queues: list, show, export, redrive, purge.", no_args_is_help=True)

_VALUE_OPTIONS = {"--to", "--filter", "--max", "--rate", "--journal", "--workers", "--invoke"}
PEEK_VISIBILITY_S = 30
EXIT_LEFT = 1  # redrive ran to its end, but some messages stay in the DLQ (refused, undecodable, unconfirmed)


# --------------------------------------------------------------------------------------------
# helpers


def _err(text: str) -> None:
    """A line for the user on stderr. It names queues, files and AWS's own messages: escaped for the
    terminal line by line (lambdaops.safe_text), so no name or message can drive the terminal."""
    from lambdaops.safe_text import safe_text

    print("\n".join(safe_text(part, None) for part in text.split("\n")), file=sys.stderr, flush=True)


def _aws_errors(fn, *args, region: str | None = None, **kwargs):
    """Run an AWS call; botocore failures become one-line errors."""
    from lambdaops.aws.errors import call_translated

    return call_translated(fn, *args, region=region, **kwargs)


def _resolve(state, text: str):
    from lambdaops.aws.dlq import resolve_queue

    aws = state.aws()
    return aws, resolve_queue(aws, text, aws.require_regions())


def _interactive() -> bool:
    return sys.stdin.isatty()


def confirm(action: str, lines: list[tuple[str, str]], *, yes: bool) -> None:
    """Ask on stderr; refuse (exit 2) when there is nobody to ask and no ``--yes``."""
    if yes:
        return
    if not _interactive():
        raise UsageError(f"refusing to {action} without confirmation: no terminal to ask on (pass --yes)")
    _err(f"About to {action}:")
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        _err(f"  {key.ljust(width)}  {value}")
    if not typer.confirm("Proceed?", default=False, err=True):
        raise typer.Exit(1)


def _journal_dir(state, option: Optional[Path]) -> Path:
    from lambdaops.dlq.journal import default_journal_dir

    if option is not None:
        return option
    if getattr(state, "demo", False):  # the in-process demo account dies with the process
        return Path(tempfile.mkdtemp(prefix="lambdaops-redrive-"))
    return default_journal_dir()


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


# --------------------------------------------------------------------------------------------
# list


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
# CSV keeps the counts apart, as numbers.
LIST_CSV_COLUMNS = LIST_COLUMNS[:5] + [Column(k, k) for k in ("depth", "visible", "in_flight", "delayed")] + LIST_COLUMNS[6:]


@dlq_app.command("list")
def list_cmd(
    ctx: typer.Context,
    strict: bool = typer.Option(False, "--strict", help="Exit 254 when anything could not be fetched: a region, or a function's failure destinations (the rest is still listed)."),
) -> None:
    """Every DLQ and failure target of the fleet: kind, functions and sources it serves, depth, oldest age.

    \b
    Kinds: function-dlq (DeadLetterConfig to SQS), sns-dlq (SQS queue subscribed to a function's SNS
    DLQ topic), on-failure (async on-failure destination), source-dlq (an SQS source queue's
    redrive target), stream-on-failure (Kinesis/DynamoDB mapping's on-failure destination).
    Messages = visible + in flight + delayed (all still in the queue); JSON keeps them apart
    (depth, visible, in_flight, delayed). Destinations that are not queues (EventBridge, Lambda, S3,
    an SNS topic no queue subscribes to) are listed with no depth and a note.
    """
    from lambdaops.dlq.discovery import discover_dlqs
    from lambdaops.cli.functions_cmd import report_region_errors

    state = ctx.obj
    fmt = state.output_format()
    found = discover_dlqs(state.aws(), cache_dir=state.cache_dir())
    code = report_region_errors(found.errors, strict=strict, total_regions=len(found.regions),
                                gaps=found.detail_errors)
    if found.errors and len(found.errors) == len(found.regions):
        raise LambdaopsError("every region failed", exit_code=code)
    unread = sum(e["count"] for e in found.detail_errors)  # one failed call ends a function's details
    if unread:
        _err(f"lambdaops: the failure destinations of {unread} functions could not be read: "
             "their DLQs may be missing from this list")
    rows = [q.to_row() for q in found.queues]
    if fmt == "json":
        emit(rows, LIST_COLUMNS, fmt)
    else:
        emit([dict(r, messages=messages_cell(r)) for r in rows], LIST_CSV_COLUMNS if fmt == "csv" else LIST_COLUMNS, fmt)
    if fmt == "table" and sys.stderr.isatty():
        _err(f"{len(rows)} queues in {len(found.regions)} regions, {sum(found.api_calls.values())} API calls")
    if code:
        raise typer.Exit(code)


# --------------------------------------------------------------------------------------------
# show


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


@dlq_app.command("show")
def show_cmd(
    ctx: typer.Context,
    queue: str = typer.Argument(..., help="Queue name, URL or ARN."),
    max_messages: int = typer.Option(10, "--max", min=1, max=10_000, help="Messages to read."),
    width: int = typer.Option(160, "--width", min=40, max=100_000, help="Characters of each event/error shown (table)."),
) -> None:
    """Decode messages without consuming them: original event, error, request id, function, attempts,
    condition; stream batch records are read back from Kinesis or DynamoDB Streams.

    SQS has no peek: the messages are received and made visible again at once, so their receive
    count rises by one.
    """
    from lambdaops.aws import dlq as dlqapi
    from lambdaops.dlq.decode import decode_message

    state = ctx.obj
    fmt = state.output_format()
    aws, ref = _resolve(state, queue)
    sqs = aws.client("sqs", ref.region)
    visible = dlqapi.approximate_depth(aws, ref)[0] if ref.fifo else 0
    msgs = _aws_errors(dlqapi.receive_many, sqs, ref, max_messages, PEEK_VISIBILITY_S, region=ref.region)
    released = _aws_errors(dlqapi.set_visibility, sqs, ref.url, [m["ReceiptHandle"] for m in msgs], 0,
                           region=ref.region) if msgs else []
    _err(f"note: SQS has no peek: {len(msgs)} message(s) of {ref.name} were received and made visible again"
         f"{f' ({len(released)} could not be: they return in {PEEK_VISIBILITY_S}s)' if released else ''}; "
         "their receive count rose by 1")
    if ref.fifo and len(msgs) < min(max_messages, visible):
        _err(f"note: FIFO queue: only {len(msgs)} of {visible} messages can be read without deleting (a message "
             "group stays locked while its messages are being read); `dlq export --delete` reads them all")
    functions = dlqapi.dlq_functions(aws, ref) if msgs else []
    docs = []
    for m in msgs:
        decoded = decode_message(m)
        if decoded.function is None and len(functions) == 1 and decoded.shape == "lambda-dlq":
            decoded.function = functions[0]
        fetched = dlqapi.fetch_batch_records(aws, decoded.batch) if decoded.batch else None
        docs.append(_show_doc(m, decoded, fetched))
    if fmt == "json":
        sys.stdout.write(to_json(docs))
    elif fmt in ("csv", "markdown"):
        emit([_flat_row(d) for d in docs], SHOW_COLUMNS, fmt)
    else:
        out = sys.stdout
        if not docs:
            out.write(f"{ref.name}: no visible messages\n")
        for i, doc in enumerate(docs, 1):
            _print_message(out, i, len(docs), doc, width)


# --------------------------------------------------------------------------------------------
# export


EXPORT_COLUMNS = [Column("queue", "Queue"), Column("file", "File"), Column("messages", "Messages", "right"),
                  Column("bytes", "Bytes", "right"), Column("deleted", "Deleted", "right"),
                  Column("left_visible", "Left visible", "right")]


def _do_export(state, aws, ref, path: Path, *, delete: bool, journal: Optional[Path]):
    from lambdaops.dlq.export import export_queue
    from lambdaops.dlq.journal import AuditLog

    audit = AuditLog(_journal_dir(state, journal))
    try:
        return export_queue(aws, ref, path, delete=delete, audit=audit)
    finally:
        audit.close()


@dlq_app.command("export")
def export_cmd(
    ctx: typer.Context,
    queue: str = typer.Argument(..., help="Queue name, URL or ARN."),
    to: Path = typer.Option(..., "--to", help="JSON-lines file to write (never overwritten)."),
    delete: bool = typer.Option(False, "--delete", help="Delete the exported messages once the file is written and verified."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before --delete."),
    journal: Optional[Path] = typer.Option(None, "--journal", help="Directory of the audit log."),
) -> None:
    """Write every message (body, all attributes and system attributes, decoded fields) to a file.

    Without --delete nothing is consumed: messages are made visible again (receive counts rise by 1).
    """
    from lambdaops.aws import dlq as dlqapi

    state = ctx.obj
    fmt = state.output_format()
    aws, ref = _resolve(state, queue)
    if delete:
        visible, _ = dlqapi.approximate_depth(aws, ref)
        confirm("export and then delete messages", [
            ("account", aws.account_id(ref.region) or "unknown"), ("region", ref.region),
            ("queue", f"{ref.name} ({ref.arn})"), ("file", str(to)), ("messages", f"about {visible:,}")], yes=yes)
    result = _do_export(state, aws, ref, to, delete=delete, journal=journal)
    _err(f"exported {result.messages:,} message(s) of {ref.name} to {result.file}"
         + (f", deleted {result.deleted:,}" if delete else " (receive counts rose by 1)"))
    if ref.fifo and not delete and result.left_visible:
        _err(f"note: FIFO queue: {result.left_visible:,} message(s) could not be read without deleting (a message "
             "group stays locked while its messages are read); --delete exports the whole queue")
    emit([result.to_dict()], EXPORT_COLUMNS, fmt, json_data=result.to_dict())
    if result.delete_failed:
        raise LambdaopsError(f"{result.delete_failed} exported message(s) could not be deleted and are still in {ref.name}",
                             exit_code=EXIT_SERVICE)


# --------------------------------------------------------------------------------------------
# redrive


def rewrite_invoke(args: list[str]) -> list[str]:
    """Let ``--invoke`` take an optional value, which Click cannot express: ``--invoke`` followed by
    the only positional argument (QUEUE) or by an option gets the value "each message's function"."""
    positions: list[int] = []
    invoke_at = None
    i = 0
    while i < len(args):
        tok = args[i]
        if tok == "--":
            positions += list(range(i + 1, len(args)))
            break
        if tok == "--invoke":
            invoke_at = i
            i += 1
            continue
        if tok.startswith("-") and tok != "-":
            i += 2 if (tok in _VALUE_OPTIONS and "=" not in tok) else 1
            continue
        positions.append(i)
        i += 1
    if invoke_at is None:
        return args
    nxt = invoke_at + 1
    if nxt in positions and len(positions) >= 2:
        return args  # --invoke FUNCTION QUEUE or QUEUE --invoke FUNCTION
    return args[:invoke_at] + [f"--invoke={EACH_FUNCTION}"] + args[invoke_at + 1:]


class _RedriveCommand(TyperCommand):
    def parse_args(self, ctx, args):
        return super().parse_args(ctx, rewrite_invoke(list(args)))


REDRIVE_COLUMNS = [Column("dlq", "DLQ"), Column("target", "Target"), Column("mode", "Mode"),
                   Column("selected", "Selected", "right"), Column("sent", "Sent", "right"),
                   Column("deleted", "Deleted", "right"), Column("skipped", "Skipped", "right"),
                   Column("failed", "Failed", "right"), Column("refused", "Refused", "right"),
                   Column("returned", "Returned", "right"), Column("in_flight", "In flight", "right"),
                   Column("left_visible", "Left visible", "right"), Column("task_status", "Task")]


@dlq_app.command("redrive", cls=_RedriveCommand)
def redrive_cmd(
    ctx: typer.Context,
    queue: str = typer.Argument(..., help="The DLQ: name, URL or ARN."),
    to: Optional[str] = typer.Option(None, "--to", help="Send to this queue instead of each message's original source."),
    invoke: Optional[str] = typer.Option(None, "--invoke", metavar="[FUNCTION]",
                                         help="Replay each event to its function (or FUNCTION) with an async Invoke."),
    flt: Optional[str] = typer.Option(None, "--filter", help="JMESPath over the decoded message (see `dlq show -o json`)."),
    max_messages: Optional[int] = typer.Option(None, "--max", min=1, help="Redrive at most N messages."),
    rate: Optional[float] = typer.Option(None, "--rate", min=0.1, help="Messages per second (move task: at most 500)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would happen; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    resume: bool = typer.Option(False, "--resume", help="Finish the unfinished redrive of QUEUE recorded in the journal."),
    journal: Optional[Path] = typer.Option(None, "--journal", help="Journal directory (default $XDG_STATE_HOME/lambdaops/redrive)."),
    by_hand: bool = typer.Option(False, "--by-hand", help="Receive/send/delete even when a message move task could be used."),
    workers: int = typer.Option(4, "--workers", min=1, max=32, help="Parallel receive/send loops (by hand and invoke)."),
    retry_refused: bool = typer.Option(False, "--retry-refused",
                                       help="With --resume: send again the messages the target refused before."),
    resend_unconfirmed: bool = typer.Option(False, "--resend-unconfirmed",
                                            help="With --resume: resend FIFO messages the killed run may have sent "
                                                 "more than 4 minutes ago (a duplicate if they had arrived)."),
) -> None:
    """Put DLQ messages back: to their original source queues (SQS-sourced DLQs: SQS's own message move
    task), to --to QUEUE, or replayed to their function with --invoke.

    \b
    By hand, every message keeps its body, all attributes and AWSTraceHeader; FIFO messages keep
    their group id and get a new deterministic deduplication id. A message is deleted from the DLQ
    only after SQS (or Lambda) confirmed its copy. Each step goes to a local journal: a run killed
    at any moment is finished with --resume. One audit line per message goes to audit.jsonl.

    \b
    Ctrl-C once: no new messages are taken, the batches in hand finish (or go back to the DLQ), and
    the command prints what was moved and the --resume command; Ctrl-C twice: it leaves at once
    (nothing is lost: what was not deleted stays in the DLQ).
    Exit codes: 0 every message taken was moved; 1 some were left in the DLQ (refused by the target,
    not decodable, or FIFO messages that need --resend-unconfirmed); 130 interrupted; 254 an AWS error,
    or messages sent but not deleted or still in flight (--resume finishes them).
    """
    from lambdaops.dlq import plan as redrive_plan

    state = ctx.obj
    fmt = state.output_format()
    aws, ref = _resolve(state, queue)
    jdir = _journal_dir(state, journal)
    if (retry_refused or resend_unconfirmed) and not resume:
        raise UsageError("--retry-refused and --resend-unconfirmed go with --resume")
    if resume:
        if any(v is not None for v in (to, invoke, flt, max_messages, rate)) or by_hand:
            raise UsageError("--resume repeats the journaled run: do not pass --to, --invoke, --filter, --max, --rate or --by-hand")
        plan = redrive_plan.resume_plan(aws, ref, jdir, workers=workers, retry_refused=retry_refused,
                                        resend_unconfirmed=resend_unconfirmed)
    else:
        plan = redrive_plan.new_plan(aws, ref, jdir, to=to, invoke=invoke, flt=flt, max_messages=max_messages,
                                     rate=rate, dry_run=dry_run, by_hand=by_hand, workers=workers)
    if not dry_run:
        confirm("redrive", plan.confirm_lines(aws.account_id(ref.region)), yes=yes)
    progress = _progress_printer()
    resume_cmd = _resume_command(state, ref, jdir, workers)
    run = redrive_plan.RedriveRun(aws, plan, progress=progress)
    runner = run.runner
    with runner.interrupts():  # Ctrl-C once: stop taking messages; twice (even while reporting): leave now
        try:
            try:
                result = run.run()
            finally:
                if progress:
                    sys.stderr.write("\n")
                run.close()
            _report_redrive(result, fmt, dry_run, resume_cmd)
        except KeyboardInterrupt as exc:
            # The journal is on disk (every line was flushed); the workers' threads are not waited
            # for, so os._exit rather than sys.exit.
            _interrupted_summary(getattr(exc, "result", runner.result), resume_cmd, hard=True)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)
        except LambdaopsError:
            if not dry_run and runner.result.stopped and not runner.result.interrupted:
                _interrupted_summary(runner.result, resume_cmd, hard=False)
            raise


def _resume_command(state, ref, jdir: Path, workers: int) -> str:
    """The exact command that finishes this redrive from its journal."""
    from lambdaops.dlq.plan import resume_command

    return resume_command(ref, jdir, profile=getattr(state, "profile", None),
                          endpoint_url=getattr(state, "endpoint_url", None), workers=workers)


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


def _report_redrive(result, fmt: str, dry_run: bool, resume_cmd: str = "") -> None:
    doc = result.to_dict()
    if dry_run:
        _err("dry run: nothing was sent, deleted or started"
             + ("; the messages looked at were made visible again (receive counts rose by 1)" if result.received else ""))
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


# --------------------------------------------------------------------------------------------
# purge


@dlq_app.command("purge")
def purge_cmd(
    ctx: typer.Context,
    queue: str = typer.Argument(..., help="Queue name, URL or ARN."),
    export: Optional[Path] = typer.Option(None, "--export", help="Export to this file first; only exported messages are deleted."),
    no_export: bool = typer.Option(False, "--no-export", help="Purge without exporting (PurgeQueue: irreversible)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    journal: Optional[Path] = typer.Option(None, "--journal", help="Directory of the audit log."),
) -> None:
    """Empty a DLQ, after offering to export it.

    With an export, exactly the messages written to the (verified) file are deleted; messages that
    arrive meanwhile stay. With --no-export the whole queue is purged (SQS PurgeQueue).
    """
    from lambdaops.aws import dlq as dlqapi
    from lambdaops.dlq.purge import purge

    state = ctx.obj
    fmt = state.output_format()
    if export is not None and no_export:
        raise UsageError("--export and --no-export exclude each other")
    aws, ref = _resolve(state, queue)
    visible, in_flight = dlqapi.approximate_depth(aws, ref)
    if export is None and not no_export:
        if not _interactive():
            raise UsageError("purge without a terminal needs --export FILE or --no-export (and --yes)")
        if typer.confirm(f"Export the {visible:,} message(s) of {ref.name} to a file first?", default=True, err=True):
            default = f"{ref.name}-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}.jsonl"
            export = Path(typer.prompt("File", default=default, err=True))
    lines = [("account", aws.account_id(ref.region) or "unknown"), ("region", ref.region),
             ("queue", f"{ref.name} ({ref.arn})"),
             ("count", f"{visible:,} visible, {in_flight:,} in flight")]
    if export is not None:
        lines.append(("export", f"{export}, then delete exactly the exported messages"))
        confirm("purge", lines, yes=yes)
        result = _do_export(state, aws, ref, export, delete=True, journal=journal)
        _err(f"exported {result.messages:,} message(s) to {result.file} and deleted {result.deleted:,}")
        emit([result.to_dict()], EXPORT_COLUMNS, fmt, json_data=result.to_dict())
        if result.delete_failed:
            raise LambdaopsError(f"{result.delete_failed} exported message(s) could not be deleted", exit_code=EXIT_SERVICE)
        return
    lines.append(("export", "none: PurgeQueue deletes every message, irreversibly"))
    confirm("purge", lines, yes=yes)
    doc = purge(aws, ref, _journal_dir(state, journal), depth=(visible, in_flight)).to_dict()
    _err(f"purged {ref.name} ({visible:,} visible, {in_flight:,} in flight)")
    if fmt == "json":
        sys.stdout.write(to_json(doc))
    else:
        emit([doc], [Column("queue", "Queue"), Column("purged", "Purged"),
                     Column("visible_before", "Visible before", "right"),
                     Column("in_flight_before", "In flight before", "right")], fmt)

