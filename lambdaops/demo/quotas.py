"""``--quotas aws``: AWS's documented request-rate quotas, enforced with AWS's throttling errors.

Off by default (tests want speed); on for benchmarks and robustness checks, so that the product's
batching, pacing and retries meet the limits they are designed for.
"""

from __future__ import annotations

import threading
import time

from lambdaops.demo.api_errors import DemoApiError
from lambdaops.demo.gateway import DemoRequest, Gateway

# (service, operation or "*") -> (requests per second, error code, HTTP status)
AWS_QUOTAS: dict[tuple[str, str], tuple[float, str, int]] = {
    ("lambda", "GetFunction"): (100.0, "TooManyRequestsException", 429),
    ("lambda", "*"): (15.0, "TooManyRequestsException", 429),  # the rest of the control plane, together
    ("cloudwatch", "GetMetricData"): (50.0, "Throttling", 400),
    ("cloudwatch", "ListMetrics"): (25.0, "Throttling", 400),
    ("logs", "FilterLogEvents"): (5.0, "ThrottlingException", 400),
    ("logs", "StartQuery"): (5.0, "ThrottlingException", 400),
    ("logs", "GetQueryResults"): (5.0, "ThrottlingException", 400),
    ("xray", "GetTraceSummaries"): (5.0, "ThrottledException", 429),
    ("xray", "BatchGetTraces"): (5.0, "ThrottledException", 429),
}
_NOT_CONTROL_PLANE = {"Invoke", "InvokeAsync", "InvokeWithResponseStream"}


class _Bucket:
    def __init__(self, rate: float) -> None:
        self.rate, self.tokens, self.last = rate, rate, time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return True
            return False


class QuotaEnforcer:
    def __init__(self, quotas=AWS_QUOTAS) -> None:
        self.quotas = quotas
        self.buckets: dict[tuple[str, str, str], _Bucket] = {}
        self.lock = threading.Lock()
        self.throttled = 0
        self.enabled = False  # switched on once seeding is done: the account's own setup is not throttled

    def rule(self, req: DemoRequest) -> tuple[str, tuple[float, str, int]] | None:
        op = req.operation or ""
        if (req.service, op) in self.quotas:
            return op, self.quotas[(req.service, op)]
        if req.service == "lambda" and op and op not in _NOT_CONTROL_PLANE and ("lambda", "*") in self.quotas:
            return "*", self.quotas[("lambda", "*")]
        return None

    def __call__(self, req: DemoRequest) -> None:
        if not self.enabled:
            return
        found = self.rule(req)
        if found is None:
            return
        key_op, (rate, code, status) = found
        key = (req.service, key_op, req.region)
        with self.lock:
            bucket = self.buckets.get(key)
            if bucket is None:
                bucket = self.buckets[key] = _Bucket(rate)
        if not bucket.take():
            self.throttled += 1
            raise DemoApiError(code, "Rate exceeded", status)


def install(gw: Gateway, account) -> None:
    if getattr(account, "quotas", None) == "aws":
        enforcer = QuotaEnforcer()
        account.quota_enforcer = enforcer
        gw.before.append(enforcer)
