"""Parse Lambda REPORT lines: the text format and the JSON ``platform.report`` record (pure)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_FIELD = re.compile(r"(Duration|Billed Duration|Memory Size|Max Memory Used|Init Duration|Restore Duration|"
                    r"Billed Restore Duration|Status|Error Type): ([^\t\n]+)")
_RID = re.compile(r"REPORT RequestId: ([0-9a-fA-F-]+)")
_TRACE = re.compile(r"XRAY TraceId: (\S+)")


@dataclass
class Report:
    request_id: str
    duration_ms: float
    billed_ms: int
    memory_mb: int
    max_memory_mb: int
    init_ms: float | None = None  # Init Duration
    restore_ms: float | None = None  # SnapStart Restore Duration
    billed_restore_ms: int | None = None
    status: str = "success"  # success | error | timeout
    error_type: str | None = None
    trace_id: str | None = None

    @property
    def cold_start(self) -> bool:
        return self.init_ms is not None or self.restore_ms is not None

    @property
    def cold_ms(self) -> float | None:
        return self.init_ms if self.init_ms is not None else self.restore_ms


def _num(text: str) -> float:
    return float(text.split()[0])


def parse_report(message: str) -> Report | None:
    """A Report from either format, or None when the message is not a REPORT."""
    msg = message.lstrip()
    if msg.startswith("REPORT RequestId:"):
        fields = dict(_FIELD.findall(msg))
        rid = _RID.match(msg)
        try:
            rep = Report(request_id=rid.group(1) if rid else "", duration_ms=_num(fields["Duration"]),
                         billed_ms=int(_num(fields["Billed Duration"])), memory_mb=int(_num(fields["Memory Size"])),
                         max_memory_mb=int(_num(fields["Max Memory Used"])))
        except (KeyError, ValueError):
            return None
        if "Init Duration" in fields:
            rep.init_ms = _num(fields["Init Duration"])
        if "Restore Duration" in fields:
            rep.restore_ms = _num(fields["Restore Duration"])
        if "Billed Restore Duration" in fields:
            rep.billed_restore_ms = int(_num(fields["Billed Restore Duration"]))
        rep.status = fields.get("Status", "success").strip()
        rep.error_type = fields.get("Error Type")
        trace = _TRACE.search(msg)
        rep.trace_id = trace.group(1) if trace else None
        return rep
    if msg.startswith("{") and "platform.report" in msg:
        try:
            doc = json.loads(msg)
        except ValueError:
            return None
        if doc.get("type") != "platform.report":
            return None
        rec = doc.get("record") or {}
        m = rec.get("metrics") or {}
        try:
            rep = Report(request_id=rec.get("requestId", ""), duration_ms=float(m["durationMs"]),
                         billed_ms=int(m["billedDurationMs"]), memory_mb=int(m["memorySizeMB"]),
                         max_memory_mb=int(m["maxMemoryUsedMB"]))
        except (KeyError, TypeError, ValueError):
            return None
        rep.init_ms = m.get("initDurationMs")
        rep.restore_ms = m.get("restoreDurationMs")
        rep.billed_restore_ms = m.get("billedRestoreDurationMs")
        rep.status = rec.get("status", "success")
        rep.error_type = rec.get("errorType")
        trace = (rec.get("tracing") or {}).get("value", "")
        if trace.startswith("Root="):
            rep.trace_id = trace.split(";")[0][5:]
        return rep
    return None
