"""X-Ray traces of one function: the slowest and the cold-start ones, with the Lambda breakdown.

Equivalents: ``aws xray get-trace-summaries --filter-expression 'service("fn")'`` (in windows of at
most 6 hours, every page) and ``aws xray batch-get-traces --trace-ids ...`` (5 ids a call). Cold starts
are read from the full documents: the function segment has an ``Initialization`` subsegment only then.

One answer is not always complete (X-Ray API reference, BatchGetTraces: "UnprocessedTraceIds - Trace
IDs of requests that haven't been processed" and ``NextToken`` "Pagination token"; GetTraceSummaries
pages with ``NextToken``): both are followed, unprocessed ids are asked again a bounded number of
times, and a trace that still could not be read keeps ``cold_start = None`` (unknown, never "warm").
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from botocore import exceptions as bx

from lambdaops.aws.context import AwsContext
from lambdaops.aws.errors import translate

WINDOW = timedelta(hours=6)
BATCH = 5
UNPROCESSED_RETRIES = 3  # further BatchGetTraces rounds for ids X-Ray left unprocessed
MAX_PAGES = 100  # per request: a server repeating its NextToken must not loop forever


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
    seen: set[str] = set()
    try:
        for w_start, w_end in windows(start, end):
            for page in _pages(cli.get_trace_summaries, StartTime=w_start, EndTime=w_end, FilterExpression=expr):
                for s in page.get("TraceSummaries", []):
                    if s["Id"] in seen:  # a trace spanning a window edge is listed in both windows
                        continue
                    seen.add(s["Id"])
                    out.append(Trace(trace_id=s["Id"], start=_epoch(s.get("StartTime")),
                                     duration_ms=float(s.get("Duration", 0)) * 1000,
                                     response_ms=float(s.get("ResponseTime", 0)) * 1000,
                                     fault=bool(s.get("HasFault")), error=bool(s.get("HasError"))))
                if len(out) >= max_traces:
                    return out[:max_traces]
    except (bx.ClientError, bx.BotoCoreError) as exc:
        raise translate(exc, profile=ctx.profile, region=region) from exc
    return out


def windows(start: datetime, end: datetime, size: timedelta = WINDOW) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into consecutive windows of at most ``size`` (GetTraceSummaries' 6-hour limit)."""
    out, t = [], start
    while t < end:
        out.append((t, min(end, t + size)))
        t = out[-1][1]
    return out


def _pages(call: Callable[..., dict], **params: Any):
    """Every page of a NextToken-paged X-Ray call (bounded; stops if the token repeats)."""
    token, used = None, set()
    for _ in range(MAX_PAGES):
        page = call(**params, **({"NextToken": token} if token else {}))
        yield page
        token = page.get("NextToken")
        if not token or token in used:
            return
        used.add(token)


def _epoch(value) -> float:
    if value is None:
        return 0.0
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def fill_documents(ctx: AwsContext, region: str, traces: list[Trace], *,
                   sleep: Callable[[float], None] = time.sleep) -> list[str]:
    """``batch-get-traces`` 5 ids a call, every page, unprocessed ids asked again (bounded); fills
    cold_start, the breakdown and the waterfall spans. Returns the ids that could not be read."""
    cli = ctx.client("xray", region)
    by_id = {t.trace_id: t for t in traces}
    ids = list(by_id)
    missing: list[str] = []
    try:
        for i in range(0, len(ids), BATCH):
            segments, left = _batch_get(cli, ids[i:i + BATCH], sleep)
            missing += left
            for trace_id, segs in segments.items():
                trace = by_id.get(trace_id)
                if trace is not None:
                    parse_document(trace, [json.loads(s["Document"]) for s in segs])
    except (bx.ClientError, bx.BotoCoreError) as exc:
        raise translate(exc, profile=ctx.profile, region=region) from exc
    return missing


def _batch_get(cli: Any, ids: list[str], sleep: Callable[[float], None]) -> tuple[dict[str, list[dict]], list[str]]:
    """Segments by trace id for ``ids`` (at most 5): all pages, then the unprocessed ids again, up to
    UNPROCESSED_RETRIES more rounds with a growing pause. Returns the segments and the ids never read."""
    segments: dict[str, list[dict]] = {}
    pending = list(ids)
    for attempt in range(UNPROCESSED_RETRIES + 1):
        if attempt:
            sleep(min(2.0, 0.2 * 2 ** (attempt - 1)))
        unprocessed: list[str] = []
        for page in _pages(cli.batch_get_traces, TraceIds=pending):
            for doc in page.get("Traces", []):
                segments.setdefault(doc.get("Id"), []).extend(doc.get("Segments", []))
            unprocessed += page.get("UnprocessedTraceIds", []) or []
        pending = [t for t in dict.fromkeys(unprocessed) if t not in segments]
        if not pending:
            break
    return segments, pending


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
