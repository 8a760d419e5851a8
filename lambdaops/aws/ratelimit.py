"""A token bucket shared by the threads that make per-function control-plane calls.

Lambda's control plane allows about 15 requests/s per account and region for everything except
GetFunction (100/s). Staying under it avoids throttling that would slow everything down anyway.
"""

from __future__ import annotations

import threading
import time


class RateLimiter:
    def __init__(self, rate_per_s: float, burst: int | None = None) -> None:
        self.rate = float(rate_per_s)
        self.capacity = float(burst if burst is not None else max(1, int(rate_per_s)))
        self._tokens = self.capacity
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self, stop: threading.Event | None = None) -> bool:
        """Take a token, waiting as needed; False (no token taken) once ``stop`` is set."""
        if self.rate <= 0:
            return True
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return True
                wait = (1 - self._tokens) / self.rate
            if stop is None:
                time.sleep(wait)
            elif stop.wait(wait):
                return False
