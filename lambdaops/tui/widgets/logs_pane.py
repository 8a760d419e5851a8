"""The function's Logs tab: a query file of ``queries/`` or a typed Logs Insights query over this
function's log group and the window; rows in a table; enter on a row with a trace id opens it."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, RichLog, Select, Static

from lambdaops import query_files
from lambdaops.models import FunctionInfo
from lambdaops.safe_text import rich_text
from lambdaops.tui.session import error_text
from lambdaops.tui.widgets.key_input import KeyInput
from lambdaops.tui.widgets.tab_result import accept
from lambdaops.tui.table_model import Column, TableModel
from lambdaops.tui.widgets.virtual_table import VirtualTable

TYPED = "(typed query)"
DEFAULT_QUERY = "slowest"
MAX_COL = 40
TRACE_FIELDS = ("@xrayTraceId", "xrayTraceId", "traceId")


@dataclass
class LiveLines(Message):
    """Followed log lines (rendered rich Text), or a status text; ``follow`` is the follow session."""

    follow: int
    lines: list = field(default_factory=list)
    status: str = ""
    error: str | None = None


FOLLOW_BACK_S = 120  # following starts with the last two minutes
FOLLOW_MAX_LINES = 5000


def logs_arn(function_arn: str, group: str) -> str:
    """The log group's ARN in the function's partition, region and account."""
    parts = function_arn.split(":")
    return f"arn:{parts[1]}:logs:{parts[3]}:{parts[4]}:log-group:{group}"


@dataclass
class QueryDone(Message):
    request: int
    model: TableModel | None = None
    rows: list | None = None
    summary: str = ""
    error: str | None = None


def rows_model(rows: list[dict[str, str]]) -> TableModel:
    """Columns in order of first appearance, widths from the content (capped), @message last and wide."""
    keys = list(dict.fromkeys(k for r in rows for k in r))
    if "@message" in keys:
        keys = [k for k in keys if k != "@message"] + ["@message"]
    cols = []
    for k in keys:
        width = min(MAX_COL, max([len(k)] + [len(str(r.get(k, ""))) for r in rows[:200]]))
        numeric = all(_is_number(r.get(k)) for r in rows[:50] if r.get(k) not in (None, ""))
        cols.append(Column(k, k, width, "right" if numeric and k != "@message" else "left"))
    model = TableModel(tuple(cols))
    for i, r in enumerate(rows):
        cells = [str(r.get(k, "")).replace("\n", " ").replace("\t", " ") for k in keys]
        sort = {k: (float(r[k]) if _is_number(r.get(k)) else r.get(k)) for k in keys}
        model.add_row(str(i), cells, sort)
    return model


def _is_number(v) -> bool:
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False


def one_line(text: str) -> str:
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


class LogsPane(Vertical):
    DEFAULT_CSS = """
    LogsPane #query-bar { height: 3; }
    LogsPane Select { width: 34; }
    LogsPane #query { width: 1fr; }
    LogsPane #run { width: 10; }
    LogsPane #logs-status { height: 1; padding: 0 1; color: $text-muted; }
    LogsPane #live { display: none; height: 1fr; }
    LogsPane.following #live { display: block; }
    LogsPane.following #log-rows { display: none; }
    """

    def __init__(self, fn: FunctionInfo) -> None:
        super().__init__()
        self.fn = fn
        self.request = 0
        self.rows: list[dict] = []
        self.follow = 0  # follow session number; 0: not following
        self._follow_stop: threading.Event | None = None
        self.queries = {name: query_files.load(name) for name in query_files.available()}

    def compose(self) -> ComposeResult:
        options = [(f"{n}: {q.description[:40]}" if q.description else n, n) for n, q in self.queries.items()]
        first = DEFAULT_QUERY if DEFAULT_QUERY in self.queries else (options[0][1] if options else TYPED)
        with Horizontal(id="query-bar"):
            yield Select(options + [(TYPED, TYPED)], value=first, allow_blank=False, id="query-file")
            # select_on_focus off: i then a key edits the query instead of replacing all of it
            yield KeyInput(one_line(self.queries[first].text) if first in self.queries else "",
                           placeholder="Logs Insights query, e.g. fields @timestamp, @message | limit 20", id="query",
                           select_on_focus=False)
            yield Button("Run", variant="primary", id="run")
        yield Static(f"runs over {self.fn.log_group} for the window · i edits the query, enter runs it · "
                     "f follows the log live", id="logs-status")
        yield VirtualTable(id="log-rows", empty_text="no results yet: choose a query and run it")
        yield RichLog(id="live", max_lines=FOLLOW_MAX_LINES, markup=False, highlight=False, wrap=False)

    def activate(self) -> None:
        # The table, not the query: 1-5, q, ? and esc stay the app's keys until i or a click.
        self.screen.set_focus(self.query_one("#live" if self.follow else "#log-rows"))

    # -- follow (f) --------------------------------------------------------------------------
    def toggle_follow(self) -> None:
        if self.follow:
            self.stop_follow()
            self.query_one("#logs-status", Static).update("stopped following (f follows again)")
            self.activate()
            return
        self.follow = max(self.follow, 0) + 1
        self._follow_stop = threading.Event()
        self.add_class("following")
        live = self.query_one("#live", RichLog)
        live.clear()
        self.query_one("#logs-status", Static).update(f"following {self.fn.log_group}… (f stops)")
        live.focus()
        self.run_follow(self.follow, self._follow_stop)

    def stop_follow(self) -> None:
        if self._follow_stop is not None:
            self._follow_stop.set()
        self._follow_stop = None
        self.follow = 0
        self.remove_class("following")

    def on_unmount(self) -> None:
        if self._follow_stop is not None:
            self._follow_stop.set()

    @work(thread=True, exclusive=True, exit_on_error=False, group="function-follow")
    def run_follow(self, follow: int, stop: threading.Event) -> None:
        from lambdaops.log_view import render
        from lambdaops.tui.live_source import follow_status, follower as make_follower

        group = self.fn.log_group or f"/aws/lambda/{self.fn.name}"
        try:
            FollowStatus = follow_status()
            follower = make_follower(self.app.session.ctx, self.fn.region, group, logs_arn(self.fn.arn, group),
                                 since_ms=int((time.time() - FOLLOW_BACK_S) * 1000), stop=stop)
            lines: list = []
            for item in follower:
                if stop.is_set():
                    return
                if isinstance(item, FollowStatus):
                    if lines or item.text:
                        self.post_message(LiveLines(follow, lines, item.text))
                        lines = []
                else:
                    lines.append(render(item, color=True))
        except Exception as exc:  # noqa: BLE001 - shown in the status line and the error log
            self.post_message(LiveLines(follow, error=error_text(exc)))

    def on_live_lines(self, msg: LiveLines) -> None:
        if msg.follow != self.follow:
            return  # a stopped session's last batch
        status = self.query_one("#logs-status", Static)
        if msg.error:
            self.app.record_error(f"{self.fn.name}: follow", msg.error)
            status.update(rich_text(f"following failed: {msg.error}"))
            return
        live = self.query_one("#live", RichLog)
        for line in msg.lines:
            live.write(line)
        if msg.status:
            status.update(rich_text(f"following {self.fn.log_group}: {msg.status} · f stops"))

    def edit_query(self) -> None:
        # At once (``focus()`` waits for the next message): "i x esc" typed quickly stays here.
        self.screen.set_focus(self.query_one("#query", Input))

    def on_select_changed(self, event: Select.Changed) -> None:
        q = self.queries.get(event.value)
        if q is not None:
            self.query_one("#query", Input).value = one_line(q.text)

    def on_input_changed(self, event: Input.Changed) -> None:
        select = self.query_one(Select)
        q = self.queries.get(select.value)
        if q is not None and event.value != one_line(q.text):
            select.value = TYPED

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.run_query()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.run_query()

    def run_query(self) -> None:
        if self.follow:
            self.stop_follow()  # the rows of the query replace the followed lines
        text = self.query_one("#query", Input).value.strip()
        if not text:
            self.app.notify("type a query first", severity="warning")
            return
        self.request += 1
        self.query_one("#logs-status", Static).update(f"running over {self.fn.log_group}…")
        source = self.query_one(Select).value
        self.fetch(self.request, text, self.app.session.window(), None if source == TYPED else str(source))

    @work(thread=True, exclusive=True, exit_on_error=False, group="function-logs")
    def fetch(self, request: int, text: str, window, source: str | None) -> None:
        try:
            out = self.app.reads.query(self.fn, text, window, source=source)
        except Exception as exc:  # noqa: BLE001
            self.post_message(QueryDone(request, error=error_text(exc)))
            return
        if not out.complete:
            self.post_message(QueryDone(request, error=out.first_problem()))
            return
        # one function, one log group: its region and group name are the screen's, not columns
        rows = [{k: v for k, v in r.items() if k not in ("@log", "region")} for r in out.rows]
        summary = (f"{len(rows):,} rows · {out.records_scanned:,.0f} records, {out.bytes_scanned / 1e6:,.1f} MB scanned"
                   " · enter on a row with a trace id opens the trace")
        self.post_message(QueryDone(request, rows_model(rows), rows, summary))

    def on_query_done(self, msg: QueryDone) -> None:
        status = accept(self, msg, "#logs-status", "query failed", "Logs Insights")
        if status is None:
            return
        self.rows = msg.rows or []
        table = self.query_one(VirtualTable)
        table.empty_text = "the query returned no rows"
        table.set_model(msg.model)
        status.update(rich_text(msg.summary))
        table.focus()

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        event.stop()
        row = self.rows[int(event.key)] if event.key.isdigit() and int(event.key) < len(self.rows) else {}
        trace_id = next((row[f] for f in TRACE_FIELDS if row.get(f)), None)
        if not trace_id:
            self.app.notify("this row has no X-Ray trace id", severity="warning")
            return
        from lambdaops.tui.screens.trace import TraceScreen

        self.app.push_screen(TraceScreen(self.fn, trace_id=trace_id))
