"""Every key binding as data: an id (for keymaps: ``App.set_keymap({"lambdaops.refresh": "f5"})``), the
key, the action, the footer label and a description for the ``?`` screen.

k9s conventions: ``:`` command, ``/`` filter, ``enter`` drill down, ``esc`` back, ``r`` refresh,
``p`` pause, ``t`` time window, ``R`` regions/profile, ``?`` help. Actions that change AWS use ctrl
chords that sit on no harmless key, and are not bound at all in read-only mode (see
:data:`WRITE_ACTIONS` and ``check_action`` in the app and screens).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Key:
    id: str
    key: str
    action: str
    label: str
    description: str
    show: bool = True
    priority: bool = False

    def binding(self) -> Binding:
        return Binding(self.key, self.action, self.label, show=self.show, priority=self.priority,
                       id=f"lambdaops.{self.id}", tooltip=self.description)


GLOBAL = (
    Key("command", "colon", "command_line", "Command", "jump to a screen or run a command (:fleet, :fn NAME, :dlq, :tune NAME, :window 1h, ...)"),
    Key("help", "question_mark", "help", "Help", "this screen: every key and command"),
    Key("refresh", "r", "refresh", "Refresh", "fetch the current screen's data now"),
    Key("pause", "p", "pause", "Pause", "pause or resume the automatic refresh"),
    Key("window", "t", "window", "Window", "choose the time window (15m .. 7d)"),
    Key("regions", "R", "regions", "Regions", "choose the regions and the AWS profile to watch (credentials checked before anything changes)"),
    Key("errors", "E", "errors", "Errors", "the error log: every failed call and query of this session", show=False),
    Key("quit", "q", "quit", "Quit", "quit lambdaops (at once: calls in flight are abandoned)"),
    # priority: an input's ctrl+c (copy) must not swallow the one key everybody tries first
    Key("quit_now", "ctrl+c", "quit", "Quit", "quit lambdaops, from anywhere", show=False, priority=True),
)

FLEET = (
    Key("filter", "slash", "filter", "Filter", "filter rows: words match whole names or fields (checkout, team=x); err>1, cold>5, p99>800, cost>1, region:eu-west-1, runtime:java*, finding:dlq; !term excludes"),
    Key("open", "enter", "open", "Open", "open the selected function", show=True),
    Key("sort", "s", "sort", "Sort", "sort by the next column (again: the next one; after the last: worst first)"),
    Key("reverse", "S", "reverse", "Reverse", "reverse the sort order", show=False),
    Key("clear", "escape", "clear_filter", "Clear", "clear the filter (esc in the filter input only leaves it)", show=False),
    Key("dlq", "d", "dlq", "DLQs", "the DLQ screen (the selected function's queues first)"),
    Key("tune", "u", "tune", "Tune", "the power-tuning screen for the selected function"),
    Key("wide", "w", "wide", "Wide", "all columns, scrolled a column at a time with ←/→ (again: the columns that fit)"),
    # k9s style: shift+letter sorts by that column (again: reverses)
    Key("sort_name", "N", "sort_column('name')", "", "sort by name", show=False),
    Key("sort_err", "X", "sort_column('error_rate')", "", "sort by error % (X: errors)", show=False),
    Key("sort_cold", "C", "sort_column('cold_start_rate')", "", "sort by cold-start %", show=False),
    Key("sort_p99", "P", "sort_column('duration_p99_ms')", "", "sort by p99 duration", show=False),
    Key("sort_dlq", "D", "sort_column('dlq_depth')", "", "sort by DLQ depth", show=False),
    Key("sort_cost", "dollar_sign", "sort_column('cost_usd')", "", "sort by cost ($)", show=False),
    Key("sort_count", "I", "sort_column('invocations')", "", "sort by invocations", show=False),
    Key("sort_finding", "F", "sort_column('finding')", "", "sort by worst finding", show=False),
)

FUNCTION = (
    Key("back", "escape", "back", "Back", "back to the previous screen"),
    Key("tab_overview", "1", "tab('overview')", "Overview", "configuration, charts and findings", show=False),
    Key("tab_logs", "2", "tab('logs')", "Logs", "Logs Insights: the query files of queries/ or your own", show=False),
    Key("tab_traces", "3", "tab('traces')", "Traces", "the slowest and the cold-start X-Ray traces", show=False),
    Key("tab_dlqs", "4", "tab('dlqs')", "DLQs", "this function's DLQs and failure destinations", show=False),
    Key("tab_tuning", "5", "tab('tuning')", "Tuning", "power tuning for this function", show=False),
    Key("edit_query", "i", "edit_query", "Query", "Logs tab: edit the query (esc leaves the input, enter runs it)"),
    Key("follow", "f", "follow", "Follow", "Logs tab: follow the log live (StartLiveTail, else polling); f again stops"),
    Key("tune", "u", "tune", "Tune", "the power-tuning screen for this function"),
)

TRACE = (
    Key("back", "escape", "back", "Back", "back to the function"),
)

DLQ = (
    Key("back", "escape", "back", "Back", "back to the previous screen"),
    Key("export", "x", "export", "Export", "write the queue's messages to a JSON Lines file (reads, changes nothing)"),
    Key("redrive", "ctrl+r", "redrive", "Redrive", "move the messages back to their source (write mode, confirmed)"),
    Key("purge", "ctrl+x", "purge", "Purge", "delete every message of the queue (write mode, confirmed)"),
    Key("stop_redrive", "s", "stop_redrive", "Stop", "stop the running redrive (finish it later: lambdaops dlq redrive --resume)",
        show=False),
)

TUNING = (
    Key("back", "escape", "back", "Back", "back to the previous screen"),
    # priority: a focused input binds ctrl+a (line start) and would swallow them
    Key("start", "ctrl+s", "start_tuning", "Start", "start the power-tuning run (write mode, confirmed)", priority=True),
    Key("apply", "ctrl+a", "apply_memory", "Apply", "set the recommended memory (write mode, confirmed)", priority=True),
    Key("edit", "i", "edit", "Edit", "edit the form (memory sizes first); esc leaves it"),
)

MODAL = (
    Key("cancel", "escape", "cancel", "Cancel", "close without doing anything"),
)

# Actions that change AWS: hidden and refused unless the app runs with --write.
WRITE_ACTIONS = frozenset({"redrive", "purge", "start_tuning", "apply_memory"})

SECTIONS = (("Everywhere", GLOBAL), ("Fleet", FLEET), ("Function", FUNCTION), ("Trace", TRACE),
            ("DLQs", DLQ), ("Tuning", TUNING))


def bindings(keys: tuple[Key, ...]) -> list[Binding]:
    return [k.binding() for k in keys]


def display_key(key: str) -> str:
    return {"colon": ":", "question_mark": "?", "slash": "/", "escape": "esc", "dollar_sign": "$"}.get(key, key)
