"""How figures read in the TUI: short, right-aligned, units in the column header, "-" for missing.

Pure functions (no textual): the fleet rows are formatted in worker threads, not on the UI thread.
Missing stays "-" and is never shown as 0: a figure that could not be fetched is not a zero.
"""

from __future__ import annotations

import html
import math
import re
from datetime import datetime, timezone
from typing import Any

from lambdaops.durations import age

MISSING = "-"
SPARK_CHARS = "▁▂▃▄▅▆▇█"
SEVERITY_ICON = {"critical": "✖", "warning": "⚠"}


def missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: Any) -> float | None:
    """A float, or None for missing/NaN/non-numbers (pandas hands over numpy types and NaN)."""
    if missing(value):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def count(value: Any) -> str:
    """48213 -> '48.2k'; 1.2e6 -> '1.2M'."""
    v = number(value)
    if v is None:
        return MISSING
    a = abs(v)
    if a >= 1e9:
        return f"{v / 1e9:.1f}G"
    if a >= 1e6:
        return f"{v / 1e6:.1f}M"
    if a >= 1e4:
        return f"{v / 1e3:.1f}k"
    return f"{v:,.0f}"


def pct(rate: Any, digits: int = 1) -> str:
    """A 0..1 rate as a percentage without the sign (the header says %)."""
    v = number(rate)
    if v is None:
        return MISSING
    return f"{v * 100:.{digits}f}"


def ms(value: Any) -> str:
    """Milliseconds: '41', '812', '1.4k' (the header says ms)."""
    v = number(value)
    if v is None:
        return MISSING
    if v >= 10_000:
        return f"{v / 1000:.0f}k"
    if v >= 1000:
        return f"{v / 1000:.1f}k"
    return f"{v:.0f}"


def duration_ms(value: Any) -> str:
    """A duration with its unit: '74 ms', '1.93 s', '7m12s', '2h05m'."""
    v = number(value)
    if v is None:
        return MISSING
    if v < 1000:
        return f"{v:.0f} ms"
    s = v / 1000
    if s < 60:
        return f"{s:.2f} s"
    return age_s(s)


def age_s(seconds: Any) -> str:
    """An age: '45s', '7m12s', '2h05m', '3d04h'."""
    v = number(seconds)
    return MISSING if v is None else age(v)


def usd(value: Any) -> str:
    v = number(value)
    if v is None:
        return MISSING
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}" if v >= 0.001 or v == 0 else "<.001"


def window_label(seconds: int) -> str:
    """3600 -> '1h', 5400 -> '90m', 86400 -> '1d'."""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def sparkline(values: list[float] | None, width: int | None = None) -> str:
    """Block characters scaled to the series' own maximum (a shape, not a scale: the count beside it
    gives the size). Empty series: blank; all zero: a flat baseline."""
    if not values:
        return ""
    vals = [0.0 if missing(v) else float(v) for v in values]
    if width and len(vals) > width:
        # Sum neighbouring buckets: counts, so a merged bucket holds the total of its parts.
        step = len(vals) / width
        vals = [sum(vals[int(i * step):int((i + 1) * step)]) for i in range(width)]
    top = max(vals)
    if top <= 0:
        return SPARK_CHARS[0] * len(vals)
    last = len(SPARK_CHARS) - 1
    return "".join(SPARK_CHARS[min(last, int(round(v / top * last)))] for v in vals)


def clock(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).strftime("%H:%M:%S")


def short_time(ts: datetime | float) -> str:
    if not isinstance(ts, datetime):
        ts = datetime.fromtimestamp(ts, tz=timezone.utc)
    return ts.astimezone(timezone.utc).strftime("%m-%d %H:%M:%S")


def ellipsize(text: str, width: int) -> str:
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


_TAG = re.compile(r"<[^>]*>")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_HTML_START = re.compile(r"<(!doctype|html|head|body|title|h1)\b", re.I)
ERROR_SUMMARY_MAX = 200


def error_summary(text: str, limit: int = ERROR_SUMMARY_MAX) -> str:
    """An error for a one-line toast: a failed HTTP call's HTML page (a proxy's, a made-up host's)
    becomes its title or its text without tags; whitespace runs become one space; cut to ``limit``.
    ``ListFunctions failed in x (500): <!doctype html>...`` reads ``... (500): 502 Bad Gateway``."""
    m = _HTML_START.search(text)
    if m:
        head, page = text[:m.start()], text[m.start():]
        title = _TITLE.search(page)
        body = title.group(1) if title else _TAG.sub(" ", page)
        text = f"{head}{html.unescape(body)}".strip() + " (HTML error page; E shows it all)"
    text = " ".join(text.split())
    return ellipsize(text, limit)
