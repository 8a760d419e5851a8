"""Lambda's log lines, parsed and summed by AWS's rules (pure).

- REPORT lines in the text format and the JSON ``platform.report`` record (Lambda developer guide,
  "Configuring JSON and plain text log formats"; Telemetry API schema reference for
  ``platform.report``). Text fields are tab-separated as Lambda writes them; copies with spaces are
  read too.
- Billed time: SnapStart's ``Billed Duration`` already includes the billed restore (real lines:
  Duration 2338.66 + Billed Restore 182 -> Billed 2521), so ``Billed Restore Duration`` is never
  added again. INIT is billed for every configuration since 2025-08-01 ("AWS Lambda standardizes
  billing for INIT Phase", AWS Compute Blog), yet not every line shows it inside ``Billed Duration``:
  a cold start bills max(Billed Duration, ceil(Duration + Init Duration)).
- Timeouts: REPORT ``Status: timeout`` / ``record.status`` "timeout", or an older runtime's separate
  ``<requestId> Task timed out after 3.00 seconds`` line. Out-of-memory deaths: ``Runtime.OutOfMemory``,
  or an older runtime's ``RequestId: <id> Error: Runtime exited with error: signal: killed``. One
  invocation may write both forms: each is counted once per request id.
- Streams: ``YYYY/MM/DD/<function>[<version>]<id>`` in a custom (possibly shared) log group,
  ``YYYY/MM/DD/[<version>]<id>`` in a function's own group (Lambda developer guide, "Sending Lambda
  function logs to CloudWatch Logs").
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Iterable

_FIELD = re.compile(r"(?:^|\s)(Duration|Billed Duration|Memory Size|Max Memory Used|Init Duration|Restore Duration|"
                    r"Billed Restore Duration): ([0-9]+(?:\.[0-9]+)?)")
_STATUS = re.compile(r"\sStatus: (\w+)")
_ERROR_TYPE = re.compile(r"\sError Type: (\S+)")
_RID = re.compile(r"REPORT RequestId: (\S+)")
_TRACE = re.compile(r"XRAY TraceId: (\S+)")
_TIMED_OUT = re.compile(r"(\S+)\s+Task timed out after [0-9.]+ seconds")
_KILLED = re.compile(r"RequestId: (\S+)\s+Error: Runtime exited with error: signal: killed")
_STREAM = re.compile(r"^\d+/\d+/\d+/([^\[/]*)\[")
OOM_ERROR = "Runtime.OutOfMemory"
# Durations are written to 0.01 ms: a sum that is a whole number in decimal must not ceil one above
# because of binary floating point.
_EPS = 1e-6


@dataclass
class Report:
    request_id: str
    duration_ms: float
    billed_ms: int  # as written on the line (Billed Duration / billedDurationMs)
    memory_mb: int
    max_memory_mb: int
    init_ms: float | None = None  # Init Duration
    restore_ms: float | None = None  # SnapStart Restore Duration
    billed_restore_ms: int | None = None  # already inside billed_ms: informational only
    status: str = "success"  # success | error | timeout
    error_type: str | None = None
    trace_id: str | None = None

    @property
    def cold_start(self) -> bool:
        return self.init_ms is not None or self.restore_ms is not None

    @property
    def cold_ms(self) -> float | None:
        return self.init_ms if self.init_ms is not None else self.restore_ms

    @property
    def aws_billed_ms(self) -> int:
        """What AWS bills for this invocation (module docstring): never Billed Restore Duration on top."""
        if self.init_ms is None:
            return self.billed_ms
        return max(self.billed_ms, math.ceil(self.duration_ms + self.init_ms - _EPS))

    @property
    def timed_out(self) -> bool:
        return self.status == "timeout"

    @property
    def out_of_memory(self) -> bool:
        return self.error_type == OOM_ERROR


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
        status = _STATUS.search(msg)
        rep.status = status.group(1) if status else "success"
        err = _ERROR_TYPE.search(msg)
        rep.error_type = err.group(1) if err else None
        trace = _TRACE.search(msg)
        rep.trace_id = trace.group(1) if trace else None
        return rep
    if msg.startswith("{") and "platform.report" in msg:
        try:
            doc = json.loads(msg)
        except ValueError:
            return None
        if not isinstance(doc, dict) or doc.get("type") != "platform.report":
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
        if isinstance(trace, str) and trace.startswith("Root="):
            rep.trace_id = trace.split(";")[0][5:]
        return rep
    return None


def timed_out_request(message: str) -> str | None:
    """The request id of an older runtime's separate ``Task timed out after N seconds`` line."""
    m = _TIMED_OUT.search(message)
    return m.group(1) if m else None


def killed_request(message: str) -> str | None:
    """The request id of ``RequestId: <id> Error: Runtime exited with error: signal: killed``."""
    m = _KILLED.search(message)
    return m.group(1) if m else None


def stream_function(stream: str) -> str:
    """The function a stream belongs to in a shared group; "" for a function's own group's streams."""
    m = _STREAM.match(stream or "")
    return m.group(1) if m else ""


@dataclass
class LogFigures:
    """What the report reads from one function's log lines."""
    reports: list[Report] = field(default_factory=list)
    timeout_ids: set[str] = field(default_factory=set)
    oom_ids: set[str] = field(default_factory=set)

    def add(self, message: str) -> None:
        rep = parse_report(message)
        if rep is not None:
            self.reports.append(rep)
            if rep.timed_out:
                self.timeout_ids.add(rep.request_id)
            if rep.out_of_memory:
                self.oom_ids.add(rep.request_id)
            return
        rid = timed_out_request(message)
        if rid is not None:
            self.timeout_ids.add(rid)
            return
        rid = killed_request(message)
        if rid is not None:
            self.oom_ids.add(rid)

    @property
    def invocations(self) -> int:
        return len(self.reports)

    @property
    def cold_ms(self) -> list[float]:
        return [r.cold_ms for r in self.reports if r.cold_start]

    @property
    def billed_ms(self) -> int:
        return sum(r.aws_billed_ms for r in self.reports)

    @property
    def max_memory_mb(self) -> int | None:
        return max((r.max_memory_mb for r in self.reports), default=None)


def summarize(events: Iterable[tuple[str, str]]) -> dict[str, LogFigures]:
    """(stream, message) pairs of one log group -> figures per function named in the stream ("" for
    the streams of a function's own group)."""
    out: dict[str, LogFigures] = {}
    for stream, message in events:
        out.setdefault(stream_function(stream), LogFigures()).add(message)
    return out
