"""``lambdaops tune FUNCTION``: power tuning with nothing to deploy, and ``--cleanup`` after a killed run."""

from __future__ import annotations

import shlex
import sys
from typing import Optional

import typer

from lambdaops.errors import EXIT_SERVICE, LambdaopsError, UsageError
from lambdaops.safe_text import safe_text

TUNE_HELP = """Find the memory size that is cheapest, fastest or best balanced for FUNCTION.

For each memory size: set it on $LATEST, publish a version, point a run-scoped alias at it, invoke
it --num times and read Duration, Billed Duration, Init/Restore Duration and Max Memory Used from the
REPORT lines. Cost = billed ms x the region's and architecture's price + the request charge.
A size that runs out of memory, times out or always fails is skipped (fatal only with --strict).
The original settings are restored and the run's aliases and versions deleted afterwards, also on
errors and Ctrl-C (a second Ctrl-C does not stop the cleanup; a third does). After any abnormal end the
exact `lambdaops tune --cleanup FUNCTION --region R` command is printed; it also undoes a run killed hard.
"""


def split_function_ref(ref: str) -> tuple[str, str | None]:
    """``name`` or a function ARN -> (name, the ARN's region). Qualifiers are refused: tuning changes $LATEST."""
    if ref.startswith("arn:"):
        parts = ref.split(":")
        if len(parts) < 7 or parts[2] != "lambda" or parts[5] != "function" or not parts[6]:
            raise UsageError(f"{ref!r} is not a Lambda function ARN")
        if len(parts) > 7:
            raise UsageError("tune works on $LATEST: pass the function ARN without a version or alias")
        return parts[6], parts[3]
    if ":" in ref:
        raise UsageError("tune works on $LATEST: pass the function name without a version or alias")
    if not ref.strip():
        raise UsageError("FUNCTION must not be empty")
    return ref, None


def _inert(text: str) -> str:
    """A progress description: Rich reads it as markup, and it can hold AWS's text."""
    from rich.markup import escape

    return escape(safe_text(text, None))


class _StderrProgress:
    """Progress bar on stderr when it is a terminal; warnings always (one line each)."""

    def __init__(self) -> None:
        self.progress = None
        self.task = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), console=Console(stderr=True), transient=True)

    def __enter__(self) -> "_StderrProgress":
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, ev) -> None:
        if ev.kind == "warning":
            self._print(f"lambdaops: warning: {ev.message}")
            return
        if ev.kind == "skipped":
            self._print(f"lambdaops: {ev.message}")
        if self.progress is None:
            return
        if self.task is None:
            self.task = self.progress.add_task(_inert(ev.message), total=ev.total or None)
        desc = _inert(ev.message if ev.architecture is None else f"[{ev.architecture}] {ev.message}")
        self.progress.update(self.task, description=desc, completed=ev.done, total=ev.total or None)

    def _print(self, line: str) -> None:
        line = safe_text(line, None)
        if self.progress is not None:
            self.progress.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=sys.stderr)


def cleanup_command(state, name: str, region: str) -> str:
    """The exact command that undoes what a run left on ``name`` (the flags that chose the account too)."""
    parts = ["lambdaops"]
    if getattr(state, "profile", None):
        parts += ["--profile", state.profile]
    if getattr(state, "endpoint_url", None):
        parts += ["--endpoint-url", state.endpoint_url]
    parts += ["tune", "--cleanup", name, "--region", region]
    return " ".join(shlex.quote(p) for p in parts)


def _say_how_it_ended(run, command: str) -> None:
    """After an abnormal end (error, Ctrl-C): whether the function is as it was, and the command either way."""
    if run.restored is None:  # stopped before changing anything: the error says it all
        return
    if run.restored:
        line = (f"lambdaops: {run.function} was put back as it was (memory, architecture, environment; the run's "
                f"aliases, versions and tags removed); to check, run: {command}")
    else:
        why = (run.cleanup_problems or ["the cleanup did not finish"])[0]
        line = f"lambdaops: {run.function} is NOT fully restored ({why}); to finish, run: {command}"
    print(line, file=sys.stderr, flush=True)


