"""``:`` (k9s): a one-line prompt at the bottom that jumps to a screen or runs a command.

Tab completes from the command names and the fleet's functions; enter runs; esc cancels.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Static

from lambdaops.tui.bindings import MODAL, bindings


class CommandLineScreen(ModalScreen[str]):
    BINDINGS = bindings(MODAL)
    DEFAULT_CSS = """
    CommandLineScreen { align: left bottom; background: $background 30%; }
    CommandLineScreen > Vertical { height: auto; width: 100%; background: $panel; }
    CommandLineScreen Input { border: tall $accent; }
    CommandLineScreen #hint { color: $text-muted; padding: 0 1; }
    """

    def __init__(self, suggestions: list[str]) -> None:
        super().__init__()
        self.suggestions = suggestions

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("fleet · fn NAME · dlq · tune NAME · window 1h · regions A,B · every 60s · sort COL · "
                         "errors · help · quit   (tab completes)", id="hint")
            yield Input(placeholder=":", suggester=SuggestFromList(self.suggestions, case_sensitive=False),
                        id="command")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss("")
