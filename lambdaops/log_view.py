"""How a followed log line reads (``lambdaops logs --follow`` and the TUI's Logs tab): time, stream,
message; REPORT lines highlighted with their figures, cold starts marked. Pure (rich Text, no
textual); the message is AWS's text and is never read as markup."""

from __future__ import annotations

from datetime import datetime, timezone

from rich.text import Text

from lambdaops.report_line import parse_report
from lambdaops.safe_text import safe_text

COLD_MARK = "❄ cold start"


def is_report(message: str) -> bool:
    """A Lambda REPORT line, text or JSON ``platform.report`` (parsed as report_line does)."""
    return parse_report(message) is not None


def is_cold_start(message: str) -> bool:
    """A REPORT line with an init (or SnapStart restore) duration: the invocation started cold."""
    rep = parse_report(message)
    return rep is not None and (rep.init_ms is not None or rep.restore_ms is not None)


def render(event, *, color: bool) -> Text:
    """One line: ``HH:MM:SS.mmm stream message``. REPORT lines are bold, prefixed by their figures
    (the JSON form is long) and the cold-start mark."""
    ts = datetime.fromtimestamp(event.timestamp_ms / 1000, tz=timezone.utc).strftime("%H:%M:%S.%f")[:-3]
    stream = event.stream.rsplit("]", 1)[-1][:8] if event.stream else ""
    message = safe_text(event.message.rstrip("\n"), 4000)
    line = Text()
    dim = "dim" if color else ""
    line.append(f"{ts} ", style=dim)
    line.append(f"{stream:<8} ", style=dim)
    rep = parse_report(event.message)
    if rep is None:
        line.append(message)
        return line
    cold = rep.init_ms if rep.init_ms is not None else rep.restore_ms
    if cold is not None:
        line.append(f"{COLD_MARK} ", style="bold cyan" if color else "")
    summary = (f"REPORT {rep.duration_ms:.0f} ms, billed {rep.billed_ms} ms, {rep.max_memory_mb}/{rep.memory_mb} MB"
               + (f", init {cold:.0f} ms" if cold is not None else "")
               + (f", {rep.status}" if rep.status and rep.status != "success" else ""))
    line.append(summary, style="bold yellow" if color else "")
    line.append("  ")
    line.append(message, style="yellow" if color else "")
    return line
