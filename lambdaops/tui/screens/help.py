"""``?``: every key (from the binding tables, so it cannot drift from what the keys do) and every
``:`` command."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from lambdaops.tui.bindings import MODAL, SECTIONS, WRITE_ACTIONS, bindings, display_key
from lambdaops.tui.commands import COMMANDS


class HelpScreen(ModalScreen[None]):
    BINDINGS = bindings(MODAL)
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 100%; max-width: 110; max-height: 100%; border: round $accent;
                                  background: $surface;
                                  padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        write = self.app.settings_write
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold cyan", no_wrap=True)
        keys.add_column()
        for title, section in SECTIONS:
            keys.add_row(Text(title, style="bold underline"), "")
            for k in section:
                text = k.description
                if k.action in WRITE_ACTIONS and not write:
                    text += "  [not available: read-only; start with --write]"
                keys.add_row(display_key(k.key), Text(text))
        keys.add_row("", "")
        keys.add_row(Text("Commands (:)", style="bold underline"), "also in the command palette (ctrl+p)")
        for c in COMMANDS:
            keys.add_row(Text(c.usage), Text(c.help))
        with VerticalScroll():
            yield Static(keys)

    def on_mount(self) -> None:
        body = self.query_one(VerticalScroll)
        body.border_title = "lambdaops: keys and commands (esc closes)"
        body.focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
