"""Where a DLQ export goes: asked before anything is read, the user's data directory as the default
(``lambdaops.dlq.export.default_export_dir``), checked as ``lambdaops dlq export --to`` checks its
file (never an existing file, the directory must exist) before the modal closes."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from lambdaops.errors import LambdaopsError, UsageError
from lambdaops.safe_text import rich_text
from lambdaops.tui.bindings import MODAL, bindings


def checked_path(text: str, default: Path) -> Path:
    """The file to create from what was typed (``~`` expanded, relative to the working directory).
    The default directory is created (private: exports hold message bodies) when the file is to go
    there; any other directory must exist, and the file must not (``dlq export --to``'s rules; the
    export checks both again as it creates the file)."""
    path = Path(text.strip() or default).expanduser()
    if path.parent == default.parent:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.exists():
        raise UsageError(f"{path} already exists: choose another file (an export never overwrites)")
    if not path.parent.is_dir():
        raise UsageError(f"directory {path.parent} does not exist")
    return path


class ExportPathScreen(ModalScreen[Path | None]):
    BINDINGS = bindings(MODAL)
    DEFAULT_CSS = """
    ExportPathScreen { align: center middle; }
    ExportPathScreen > Vertical { width: 76; max-width: 100%; height: auto; border: round $accent;
                                  background: $surface; padding: 0 1; }
    ExportPathScreen #export-problem { color: $text-error; height: auto; }
    ExportPathScreen #export-hint { color: $text-muted; }
    """

    def __init__(self, queue: str, count: str, default: Path) -> None:
        super().__init__()
        self.queue = queue
        self.count = count
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Export to a file"
            yield Static(rich_text(f"{self.count} of {self.queue}, as JSON lines (nothing is deleted; "
                                   "receive counts rise by 1)", single_line=False))
            yield Input(str(self.default), id="export-path")
            yield Static("", id="export-problem")
            yield Static("enter exports · esc cancels · an existing file is never overwritten", id="export-hint")

    def on_mount(self) -> None:
        self.set_focus(self.query_one(Input))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            path = checked_path(event.value, self.default)
        except (LambdaopsError, OSError) as exc:
            text = exc.one_line() if isinstance(exc, LambdaopsError) else f"cannot use {event.value}: {exc}"
            self.query_one("#export-problem", Static).update(rich_text(text, single_line=False))
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
