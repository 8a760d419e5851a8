"""The commands of ``:`` (k9s style) and of the command palette: one table, one dispatcher.

``run_command(app, text)`` returns None when done, or a one-line problem to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from lambdaops.config import REFRESH_FLOOR_S, split_regions
from lambdaops.window import parse_duration


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    help: str
    run: Callable  # (app, argument) -> problem or None
    aliases: tuple[str, ...] = ()
    needs_argument: bool = False


def _fleet(app, arg: str):
    app.go_home()
    if arg:
        app.fleet_screen.set_filter(arg)


def _function(app, arg: str):
    if not arg:
        return "usage: fn NAME (or REGION/NAME)"
    matches = [f for f in app.functions if f.name == arg or f"{f.region}/{f.name}" == arg]
    if not matches:
        matches = [f for f in app.functions if arg in f.name]
    if not matches:
        return f"no function matches {arg!r}"
    if len(matches) > 1 and not any(f.name == arg for f in matches):
        app.go_home()
        app.fleet_screen.set_filter(arg)
        return f"{len(matches)} functions match {arg!r}: filtered the fleet"
    fn = next((f for f in matches if f.name == arg or f"{f.region}/{f.name}" == arg), matches[0])
    app.open_function(f"{fn.region}/{fn.name}")


def _dlq(app, arg: str):
    key = None
    if arg:
        fn = next((f for f in app.functions if f.name == arg), None)
        key = f"{fn.region}/{fn.name}" if fn else None
    app.open_dlq(key)


def _tune(app, arg: str):
    fn = next((f for f in app.functions if f.name == arg), None) if arg else None
    if fn is None:
        return "usage: tune NAME (a function of the fleet)"
    app.open_tuning(f"{fn.region}/{fn.name}")


def _window(app, arg: str):
    try:
        seconds = parse_duration(arg)
    except ValueError as exc:
        return str(exc)
    app.set_window(seconds)


def _regions(app, arg: str):
    regions = split_regions(arg)
    if not regions:
        return "usage: regions us-east-1,eu-west-1"
    return app.set_regions(regions)


def _refresh_every(app, arg: str):
    try:
        seconds = parse_duration(arg if arg[-1:].isalpha() else f"{arg}s")
    except ValueError as exc:
        return str(exc)
    app.session.settings.refresh_s = max(REFRESH_FLOOR_S, seconds)
    if seconds < REFRESH_FLOOR_S:
        return f"refresh raised to the {REFRESH_FLOOR_S}s floor"


def _sort(app, arg: str):
    app.go_home()
    if not app.fleet_screen.sort_by(arg):
        return f"no column {arg!r}"


COMMANDS = (
    Command("fleet", "fleet [FILTER]", "the fleet (home), optionally filtered", _fleet, ("home", "fns")),
    Command("fn", "fn NAME", "open a function", _function, ("function", "f"), needs_argument=True),
    Command("dlq", "dlq [FUNCTION]", "the DLQs and failure destinations", _dlq, ("dlqs", "queues")),
    Command("tune", "tune NAME", "power tuning for a function", _tune, ("tuning",), needs_argument=True),
    Command("window", "window 1h", "time window (15m, 3h, 1d, ...)", _window, ("since",), needs_argument=True),
    Command("regions", "regions us-east-1,eu-west-1", "regions to watch", _regions, ("region",), needs_argument=True),
    Command("every", "every 60s", f"automatic refresh interval (floor {REFRESH_FLOOR_S}s)", _refresh_every,
            needs_argument=True),
    Command("sort", "sort COLUMN", "sort the fleet by a column (err, p99ms, cost, ...)", _sort, needs_argument=True),
    Command("refresh", "refresh", "fetch now", lambda app, arg: app.action_refresh()),
    Command("pause", "pause", "pause or resume the automatic refresh", lambda app, arg: app.action_pause()),
    Command("errors", "errors", "the error log", lambda app, arg: app.action_errors()),
    Command("help", "help", "keys and commands", lambda app, arg: app.action_help()),
    Command("quit", "quit", "quit lambdaops", lambda app, arg: app.exit(), ("q", "exit")),
)


def find(name: str) -> Command | None:
    name = name.lower()
    return next((c for c in COMMANDS if c.name == name or name in c.aliases), None)


def run_command(app, text: str) -> str | None:
    text = text.strip().lstrip(":").strip()
    if not text:
        return None
    name, _, arg = text.partition(" ")
    cmd = find(name)
    if cmd is None:
        return f"unknown command {name!r} (try :help)"
    if cmd.needs_argument and not arg.strip():
        return f"usage: {cmd.usage}"
    return cmd.run(app, arg.strip())


def suggestions(app) -> list[str]:
    """What ``:`` completes: every command, and ``fn NAME`` for each function."""
    return [c.usage for c in COMMANDS] + [f"fn {f.name}" for f in app.functions]


def palette_commands(app):
    """The command palette's entries: what ``:`` offers."""
    from textual.app import SystemCommand

    for c in COMMANDS:
        if not c.needs_argument:
            yield SystemCommand(f":{c.name}", c.help, lambda c=c: app.run_command(c.name))
    for f in app.functions:
        yield SystemCommand(f":fn {f.name}", f"open {f.name} ({f.region})",
                            lambda f=f: app.run_command(f"fn {f.region}/{f.name}"), discover=False)
    yield SystemCommand("Theme", "Change the current theme", app.action_change_theme)
