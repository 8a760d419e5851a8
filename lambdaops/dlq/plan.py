"""The plan of a redrive, shared by ``lambdaops dlq redrive`` and the TUI's redrive: which way the
messages go (SQS's own message move task, by hand, or an async Invoke), what a ``--resume`` repeats,
the checks made before anything moves, and one run with its journal and audit log open.

A run started anywhere (CLI or TUI) writes the same journal in the same directory, so a redrive
stopped or killed in the TUI is finished with ``lambdaops dlq redrive QUEUE --resume``.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from lambdaops.aws import dlq as dlqapi
from lambdaops.aws.context import AwsContext
from lambdaops.dlq.journal import AuditLog, Journal
from lambdaops.dlq.redrive import RedriveOptions, Redriver, compile_filter
from lambdaops.dlq.redrive_model import RedriveResult
from lambdaops.dlq.redrive_task import move_task_rate
from lambdaops.errors import UsageError

from lambdaops.dlq import EACH_FUNCTION
DEFAULT_WORKERS = 4


def choose_mode(ctx: AwsContext, ref: dlqapi.QueueRef, *, invoke: str | None = None, by_hand: bool = False,
                flt: str | None = None, max_messages: int | None = None,
                to_ref: dlqapi.QueueRef | None = None) -> str:
    """``invoke`` when asked; SQS's message move task for a DLQ of SQS queues taken whole (it moves
    every message, without a filter or a count: StartMessageMoveTask, Amazon SQS API Reference);
    by hand otherwise, which needs a target when the DLQ has no SQS source."""
    if invoke is not None:
        return "invoke"
    sources = dlqapi.dead_letter_sources(ctx, ref)
    if by_hand or flt or max_messages is not None or not sources:
        if not sources and to_ref is None:
            raise UsageError(f"{ref.name} is not the DLQ of an SQS queue (its messages came from Lambda, SNS or a "
                             "stream mapping): pass --to QUEUE, or --invoke [FUNCTION] to replay them")
        return "by-hand"
    return "move-task"


@dataclass
class RedrivePlan:
    """What a redrive will do, checked, before anything moves."""

    dlq: dlqapi.QueueRef
    opts: RedriveOptions
    journal_dir: Path
    default_function: str | None = None
    resume_from: Path | None = None  # the unfinished journal a resume finishes
    visible: int = 0
    in_flight: int = 0
    kind: str | None = None

    @property
    def count(self) -> int:
        return self.visible if self.opts.max_messages is None else min(self.visible, self.opts.max_messages)

    @property
    def target_text(self) -> str:
        if self.opts.mode == "invoke":
            return f"lambda:{self.opts.function or self.default_function or '(each message’s own function)'} (async Invoke)"
        t = self.opts.target
        return f"{t.name} ({t.arn})" if t else "each message's original source queue"

    @property
    def via(self) -> str:
        rate = f" at {self.opts.rate:g}/s" if self.opts.rate else ""
        return {"move-task": "SQS message move task" + rate,
                "by-hand": "receive, send, delete confirmed copies" + rate,
                "invoke": "async Invoke, delete once accepted"}[self.opts.mode]

    def confirm_lines(self, account: str | None) -> list[tuple[str, str]]:
        lines = [("account", account or "unknown"), ("region", self.dlq.region),
                 ("source", f"{self.dlq.name} ({self.dlq.arn})"), ("target", self.target_text),
                 ("count", f"{self.count:,} message(s)" + (f", filter {self.opts.filter}" if self.opts.filter else "")
                  + (f" ({self.in_flight:,} more in flight, not included)" if self.in_flight else "")),
                 ("via", self.via)]
        if self.resume_from:
            lines.append(("resume", str(self.resume_from)))
        return lines


def _complete(ctx: AwsContext, plan: RedrivePlan) -> RedrivePlan:
    """The checks every plan passes before a confirmation is asked: the filter compiles, the move
    task's rate is one SQS accepts, the function to invoke is known when the DLQ serves one."""
    if plan.opts.mode == "move-task":
        move_task_rate(plan.opts.rate)  # an integer 1..500, refused (exit 2) before anything starts
    if plan.opts.mode == "invoke" and not plan.opts.function:
        functions = dlqapi.dlq_functions(ctx, plan.dlq)
        plan.default_function = functions[0] if len(functions) == 1 else None
    compile_filter(plan.opts.filter)  # a bad expression is a usage error before anything happens
    plan.visible, plan.in_flight = dlqapi.approximate_depth(ctx, plan.dlq)
    return plan


