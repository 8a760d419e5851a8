"""DLQs: every DLQ and failure destination of the fleet (kind, what it serves, depth, oldest age);
the selected queue's messages decoded in a list with a detail pane; export, redrive and purge.

Everything goes through the DLQ engine via :mod:`lambdaops.tui.dlq_source`. Browsing hides the
messages for a moment and raises their receive count (SQS has no true peek), and the screen says so.
Redrive and purge are bound only with --write and always go through the confirmation modal.

Everything shown here came from the queues (bodies, attributes, error messages, timestamps): it
reaches Textual and Rich only as ``Text`` built by :mod:`lambdaops.safe_text`, never as markup.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from rich.console import Group
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from lambdaops.models import FunctionInfo
from lambdaops.safe_text import markup_escaped, rich_text
from lambdaops.tui import dlq_source
from lambdaops.tui.session import error_text
from lambdaops.tui.bindings import DLQ, WRITE_ACTIONS, bindings
from lambdaops.tui.screens.confirm import Change, ConfirmScreen
from lambdaops.tui.widgets.function_dlqs import QUEUE_COLUMNS, queue_cells
from lambdaops.tui.widgets.status_header import StatusHeader

EVENT_TEXT_LIMIT = 20_000  # characters of a text body drawn in the detail pane (a body can be 1 MiB)
BROWSE_NOTE = ("Reading messages hides them for a moment and raises their receive count (SQS has no "
               "true peek); they are made visible again at once.")


@dataclass
class DlqLoaded(Message):
    request: int
    kind: str  # queues | messages | action
    data: object = None
    error: str | None = None


class DlqScreen(Screen):
    crumb_title = "DLQs"
    BINDINGS = bindings(DLQ)
    DEFAULT_CSS = """
    DlqScreen #queues { width: 1fr; height: 1fr; border: round $primary-darken-2; }
    DlqScreen #right { width: 1fr; }
    DlqScreen #messages { height: 1fr; border: round $primary-darken-2; }
    DlqScreen #detail { height: 1fr; border: round $primary-darken-2; padding: 0 1; }
    DlqScreen #dlq-status { height: 1; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, focus_function: FunctionInfo | None = None, focus_queue: str | None = None) -> None:
        super().__init__()
        self.focus_function = focus_function
        self.focus_queue = focus_queue
        self.queues: dict[str, dlq_source.QueueRow] = {}
        self.messages: list = []
        self.request = 0
        self.shown_arn: str | None = None
        self.redrive_run = None  # the running redrive (lambdaops.dlq.plan.RedriveRun), to stop it

    def compose(self) -> ComposeResult:
        yield StatusHeader("Fleet / DLQs")
        yield Static("reading the fleet's DLQs and failure destinations…", id="dlq-status")
        with Horizontal():
            yield DataTable(cursor_type="row", id="queues")
            with Vertical(id="right"):
                yield DataTable(cursor_type="row", id="messages")
                with VerticalScroll(id="detail"):
                    yield Static("select a queue", id="detail-text")
        yield Footer()

    def on_mount(self) -> None:
        queues = self.query_one("#queues", DataTable)
        queues.border_title = "DLQs and failure destinations"
        queues.add_columns(*QUEUE_COLUMNS)
        messages = self.query_one("#messages", DataTable)
        messages.border_title = "Messages"
        # Fixed widths (the values' own: a timestamp, the longest shape): the table redraws at once
        # and never sits at header widths while it measures its cells (seen under load).
        for label, width in (("Failed at", 19), ("Error", 20), ("Attempts", 8), ("Function", 20)):
            messages.add_column(label, width=width)
        self.query_one("#detail").border_title = "Message"
        queues.focus()
        self.refresh_data()

    # -- queues ----------------------------------------------------------------------------
    def refresh_data(self, quiet: bool = False) -> None:
        """Depths again; the selected queue's messages only when asked (``r``): reading them raises
        their receive count, which the automatic refresh must not do every minute."""
        self.request += 1
        if not quiet:
            self.shown_arn = None
        self.load_queues(self.request, self.app.session.regions)

    @work(thread=True, exclusive=True, exit_on_error=False, group="dlq-queues")
    def load_queues(self, request: int, regions: list[str]) -> None:
        try:
            queues, errors = dlq_source.discover(self.app.session.ctx, regions, self.app.session.now())
        except Exception as exc:  # noqa: BLE001
            self.post_message(DlqLoaded(request, "queues", error=error_text(exc)))
            return
        for err in errors:
            self.post_message(DlqLoaded(request, "region", error=err))
        self.post_message(DlqLoaded(request, "queues", queues))

    def on_dlq_loaded(self, msg: DlqLoaded) -> None:
        if msg.request != self.request and msg.kind == "queues":
            return
        if msg.error:
            self.app.record_error(f"DLQ {msg.kind}", msg.error)
            if msg.kind == "messages":
                self.query_one("#detail-text", Static).update(rich_text(msg.error, "yellow", single_line=False))
            elif msg.kind == "queues":
                self.query_one("#dlq-status", Static).update(rich_text(f"failed: {msg.error}"))
            return
        if msg.kind == "queues":
            self.show_queues(msg.data)
        elif msg.kind == "messages":
            self.show_messages(*msg.data)
        elif msg.kind == "action":
            self.app.notify(str(msg.data), title="DLQ", timeout=10)
            self.refresh_data()

    def show_queues(self, queues: list) -> None:
        table = self.query_one("#queues", DataTable)
        keep = self.focus_queue or self.selected_arn
        table.clear()
        self.queues = {q.arn: q for q in queues}
        for q in queues:
            table.add_row(*map(rich_text, queue_cells(q)), key=q.arn)
        if keep in self.queues:
            table.move_cursor(row=table.get_row_index(keep))
        elif self.focus_function is not None:
            mine = dlq_source.queues_of(queues, self.focus_function)
            if mine:
                table.move_cursor(row=table.get_row_index(mine[0].arn))
        self.focus_queue = None
        total = sum(q.depth or 0 for q in queues)
        mode = "write mode" if self.app.settings_write else "read-only (start with --write to redrive or purge)"
        self.query_one("#dlq-status", Static).update(
            f"{len(queues)} queues and destinations · {total:,.0f} messages waiting · {mode}")
        self.load_selected()

    @property
    def selected_arn(self) -> str | None:
        table = self.query_one("#queues", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    @property
    def selected_queue(self) -> dlq_source.QueueRow | None:
        return self.queues.get(self.selected_arn or "")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "queues":
            self.load_selected()
        elif event.data_table.id == "messages":
            self.show_detail(event.cursor_row)

    # -- messages --------------------------------------------------------------------------
    def load_selected(self) -> None:
        q = self.selected_queue
        if q is None or q.arn == self.shown_arn:
            return
        self.shown_arn = q.arn
        self.query_one("#messages", DataTable).clear()
        self.messages = []
        self.query_one("#messages", DataTable).border_title = f"Messages of {markup_escaped(q.name)} ({q.kind})"
        if not q.readable:
            self.query_one("#detail-text", Static).update(rich_text(
                f"{q.name} is a {q.service} target, not an SQS queue: its messages cannot be read here.", "dim"))
            return
        if not q.depth and not q.in_flight:
            self.query_one("#detail-text", Static).update(Text("the queue is empty", style="dim"))
            return
        self.query_one("#detail-text", Static).update(Text("reading messages…  " + BROWSE_NOTE, style="dim"))
        self.load_messages(self.request, q)

    @work(thread=True, exclusive=True, exit_on_error=False, group="dlq-messages")
    def load_messages(self, request: int, queue) -> None:
        try:
            self.post_message(DlqLoaded(request, "messages", (queue, dlq_source.browse(self.app.session.ctx, queue))))
        except Exception as exc:  # noqa: BLE001
            self.post_message(DlqLoaded(request, "messages", error=error_text(exc)))

    def show_messages(self, queue: dlq_source.QueueRow, messages: list) -> None:
        self.messages = messages
        serves = list(queue.serves)
        table = self.query_one("#messages", DataTable)
        table.clear()
        for i, m in enumerate(messages):
            table.add_row(*map(rich_text, dlq_source.message_fields(m, serves)), key=str(i))
        if messages:
            self.show_detail(0)
        else:
            self.query_one("#detail-text", Static).update("no visible message (all in flight, or just emptied)")

    def show_detail(self, index: int) -> None:
        if not 0 <= index < len(self.messages):
            return
        self.query_one("#detail-text", Static).update(message_detail(self.messages[index]))

    # -- actions ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS and not self.app.settings_write:
            return False  # not even bound in read-only mode
        return True

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_export(self) -> None:
        """Asks for the file first (default: the user's data directory, not the working directory)."""
        from lambdaops.tui.screens.export_path import ExportPathScreen

        q = self.selected_queue
        if q is None or not q.readable:
            return
        if q.depth == 0:
            self.app.notify(f"{q.name} is empty: nothing to export")
            return
        count = "an unknown number of messages" if q.depth is None else f"{q.depth:,.0f} messages"
        self.app.push_screen(ExportPathScreen(q.name, count, dlq_source.default_export_file(q)),
                             lambda path: path and self.start_export(q, path))

    def start_export(self, queue, path) -> None:
        self.app.notify(f"exporting {queue.name} to {path}…")
        self.run_engine("export", queue, path)

    def action_redrive(self) -> None:
        q = self.selected_queue
        if q is None or not q.readable:
            return
        if self.redrive_run is not None:
            self.app.notify("a redrive is running: stop it (s) or wait for it", severity="warning")
            return
        self.plan_redrive(q)

    def action_stop_redrive(self) -> None:
        """Stop the running redrive: the batches in hand finish or go back to the DLQ, the journal
        says what is left, ``lambdaops dlq redrive --resume`` finishes it."""
        run = self.redrive_run
        if run is not None:
            run.stop("stopped from the TUI")
            self.app.notify("stopping the redrive…")

    def action_purge(self) -> None:
        q = self.selected_queue
        if q is None or not q.readable:
            return
        if q.depth == 0:  # nothing to confirm: a notice, not a modal
            self.app.notify(f"{q.name} is empty: nothing to purge")
            return
        count = "an unknown number of messages" if q.depth is None else f"{q.depth:,.0f} messages"
        change = Change("Purge", self.app.account or "?", q.region, f"{q.name} ({q.kind}) → deleted for good", count)
        self.app.push_screen(ConfirmScreen(change), lambda yes: yes and self.run_engine("purge", q))

    def on_unmount(self) -> None:
        self.action_stop_redrive()  # a thread cannot be killed: ask the run to stop, its journal stays resumable

    @work(thread=True, exclusive=False, exit_on_error=False, group="dlq-action")
    def plan_redrive(self, queue) -> None:
        """``dlq redrive``'s plan (mode, function, checks, depth) before the confirmation shows it."""
        try:
            plan = dlq_source.plan_redrive(self.app.session.ctx, queue, dlq_source.journal_dir(self.app.session))
        except Exception as exc:  # noqa: BLE001
            self.post_message(DlqLoaded(self.request, "action", error=f"redrive: {error_text(exc)}"))
            return
        self.app.call_from_thread(self.confirm_redrive, queue, plan)

    def confirm_redrive(self, queue, plan) -> None:
        if plan.count == 0:  # nothing would move: a notice, not a confirmation of zero messages
            held = f" ({plan.in_flight:,} in flight: a consumer or a redrive holds them)" if plan.in_flight else ""
            self.app.notify(f"{queue.name} has no visible message to redrive{held}")
            return
        change = Change("Redrive", self.app.account or "?", queue.region,
                        f"{queue.name} ({queue.kind}) → {plan.target_text}", f"{plan.count:,} messages",
                        detail=f"via {plan.via}; journal in {plan.journal_dir}")
        self.app.push_screen(ConfirmScreen(change), lambda yes: yes and self.start_redrive(queue, plan))

    def start_redrive(self, queue, plan) -> None:
        try:
            self.redrive_run = dlq_source.start_redrive(self.app.session.ctx, plan)
        except Exception as exc:  # noqa: BLE001 - e.g. an unfinished journal of this DLQ: resume it first
            self.app.notify(f"redrive: {error_text(exc)}", severity="error", timeout=15)
            return
        self.app.notify(f"redriving {queue.name} via {plan.via} (s stops it)…")
        self.run_redrive(queue, self.redrive_run)

    @work(thread=True, exclusive=False, exit_on_error=False, group="dlq-action")
    def run_redrive(self, queue, run) -> None:
        from lambdaops.dlq.plan import resume_command

        ctx = self.app.session.ctx
        resume = resume_command(run.plan.dlq, run.plan.journal_dir, profile=ctx.profile, endpoint_url=ctx.endpoint_url)
        try:
            result = run.run()
        except BaseException as exc:  # noqa: BLE001 - the run stopped: what is not moved stays in the DLQ
            self.post_message(DlqLoaded(self.request, "action",
                                        error=f"redrive: {error_text(exc)}; finish with {resume}"))
            return
        finally:
            run.close()
            self.redrive_run = None
        self.post_message(DlqLoaded(self.request, "action",
                                    f"redrive {queue.name}: {dlq_source.redrive_summary(result, resume)}"))

    @work(thread=True, exclusive=False, exit_on_error=False, group="dlq-action")
    def run_engine(self, op: str, queue, *args) -> None:
        try:
            result = getattr(dlq_source, op)(self.app.session.ctx, queue, dlq_source.journal_dir(self.app.session),
                                             *args)
        except Exception as exc:  # noqa: BLE001
            self.post_message(DlqLoaded(self.request, "action", error=f"{op}: {error_text(exc)}"))
            return
        self.post_message(DlqLoaded(self.request, "action", f"{op} {queue.name}: {result}"))


def message_detail(m) -> Group:
    """One decoded message: what failed and why, then the original event, then the attributes."""
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    for label, value in (("Shape", m.shape), ("Message id", m.message_id), ("Failed at", m.timestamp),
                         ("Function", m.function), ("Request id", m.request_id),
                         # error_code is a status (Lambda's ErrorCode attribute, a destination's
                         # responseContext.statusCode), not part of the error's name: "200 Error" misleads.
                         ("Error", m.error_type), ("Status", m.error_code),
                         ("Message", m.error_message), ("Condition", m.condition), ("Attempts", m.attempts),
                         ("Received", m.receive_count), ("Source", m.source_arn), ("Group id", m.group_id)):
        if value not in (None, ""):
            # a Table cell given a str is read as markup: "upstream call [/api/v1/orders] failed" crashed it
            facts.add_row(label, rich_text(value, limit=2000, single_line=False))
    parts: list = [facts]
    for note in m.notes:
        parts.append(rich_text(note, "dim"))
    if m.batch is not None:
        parts.append(Text("\nStream batch (records must be read back from the stream)", style="bold"))
        parts.append(batch_facts(m.batch))
    if m.event is not None:
        parts.append(Text("\nOriginal event", style="bold"))
        parts.append(_json_block(m.event) if not isinstance(m.event, str)
                     else rich_text(m.event, limit=EVENT_TEXT_LIMIT, single_line=False))
    if m.attributes:
        parts.append(Text("\nMessage attributes", style="bold"))
        parts.append(_json_block(m.attributes))
    return Group(*parts)


def batch_facts(batch) -> Table:
    """A failed stream batch as labelled lines (its dataclass repr, StreamBatch(stream='kinesis', ...),
    was unreadable): the stream, the shard, the sequence range and the size."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    seq = f"{batch.start_sequence_number} … {batch.end_sequence_number}"
    for label, value in (("Stream", f"{batch.stream} {batch.stream_arn}"), ("Shard", batch.shard_id),
                         ("Sequence numbers", seq),
                         ("Records", None if batch.batch_size is None else str(batch.batch_size)),
                         ("First arrival", batch.first_arrival), ("Last arrival", batch.last_arrival)):
        if value not in (None, ""):
            grid.add_row(label, rich_text(value, limit=2000, single_line=False))
    return grid


def _json_block(value):
    """Decoded JSON, highlighted. ``json.dumps`` (ASCII) writes every control and non-ASCII character
    as an escape; a document too long to highlight is shown as plain text, cut."""
    text = json.dumps(value, indent=2, default=str)
    if len(text) > EVENT_TEXT_LIMIT:
        return rich_text(text, limit=EVENT_TEXT_LIMIT, single_line=False)
    return Syntax(text, "json", theme="ansi_dark", word_wrap=True)
