"""Faults injected at the HTTP attempt: botocore's retry machinery sees them exactly as it would see
AWS's own answers (so retries run, and are counted), but which attempts fail is chosen by the test.

``inject(monkeypatch, rule)`` makes every client lambdaops builds answer an attempt with ``rule``'s
response (or raise its exception) before the request leaves; botocore's and lambdaops' backoff sleeps
are skipped so a test exhausting five attempts takes milliseconds.
"""

from __future__ import annotations

import json
import threading
import types
from dataclasses import dataclass, field
from typing import Callable

from botocore.awsrequest import AWSResponse

from lambdaops.aws.context import AwsContext


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_kw):
        yield self.body


def lambda_error(request, code: str, status: int, message: str = "Rate exceeded") -> AWSResponse:
    """Lambda (rest-json) as AWS answers: the code in x-amzn-ErrorType, e.g. 429
    TooManyRequestsException "Rate exceeded" (Lambda API reference, Common Errors)."""
    body = json.dumps({"message": message, "Type": "User"}).encode()
    return AWSResponse(request.url, status, {"x-amzn-ErrorType": code, "Content-Type": "application/json",
                                            "x-amzn-RequestId": "fault"}, _Raw(body))


@dataclass
class Rule:
    """``when(operation, url, attempt)`` -> True to fail that attempt with ``answer(request)``."""

    service: str  # botocore service name: "lambda", "logs", ...
    when: Callable[[str, str, int], bool]
    answer: Callable
    hits: int = 0
    seen: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def inject(monkeypatch, *rules: Rule) -> None:
    import botocore.endpoint

    import lambdaops.aws.metrics

    no_sleep = types.SimpleNamespace(sleep=lambda s: None, monotonic=__import__("time").monotonic,
                                     time=__import__("time").time, perf_counter=__import__("time").perf_counter)
    monkeypatch.setattr(botocore.endpoint, "time", no_sleep)
    monkeypatch.setattr(lambdaops.aws.metrics, "time", no_sleep)
    real = AwsContext._instrument

    def instrument(self, cli, service, region):
        real(self, cli, service, region)
        for rule in rules:
            if rule.service != service:
                continue

            def before_send(request, event_name="", rule=rule, **_kw):
                op = event_name.rsplit(".", 1)[-1]
                attempt = (getattr(request, "context", None) or {}).get("retries", {}).get("attempt", 1)
                if not rule.when(op, request.url, attempt):
                    return None
                with rule.lock:
                    rule.hits += 1
                    rule.seen.append((op, request.url, attempt))
                return rule.answer(request)

            cli.meta.events.register_first(f"before-send.{cli.meta.service_model.service_id.hyphenize()}",
                                           before_send)

    monkeypatch.setattr(AwsContext, "_instrument", instrument)
