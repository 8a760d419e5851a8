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

from lambdaops.cli.dlq_render import (EXPORT_COLUMNS, LIST_COLUMNS, LIST_CSV_COLUMNS, SHOW_COLUMNS, _age, messages_cell,  # noqa: F401 - _age: tests
                                      _err, _flat_row, _interrupted_summary, _print_message, _progress_printer,
                                      _report_redrive, _show_doc)
from lambdaops.cli.output import Column, emit, to_json
from lambdaops.cli.validate import new_file_option
from lambdaops.dlq import EACH_FUNCTION  # noqa: F401 - --invoke without a value; tests import it from here
from lambdaops.errors import EXIT_INTERRUPTED, EXIT_SERVICE, LambdaopsError, UsageError
from lambdaops.plural import plural

dlq_app = typer.Typer(help="Dead-letter queues: list, show, export, redrive, purge.", no_args_is_help=True)

_VALUE_OPTIONS = {"--to", "--filter", "--max", "--rate", "--journal", "--workers", "--invoke"}
PEEK_VISIBILITY_S = 30
# --------------------------------------------------------------------------------------------
# helpers


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


# --------------------------------------------------------------------------------------------
# list


# CSV keeps the counts apart, as numbers.
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
        _err(f"lambdaops: the failure destinations of {plural(unread, 'function')} could not be read: "
             "their DLQs may be missing from this list")
    rows = [q.to_row() for q in found.queues]
    if fmt == "json":
        emit(rows, LIST_COLUMNS, fmt)
    else:
        emit([dict(r, messages=messages_cell(r)) for r in rows], LIST_CSV_COLUMNS if fmt == "csv" else LIST_COLUMNS, fmt)
    if fmt == "table" and sys.stderr.isatty():
        _err(f"{plural(len(rows), 'queue')} in {plural(len(found.regions), 'region')}, "
             f"{plural(sum(found.api_calls.values()), 'API call')}")
    if code:
        raise typer.Exit(code)


# --------------------------------------------------------------------------------------------
# show


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
    from lambdaops.aws import stream_records
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
        fetched = stream_records.fetch_batch_records(aws, decoded.batch) if decoded.batch else None
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
    to: Path = typer.Option(..., "--to", metavar="FILE", callback=new_file_option("--to"), help="JSON-lines file to write (never overwritten)."),
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


# --------------------------------------------------------------------------------------------
# purge


@dlq_app.command("purge")
def purge_cmd(
    ctx: typer.Context,
    queue: str = typer.Argument(..., help="Queue name, URL or ARN."),
    export: Optional[Path] = typer.Option(None, "--export", metavar="FILE", callback=new_file_option("--export"), help="Export to this file first; only exported messages are deleted."),
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

