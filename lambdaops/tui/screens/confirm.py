"""The confirmation every change to AWS goes through: account, region, target and count spelled out,
focus on Cancel (an enter pressed out of habit cancels), y/n/esc."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from lambdaops.safe_text import markup_escaped, rich_text


@dataclass(frozen=True)
class Change:
    action: str  # "Redrive", "Purge", "Start power tuning", "Apply memory"
    account: str
    region: str
    target: str
    count: str  # "214 messages", "7 memory sizes x 20 invocations"
    detail: str = ""


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("escape,n", "answer(False)", "Cancel", id="lambdaops.confirm_no"),
        Binding("y", "answer(True)", "Confirm", id="lambdaops.confirm_yes"),
    ]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 76; height: auto; border: thick $error; background: $surface; padding: 1 2; }
    ConfirmScreen #buttons { height: auto; align-horizontal: right; margin-top: 1; }
    ConfirmScreen Button { margin-left: 2; }
    """

    def __init__(self, change: Change) -> None:
        super().__init__()
        self.change = change

    def compose(self) -> ComposeResult:
        c = self.change
        facts = Table.grid(padding=(0, 2))
        facts.add_column(style="bold")
        facts.add_column()
        for label, value in (("Account", c.account), ("Region", c.region), ("Target", c.target), ("Count", c.count)):
            facts.add_row(label, rich_text(value))  # queue names, ARNs: text, never markup
        if c.detail:
            facts.add_row("", rich_text(c.detail))
        with Vertical() as box:
            box.border_title = f"{markup_escaped(c.action)}: this changes AWS"
            yield Static(facts)
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(c.action, variant="error", id="confirm")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
