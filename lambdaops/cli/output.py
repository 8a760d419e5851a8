"""Rows -> table | json | csv | markdown on stdout. Data goes to stdout, diagnostics to stderr.

Columns are declared once per command (key, header, alignment, formatter for the table); JSON keeps
the raw values under the same snake_case keys, in a stable order, so reports diff cleanly.

Cells hold text that came from AWS (names, tags, error messages, message bodies): the table and
Markdown escape it for the terminal (:mod:`lambdaops.safe_text`) and the table hands Rich ``Text``
cells, never markup; JSON stays exact JSON with terminal controls as ``\\u`` escapes; CSV is exact
data, quoted by the csv module.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Iterable, Sequence

from lambdaops.safe_text import json_inert, safe_text

FORMATS = ("table", "json", "csv", "markdown")


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    justify: str = "left"  # left | right
    fmt: Callable[[Any], str] | None = None
    max_width: int | None = None


def plain(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(plain(v) for v in value) if value else "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) if value else "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def to_json(data: Any) -> str:
    return json_inert(json.dumps(data, indent=2, default=json_default, ensure_ascii=False, allow_nan=False)) + "\n"


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ";".join(_csv_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=json_default, sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def to_csv(rows: Sequence[dict], columns: Sequence[Column]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.key for c in columns])
    for row in rows:
        writer.writerow([_csv_cell(row.get(c.key)) for c in columns])
    return buf.getvalue()


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\|<>`*[]"})


def _md_escape(text: str) -> str:
    """A Markdown table cell: terminal controls escaped (newlines included), then the characters
    that would end the cell or become markup or HTML backslash-escaped (CommonMark: any ASCII
    punctuation may be)."""
    return safe_text(text, None).translate(_MD_SPECIAL)


def to_markdown(rows: Sequence[dict], columns: Sequence[Column]) -> str:
    head = "| " + " | ".join(c.header for c in columns) + " |"
    sep = "| " + " | ".join("---:" if c.justify == "right" else "---" for c in columns) + " |"
    lines = [head, sep]
    for row in rows:
        cells = [(c.fmt or plain)(row.get(c.key)) for c in columns]
        lines.append("| " + " | ".join(_md_escape(x) for x in cells) + " |")
    return "\n".join(lines) + "\n"


def make_console(stream=None):
    """A Rich console that colours only a terminal and does not wrap tables into 80 columns in pipes."""
    from rich.console import Console

    stream = stream or sys.stdout
    is_tty = hasattr(stream, "isatty") and stream.isatty()
    return Console(file=stream, width=None if is_tty else 250, no_color=not is_tty,
                   highlight=False, soft_wrap=False)


def to_table(rows: Sequence[dict], columns: Sequence[Column], *, title: str | None = None,
             row_styles: Iterable[str | None] | None = None):
    from rich.table import Table

    from rich.text import Text

    table = Table(title=Text(safe_text(title, None)) if title else None, header_style="bold", box=None,
                  pad_edge=False, show_edge=False)
    for c in columns:
        table.add_column(c.header, justify=c.justify, no_wrap=True, overflow="ellipsis", max_width=c.max_width)
    styles = list(row_styles) if row_styles is not None else [None] * len(rows)
    for row, style in zip(rows, styles):
        table.add_row(*[Text(safe_text((c.fmt or plain)(row.get(c.key)), None)) for c in columns], style=style)
    return table


def emit(rows: Sequence[dict], columns: Sequence[Column], fmt: str, *, json_data: Any = None,
         title: str | None = None, stream=None) -> None:
    """Write ``rows`` in ``fmt``. ``json_data`` replaces the row list for JSON when a command has a
    richer document to give (e.g. the report's envelope)."""
    stream = stream or sys.stdout
    if fmt == "json":
        stream.write(to_json(json_data if json_data is not None else list(rows)))
    elif fmt == "csv":
        stream.write(to_csv(rows, columns))
    elif fmt == "markdown":
        stream.write(to_markdown(rows, columns))
    else:
        console = make_console(stream)
        console.print(to_table(rows, columns, title=title))
