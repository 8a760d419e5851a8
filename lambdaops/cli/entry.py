"""The ``lambdaops`` command's entry point, ahead of Typer.

``lambdaops --demo`` with no subcommand opens the TUI on the demo account, which runs in a child
process (:class:`lambdaops.demo.launch.DemoProcess`). Its start-up is the longest step before the
rows: started here, before Typer, the command modules and Textual are imported, it runs while this
process does all that and draws the first frame (issue 18). Everything else goes to
:func:`lambdaops.cli.main.main` unchanged. Only the standard library is imported here.

Global options may come before or after the subcommand, as the AWS CLI takes them
(:func:`hoist_globals`, used by the CLI's own parsing too).
"""

from __future__ import annotations

import os
import sys

GLOBAL_WITH_VALUE = ("--profile", "--region", "--endpoint-url", "--output", "-o")
GLOBAL_FLAGS = ("--demo", "--no-demo-cache", "--debug", "--write", "--read-only", "--no-cache")

_early_demo = None  # the DemoProcess started by start_early_demo, until the TUI takes it


def split_globals(args: list[str]) -> tuple[list[str], list[str]]:
    """The global options found anywhere in ``args`` (with their values, in order), and the rest."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            rest.extend(args[i:])
            break
        name = a.split("=", 1)[0]
        if name in GLOBAL_WITH_VALUE and "=" in a and a.startswith("--"):
            front.append(a)
        elif a in GLOBAL_WITH_VALUE:
            front.append(a)
            if i + 1 < len(args):
                front.append(args[i + 1])
                i += 1
        elif a.startswith("-o") and len(a) > 2 and not a.startswith("--"):  # -ojson
            front.append(a)
        elif a in GLOBAL_FLAGS:
            front.append(a)
        else:
            rest.append(a)
        i += 1
    return front, rest


def hoist_globals(args: list[str]) -> list[str]:
    """Move global options found after the subcommand to the front, keeping their order."""
    front, rest = split_globals(args)
    return front + rest


def opens_demo_tui(args: list[str]) -> bool:
    """Whether ``args`` open the TUI on the demo account: ``--demo`` and nothing but global options.
    A mistaken yes costs only a child that ends with this process (its stdin closes)."""
    front, rest = split_globals(args)
    flags = [a for i, a in enumerate(front) if i == 0 or front[i - 1] not in GLOBAL_WITH_VALUE]  # not values
    return "--demo" in flags and not rest


# Subcommands whose first step with --demo is the account (CliState.start_demo): started before their
# imports (pandas, boto3: ~0.6 s), the child loads the account meanwhile. Not `demo` (it is the account).
ONE_SHOT_DEMO_COMMANDS = ("report", "functions", "dlq", "query", "traces", "logs", "tune", "invoke")


def one_shot_demo_command(args: list[str]) -> bool:
    """Whether ``args`` run a command on the demo account: ``--demo`` and one of the subcommands above,
    without ``--help`` (which starts nothing) or ``--endpoint-url`` (refused with ``--demo``)."""
    front, rest = split_globals(args)
    flags = [a for i, a in enumerate(front) if i == 0 or front[i - 1] not in GLOBAL_WITH_VALUE]
    return ("--demo" in flags and bool(rest) and rest[0] in ONE_SHOT_DEMO_COMMANDS
            and not any(a in ("--help", "-h") for a in rest) and "--endpoint-url" not in flags
            and not any(a.startswith("--endpoint-url=") for a in front))


def start_early_demo(args: list[str]) -> None:
    """Start the demo's child process now when ``args`` open the TUI on it or run a command on it.
    A command that fails validation never takes it: it ends with this process (its stdin closes),
    having made no AWS call."""
    global _early_demo
    if _early_demo is not None:
        return
    tui, one_shot = opens_demo_tui(args), one_shot_demo_command(args)
    if not (tui or one_shot):
        return
    if "--no-demo-cache" in args:  # the root command sets it too, after parsing: the child reads it now
        os.environ["LAMBDAOPS_DEMO_CACHE"] = "0"
    from lambdaops.demo.launch import DemoProcess  # the one door to the demo (cheap to import)

    _early_demo = DemoProcess(one_shot=one_shot)
    _early_demo.one_shot = one_shot


def take_early_demo(one_shot: bool = False):
    """The DemoProcess started early for this kind of use, once (None when none was)."""
    global _early_demo
    if _early_demo is None or getattr(_early_demo, "one_shot", False) != one_shot:
        return None
    demo, _early_demo = _early_demo, None
    return demo


def main() -> None:
    start_early_demo(sys.argv[1:])
    from lambdaops.cli.main import main as cli_main

    run(cli_main)


def run(cli_main) -> None:
    """``cli_main()``, then leave without the interpreter's shutdown: with boto3 and pandas loaded it
    frees every module's objects, a tenth of a second after the answer is out. Only once nothing is
    left to finish: every file a command writes is closed (journals flushed on every write) and only
    daemon threads remain; otherwise the usual exit, which waits for them."""
    try:
        cli_main()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    import threading

    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): printed, status 1, as Python does
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a pipe closed early (lambdaops ... | head)
            pass
    os._exit(code)
