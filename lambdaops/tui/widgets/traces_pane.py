"""The function's Traces tab: the slowest and the cold-start X-Ray traces; enter opens the waterfall."""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from lambdaops.models import FunctionInfo
from lambdaops.safe_text import rich_text
from lambdaops.tui import format as fmt
from lambdaops.tui.session import error_text
from lambdaops.tui.widgets.tab_result import accept


@dataclass
class TracesLoaded(Message):
    request: int
    slowest: list
    cold: list
    error: str | None = None


class TracesPane(Vertical):
    DEFAULT_CSS = """
    TracesPane #traces-status { height: 1; padding: 0 1; color: $text-muted; }
    TracesPane DataTable { height: 1fr; }
    """

    def __init__(self, fn: FunctionInfo) -> None:
        super().__init__()
        self.fn = fn
        self.request = 0
        self.loaded = False
        self.traces: dict[str, object] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="traces-status")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="traces")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Kind", "Trace id", "Start (UTC)", "Duration", "Cold", "Init",
                                              "Invocation", "Overhead", "Status")

    def activate(self) -> None:
        if not self.loaded:
            self.load()
        self.query_one(DataTable).focus()

    def load(self) -> None:
        self.request += 1
        self.loaded = True
        if self.fn.tracing != "Active":
            note = f"tracing is {self.fn.tracing}: only requests sampled upstream are traced. "
        else:
            note = ""
        self.query_one("#traces-status", Static).update(f"{note}reading X-Ray trace summaries…")
        self.fetch(self.request, self.app.session.window())

    @work(thread=True, exclusive=True, exit_on_error=False, group="function-traces")
    def fetch(self, request: int, window) -> None:
        try:
            slowest, cold = self.app.reads.traces(self.fn, window)
        except Exception as exc:  # noqa: BLE001
            self.post_message(TracesLoaded(request, [], [], error_text(exc)))
            return
        self.post_message(TracesLoaded(request, slowest, cold))

    def on_traces_loaded(self, msg: TracesLoaded) -> None:
        status = accept(self, msg, "#traces-status", "X-Ray failed", "traces")
        if status is None:
            return
        table = self.query_one(DataTable)
        table.clear()
        self.traces = {}
        for kind, traces in (("slowest", msg.slowest), ("cold start", msg.cold)):
            for t in traces:
                key = f"{kind}:{t.trace_id}"
                self.traces[key] = t
                status_text = "fault" if t.fault else "error" if t.error else "ok"
                table.add_row(kind, rich_text(t.trace_id), fmt.short_time(t.start), fmt.duration_ms(t.duration_ms),
                              "yes" if t.cold_start else "no" if t.cold_start is False else "?",
                              fmt.duration_ms(t.init_ms), fmt.duration_ms(t.invocation_ms),
                              fmt.duration_ms(t.overhead_ms), status_text, key=key)
        status.update(f"{len(msg.slowest)} slowest and {len(msg.cold)} cold-start traces over the window"
                      " · enter opens the waterfall" if self.traces else "no traces in the window")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        trace = self.traces.get(event.row_key.value)
        if trace is not None:
            from lambdaops.tui.screens.trace import TraceScreen

            self.app.push_screen(TraceScreen(self.fn, trace))
