"""A small line chart in braille dots (2 x 4 per cell): several series over one x axis, an optional
limit line, the y maximum and the x range as labels. Used for the function's metrics over time and
for the tuning curves over memory sizes.

It draws what it is given and says so when it has nothing (loading, an error, not applicable):
an empty chart must never look like a flat zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # [row][col] within a cell
COLORS = ("cyan", "red", "yellow", "green", "magenta", "blue")
Y_LABEL = 7


@dataclass
class Series:
    label: str
    values: list[float | None]
    color: str = "cyan"


def _finite(v) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


class Canvas:
    """Braille dots on a ``width`` x ``height`` cell grid; the last series drawn colours a cell."""

    def __init__(self, width: int, height: int) -> None:
        self.w, self.h = max(1, width), max(1, height)
        self.bits = [[0] * self.w for _ in range(self.h)]
        self.color: list[list[str | None]] = [[None] * self.w for _ in range(self.h)]

    def dot(self, x: int, y: int, color: str) -> None:
        """``x`` in 0..2w-1 left to right, ``y`` in 0..4h-1 bottom to top."""
        if not (0 <= x < self.w * 2 and 0 <= y < self.h * 4):
            return
        row = self.h - 1 - y // 4
        cell_y = 3 - y % 4
        self.bits[row][x // 2] |= _BITS[cell_y][x % 2]
        self.color[row][x // 2] = color

    def line(self, x0: int, y0: int, x1: int, y1: int, color: str) -> None:
        steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for i in range(steps + 1):
            self.dot(round(x0 + (x1 - x0) * i / steps), round(y0 + (y1 - y0) * i / steps), color)

    def dotted(self, x0: int, y0: int, x1: int, y1: int, color: str) -> None:
        """Every third dot of the line: a stretch that is not a measurement yet."""
        steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for i in range(0, steps + 1, 3):
            self.dot(round(x0 + (x1 - x0) * i / steps), round(y0 + (y1 - y0) * i / steps), color)

    def rows(self) -> list[Text]:
        out = []
        for bits_row, color_row in zip(self.bits, self.color):
            t = Text(no_wrap=True)
            for bits, color in zip(bits_row, color_row):
                t.append(chr(0x2800 + bits) if bits else " ", style=color or "")
            out.append(t)
        return out


def short(v: float) -> str:
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.1f}M"
    if a >= 1e4:
        return f"{v / 1e3:.0f}k"
    if a >= 1000:
        return f"{v / 1e3:.1f}k"
    if a >= 10 or v == int(v):
        return f"{v:.0f}"
    return f"{v:.1f}"


class TimeChart(Widget):
    DEFAULT_CSS = """
    TimeChart { height: 10; border: round $primary-darken-2; padding: 0 0; }
    """

    def __init__(self, title: str, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.title = title
        self.border_title = title
        self.series: list[Series] = []
        self.x_labels = ("", "")
        self.limit: tuple[float, str] | None = None
        self.message = "loading…"
        self.partial_last = False  # the last point's bucket is not over yet: drawn dotted, not as a drop

    def show(self, series: list[Series], x_labels: tuple[str, str] = ("", ""),
             limit: tuple[float, str] | None = None, note: str = "", partial_last: bool = False) -> None:
        self.series, self.x_labels, self.limit = series, x_labels, limit
        self.partial_last = partial_last
        if partial_last:
            note = f"{note} · last bucket partial (dotted)" if note else "last bucket partial (dotted)"
        has_data = any(_finite(v) for s in series for v in s.values)
        self.message = "" if has_data else "no data in the window"
        legend = " · ".join(f"[{s.color}]{s.label}[/]" for s in series)
        if limit is not None:
            legend += f" · [red]{limit[1]}[/]"
        self.border_title = f"{self.title}: {legend}" if legend else self.title
        self.border_subtitle = note
        self.refresh()

    def say(self, message: str) -> None:
        """Loading, an error, or not applicable: shown instead of an empty chart."""
        self.series, self.message = [], message
        self.border_title = self.title
        self.refresh()

    def render(self) -> Text:
        width, height = self.size.width, self.size.height
        if self.message or not self.series or width <= Y_LABEL + 2 or height < 2:
            return Text(self.message or "", style="dim italic", no_wrap=True, overflow="ellipsis")
        plot_w, plot_h = width - Y_LABEL, height - 1
        values = [v for s in self.series for v in s.values if _finite(v)]
        top = max(values + ([self.limit[0]] if self.limit else []) + [0.0])
        top = top * 1.05 if top > 0 else 1.0
        canvas = Canvas(plot_w, plot_h)
        dots_y = plot_h * 4 - 1
        if self.limit is not None:
            y = round(self.limit[0] / top * dots_y)
            for x in range(0, plot_w * 2, 3):
                canvas.dot(x, y, "red")
        for s in self.series:
            n = len(s.values)
            prev = None
            for i, v in enumerate(s.values):
                if not _finite(v):
                    prev = None
                    continue
                x = round(i / max(1, n - 1) * (plot_w * 2 - 1)) if n > 1 else plot_w
                y = round(max(0.0, float(v)) / top * dots_y)
                if prev is None:
                    canvas.dot(x, y, s.color)
                elif self.partial_last and i == n - 1:
                    canvas.dotted(prev[0], prev[1], x, y, s.color)
                else:
                    canvas.line(prev[0], prev[1], x, y, s.color)
                prev = (x, y)
        out = Text(no_wrap=True)
        for i, row in enumerate(canvas.rows()):
            label = short(top / 1.05) if i == 0 else ("0" if i == plot_h - 1 else "")
            out.append(f"{label:>{Y_LABEL - 1}} ", style="dim")
            out.append_text(row)
            out.append("\n")
        left, right = self.x_labels
        gap = max(1, plot_w - len(left) - len(right))
        out.append(" " * Y_LABEL + left + " " * gap + right, style="dim")
        return out