def _options(memory, num, payload, payloads, payload_from_dlq, parallel, cold_only, strategy, weight, discard,
             arch_compare, strict, api):
    from lambdaops.tuning.options import TuneOptions, WeightedPayload, load_payload, load_payloads, parse_memory

    if sum(x is not None for x in (payload, payloads, payload_from_dlq)) > 1:
        raise UsageError("use only one of --payload, --payloads and --payload-from-dlq")
    opts = TuneOptions(memory_sizes=parse_memory(memory), num=num, parallel=parallel, cold_only=cold_only,
                       strategy=strategy.lower(), weight=weight, discard=discard, arch_compare=arch_compare,
                       strict=strict)
    if payload is not None:
        opts.payloads = load_payload(payload)
    elif payloads is not None:
        opts.payloads = load_payloads(payloads)
    opts.validate()  # before any AWS call
    if payload_from_dlq is not None:
        from lambdaops.tuning.dlq_payloads import payloads_from_dlq

        found, notes = payloads_from_dlq(api, payload_from_dlq, limit=min(10, num))
        for note in notes:
            print(f"lambdaops: --payload-from-dlq: {safe_text(note, None)}", file=sys.stderr)
        if not found:
            raise UsageError(f"--payload-from-dlq: {payload_from_dlq} has no visible messages usable as payloads")
        print(f"lambdaops: using {len(found)} events from {payload_from_dlq} (made visible again; SQS has no "
              "peek, so their receive count went up by one)", file=sys.stderr)
        opts.payloads = [WeightedPayload(p) for p in found]
        opts.validate()
    return opts


def _emit_result(result, fmt: str, api_calls: dict) -> None:
    from lambdaops.cli import tune_render
    from lambdaops.cli.output import emit, make_console

    if fmt == "json":
        emit([], [], "json", json_data=result.to_dict(api_calls))
        return
    rows, cols = tune_render.rows(result), tune_render.columns(result)
    if fmt == "csv":
        emit(rows, cols, "csv")
        return
    if fmt == "markdown":
        emit(rows, cols, "markdown")
        sys.stdout.write(f"\n**{tune_render.recommendation_line(result)}**\n")
        return
    console = make_console()
    emit(rows, cols, "table", title=f"{result.function} ({result.region}, {result.architecture})")
    console.print()
    console.print(tune_render.recommendation_line(result), markup=False)
    console.print()
    console.print(tune_render.chart(result))


def _cleanup(api, name: str, fmt: str, command: str) -> None:
    from lambdaops.cli.output import emit
    from lambdaops.tuning.cleanup import cleanup_leftovers
    from lambdaops.tuning.engine import CleanupIncomplete
    from lambdaops.tuning.interrupts import CleanupAborted, InterruptShield

    def say(message: str) -> None:
        print(f"lambdaops: {message}", file=sys.stderr, flush=True)

    try:
        with InterruptShield(say, deferring=True) as shield:
            rep = cleanup_leftovers(api, name, shield)
    except CleanupAborted:
        say(f"{name} is NOT fully restored (the cleanup was stopped by Ctrl-C part-way); to finish, run: {command}")
        raise
    if fmt == "json":
        emit([], [], "json", json_data={"function": rep.function, "actions": rep.actions, "problems": rep.problems})
    elif not rep.actions:
        print(f"nothing to clean up on {rep.function}")
    else:
        for action in rep.actions:
            print(action)
    if rep.problems:
        raise CleanupIncomplete(f"could not undo everything on {rep.function}: {rep.problems[0]}",
                                hint=f"to try again, run: {command}")


