"""A table that renders only the rows on screen, over a :class:`TableModel` built off the UI thread.

Why not DataTable: it measures every cell of every new row on the UI thread (``bench/tui_rows.py``
times it for thousands of rows) and updates cells in place one by one, so one refresh of a large
fleet would freeze the screen. Here a refresh swaps the model
(formatted in the worker), filter and sort are lists of row indices, and drawing touches only the
~40 visible rows. The cursor follows its row key across refreshes, filters and sorts.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from lambdaops.safe_text import safe_text
from lambdaops.tui.table_model import Column, TableModel

GAP = 1  # blank cells between columns


def fit(text: str, width: int, align: str) -> str:
    """``text`` in exactly ``width`` cells: padded on the aligned side, cut with an ellipsis."""
    n = cell_len(text)
    if n > width:
        return set_cell_size(text, max(0, width - 1)) + "…" if width > 0 else ""
    pad = " " * (width - n)
    return pad + text if align == "right" else text + pad


def visible_columns(columns: tuple[Column, ...] | list[Column], width: int, wide: bool = False) -> list[int]:
    """Indices of the columns to show in ``width`` cells: all of them in wide mode, else by priority
    (0 always, then 1, 2, ...; the first one that does not fit ends the list, so a column is never
    shown while a more important one is hidden), in their own order."""
    if wide or not columns:
        return list(range(len(columns)))
    order = sorted(range(len(columns)), key=lambda i: (columns[i].priority, i))
    chosen: list[int] = []
    used = -GAP
    for i in order:
        need = columns[i].width + GAP
        if columns[i].priority > 0 and used + need > width:
            break
        chosen.append(i)
        used += need
    return sorted(chosen)


class VirtualTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {"virtual-table--header", "virtual-table--cursor", "virtual-table--critical",
                         "virtual-table--warning", "virtual-table--muted", "virtual-table--sorted"}
    DEFAULT_CSS = """
    VirtualTable { height: 1fr; background: $surface; }
    VirtualTable > .virtual-table--header { text-style: bold; color: $text-accent; background: $panel; }
    VirtualTable > .virtual-table--sorted { text-style: bold underline; color: $text-accent; background: $panel; }
    VirtualTable > .virtual-table--cursor { background: $block-cursor-blurred-background; }
    VirtualTable:focus > .virtual-table--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
    VirtualTable > .virtual-table--critical { color: $text-error; }
    VirtualTable > .virtual-table--warning { color: $text-warning; }
    VirtualTable > .virtual-table--muted { color: $text-muted; }
    """
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "jump(0)", "First", show=False),
        Binding("end,G", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
        Binding("right,l", "column(1)", "Next column", show=False),
        Binding("left,h", "column(-1)", "Previous column", show=False),
    ]

    class Selected(Message):
        """Enter (or a click on the highlighted row) on a row."""

        def __init__(self, table: "VirtualTable", key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> "VirtualTable":
            return self.table

    class Highlighted(Selected):
        """The cursor moved to another row."""

    def __init__(self, model: TableModel | None = None, *, empty_text: str = "", id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.model = model if model is not None else TableModel(())  # an empty model still has its columns
        self.empty_text = empty_text
        self.filter_text = ""
        self.sort_key: str | None = None
        self.descending = False
        self.view: list[int] = list(range(len(self.model)))
        self.cursor = 0
        self.user_moved = False  # until the user moves, the cursor stays on the first row across refreshes
        self.wide = False  # every column (scrolled a column at a time), else those that fit by priority
        self._cols: list[int] = []  # indices of the columns shown
        self._widths: list[int] = []  # their widths

    # -- data ------------------------------------------------------------------------------
    def set_model(self, model: TableModel) -> None:
        """Swap in new rows (a refresh): same filter and sort, the cursor stays on its row."""
        key = self.selected_key if self.user_moved else None
        self.model = model
        self._apply(keep=key)

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self._apply(keep=self.selected_key)

    def sort_by(self, key: str | None, descending: bool | None = None) -> None:
        col = self.model.column(key) if key else None
        if key and (col is None or not col.sortable):
            return
        if descending is None:  # text ascending first, figures largest first
            descending = col is not None and col.align == "right"
        self.sort_key, self.descending = key, descending
        self._apply(keep=self.selected_key)

    def cycle_sort(self) -> str | None:
        """Next sortable column (after the last one: back to the model's own order)."""
        keys = [c.key for c in self.model.columns if c.sortable]
        i = keys.index(self.sort_key) + 1 if self.sort_key in keys else 0
        self.sort_by(keys[i] if i < len(keys) else None)
        return self.sort_key

    def reverse_sort(self) -> None:
        if self.sort_key:
            self.sort_by(self.sort_key, not self.descending)

    @property
    def selected_key(self) -> str | None:
        if not self.view or not 0 <= self.cursor < len(self.view):
            return None
        return self.model.keys[self.view[self.cursor]]

    def move_to_key(self, key: str) -> bool:
        row = self.model.row_of(key)
        if row is None or row not in self.view:
            return False
        self.user_moved = True
        self._move(self.view.index(row))
        return True

    def _apply(self, keep: str | None) -> None:
        self.view = self.model.view(self.filter_text, self.sort_key, self.descending)
        row = self.model.row_of(keep) if keep else None
        if row is not None and row in self.view:
            self.cursor = self.view.index(row)
        else:
            self.cursor = min(self.cursor if self.user_moved else 0, max(0, len(self.view) - 1))
        self._layout()
        self._scroll_to_cursor()
        self.refresh()

    # -- geometry --------------------------------------------------------------------------
    def set_wide(self, wide: bool) -> None:
        self.wide = wide
        self._layout()
        self.scroll_to(x=0, animate=False, immediate=True)
        self.refresh()

    @property
    def hidden_columns(self) -> int:
        return len(self.model.columns) - len(self._cols)

    def _layout(self) -> None:
        cols = self.model.columns
        avail = self.scrollable_content_region.width or self.size.width
        self._cols = visible_columns(cols, avail, self.wide)
        widths = [cols[i].width for i in self._cols]
        if widths:
            # The last column (free text) takes whatever width is left.
            used = sum(widths) + GAP * (len(widths) - 1)
            widths[-1] = max(widths[-1], widths[-1] + avail - used)
        self._widths = widths
        total = sum(widths) + GAP * max(0, len(widths) - 1)
        self.virtual_size = Size(total, len(self.view) + 1)

    def on_mount(self) -> None:
        self._layout()  # a model given at construction (the fleet's header before any row)

    def on_resize(self, event: events.Resize) -> None:
        self._layout()
        self._scroll_to_cursor()

    @property
    def body_height(self) -> int:
        return max(1, self.size.height - 1)

    def _scroll_to_cursor(self) -> None:
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + self.body_height:
            self.scroll_to(y=self.cursor - self.body_height + 1, animate=False, immediate=True)

    def _move(self, index: int) -> None:
        if not self.view:
            return
        index = max(0, min(len(self.view) - 1, index))
        changed = index != self.cursor
        self.cursor = index
        self._scroll_to_cursor()
        self.refresh()
        if changed and self.selected_key is not None:
            self.post_message(self.Highlighted(self, self.selected_key))

    # -- actions ---------------------------------------------------------------------------
    def action_cursor(self, step: int) -> None:
        self.user_moved = True
        self._move(self.cursor + step)

    def action_page(self, step: int) -> None:
        self.user_moved = True
        self._move(self.cursor + step * self.body_height)

    def action_jump(self, where: int) -> None:
        self.user_moved = True
        self._move(0 if where == 0 else len(self.view) - 1)

    def action_column(self, step: int) -> None:
        """Scroll sideways by one whole column (the first column stays in place)."""
        edges, edge = [0], 0
        for w in self._widths[1:-1]:
            edge += w + GAP
            edges.append(edge)
        x = self.scroll_offset.x
        if step > 0:
            target = next((e for e in edges if e > x), x)
        else:
            target = max((e for e in edges if e < x), default=0)
        self.scroll_to(x=target, animate=False, immediate=True)
        self.refresh()

    def action_select(self) -> None:
        if self.selected_key is not None:
            self.post_message(self.Selected(self, self.selected_key))

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            col = self._column_at(event.x)
            if col is not None:
                same = col.key == self.sort_key
                self.sort_by(col.key, (not self.descending) if same else None)
            return
        index = self.scroll_offset.y + event.y - 1
        if 0 <= index < len(self.view):
            if index == self.cursor:
                self.action_select()
            else:
                self.user_moved = True
                self._move(index)

    def _column_at(self, x: int) -> Column | None:
        first = self._widths[0] + GAP if self._widths else 0
        pos = x if x < first else x + self.scroll_offset.x
        edge = 0
        for col, w in zip(self.shown_columns, self._widths):
            edge += w + GAP
            if pos < edge:
                return col
        return None

    @property
    def shown_columns(self) -> list[Column]:
        return [self.model.columns[i] for i in self._cols]

    # -- drawing ---------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if not self.model.columns:
            return Strip.blank(width, base)
        if len(self._cols) == 0 or len(self._widths) != len(self._cols):
            self._layout()
        if not self._cols:
            return Strip.blank(width, base)
        if y == 0:
            return self._strip(self._header_segments(), width)
        index = self.scroll_offset.y + y - 1
        if index >= len(self.view):
            if index == 0 and self.empty_text:
                muted = base + self.get_component_rich_style("virtual-table--muted")
                return Strip([Segment(fit(" " + self.empty_text, width, "left"), muted)], width)
            return Strip.blank(width, base)
        return self._strip(self._row_segments(self.view[index], index == self.cursor), width)

    def _strip(self, segments: list[list[Segment]], width: int) -> Strip:
        """First column fixed, the others scrolled horizontally."""
        fixed, rest = segments[0], [s for cell in segments[1:] for s in cell]
        fixed_strip = Strip(fixed)
        scroll_x = self.scroll_offset.x
        rest_width = max(0, width - fixed_strip.cell_length)
        rest_strip = Strip(rest).crop_extend(scroll_x, scroll_x + rest_width, self.rich_style)
        return Strip.join([fixed_strip, rest_strip]).crop_extend(0, width, self.rich_style)

    def _header_segments(self) -> list[list[Segment]]:
        head = self.rich_style + self.get_component_rich_style("virtual-table--header")
        sorted_style = self.rich_style + self.get_component_rich_style("virtual-table--sorted")
        out = []
        for col, w in zip(self.shown_columns, self._widths):
            label = col.label
            if col.key == self.sort_key:
                label += "▼" if self.descending else "▲"
            out.append([Segment(fit(label, w, col.align), sorted_style if col.key == self.sort_key else head),
                        Segment(" " * GAP, head)])
        return out

    def _row_segments(self, row: int, is_cursor: bool) -> list[list[Segment]]:
        base = self.rich_style
        severity = self.model.severity[row]
        sev_style = self.get_component_rich_style(f"virtual-table--{severity}") if severity else Style()
        muted = self.get_component_rich_style("virtual-table--muted")
        cursor = self.get_component_rich_style("virtual-table--cursor") if is_cursor else None
        out = []
        cells = self.model.cells[row]
        for i, col, w in zip(self._cols, self.shown_columns, self._widths):
            text = cells[i] if i < len(cells) else ""
            style = base
            if col.severity_styled and severity:
                style = style + sev_style
            elif text in ("-", "…"):
                style = style + muted
            if cursor is not None:
                style = style + cursor
            gap = base + cursor if cursor is not None else base
            # Segments go to the terminal as they are: log lines and names are escaped first
            out.append([Segment(fit(safe_text(text, None), w, col.align), style), Segment(" " * GAP, gap)])
        return out
