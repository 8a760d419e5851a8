"""Fleet (home): every function of the selected regions, worst first, filterable and sortable."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from lambdaops.tui import format as fmt
from lambdaops.tui.bindings import FLEET, bindings
from lambdaops.tui.fleet_model import build_fleet_model
from lambdaops.tui.messages import FleetRows
from lambdaops.tui.widgets.findings_strip import FindingsStrip
from lambdaops.tui.widgets.key_input import KeyInput
from lambdaops.tui.widgets.status_header import StatusHeader
from lambdaops.tui.widgets.virtual_table import VirtualTable


class FleetScreen(Screen):
    BINDINGS = bindings(FLEET)
    crumb_title = "Fleet"
    DEFAULT_CSS = """
    FleetScreen #filter { height: 3; display: none; border: round $accent; }
    FleetScreen #filter.shown { display: block; }
    FleetScreen #fleet-status { height: 1; padding: 0 1; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield StatusHeader("Fleet")
        yield FindingsStrip(id="findings")
        # The columns from the first frame (issue 18): the header is there before any row.
        yield VirtualTable(build_fleet_model([]), id="fleet", empty_text="connecting to AWS…")
        # In the flow above the status line, not docked: a docked input hid its border behind the footer.
        yield KeyInput(placeholder="filter: words, !word, err>1, cold>5, region:eu-west-1, runtime:java*, finding:dlq",
                       id="filter")
        yield Static("", id="fleet-status")

    def on_mount(self) -> None:
        self.table.focus()
        # The key bar after the first frame: its keys are a widget each, styled one by one (about
        # 0.15 s of CPU, three times the rest of the frame; issue 18's frame budget is 0.5 s).
        self.call_after_refresh(self.mount, Footer())

    @property
    def table(self) -> VirtualTable:
        return self.query_one("#fleet", VirtualTable)

    # -- data ----------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        """Its widgets are there (not yet composed, or being taken down as the app closes: a poll
        that answers then has nothing to draw on)."""
        return bool(self.query("#fleet"))

    def show_rows(self, msg: FleetRows) -> None:
        if not self.ready:
            return
        self.rows_stage = msg.stage
        self.table.set_model(msg.model)
        self.show_findings()
        self.update_status()

    def show_findings(self) -> None:
        """The findings panel lists the rows the filter lets through, like the table."""
        records = self.app.fleet_records
        if records is None or not self.ready:
            return
        table = self.table
        if table.filter_text:
            shown = {table.model.keys[i] for i in table.view}
            records = [r for r in records if f"{r['region']}/{r['name']}" in shown]
        self.query_one(FindingsStrip).show(records)

    def update_empty_text(self) -> None:
        table = self.table
        if table.filter_text and len(table.model):
            table.empty_text = f"no function matches the filter '{table.filter_text}' (esc clears it)"
        elif getattr(self, "rows_stage", None) == "snapshot" or len(table.model):
            table.empty_text = "no function in these regions" if not len(table.model) else ""
        elif self.app.connected_once:
            table.empty_text = "listing functions…"

    def update_status(self) -> None:
        if not self.ready:
            return
        table, app = self.table, self.app
        narrow = self.size.width < 120  # the status line is one line: short words at 80 columns
        self.update_empty_text()
        parts = [f"{len(table.model):,} functions"]
        if table.filter_text:
            parts.append(f"{len(table.view):,} match '{table.filter_text}'")
            from lambdaops.tui.filter_expr import compile_filter

            parts += compile_filter(table.filter_text).problems
        if table.hidden_columns:
            parts.append(f"{table.hidden_columns} cols hidden (w)" if narrow else
                         f"{table.hidden_columns} columns hidden (w: all)")
        if table.sort_key:
            col = table.model.column(table.sort_key)
            parts.append(f"sorted by {col.label if col else table.sort_key} {'▼' if table.descending else '▲'}")
        elif not narrow:
            parts.append("worst first")
        snap = app.snapshot
        if snap is not None:
            parts.append(f"figures of {fmt.clock(snap.window.end)}" + ("" if narrow else
                                                                          f" (collected in {snap.elapsed_s:.1f}s)"))
        elif getattr(self, "rows_stage", None) == "metrics":  # … cells: Logs Insights has not answered yet
            parts.append("logs loading…" if narrow else "metrics in; Logs Insights (cold %, cost, findings) loading…")
        elif app.connected_once:
            parts.append("figures loading…" if narrow else "figures loading (metrics, then Logs Insights)…")
        if app.error_log:
            n = len(app.error_log)
            parts.append(f"{n} error{'' if n == 1 else 's'} (E)")
        self.query_one("#fleet-status", Static).update(" · ".join(parts))

    # -- filter ----------------------------------------------------------------------------
    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("shown")
        # Focus now, not on the next message (``focus()`` is deferred): keys typed right after
        # ``/`` while the app is busy must land in the filter, not in the table.
        self.set_focus(box)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.table.set_filter(event.value)
            self.show_findings()
            self.update_status()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            if not event.value:
                event.input.remove_class("shown")
            self.table.focus()

    def leave_input(self, box: Input) -> None:
        """esc in the filter: back to the table, the filter kept (esc there clears it)."""
        if not box.value:
            box.remove_class("shown")
        self.set_focus(self.table)

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.remove_class("shown")
        self.table.set_filter("")
        self.table.focus()
        self.show_findings()
        self.update_status()

    def set_filter(self, text: str) -> None:
        box = self.query_one("#filter", Input)
        box.value = text  # fires Changed, which filters
        box.set_class(bool(text), "shown")
        self.table.set_filter(text)
        self.show_findings()
        self.update_status()

    # -- sort and drill down ---------------------------------------------------------------
    def action_sort(self) -> None:
        self.table.cycle_sort()
        self.update_status()

    def action_sort_column(self, key: str) -> None:
        table = self.table
        if table.sort_key == key:
            table.reverse_sort()
        else:
            table.sort_by(key)
        self.update_status()

    def action_wide(self) -> None:
        self.table.set_wide(not self.table.wide)
        self.update_status()

    def on_resize(self) -> None:
        self.update_status()

    def action_reverse(self) -> None:
        self.table.reverse_sort()
        self.update_status()

    def sort_by(self, column: str) -> bool:
        cols = {c.key: c for c in self.table.model.columns}
        by_label = {c.label.lower().rstrip("%"): c.key for c in cols.values()}
        key = column if column in cols else by_label.get(column.lower().rstrip("%"))
        if key is None:
            return False
        self.table.sort_by(key)
        self.update_status()
        return True

    def action_open(self) -> None:
        key = self.table.selected_key
        if key:
            self.app.open_function(key)

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        self.app.open_function(event.key)

    def on_findings_strip_chosen(self, event: FindingsStrip.Chosen) -> None:
        if event.target.code == "dlq_not_empty":
            self.app.open_dlq(event.target.key)
        else:
            self.app.open_function(event.target.key)

    def action_dlq(self) -> None:
        self.app.open_dlq(self.table.selected_key)

    def action_tune(self) -> None:
        self.app.open_tuning(self.table.selected_key)
