"""``R``: which regions to watch. (A profile is chosen at start with --profile: credentials are
resolved once, before the screen is taken, so that their errors read as one line.)"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, SelectionList, Static

from lambdaops.config import split_regions
from lambdaops.tui.bindings import MODAL, bindings


class RegionsScreen(ModalScreen[list]):
    BINDINGS = bindings(MODAL)
    DEFAULT_CSS = """
    RegionsScreen { align: center middle; }
    RegionsScreen > Vertical { width: 50; height: auto; border: round $accent; background: $surface; padding: 0 1; }
    RegionsScreen SelectionList { height: auto; max-height: 14; }
    RegionsScreen #buttons { height: auto; }
    """

    def __init__(self, current: list[str], known: list[str]) -> None:
        super().__init__()
        self.current = current
        self.known = known

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Regions (space toggles, enter applies)"
            yield SelectionList(*[(r, r, r in self.current) for r in self.known], id="regions")
            yield Input(placeholder="more regions, comma-separated", id="more")
            yield Static("profile: set with --profile at start", classes="muted")
            yield Button("Apply", variant="primary", id="apply")

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def _chosen(self) -> list[str]:
        picked = list(self.query_one(SelectionList).selected)
        return split_regions(picked + split_regions(self.query_one("#more", Input).value))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self._chosen())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(self._chosen())

    def key_enter(self) -> None:
        if self.focused is self.query_one(SelectionList):
            self.dismiss(self._chosen())

    def action_cancel(self) -> None:
        self.dismiss([])
