"""Token buckets shared by the threads that make Lambda control-plane calls.

Lambda's control plane allows 15 requests/s per account and region for everything except GetFunction
and GetPolicy ("Lambda quotas", AWS Lambda Developer Guide: "Control plane API requests (excludes
invocation, GetFunction, and GetPolicy requests) 15 per second"). Throttled attempts are retried by
botocore, but each one counts against the same quota and every retry waits: pacing below the quota
is faster than hitting it. ListFunctions pages, ListEventSourceMappings pages, GetAccountSettings
and GetFunctionEventInvokeConfig all take from one bucket per region (:func:`control_plane`).

GetFunction has a quota of its own ("Lambda quotas": "GetFunction API requests 100 requests per
second. Cannot be increased."), so the reserved concurrency, which GetFunction's response carries
(``Concurrency``, "GetFunction", AWS Lambda API Reference), is read through a second bucket per region
(:func:`get_function`) and leaves the 15/s one to the calls that have no other way.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

CONTROL_PLANE_RPS = 15.0
GET_FUNCTION_RPS = 100.0
# 90% of the quota and a small burst: AWS's bucket is shared with every other client of the account
# (a cron report, the console) and requests sent 1/15 s apart can arrive closer together; below the
# quota AWS's bucket refills between our runs, so a burst of a third of it is there to take.
PACE_FRACTION = 0.9
BURST = 5
GET_FUNCTION_BURST = 10  # the same third of a second of AWS's refill, at GetFunction's rate


class RateLimiter:
    def __init__(self, rate_per_s: float, burst: int | None = None, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = float(rate_per_s)
        self.capacity = float(burst if burst is not None else max(1, int(rate_per_s)))
        self._clock, self._sleep = clock, sleep
        self._tokens = self.capacity
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self, stop: threading.Event | None = None) -> bool:
        """Take a token, waiting as needed; False (no token taken) once ``stop`` is set."""
        if self.rate <= 0:
            return True
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1 - 1e-9:  # the refill after an exact wait can land a rounding error short
                    self._tokens = max(0.0, self._tokens - 1)
                    return True
                wait = (1 - self._tokens) / self.rate
            if stop is None:
                self._sleep(wait)
            elif stop.wait(wait):
                return False


_shared: dict[tuple[str, str], RateLimiter] = {}
_shared_lock = threading.Lock()


def _shared_limiter(kind: str, scope: str, region: str, rps: float, burst: int) -> RateLimiter:
    key = (f"{kind}|{scope}|{rps}", region)
    with _shared_lock:
        found = _shared.get(key)
        if found is None:
            found = _shared[key] = RateLimiter(rps * PACE_FRACTION, burst=burst)
        return found


def control_plane(scope: str, region: str, rps: float = CONTROL_PLANE_RPS) -> RateLimiter:
    """The one Lambda control-plane limiter of this process for ``scope`` (endpoint and profile) and
    ``region``: the inventory, the details on need and a TUI refresh share it, as they share AWS's quota."""
    return _shared_limiter("control-plane", scope, region, rps, BURST)


def get_function(scope: str, region: str, rps: float = GET_FUNCTION_RPS) -> RateLimiter:
    """The one GetFunction limiter of this process for ``scope`` and ``region``: apart from the
    control-plane one, as AWS counts GetFunction apart from the control-plane quota."""
    return _shared_limiter("get-function", scope, region, rps, GET_FUNCTION_BURST)
