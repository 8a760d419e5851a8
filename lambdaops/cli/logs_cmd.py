"""``lambdaops logs FUNCTION [--follow]``: a function's log lines, REPORT lines highlighted and cold
starts marked; ``--follow`` keeps printing new ones (StartLiveTail, else FilterLogEvents polling; see
:mod:`lambdaops.aws.live_logs`)."""

from __future__ import annotations

import sys
import threading
import time

import typer

from lambdaops.errors import EXIT_INTERRUPTED, UsageError

def find_region(aws, name: str, region: str | None) -> str:
    """The region of ``name``: the one given, else the first selected region that has it."""
    from lambdaops.aws.live_logs import function_exists

    if region:
        return region
    for r in aws.regions:
        if function_exists(aws, r, name):
            return r
    raise UsageError(f"no function {name} in {', '.join(aws.regions)} (--region, or REGION/NAME)")


def register(app: typer.Typer) -> None:
    @app.command("logs")
    def logs(
        ctx: typer.Context,
        function: str = typer.Argument(..., help="The function's name, or REGION/NAME."),
        follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines (ctrl+c stops)."),
        since: str = typer.Option("5m", "--since", help="Start this far back (e.g. 30s, 10m, 1h)."),
        poll: bool = typer.Option(False, "--poll", help="Follow by polling FilterLogEvents, without trying StartLiveTail."),
    ) -> None:
        """Print a function's log lines; with --follow, as they are written."""
        # Here, not at the top: every command (and the TUI) imports this module to register it.
        from rich.console import Console

        from lambdaops.aws.live_logs import FollowStatus, LogFollower, log_group_of
        from lambdaops.config import parse_duration
        from lambdaops.log_view import render

        state = ctx.obj
        aws = state.aws()
        region, _, name = function.rpartition("/")
        try:
            back_s = parse_duration(since)
        except ValueError as exc:
            raise UsageError(f"--since: {exc}") from exc
        region = find_region(aws, name, region or None)
        group, group_arn = log_group_of(aws, region, name)
        console = Console(highlight=False, soft_wrap=True)
        err = Console(stderr=True, highlight=False)
        color = console.is_terminal
        stop = threading.Event()
        since_ms = int((time.time() - back_s) * 1000)
        if follow:
            # Past lines first (one FilterLogEvents pass), then the live ones from where they ended.
            past = LogFollower(aws, region, group, group_arn, since_ms=since_ms, once=True)
            newest = since_ms
            for item in past:
                if not isinstance(item, FollowStatus):
                    console.print(render(item, color=color))
                    newest = max(newest, item.timestamp_ms + 1)
            follower = LogFollower(aws, region, group, group_arn, since_ms=newest, stop=stop, live_tail=not poll)
        else:
            follower = LogFollower(aws, region, group, group_arn, since_ms=since_ms, once=True)
        err.print(f"{group} ({region})" + (" · following, ctrl+c stops" if follow else ""), style="dim",
                  markup=False)
        try:
            for item in follower:
                if isinstance(item, FollowStatus):
                    if item.text:
                        err.print(item.text, style="dim", markup=False)
                else:
                    console.print(render(item, color=color))
                    sys.stdout.flush()
        except KeyboardInterrupt:
            stop.set()
            raise typer.Exit(EXIT_INTERRUPTED)

    del logs
