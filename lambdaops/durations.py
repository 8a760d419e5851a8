"""How a length of time reads, the same in the report, the DLQ commands and the TUI: ``45s``,
``7m12s``, ``2h05m``, ``3d04h`` (two units at most, the smaller zero-padded so columns align)."""

from __future__ import annotations


def age(seconds: float) -> str:
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"
