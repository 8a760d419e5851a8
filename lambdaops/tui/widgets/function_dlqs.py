"""The function's DLQs tab: its DLQs and failure destinations with depth and oldest age; enter opens
the DLQ screen on that queue."""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from lambdaops.models import FunctionInfo
from lambdaops.safe_text import rich_text
from lambdaops.tui import dlq_source
from lambdaops.tui import format as fmt
from lambdaops.tui.session import error_text
from lambdaops.tui.widgets.tab_result import accept


@dataclass
class QueuesLoaded(Message):
    request: int
    queues: list
    error: str | None = None


def queue_cells(q) -> tuple[str, ...]:
    depth = fmt.count(q.depth) if q.error is None else "error"
    return (q.name, q.region, depth, fmt.age_s(q.oldest_s), q.kind, ", ".join(q.serves), fmt.count(q.in_flight),
            q.service)


# What needs attention first (name, depth, age, whose failures), then what it is: the fleet's DLQ
# list is half a screen wide, and the columns cut off at its edge must be the least needed.
# Region second: a fleet's queues span regions, and two may share a name. Kind (short) before
# Serves (long): at 160 columns the half-screen list cut Kind to two letters.
QUEUE_COLUMNS = ("Queue / target", "Region", "Depth", "Oldest", "Kind", "Serves", "In flight", "Service")


class FunctionDlqs(Vertical):
    DEFAULT_CSS = """
    FunctionDlqs #dlqs-status { height: auto; padding: 0 1; color: $text-muted; }
    FunctionDlqs DataTable { height: 1fr; }
    """

    def __init__(self, fn: FunctionInfo) -> None:
        super().__init__()
        self.fn = fn
        self.request = 0
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Static("", id="dlqs-status")
        yield DataTable(cursor_type="row", id="fn-queues")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*QUEUE_COLUMNS)

    def activate(self) -> None:
        if not self.loaded:
            self.load()
        self.query_one(DataTable).focus()

    def load(self) -> None:
        self.request += 1
        self.loaded = True
        self.query_one("#dlqs-status", Static).update("reading queue depths…")
        self.fetch(self.request)

    @work(thread=True, exclusive=True, exit_on_error=False, group="function-dlqs")
    def fetch(self, request: int) -> None:
        try:
            queues, _errors = dlq_source.discover(self.app.session.ctx, [self.fn.region], self.app.session.now())
            queues = dlq_source.queues_of(queues, self.fn)
        except Exception as exc:  # noqa: BLE001
            self.post_message(QueuesLoaded(request, [], error_text(exc)))
            return
        self.post_message(QueuesLoaded(request, queues))

    def on_queues_loaded(self, msg: QueuesLoaded) -> None:
        status = accept(self, msg, "#dlqs-status", "failed", "DLQs")
        if status is None:
            return
        table = self.query_one(DataTable)
        table.clear()
        for q in msg.queues:
            table.add_row(*map(rich_text, queue_cells(q)), key=q.arn)  # names and tags: text, never markup
        if msg.queues:
            status.update("enter opens the queue in the DLQ screen (messages, redrive, export)")
        else:
            status.update("no DLQ or failure destination: failed async events are dropped after the retries, "
                          "and failed stream batches block the shard until they expire")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.app.open_dlq(f"{self.fn.region}/{self.fn.name}", queue_arn=event.row_key.value)
