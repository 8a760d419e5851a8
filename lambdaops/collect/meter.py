"""What reading costs beyond the API requests the AWS context counts itself: GetMetricData bills
every metric requested and Logs Insights every byte scanned ("Amazon CloudWatch Pricing"), neither
of which the request count shows; and what the local store saved (the bytes its bins cost when they
were scanned). The TUI's header adds these up; a report shows its own run (``run_cost``)."""

from __future__ import annotations

import threading

from lambdaops.durations import age

# "Amazon CloudWatch Pricing" (aws.amazon.com/cloudwatch/pricing, Logs tab, "Analyze (Logs Insights
# queries)": $0.005 per GB of data scanned, US East). The page does not say 10^9 or 2^30: 10^9 is
# taken, which errs towards the higher price.
INSIGHTS_USD_PER_GB = 0.005
GB = 1e9


class Meter:
    def __init__(self, parent: "Meter | None" = None) -> None:
        self._lock = threading.Lock()
        self.parent = parent  # e.g. the TUI's session meter: a run's meter adds to it as well
        self.metrics = 0
        self.insights_bytes = 0.0
        self.saved_bytes = 0.0
        # What the last refresh's Logs Insights runs read, by kind (collect.log_bins: "new" minutes,
        # "closed" bins asked once in full, the window's unaligned "head"): time ranges in epoch
        # seconds, shown as their union's length; and the bytes scanned since ``begin_scan``.
        self.scan: dict[str, list[tuple[int, int]]] = {}
        self.scan_bytes = 0.0

    def add(self, metrics: int = 0, insights_bytes: float = 0.0, saved_bytes: float = 0.0) -> None:
        with self._lock:
            self.metrics += metrics
            self.insights_bytes += insights_bytes
            self.saved_bytes += saved_bytes
            self.scan_bytes += insights_bytes
        if self.parent is not None:
            self.parent.add(metrics, insights_bytes, saved_bytes)

    def begin_scan(self) -> None:
        """A refresh starts: what it scans is counted afresh (the totals are not)."""
        with self._lock:
            self.scan, self.scan_bytes = {}, 0.0

    def add_scan(self, kind: str, ranges: list[tuple[int, int]]) -> None:
        with self._lock:
            self.scan.setdefault(kind, []).extend(ranges)
        if self.parent is not None:
            self.parent.add_scan(kind, ranges)

    def scan_label(self) -> str | None:
        """"Insights: 1m00s new + 5m00s closed · 0.4 MB" (what the refresh scanned), None before any."""
        with self._lock:
            spans = {k: _union_s(v) for k, v in self.scan.items()}
            nbytes = self.scan_bytes
        parts = [f"{age(spans[k])} {k}" for k in SCAN_KINDS if spans.get(k)]
        if not parts:
            return None
        return f"Insights: {' + '.join(parts)} · {bytes_label(nbytes)}"

    def read(self) -> tuple[int, float]:
        with self._lock:
            return self.metrics, self.insights_bytes

    def saved(self) -> float:
        with self._lock:
            return self.saved_bytes

    def reset(self) -> None:
        with self._lock:
            self.metrics, self.insights_bytes, self.saved_bytes = 0, 0.0, 0.0
            self.scan, self.scan_bytes = {}, 0.0


SCAN_KINDS = ("new", "closed", "head")


def _union_s(ranges: list[tuple[int, int]]) -> int:
    """Seconds covered by ``ranges`` (regions and groups ask the same minutes: counted once)."""
    total, end = 0, None
    for a, b in sorted(ranges):
        if end is None or a >= end:
            total += b - a
            end = b
        elif b > end:
            total += b - end
            end = b
    return total


def add(meter: Meter | None, metrics: int = 0, insights_bytes: float = 0.0, saved_bytes: float = 0.0) -> None:
    if meter is not None:
        meter.add(metrics, insights_bytes, saved_bytes)


def insights_usd(nbytes: float) -> float:
    return nbytes / GB * INSIGHTS_USD_PER_GB


def bytes_label(n: float) -> str:
    """``512 B``, ``6.6 MB``, ``1.2 GB`` (powers of 1000, as the price is per 10^9 bytes)."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover


def store_label(meter: Meter) -> str:
    """The TUI header's part for the store: "Insights 6.6 MB scanned, 125.3 MB saved" (so far)."""
    return f"Insights {bytes_label(meter.read()[1])} scanned, {bytes_label(meter.saved())} saved"


def run_cost(calls: int, meter: Meter) -> dict:
    """The report's "what this run cost" block: paid now, and saved by the local store."""
    _, scanned = meter.read()
    saved = meter.saved()
    return {"calls": calls, "insights_bytes_scanned": scanned, "insights_usd": round(insights_usd(scanned), 6),
            "saved_bytes": saved, "saved_usd": round(insights_usd(saved), 6)}
