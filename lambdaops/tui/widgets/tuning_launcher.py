"""The function's Tuning tab: what power tuning will do to this function, and the way to the screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Static

from lambdaops.models import FunctionInfo
from lambdaops.safe_text import markup_escaped


class TuningLauncher(Vertical):
    DEFAULT_CSS = """
    TuningLauncher { padding: 1 2; }
    TuningLauncher Static { margin-bottom: 1; }
    """

    def __init__(self, fn: FunctionInfo) -> None:
        super().__init__()
        self.fn = fn

    def compose(self) -> ComposeResult:
        yield Static(
            f"Power tuning invokes [b]{markup_escaped(self.fn.name)}[/b] at several memory sizes (now {self.fn.memory_mb} MB), "
            "reads the billed duration of each invocation, and recommends the memory that is cheapest, fastest "
            "or balanced, with percentiles and the request charge. It publishes versions and aliases while it "
            "runs and puts the function back as it was whatever happens.\n\n"
            "Starting a run and applying a memory size change the function: they need --write and a confirmation.")
        yield Button("Open power tuning (u)", variant="primary", id="open-tuning")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.app.open_tuning(f"{self.fn.region}/{self.fn.name}")
