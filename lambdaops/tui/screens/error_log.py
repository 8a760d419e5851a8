"""``E``: every error of the session (failed calls, queries, regions), newest last. Errors are shown
as notifications when they happen and kept here, so a toast that went by is not lost."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import ModalScreen
from textual.widgets import DataTable

from lambdaops.safe_text import rich_text
from lambdaops.tui import format as fmt
from lambdaops.tui.bindings import MODAL, bindings


class ErrorLogScreen(ModalScreen[None]):
    BINDINGS = bindings(MODAL)
    DEFAULT_CSS = """
    ErrorLogScreen { align: center middle; }
    ErrorLogScreen DataTable { width: 90%; height: 80%; border: round $error; }
    """

    def __init__(self, entries: list) -> None:
        super().__init__()
        self.entries = entries

    def compose(self) -> ComposeResult:
        table = DataTable(cursor_type="row", zebra_stripes=True)
        table.border_title = f"Error log: {len(self.entries)} (esc closes)"
        yield table

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Time", "Where", "Error")
        for e in self.entries:
            # AWS's error text: a Text cell, so the table never reads it as markup
            table.add_row(fmt.clock(e.at), rich_text(e.source), rich_text(e.text, limit=2000))
        if not self.entries:
            table.add_row("", "", "no errors so far")
        table.focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
