"""X-Ray traces of one function: the slowest and the cold-start ones, with the Lambda breakdown.

Equivalents: ``aws xray get-trace-summaries --filter-expression 'service("fn")'`` (in windows of at
most 6 hours) and ``aws xray batch-get-traces --trace-ids ...`` (5 ids a call). Cold starts are read
from the full documents: the function segment has an ``Initialization`` subsegment only then.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from botocore import exceptions as bx

from lambdaops.aws.context import AwsContext
from lambdaops.aws.errors import translate

WINDOW = timedelta(hours=6)
BATCH = 5


@dataclass
class Span:
    name: str
    start: float  # epoch seconds
    end: float
    depth: int
    kind: str = ""  # Initialization | Invocation | Overhead | downstream | service | function
    error: bool = False
    fault: bool = False

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000.0


@dataclass
class Trace:
    trace_id: str
    start: float
    duration_ms: float
    response_ms: float
    fault: bool = False
    error: bool = False
    cold_start: bool | None = None  # None until the full document was read
    init_ms: float | None = None
    invocation_ms: float | None = None
    overhead_ms: float | None = None
    request_id: str | None = None
    spans: list[Span] = field(default_factory=list)

    def to_row(self) -> dict:
        return {"trace_id": self.trace_id, "start": datetime.fromtimestamp(self.start).isoformat(timespec="seconds"),
                "duration_ms": round(self.duration_ms, 1), "cold_start": self.cold_start,
                "init_ms": None if self.init_ms is None else round(self.init_ms, 1),
                "invocation_ms": None if self.invocation_ms is None else round(self.invocation_ms, 1),
                "overhead_ms": None if self.overhead_ms is None else round(self.overhead_ms, 1),
                "fault": self.fault, "error": self.error, "request_id": self.request_id}


def summaries(ctx: AwsContext, region: str, function: str, start: datetime, end: datetime,
              extra_filter: str | None = None, max_traces: int = 2000) -> list[Trace]:
    """Trace summaries for ``function`` over [start, end), 6-hour windows, all pages (bounded)."""
    cli = ctx.client("xray", region)
    expr = f'service("{function}")' + (f" AND {extra_filter}" if extra_filter else "")
    out: list[Trace] = []
    t = start
    try:
        while t < end and len(out) < max_traces:
            stop = min(end, t + WINDOW)
            for page in cli.get_paginator("get_trace_summaries").paginate(StartTime=t, EndTime=stop,
                                                                          FilterExpression=expr):
                for s in page.get("TraceSummaries", []):
                    out.append(Trace(trace_id=s["Id"], start=_epoch(s.get("StartTime")),
                                     duration_ms=float(s.get("Duration", 0)) * 1000,
                                     response_ms=float(s.get("ResponseTime", 0)) * 1000,
                                     fault=bool(s.get("HasFault")), error=bool(s.get("HasError"))))
                if len(out) >= max_traces:
                    break
            t = stop
    except (bx.ClientError, bx.BotoCoreError) as exc:
        raise translate(exc, profile=ctx.profile, region=region) from exc
    return out


def _epoch(value) -> float:
    if value is None:
        return 0.0
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def fill_documents(ctx: AwsContext, region: str, traces: list[Trace]) -> None:
    """``batch-get-traces`` 5 ids a call; fills cold_start, the breakdown and the waterfall spans."""
    cli = ctx.client("xray", region)
    by_id = {t.trace_id: t for t in traces}
    ids = list(by_id)
    try:
        for i in range(0, len(ids), BATCH):
            resp = cli.batch_get_traces(TraceIds=ids[i:i + BATCH])
            for doc in resp.get("Traces", []):
                trace = by_id.get(doc.get("Id"))
                if trace is not None:
                    parse_document(trace, [json.loads(s["Document"]) for s in doc.get("Segments", [])])
    except (bx.ClientError, bx.BotoCoreError) as exc:
        raise translate(exc, profile=ctx.profile, region=region) from exc


def parse_document(trace: Trace, segments: list[dict]) -> None:
    """Lambda's two segments -> breakdown and an ordered waterfall (pure)."""
    spans: list[Span] = []
    trace.cold_start = False
    for seg in sorted(segments, key=lambda s: s.get("start_time", 0)):
        origin = seg.get("origin", "")
        kind = "function" if origin == "AWS::Lambda::Function" else "service" if origin == "AWS::Lambda" else "segment"
        spans.append(Span(seg.get("name", "?") + (" (function)" if kind == "function" else ""), seg["start_time"],
                          seg.get("end_time", seg["start_time"]), 0, kind, bool(seg.get("error")), bool(seg.get("fault"))))
        trace.request_id = trace.request_id or (seg.get("aws") or {}).get("request_id")
        for sub in seg.get("subsegments", []):
            _walk(sub, 1, spans, trace)
    trace.spans = spans


def _walk(sub: dict, depth: int, spans: list[Span], trace: Trace) -> None:
    name = sub.get("name", "?")
    start, end = sub.get("start_time", 0.0), sub.get("end_time", sub.get("start_time", 0.0))
    kind = name if name in ("Initialization", "Invocation", "Overhead", "Restore") else "downstream"
    ms = (end - start) * 1000.0
    if name in ("Initialization", "Restore"):
        trace.cold_start, trace.init_ms = True, ms
    elif name == "Invocation":
        trace.invocation_ms = ms
    elif name == "Overhead":
        trace.overhead_ms = ms
    if kind == "downstream" and sub.get("aws", {}).get("operation"):
        name = f"{name} {sub['aws']['operation']}"
    spans.append(Span(name, start, end, depth, kind, bool(sub.get("error")), bool(sub.get("fault"))))
    for child in sub.get("subsegments", []):
        _walk(child, depth + 1, spans, trace)


def slow_and_cold(ctx: AwsContext, region: str, function: str, start: datetime, end: datetime,
                  top: int = 10, scan: int = 50) -> tuple[list[Trace], list[Trace]]:
    """The ``top`` slowest traces and up to ``top`` cold-start traces (read from the documents of the
    slowest ``scan`` traces: cold starts are slow, so they are found among them)."""
    found = summaries(ctx, region, function, start, end)
    found.sort(key=lambda t: t.duration_ms, reverse=True)
    candidates = found[:max(top, scan)]
    fill_documents(ctx, region, candidates)
    slowest = candidates[:top]
    cold = [t for t in candidates if t.cold_start][:top]
    return slowest, cold
