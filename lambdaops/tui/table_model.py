"""A table as data: preformatted cells, sort values and search text per row, built off the UI thread.

The fleet can hold thousands of functions. Formatting, sort keys and search text are computed once
per refresh in the worker that fetched the data; the widget then only picks the rows it shows
(filter + sort over plain lists, a few milliseconds for 5,000 rows) and renders the visible ones.
No textual here: the model is tested and benchmarked without an app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    align: str = "left"  # left | right
    sortable: bool = True
    severity_styled: bool = False  # takes the row's severity colour (colour is for severity only)
    # Which columns a narrow terminal keeps: 0 always, then 1, 2, ... while they fit (the table's
    # wide mode shows them all and scrolls a column at a time).
    priority: int = 0


@dataclass
class TableModel:
    columns: tuple[Column, ...]
    keys: list[str] = field(default_factory=list)  # stable row identity (cursor survives refreshes)
    cells: list[tuple[str, ...]] = field(default_factory=list)
    # column key -> one value per row: a float or a str; None sorts last in either direction
    sort_values: dict[str, list[Any]] = field(default_factory=dict)
    severity: list[str | None] = field(default_factory=list)  # critical | warning | None per row
    search: list[str] = field(default_factory=list)  # lower-case text the filter matches against
    # Per row, the fields of a filter expression (see filter_expr); a row without them is matched by
    # substrings of its search text.
    fields: list[dict[str, Any] | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._index = {k: i for i, k in enumerate(self.keys)}

    def __len__(self) -> int:
        return len(self.keys)

    def row_of(self, key: str) -> int | None:
        return self._index.get(key)

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)

    def add_row(self, key: str, cells: Sequence[str], sort_values: dict[str, Any] | None = None,
                severity: str | None = None, search: str | None = None,
                fields: dict[str, Any] | None = None) -> None:
        self._index[key] = len(self.keys)
        self.keys.append(key)
        self.cells.append(tuple(cells))
        sv = sort_values or {}
        for i, col in enumerate(self.columns):
            self.sort_values.setdefault(col.key, []).append(sv.get(col.key, cells[i] if i < len(cells) else None))
        self.severity.append(severity)
        self.search.append((search if search is not None else " ".join(cells)).lower())
        self.fields.append(fields)

    def view(self, filter_text: str = "", sort_key: str | None = None, descending: bool = False) -> list[int]:
        """Row indices to show: rows whose search text holds every word of ``filter_text`` (a word
        starting with ``!`` must be absent), in model order or sorted by ``sort_key``."""
        rows = range(len(self.keys))
        words = filter_text.lower().split()
        if words and any(f is not None for f in self.fields):
            from lambdaops.tui.filter_expr import compile_filter

            match = compile_filter(filter_text)
            rows = [i for i in rows if self.fields[i] is not None and match(self.fields[i])]
        elif words:
            want = [w for w in words if not w.startswith("!")]
            reject = [w[1:] for w in words if w.startswith("!") and len(w) > 1]
            search = self.search
            rows = [i for i in rows if all(w in search[i] for w in want) and not any(w in search[i] for w in reject)]
        rows = list(rows)
        values = self.sort_values.get(sort_key) if sort_key else None
        if values is None:
            return rows
        present = [i for i in rows if values[i] is not None]
        absent = [i for i in rows if values[i] is None]
        numeric = all(isinstance(values[i], (int, float)) for i in present)
        if numeric:
            present.sort(key=values.__getitem__, reverse=descending)
        else:
            present.sort(key=lambda i: str(values[i]).lower(), reverse=descending)
        return present + absent  # missing figures last, whichever the direction
