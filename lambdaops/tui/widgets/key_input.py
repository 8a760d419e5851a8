"""An Input that gives the keyboard back: ``esc`` leaves the input (focus goes to the screen's main
table), and does not reach the screen's own ``esc`` (back, clear). Inputs are focused only when the
user asks (``/``, ``i``, a click), so the app's keys work everywhere else."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Input


class KeyInput(Input):
    BINDINGS = [Binding("escape", "leave", "Leave input", show=True)]

    def action_leave(self) -> None:
        leave = getattr(self.screen, "leave_input", None)
        if callable(leave):
            leave(self)
        else:
            self.screen.set_focus(None)
