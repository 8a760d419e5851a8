"""A trace as a waterfall: one bar per span on a shared time axis, Lambda's Initialization /
Invocation / Overhead phases coloured, downstream calls indented under the phase that made them."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from lambdaops.safe_text import safe_text
from lambdaops.tui import format as fmt

KIND_STYLE = {"Initialization": "yellow", "Restore": "yellow", "Invocation": "cyan", "Overhead": "magenta",
              "downstream": "green", "service": "blue", "function": "blue"}
NAME_W = 34
TIME_W = 10


class Waterfall(Widget):
    DEFAULT_CSS = """
    Waterfall { height: auto; padding: 0 1; }
    """

    def __init__(self, trace, id: str | None = None) -> None:
        super().__init__(id=id)
        self.trace = trace

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self.trace.spans) + 3

    def render(self) -> Text:
        trace = self.trace
        spans = trace.spans
        out = Text(no_wrap=True)
        if not spans:
            out.append("this trace has no segments (yet): X-Ray may still be indexing it", style="dim")
            return out
        t0 = min(s.start for s in spans)
        t1 = max(s.end for s in spans)
        total = max(t1 - t0, 1e-9)
        bar_w = max(10, self.size.width - NAME_W - TIME_W - 4)
        ticks = Text(" " * (NAME_W + 1), style="dim")
        for frac in (0.0, 0.25, 0.5, 0.75):
            label = fmt.duration_ms(total * frac * 1000)
            ticks.append(f"{'|' + label:<{bar_w // 4}}", style="dim")
        out.append_text(ticks)
        out.append("\n")
        for s in spans:
            a = int((s.start - t0) / total * bar_w)
            b = max(a + 1, int(round((s.end - t0) / total * bar_w)))
            style = "bold red" if (s.error or s.fault) else KIND_STYLE.get(s.kind, "white")
            name = fmt.ellipsize("  " * s.depth + safe_text(s.name, None), NAME_W)  # X-Ray names: escaped
            out.append(f"{name:<{NAME_W}} ", style="bold" if s.depth <= 1 else "")
            out.append("░" * a, style="grey23")
            out.append("█" * (b - a), style=style)
            out.append("░" * max(0, bar_w - b), style="grey23")
            out.append(f" {fmt.duration_ms(s.ms):>{TIME_W}}")
            if s.error or s.fault:
                out.append("  fault" if s.fault else "  error", style="bold red")
            out.append("\n")
        out.append("\n")
        legend = [("Initialization", "cold start"), ("Invocation", "handler"), ("Overhead", "after the response"),
                  ("downstream", "calls made")]
        for kind, label in legend:
            out.append("█ ", style=KIND_STYLE[kind])
            out.append(f"{kind} ({label})   ", style="dim")
        return out
