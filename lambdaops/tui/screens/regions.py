"""``R``: which regions to watch, and with which profile (k9s's context switch). A new profile is
resolved and its credentials checked in a worker before anything changes: an unknown profile or an
expired SSO token is a notification, and the fleet of the old one stays on screen."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, SelectionList, Static

from lambdaops.config import split_regions
from lambdaops.tui.bindings import MODAL, bindings


@dataclass(frozen=True)
class Where:
    """What the screen was closed with: the regions, and the profile if it changed."""

    regions: list[str]
    profile: str | None = None


class RegionsScreen(ModalScreen[Where | None]):
    BINDINGS = bindings(MODAL)
    DEFAULT_CSS = """
    RegionsScreen { align: center middle; }
    RegionsScreen > Vertical { width: 50; height: auto; border: round $accent; background: $surface; padding: 0 1; }
    RegionsScreen SelectionList { height: auto; max-height: 14; }
    RegionsScreen #buttons { height: auto; }
    """

    def __init__(self, current: list[str], known: list[str], *, profile: str | None = None,
                 profiles: list[str] | None = None) -> None:
        super().__init__()
        self.current = current
        self.known = known
        self.profile = profile
        # None: this session cannot switch (the demo account); [] : no profile in ~/.aws.
        self.profiles = profiles

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Regions (space toggles, enter applies)"
            yield SelectionList(*[(r, r, r in self.current) for r in self.known], id="regions")
            yield Input(placeholder="more regions, comma-separated", id="more")
            if self.profiles:
                names = sorted(set(self.profiles) | ({self.profile} if self.profile else set()))
                yield Select([(p, p) for p in names], value=self.profile if self.profile in names else Select.NULL,
                             prompt="profile (default credentials)", allow_blank=True, id="profile")
            elif self.profiles is None:
                yield Static("profile: the demo account has one", classes="muted")
            else:
                yield Static("profile: none in ~/.aws/config (set with --profile at start)", classes="muted")
            yield Button("Apply", variant="primary", id="apply")

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def _chosen(self) -> Where:
        picked = list(self.query_one(SelectionList).selected)
        regions = split_regions(picked + split_regions(self.query_one("#more", Input).value))
        profile = None
        for select in self.query("#profile").results(Select):
            value = select.value
            if isinstance(value, str) and value != self.profile:
                profile = value
        return Where(regions, profile)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self._chosen())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(self._chosen())

    def key_enter(self) -> None:
        if self.focused is self.query_one(SelectionList):
            self.dismiss(self._chosen())

    def action_cancel(self) -> None:
        self.dismiss(None)
