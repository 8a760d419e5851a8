"""``lambdaops demo serve``: keep an embedded demo account running for other tools and processes."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import Optional

import typer

from lambdaops.errors import UsageError

demo_app = typer.Typer(help="The embedded demo account (a fake AWS account with a synthetic Lambda fleet).",
                       no_args_is_help=True)


def tool_lines(endpoint: str, env_lines: list[str], demo_regions: tuple[str, ...] = ()) -> list[str]:
    """Shell lines that reach the demo from the AWS CLI v1 and v2, boto3 and lambdaops.

    ``AWS_ENDPOINT_URL`` is honoured by the AWS CLI v2 and by v1 >= 1.29 / botocore >= 1.31 ("Using
    endpoints in the AWS CLI", docs.aws.amazon.com/cli/v1/userguide/cli-configure-endpoints.html), but
    v1 then replaces the endpoint of its ``sqs`` commands (and emr, rds, health) with AWS's own
    unless ``--endpoint-url`` is given: its overridesslcommonname customization checks only that flag,
    so neither AWS_ENDPOINT_URL nor AWS_ENDPOINT_URL_SQS reach the demo there (aws/aws-cli#8737).
    Hence the alias, which passes ``--endpoint-url`` and works with every version.
    """
    regions = ",".join(dict.fromkeys(demo_regions)) if demo_regions else None
    return [*env_lines,
            *([f"export LAMBDAOPS_REGIONS={regions}"] if regions else []),  # lambdaops then sees every region
            f"alias awsdemo='aws --endpoint-url {endpoint}'",
            "# AWS CLI v2 and boto3 use AWS_ENDPOINT_URL; the AWS CLI v1 ignores it for sqs (and before 1.29 "
            "everywhere): use awsdemo, e.g. awsdemo sqs list-queues",
            f"lambdaops --endpoint-url {endpoint} functions"]


@demo_app.command("serve")
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Loopback address to bind (127.0.0.1, localhost or ::1)."),
    port: int = typer.Option(4566, "--port", help="TCP port (0 picks a free one)."),
    seed: int = typer.Option(7, "--seed", help="Seed of the synthetic fleet and its traffic."),
    functions: Optional[int] = typer.Option(None, "--functions", min=1, max=20000,
                                            help="Number of functions (default: the named fleet of 24)."),
    truth: Optional[Path] = typer.Option(None, "--truth", help="Write the ground-truth JSON to this file."),
    window: str = typer.Option("6h", "--window", help="Length of the seeded traffic window before now."),
    latency: float = typer.Option(0.0, "--latency", min=0, help="Add this many ms to every call (real AWS: tens of ms)."),
    quotas: Optional[str] = typer.Option(None, "--quotas", help="'aws' enforces AWS's documented rate quotas."),
    early: bool = typer.Option(False, "--early", help="Announce the endpoint once the functions exist; requests for "
                               "metrics, logs, traces and queues wait until the traffic is generated."),
    until_stdin_closes: bool = typer.Option(False, "--until-stdin-closes", hidden=True,
                                            help="Stop when standard input reaches its end (the TUI's child: "
                                            "the account dies with the process that started it)."),
    one_shot: bool = typer.Option(False, "--one-shot", hidden=True,
                                  help="The account of one --demo command (launch.DemoProcess): early and building at "
                                  "once; when standard input closes, it writes what the command computed to the demo "
                                  "cache, then exits."),
) -> None:
    """Run the demo account until Ctrl-C and print how to point AWS tools at it."""
    from lambdaops.window import parse_duration
    from lambdaops.demo.launch import open_account

    if quotas not in (None, "aws", "off"):
        raise UsageError("--quotas takes 'aws' or 'off'")
    try:
        window_h = parse_duration(window) / 3600
    except ValueError as exc:
        raise UsageError(f"--window: {exc}") from None
    try:
        # One command queries each log group once: no Insights memo, unless the account comes from (or
        # goes to) the demo cache, which keeps the memo's columns for the next command.
        account = open_account(seed=seed, functions=functions, host=host, port=port, window_hours=window_h,
                              latency_ms=latency, quotas=None if quotas == "off" else quotas,
                              insights_memo=not one_shot, save_cache_on_stop=one_shot, freeze_gc=True,
                              hold_cache_writes=one_shot or until_stdin_closes)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        # One shot: its inventory is paced by the control plane's rate limits, time the traffic is built in.
        account.start(early=early or one_shot, eager=one_shot)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    parent_gone = threading.Event()
    if until_stdin_closes or one_shot:
        # The parent holds the pipe's other end and never writes: its end closes when it exits,
        # however it exits (kill -9, a crash), and an orphaned account would keep its memory and its port.
        # Its life is tied to that pipe alone: the terminal's hangup (its window closed while the
        # account writes the demo cache after the TUI quit) is not its business.
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, signal.SIG_IGN)

        def watch_stdin() -> None:
            try:
                while sys.stdin.buffer.read(4096):
                    pass
            except (OSError, ValueError):
                pass
            parent_gone.set()
            stop.set()

        threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()
    try:
        if truth is not None:
            from lambdaops.demo.launch import write_truth

            account.ready.wait()
            write_truth(account, truth)
        print(f"lambdaops demo account {account.account_id} listening on {account.endpoint}")
        seeded = "traffic still being generated" if not account.ready.is_set() else \
            f"seeded in {account.timings.get('total_s', 0):.1f}s" + (" from the demo cache" if account.from_cache else "")
        print(f"regions: {', '.join(account.regions)}; functions: {len(account.fleet)}; seed: {seed}; {seeded}")
        print("point tools at it with (sh, bash, zsh):")
        for line in tool_lines(account.endpoint, account.env_lines(), account.regions):
            print(f"  {line}")
        print("press Ctrl-C to stop", flush=True)
        # One shot: nobody reads on once the endpoint is known (the command's process may be gone).
        announced = account.ready.is_set() or one_shot
        while not stop.wait(0.2):
            if not announced and account.ready.is_set():
                announced = True
                if account.failure is not None:
                    print(f"error: the demo account failed to seed: {account.failure}", file=sys.stderr, flush=True)
                    raise typer.Exit(1)
                print(f"traffic ready in {account.timings.get('total_s', 0):.1f}s", flush=True)
    finally:
        # The TUI's account, once the TUI has quit: what its queries computed since the last write goes
        # to the demo cache before it exits (the TUI does not wait), so the next run starts warm even
        # after a session closed as soon as its figures were in.
        account.stop(save=one_shot or parent_gone.is_set())
    print("demo account stopped", file=sys.stderr)
    # werkzeug's request threads are daemons and may still sit on a client's keep-alive socket;
    # finalizing the interpreter under them can abort (exit -6, seen once in CI under load). The
    # account lives only in memory and nothing is left to flush: leave at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
