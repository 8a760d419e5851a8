"""Power-tuning statistics and the choice of memory size (pure: numbers in, numbers out).

Follows AWS Lambda Power Tuning where users rely on it (the trimmed mean that drops floor(n x
discard) values from each end; the cost, speed and balanced strategies and their tie-breaks) and
fixes what users asked for: percentiles and spread, the request charge in every cost, and the
saving/speed-up against the memory the function has now.

"Duration" here is the Duration of the REPORT line (it excludes INIT); in cold-only runs the engine
uses :func:`cold_duration_ms` instead, as AWS Lambda Power Tuning does. Cost uses the billed ms by AWS's
rules (:func:`billed_ms_by_aws_rules`), so cold starts cost what they cost.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

from lambdaops.pricing import invocation_cost
from lambdaops.report_line import Report

STRATEGIES = ("cost", "speed", "balanced")
_TIE_REL = 1e-9  # two costs (or durations) this close are a tie


def trimmed_mean(values: Sequence[float], discard: float) -> float:
    """Mean after dropping floor(n x discard) values from each end (``[1,2,3,4,2000]`` at 0.2 -> 3)."""
    if not 0.0 <= discard < 0.5:
        raise ValueError("discard must be in [0, 0.5)")
    data = np.sort(np.asarray(values, dtype=float))
    if data.size == 0:
        return math.nan
    k = int(math.floor(data.size * discard))
    kept = data[k:data.size - k]
    return float(kept.mean()) if kept.size else float(np.median(data))


def percentiles(values: Sequence[float], qs: Sequence[float] = (50, 90, 99)) -> list[float]:
    """Percentiles with numpy's linear interpolation (what most dashboards show)."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return [math.nan] * len(qs)
    return [float(x) for x in np.percentile(data, qs, method="linear")]


def stddev(values: Sequence[float]) -> float:
    """Sample standard deviation (n - 1): the spread of a few measurements, not of a population."""
    data = np.asarray(values, dtype=float)
    return float(data.std(ddof=1)) if data.size > 1 else 0.0


def billed_ms_by_aws_rules(report: Report) -> int:
    """What Lambda bills for one invocation, in ms.

    - INIT is billed for every configuration since 2025-08-01 ("AWS Lambda standardizes billing for
      INIT Phase", AWS Compute Blog), but not every REPORT line shows it inside ``Billed Duration``: a
      cold start bills max(Billed Duration, ceil(Duration + Init Duration)).
    - SnapStart: ``Billed Duration`` already includes the billed restore (real lines: Duration 306.34 +
      Billed Restore 303 -> Billed 610), so ``Billed Restore Duration`` is never added again.
    ("Monitoring for Lambda SnapStart", Lambda Developer Guide; "AWS Lambda standardizes billing for INIT
    Phase", AWS Compute Blog.)
    """
    billed = int(report.billed_ms)
    if report.init_ms is not None:
        # round first: 100.1 + 0.9 is 101.00000000000001 in floating point, and Lambda bills 101
        return max(billed, math.ceil(round(report.duration_ms + report.init_ms, 6)))
    return billed


def cold_duration_ms(report: Report) -> float:
    """The time a cold-start invocation took, as AWS Lambda Power Tuning counts it in cold-only runs:
    Duration + Init Duration (+ Restore Duration for SnapStart). A warm invocation is its Duration."""
    return report.duration_ms + (report.init_ms or 0.0) + (report.restore_ms or 0.0)


@dataclass(frozen=True)
class DurationStats:
    mean_trimmed: float
    p50: float
    p90: float
    p99: float
    stddev: float


@dataclass(frozen=True)
class SizeStats:
    """What one memory size measured, and what it costs."""

    memory_mb: int
    architecture: str
    invocations: int
    errors: int
    duration_ms: DurationStats
    billed_ms_mean: float  # trimmed like the duration, so cost and speed compare the same invocations
    cold_starts: int
    max_memory_used_mb: int
    cost_per_invocation_usd: float
    cost_per_million_usd: float

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("architecture")
        return d


