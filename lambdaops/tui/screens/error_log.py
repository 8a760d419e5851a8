"""``E``: every error of the session (failed calls, queries, regions), newest last. Errors are shown
as notifications when they happen and kept here, so a toast that went by is not lost."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

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
        table.border_title = f"Error log: {len(self.entries)} (enter shows one whole, esc closes)"
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

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # Rows are cut to the table's width: enter shows the whole error (it was: nothing).
        if 0 <= event.cursor_row < len(self.entries):
            self.app.push_screen(ErrorDetailScreen(self.entries[event.cursor_row]))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ErrorDetailScreen(ModalScreen[None]):
    """One error of the log, whole and wrapped."""

    BINDINGS = bindings(MODAL)
    DEFAULT_CSS = """
    ErrorDetailScreen { align: center middle; }
    ErrorDetailScreen VerticalScroll { width: 90%; max-width: 120; height: auto; max-height: 80%;
                                       border: round $error; background: $surface; padding: 0 1; }
    """

    def __init__(self, entry) -> None:
        super().__init__()
        self.entry = entry

    def compose(self) -> ComposeResult:
        e = self.entry
        body = Group(Text(f"{fmt.clock(e.at)}  ", style="bold").append_text(rich_text(e.source)),
                     rich_text(e.text, limit=20000, single_line=False))
        with VerticalScroll() as scroll:
            scroll.border_title = "Error (esc closes)"
            yield Static(body)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
