"""``t``: the time window every figure, chart and query covers (ending now)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from lambdaops.tui import format as fmt
from lambdaops.tui.bindings import MODAL, bindings

CHOICES = (900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 3 * 86400, 7 * 86400)


class WindowScreen(ModalScreen[int]):
    BINDINGS = bindings(MODAL)
    DEFAULT_CSS = """
    WindowScreen { align: center middle; }
    WindowScreen OptionList { width: 36; height: auto; border: round $accent; }
    """

    def __init__(self, current: int) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        options = [Option(f"last {fmt.window_label(s)}" + ("  (now)" if s == self.current else ""), id=str(s))
                   for s in CHOICES]
        menu = OptionList(*options)
        menu.border_title = "Time window"
        yield menu

    def on_mount(self) -> None:
        menu = self.query_one(OptionList)
        menu.focus()
        if self.current in CHOICES:
            # After the first layout: OptionList resets its highlight while it first sizes itself.
            self.call_after_refresh(setattr, menu, "highlighted", CHOICES.index(self.current))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id))

    def action_cancel(self) -> None:
        self.dismiss(0)
