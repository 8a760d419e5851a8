"""One trace as a waterfall. Opened from the Traces tab (documents already read) or from a Logs row
that carries an X-Ray trace id (the documents are read here, in a worker)."""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from lambdaops.models import FunctionInfo
from lambdaops.safe_text import markup_escaped, rich_text
from lambdaops.tui import format as fmt
from lambdaops.tui.session import error_text
from lambdaops.tui.bindings import TRACE, bindings
from lambdaops.tui.widgets.status_header import StatusHeader
from lambdaops.tui.widgets.waterfall import Waterfall


@dataclass
class TraceLoaded(Message):
    trace: object = None
    error: str | None = None


class TraceScreen(Screen):
    crumb_title = "trace"
    BINDINGS = bindings(TRACE)
    DEFAULT_CSS = """
    TraceScreen #summary { height: auto; padding: 0 1; background: $boost; }
    """

    def __init__(self, fn: FunctionInfo, trace=None, trace_id: str | None = None) -> None:
        super().__init__()
        self.fn = fn
        self.trace = trace
        self.trace_id = trace_id or (trace.trace_id if trace is not None else "")

    def compose(self) -> ComposeResult:
        yield StatusHeader(f"Fleet / {self.fn.name} / trace")
        yield Static("", id="summary")
        with VerticalScroll(id="body"):
            if self.trace is not None:
                yield Waterfall(self.trace)
            else:
                yield Static(f"reading trace {self.trace_id}…", id="loading")
        yield Footer()

    def on_mount(self) -> None:
        if self.trace is None:
            self.fetch(self.trace_id)
        else:
            self.show_summary()
        self.query_one("#body").focus()

    @work(thread=True, exclusive=True, exit_on_error=False, group="trace")
    def fetch(self, trace_id: str) -> None:
        try:
            self.post_message(TraceLoaded(self.app.reads.trace(self.fn.region, trace_id)))
        except Exception as exc:  # noqa: BLE001
            self.post_message(TraceLoaded(error=error_text(exc)))

    async def on_trace_loaded(self, msg: TraceLoaded) -> None:
        if msg.error:
            self.query_one("#loading", Static).update(rich_text(f"could not read trace {self.trace_id}: {msg.error}"))
            self.app.record_error("trace", msg.error)
            return
        self.trace = msg.trace
        await self.query_one("#loading").remove()
        await self.query_one("#body").mount(Waterfall(self.trace))
        self.show_summary()

    def show_summary(self) -> None:
        t = self.trace
        parts = [f"[b]{markup_escaped(t.trace_id)}[/b]", fmt.duration_ms(t.duration_ms)]
        if t.cold_start:
            parts.append(f"[yellow]cold start[/] (init {fmt.duration_ms(t.init_ms)})")
        elif t.cold_start is False:
            parts.append("warm")
        if t.fault or t.error:
            parts.append("[red]fault[/]" if t.fault else "[red]error[/]")
        if t.request_id:
            parts.append(f"request {markup_escaped(t.request_id)}")
        if t.start:
            parts.append(f"at {fmt.short_time(t.start)} UTC")
        self.query_one("#summary", Static).update("  ".join(parts))

    def action_back(self) -> None:
        self.app.pop_screen()