def size_stats(memory_mb: int, architecture: str, region: str, *, durations_ms: Sequence[float],
               billed_ms: Sequence[float], cold: Sequence[bool], max_memory_mb: Sequence[int], errors: int = 0,
               discard: float = 0.2) -> SizeStats:
    p50, p90, p99 = percentiles(durations_ms)
    billed_mean = trimmed_mean(billed_ms, discard)
    cost = invocation_cost(billed_mean, memory_mb, region, architecture)
    return SizeStats(
        memory_mb=int(memory_mb), architecture=architecture, invocations=len(durations_ms), errors=int(errors),
        duration_ms=DurationStats(trimmed_mean(durations_ms, discard), p50, p90, p99, stddev(durations_ms)),
        billed_ms_mean=billed_mean, cold_starts=int(sum(bool(c) for c in cold)),
        max_memory_used_mb=int(max(max_memory_mb)) if len(max_memory_mb) else 0,
        cost_per_invocation_usd=cost, cost_per_million_usd=cost * 1e6,
    )


# ------------------------------------------------------------------------------------------------
# choosing


@dataclass(frozen=True)
class Candidate:
    """The two numbers a strategy looks at, for one (architecture, memory) setting."""

    memory_mb: int
    cost: float
    duration: float
    architecture: str = ""

    @classmethod
    def of(cls, s: SizeStats) -> "Candidate":
        return cls(s.memory_mb, s.cost_per_invocation_usd, s.duration_ms.mean_trimmed, s.architecture)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= _TIE_REL * max(abs(a), abs(b), 1e-300)


def balanced_score(c: Candidate, max_cost: float, max_duration: float, weight: float) -> float:
    return weight * c.cost / max_cost + (1.0 - weight) * c.duration / max_duration


def choose(candidates: Sequence[Candidate], strategy: str, weight: float = 0.5) -> Candidate:
    """cost: cheapest, ties to the faster; speed: fastest, ties to the cheaper; balanced: minimise
    ``w x cost/maxCost + (1-w) x duration/maxDuration``, ties to the cheaper."""
    if not candidates:
        raise ValueError("no candidates to choose from")
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}")
    if not 0.0 <= weight <= 1.0:
        raise ValueError("weight must be in [0, 1]")
    if strategy == "cost":
        key, tie = (lambda c: c.cost), (lambda c: c.duration)
    elif strategy == "speed":
        key, tie = (lambda c: c.duration), (lambda c: c.cost)
    else:
        max_cost = max(c.cost for c in candidates) or 1.0
        max_duration = max(c.duration for c in candidates) or 1.0
        key, tie = (lambda c: balanced_score(c, max_cost, max_duration, weight)), (lambda c: c.cost)
    best = min(key(c) for c in candidates)
    tied = [c for c in candidates if _close(key(c), best)]
    return min(tied, key=lambda c: (tie(c), c.memory_mb))


@dataclass(frozen=True)
class Recommendation:
    memory_mb: int
    architecture: str
    reason: str
    saving_pct: float | None  # cheaper than the current setting by this much (negative: dearer)
    speedup_pct: float | None  # faster than the current setting by this much (negative: slower)

    def to_dict(self, *, with_architecture: bool = False) -> dict:
        d = {"memory_mb": self.memory_mb, "reason": self.reason, "saving_pct": self.saving_pct,
             "speedup_pct": self.speedup_pct}
        if with_architecture:
            d = {"architecture": self.architecture, **d}
        return d


def _pct(current: float, new: float) -> float:
    return round((current - new) / current * 100.0, 2) if current else 0.0


def recommend(stats: Sequence[SizeStats], strategy: str, weight: float,
              current: SizeStats | None) -> Recommendation | None:
    """The winner among ``stats`` and how it compares with ``current`` (None when it was not measured)."""
    if not stats:
        return None
    cands = [Candidate.of(s) for s in stats]
    win = choose(cands, strategy, weight)
    if strategy == "cost":
        why = f"cheapest per invocation (${win.cost * 1e6:.4f} per million)"
    elif strategy == "speed":
        why = f"fastest (trimmed mean {win.duration:.1f} ms)"
    else:
        why = f"best balance of cost and speed (weight {weight:g} on cost)"
    saving = speedup = None
    if current is not None:
        cur = Candidate.of(current)
        saving, speedup = _pct(cur.cost, win.cost), _pct(cur.duration, win.duration)
        if (win.memory_mb, win.architecture) == (cur.memory_mb, cur.architecture):
            why += "; already the current setting"
    return Recommendation(win.memory_mb, win.architecture, why, saving, speedup)
