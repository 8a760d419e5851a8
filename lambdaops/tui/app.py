"""The lambdaops Textual app. For now: the fleet inventory, loaded in a thread worker.

The full fleet dashboard (metrics, findings, drill-down) builds on the telemetry engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Static

COLUMNS = ("Function", "Region", "Runtime", "Arch", "Mem MB", "Timeout s", "Triggers", "DLQ / on-failure")


class LambdaopsApp(App):
    TITLE = "lambdaops"
    CSS = """
    #status { height: 1; padding: 0 1; color: $text-muted; }
    DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="refresh"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    @dataclass
    class InventoryLoaded(Message):
        inventory: object

    @dataclass
    class LoadFailed(Message):
        error: str

    def __init__(self, aws, state=None) -> None:
        super().__init__()
        self.aws = aws
        self.state = state

    def compose(self) -> ComposeResult:
        yield Header(show_clock=True)
        yield Static("loading the fleet...", id="status")
        yield DataTable(id="fleet", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = " ".join(self.aws.regions)
        self.query_one(DataTable).add_columns(*COLUMNS)
        self.load()

    def action_refresh(self) -> None:
        self.query_one("#status", Static).update("refreshing...")
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="inventory")
    def load(self) -> None:
        from lambdaops.aws.inventory import InventoryOptions, fleet_inventory
        from lambdaops.errors import LambdaopsError

        try:
            inv = fleet_inventory(self.aws, opts=InventoryOptions(details=True, cache_dir=None))
        except LambdaopsError as exc:
            self.post_message(self.LoadFailed(exc.one_line()))
            return
        self.post_message(self.InventoryLoaded(inv))

    def on_lambdaops_app_inventory_loaded(self, msg: InventoryLoaded) -> None:
        inv = msg.inventory
        table = self.query_one(DataTable)
        table.clear()
        for fn in sorted(inv.functions, key=lambda f: (f.region, f.name)):
            row = fn.to_row()
            targets = ", ".join(t for t in (row["dead_letter_target"], row["on_failure_destination"]) if t) or "-"
            table.add_row(fn.name, fn.region, row["runtime"], fn.architecture, str(fn.memory_mb), str(fn.timeout_s),
                          ", ".join(row["triggers"]) or "-", targets, key=f"{fn.region}/{fn.name}")
        errors = "; ".join(f"{e.region}: {e.message}" for e in inv.errors)
        self.query_one("#status", Static).update(
            f"{len(inv.functions)} functions in {len(inv.regions)} regions, "
            f"{sum(inv.api_calls.values())} API calls" + (f"  [!] {errors}" if errors else ""))
        for err in inv.errors:
            self.notify(f"{err.region}: {err.message}", severity="error")

    def on_lambdaops_app_load_failed(self, msg: LoadFailed) -> None:
        self.query_one("#status", Static).update(f"[!] {msg.error}")
        self.notify(msg.error, severity="error")
