"""Function: one function's configuration, charts and findings, with Logs, Traces, DLQs and Tuning tabs.

Each kind of data has its own worker group (charts, cold starts, aliases): one slow Logs Insights
query does not hold up the metrics, and leaving the screen cancels them all. Results carry the
request number they answer; an older one arriving late is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from lambdaops.models import FunctionInfo
from lambdaops.safe_text import markup_escaped
from lambdaops.tui.session import error_text
from lambdaops.tui.bindings import FUNCTION, bindings
from lambdaops.tui.widgets.function_dlqs import FunctionDlqs
from lambdaops.tui.widgets.function_overview import FunctionOverview
from lambdaops.tui.widgets.logs_pane import LogsPane
from lambdaops.tui.widgets.status_header import StatusHeader
from lambdaops.tui.widgets.traces_pane import TracesPane
from lambdaops.tui.widgets.tuning_launcher import TuningLauncher

TABS = ("overview", "logs", "traces", "dlqs", "tuning")


@dataclass
class Loaded(Message):
    """A piece of the function's data: ``kind`` is charts | cold | aliases; ``error`` when it failed."""

    request: int
    kind: str
    data: Any = None
    error: str | None = None


class FunctionScreen(Screen):
    BINDINGS = bindings(FUNCTION)
    DEFAULT_CSS = """
    FunctionScreen #title { height: 1; padding: 0 1; background: $boost; }
    FunctionScreen TabbedContent { height: 1fr; }
    """

    def __init__(self, fn: FunctionInfo, tab: str | None = None) -> None:
        super().__init__()
        self.fn = fn
        self.initial_tab = tab if tab in TABS else "overview"
        self.crumb_title = fn.name
        self.request = 0

    @property
    def key(self) -> str:
        return f"{self.fn.region}/{self.fn.name}"

    def compose(self) -> ComposeResult:
        fn = self.fn
        yield StatusHeader(f"Fleet / {fn.name}")
        yield Static(f"[b]{markup_escaped(fn.name)}[/b]  {markup_escaped(fn.region)}  "
                     f"{markup_escaped(fn.runtime or fn.package_type)} {markup_escaped(fn.architecture)}  "
                     f"{fn.memory_mb} MB  timeout {fn.timeout_s}s   [dim]esc back · 1-5 tabs · r refresh[/dim]",
                     id="title")
        with TabbedContent(initial=self.initial_tab):
            with TabPane("1 Overview", id="overview"):
                yield FunctionOverview(fn)
            with TabPane("2 Logs", id="logs"):
                yield LogsPane(fn)
            with TabPane("3 Traces", id="traces"):
                yield TracesPane(fn)
            with TabPane("4 DLQs", id="dlqs"):
                yield FunctionDlqs(fn)
            with TabPane("5 Tuning", id="tuning"):
                yield TuningLauncher(fn)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(FunctionOverview).show_findings(self.app.record_of(self.key))
        self.refresh_data()

    # -- data ----------------------------------------------------------------------------
    def refresh_data(self, quiet: bool = False) -> None:
        """``r`` here: this function's charts (and the open tab's data). ``quiet`` (the automatic
        refresh): the current charts stay until the new ones arrive."""
        self.request += 1
        overview = self.query_one(FunctionOverview)
        if not quiet:
            overview.say("loading…")
        overview.show_findings(self.app.record_of(self.key))
        window = self.app.session.window()
        self.load_charts(self.request, window)
        self.load_cold_starts(self.request, window)
        self.load_aliases(self.request)
        tab = self.query_one(TabbedContent).active
        pane_refresh = {"traces": TracesPane, "dlqs": FunctionDlqs}.get(tab)
        if pane_refresh is not None:
            self.query_one(pane_refresh).load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="function-charts")
    def load_charts(self, request: int, window) -> None:
        try:
            self.post_message(Loaded(request, "charts", self.app.reads.charts(self.fn, window)))
        except Exception as exc:  # noqa: BLE001
            self.post_message(Loaded(request, "charts", error=error_text(exc)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="function-cold")
    def load_cold_starts(self, request: int, window) -> None:
        try:
            self.post_message(Loaded(request, "cold", self.app.reads.cold_starts(self.fn, window)))
        except Exception as exc:  # noqa: BLE001
            self.post_message(Loaded(request, "cold", error=error_text(exc)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="function-aliases")
    def load_aliases(self, request: int) -> None:
        try:
            # the details the fleet read only on need (reserved concurrency, destinations) come with them
            self.app.reads.details(self.fn)
            self.post_message(Loaded(request, "aliases", self.app.reads.aliases(self.fn)))
        except Exception as exc:  # noqa: BLE001
            self.post_message(Loaded(request, "aliases", error=error_text(exc)))

    def on_loaded(self, msg: Loaded) -> None:
        if msg.request != self.request:
            return  # an older request answered late
        overview = self.query_one(FunctionOverview)
        if msg.error:
            self.app.record_error(f"{self.fn.name}: {msg.kind}", msg.error)
            if msg.kind == "charts":
                for key in ("traffic", "duration", "concurrency", "iterator"):
                    overview.chart(key).say(f"failed: {msg.error}")
            elif msg.kind == "cold":
                for key in ("cold", "init"):
                    overview.chart(key).say(f"failed: {msg.error}")
            elif msg.kind == "aliases":
                overview.show_aliases([])
            return
        if msg.kind == "charts":
            overview.show_charts(msg.data)
        elif msg.kind == "cold":
            if msg.data.error:
                self.app.record_error(f"{self.fn.name}: Logs Insights", msg.data.error)
            overview.show_cold_starts(msg.data)
        elif msg.kind == "aliases":
            overview.show_aliases(msg.data)

    # -- actions ---------------------------------------------------------------------------
    def action_back(self) -> None:
        self.app.pop_screen()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_tune(self) -> None:
        self.app.open_tuning(self.key)

    def action_edit_query(self) -> None:
        self.action_tab("logs")
        self.query_one(LogsPane).edit_query()

    def action_follow(self) -> None:
        self.action_tab("logs")
        self.query_one(LogsPane).toggle_follow()

    def leave_input(self, _input) -> None:
        """esc in the query: back to the rows, the query kept, still on this screen."""
        self.query_one(LogsPane).activate()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        pane = event.pane.id
        widget = {"traces": TracesPane, "dlqs": FunctionDlqs, "logs": LogsPane}.get(pane)
        if widget is not None:
            self.query_one(widget).activate()
