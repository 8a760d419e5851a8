"""What reading costs beyond the API requests the AWS context counts itself: GetMetricData bills
every metric requested and Logs Insights every byte scanned ("Amazon CloudWatch Pricing"), neither
of which the request count shows. The TUI's header adds these up; the CLI passes no meter."""

from __future__ import annotations

import threading


class Meter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.metrics = 0
        self.insights_bytes = 0.0

    def add(self, metrics: int = 0, insights_bytes: float = 0.0) -> None:
        with self._lock:
            self.metrics += metrics
            self.insights_bytes += insights_bytes

    def read(self) -> tuple[int, float]:
        with self._lock:
            return self.metrics, self.insights_bytes

    def reset(self) -> None:
        with self._lock:
            self.metrics, self.insights_bytes = 0, 0.0


def add(meter: Meter | None, metrics: int = 0, insights_bytes: float = 0.0) -> None:
    if meter is not None:
        meter.add(metrics, insights_bytes)