def new_plan(ctx: AwsContext, ref: dlqapi.QueueRef, journal_dir: Path, *, to: str | None = None,
             invoke: str | None = None, flt: str | None = None, max_messages: int | None = None,
             rate: float | None = None, dry_run: bool = False, by_hand: bool = False,
             workers: int = DEFAULT_WORKERS, kind: str | None = None) -> RedrivePlan:
    to_ref = dlqapi.resolve_queue(ctx, to, [ref.region]) if to else None
    if to_ref is not None and to_ref.arn == ref.arn:
        raise UsageError("--to is the DLQ itself")
    mode = choose_mode(ctx, ref, invoke=invoke, by_hand=by_hand, flt=flt, max_messages=max_messages, to_ref=to_ref)
    function = None if invoke in (None, EACH_FUNCTION) else invoke
    opts = RedriveOptions(mode=mode, target=to_ref, function=function, filter=flt, max_messages=max_messages,
                          rate=rate, dry_run=dry_run, workers=workers)
    return _complete(ctx, RedrivePlan(ref, opts, journal_dir, kind=kind))


def resume_plan(ctx: AwsContext, ref: dlqapi.QueueRef, journal_dir: Path, *, workers: int = DEFAULT_WORKERS,
                retry_refused: bool = False, resend_unconfirmed: bool = False) -> RedrivePlan:
    """The run recorded in the newest unfinished journal of ``ref``, repeated: same mode, target,
    function, filter, rate; ``--max`` less what was already moved."""
    pending = Journal.unfinished(journal_dir, ref.arn)
    if not pending:
        raise UsageError(f"nothing to resume: no unfinished redrive of {ref.name} in {journal_dir}")
    recorded = Journal.load(pending[0])
    recorded.close()
    p = recorded.plan
    to_ref = dlqapi.resolve_queue(ctx, p["target_arn"]) if p.get("target_arn") else None
    done = sum(1 for s in recorded.state.values() if s in ("sent", "deleted"))
    remaining = None if p.get("max") is None else max(0, int(p["max"]) - done)
    opts = RedriveOptions(mode=p["mode"], target=to_ref, function=p.get("function"), filter=p.get("filter"),
                          max_messages=remaining, rate=p.get("rate"), workers=workers,
                          retry_refused=retry_refused, resend_unconfirmed=resend_unconfirmed)
    return _complete(ctx, RedrivePlan(ref, opts, journal_dir, resume_from=pending[0]))


def journal_plan(dlq: dlqapi.QueueRef, opts: RedriveOptions) -> dict[str, Any]:
    """What a journal's ``start`` line records, so --resume repeats the same run."""
    return {"dlq_arn": dlq.arn, "dlq_url": dlq.url, "dlq_name": dlq.name, "region": dlq.region,
            "mode": opts.mode, "target_arn": opts.target.arn if opts.target else None,
            "function": opts.function, "filter": opts.filter, "max": opts.max_messages, "rate": opts.rate,
            "visibility_s": opts.visibility_s}


def open_journal(directory: Path, dlq: dlqapi.QueueRef, opts: RedriveOptions, *, resume: bool) -> Journal:
    """A new journal, or with ``resume`` the newest unfinished one of this DLQ. Without ``resume`` an
    unfinished journal is an error: a second run would resend what the first one may have sent."""
    pending = Journal.unfinished(directory, dlq.arn)
    if resume:
        if not pending:
            raise UsageError(f"nothing to resume: no unfinished redrive of {dlq.name} in {directory}")
        return Journal.load(pending[0])
    if pending:
        raise UsageError(f"an unfinished redrive of {dlq.name} exists ({pending[0]}): "
                         "pass --resume to finish it, or delete that journal file")
    return Journal.create(directory, journal_plan(dlq, opts))


class RedriveRun:
    """One run of a plan with its journal and audit log open (none on a dry run); close it after."""

    def __init__(self, ctx: AwsContext, plan: RedrivePlan, *,
                 progress: Callable[[int, int | None], None] | None = None) -> None:
        self.plan = plan
        dry = plan.opts.dry_run
        self.journal = None if dry else open_journal(plan.journal_dir, plan.dlq, plan.opts,
                                                      resume=plan.resume_from is not None)
        self.audit = None if dry else AuditLog(plan.journal_dir)
        self.runner = Redriver(ctx, plan.dlq, plan.opts, kind=plan.kind, default_function=plan.default_function,
                               journal=self.journal, audit=self.audit, progress=progress)

    def run(self) -> RedriveResult:
        return self.runner.run()

    def stop(self, why: str = "interrupted") -> None:
        """Stop taking messages; what is in hand finishes or goes back, the journal says what is left."""
        self.runner.request_stop(why)

    def close(self) -> None:
        for closing in (self.journal, self.audit):
            if closing:
                closing.close()


def resume_command(ref: dlqapi.QueueRef, journal_dir: Path, *, profile: str | None = None,
                   endpoint_url: str | None = None, workers: int = DEFAULT_WORKERS) -> str:
    """The exact command that finishes a redrive of ``ref`` from its journal."""
    words = ["lambdaops"]
    if profile:
        words += ["--profile", profile]
    if endpoint_url:
        words += ["--endpoint-url", endpoint_url]
    words += ["--region", ref.region, "dlq", "redrive", ref.arn, "--resume", "--journal", str(journal_dir)]
    if workers != DEFAULT_WORKERS:
        words += ["--workers", str(workers)]
    return " ".join(shlex.quote(w) for w in words)
