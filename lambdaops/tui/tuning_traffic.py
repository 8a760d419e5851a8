"""The invocations of the TUI's own tuning runs, kept out of the fleet's findings.

A tuning run (lambdaops/tuning/engine.py) invokes the function through versions it publishes and
deletes again. The metrics of the ``FunctionName`` dimension, which the fleet reads, count every
version and alias of the function (only ``Resource`` and ``ExecutedVersion`` single one out: Lambda
developer guide, https://docs.aws.amazon.com/lambda/latest/dg/monitoring-functions-metrics.html), and
those versions log into the function's own log group, so the fleet's figures include
the run: measuring 128 MB leaves out-of-memory deaths that read as a critical finding on a function
that never ran out of memory in production. Once the run's versions are deleted the fleet collection
has nothing to tell them apart by, so the TUI that made the invocations counts them as they answer
(:class:`CountingApi`) and works the findings out without them (:meth:`TuningTraffic.apply`); the
figures stay as CloudWatch counted them and the row says "includes N tuning invocations".

Pure (no textual): the fleet rows are built in worker threads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from lambdaops.analysis.thresholds import Thresholds
from lambdaops.tui.format import number

# analysis.fleet imports pandas (a third of a second): the app imports this module before its first
# frame, so the analysis is imported by the worker that first works findings out.

# Counts that add up over invocations: subtracted. (The CloudWatch metric and its log twin.)
_COUNTS = {"invocations": "invocations", "errors": "errors", "log_invocations": "invocations",
           "cold_starts": "cold_starts", "out_of_memory": "out_of_memory", "timeouts": "timeouts",
           "billed_ms": "billed_ms"}


@dataclass(frozen=True)
class Invocation:
    """One invocation a tuning run made, as its answer told it."""

    at: datetime
    error: bool  # CloudWatch's Errors counts function errors, timeouts and out-of-memory deaths alike
    out_of_memory: bool
    timeout: bool
    cold: bool
    billed_ms: float
    duration_ms: float | None
    max_memory_mb: float | None


@dataclass
class Share:
    """What a function's figures over a window owe to tuning runs."""

    invocations: int = 0
    errors: int = 0
    out_of_memory: int = 0
    timeouts: int = 0
    cold_starts: int = 0
    billed_ms: float = 0.0
    max_duration_ms: float | None = None
    max_memory_mb: float | None = None

    def count_text(self) -> str:
        n = self.invocations
        text = f"{n} tuning invocation{'' if n == 1 else 's'}"
        return text + (f" ({self.out_of_memory} out of memory)" if self.out_of_memory else "")

    def note(self) -> str:
        return f"includes {self.count_text()}"


class TuningTraffic:
    """Per fleet row key (``region/name``), the invocations this session's tuning runs made."""

    def __init__(self) -> None:
        self._by_key: dict[str, list[Invocation]] = {}
        self._lock = threading.Lock()  # runs record from worker threads, the fleet reads from others

    def record(self, key: str, inv: Invocation) -> None:
        with self._lock:
            self._by_key.setdefault(key, []).append(inv)

    def share(self, key: str, start: datetime, end: datetime) -> Share | None:
        """The tuning invocations of ``key`` in [start, end], summed; None when there were none."""
        with self._lock:
            found = [i for i in self._by_key.get(key, ()) if start <= i.at <= end]
        if not found:
            return None
        durations = [i.duration_ms for i in found if i.duration_ms is not None]
        memory = [i.max_memory_mb for i in found if i.max_memory_mb is not None]
        return Share(invocations=len(found), errors=sum(i.error for i in found),
                     out_of_memory=sum(i.out_of_memory for i in found), timeouts=sum(i.timeout for i in found),
                     cold_starts=sum(i.cold for i in found), billed_ms=sum(i.billed_ms for i in found),
                     max_duration_ms=max(durations, default=None), max_memory_mb=max(memory, default=None))

    def apply(self, records: list[dict[str, Any]], start: datetime, end: datetime,
              thresholds: Thresholds) -> list[dict[str, Any]]:
        """``records`` (the fleet snapshot's rows) with the findings of each function that tuning
        invocations touched worked out without them, and ``tuning`` set to its :class:`Share`. The
        figures are left as collected; calling it again on its own output gives the same rows. Worst
        first again, as the analysis orders them (a row whose only finding was the tuning's moves down)."""
        out, changed = [], False
        for rec in records:
            share = self.share(f"{rec['region']}/{rec['name']}", start, end)
            if share is None:
                out.append(rec)
                continue
            changed = True
            out.append({**rec, "findings": production_findings(rec, share, thresholds), "tuning": share})
        if changed:  # stable: within a severity the analysis's order (region, name) stays
            from lambdaops.analysis.fleet import SEVERITY_RANK

            out.sort(key=lambda r: -max((SEVERITY_RANK[f.severity] for f in r.get("findings") or ()), default=0))
        return out


def production_findings(rec: dict[str, Any], share: Share, thresholds: Thresholds) -> list:
    """The findings of ``rec`` without the tuning invocations: counts are subtracted (never below
    0; the collection may not hold the latest of them yet); a peak or percentile the tuning runs may
    have set (their own peak memory or slowest invocation reaches it) cannot be taken apart, so its
    finding is left out rather than blamed on production."""
    from lambdaops.analysis.fleet import figures_frame, findings_for

    base = {k: v for k, v in rec.items() if k not in ("findings", "tuning", "missing")}
    for key, attr in _COUNTS.items():
        value = number(base.get(key))
        if value is not None:
            base[key] = max(0.0, value - getattr(share, attr))
    if share.max_memory_mb is not None and (number(base.get("memory_used_max_mb")) or 0) <= share.max_memory_mb:
        base["memory_used_max_mb"] = None
    if share.max_duration_ms is not None and (number(base.get("duration_p99_ms")) or 0) <= share.max_duration_ms:
        base["duration_p99_ms"] = None
    row = figures_frame([base]).to_dict("records")[0]
    return findings_for(row, thresholds)


class CountingApi:
    """A tuning run's Lambda API (:class:`lambdaops.aws.tuning.TuningApi`) that records every
    invocation that reached the function in ``traffic`` under ``key``; the rest is passed through."""

    def __init__(self, api, traffic: TuningTraffic, key: str, clock: Callable[[], datetime]) -> None:
        self._api = api
        self._traffic = traffic
        self._key = key
        self._clock = clock

    def __getattr__(self, name: str):
        return getattr(self._api, name)

    def invoke(self, *args, **kwargs):
        result = self._api.invoke(*args, **kwargs)  # a call that failed raised: the function did not run
        report = result.report
        timeout = result.status == "timeout"
        self._traffic.record(self._key, Invocation(
            at=self._clock(), error=timeout or result.status == "error" or bool(result.function_error),
            out_of_memory=result.error_type == "Runtime.OutOfMemory", timeout=timeout,
            cold=bool(report is not None and report.cold_start),
            billed_ms=float(report.billed_ms) if report is not None else 0.0,
            duration_ms=report.duration_ms if report is not None else None,
            max_memory_mb=float(report.max_memory_mb) if report is not None else None))
        return result
