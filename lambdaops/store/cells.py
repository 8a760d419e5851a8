"""Log figures of one (log group, function, time piece) in a form that merges exactly.

A window's figures are the merge of its pieces' cells: counts and sums add, maxima take the
larger, timeouts and out-of-memory deaths are SETS of request ids (a request may write a REPORT
line with ``Status: timeout`` and an older runtime's separate "Task timed out" line, seconds apart
and so possibly in two bins: a union counts it once, a sum of per-bin counts would not), and INIT
durations are a log-bucketed histogram.

Histogram: bucket ``b = floor(ln(ms) / ln(1 + R))`` holds [(1+R)^b, (1+R)^(b+1)); its value is the
geometric middle (1+R)^(b+0.5), within a factor sqrt(1+R) of every value in the bucket. With
R = 0.01 that is at most 0.499% off. A percentile interpolates linearly between the two order
statistics around its rank (the definition of the demo's ``pct``, numpy's default), each read from
its bucket: a weighted mean of two values each within that factor is itself within it, so p50 and
p99 over any window are within 0.5% of the exact interpolated value (the 1% the store promises,
with room for the last-bit rounding of ``log`` at a bucket edge, which moves a value by one bucket
at worst, still within the factor of the bucket it lands in). A bucket index that is not finite
(an INIT of 0 ms has no logarithm) stands for 0 ms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

R = 0.01
ZERO_BUCKET = -(2 ** 31)  # INIT durations of 0 ms (log undefined)


def bucket_of(ms: float) -> int:
    """The bucket Insights computes for ``ms`` (``floor(log(ms) / log(1.01))``); tests use it."""
    if ms <= 0:
        return ZERO_BUCKET
    return math.floor(math.log(ms) / math.log(1 + R))


def bucket_value(b: int) -> float:
    return 0.0 if b == ZERO_BUCKET else (1 + R) ** (b + 0.5)


def parse_bucket(text: str | None) -> int | None:
    """A bucket index as Insights prints it ("123", "-4.0"), ZERO_BUCKET for -Infinity/NaN, None
    when absent (a warm invocation)."""
    if text in (None, ""):
        return None
    try:
        value = float(text)
    except ValueError:
        return ZERO_BUCKET
    return int(value) if math.isfinite(value) else ZERO_BUCKET


@dataclass
class Cell:
    invocations: float = 0.0
    cold_starts: float = 0.0
    billed_ms: float | None = None  # None: no REPORT line gave a billed duration
    max_memory_mb: float | None = None
    hist: dict[int, int] = field(default_factory=dict)  # INIT bucket -> cold starts
    timeout_ids: set[str] = field(default_factory=set)
    oom_ids: set[str] = field(default_factory=set)

    def merge(self, other: "Cell") -> "Cell":
        self.invocations += other.invocations
        self.cold_starts += other.cold_starts
        if other.billed_ms is not None:
            self.billed_ms = other.billed_ms + (self.billed_ms or 0.0)
        if other.max_memory_mb is not None:
            self.max_memory_mb = other.max_memory_mb if self.max_memory_mb is None \
                else max(self.max_memory_mb, other.max_memory_mb)
        for b, n in other.hist.items():
            self.hist[b] = self.hist.get(b, 0) + n
        self.timeout_ids |= other.timeout_ids
        self.oom_ids |= other.oom_ids
        return self

    def percentile(self, q: float) -> float | None:
        """The ``q``-th percentile (0..100) of the INIT durations, None without a cold start."""
        n = sum(self.hist.values())
        if not n:
            return None
        rank = (n - 1) * q / 100.0
        lo, hi = math.floor(rank), math.ceil(rank)
        a, b = _order_statistic(self.hist, lo), _order_statistic(self.hist, hi)
        return a + (rank - lo) * (b - a)

    def figures(self) -> dict:
        """The report's log figures (as collect.fleet names them)."""
        return {
            "log_invocations": self.invocations,
            "cold_starts": self.cold_starts,
            "init_p50_ms": self.percentile(50),
            "init_p99_ms": self.percentile(99),
            "memory_used_max_mb": None if self.max_memory_mb is None else int(self.max_memory_mb),
            "billed_ms": self.billed_ms,
            "timeouts": float(len(self.timeout_ids)),
            "out_of_memory": float(len(self.oom_ids)),
        }

    def to_json(self) -> dict:
        return {"i": self.invocations, "c": self.cold_starts, "b": self.billed_ms, "m": self.max_memory_mb,
                "h": [[k, v] for k, v in sorted(self.hist.items())],
                "t": sorted(self.timeout_ids), "o": sorted(self.oom_ids)}

    @classmethod
    def from_json(cls, d: dict) -> "Cell":
        return cls(float(d["i"]), float(d["c"]), d["b"], d["m"], {int(k): int(v) for k, v in d["h"]},
                   set(d["t"]), set(d["o"]))


def _order_statistic(hist: dict[int, int], k: int) -> float:
    """The value of the k-th smallest (0-based) INIT duration, read from its bucket."""
    seen = 0
    for b in sorted(hist):
        seen += hist[b]
        if k < seen:
            return bucket_value(b)
    raise IndexError(k)  # pragma: no cover - k < n by construction
