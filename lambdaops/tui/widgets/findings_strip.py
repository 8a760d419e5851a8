"""The fleet's worst findings above the table: what is wrong, in one glance; enter jumps to it (the
function, or the DLQ screen for a DLQ that holds messages)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from lambdaops.safe_text import safe_text
from lambdaops.tui import format as fmt
from lambdaops.tui.fleet_model import SEVERITY_RANK, row_key

MAX_ITEMS = 50


@dataclass
class FindingTarget:
    key: str  # fleet row key
    code: str


class FindingsStrip(OptionList):
    DEFAULT_CSS = """
    FindingsStrip { height: auto; max-height: 5; border: round $primary-darken-2; padding: 0 1; }
    FindingsStrip:focus { border: round $accent; }
    """

    class Chosen(Message):
        def __init__(self, target: FindingTarget) -> None:
            super().__init__()
            self.target = target

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Findings"
        self._targets: list[FindingTarget] = []
        self._signature: tuple = ()

    def show(self, table_rows: list[dict] | None) -> None:
        """Critical first, then warnings, fleet order within (the snapshot is sorted worst first)."""
        if table_rows is None:
            return
        items = []
        for r in table_rows:
            for f in r.get("findings") or []:
                items.append((-SEVERITY_RANK[f.severity], len(items), r, f))
        items.sort(key=lambda x: x[:2])
        items = items[:MAX_ITEMS]
        signature = tuple((r["region"], r["name"], f.code, f.message) for _, _, r, f in items)
        if signature == self._signature:
            return  # same findings: keep the highlight where the user left it
        self._signature = signature
        self._targets = [FindingTarget(row_key(r["region"], r["name"]), f.code) for _, _, r, f in items]
        options = []
        for _, _, r, f in items:
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append(f"{fmt.SEVERITY_ICON[f.severity]} ", style="bold red" if f.severity == "critical" else "bold yellow")
            line.append(f"{safe_text(r['name'], None):<24}", style="bold")
            line.append(f"{r['region']:<11}", style="dim")
            line.append(safe_text(f.message, None))
            options.append(Option(line))
        self.clear_options()
        self.add_options(options)
        if options:
            self.highlighted = 0
        total = len(signature)
        self.border_title = f"Findings ({total})" if total else "Findings: none"
        self.border_subtitle = "tab here, enter to open"

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if 0 <= event.option_index < len(self._targets):
            self.post_message(self.Chosen(self._targets[event.option_index]))