def register(app: typer.Typer) -> None:
    @app.command("tune", help=TUNE_HELP)
    def tune(
        ctx: typer.Context,
        function: str = typer.Argument(..., help="Function name or ARN (the ARN's region wins over --region)."),
        memory: Optional[str] = typer.Option(None, "--memory", help="MB list, e.g. 128,256,512,1024,1536,3008 "
                                             "(the default); 'all' = 128..3008 in steps of 64."),
        num: int = typer.Option(10, "--num", help="Invocations per memory size (at least 5)."),
        payload: Optional[str] = typer.Option(None, "--payload", help="JSON file: the event to send."),
        payloads: Optional[str] = typer.Option(None, "--payloads",
                                               help='JSON file: [{"payload": {...}, "weight": 3}, ...].'),
        payload_from_dlq: Optional[str] = typer.Option(None, "--payload-from-dlq", metavar="QUEUE",
                                                       help="Replay real failed events from this SQS DLQ "
                                                            "(name, URL or ARN; not consumed)."),
        parallel: bool = typer.Option(False, "--parallel",
                                      help="Invoke each size's --num invocations concurrently (faster; each "
                                           "concurrent call may start its own environment: more cold starts)."),
        cold_only: bool = typer.Option(False, "--cold-only",
                                       help="Force a cold start on every invocation (a fresh version each time); "
                                            "speed then counts Init/Restore Duration and nothing is trimmed."),
        strategy: str = typer.Option("cost", "--strategy", help="cost | speed | balanced."),
        weight: float = typer.Option(0.5, "--weight", help="balanced: weight of cost (0..1) against duration."),
        arch_compare: bool = typer.Option(False, "--arch-compare",
                                          help="Also measure on the other architecture (restored afterwards)."),
        discard: float = typer.Option(0.2, "--discard", help="Share dropped from each end for the trimmed mean."),
        apply: bool = typer.Option(False, "--apply", help="Set the recommended memory (asks first)."),
        yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before --apply."),
        strict: bool = typer.Option(False, "--strict", help="Stop at the first memory size that fails (exit 254)."),
        cleanup: bool = typer.Option(False, "--cleanup",
                                     help="Only undo what a killed run left on FUNCTION, then exit."),
    ) -> None:
        from lambdaops.aws.tuning import TuningApi
        from lambdaops.cli.lookup import find_function
        from lambdaops.tuning.engine import TuningRun, apply_memory

        state = ctx.obj
        fmt = state.output_format()
        name, _ = split_function_ref(function)  # refuses a qualifier with tune's reason
        if apply and not yes and not sys.stdin.isatty():
            raise UsageError("--apply asks for confirmation, but there is no terminal: add --yes")
        aws = state.aws()
        region = find_function(state, function).region  # every selected region, or the ARN's
        api = TuningApi(aws, region)
        command = cleanup_command(state, name, region)
        if cleanup:
            _cleanup(api, name, fmt, command)
            return
        opts = _options(memory, num, payload, payloads, payload_from_dlq, parallel, cold_only, strategy, weight,
                        discard, arch_compare, strict, api)
        progress = _StderrProgress()
        run = TuningRun(api, name, opts, on_event=progress, cleanup_hint=command)
        try:
            with progress:
                result = run.run()
        except BaseException:
            _say_how_it_ended(run, command)
            raise
        for note in result.notes:
            print(f"lambdaops: note: {note}", file=sys.stderr)
        _emit_result(result, fmt, aws.calls.snapshot())
        if result.cleanup_problems:
            from lambdaops.tuning.engine import CleanupIncomplete

            raise CleanupIncomplete(f"could not undo everything on {result.function}: {result.cleanup_problems[0]}",
                                    hint=f"to finish, run: {command}")
        rec = result.primary.recommendation
        if rec is None:
            raise LambdaopsError(f"every memory size of {result.function} failed; see skipped", exit_code=EXIT_SERVICE)
        if not apply:
            return
        if rec.memory_mb == result.original_memory_mb:
            print(f"lambdaops: {result.function} already has the recommended {rec.memory_mb} MB", file=sys.stderr)
            return
        if not yes and not typer.confirm(f"Set {result.function} to {rec.memory_mb} MB "
                                         f"(now {result.original_memory_mb} MB)?", default=False, err=True):
            print("lambdaops: not applied", file=sys.stderr)
            return
        apply_memory(api, result.function, rec.memory_mb)
        from lambdaops.aws.inventory import forget_listing

        forget_listing(aws, state.cache_dir(), region)  # the next report lists the new memory, not a kept listing
        print(f"lambdaops: set {result.function} to {rec.memory_mb} MB", file=sys.stderr)

    del tune
